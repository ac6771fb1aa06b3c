"""Options of the fs adapter and the ``fs://`` / ``file://`` URL forms.

Example:
    >>> url_options("fs:///srv/data?fsync=true")
    {'fsync': 'true', 'work_dir': '/srv/data'}
    >>> FsOptions.parse({"work_dir": "/srv/data", "fsync": "true"}).fsync
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .._errors import InvalidArgumentError
from ._hop import ADAPTER

__all__ = ["MiB", "FsOptions", "url_options"]

MiB = 1024 * 1024
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True, kw_only=True)
class FsOptions:
    """How an fs store behaves; immutable.

    Attributes:
        work_dir: the root directory; a relative one is resolved against the
            current directory once, when the store is created. Created on the
            first write when missing.
        fsync: fsync every file (and its directory) before it becomes visible.
        chunk_size: bytes per read chunk, and the least a streaming write hands
            to a thread at once.
        xattrs: keep content types and user metadata in extended attributes:
            None probes the file system when the store opens, False never tries.
    """

    work_dir: str = "."
    fsync: bool = False
    chunk_size: int = MiB
    xattrs: bool | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> FsOptions:
        """Check keyword or URL options (URL values arrive as strings)."""
        valid = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - valid)
        if unknown:
            raise _invalid(f"unknown option(s) {unknown}; the fs adapter takes {sorted(valid)}")
        work_dir = options.get("work_dir", ".")
        path = os.fspath(work_dir) if isinstance(work_dir, str | os.PathLike) else None
        if not isinstance(path, str) or not path:
            raise _invalid(f"work_dir must be a non-empty str path, got {work_dir!r}")
        xattrs = options.get("xattrs")
        return cls(
            work_dir=os.path.abspath(path),
            fsync=_boolean("fsync", options.get("fsync", False)),
            chunk_size=_positive("chunk_size", options.get("chunk_size", MiB)),
            xattrs=None if xattrs is None or xattrs == "auto" else _boolean("xattrs", xattrs),
        )


def url_options(url: str) -> dict[str, Any]:
    """``fs:///abs/dir`` and ``file:///abs/dir`` give ``{"work_dir": "/abs/dir"}``;
    ``fs://rel/dir`` is relative to the current directory; query items are options."""
    parts = urlsplit(url)
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    host, path = unquote(parts.netloc), unquote(parts.path)
    if host in ("", "localhost"):
        work_dir = path
    elif parts.scheme.lower() == "file":
        raise _invalid(f"file URLs on another host are not supported: {url!r}")
    else:
        work_dir = host + path
    if work_dir:
        options["work_dir"] = work_dir
    return options


def _boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise _invalid(f"{name} must be a boolean, got {value!r}")


def _positive(name: str, value: object) -> int:
    try:
        number = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else 0
    except ValueError:
        number = 0
    if number < 1:
        raise _invalid(f"{name} must be a positive integer, got {value!r}")
    return number


def _invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, op="connect", adapter=ADAPTER)

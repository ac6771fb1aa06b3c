"""What is known about a file: size, times and etag from the file system, and the
content type and user metadata kept in extended attributes (``user.aiostore.*``).

Linux keeps them with the inode, so they are set on the temporary file before it
is renamed into place and a write replaces them with the data. Where the file
system has no user xattrs (probed once per root), nothing is stored: the content
type is guessed from the name and metadata is empty.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import mimetypes
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from .._errors import InvalidArgumentError
from .._types import Object, ObjectType, draft_object, seal
from ._hop import ADAPTER

__all__ = ["Meta", "describe", "etag_of", "guess_type", "probe", "read_meta", "write_meta"]

CONTENT_TYPE = "user.aiostore.content_type"
METADATA = "user.aiostore.metadata"
_PROBE = "user.aiostore.probe"
_UNSUPPORTED = frozenset({errno.ENOTSUP, errno.EOPNOTSUPP})
_ABSENT = frozenset({getattr(errno, "ENODATA", errno.ENOENT), getattr(errno, "ENOATTR", errno.ENOENT)})
_TOO_BIG = frozenset({errno.E2BIG, errno.ENOSPC, errno.ERANGE})
_HAVE_XATTRS = hasattr(os, "getxattr")
DEFAULT_TYPE = "application/octet-stream"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Meta = tuple[str | None, dict[str, str]]
Target = int | str


def etag_of(st: os.stat_result) -> str:
    """Changes whenever the file is replaced or rewritten: mtime (ns) and size, in hex."""
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


def describe(key: str, st: os.stat_result, meta: Meta | None = None) -> Object:
    """An `Object` for a regular file; ``meta`` None (a listing) leaves the content type unknown.

    Every write, read and stat ends here, so it builds the `Object` through an
    `ObjectDraft`: ``Object.__init__`` would cost about as much as the rest of this function.
    """
    metadata: Mapping[str, str]
    if meta is None:
        content_type, metadata = None, {}
    else:
        content_type, metadata = meta
        if content_type is None:
            content_type = guess_type(key)
    mtime_ns, size = st.st_mtime_ns, st.st_size
    draft = draft_object()
    draft.path = key
    draft.type = _FILE
    draft.size = size
    draft.updated_at = _EPOCH + timedelta(0, 0, mtime_ns // 1000)
    draft.id = None
    draft.content_md5 = None
    draft.content_type = content_type
    draft.etag = f"{mtime_ns:x}-{size:x}"  # etag_of(st)
    draft.storage_class = None
    draft.version = None
    draft.metadata = metadata
    return seal(draft)


_FILE = ObjectType.FILE


def guess_type(path: str) -> str:
    """The content type implied by a name, ``application/octet-stream`` when unknown.

    A name with one dot (not leading) depends on its suffix alone, so that answer
    is cached; a name without a dot has none (unless ``:`` makes it a data URL).
    """
    name = path[path.rfind("/") + 1 :]
    dot = name.find(".")
    if ":" in path:
        return _guess(path)
    if dot < 0:
        return DEFAULT_TYPE
    if dot > 0 and name.find(".", dot + 1) < 0:
        return _guess_suffix(name[dot:])
    return _guess(path)


@functools.lru_cache(maxsize=256)
def _guess_suffix(suffix: str) -> str:
    return _guess("x" + suffix)


def _guess(path: str) -> str:
    return mimetypes.guess_type(path, strict=False)[0] or DEFAULT_TYPE


def probe(path: str) -> bool:
    """Whether the file system holding ``path`` (or its nearest existing parent) keeps
    user xattrs: reading one that is not there gives ENODATA, not ENOTSUP."""
    if not _HAVE_XATTRS:
        return False
    target = path
    while not os.path.isdir(target) and os.path.dirname(target) != target:
        target = os.path.dirname(target)
    try:
        os.getxattr(target, _PROBE)
    except OSError as exc:
        return exc.errno in _ABSENT
    return True


def write_meta(target: Target, content_type: str | None, metadata: Mapping[str, str]) -> bool:
    """Store what was given; False when the file system turns out not to support it."""
    try:
        if content_type:
            os.setxattr(target, CONTENT_TYPE, content_type.encode("utf-8"))
        if metadata:
            encoded = json.dumps(dict(metadata), ensure_ascii=False, separators=(",", ":"))
            os.setxattr(target, METADATA, encoded.encode("utf-8"))
    except OSError as exc:
        if exc.errno in _UNSUPPORTED:
            return False
        if exc.errno in _TOO_BIG:
            raise InvalidArgumentError(
                "the content type and metadata are too large for this file system's extended attributes",
                adapter=ADAPTER,
            ) from exc
        raise
    return True


def read_meta(target: Target) -> Meta:
    """The stored content type (None if none) and metadata ({} if none)."""
    raw_type = _get(target, CONTENT_TYPE)
    raw_meta = _get(target, METADATA)
    content_type = raw_type.decode("utf-8", "replace") if raw_type else None
    return content_type, _decode_metadata(raw_meta)


def _get(target: Target, name: str) -> bytes | None:
    try:
        return os.getxattr(target, name)
    except OSError as exc:
        if exc.errno in _ABSENT or exc.errno in _UNSUPPORTED:
            return None
        raise


def _decode_metadata(raw: bytes | None) -> dict[str, str]:
    if not raw:
        return {}
    with contextlib.suppress(ValueError):
        value = json.loads(raw)
        if isinstance(value, dict):
            return {str(key): str(item) for key, item in value.items()}
    return {}

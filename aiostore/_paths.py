"""Path rules, checked once in the core before any I/O.

A path is relative to the store's work dir, ``/``-separated, valid UTF-8 and at
most 1024 bytes. Empty segments (``a//b``), ``.`` and ``..`` segments, a leading
``/``, backslashes, NUL and other control characters are refused with
`InvalidPathError`, so that every valid path means the same object everywhere.
A directory path may end with ``/``; an object path may not.

Example:
    >>> object_path("a/b.txt")
    'a/b.txt'
    >>> dir_path("a")
    'a/'
"""

from __future__ import annotations

import re

from ._errors import InvalidPathError

__all__ = ["MAX_PATH_BYTES", "dir_path", "is_under", "object_path", "parent_dirs"]

MAX_PATH_BYTES = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _refuse(path: object, why: str, op: str | None) -> InvalidPathError:
    return InvalidPathError(f"invalid path {path!r}: {why}", op=op, path=str(path))


def _check_segments(path: str, op: str | None) -> None:
    if not isinstance(path, str):
        raise _refuse(path, f"expected str, got {type(path).__name__}", op)
    if path.startswith("/"):
        raise _refuse(path, "paths are relative to the work dir; remove the leading '/'", op)
    if _CONTROL.search(path):
        raise _refuse(path, "NUL and control characters are not allowed", op)
    if "\\" in path:
        raise _refuse(path, "'\\' is not allowed (Azure and Windows treat it as a separator)", op)
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise _refuse(path, "not valid UTF-8 (lone surrogate)", op) from None
    if size > MAX_PATH_BYTES:
        raise _refuse(path, f"{size} bytes is over the {MAX_PATH_BYTES}-byte limit", op)
    body = path[:-1] if path.endswith("/") else path
    for segment in body.split("/") if body else ():
        if segment in ("", ".", ".."):
            raise _refuse(path, f"segment {segment!r} is not allowed", op)


def object_path(path: str, op: str | None = None) -> str:
    """Check a path naming an object; returns it unchanged."""
    _check_segments(path, op)
    if path == "" or path.endswith("/"):
        raise _refuse(path, "an object path must name a file, not a directory", op)
    return path


def dir_path(path: str, op: str | None = None) -> str:
    """Check a directory path; returns it with a trailing ``/`` (``""`` is the work dir)."""
    _check_segments(path, op)
    if path == "" or path.endswith("/"):
        return path
    return path + "/"


def is_under(path: str, directory: str) -> bool:
    """True if ``path`` lies inside ``directory`` (a ``dir_path``); ``a/`` holds ``a/b``, not ``ab``."""
    return path.startswith(directory) and path != directory


def parent_dirs(path: str) -> list[str]:
    """The directories above ``path``, nearest first: ``a/b/c`` gives ``["a/b/", "a/"]``."""
    parts = path.rstrip("/").split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)]

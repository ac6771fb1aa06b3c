"""Locations: what a command-line argument names, and the stores that hold them.

A location is a local path or a URL. Local paths, ``fs://`` and ``file://``
URLs all live in one ``fs`` store rooted at ``/``; any other URL
``scheme://netloc/path?k=v`` lives in ``aiostore.connect("scheme://netloc", k=v)``
at ``path``. A trailing ``/`` marks a directory.

Example:
    >>> parse_location("s3://bucket/dir/a.txt?endpoint=http://127.0.0.1:9000").path
    'dir/a.txt'
    >>> parse_location("/tmp/x/").path
    'tmp/x/'
"""

from __future__ import annotations

import enum
import os
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import aiostore

if TYPE_CHECKING:
    from aiostore import Object, Store

__all__ = ["Kind", "Location", "StorePool", "dir_of", "kind_of", "parse_location"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_LOCAL_SCHEMES = frozenset({"fs", "file"})
_SECRET = re.compile(r"secret|password|token|key|credential|signature|sas", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed location.

    Attributes:
        text: the argument as the user typed it, for messages, with the values of
            secret-looking query options (``secret_access_key=``, ``sas_token=``...) masked.
        target: what ``aiostore.connect`` gets first: ``"fs"`` or ``"s3://bucket"``.
        options: keyword options for ``aiostore.connect``, sorted.
        path: the object or directory path inside the store; ``""`` is its root.
    """

    text: str
    target: str
    options: tuple[tuple[str, str], ...]
    path: str

    @property
    def store_key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Locations with the same key share one open store."""
        return (self.target, self.options)

    @property
    def says_dir(self) -> bool:
        """True when the text itself names a directory (root, or a trailing ``/``)."""
        return self.path == "" or self.path.endswith("/")

    def shown(self, path: str) -> str:
        """A store path as the user knows it: local paths are absolute again."""
        return "/" + path if self.target == "fs" else path

    def connect(self) -> Store:
        options: dict[str, Any] = dict(self.options)
        return aiostore.connect(self.target, **options)


def parse_location(text: str, *, cwd: str | None = None) -> Location:
    """Parse a local path or a URL into a `Location`."""
    if not text:
        raise aiostore.InvalidPathError("empty location", op="parse")
    if not _URL.match(text):
        return _local(text, text, (), cwd)
    parts = urlsplit(text)
    text = _redacted(text, parts)
    scheme = parts.scheme.lower()
    options = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    path = unquote(parts.path)
    if scheme in _LOCAL_SCHEMES:
        netloc = unquote(parts.netloc)
        if netloc and netloc != "localhost":
            path = netloc + path  # fs://relative/dir: a path relative to the current directory
        return _local(text, path or "/", options, cwd)
    return Location(text, f"{scheme}://{parts.netloc}", options, path.lstrip("/"))


def _redacted(text: str, parts: SplitResult) -> str:
    if not parts.query:
        return text
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(key, "***" if _SECRET.search(key) else value) for key, value in pairs]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="/:*")))


def _local(text: str, path: str, options: tuple[tuple[str, str], ...], cwd: str | None) -> Location:
    trailing = path.endswith(("/", os.sep)) or path in (".", "..")
    absolute = os.path.normpath(os.path.join(cwd or os.getcwd(), path))
    relative = absolute.replace(os.sep, "/").lstrip("/")
    if trailing and relative:
        relative += "/"
    kept = tuple(option for option in options if option[0] != "work_dir")  # the root is always "/"
    return Location(text, "fs", (("work_dir", "/"), *kept), relative)


def dir_of(path: str) -> str:
    """``path`` as a directory path: ``"a"`` gives ``"a/"``; the root stays ``""``."""
    return path if path == "" or path.endswith("/") else path + "/"


def basename(path: str) -> str:
    """The last segment: ``"a/b.txt"`` gives ``"b.txt"``, ``"a/b/"`` gives ``"b"``."""
    return path.rstrip("/").rsplit("/", 1)[-1]


class Kind(enum.Enum):
    """What a location names in its store."""

    FILE = "file"
    DIR = "dir"
    MISSING = "missing"


async def kind_of(store: Store, path: str) -> tuple[Kind, Object | None]:
    """Whether ``path`` is a file (with its `Object`), a directory, or missing.

    A directory is whatever ``stat`` calls one, or any prefix that lists something,
    since object stores have no directories of their own.
    """
    if path == "":
        return Kind.DIR, None
    try:
        obj = await store.stat(path)
    except (aiostore.NotFoundError, aiostore.InvalidPathError):
        pass
    else:
        return (Kind.DIR, obj) if obj.is_dir else (Kind.FILE, obj)
    async for _ in store.list(dir_of(path), page_size=1):
        return Kind.DIR, None
    return Kind.MISSING, None


class StorePool:
    """Opens each distinct store once and closes them all on exit.

    Example:
        >>> async with StorePool() as pool:
        ...     store = await pool.open(parse_location("s3://bucket/a.txt"))
    """

    def __init__(self) -> None:
        self._stack = AsyncExitStack()
        self._stores: dict[tuple[str, tuple[tuple[str, str], ...]], Store] = {}

    async def __aenter__(self) -> StorePool:
        await self._stack.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    async def open(self, location: Location) -> Store:
        """The open store holding ``location``."""
        store = self._stores.get(location.store_key)
        if store is None:
            store = location.connect()
            await self._stack.enter_async_context(store)
            self._stores[location.store_key] = store
        return store

    def same_store(self, a: Location, b: Location) -> bool:
        return a.store_key == b.store_key

"""Value types shared by the core and the adapters: objects, capabilities, limits."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

__all__ = [
    "EMPTY_METADATA",
    "Capabilities",
    "draft_object",
    "listed_file",
    "Limits",
    "Object",
    "ObjectDraft",
    "ObjectType",
    "Page",
    "Part",
    "Segment",
    "seal",
    "Statistics",
    "StorageMeta",
    "StoragerInfo",
    "WriteOptions",
]


class _EmptyMapping(dict[str, Any]):
    """An empty dict that refuses changes, shared by every value with nothing in it."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("this empty mapping is shared and read-only; build a new dict instead")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _empty_mapping, ()

    def __repr__(self) -> str:
        return "{}"


def _empty_mapping() -> _EmptyMapping:
    return EMPTY_METADATA


#: The metadata (and ``extra``) of values that have none: one shared, read-only empty dict.
EMPTY_METADATA = _EmptyMapping()


class ObjectType(enum.Enum):
    """What a listed or stated path is."""

    FILE = "file"
    DIR = "dir"
    LINK = "link"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Object:
    """An object (or a directory in a one-level listing).

    ``path`` is relative to the store's work dir; a directory's path ends with ``/``.
    Fields the adapter cannot know are ``None``.
    """

    path: str
    type: ObjectType = ObjectType.FILE
    size: int | None = None
    updated_at: datetime | None = None
    id: str | None = None
    content_md5: str | None = None
    content_type: str | None = None
    etag: str | None = None
    storage_class: str | None = None
    version: str | None = None
    metadata: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)

    @property
    def is_dir(self) -> bool:
        return self.type is ObjectType.DIR


class ObjectDraft:
    """`Object`'s slots without its frozen ``__setattr__``: the fast way to build one.

    Code that builds an `Object` per listed key or per call fills a draft with
    plain attribute stores and `seal`s it, which turns it into an `Object` by
    ``__class__`` assignment (same slots, same layout). A frozen dataclass's
    ``__init__`` goes through ``object.__setattr__`` for every field and costs
    about six times as much. Every slot must be set before `seal`; the result
    is an ordinary, equal, hashable and still frozen `Object`.

    Example:
        >>> draft = draft_object()
        >>> draft.path, draft.type, draft.size = "a.txt", ObjectType.FILE, 3
        >>> ...  # every other field of `Object`
        >>> obj = seal(draft)
    """

    __slots__ = Object.__slots__
    path: str
    type: ObjectType
    size: int | None
    updated_at: datetime | None
    id: str | None
    content_md5: str | None
    content_type: str | None
    etag: str | None
    storage_class: str | None
    version: str | None
    metadata: Mapping[str, str]


_new = object.__new__


def draft_object() -> ObjectDraft:
    """An empty `ObjectDraft` (no slot set yet)."""
    draft: ObjectDraft = _new(ObjectDraft)
    return draft


def seal(draft: ObjectDraft) -> Object:
    """Turn a filled `ObjectDraft` into the `Object` it describes (in place)."""
    draft.__class__ = Object  # type: ignore[assignment]
    return draft  # type: ignore[return-value]


def listed_file(
    path: str, size: int | None, updated_at: datetime | None, etag: str | None, storage_class: str | None
) -> Object:
    """An `Object` of a listing entry, built through `ObjectDraft`.

    Example:
        >>> listed_file("a.txt", 3, None, '"e"', None) == Object("a.txt", size=3, etag='"e"')
        True
    """
    draft = draft_object()
    draft.path = path
    draft.type = _FILE
    draft.size = size
    draft.updated_at = updated_at
    draft.id = None
    draft.content_md5 = None
    draft.content_type = None
    draft.etag = etag
    draft.storage_class = storage_class
    draft.version = None
    draft.metadata = EMPTY_METADATA
    return seal(draft)


_FILE = ObjectType.FILE


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an adapter can do; callers and the conformance suite check these.

    Example:
        >>> if store.metadata().capabilities.reach:
        ...     url = await store.reach("a.txt")
    """

    read: bool = True
    write: bool = True
    stat: bool = True
    delete: bool = True
    list: bool = True
    copy: bool = True
    move: bool = True
    reach: bool = False
    segments: bool = False
    list_segments: bool = False
    if_not_exists: bool = False
    if_match_read: bool = False
    content_type: bool = True
    user_metadata: bool = True
    statistical: bool = True
    service: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits the core's transfer engine keeps within."""

    min_segment_size: int = 1
    max_segment_size: int = 5 * 1024**3
    max_segments: int = 10_000
    max_single_write: int = 5 * 1024**3
    max_page_size: int = 1000
    max_path_bytes: int = 1024


@dataclass(frozen=True, slots=True)
class StorageMeta:
    """What ``Store.metadata()`` returns: no I/O involved."""

    name: str
    work_dir: str
    adapter: str
    capabilities: Capabilities
    limits: Limits


@dataclass(frozen=True, slots=True)
class Statistics:
    """Count and total size of the objects under the work dir."""

    count: int
    size: int


@dataclass(frozen=True, slots=True)
class StoragerInfo:
    """A storager (bucket, container, directory) listed by a service."""

    name: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A multipart upload in progress: ``path`` is work-dir-relative; ``id`` is
    the adapter's opaque upload id (it may encode whatever the adapter needs)."""

    path: str
    id: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One uploaded part of a segment, addressed by a 0-based index."""

    index: int
    size: int
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an adapter listing; entry paths are work-dir-relative."""

    entries: list[Object]
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """Options of one write, immutable; ``extra`` carries adapter-specific keywords
    such as ``storage_class`` or server-side encryption settings."""

    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)
    if_not_exists: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

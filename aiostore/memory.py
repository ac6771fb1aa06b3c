"""The ``memory`` adapter: the reference implementation of every primitive.

Objects live in a dict of one process; each ``connect("memory://")`` gets its
own empty space, while stores from one ``service("memory")`` share theirs.

Example:
    >>> async with aiostore.connect("memory://") as store:
    ...     await store.write("a.txt", b"hi")
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from ._adapter import Adapter, ReadStream, ServiceAdapter
from ._errors import (
    AlreadyExistsError,
    ConditionNotMetError,
    InvalidArgumentError,
    InvalidOffsetError,
    NotFoundError,
    StorageError,
    StoragerNotFoundError,
)
from ._registry import AdapterSpec
from ._types import Capabilities, Limits, Object, ObjectType, Page, Part, Segment, StoragerInfo, WriteOptions

__all__ = ["SPEC", "MemoryAdapter", "MemoryService"]

_generations = itertools.count(1)


@dataclass(slots=True)
class _Blob:
    data: bytes
    content_type: str | None
    metadata: dict[str, str]
    updated_at: datetime
    generation: int
    md5: str


@dataclass(slots=True)
class _Upload:
    path: str
    options: WriteOptions
    created_at: datetime
    parts: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class _Space:
    """One storager's contents: blobs by key (kept sorted) and uploads by id."""

    blobs: dict[str, _Blob] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    uploads: dict[str, _Upload] = field(default_factory=dict)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def put(self, key: str, blob: _Blob) -> None:
        if key not in self.blobs:
            bisect.insort(self.keys, key)
        self.blobs[key] = blob

    def remove(self, key: str) -> None:
        if self.blobs.pop(key, None) is not None:
            del self.keys[bisect.bisect_left(self.keys, key)]


class _BytesStream(ReadStream):
    def __init__(self, obj: Object, data: memoryview, chunk_size: int) -> None:
        self.object = obj
        self._data = data
        self._chunk_size = chunk_size

    async def next_chunk(self) -> bytes:
        chunk, self._data = self._data[: self._chunk_size], self._data[self._chunk_size :]
        return bytes(chunk)

    async def aclose(self) -> None:
        self._data = memoryview(b"")


class MemoryAdapter(Adapter):
    """Every capability that can exist in memory (no URLs: nothing serves them)."""

    name: ClassVar[str] = "memory"
    capabilities = Capabilities(
        segments=True,
        list_segments=True,
        if_not_exists=True,
        if_match_read=True,
        statistical=True,
        service=True,
    )
    limits = Limits(min_segment_size=1, max_segments=10_000, max_page_size=1000)

    def __init__(
        self,
        *,
        name: str = "memory",
        work_dir: str = "",
        chunk_size: int = 1024 * 1024,
        space: _Space | None = None,
    ) -> None:
        self._name = name
        self._work_dir = work_dir.strip("/") + "/" if work_dir.strip("/") else ""
        self._chunk_size = int(chunk_size)
        self._space = space if space is not None else _Space()

    @property
    def storager_name(self) -> str:
        return self._name

    @property
    def work_dir(self) -> str:
        return self._work_dir

    def _blob(self, path: str) -> _Blob:
        blob = self._space.blobs.get(self._work_dir + path)
        if blob is None:
            raise NotFoundError(f"{path!r} does not exist", path=path, adapter=self.name)
        return blob

    def _object(self, path: str, blob: _Blob) -> Object:
        return Object(
            path=path,
            size=len(blob.data),
            updated_at=blob.updated_at,
            content_type=blob.content_type,
            content_md5=blob.md5,
            etag=f'"{blob.generation}"',
            version=str(blob.generation),
            metadata=dict(blob.metadata),
        )

    def _store(self, path: str, data: bytes, options: WriteOptions) -> Object:
        key = self._work_dir + path
        if options.if_not_exists and key in self._space.blobs:
            raise AlreadyExistsError(f"{path!r} already exists", path=path, adapter=self.name)
        blob = _Blob(
            data=data,
            content_type=options.content_type,
            metadata=dict(options.metadata),
            updated_at=datetime.now(UTC),
            generation=next(_generations),
            md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        )
        self._space.put(key, blob)
        return self._object(path, blob)

    async def stat(self, path: str) -> Object:
        return self._object(path, self._blob(path))

    def _range(
        self, path: str, offset: int, size: int | None, if_match: str | None
    ) -> tuple[_Blob, memoryview]:
        blob = self._blob(path)
        if if_match is not None and if_match != f'"{blob.generation}"':
            raise ConditionNotMetError(f"{path!r} changed since it was opened", path=path, adapter=self.name)
        if offset > len(blob.data):
            raise InvalidOffsetError(f"offset {offset} is past the end ({len(blob.data)} bytes)", path=path)
        end = len(blob.data) if size is None else min(offset + size, len(blob.data))
        return blob, memoryview(blob.data)[offset:end]

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> ReadStream:
        blob, view = self._range(path, offset, size, if_match)
        return _BytesStream(self._object(path, blob), view, self._chunk_size)

    async def read_bytes(self, path: str, *, offset: int, size: int | None) -> bytes:
        return bytes(self._range(path, offset, size, None)[1])

    async def write_once(self, path: str, data: bytes | memoryview, options: WriteOptions) -> Object:
        return self._store(path, bytes(data), options)

    async def delete(self, path: str) -> None:
        self._space.remove(self._work_dir + path)

    async def delete_many(self, paths: Sequence[str]) -> None:
        for path in paths:
            self._space.remove(self._work_dir + path)

    async def copy(self, src: str, dst: str) -> None:
        blob = self._blob(src)
        options = WriteOptions(content_type=blob.content_type, metadata=blob.metadata)
        self._store(dst, blob.data, options)

    async def move(self, src: str, dst: str) -> None:
        await self.copy(src, dst)
        self._space.remove(self._work_dir + src)

    async def list_page(self, directory: str, *, recursive: bool, page_size: int, token: str | None) -> Page:
        prefix = self._work_dir + directory
        keys = self._space.keys
        start = bisect.bisect_right(keys, token) if token else bisect.bisect_left(keys, prefix)
        entries: list[Object] = []
        last = None
        index = start
        while index < len(keys) and len(entries) < page_size and keys[index].startswith(prefix):
            key = keys[index]
            rest = key[len(prefix) :]
            if not recursive and "/" in rest:
                subdir = prefix + rest.split("/", 1)[0] + "/"
                entries.append(Object(path=subdir[len(self._work_dir) :], type=ObjectType.DIR))
                last = subdir + "\U0010ffff"
                index = bisect.bisect_right(keys, last)
                continue
            entries.append(self._object(key[len(self._work_dir) :], self._space.blobs[key]))
            last = key
            index += 1
        more = index < len(keys) and keys[index].startswith(prefix)
        return Page(entries=entries, next_token=last if more else None)

    async def init_segment(self, path: str, options: WriteOptions) -> Segment:
        upload_id = uuid.uuid4().hex
        created = datetime.now(UTC)
        self._space.uploads[upload_id] = _Upload(self._work_dir + path, options, created)
        return Segment(path=path, id=upload_id, created_at=created)

    def _upload(self, segment: Segment) -> _Upload:
        upload = self._space.uploads.get(segment.id)
        if upload is None or upload.path != self._work_dir + segment.path:
            raise NotFoundError(f"no upload {segment.id!r} in progress", path=segment.path, adapter=self.name)
        return upload

    async def write_segment(self, segment: Segment, index: int, data: bytes | memoryview) -> Part:
        self._upload(segment).parts[index] = bytes(data)
        return Part(index=index, size=len(data))

    async def complete_segment(
        self, segment: Segment, parts: Sequence[Part] | None, options: WriteOptions
    ) -> Object:
        upload = self._upload(segment)
        indexes = sorted(upload.parts) if parts is None else [part.index for part in parts]
        missing = [index for index in indexes if index not in upload.parts]
        if missing:
            raise InvalidArgumentError(f"parts {missing} were never uploaded", path=segment.path)
        merged = WriteOptions(
            content_type=upload.options.content_type,
            metadata=upload.options.metadata,
            if_not_exists=upload.options.if_not_exists or options.if_not_exists,
        )
        obj = self._store(segment.path, b"".join(upload.parts[i] for i in indexes), merged)
        del self._space.uploads[segment.id]
        return obj

    async def abort_segment(self, segment: Segment) -> None:
        self._space.uploads.pop(segment.id, None)

    async def list_segments(self, directory: str) -> AsyncIterator[Segment]:
        prefix = self._work_dir + directory
        for upload_id, upload in list(self._space.uploads.items()):
            if upload.path.startswith(prefix):
                path = upload.path[len(self._work_dir) :]
                yield Segment(path=path, id=upload_id, created_at=upload.created_at)


class MemoryService(ServiceAdapter):
    """Named in-memory storagers, shared by the stores this service hands out."""

    name: ClassVar[str] = "memory"

    def __init__(self, **options: Any) -> None:
        self._spaces: dict[str, _Space] = {}
        self._options = options

    async def list(self) -> AsyncIterator[StoragerInfo]:
        for name, space in sorted(self._spaces.items()):
            yield StoragerInfo(name=name, created_at=space.created_at)

    async def exists(self, name: str) -> bool:
        return name in self._spaces

    async def create(self, name: str) -> None:
        if not name or "/" in name:
            raise InvalidArgumentError(f"invalid storager name {name!r}", adapter=self.name)
        if name in self._spaces:
            raise AlreadyExistsError(f"storager {name!r} exists", path=name, adapter=self.name)
        self._spaces[name] = _Space()

    async def delete(self, name: str) -> None:
        space = self._spaces.get(name)
        if space is None:
            raise StoragerNotFoundError(f"no storager named {name!r}", path=name, adapter=self.name)
        if space.blobs:
            raise StorageError(f"storager {name!r} is not empty", path=name, adapter=self.name)
        del self._spaces[name]

    def storager(self, name: str, work_dir: str) -> Adapter:
        if name not in self._spaces:
            raise StoragerNotFoundError(f"no storager named {name!r}", path=name, adapter=self.name)
        return MemoryAdapter(name=name, work_dir=work_dir, space=self._spaces[name], **self._options)


SPEC = AdapterSpec(name="memory", open_store=MemoryAdapter, open_service=MemoryService)

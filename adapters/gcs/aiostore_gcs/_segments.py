"""Segments (multipart uploads) as temporary objects joined with ``compose``.

GCS has no multipart API with separate parts, so a segment upload is::

    <work_dir>.aiostore-segments/<id>.json            manifest: target path and options
    <work_dir>.aiostore-segments/<id>/parts/000000    part 0, 1, ... (any size)
    <work_dir>.aiostore-segments/<id>/tree/1-000000   intermediate composites

``compose`` joins at most 32 sources, so more parts are composed in a tree:
groups of 32 become intermediates, level by level, until one last compose
writes the target with its content type and metadata (``ifGenerationMatch=0``
for ``if_not_exists``). Part sources are pinned to the generation each upload
returned. Temporaries are deleted after `complete` and by `abort`; listings of
the store never show them. A part upload runs to the end even when its caller
is cancelled, and `abort` waits for the ones in flight before deleting
(`_inflight`), so no part lands after the abort.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import aiohttp

from aiostore._errors import (
    AlreadyExistsError,
    IntegrityError,
    InvalidArgumentError,
    NotFoundError,
    StorageError,
)
from aiostore._types import Object, Part, Segment, WriteOptions

from ._client import GCSClient, iter_objects, object_url, raise_for_response
from ._errors import gcs_errors
from ._inflight import PartTasks
from ._objects import Keys, from_resource, parse_time, write_fields

__all__ = ["COMPOSE_LIMIT", "SegmentUploads", "run_limited"]

COMPOSE_LIMIT = 32
CONCURRENCY = 8
_PATH_FIELD = "aiostore-path"
T = TypeVar("T")


async def run_limited(coros: Sequence[Coroutine[Any, Any, T]], limit: int = CONCURRENCY) -> list[T]:
    """Run coroutines at most ``limit`` at a time; the first failure is raised as is."""
    semaphore = asyncio.Semaphore(limit)

    async def bounded(coro: Coroutine[Any, Any, T]) -> T:
        async with semaphore:
            return await coro

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(bounded(coro)) for coro in coros]
    except BaseExceptionGroup as errors:
        raise errors.exceptions[0] from None
    return [task.result() for task in tasks]


class SegmentUploads:
    """The segment primitives of one storager; the adapter maps their errors."""

    def __init__(
        self,
        client: GCSClient,
        bucket: str,
        keys: Keys,
        *,
        write_small: Callable[[str, bytes, WriteOptions], Awaitable[Object]],
        delete_keys: Callable[[Sequence[str]], Awaitable[None]],
    ) -> None:
        self._client, self._bucket, self._keys = client, bucket, keys
        self._write_small, self._delete_keys = write_small, delete_keys
        self._parts = PartTasks()

    async def aclose(self) -> None:
        """Let part uploads still in flight finish (within the client timeout)."""
        await self._parts.aclose(self._client.options.timeout)

    def _manifest(self, upload_id: str) -> str:
        return f"{self._keys.hidden}{upload_id}.json"

    def _dir(self, upload_id: str) -> str:
        return f"{self._keys.hidden}{upload_id}/"

    def _part_key(self, upload_id: str, index: int) -> str:
        return f"{self._dir(upload_id)}parts/{index:06d}"

    async def init(self, path: str, options: WriteOptions) -> Segment:
        upload_id = uuid.uuid4().hex
        manifest = {
            "path": path,
            "content_type": options.content_type,
            "fields": write_fields(options.metadata, options.extra, "init_segment"),
            "if_not_exists": options.if_not_exists,
        }
        resource = await self._client.upload_bytes(
            self._bucket,
            self._manifest(upload_id),
            json.dumps(manifest).encode(),
            content_type="application/json",
            fields={"metadata": {_PATH_FIELD: path}},
            if_not_exists=False,
        )
        return Segment(path=path, id=upload_id, created_at=parse_time(resource.get("timeCreated")))

    async def _read_manifest(self, segment: Segment) -> dict[str, Any]:
        """The upload's manifest; `NotFoundError` once it is completed or aborted."""
        missing = NotFoundError(f"segment upload {segment.id} does not exist (completed or aborted)")
        if not segment.id.isalnum():
            raise missing
        url = object_url(self._client.options.endpoint, self._bucket, self._manifest(segment.id))
        async with await self._client.request("GET", url, params={"alt": "media"}, check=False) as resp:
            if resp.status == 404:
                raise missing
            if resp.status >= 400:
                await raise_for_response(resp)
            manifest: dict[str, Any] = json.loads(await resp.read())
        if manifest.get("path") != segment.path:
            raise missing
        return manifest

    async def write(self, segment: Segment, index: int, data: bytes | memoryview) -> Part:
        # copied now: the upload may outlive the caller's buffer
        return await self._parts.run(segment.id, index, self._write_part(segment, index, bytes(data)))

    async def _write_part(self, segment: Segment, index: int, data: bytes) -> Part:
        await self._read_manifest(segment)
        resource = await self._client.upload_bytes(
            self._bucket,
            self._part_key(segment.id, index),
            data,
            content_type="application/octet-stream",
            fields={},
            if_not_exists=False,
        )
        return Part(index=index, size=len(data), etag=str(resource["generation"]))

    async def complete(self, segment: Segment, parts: Sequence[Part] | None, options: WriteOptions) -> Object:
        """Compose the parts into the target; options given now win over those given at init."""
        manifest = await self._read_manifest(segment)
        if_not_exists = bool(options.if_not_exists or manifest.get("if_not_exists"))
        merged = WriteOptions(
            content_type=options.content_type or manifest.get("content_type"),
            if_not_exists=if_not_exists,
        )
        fields = (
            write_fields(options.metadata, options.extra, "complete_segment")
            if options.metadata or options.extra
            else dict(manifest.get("fields") or {})
        )
        sources, sizes = await self._sources(segment, parts)
        if not sources:
            obj = await self._write_small(segment.path, b"", merged)
        else:
            names = await self._reduce(segment.id, sources)
            destination = {**fields, "contentType": merged.content_type or "application/octet-stream"}
            exists = {412: AlreadyExistsError} if if_not_exists else None
            with gcs_errors("complete_segment", segment.path, idempotent=if_not_exists, overrides=exists):
                resource = await self._compose(
                    self._keys.key(segment.path), names, destination, if_not_exists=if_not_exists
                )
            obj = from_resource(resource, segment.path)
            if sizes is not None and obj.size != sizes:
                raise IntegrityError(f"composed object has {obj.size} bytes, the parts add up to {sizes}")
        await self._remove(segment.id, completed=True)
        return obj

    async def abort(self, segment: Segment) -> None:
        async with self._parts.closing(segment.id):
            await self._remove(segment.id)

    async def in_progress(self, directory: str) -> AsyncIterator[Segment]:
        hidden = self._keys.hidden
        async for page in iter_objects(self._client, self._bucket, hidden, delimiter="/"):
            for item in page.get("items", []):
                path = (item.get("metadata") or {}).get(_PATH_FIELD)
                name: str = item["name"]
                if path is None or not name.endswith(".json") or not path.startswith(directory):
                    continue
                created = parse_time(item.get("timeCreated"))
                yield Segment(path=path, id=name[len(hidden) : -5], created_at=created)

    async def _sources(
        self, segment: Segment, parts: Sequence[Part] | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Compose sources in index order, each pinned to its generation, and their total size."""
        if parts is None:
            return await self._uploaded_parts(segment.id)
        indexes = [part.index for part in parts]
        if len(set(indexes)) != len(indexes):
            raise InvalidArgumentError("a part index appears twice", path=segment.path)
        ordered = sorted(parts, key=lambda part: part.index)
        sources = [self._source(self._part_key(segment.id, p.index), p.etag) for p in ordered]
        return sources, sum(part.size for part in ordered)

    async def _uploaded_parts(self, upload_id: str) -> tuple[list[dict[str, Any]], int]:
        prefix = f"{self._dir(upload_id)}parts/"
        items = [
            item
            async for page in iter_objects(self._client, self._bucket, prefix)
            for item in page.get("items", [])
        ]
        items.sort(key=lambda item: int(item["name"][len(prefix) :]))
        sources = [self._source(item["name"], item.get("generation")) for item in items]
        return sources, sum(int(item.get("size", 0)) for item in items)

    @staticmethod
    def _source(name: str, generation: str | None) -> dict[str, Any]:
        source: dict[str, Any] = {"name": name}
        if generation and generation.isdigit():
            source["objectPreconditions"] = {"ifGenerationMatch": generation}
        return source

    async def _reduce(self, upload_id: str, sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Compose groups of 32 into intermediates until one compose can take them all."""
        level = 0
        while len(sources) > COMPOSE_LIMIT:
            level += 1
            groups = [sources[i : i + COMPOSE_LIMIT] for i in range(0, len(sources), COMPOSE_LIMIT)]
            keys = [f"{self._dir(upload_id)}tree/{level}-{n:06d}" for n in range(len(groups))]
            plain = {"contentType": "application/octet-stream"}
            pairs = zip(keys, groups, strict=True)
            results = await run_limited([self._compose(key, group, plain) for key, group in pairs])
            sources = [self._source(k, str(r["generation"])) for k, r in zip(keys, results, strict=True)]
        return sources

    async def _compose(
        self,
        key: str,
        sources: list[dict[str, Any]],
        destination: dict[str, Any],
        *,
        if_not_exists: bool = False,
    ) -> dict[str, Any]:
        url = f"{object_url(self._client.options.endpoint, self._bucket, key)}/compose"
        params = {"ifGenerationMatch": "0"} if if_not_exists else None
        return await self._client.call_json(
            "POST", url, params=params, body={"sourceObjects": sources, "destination": destination}
        )

    async def _remove(self, upload_id: str, *, completed: bool = False) -> None:
        """Delete the upload's temporaries and manifest, shielded from cancellation.

        After a completion the manifest goes first, so the upload can never be
        completed again from half-deleted parts; the parts are then removed on a
        best-effort basis. An abort removes the parts first, so a failed abort
        leaves the upload listed and can be repeated.
        """
        await asyncio.shield(asyncio.ensure_future(self._remove_now(upload_id, completed)))

    async def _remove_now(self, upload_id: str, completed: bool) -> None:
        if completed:
            await self._delete_keys([self._manifest(upload_id)])
            with contextlib.suppress(StorageError, OSError, aiohttp.ClientError, TimeoutError):
                await self._remove_parts(upload_id)
            return
        await self._remove_parts(upload_id)
        await self._delete_keys([self._manifest(upload_id)])

    async def _remove_parts(self, upload_id: str) -> None:
        names_only = "items(name),nextPageToken"
        async for page in iter_objects(self._client, self._bucket, self._dir(upload_id), fields=names_only):
            await self._delete_keys([item["name"] for item in page.get("items", [])])

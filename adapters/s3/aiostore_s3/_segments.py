"""Multipart uploads ("segments") and multipart server-side copies.

CreateMultipartUpload / UploadPart / CompleteMultipartUpload /
AbortMultipartUpload / ListMultipartUploads. Part index ``i`` is S3 part
number ``i + 1``. When parts carry a CRC checksum, the upload declares the
algorithm and completion lists each part's checksum, read back with ListParts
(so the core's `Part` needs nothing S3-specific).

Create, UploadPart and Complete go through the data plane (the fast path when
it is on): a cold botocore operation costs tens of milliseconds of CPU on its
first call, which every first upload of a process would wait for.

Objects over ``copy_threshold`` (5 GiB, CopyObject's limit) are copied with
UploadPartCopy, ``copy_concurrency`` parts at a time; a failure aborts the
copy in a cleanup shielded from cancellation.
"""

from __future__ import annotations

import abc
import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiostore import (
    AlreadyExistsError,
    ConditionNotMetError,
    EntityTooSmallError,
    NotFoundError,
    Object,
    Part,
    Pieces,
    Segment,
    ServiceUnavailableError,
    WriteOptions,
)
from aiostore._pieces import size_of

from ._checksums import upload_params_off_loop
from ._config import S3Config
from ._dataplane import DataPlane
from ._errors import ADAPTER, boundary
from ._listing import iter_segments
from ._params import copy_source_sse_params, read_params, require_conditional_write, write_params

__all__ = ["SegmentOps"]

GiB = 1024**3
_CHECKSUM_FIELDS = ("ChecksumCRC32C", "ChecksumCRC32", "ChecksumSHA1", "ChecksumSHA256")


_CLEANUP_SECONDS = 30.0


async def _shielded(cleanup: Awaitable[None]) -> None:
    """Run ``cleanup`` to the end (within 30 s) even if the caller is being cancelled."""
    task = asyncio.ensure_future(asyncio.wait_for(cleanup, _CLEANUP_SECONDS))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        raise


@dataclass(frozen=True, slots=True)
class _Uploaded:
    part: Part
    sums: Mapping[str, str]


class SegmentOps(abc.ABC):
    """The segment primitives of `S3Adapter`; it supplies the hooks below."""

    _config: S3Config
    # The parts this adapter uploaded, by upload id and part number, with their
    # checksums. Completion must repeat each part's checksum, and ListParts is
    # not reliable everywhere (SeaweedFS returns no checksums, and both versions
    # of a rewritten part), so the UploadPart answers are kept.
    _uploaded: dict[str, dict[int, _Uploaded]]
    copy_threshold: int = 5 * GiB
    copy_part_size: int = 512 * 1024**2
    copy_concurrency: int = 8

    @abc.abstractmethod
    async def _client(self) -> Any: ...

    @abc.abstractmethod
    async def _plane(self) -> DataPlane: ...

    def _key(self, path: str) -> str:
        return self._config.work_dir + path

    def _crc(self) -> str | None:
        return self._config.checksum.upper() if self._config.checksum in ("crc32c", "crc32") else None

    async def init_segment(self, path: str, options: WriteOptions) -> Segment:
        return await self._create_upload(path, options, checksums=True)

    async def _create_upload(self, path: str, options: WriteOptions, *, checksums: bool) -> Segment:
        params = write_params(self._config, options, op="init_segment")
        if checksums and (algorithm := self._crc()) is not None:
            params["ChecksumAlgorithm"] = algorithm
            if self._config.full_object_checksum:  # a CRC of the whole object, not of the parts
                params["ChecksumType"] = "FULL_OBJECT"
        plane = await self._plane()
        with boundary("init_segment", path):
            upload_id = await plane.create_upload(self._key(path), params)
        return Segment(path=path, id=upload_id, created_at=datetime.now(UTC))

    def _part_params(self, segment: Segment, index: int) -> dict[str, Any]:
        return {
            "Bucket": self._config.bucket,
            "Key": self._key(segment.path),
            "UploadId": segment.id,
            "PartNumber": index + 1,
        } | read_params(self._config)

    async def write_segment(self, segment: Segment, index: int, data: bytes | memoryview) -> Part:
        return await self._upload_part(segment, index, data)

    async def write_segment_pieces(self, segment: Segment, index: int, pieces: Pieces) -> Part:
        """The part's buffers go out one after another: never joined (`Pieces`)."""
        return await self._upload_part(segment, index, pieces)

    async def _upload_part(self, segment: Segment, index: int, data: bytes | memoryview | Pieces) -> Part:
        params = read_params(self._config) | await upload_params_off_loop(self._config.checksum, data)
        plane = await self._plane()
        with boundary("write_segment", segment.path):
            response = await plane.upload_part(self._key(segment.path), segment.id, index + 1, data, params)
        size = size_of(data)
        part = Part(index=index, size=size, etag=response.get("ETag"))
        sums = {name: response[name] for name in _CHECKSUM_FIELDS if response.get(name)}
        self._uploaded.setdefault(segment.id, {})[index + 1] = _Uploaded(part, sums)
        return part

    async def _list_parts(self, segment: Segment) -> dict[int, Mapping[str, Any]]:
        client = await self._client()
        found: dict[int, Mapping[str, Any]] = {}
        marker: int | None = None
        while True:
            params: dict[str, Any] = {"Bucket": self._config.bucket, "Key": self._key(segment.path)}
            params |= {"UploadId": segment.id} | ({"PartNumberMarker": marker} if marker else {})
            with boundary("complete_segment", segment.path):
                response = await client.list_parts(**params | read_params(self._config))
            for part in response.get("Parts") or ():
                found[int(part["PartNumber"])] = part
            next_marker = response.get("NextPartNumberMarker")
            if not response.get("IsTruncated") or not next_marker or int(next_marker) == marker:
                return found
            marker = int(next_marker)

    def _choose(
        self,
        parts: Sequence[Part] | None,
        mine: Mapping[int, _Uploaded],
        listed: Mapping[int, Mapping[str, Any]],
    ) -> list[Part]:
        """The parts to join: the given ones, or every uploaded one (ours win over ListParts)."""
        if parts is not None:
            return list(parts)
        chosen = []
        for number in sorted(set(mine) | set(listed)):
            if number in mine:
                chosen.append(mine[number].part)
            else:
                found = listed[number]
                chosen.append(
                    Part(index=number - 1, size=int(found.get("Size") or 0), etag=found.get("ETag"))
                )
        return chosen

    def _manifest_entry(
        self, part: Part, mine: Mapping[int, _Uploaded], listed: Mapping[int, Mapping[str, Any]]
    ) -> dict[str, Any]:
        number = part.index + 1
        ours = mine.get(number)
        if ours is not None and (part.etag is None or part.etag == ours.part.etag):
            return {"PartNumber": number, "ETag": ours.part.etag, **ours.sums}
        found = listed.get(number, {})
        sums = {name: found[name] for name in _CHECKSUM_FIELDS if found.get(name)}
        return {"PartNumber": number, "ETag": part.etag or found.get("ETag"), **sums}

    def _needs_listing(self, parts: Sequence[Part] | None, mine: Mapping[int, _Uploaded]) -> bool:
        if parts is None:
            return True
        return any(part.index + 1 not in mine and (part.etag is None or self._crc()) for part in parts)

    async def complete_segment(
        self, segment: Segment, parts: Sequence[Part] | None, options: WriteOptions
    ) -> Object:
        mine = self._uploaded.get(segment.id, {})
        listed = await self._list_parts(segment) if self._needs_listing(parts, mine) else {}
        chosen = self._choose(parts, mine, listed)
        manifest = [self._manifest_entry(part, mine, listed) for part in chosen]
        params = read_params(self._config)
        if options.if_not_exists:
            require_conditional_write(self._config, "complete_segment")
            params["IfNoneMatch"] = "*"
        plane = await self._plane()
        precondition = AlreadyExistsError if options.if_not_exists else ConditionNotMetError
        try:
            with boundary("complete_segment", segment.path, precondition=precondition):
                response = await plane.complete_upload(self._key(segment.path), segment.id, manifest, params)
        except EntityTooSmallError as exc:
            raise EntityTooSmallError(
                f"every part but the last must hold at least 5 MiB ({exc.message})",
                op="complete_segment", path=segment.path, adapter=ADAPTER,
            ) from exc  # fmt: skip
        self._uploaded.pop(segment.id, None)
        return self._completed_object(segment.path, response, chosen, options)

    def _completed_object(
        self, path: str, response: Mapping[str, Any], parts: Sequence[Part], options: WriteOptions
    ) -> Object:
        if not response.get("ETag"):
            raise ServiceUnavailableError(
                "CompleteMultipartUpload answered without an ETag",
                op="complete_segment",
                path=path,
                adapter=ADAPTER,
            )
        return Object(
            path=path,
            size=sum(part.size for part in parts),
            etag=response["ETag"],
            version=response.get("VersionId"),
            content_type=options.content_type,
            metadata=dict(options.metadata),
        )

    async def abort_segment(self, segment: Segment) -> None:
        self._uploaded.pop(segment.id, None)
        params = self._part_params(segment, 0)
        del params["PartNumber"]
        for name in ("SSECustomerAlgorithm", "SSECustomerKey"):
            params.pop(name, None)
        client = await self._client()
        try:
            with boundary("abort_segment", segment.path):
                await client.abort_multipart_upload(**params)
        except NotFoundError:
            return  # aborting twice (or after completion) succeeds

    def list_segments(self, directory: str) -> AsyncIterator[Segment]:
        return self._list_segments(directory)

    async def _list_segments(self, directory: str) -> AsyncIterator[Segment]:
        client = await self._client()
        async for segment in iter_segments(client, self._config.bucket, self._config.work_dir, directory):
            yield segment

    # -- multipart copy of objects over 5 GiB --------------------------------
    async def _copy_multipart(self, src: str, dst: str, head: Mapping[str, Any]) -> None:
        size = int(head["ContentLength"])
        part = max(self.copy_part_size, math.ceil(size / 10_000))
        options = WriteOptions(content_type=head.get("ContentType"), metadata=head.get("Metadata") or {})
        # UploadPartCopy has no checksum of its own to send: declare none
        segment = await self._create_upload(dst, options, checksums=False)
        try:
            parts = await self._copy_parts(segment, src, size, part)
            await self.complete_segment(segment, parts, WriteOptions())
        except BaseException:
            await _shielded(self.abort_segment(segment))
            raise

    async def _copy_parts(self, segment: Segment, src: str, size: int, part_size: int) -> list[Part]:
        gate = asyncio.Semaphore(self.copy_concurrency)
        source = {"Bucket": self._config.bucket, "Key": self._key(src)}

        async def one(index: int, start: int) -> Part:
            end = min(start + part_size, size) - 1
            params = self._part_params(segment, index) | copy_source_sse_params(self._config)
            params |= {"CopySource": source, "CopySourceRange": f"bytes={start}-{end}"}
            async with gate:
                client = await self._client()
                with boundary("copy", src):
                    response = await client.upload_part_copy(**params)
            return Part(index=index, size=end - start + 1, etag=response["CopyPartResult"]["ETag"])

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(one(i, start)) for i, start in enumerate(range(0, size, part_size))
                ]
        except BaseExceptionGroup as failures:
            raise failures.exceptions[0] from None
        return [task.result() for task in tasks]

"""Segments as uncommitted blocks of the target blob.

An upload is a 16-character id; its blocks are named ``<id>-<index:06d>`` plus two
one-byte bookkeeping blocks that are never committed: ``<id>-marker`` (staged by
`init_segment`, so the upload exists before its first part) and ``<id>-abortd``
(a tombstone staged by `abort_segment`). Azure has no call that discards chosen
uncommitted blocks: they vanish when the blob is next written (Put Blob or Put
Block List) or after 7 days. So abort does what the service allows:

* it first stages the tombstone, which hides the upload from `list_segments` and
  makes `complete_segment` refuse it, whatever happens to the blocks next;
* then, when the blob has no committed version and no other live upload, it
  writes an empty blob with ``If-None-Match: *`` and deletes it with
  ``If-Match``: both together discard every uncommitted block, tombstone
  included, leaving nothing behind. Azurite refuses that Put Blob; there Delete
  Blob hides the uncommitted blocks but keeps them, and the next Put Block on the
  path brings them back, tombstone included, so the aborted upload stays dead
  (gap AZ1: without the tombstone it came back as a live upload);
* otherwise the blocks go with the next write of the blob.

`list_segments` reads the block lists of the blobs that a listing with
``include=["uncommittedblobs"]`` shows with size 0: uploads to new paths. When
such a blob holds no live upload, the aborted ones whose blocks are still there
(an abort that failed after its tombstone) are listed, so aborting them again
cleans up. An
upload replacing an existing non-empty blob is not listed (checking every blob's
block list would cost one request per object).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.storage.blob import BlobBlock, BlobProperties
from azure.storage.blob.aio import BlobClient

from aiostore import InvalidArgumentError, NotFoundError, Object, Part, Pieces, Segment, WriteOptions
from aiostore._pieces import size_of

from ._connection import Scope
from ._errors import ADAPTER, boundary, is_status
from ._writing import block_id, commit_blocks, new_upload_id, parse_block_id, stage_block, upload_kwargs

__all__ = ["SegmentBook"]

MARKER = "marker"
TOMBSTONE = "abortd"


class _Upload:
    """What one blob's uncommitted block list says about the uploads on it."""

    def __init__(self, blocks: Sequence[BlobBlock]) -> None:
        self.parts: dict[str, dict[int, int]] = {}
        self.markers: set[str] = set()
        self.tombstones: set[str] = set()
        for block in blocks:
            parsed = parse_block_id(str(block.id))
            if parsed is None:
                continue
            upload_id, suffix = parsed
            if suffix == MARKER:
                self.markers.add(upload_id)
            elif suffix == TOMBSTONE:
                self.tombstones.add(upload_id)
            elif suffix.isdigit():
                self.parts.setdefault(upload_id, {})[int(suffix)] = int(block.size or 0)

    def live(self) -> set[str]:
        return self.markers - self.tombstones

    def listed(self) -> set[str]:
        """The live uploads; with none, the aborted ones whose blocks an abort left (abort again)."""
        return self.live() or (self.markers | set(self.parts)) & self.tombstones

    def known(self, upload_id: str) -> bool:
        return upload_id in self.markers or upload_id in self.parts


def _created(upload_id: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(upload_id[:8], 16), UTC)
    except ValueError:
        return None


async def _committed(blob: BlobClient) -> bool:
    try:
        await blob.get_blob_properties()
    except Exception as exc:
        if is_status(exc, 404):
            return False
        raise
    return True


async def _delete_quietly(blob: BlobClient, etag: str | None = None) -> None:
    condition: dict[str, Any] = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
    try:
        await blob.delete_blob(**(condition if etag else {}))
    except Exception as exc:
        if not (is_status(exc, 404) or is_status(exc, 412)):
            raise


class SegmentBook:
    """The segment primitives of one store; remembers each upload's write options."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self._options: dict[str, WriteOptions] = {}

    async def _uploads(self, blob: BlobClient) -> _Upload:
        try:
            _, uncommitted = await blob.get_block_list("uncommitted")
        except Exception as exc:
            if is_status(exc, 404):
                return _Upload([])
            raise
        return _Upload(uncommitted)

    async def init(self, path: str, options: WriteOptions) -> Segment:
        upload_id = new_upload_id()
        with boundary("init_segment", path):
            upload_kwargs(options)  # refuse unknown options before any I/O
            await stage_block(self._scope, path, block_id(upload_id, MARKER), b"\0", validate=False)
        self._options[upload_id] = options
        return Segment(path=path, id=upload_id, created_at=_created(upload_id))

    async def write(self, segment: Segment, index: int, data: bytes | memoryview | Pieces) -> Part:
        validate = self._scope.config.validate_content
        with boundary("write_segment", segment.path):
            await stage_block(self._scope, segment.path, block_id(segment.id, index), data, validate=validate)
        return Part(index=index, size=size_of(data))

    async def complete(
        self,
        segment: Segment,
        parts: Sequence[Part] | None,
        options: WriteOptions,
        *,
        content_md5: bytes | None = None,
    ) -> Object:
        """Commit the upload's blocks in index order; ``content_md5`` (the MD5 of the
        joined parts) becomes the blob's stored MD5. Azure does not check it against
        the blocks: the caller hashed exactly the bytes it staged."""
        blob = self._scope.blob(segment.path)
        with boundary("complete_segment", segment.path):
            state = await self._uploads(blob)
            sizes = self._committable(segment, state, parts)
            merged = self._merged(segment.id, options)
            ids = [block_id(segment.id, index) for index in sizes]
            result = await commit_blocks(blob, ids, merged, upload_kwargs(merged, content_md5))
        self._options.pop(segment.id, None)
        md5 = content_md5.hex() if content_md5 is not None else None
        return self._scope.written(segment.path, sum(sizes.values()), result, merged, md5)

    def _committable(self, segment: Segment, state: _Upload, parts: Sequence[Part] | None) -> dict[int, int]:
        if segment.id not in state.live():
            raise NotFoundError(
                f"no upload {segment.id!r} in progress (completed, aborted, or discarded by another write)",
                path=segment.path, adapter=ADAPTER,
            )  # fmt: skip
        staged = state.parts.get(segment.id, {})
        indexes = sorted(staged) if parts is None else [part.index for part in parts]
        missing = [index for index in indexes if index not in staged]
        if missing:
            raise InvalidArgumentError(f"parts {missing[:10]} were never uploaded", path=segment.path)
        return {index: staged[index] for index in indexes}

    def _merged(self, upload_id: str, options: WriteOptions) -> WriteOptions:
        started = self._options.get(upload_id)
        if started is None:
            return options
        return WriteOptions(
            content_type=options.content_type or started.content_type,
            metadata=options.metadata or started.metadata,
            if_not_exists=options.if_not_exists or started.if_not_exists,
            extra={**started.extra, **options.extra},
        )

    async def abort(self, segment: Segment) -> None:
        blob = self._scope.blob(segment.path)
        with boundary("abort_segment", segment.path):
            state = await self._uploads(blob)
            if state.known(segment.id):  # a retried abort finds its tombstone and discards again
                if segment.id not in state.tombstones:
                    tombstone = block_id(segment.id, TOMBSTONE)
                    await stage_block(self._scope, segment.path, tombstone, b"\0", validate=False)
                if not state.live() - {segment.id}:
                    await self._discard(blob)
        self._options.pop(segment.id, None)

    async def _discard(self, blob: BlobClient) -> None:
        """Drop the uncommitted blocks of a blob that has no committed version."""
        if await _committed(blob):
            return
        try:
            result: dict[str, Any] = await blob.upload_blob(b"", overwrite=False)
        except Exception as exc:
            if not is_status(exc, 409):
                raise
            # Azurite counts uncommitted blocks as a blob (If-None-Match: * fails) and lets
            # Delete Blob hide them; on Azure a 409 here means someone committed meanwhile.
            if not await _committed(blob):
                await _delete_quietly(blob)
            return
        await _delete_quietly(blob, etag=result["etag"])

    async def list(self, directory: str) -> AsyncIterator[Segment]:
        container = self._scope.container_client()
        prefix = self._scope.key(directory)
        blobs = container.list_blobs(name_starts_with=prefix, include=["uncommittedblobs"])
        while True:
            with boundary("list_segments", directory):
                try:
                    props: BlobProperties = await anext(blobs)
                except StopAsyncIteration:
                    return
                uploads = await self._uploads_of(props)
            for upload_id in sorted(uploads):
                yield Segment(path=self._scope.path(props.name), id=upload_id, created_at=_created(upload_id))

    async def _uploads_of(self, props: BlobProperties) -> set[str]:
        if props.size or props.name.endswith("/"):
            return set()
        return (await self._uploads(self._scope.container_client().get_blob_client(props.name))).listed()

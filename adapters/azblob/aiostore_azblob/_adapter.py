"""`AzblobAdapter`: one Azure Blob container seen through a work dir.

Example:
    >>> async with aiostore.connect("azblob://photos/2024", connection_string=conn) as store:
    ...     await store.write("cat.jpg", data, content_type="image/jpeg")
    ...     url = await store.reach("cat.jpg", expires=600)   # a SAS URL
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from azure.storage.blob import BlobSasPermissions, generate_blob_sas

from aiostore import (
    Adapter,
    Capabilities,
    InvalidArgumentError,
    Limits,
    Object,
    Page,
    Part,
    Pieces,
    ReadStream,
    Segment,
    Statistics,
    WriteOptions,
)

from . import _copying, _listing, _reading, _writing
from ._config import AzblobConfig
from ._connection import Connection, Scope
from ._errors import ADAPTER, boundary, is_status
from ._segments import SegmentBook

__all__ = ["AzblobAdapter"]

MiB = 1024 * 1024
# At most 256 sub-requests go in one blob batch.
BATCH_SIZE = 256
DELETE_CONCURRENCY = 16
_CAPABILITIES = Capabilities(
    segments=True, list_segments=True, if_not_exists=True, if_match_read=True, statistical=True, service=True
)


class AzblobAdapter(Adapter):
    """Every primitive over azure-storage-blob's aio client, the hot ones on the fast path.

    Build it with ``aiostore.connect("azblob://container/dir", ...)``; a service
    hands out instances that share its connection.
    """

    name: ClassVar[str] = ADAPTER
    writes_pieces: ClassVar[bool] = True
    limits = Limits(
        min_segment_size=1,
        max_segment_size=4000 * MiB,
        max_segments=50_000,
        max_single_write=4000 * MiB,
        max_page_size=5000,
        max_path_bytes=1024,
    )

    def __init__(self, config: AzblobConfig, connection: Connection | None = None) -> None:
        self._owner = connection is None
        self._connection = connection or Connection(config)
        self._config = config
        self._scope = Scope(self._connection, config.name, config.work_dir)
        self._segments = SegmentBook(self._scope)
        self._batch_refused = False
        self.capabilities = dataclasses.replace(_CAPABILITIES, reach=config.signing_key is not None)
        self.stores_content_md5 = config.store_md5

    @classmethod
    def from_options(cls, **options: Any) -> AzblobAdapter:
        """The ``open_store`` of the registry: options as documented in the README."""
        config = AzblobConfig.from_options(options)
        if not config.name:
            raise InvalidArgumentError(
                "give the container: azblob://<container>/<dir> or name=...", op="connect", adapter=ADAPTER
            )
        return cls(config)

    def __repr__(self) -> str:
        config = self._config
        return f"<AzblobAdapter {config.account_name}/{config.name} work_dir={config.work_dir!r}>"

    @property
    def storager_name(self) -> str:
        return self._config.name

    @property
    def work_dir(self) -> str:
        return self._config.work_dir

    async def open(self) -> None:
        await self._connection.open(self.timeouts.connect, self.timeouts)
        # parallel ranges on the fast path, which streams them; the SDK reads each whole
        self.parallel_reads = self._scope.fast is not None

    async def aclose(self) -> None:
        if self._owner:
            await self._connection.aclose()

    # -- objects ----------------------------------------------------------------
    async def stat(self, path: str) -> Object:
        with boundary("stat", path):
            return await _reading.stat(self._scope, path)

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> ReadStream:
        return await _reading.open_read(self._scope, path, offset, size, if_match)

    async def open_covered_read(
        self, path: str, *, offset: int, size: int | None, if_match: str
    ) -> ReadStream:
        """A range the caller checks against the blob's stored MD5: no transactional
        MD5 per GET, so no 4 MiB cap (a parallel read's 8 MiB ranges are one GET each)."""
        return await _reading.open_read(self._scope, path, offset, size, if_match, covered=True)

    async def write_once(self, path: str, data: bytes | memoryview, options: WriteOptions) -> Object:
        return await _writing.write_once(self._scope, path, data, options)

    async def delete(self, path: str) -> None:
        fast = self._scope.fast
        with boundary("delete", path):
            try:
                if fast is not None:
                    await fast.delete(self._scope.key(path))
                else:
                    await self._scope.blob(path).delete_blob(delete_snapshots="include")
            except Exception as exc:
                if not is_status(exc, 404):
                    raise

    async def delete_many(self, paths: Sequence[str]) -> None:
        """Blob batches of 256 where the service takes them, else single deletes, 16 at a time."""
        for start in range(0, len(paths), BATCH_SIZE):
            chunk = list(paths[start : start + BATCH_SIZE])
            if len(chunk) > 1 and not self._batch_refused:
                chunk = await self._delete_batch(chunk)
            await _bounded([functools.partial(self.delete, path) for path in chunk], DELETE_CONCURRENCY)

    async def _delete_batch(self, paths: list[str]) -> list[str]:
        """Send one batch; return the paths still to delete one by one."""
        with boundary("delete", None):
            container = self._scope.container_client()
            try:
                replies = await container.delete_blobs(
                    *(self._scope.key(path) for path in paths), raise_on_any_failure=False
                )
                statuses = [reply.status_code async for reply in replies]
            except Exception as exc:
                if not any(is_status(exc, code) for code in (400, 403, 404, 405, 501)):
                    raise
                statuses = []
        if len(statuses) != len(paths):  # Azurite answers one 400 InvalidInput for the batch
            self._batch_refused = True
            return paths
        return [path for path, status in zip(paths, statuses, strict=True) if status not in (202, 404)]

    async def copy(self, src: str, dst: str) -> None:
        await _copying.copy(self._scope, src, dst)

    async def reach(self, path: str, *, expires: float, method: str) -> str:
        signing = self._config.signing_key
        if signing is None:
            raise self._unsupported("reach (SAS URLs need account_name and account_key)")
        account, key = signing
        permission = (
            BlobSasPermissions(read=True)
            if method in ("GET", "HEAD")
            else BlobSasPermissions(create=True, write=True)
        )
        with boundary("reach", path):
            blob = self._scope.blob(path)
            token = generate_blob_sas(
                account_name=account,
                container_name=self._config.name,
                blob_name=self._scope.key(path),
                account_key=key,
                permission=permission,
                expiry=datetime.now(UTC) + timedelta(seconds=expires),
            )
        return f"{blob.url.split('?', 1)[0]}?{token}"

    async def statistical(self) -> Statistics | None:
        return await _listing.statistical(self._scope)

    async def list_page(self, directory: str, *, recursive: bool, page_size: int, token: str | None) -> Page:
        return await _listing.list_page(
            self._scope, directory, recursive=recursive, page_size=page_size, token=token
        )

    # -- segments -----------------------------------------------------------------
    async def init_segment(self, path: str, options: WriteOptions) -> Segment:
        return await self._segments.init(path, options)

    async def write_segment(self, segment: Segment, index: int, data: bytes | memoryview) -> Part:
        return await self._segments.write(segment, index, data)

    async def write_segment_pieces(self, segment: Segment, index: int, pieces: Pieces) -> Part:
        """The part's buffers go out one after another, never joined (`Pieces`)."""
        return await self._segments.write(segment, index, pieces)

    async def complete_segment(
        self, segment: Segment, parts: Sequence[Part] | None, options: WriteOptions
    ) -> Object:
        return await self._segments.complete(segment, parts, options)

    async def complete_segment_with_md5(
        self, segment: Segment, parts: Sequence[Part], options: WriteOptions, content_md5: bytes
    ) -> Object:
        return await self._segments.complete(segment, parts, options, content_md5=content_md5)

    async def abort_segment(self, segment: Segment) -> None:
        await self._segments.abort(segment)

    def list_segments(self, directory: str) -> AsyncIterator[Segment]:
        return self._segments.list(directory)


async def _bounded(calls: Sequence[Callable[[], Awaitable[None]]], limit: int) -> None:
    """Run ``calls`` at most ``limit`` at a time; re-raise the first failure."""
    if not calls:
        return
    gate = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await call()

    try:
        async with asyncio.TaskGroup() as group:
            for call in calls:
                group.create_task(run(call))
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None

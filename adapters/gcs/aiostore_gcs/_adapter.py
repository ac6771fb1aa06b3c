"""`GCSAdapter`: one bucket plus a work dir, on a shared `GCSClient`.

Example:
    >>> store = aiostore.connect("gs://my-bucket/reports", service_file="key.json")
    >>> async with store:
    ...     await store.write("2024.csv", data, content_type="text/csv")
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence

from aiostore._adapter import Adapter, ReadStream, WriteStream
from aiostore._errors import AlreadyExistsError, ConditionNotMetError, StorageError, StoragerNotFoundError
from aiostore._types import (
    Capabilities,
    Limits,
    Object,
    Page,
    Part,
    Segment,
    Statistics,
    WriteOptions,
)

from ._batch import BATCH_LIMIT, batch_delete
from ._client import GCSClient, iter_objects
from ._config import StoreOptions, round_chunk
from ._errors import gcs_errors
from ._fast import delete_object, get_resource
from ._listing import list_page
from ._objects import Keys, from_resource, write_fields
from ._reader import fetch_bytes, open_download
from ._segments import SegmentUploads
from ._signing import Signer
from ._writer import ResumableWriteStream

__all__ = ["CAPABILITIES", "LIMITS", "GCSAdapter"]

CAPABILITIES = Capabilities(
    reach=True,
    segments=True,
    list_segments=True,
    if_not_exists=True,
    if_match_read=True,
    service=True,
)
LIMITS = Limits(
    min_segment_size=1,  # compose joins objects of any size
    max_segment_size=5 * 1024**3,
    max_segments=10_000,  # more than 32 parts are composed in a tree
    max_single_write=32 * 1024**2,  # larger writes stream through a resumable session
    max_page_size=1000,
    max_path_bytes=1024,
)
_DEFAULT_TYPE = "application/octet-stream"
_PINNED_DELETE_ATTEMPTS = 3


def _exists_errors(options: WriteOptions) -> dict[int, type[StorageError]] | None:
    return {412: AlreadyExistsError} if options.if_not_exists else None


class GCSAdapter(Adapter):
    """A storager on one bucket; the work dir is joined onto every key."""

    name = "gcs"
    capabilities = CAPABILITIES
    limits = LIMITS

    def __init__(self, options: StoreOptions, client: GCSClient, *, owns_client: bool) -> None:
        self._options, self._client, self._owns_client = options, client, owns_client
        self._bucket = options.name
        self._keys = Keys(options.work_dir)
        self._routes = client.routes(options.name)
        self._signer: Signer | None = None
        self._segments = SegmentUploads(
            client, options.name, self._keys, write_small=self.write_once, delete_keys=self._delete_keys
        )

    def __repr__(self) -> str:
        return f"GCSAdapter(bucket={self._bucket!r}, work_dir={self.work_dir!r}, client={self._client!r})"

    @property
    def storager_name(self) -> str:
        return self._bucket

    @property
    def work_dir(self) -> str:
        return self._options.work_dir

    async def open(self) -> None:
        with gcs_errors("open"):
            await self._client.open(self.timeouts.connect, self.timeouts)

    async def aclose(self) -> None:
        await self._segments.aclose()
        if self._owns_client:
            await self._client.aclose()

    # -- objects ---------------------------------------------------------------
    async def stat(self, path: str) -> Object:
        with gcs_errors("stat", path):
            resource = await get_resource(self._client, self._routes.resource(self._keys.key(path)))
        return from_resource(resource, path)

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> ReadStream:
        with gcs_errors("read", path):
            return await open_download(
                self._client,
                self._bucket,
                self._keys.key(path),
                path,
                offset=offset,
                size=size,
                pin=if_match,
                stat=self.stat,
            )

    async def read_bytes(self, path: str, *, offset: int, size: int | None) -> bytes:
        with gcs_errors("read", path):
            return await fetch_bytes(
                self._client,
                self._routes.object(self._keys.key(path), "alt=media"),
                path,
                offset=offset,
                size=size,
                stat=self.stat,
            )

    async def write_once(self, path: str, data: bytes | memoryview, options: WriteOptions) -> Object:
        with gcs_errors("write", path, overrides=_exists_errors(options)):
            resource = await self._client.upload_bytes(
                self._bucket,
                self._keys.key(path),
                data,
                content_type=options.content_type or _DEFAULT_TYPE,
                fields=write_fields(options.metadata, options.extra, "write"),
                if_not_exists=options.if_not_exists,
            )
        return from_resource(resource, path)

    async def open_write(
        self, path: str, options: WriteOptions, *, size_hint: int | None, part_size: int, concurrency: int
    ) -> WriteStream | None:
        """A resumable upload session; it is sequential, so ``concurrency`` does not apply."""
        with gcs_errors("write", path):
            fields = write_fields(options.metadata, options.extra, "write")
        return ResumableWriteStream(
            self._client,
            self._bucket,
            self._keys.key(path),
            path,
            content_type=options.content_type or _DEFAULT_TYPE,
            fields=fields,
            if_not_exists=options.if_not_exists,
            chunk_size=self._options.chunk_size or round_chunk(part_size),
            small_write=lambda data: self.write_once(path, data, options),
            to_object=lambda resource: from_resource(resource, path),
        )

    async def delete(self, path: str) -> None:
        # Retried by the core like every delete: a retry after an applied DELETE is a no-op,
        # unless another writer recreated the object in between (the same holds on S3).
        with gcs_errors("delete", path):
            await delete_object(self._client, self._routes.object(self._keys.key(path)))

    async def delete_many(self, paths: Sequence[str]) -> None:
        with gcs_errors("delete"):
            await self._delete_keys([self._keys.key(path) for path in paths])

    async def _delete_keys(self, keys: Sequence[str]) -> None:
        """Delete in batches of 100; missing keys succeed, the first other failure is raised."""
        if len(keys) == 1:
            await delete_object(self._client, self._routes.object(keys[0]))
            return
        for start in range(0, len(keys), BATCH_LIMIT):
            failures = await batch_delete(self._client, self._bucket, keys[start : start + BATCH_LIMIT])
            if failures:
                key, error = failures[0]
                raise error.with_context(path=self._keys.path(key))

    async def copy(self, src: str, dst: str) -> None:
        with gcs_errors("copy", src):
            await self._rewrite(src, dst, {})

    async def _rewrite(self, src: str, dst: str, params: dict[str, str]) -> None:
        """``objects.rewrite``; gcloud-aio loops on ``rewriteToken`` until GCS reports done."""
        await self._client.storage.copy(
            self._bucket,
            self._keys.key(src),
            self._bucket,
            new_name=self._keys.key(dst),
            params=params,
            timeout=int(self._client.options.timeout),
        )

    async def move(self, src: str, dst: str) -> None:
        """Rewrite pinned to the source generation, then delete exactly that generation."""
        obj = await self.stat(src)
        if src == dst:
            return
        generation = obj.version or ""
        with gcs_errors("move", src, idempotent=False):
            await self._rewrite(src, dst, {"ifSourceGenerationMatch": generation})
        await self._delete_generation(src, generation)

    async def _delete_generation(self, path: str, generation: str) -> None:
        """Delete one generation, retrying here: the core cannot retry a half-done move,
        and the precondition keeps a repeated DELETE from removing a newer object."""
        for attempt in range(_PINNED_DELETE_ATTEMPTS):
            try:
                with gcs_errors("move", path, overrides={412: ConditionNotMetError}):
                    url = self._routes.object(self._keys.key(path), f"ifGenerationMatch={generation}")
                    await delete_object(self._client, url)
                return
            except StorageError as error:
                if not error.retryable or attempt + 1 == _PINNED_DELETE_ATTEMPTS:
                    raise
            await asyncio.sleep(0.05 * 2**attempt)

    async def reach(self, path: str, *, expires: float, method: str) -> str:
        with gcs_errors("reach", path):
            if self._signer is None:
                self._signer = Signer.from_service_data(self._client.service_data())
            return self._signer.sign(
                self._client.options.endpoint,
                self._bucket,
                self._keys.key(path),
                method=method.upper(),
                expires=math.ceil(expires),
            )

    # -- listing ---------------------------------------------------------------
    async def list_page(self, directory: str, *, recursive: bool, page_size: int, token: str | None) -> Page:
        with gcs_errors("list", directory, overrides={404: StoragerNotFoundError}):
            return await list_page(
                self._client,
                self._bucket,
                self._keys,
                directory,
                recursive=recursive,
                page_size=min(page_size, LIMITS.max_page_size),
                token=token,
            )

    async def statistical(self) -> Statistics:
        count = size = 0
        with gcs_errors("statistical", ""):
            async for page in iter_objects(
                self._client, self._bucket, self._keys.root, fields="items(name,size),nextPageToken"
            ):
                for item in page.get("items", []):
                    if not self._keys.is_hidden(item["name"]) and not item["name"].endswith("/"):
                        count, size = count + 1, size + int(item.get("size", 0))
        return Statistics(count=count, size=size)

    # -- segments --------------------------------------------------------------
    async def init_segment(self, path: str, options: WriteOptions) -> Segment:
        with gcs_errors("init_segment", path):
            write_fields(options.metadata, options.extra, "init_segment")
            return await self._segments.init(path, options)

    async def write_segment(self, segment: Segment, index: int, data: bytes | memoryview) -> Part:
        # Retry-safe: a part is a private temporary that only this upload writes.
        with gcs_errors("write_segment", segment.path):
            return await self._segments.write(segment, index, data)

    async def complete_segment(
        self, segment: Segment, parts: Sequence[Part] | None, options: WriteOptions
    ) -> Object:
        # The final compose decides retries itself: it is safe only with if_not_exists.
        with gcs_errors("complete_segment", segment.path):
            return await self._segments.complete(segment, parts, options)

    async def abort_segment(self, segment: Segment) -> None:
        with gcs_errors("abort_segment", segment.path):
            await self._segments.abort(segment)

    async def list_segments(self, directory: str) -> AsyncIterator[Segment]:
        with gcs_errors("list_segments", directory, overrides={404: StoragerNotFoundError}):
            async for segment in self._segments.in_progress(directory):
                yield segment

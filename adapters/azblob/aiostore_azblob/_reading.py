"""Streaming reads as a series of ranged GETs pinned to the first response's ETag.

Each chunk is one ranged ``download_blob`` of at most ``chunk_size`` (4 MiB) bytes,
so the service can return a transactional Content-MD5 that the SDK checks
(``validate_content``). A read of the whole blob is also checked against the
blob's stored MD5 when it has one: a mismatch raises `IntegrityError` instead of
returning the last chunk. Chunks after the first carry ``If-Match`` with the
first ETag, so a blob replaced mid-read gives `ConditionNotMetError`, never a mix.
"""

from __future__ import annotations

import hashlib
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobProperties
from azure.storage.blob.aio import BlobClient

from aiostore import (
    ConditionNotMetError,
    IntegrityError,
    InvalidOffsetError,
    Object,
    ReadStream,
    ServiceUnavailableError,
)

from ._connection import Scope
from ._errors import ADAPTER, boundary

__all__ = ["BlobReadStream", "open_read"]


def _pin(etag: str | None) -> dict[str, Any]:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}


def _total_size(props: BlobProperties) -> int:
    """The whole blob's size from ``Content-Range: bytes a-b/<total>``."""
    content_range = str(props.content_range or "")
    _, slash, total = content_range.rpartition("/")
    return int(total) if slash and total.isdigit() else int(props.size)


class BlobReadStream(ReadStream):
    """Chunks of ``[start, end)`` of one blob version."""

    def __init__(
        self, scope: Scope, path: str, obj: Object, *, start: int, end: int, expected_md5: str | None
    ) -> None:
        self.object = obj
        self._scope = scope
        self._path = path
        self._blob: BlobClient | None = scope.blob(path)
        self._pos = start
        self._end = end
        self._pending: bytes | None = None
        self._expected = expected_md5
        whole = start == 0 and end == obj.size
        self._hasher = hashlib.md5(usedforsecurity=False) if expected_md5 and whole else None

    def _take(self, chunk: bytes) -> bytes:
        """Account for a fetched chunk; verify the stored MD5 when the blob is complete."""
        if not chunk and self._pos < self._end:
            raise ServiceUnavailableError(
                f"the service returned no data at offset {self._pos} of {self._end}",
                op="read", path=self._path, adapter=ADAPTER,
            )  # fmt: skip
        self._pos += len(chunk)
        if self._hasher is not None:
            self._hasher.update(chunk)
            if self._pos >= self._end and self._hasher.hexdigest() != self._expected:
                raise IntegrityError(
                    f"the data read does not match the blob's stored MD5 {self._expected}",
                    op="read", path=self._path, adapter=ADAPTER,
                )  # fmt: skip
        return chunk

    def prime(self, first: bytes) -> None:
        """Keep the chunk `open_read` already fetched for the first `next_chunk`."""
        self._pending = self._take(first)

    async def next_chunk(self) -> bytes:
        if self._pending is not None:
            chunk, self._pending = self._pending, None
            return chunk
        if self._blob is None or self._pos >= self._end:
            return b""
        length = min(self._scope.config.chunk_size, self._end - self._pos)
        with boundary("read", self._path):
            downloader = await self._blob.download_blob(
                offset=self._pos, length=length, validate_content=self._scope.config.validate_content,
                **_pin(self.object.etag),
            )  # fmt: skip
            chunk = await downloader.readall()
        return self._take(chunk)

    async def aclose(self) -> None:
        self._blob = None
        self._pending = None


async def _empty(
    scope: Scope, path: str, offset: int, if_match: str | None, *, inside: bool
) -> BlobReadStream | None:
    """A stream of nothing at ``offset`` (at the end, or anywhere when ``inside``), else None."""
    props = await scope.blob(path).get_blob_properties(**_pin(if_match))
    obj = scope.object(scope.key(path), props)
    size = obj.size or 0
    if offset > size:
        raise InvalidOffsetError(
            f"offset {offset} is past the end ({size} bytes)", op="read", path=path, adapter=ADAPTER
        )
    if offset < size and not inside:
        return None
    return BlobReadStream(scope, path, obj, start=offset, end=offset, expected_md5=None)


async def open_read(
    scope: Scope, path: str, offset: int, size: int | None, if_match: str | None
) -> ReadStream:
    """Fetch the first chunk (so a missing blob or a bad offset fails here) and wrap it.

    Azure answers 416 for a range starting at the blob's size; the properties then
    tell an empty read at the end from an offset past it.
    """
    validate = scope.config.validate_content
    length = scope.config.chunk_size if size is None else min(size, scope.config.chunk_size)
    with boundary("read", path):
        if size == 0:
            empty = await _empty(scope, path, offset, if_match, inside=True)
            assert empty is not None
            return empty
        for _ in range(2):  # a second try only if the blob grew between the 416 and the stat
            try:
                downloader = await scope.blob(path).download_blob(
                    offset=offset, length=length, validate_content=validate, **_pin(if_match)
                )
                first = await downloader.readall()
            except HttpResponseError as exc:
                if exc.status_code != 416:
                    raise
                stream = await _empty(scope, path, offset, if_match, inside=False)
                if stream is not None:
                    return stream
                continue
            return _stream(scope, path, downloader.properties, offset, size, first)
    raise ConditionNotMetError(
        "the blob changed while the read was opening", op="read", path=path, adapter=ADAPTER, retryable=True
    )


def _stream(
    scope: Scope, path: str, props: BlobProperties, offset: int, size: int | None, first: bytes
) -> BlobReadStream:
    total = _total_size(props)
    obj = scope.object(scope.key(path), props, size=total)
    end = total if size is None else min(total, offset + size)
    stream = BlobReadStream(scope, path, obj, start=offset, end=end, expected_md5=obj.content_md5)
    stream.prime(first)
    return stream

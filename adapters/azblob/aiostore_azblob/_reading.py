"""Streaming reads as a series of ranged GETs pinned to the first response's ETag.

Each chunk is one ranged ``download_blob`` of at most ``chunk_size`` (4 MiB) bytes,
so the service can return a transactional Content-MD5 that the SDK checks
(``validate_content``). A read of the whole blob is also checked against the
blob's stored MD5 when it has one: a mismatch raises `IntegrityError` instead of
returning the last chunk. Chunks after the first carry ``If-Match`` with the
first ETag, so a blob replaced mid-read gives `ConditionNotMetError`, never a mix.
On the fast path (`Scope.fast`) each chunk is one signed Get Blob with the same
range, ``x-ms-range-get-content-md5`` and ``If-Match`` headers the SDK sends.
"""

from __future__ import annotations

import hashlib
from typing import Any

from azure.core import MatchConditions
from azure.storage.blob import BlobProperties

from aiostore import (
    ConditionNotMetError,
    IntegrityError,
    InvalidOffsetError,
    Object,
    ReadStream,
    ServiceUnavailableError,
)

from ._connection import Scope
from ._errors import ADAPTER, boundary, is_status
from ._fastplane import object_from_headers, total_size

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
        self._open = True
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
            if self._pos >= self._end:
                self._check_whole(self._hasher.hexdigest())
        return chunk

    def _check_whole(self, md5_hex: str) -> None:
        if md5_hex != self._expected:
            raise IntegrityError(
                f"the data read does not match the blob's stored MD5 {self._expected}",
                op="read", path=self._path, adapter=ADAPTER,
            )  # fmt: skip

    def prime(self, first: bytes, digest: bytes | None = None) -> None:
        """Keep the chunk `open_read` already fetched for the first `next_chunk`.

        ``digest`` is the chunk's MD5 when the fast path already computed it: a
        chunk that is the whole blob is then checked against the stored MD5
        without hashing it a second time.
        """
        if digest is not None and self._hasher is not None and len(first) == self._end - self._pos:
            self._hasher = None  # the whole blob in one chunk: its MD5 is already known
            self._check_whole(digest.hex())
        self._pending = self._take(first)

    async def next_chunk(self) -> bytes:
        if self._pending is not None:
            chunk, self._pending = self._pending, None
            return chunk
        if not self._open or self._pos >= self._end:
            return b""
        length = min(self._scope.config.chunk_size, self._end - self._pos)
        fast = self._scope.fast
        with boundary("read", self._path):
            if fast is not None:
                _, chunk, _ = await fast.get(
                    self._scope.key(self._path), self._pos, length, self.object.etag,
                    validate=self._scope.config.validate_content,
                )  # fmt: skip
                return self._take(chunk)
            downloader = await self._scope.blob(self._path).download_blob(
                offset=self._pos, length=length, validate_content=self._scope.config.validate_content,
                **_pin(self.object.etag),
            )  # fmt: skip
            chunk = await downloader.readall()
        return self._take(chunk)

    async def aclose(self) -> None:
        self._open = False
        self._pending = None


async def _empty(
    scope: Scope, path: str, offset: int, if_match: str | None, *, inside: bool
) -> BlobReadStream | None:
    """A stream of nothing at ``offset`` (at the end, or anywhere when ``inside``), else None."""
    obj = await stat(scope, path, if_match)
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
                return await _first(scope, path, offset, size, length, if_match, validate)
            except Exception as exc:
                if not is_status(exc, 416):
                    raise
                stream = await _empty(scope, path, offset, if_match, inside=False)
                if stream is not None:
                    return stream
    raise ConditionNotMetError(
        "the blob changed while the read was opening", op="read", path=path, adapter=ADAPTER, retryable=True
    )


async def stat(scope: Scope, path: str, if_match: str | None = None) -> Object:
    """Get Blob Properties of ``path`` as an `Object` (fast path or SDK)."""
    key = scope.key(path)
    fast = scope.fast
    if fast is not None:
        return object_from_headers(path, key, await fast.head(key, if_match))
    return scope.object(key, await scope.blob(path).get_blob_properties(**_pin(if_match)))


async def _first(
    scope: Scope, path: str, offset: int, size: int | None, length: int, if_match: str | None, validate: bool
) -> BlobReadStream:
    """The stream with its first chunk fetched (Get Blob raises 416 at or past the end)."""
    fast = scope.fast
    if fast is not None:
        key = scope.key(path)
        headers, first, digest = await fast.get(key, offset, length, if_match, validate=validate)
        obj = object_from_headers(path, key, headers)
        return _stream(scope, path, obj, total_size(headers), offset, size, first, digest)
    downloader = await scope.blob(path).download_blob(
        offset=offset, length=length, validate_content=validate, **_pin(if_match)
    )
    first = await downloader.readall()
    total = _total_size(downloader.properties)
    obj = scope.object(scope.key(path), downloader.properties, size=total)
    return _stream(scope, path, obj, total, offset, size, first)


def _stream(
    scope: Scope,
    path: str,
    obj: Object,
    total: int,
    offset: int,
    size: int | None,
    first: bytes,
    digest: bytes | None = None,
) -> BlobReadStream:
    end = total if size is None else min(total, offset + size)
    stream = BlobReadStream(scope, path, obj, start=offset, end=end, expected_md5=obj.content_md5)
    stream.prime(first, digest)
    return stream

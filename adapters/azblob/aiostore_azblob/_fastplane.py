"""`FastPlane`: the hot calls on the blobs of one container, over `FastTransport`.

Each call sends the headers azure-storage-blob sends for the same operation
(names from the Blob service REST API) and reads the answer's headers straight
into aiostore values, with the same rules as the SDK's models: a ranged Get
Blob reports the blob's stored MD5 from ``x-ms-blob-content-md5``, metadata
keys keep the case the service returns, ``x-ms-access-tier`` is the storage
class. Transactional MD5s are checked like the SDK checks them with
``validate_content``: a Get Blob body against the answer's ``Content-MD5``, an
upload's answer against the MD5 that was sent. A caller that already holds the
MD5 of a body passes it in (``md5=``), so no byte is hashed twice.

Example:
    >>> plane = FastPlane(transport, "photos")
    >>> headers = await plane.head("2024/cat.jpg", None)
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from aiostore import IntegrityError, Object, ObjectType, Pieces
from aiostore._http import http_date, read_body, read_whole
from aiostore._pieces import buffers_of, hash_off_loop
from aiostore._types import EMPTY_METADATA

from ._fast import FastTransport
from ._sharedkey import encode_path

if TYPE_CHECKING:
    from _hashlib import HASH

__all__ = ["FastPlane", "object_from_headers"]

OCTET_STREAM = "application/octet-stream"
_META = "x-ms-meta-"


def _range_headers(offset: int, length: int, if_match: str | None) -> dict[str, str]:
    headers = {"x-ms-range": f"bytes={offset}-{offset + length - 1}"}
    if if_match:
        headers["if-match"] = if_match
    return headers


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _transactional(data: bytes | memoryview | Pieces, validate: bool, md5: bytes | None = None) -> str | None:
    """The Content-MD5 to send with ``data`` (``md5`` when the caller has it), or None."""
    if not validate:
        return None
    return _b64(md5 if md5 is not None else _md5(data))


async def _transactional_off_loop(
    data: bytes | memoryview | Pieces, validate: bool, md5: bytes | None
) -> str | None:
    """`_transactional`, hashing a large body in a worker thread: MD5 releases the GIL,
    so an 8 MiB block no longer holds the event loop for the 10-15 ms it takes."""
    if not validate or md5 is not None:
        return _transactional(data, validate, md5)
    return _b64(await hash_off_loop(_md5, data))


def _md5(data: bytes | memoryview | Pieces) -> bytes:
    """The MD5 of ``data``; `Pieces` are hashed one buffer after another."""
    digest = hashlib.md5(usedforsecurity=False)
    for buffer in buffers_of(data):
        digest.update(buffer)
    return digest.digest()


def _md5_hex(value: str | None) -> str | None:
    return base64.b64decode(value).hex() if value else None


def total_size(headers: Mapping[str, str]) -> int:
    """The whole blob's size: ``Content-Range: bytes a-b/<total>``, else ``Content-Length``."""
    content_range = headers.get("Content-Range")
    if content_range:
        _, slash, total = content_range.rpartition("/")
        if slash and total.isdigit():
            return int(total)
    return int(headers.get("Content-Length") or 0)


def object_from_headers(path: str, key: str, headers: Mapping[str, str]) -> Object:
    """The `Object` a Get Blob or Get Blob Properties answer describes."""
    ranged = "Content-Range" in headers
    md5 = headers.get("x-ms-blob-content-md5") if ranged else headers.get("Content-MD5")
    metadata = {  # [9:10] first: most names fail it without a lower-case copy
        name[10:]: value
        for name, value in headers.items()
        if name[9:10] == "-" and name[:10].lower() == _META
    }
    return Object(
        path=path,
        type=ObjectType.DIR if key.endswith("/") else ObjectType.FILE,
        size=total_size(headers),
        updated_at=http_date(headers.get("Last-Modified")),
        content_md5=_md5_hex(md5),
        content_type=headers.get("Content-Type"),
        etag=headers.get("ETag"),
        storage_class=headers.get("x-ms-access-tier"),
        version=headers.get("x-ms-version-id"),
        metadata=metadata or EMPTY_METADATA,
    )


def _mismatch(expected: str, got: str) -> IntegrityError:
    """What the SDK's ``validate_content`` raises (as mapped): the boundary adds op and path."""
    return IntegrityError(f"MD5 mismatch: the service answered {expected!r}, the data has {got!r}")


class FastPlane:
    """Put Blob, Put Block, Get Blob, Get Blob Properties and Delete Blob in one container."""

    def __init__(self, transport: FastTransport, container: str) -> None:
        self._transport = transport
        self._prefix = "/" + encode_path(container) + "/"

    def __repr__(self) -> str:
        return f"<FastPlane {self._transport.origin}{self._transport.base}{self._prefix}>"

    def _path(self, key: str) -> str:
        return self._prefix + encode_path(key)

    async def put_blob(
        self, key: str, data: bytes | memoryview, headers: dict[str, str], *, validate: bool
    ) -> dict[str, Any]:
        """Put Blob of a block blob; ``headers`` carry content settings, metadata, conditions.

        The transactional Content-MD5 reuses ``x-ms-blob-content-md5`` (the MD5 of ``data``).
        """
        headers["x-ms-blob-type"] = "BlockBlob"
        stored = headers.get("x-ms-blob-content-md5")
        sent = stored if validate and stored else _transactional(data, validate)
        return await self._upload(key, [], data, headers, sent)

    async def put_block(
        self,
        key: str,
        block_id: str,
        data: bytes | memoryview | Pieces,
        *,
        validate: bool,
        md5: bytes | None = None,
    ) -> None:
        """Put Block: stage ``data`` as block ``block_id`` (plain text, base64-encoded here).

        With ``validate``, ``md5`` (the digest of ``data``, when the caller has it)
        spares hashing ``data`` again for the transactional Content-MD5.
        """
        encoded = base64.b64encode(block_id.encode("utf-8")).decode("ascii")
        sent = await _transactional_off_loop(data, validate, md5)
        await self._upload(key, [("comp", "block"), ("blockid", encoded)], data, {}, sent)

    async def _upload(
        self,
        key: str,
        query: list[tuple[str, str]],
        data: bytes | memoryview | Pieces,
        headers: dict[str, str],
        sent: str | None,
    ) -> dict[str, Any]:
        """Send ``data`` with ``sent`` (base64 MD5) as its transactional Content-MD5, if any."""
        headers["content-type"] = OCTET_STREAM
        if sent:
            headers["content-md5"] = sent
        response = await self._transport.send("PUT", self._path(key), query, headers, data)
        await read_body(response)
        answer = response.headers
        echoed = answer.get("Content-MD5")
        if sent and echoed and echoed != sent:
            raise _mismatch(echoed, sent)
        return {
            "etag": answer.get("ETag"),
            "last_modified": http_date(answer.get("Last-Modified")),
            "version_id": answer.get("x-ms-version-id"),
        }

    async def get(
        self, key: str, offset: int, length: int, if_match: str | None, *, validate: bool
    ) -> tuple[Mapping[str, str], bytes, HASH | None]:
        """Get Blob of ``[offset, offset + length)``: the answer's headers, the body, and
        the body's MD5 (a hash object, to continue) when it was checked against the
        answer's ``Content-MD5``.

        With ``validate`` the range must be at most 4 MiB (the service refuses
        ``x-ms-range-get-content-md5`` on longer ones).
        """
        headers = _range_headers(offset, length, if_match)
        if validate:
            headers["x-ms-range-get-content-md5"] = "true"
        response = await self._transport.send("GET", self._path(key), [], headers)
        body = await read_whole(response)
        answer = response.headers
        expected = answer.get("Content-MD5") if validate else None
        if not expected:
            return answer, body, None
        md5 = hashlib.md5(body, usedforsecurity=False)
        got = _b64(md5.digest())
        if got != expected:
            raise _mismatch(expected, got)
        return answer, body, md5

    async def open_get(
        self, key: str, offset: int, length: int, if_match: str | None
    ) -> aiohttp.ClientResponse:
        """Get Blob of ``[offset, offset + length)`` without a transactional MD5, its body
        left unread: the caller reads it piece by piece, then releases the response."""
        headers = _range_headers(offset, length, if_match)
        return await self._transport.send("GET", self._path(key), [], headers)

    async def head(self, key: str, if_match: str | None) -> Mapping[str, str]:
        """Get Blob Properties: the answer's headers."""
        headers = {"if-match": if_match} if if_match else {}
        response = await self._transport.send("HEAD", self._path(key), [], headers)
        response.release()
        return response.headers

    async def delete(self, key: str, if_match: str | None = None) -> None:
        """Delete Blob with its snapshots (a missing blob raises 404 like the SDK)."""
        headers = {"x-ms-delete-snapshots": "include"}
        if if_match:
            headers["if-match"] = if_match
        response = await self._transport.send("DELETE", self._path(key), [], headers)
        await read_body(response)

    async def list_blobs(self, query: list[tuple[str, str]]) -> bytes:
        """The body of one List Blobs answer on this container (``query``: raw values,
        ``restype`` and ``comp`` included); an error answer raises like the other calls."""
        response = await self._transport.send("GET", self._prefix.rstrip("/"), query, {})
        return await read_body(response)

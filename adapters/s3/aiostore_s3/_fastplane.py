"""`FastPlane`: the data-plane calls of one bucket over `FastTransport`.

It takes the same botocore-named parameters as `_dataplane.BotoPlane` (built
by `_params` and `_checksums`) and turns them into S3 headers with one table,
so both planes send the same request. Answers become aiostore values directly
(`Object` from response headers, `Page` from `_xml.parse_list`).

A bucket that turns out to live in another region than the signing one is
served by the botocore plane from then on (its redirector handles it).

Example:
    >>> plane = FastPlane(transport, target, config, fallback=BotoPlane(client, "bucket"))
    >>> obj = await plane.head_object("a.txt", "dir/a.txt", {})
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar
from xml.etree.ElementTree import ParseError

import aiohttp

from aiostore import Object, Page, ServiceUnavailableError, TimeoutOptions
from aiostore._http import http_date, read_body
from aiostore._types import EMPTY_METADATA

from ._config import S3Config
from ._dataplane import Body, BotoPlane, PartBody
from ._errors import ADAPTER, S3ResponseError
from ._fast import (
    BODY_BUFFER,
    CHUNK_SIZE,
    BufferPayload,
    FastTransport,
    Target,
    WrongRegionError,
    reads_covered,
    widen_reads,
)
from ._sigv4 import canonical_query, uri_encode_path
from ._xml import complete_body, delete_body, parse_answer, parse_delete_errors, parse_error, parse_list

__all__ = ["FastBody", "FastPlane", "answer_fields", "object_from_headers"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

_HEADERS: Mapping[str, str] = {
    "ContentType": "content-type",
    "CacheControl": "cache-control",
    "ContentDisposition": "content-disposition",
    "ContentEncoding": "content-encoding",
    "ContentLanguage": "content-language",
    "StorageClass": "x-amz-storage-class",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "SSECustomerAlgorithm": "x-amz-server-side-encryption-customer-algorithm",
    "IfNoneMatch": "if-none-match",
    "IfMatch": "if-match",
    "Range": "range",
    "ChecksumCRC32C": "x-amz-checksum-crc32c",
    "ChecksumCRC32": "x-amz-checksum-crc32",
    "ChecksumAlgorithm": "x-amz-checksum-algorithm",
    "ChecksumType": "x-amz-checksum-type",
    "ContentMD5": "content-md5",
}
_ANSWER_CHECKSUMS = {"ChecksumCRC32C": "x-amz-checksum-crc32c", "ChecksumCRC32": "x-amz-checksum-crc32"}
_META = "x-amz-meta-"


def request_headers(params: Mapping[str, Any]) -> dict[str, str]:
    """S3 headers for botocore-named parameters (SSE-C key encoded and hashed like botocore)."""
    headers: dict[str, str] = {}
    if not params:
        return headers
    for name, value in params.items():
        header = _HEADERS.get(name)
        if header is not None:
            headers[header] = str(value)
        elif name == "Metadata":
            for key, item in value.items():
                headers[_META + key] = item
        elif name == "SSECustomerKey":
            raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            headers["x-amz-server-side-encryption-customer-key"] = base64.b64encode(raw).decode("ascii")
            digest = hashlib.md5(raw, usedforsecurity=False).digest()
            headers["x-amz-server-side-encryption-customer-key-md5"] = base64.b64encode(digest).decode(
                "ascii"
            )
        else:
            raise TypeError(f"the S3 fast path has no header for {name!r}")
    return headers


def _whole_size(headers: Mapping[str, str]) -> int | None:
    content_range = headers.get("Content-Range")
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    length = headers.get("Content-Length")
    return int(length) if length is not None and length.isdigit() else None


def object_from_headers(path: str, headers: Mapping[str, str]) -> Object:
    """The object a HEAD or GET answer describes (the fields botocore's `from_head` reads)."""
    metadata = {
        name[11:]: value
        for name, value in headers.items()
        if len(name) > 11 and name[10] == "-" and name[:11].lower() == _META
    }
    return Object(  # `or`: objects without metadata share one empty mapping
        path=path,
        size=_whole_size(headers),
        updated_at=http_date(headers.get("Last-Modified")),
        content_type=headers.get("Content-Type"),
        etag=headers.get("ETag"),
        storage_class=headers.get("x-amz-storage-class") or "STANDARD",
        version=headers.get("x-amz-version-id"),
        metadata=metadata or EMPTY_METADATA,
    )


class FastBody:
    """A GET body read in large chunks: whole chunks up to the advertised length."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self._left = response.content_length

    async def read(self, amt: int | None = None) -> bytes:
        content = self._response.content
        if amt is None:
            return await content.read()
        if self._left is None:
            return await content.read(amt)
        wanted = min(amt, self._left)
        if wanted <= 0:
            return b""
        data = await content.readexactly(wanted)
        self._left -= wanted
        return data

    def close(self) -> None:
        self._response.release()


def _redirectable(
    method: Callable[Concatenate[FastPlane, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[FastPlane, P], Coroutine[Any, Any, T]]:
    """Serve the call with the botocore plane once the bucket proved to be elsewhere."""
    name = method.__name__

    async def call(self: FastPlane, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if not self.redirected:
            try:
                return await method(self, *args, **kwargs)
            except WrongRegionError as exc:
                self.redirected = True
                logger.info(
                    "bucket in region %s: data plane handed to botocore",
                    exc.headers.get("x-amz-bucket-region"),
                )
        fallback: Callable[P, Coroutine[Any, Any, T]] = getattr(self.fallback, name)
        return await fallback(*args, **kwargs)

    return call


class FastPlane:
    """GET, PUT, HEAD, DELETE, DeleteObjects, ListObjectsV2 and the multipart uploads
    (create, parts, complete) of one bucket, signed here."""

    def __init__(
        self,
        transport: FastTransport,
        target: Target,
        config: S3Config,
        *,
        fallback: BotoPlane,
        timeouts: TimeoutOptions | None = None,
    ) -> None:
        self._transport = transport
        self._timed = not reads_covered(config, timeouts)
        self._target = target
        self.fallback = fallback
        self.redirected = False
        self._checksum_mode = config.profile.checksum_mode and config.checksum in ("crc32c", "crc32")

    def __repr__(self) -> str:
        return f"<FastPlane {self._target!r}{' redirected' if self.redirected else ''}>"

    def _path(self, key: str) -> str:
        return self._target.prefix + uri_encode_path("/" + key)

    @_redirectable
    async def put_object(
        self, key: str, body: bytes | memoryview, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        return await self._put(self._path(key), "", body, params)

    @_redirectable
    async def upload_part(
        self, key: str, upload_id: str, number: int, body: PartBody, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        query = canonical_query({"partNumber": str(number), "uploadId": upload_id})
        return await self._put(self._path(key), query, body, params)

    async def _put(self, path: str, query: str, body: PartBody, params: Mapping[str, Any]) -> dict[str, Any]:
        payload = BufferPayload(body)
        response = await self._transport.send(
            self._target, "PUT", path, query, request_headers(params), payload, timed_reads=self._timed
        )
        await read_body(response)
        headers = response.headers
        answer = {"ETag": headers.get("ETag"), "VersionId": headers.get("x-amz-version-id")}
        for name, header in _ANSWER_CHECKSUMS.items():
            if header in headers:
                answer[name] = headers[header]
        return answer

    @_redirectable
    async def create_upload(self, key: str, params: Mapping[str, Any]) -> str:
        headers = request_headers(params)
        response = await self._transport.send(
            self._target, "POST", self._path(key), "uploads=", headers, timed_reads=self._timed
        )
        fields = answer_fields(await read_body(response), "InitiateMultipartUploadResult", response.headers)
        upload_id = fields.get("UploadId")
        if not upload_id:
            raise ServiceUnavailableError("CreateMultipartUpload answered no UploadId", adapter=ADAPTER)
        return upload_id

    @_redirectable
    async def complete_upload(
        self, key: str, upload_id: str, parts: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        body = complete_body(parts)
        response = await self._transport.send(
            self._target,
            "POST",
            self._path(key),
            canonical_query({"uploadId": upload_id}),
            request_headers(params),
            BufferPayload(body),
            timed_reads=self._timed,
            payload_hash=hashlib.sha256(body).hexdigest(),  # the manifest is small: sign it
        )
        fields = answer_fields(await read_body(response), "CompleteMultipartUploadResult", response.headers)
        return {"ETag": fields.get("ETag"), "VersionId": response.headers.get("x-amz-version-id")}

    @_redirectable
    async def get_object(
        self, path: str, key: str, params: Mapping[str, Any]
    ) -> tuple[Object, Body, Mapping[str, str]]:
        headers = request_headers(params)
        if self._checksum_mode and "range" not in headers:  # ranges come back without one
            headers["x-amz-checksum-mode"] = "ENABLED"
        response = await self._transport.send(
            self._target,
            "GET",
            self._path(key),
            "",
            headers,
            read_bufsize=BODY_BUFFER,
            timed_reads=self._timed,
        )
        length = response.content_length
        if length is None or length > CHUNK_SIZE:
            widen_reads(response)
        return object_from_headers(path, response.headers), FastBody(response), response.headers

    @_redirectable
    async def head_object(self, path: str, key: str, params: Mapping[str, Any]) -> Object:
        response = await self._transport.send(
            self._target, "HEAD", self._path(key), "", request_headers(params), timed_reads=self._timed
        )
        response.release()
        return object_from_headers(path, response.headers)

    @_redirectable
    async def delete_object(self, key: str) -> None:
        response = await self._transport.send(
            self._target, "DELETE", self._path(key), "", {}, timed_reads=self._timed
        )
        await read_body(response)

    @_redirectable
    async def delete_objects(self, keys: Sequence[str]) -> list[dict[str, str]]:
        body = delete_body(keys)
        digest = hashlib.md5(body, usedforsecurity=False).digest()  # DeleteObjects must carry one
        response = await self._transport.send(
            self._target,
            "POST",
            self._target.prefix or "/",
            "delete=",
            {"content-md5": base64.b64encode(digest).decode("ascii"), "content-type": "application/xml"},
            BufferPayload(body),
            timed_reads=self._timed,
            payload_hash=hashlib.sha256(body).hexdigest(),
        )
        return _answer(await read_body(response), "DeleteResult", response.headers, parse_delete_errors)

    @_redirectable
    async def list_objects(
        self, prefix: str, *, recursive: bool, page_size: int, token: str | None, work_dir: str
    ) -> Page:
        query = {"list-type": "2", "prefix": prefix, "max-keys": str(page_size), "encoding-type": "url"}
        if not recursive:
            query["delimiter"] = "/"
        if token:
            query["continuation-token"] = token
        response = await self._transport.send(
            self._target,
            "GET",
            self._target.prefix or "/",
            canonical_query(query),
            {},
            timed_reads=self._timed,
        )
        body = await read_body(response)
        try:
            return parse_list(body, work_dir=work_dir, prefix=prefix)
        except (KeyError, ValueError, ParseError, UnicodeDecodeError) as exc:
            raise ServiceUnavailableError(
                f"ListObjectsV2 answered an unreadable page ({type(exc).__name__})", adapter=ADAPTER
            ) from exc


def answer_fields(body: bytes, expected: str, headers: Mapping[str, str]) -> dict[str, str]:
    """The fields of a multipart answer whose root is ``expected`` (see `_answer`)."""
    return _answer(body, expected, headers, parse_answer)


def _answer(
    body: bytes, expected: str, headers: Mapping[str, str], parse: Callable[[bytes], tuple[str, T]]
) -> T:
    """What ``parse`` reads from a small XML answer whose root must be ``expected``.

    An ``<Error>`` in a 200 answer (S3 reports a late CompleteMultipartUpload
    failure that way) raises `S3ResponseError` as a 500, as botocore does.
    """
    try:
        name, value = parse(body)
    except (ParseError, UnicodeDecodeError) as exc:
        raise ServiceUnavailableError(
            f"S3 answered an unreadable {expected} ({type(exc).__name__})", adapter=ADAPTER
        ) from exc
    if name == "Error":
        code, message = parse_error(body)
        raise S3ResponseError(500, code, message, headers)
    if name != expected:
        raise ServiceUnavailableError(f"S3 answered <{name}> where {expected} was expected", adapter=ADAPTER)
    return value

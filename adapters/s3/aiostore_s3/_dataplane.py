"""The data plane: every request that carries object bytes, plus HEAD, DELETE, listings and
the creation and completion of multipart uploads.

Two implementations of one `DataPlane` protocol:

* `BotoPlane`: through the aiobotocore client (``fast_path=False``, and where the
  fast path hands a bucket back);
* `_fastplane.FastPlane`: SigV4-signed requests on the shared aiohttp session.

Both take botocore-named parameters (``ContentType``, ``ChecksumCRC32C``,
``Range``, ...) and return aiostore values, so the adapter does not know which
one it talks to. Callers wrap the calls in `_errors.boundary`.

`S3ReadStream` turns a GetObject body into large chunks (1 MiB reads rather
than botocore's 1 KiB iteration) and checks the full-object checksum at the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from aiostore import Object, Page, Pieces, ReadStream

from ._checksums import Verifier, as_bytes
from ._errors import boundary
from ._listing import from_head, list_params, page_from_response

__all__ = ["CHUNK_SIZE", "Body", "BotoPlane", "DataPlane", "EmptyStream", "PartBody", "S3ReadStream"]

CHUNK_SIZE = 1024 * 1024

#: What UploadPart sends: one buffer, or a part's buffers in order (`Pieces`, never joined on the fast plane).
PartBody = bytes | memoryview | Pieces


class Body(Protocol):
    """What the data plane needs from a response body."""

    async def read(self, amt: int | None = None) -> bytes: ...

    def close(self) -> None: ...


class DataPlane(Protocol):
    """The object calls of one bucket; ``key`` includes the work dir, ``path`` does not."""

    async def put_object(
        self, key: str, body: bytes | memoryview, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PutObject: the answer's ETag, VersionId and checksum fields."""

    async def upload_part(
        self, key: str, upload_id: str, number: int, body: PartBody, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """UploadPart (``number`` is 1-based): ETag and checksum fields."""

    async def create_upload(self, key: str, params: Mapping[str, Any]) -> str:
        """CreateMultipartUpload: the upload id."""

    async def complete_upload(
        self, key: str, upload_id: str, parts: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """CompleteMultipartUpload of botocore-shaped ``parts``: the answer's ETag and VersionId."""

    async def get_object(
        self, path: str, key: str, params: Mapping[str, Any]
    ) -> tuple[Object, Body, Mapping[str, str]]:
        """GetObject: the object, its unread body and the response headers."""

    async def head_object(self, path: str, key: str, params: Mapping[str, Any]) -> Object:
        """HeadObject."""

    async def delete_object(self, key: str) -> None:
        """DeleteObject (a missing key succeeds)."""

    async def delete_objects(self, keys: Sequence[str]) -> list[dict[str, str]]:
        """A quiet DeleteObjects of up to 1000 keys: the per-key errors (``Key``, ``Code``, ``Message``)."""

    async def list_objects(
        self, prefix: str, *, recursive: bool, page_size: int, token: str | None, work_dir: str
    ) -> Page:
        """One ListObjectsV2 page under ``prefix``, paths relative to ``work_dir``."""


class BotoPlane:
    """The data plane through the aiobotocore client."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def __repr__(self) -> str:
        return f"<BotoPlane {self._bucket}>"

    async def put_object(
        self, key: str, body: bytes | memoryview, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        data = as_bytes(body)
        response: dict[str, Any] = await self._client.put_object(
            Bucket=self._bucket, Key=key, Body=data, ContentLength=len(data), **params
        )
        return response

    async def upload_part(
        self, key: str, upload_id: str, number: int, body: PartBody, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        data = body.join() if isinstance(body, Pieces) else as_bytes(body)
        response: dict[str, Any] = await self._client.upload_part(
            Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number,
            Body=data, ContentLength=len(data), **params,
        )  # fmt: skip
        return response

    async def create_upload(self, key: str, params: Mapping[str, Any]) -> str:
        response = await self._client.create_multipart_upload(Bucket=self._bucket, Key=key, **params)
        return str(response["UploadId"])

    async def complete_upload(
        self, key: str, upload_id: str, parts: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        response: dict[str, Any] = await self._client.complete_multipart_upload(
            Bucket=self._bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **params
        )
        return response

    async def get_object(
        self, path: str, key: str, params: Mapping[str, Any]
    ) -> tuple[Object, Body, Mapping[str, str]]:
        response: dict[str, Any] = await self._client.get_object(Bucket=self._bucket, Key=key, **params)
        body: Body = response.pop("Body")
        headers: Mapping[str, str] = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return from_head(path, response), body, headers

    async def head_object(self, path: str, key: str, params: Mapping[str, Any]) -> Object:
        return from_head(path, await self._client.head_object(Bucket=self._bucket, Key=key, **params))

    async def delete_object(self, key: str) -> None:
        await self._client.delete_object(Bucket=self._bucket, Key=key)

    async def delete_objects(self, keys: Sequence[str]) -> list[dict[str, str]]:
        objects = [{"Key": key} for key in keys]
        response = await self._client.delete_objects(
            Bucket=self._bucket, Delete={"Objects": objects, "Quiet": True}
        )
        return list(response.get("Errors") or ())

    async def list_objects(
        self, prefix: str, *, recursive: bool, page_size: int, token: str | None, work_dir: str
    ) -> Page:
        params = list_params(self._bucket, prefix, recursive=recursive, page_size=page_size, token=token)
        response = await self._client.list_objects_v2(**params)
        return page_from_response(response, work_dir, prefix)


class S3ReadStream(ReadStream):
    """A GetObject body read in large chunks, verified at the end when possible."""

    def __init__(self, obj: Object, body: Body, verifier: Verifier | None, *, path: str) -> None:
        self.object = obj
        self._body: Body | None = body
        self._verifier = verifier
        self._path = path

    @property
    def verified_with(self) -> str | None:
        """The checksum algorithm the download is checked with, if any."""
        return self._verifier.algorithm if self._verifier is not None else None

    def take_verifier(self) -> Verifier | None:
        """Hand the running whole-object check to the core's Reader for a resumed read."""
        verifier, self._verifier = self._verifier, None
        return verifier

    async def next_chunk(self) -> bytes:
        if self._body is None:
            return b""
        with boundary("read", self._path):
            chunk = await self._body.read(CHUNK_SIZE)
        if chunk:
            if self._verifier is not None:
                self._verifier.update(chunk)
            return chunk
        await self._finish()
        return b""

    async def read_all(self) -> bytes:
        """Everything left, in one buffer, verified."""
        if self._body is None:
            return b""
        with boundary("read", self._path):
            data = await self._body.read()
        if self._verifier is not None:
            self._verifier.update(data)
        await self._finish()
        return data

    async def _finish(self) -> None:
        verifier, self._verifier = self._verifier, None
        await self.aclose()
        if verifier is not None:
            verifier.finish()

    async def aclose(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()


class EmptyStream(ReadStream):
    """Reading at the very end of an object: nothing, without a request."""

    def __init__(self, obj: Object) -> None:
        self.object = obj

    async def next_chunk(self) -> bytes:
        return b""

    async def aclose(self) -> None:
        return None

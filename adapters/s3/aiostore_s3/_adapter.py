"""`S3Adapter`: one bucket plus a work dir, on AWS or an S3-compatible service.

Example:
    >>> async with aiostore.connect("s3://my-bucket/data", region="eu-west-1") as store:
    ...     await store.write("a.txt", b"hi", storage_class="STANDARD_IA")
    >>> store = aiostore.connect(
    ...     "seaweedfs://bucket", endpoint="http://127.0.0.1:8333",
    ...     access_key_id="...", secret_access_key="...",
    ... )
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Unpack

from aiostore import (
    Adapter,
    AlreadyExistsError,
    Capabilities,
    ConditionNotMetError,
    InvalidArgumentError,
    InvalidOffsetError,
    Limits,
    Object,
    Page,
    ReadStream,
    ServiceUnavailableError,
    Statistics,
    WriteOptions,
)

from . import _dataplane
from ._checksums import response_verifier, upload_params
from ._client import ClientHandle
from ._config import S3Config, S3Options, parse_options
from ._errors import ADAPTER, boundary, from_client_error
from ._listing import from_head, list_params, page_from_response, total_size
from ._params import copy_source_sse_params, read_params, write_params
from ._segments import SegmentOps

__all__ = ["S3Adapter"]

MiB = 1024 * 1024
GiB = 1024 * MiB
_PRESIGN = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}
_DELETE_BATCH = 1000


class S3Adapter(SegmentOps, Adapter):
    """The S3 storager. Build it with ``aiostore.connect("s3://bucket/dir", ...)``;
    the options are described by `S3Options`."""

    name: ClassVar[str] = "s3"
    limits = Limits(
        min_segment_size=5 * MiB,
        max_segment_size=5 * GiB,
        max_segments=10_000,
        max_single_write=5 * GiB,
        max_page_size=1000,
    )

    def __init__(self, **options: Unpack[S3Options]) -> None:
        self._setup(parse_options(options), None)

    @classmethod
    def _sharing(cls, config: S3Config, handle: ClientHandle) -> S3Adapter:
        """An adapter that borrows a service's client and never closes it."""
        adapter = cls.__new__(cls)
        adapter._setup(config, handle)
        return adapter

    def _setup(self, config: S3Config, handle: ClientHandle | None) -> None:
        self._config = config
        self._owns_client = handle is None
        self._handle = handle if handle is not None else ClientHandle(config)
        self._uploaded = {}
        self.capabilities = Capabilities(
            reach=True,
            segments=True,
            list_segments=True,
            if_not_exists=config.profile.conditional_write,
            if_match_read=True,
            statistical=True,
            service=True,
        )

    def __repr__(self) -> str:
        return f"<S3Adapter {self._config!r} owns_client={self._owns_client}>"

    @property
    def config(self) -> S3Config:
        return self._config

    @property
    def storager_name(self) -> str:
        return self._config.bucket

    @property
    def work_dir(self) -> str:
        return self._config.work_dir

    async def open(self) -> None:
        if self._owns_client:
            await self._handle.open()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._handle.aclose()

    async def _client(self) -> Any:
        return await self._handle.client()

    def _object_params(self, path: str) -> dict[str, Any]:
        return {"Bucket": self._config.bucket, "Key": self._key(path)}

    # -- reading -------------------------------------------------------------
    async def stat(self, path: str, *, if_match: str | None = None) -> Object:
        params = self._object_params(path) | read_params(self._config)
        if if_match is not None:
            params["IfMatch"] = if_match
        client = await self._client()
        with boundary("stat", path):
            response = await client.head_object(**params)
        return from_head(path, response)

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> ReadStream:
        if size == 0:
            return await self._empty_read(path, offset, if_match)
        params = self._object_params(path) | read_params(self._config)
        ranged = offset > 0 or size is not None
        if ranged:
            params["Range"] = f"bytes={offset}-{'' if size is None else offset + size - 1}"
        if if_match is not None:
            params["IfMatch"] = if_match
        client = await self._client()
        try:
            with boundary("read", path):
                response, body = await _dataplane.get_object(client, params)
        except InvalidOffsetError:
            # S3 answers 416 for a range starting at the end; that read is empty, not an error
            stream = await self._empty_read(path, offset, if_match)
            if stream.object.size != offset:
                raise
            return stream
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        verifier = None if ranged else response_verifier(headers, path=path)
        return _dataplane.S3ReadStream(from_head(path, response), body, verifier, path=path)

    async def _empty_read(self, path: str, offset: int, if_match: str | None) -> ReadStream:
        """A read of nothing at ``offset``: fine up to the end, `InvalidOffsetError` past it."""
        obj = await self.stat(path, if_match=if_match)
        if obj.size is not None and offset > obj.size:
            raise InvalidOffsetError(
                f"offset {offset} is past the end of the object ({obj.size} bytes)",
                op="read", path=path, adapter=ADAPTER,
            )  # fmt: skip
        return _dataplane.EmptyStream(obj)

    async def read_bytes(self, path: str, *, offset: int, size: int | None) -> bytes:
        stream = await self.open_read(path, offset=offset, size=size)
        try:
            if isinstance(stream, _dataplane.S3ReadStream):
                return await stream.read_all()
            return b""
        finally:
            await stream.aclose()

    # -- writing -------------------------------------------------------------
    async def write_once(self, path: str, data: bytes | memoryview, options: WriteOptions) -> Object:
        body = data if isinstance(data, bytes) else bytes(data)
        params = self._object_params(path) | write_params(self._config, options)
        params |= {"Body": body, "ContentLength": len(body)} | upload_params(self._config.checksum, body)
        if options.if_not_exists:
            params["IfNoneMatch"] = "*"
        client = await self._client()
        precondition = AlreadyExistsError if options.if_not_exists else ConditionNotMetError
        with boundary("write", path, precondition=precondition):
            response = await _dataplane.put_object(client, params)
        return Object(
            path=path,
            size=len(body),
            etag=response.get("ETag"),
            version=response.get("VersionId"),
            content_type=options.content_type,
            metadata=dict(options.metadata),
        )

    # -- deleting ------------------------------------------------------------
    async def delete(self, path: str) -> None:
        client = await self._client()
        with boundary("delete", path):
            await client.delete_object(**self._object_params(path))

    async def delete_many(self, paths: Sequence[str]) -> None:
        client = await self._client()
        for start in range(0, len(paths), _DELETE_BATCH):
            batch = paths[start : start + _DELETE_BATCH]
            objects = [{"Key": self._key(path)} for path in batch]
            with boundary("delete", batch[0] if batch else None):
                response = await client.delete_objects(
                    Bucket=self._config.bucket, Delete={"Objects": objects, "Quiet": True}
                )
            self._raise_delete_errors(response)

    def _raise_delete_errors(self, response: dict[str, Any]) -> None:
        for failure in response.get("Errors") or ():
            if failure.get("Code") in ("NoSuchKey", "NotFound"):
                continue
            key = str(failure.get("Key", ""))
            path = key[len(self._config.work_dir) :] if key.startswith(self._config.work_dir) else key
            raise from_client_error(_Failure(failure), "delete", path)

    # -- copying -------------------------------------------------------------
    async def copy(self, src: str, dst: str) -> None:
        client = await self._client()
        with boundary("copy", src):
            head = await client.head_object(**self._object_params(src) | read_params(self._config))
        if int(head.get("ContentLength") or 0) > self.copy_threshold:
            await self._copy_multipart(src, dst, head)
            return
        params = self._object_params(dst) | write_params(
            self._config, WriteOptions(), op="copy", metadata=False
        )
        params["CopySource"] = {"Bucket": self._config.bucket, "Key": self._key(src)}
        params |= copy_source_sse_params(self._config)
        with boundary("copy", src):
            response = await client.copy_object(**params)
        if "CopyObjectResult" not in response:
            raise ServiceUnavailableError(
                "CopyObject answered without a result", op="copy", path=src, adapter=ADAPTER
            )

    # -- the rest ------------------------------------------------------------
    async def list_page(self, directory: str, *, recursive: bool, page_size: int, token: str | None) -> Page:
        prefix = self._config.work_dir + directory
        params = list_params(
            self._config.bucket, prefix, recursive=recursive, page_size=page_size, token=token
        )
        client = await self._client()
        with boundary("list", directory):
            response = await client.list_objects_v2(**params)
        return page_from_response(response, self._config.work_dir, prefix)

    async def statistical(self) -> Statistics:
        count, size = await total_size(await self._client(), self._config.bucket, self._config.work_dir)
        return Statistics(count=count, size=size)

    async def reach(self, path: str, *, expires: float, method: str) -> str:
        operation = _PRESIGN.get(method.upper())
        if operation is None:
            raise InvalidArgumentError(f"cannot presign {method!r}", op="reach", path=path, adapter=ADAPTER)
        client = await self._client()
        with boundary("reach", path):
            url: str = await client.generate_presigned_url(
                operation, Params=self._object_params(path), ExpiresIn=max(1, int(expires))
            )
        return url


class _Failure:
    """A DeleteObjects per-key error shaped like a botocore ``ClientError``."""

    def __init__(self, failure: dict[str, Any]) -> None:
        self.response = {"Error": failure, "ResponseMetadata": {"HTTPStatusCode": 0}}

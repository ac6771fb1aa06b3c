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

from collections.abc import Mapping, Sequence
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

from ._checksums import Verifier, response_verifier, upload_params
from ._client import ClientHandle
from ._config import S3Config, S3Options, parse_options
from ._dataplane import BotoPlane, DataPlane, EmptyStream, S3ReadStream
from ._errors import ADAPTER, boundary, from_client_error
from ._etag import etag_verifier
from ._fast import find_target
from ._fastplane import FastPlane
from ._params import copy_source_sse_params, read_params, write_params
from ._segments import SegmentOps

__all__ = ["S3Adapter"]

MiB = 1024 * 1024
GiB = 1024 * MiB
_PRESIGN = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}
_DELETE_BATCH = 1000


class S3Adapter(SegmentOps, Adapter):
    """The S3 storager. Build it with ``aiostore.connect("s3://bucket/dir", ...)``;
    the options are described by `S3Options`.

    ``Store.read`` of a large object fetches the rest in parallel ranges
    (``parallel_reads``), each pinned to the first answer's ETag with ``If-Match``.
    A full-object checksum cannot cover a range, so those pieces are not verified
    (accepted: the ETag pin keeps them from mixing versions); a read answered by
    one whole-object response is verified, against the service's checksum or,
    when there is none, a single-part object's MD5 ETag (`_etag`).
    """

    name: ClassVar[str] = "s3"
    parallel_reads = True
    writes_pieces: ClassVar[bool] = True
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
        self._plane_of: tuple[Any, DataPlane] | None = None  # (client, its data plane)
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
            self._handle.connect_timeout = self.timeouts.connect
            await self._handle.open()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._handle.aclose()

    async def _client(self) -> Any:
        return await self._handle.client()

    async def _plane(self) -> DataPlane:
        """The data plane of this bucket on the current client: fast unless switched off."""
        client = await self._client()
        if self._plane_of is not None and self._plane_of[0] is client:
            return self._plane_of[1]
        boto = BotoPlane(client, self._config.bucket)
        plane: DataPlane = boto
        transport = self._handle.transport()
        if transport is not None:
            with boundary("open"):
                target = await find_target(client, self._config.bucket, anonymous=self._config.anonymous)
            if target is not None:
                plane = FastPlane(transport, target, self._config, fallback=boto, timeouts=self.timeouts)
        self._plane_of = (client, plane)
        return plane

    def _object_params(self, path: str) -> dict[str, Any]:
        return {"Bucket": self._config.bucket, "Key": self._key(path)}

    # -- reading -------------------------------------------------------------
    async def stat(self, path: str, *, if_match: str | None = None) -> Object:
        params = read_params(self._config)
        if if_match is not None:
            params["IfMatch"] = if_match
        plane = await self._plane()
        with boundary("stat", path):
            return await plane.head_object(path, self._key(path), params)

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> ReadStream:
        if size == 0:
            return await self._empty_read(path, offset, if_match)
        params = read_params(self._config)
        ranged = offset > 0 or size is not None
        if ranged:
            params["Range"] = f"bytes={offset}-{'' if size is None else offset + size - 1}"
        if if_match is not None:
            params["IfMatch"] = if_match
        plane = await self._plane()
        try:
            with boundary("read", path):
                obj, body, headers = await plane.get_object(path, self._key(path), params)
        except InvalidOffsetError:
            # S3 answers 416 for a range starting at the end; that read is empty, not an error
            stream = await self._empty_read(path, offset, if_match)
            if stream.object.size != offset:
                raise
            return stream
        whole = not ranged or (offset == 0 and obj.size is not None and (size is None or size >= obj.size))
        verifier = self._verifier(headers, path) if whole else None
        return S3ReadStream(obj, body, verifier, path=path)

    def _verifier(self, headers: Mapping[str, str], path: str) -> Verifier | None:
        """The whole-object check: the service's checksum, else a single-part object's MD5 ETag."""
        verifier = response_verifier(headers, path=path)
        if verifier is None and self._config.verify_etag:
            verifier = etag_verifier(headers, path=path)
        return verifier

    async def _empty_read(self, path: str, offset: int, if_match: str | None) -> ReadStream:
        """A read of nothing at ``offset``: fine up to the end, `InvalidOffsetError` past it."""
        obj = await self.stat(path, if_match=if_match)
        if obj.size is not None and offset > obj.size:
            raise InvalidOffsetError(
                f"offset {offset} is past the end of the object ({obj.size} bytes)",
                op="read", path=path, adapter=ADAPTER,
            )  # fmt: skip
        return EmptyStream(obj)

    async def read_bytes(self, path: str, *, offset: int, size: int | None) -> bytes:
        stream = await self.open_read(path, offset=offset, size=size)
        try:
            if isinstance(stream, S3ReadStream):
                return await stream.read_all()
            return b""
        finally:
            await stream.aclose()

    # -- writing -------------------------------------------------------------
    async def write_once(self, path: str, data: bytes | memoryview, options: WriteOptions) -> Object:
        params = write_params(self._config, options) | upload_params(self._config.checksum, data)
        if options.if_not_exists:
            params["IfNoneMatch"] = "*"
        plane = await self._plane()
        precondition = AlreadyExistsError if options.if_not_exists else ConditionNotMetError
        with boundary("write", path, precondition=precondition):
            response = await plane.put_object(self._key(path), data, params)
        return Object(
            path=path,
            size=memoryview(data).nbytes,
            etag=response.get("ETag"),
            version=response.get("VersionId"),
            content_type=options.content_type,
            metadata=dict(options.metadata),
        )

    # -- deleting ------------------------------------------------------------
    async def delete(self, path: str) -> None:
        plane = await self._plane()
        with boundary("delete", path):
            await plane.delete_object(self._key(path))

    async def delete_many(self, paths: Sequence[str]) -> None:
        plane = await self._plane()
        for start in range(0, len(paths), _DELETE_BATCH):
            batch = paths[start : start + _DELETE_BATCH]
            with boundary("delete", batch[0] if batch else None):
                errors = await plane.delete_objects([self._key(path) for path in batch])
            self._raise_delete_errors(errors)

    def _raise_delete_errors(self, errors: Sequence[dict[str, str]]) -> None:
        for failure in errors:
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
        work_dir = self._config.work_dir
        plane = await self._plane()
        with boundary("list", directory):
            return await plane.list_objects(
                work_dir + directory, recursive=recursive, page_size=page_size, token=token, work_dir=work_dir
            )

    async def statistical(self) -> Statistics:
        """Count and bytes under the work dir, one 1000-key page in memory at a time."""
        plane = await self._plane()
        count = size = 0
        token: str | None = None
        while True:
            with boundary("statistical"):
                page = await plane.list_objects(
                    self._config.work_dir, recursive=True, page_size=1000, token=token, work_dir=""
                )
            count += len(page.entries)
            size += sum(entry.size or 0 for entry in page.entries)
            if not page.next_token or page.next_token == token:
                return Statistics(count=count, size=size)
            token = page.next_token

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

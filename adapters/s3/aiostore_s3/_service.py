"""`S3Service`: list, check, create and delete buckets.

Stores handed out by one service share its aiobotocore client, hence its
session and connection pool; no client is created per operation or per store.

Example:
    >>> async with aiostore.service("s3", profile="seaweedfs", endpoint="http://127.0.0.1:8333") as svc:
    ...     store = await svc.create("new-bucket")
    ...     await store.write("a.txt", b"hi")
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar, Unpack

from aiostore import (
    AlreadyExistsError,
    ConditionNotMetError,
    NotFoundError,
    ServiceAdapter,
    StoragerInfo,
    StoragerNotFoundError,
)

from ._adapter import S3Adapter
from ._client import ClientHandle
from ._config import S3Options, parse_options
from ._errors import ADAPTER, boundary

__all__ = ["S3Service"]


class S3Service(ServiceAdapter):
    """The S3 Servicer; takes the same options as the store, without ``name``."""

    name: ClassVar[str] = "s3"

    def __init__(self, **options: Unpack[S3Options]) -> None:
        self._config = parse_options(options, need_bucket=False)
        self._handle = ClientHandle(self._config)

    def __repr__(self) -> str:
        return f"<S3Service {self._config!r}>"

    async def open(self) -> None:
        self._handle.connect_timeout = self.timeouts.connect
        await self._handle.open()

    async def aclose(self) -> None:
        await self._handle.aclose()

    async def list(self) -> AsyncIterator[StoragerInfo]:
        client = await self._handle.client()
        token: str | None = None
        while True:
            params: dict[str, Any] = {"ContinuationToken": token} if token else {}
            with boundary("list_storagers"):
                response = await client.list_buckets(**params)
            for bucket in response.get("Buckets") or ():
                yield StoragerInfo(name=str(bucket["Name"]), created_at=bucket.get("CreationDate"))
            next_token = response.get("ContinuationToken")
            if not next_token or next_token == token:
                return
            token = str(next_token)

    async def exists(self, name: str) -> bool:
        client = await self._handle.client()
        try:
            with boundary("get_storager", name):
                await client.head_bucket(Bucket=name)
        except NotFoundError:
            return False
        return True

    async def create(self, name: str) -> None:
        # us-east-1 answers 200 when re-creating a bucket one owns: ask first.
        if await self.exists(name):
            raise AlreadyExistsError(
                f"bucket {name!r} already exists", op="create_storager", path=name, adapter=ADAPTER
            )
        params: dict[str, Any] = {"Bucket": name}
        region = self._config.region
        if self._config.profile.name == "aws" and region and region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client = await self._handle.client()
        with boundary("create_storager", name):
            await client.create_bucket(**params)

    async def delete(self, name: str) -> None:
        """Delete an empty bucket. Emptiness is checked here first, because some
        services (SeaweedFS by default) delete a bucket with everything in it."""
        client = await self._handle.client()
        try:
            with boundary("delete_storager", name):
                listed = await client.list_objects_v2(Bucket=name, MaxKeys=1)
                if not (listed.get("KeyCount") or listed.get("Contents")):
                    await client.delete_bucket(Bucket=name)
                    return
        except StoragerNotFoundError:
            raise
        except NotFoundError as exc:
            raise StoragerNotFoundError(
                exc.message, op="delete_storager", path=name, adapter=ADAPTER
            ) from exc
        except ConditionNotMetError:
            pass  # BucketNotEmpty: a write won the race against the check
        raise ConditionNotMetError(
            f"bucket {name!r} is not empty", op="delete_storager", path=name, adapter=ADAPTER
        )

    def storager(self, name: str, work_dir: str) -> S3Adapter:
        return S3Adapter._sharing(self._config.for_bucket(name, work_dir), self._handle)

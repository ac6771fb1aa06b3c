"""Plain aiohttp on presigned URLs: the floor of what an async HTTP client costs.

Every URL (PUT, GET, HEAD, DELETE of every key) is presigned with botocore in
`prepare`, before the timed section, so the timed part is HTTP alone: no
signing, no XML, no retries. The large upload is one presigned PUT streaming
the generator with a Content-Length; the large download is one GET read in
1 MiB chunks. Listing needs a signature per page and is not measured.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import botocore.session  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from ..job import CHUNK, Job, Source
from .base import Client, Unsupported

__all__ = ["AiohttpClient", "make"]

_OPERATIONS = {"PUT": "put_object", "GET": "get_object", "HEAD": "head_object", "DELETE": "delete_object"}
_EXPIRES = 3600


class AiohttpClient(Client):
    upload_method = "one presigned PUT, body streamed from the generator with Content-Length"
    download_method = "one presigned GET, content.iter_chunked(1 MiB)"

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self.session: aiohttp.ClientSession | None = None
        self.urls: dict[tuple[str, str], str] = {}
        server = job.server
        self._signer: Any = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=server["endpoint"],
            region_name=server.get("region", "us-east-1"),
            aws_access_key_id=server["access_key"],
            aws_secret_access_key=server["secret_key"],
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    async def setup(self) -> None:
        connector = aiohttp.TCPConnector(limit=max(self.job.concurrency, 10))
        self.session = aiohttp.ClientSession(connector=connector)

    async def teardown(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def prepare(self, keys: list[str]) -> None:
        for key in keys:
            for method, operation in _OPERATIONS.items():
                self.urls[method, key] = self._signer.generate_presigned_url(
                    operation, Params={"Bucket": self.job.bucket, "Key": key}, ExpiresIn=_EXPIRES
                )

    def _session(self) -> aiohttp.ClientSession:
        assert self.session is not None
        return self.session

    async def put(self, key: str, data: bytes) -> None:
        async with self._session().put(self.urls["PUT", key], data=data) as response:
            response.raise_for_status()
            await response.read()

    async def get(self, key: str) -> int:
        async with self._session().get(self.urls["GET", key]) as response:
            response.raise_for_status()
            return len(await response.read())

    async def head(self, key: str) -> int:
        async with self._session().head(self.urls["HEAD", key]) as response:
            response.raise_for_status()
            return int(response.headers["Content-Length"])

    async def delete(self, key: str) -> None:
        async with self._session().delete(self.urls["DELETE", key]) as response:
            response.raise_for_status()
            await response.read()

    async def upload_large(self, key: str, source: Source) -> None:
        headers = {"Content-Length": str(source.size)}
        url = self.urls["PUT", key]
        async with self._session().put(url, data=source.chunks(), headers=headers) as response:
            response.raise_for_status()
            await response.read()

    async def download_large(self, key: str) -> int:
        received = 0
        async with self._session().get(self.urls["GET", key]) as response:
            response.raise_for_status()
            async for chunk in response.content.iter_chunked(CHUNK):
                received += len(chunk)
        return received

    async def list(self, prefix: str) -> Any:
        raise Unsupported("presigned URLs cannot follow continuation tokens without signing per page")


def make(job: Job) -> Client:
    return AiohttpClient(job)

"""aioboto3: aiobotocore's calls plus boto3's managed transfers.

Small ops and listing are the same S3 calls as aiobotocore (through aioboto3's
session). Large transfers use its managed ``upload_fileobj`` (from a file-like
object over the stream) and ``download_fileobj`` (ranged GETs of ``part_size``,
``part_concurrency`` at once: aioboto3 has no single-stream managed download).
"""

from __future__ import annotations

import aioboto3  # type: ignore[import-untyped]
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]

from ..job import Job, Source, SourceFile
from .aiobotocore_client import AiobotocoreClient, client_kwargs
from .base import Client, Sink

__all__ = ["Aioboto3Client", "make"]


class Aioboto3Client(AiobotocoreClient):
    upload_method = "managed upload_fileobj from a file-like object over the stream"
    download_method = "managed download_fileobj: ranged GETs, part_size each, part_concurrency at once"

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self._transfer = TransferConfig(
            multipart_threshold=job.part_size,
            multipart_chunksize=job.part_size,
            max_concurrency=job.part_concurrency,
        )

    async def setup(self) -> None:
        session = aioboto3.Session()
        self.s3 = await self._stack.enter_async_context(session.client("s3", **client_kwargs(self.job)))

    async def upload_large(self, key: str, source: Source) -> None:
        await self.s3.upload_fileobj(SourceFile(source), self.bucket, key, Config=self._transfer)

    async def download_large(self, key: str) -> int:
        sink = Sink()
        await self.s3.download_fileobj(self.bucket, key, sink, Config=self._transfer)
        return sink.received


def make(job: Job) -> Client:
    return Aioboto3Client(job)

"""The data plane: every request that carries object bytes, in one module.

PutObject, UploadPart and GetObject go through these functions and nothing
else, so that a later fast path (SigV4 signing plus the shared aiohttp
session) replaces this module alone. Callers wrap them in `_errors.boundary`.

`S3ReadStream` turns a GetObject body into large chunks (1 MiB reads rather
than botocore's 1 KiB iteration) and checks the full-object checksum at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aiostore import Object, ReadStream

from ._checksums import Verifier
from ._errors import boundary

__all__ = ["CHUNK_SIZE", "EmptyStream", "S3ReadStream", "get_object", "put_object", "upload_part"]

CHUNK_SIZE = 1024 * 1024


class Body(Protocol):
    """What the data plane needs from a response body."""

    async def read(self, amt: int | None = None) -> bytes: ...

    def close(self) -> None: ...


async def put_object(client: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """PutObject; ``params["Body"]`` is bytes."""
    response: dict[str, Any] = await client.put_object(**params)
    return response


async def upload_part(client: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """UploadPart; ``params["Body"]`` is bytes."""
    response: dict[str, Any] = await client.upload_part(**params)
    return response


async def get_object(client: Any, params: Mapping[str, Any]) -> tuple[dict[str, Any], Body]:
    """GetObject: the response fields and its still unread body."""
    response: dict[str, Any] = await client.get_object(**params)
    body: Body = response.pop("Body")
    return response, body


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

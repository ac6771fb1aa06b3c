"""Streaming writes as GCS resumable upload sessions.

Data is held as the caller's buffers (`PieceCollector`: large ``bytes`` chunks
by reference, small ones joined, mutable ones copied) and sent, never joined,
in chunks that are multiples of 256 KiB with
``Content-Range: bytes a-b/*``; GCS answers ``308`` with the bytes it kept, and
anything it did not keep is sent again. The last chunk carries the total size
and the CRC32C of everything written (``X-Goog-Hash``), so nothing becomes
visible before `commit` and a corrupted upload is refused. A write that never
fills one chunk is sent as a single multipart upload instead. `abort`, or any
failure, cancels the session (``DELETE`` on its URI, shielded from cancellation).

The session's status is never queried (``Content-Range: bytes */*``): on
fake-gcs-server such a query finalizes the object, truncated.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from aiostore import Pieces
from aiostore._adapter import WriteStream
from aiostore._errors import AlreadyExistsError, ClosedError, ServiceUnavailableError
from aiostore._http import SLICE_SIZE, BufferPayload
from aiostore._pieces import PieceCollector, whole_bytes
from aiostore._types import Object

from ._checksums import Crc32c
from ._client import GCSClient
from ._errors import ADAPTER, gcs_errors

__all__ = ["ResumableWriteStream"]

SmallWrite = Callable[[bytes], Awaitable[Object]]
ToObject = Callable[[Mapping[str, Any]], Object]


class _State(enum.Enum):
    OPEN = "open"
    COMMITTED = "committed"
    ABORTED = "aborted"


def _persisted(range_header: str | None) -> int:
    """Bytes GCS kept, from a 308 answer's ``Range: bytes=0-N`` (none when absent)."""
    if not range_header or "-" not in range_header:
        return 0
    return int(range_header.rsplit("-", 1)[1]) + 1


class ResumableWriteStream(WriteStream):
    """One object written through a resumable session opened on the first full chunk."""

    def __init__(
        self,
        client: GCSClient,
        bucket: str,
        key: str,
        path: str,
        *,
        content_type: str,
        fields: Mapping[str, Any],
        if_not_exists: bool,
        chunk_size: int,
        small_write: SmallWrite,
        to_object: ToObject,
    ) -> None:
        self._client, self._bucket, self._key, self._path = client, bucket, key, path
        self._content_type, self._fields, self._if_not_exists = content_type, fields, if_not_exists
        self._chunk, self._small_write, self._to_object = chunk_size, small_write, to_object
        self._held = Pieces(())  # taken from the collector, not yet kept by GCS
        self._pending = PieceCollector()
        self._sent = 0
        self._crc = Crc32c()
        self._uri: str | None = None
        self._state = _State.OPEN
        self._errors = {412: AlreadyExistsError} if if_not_exists else None

    def _check_open(self) -> None:
        if self._state is not _State.OPEN:
            message = f"this writer is {self._state.value}"
            raise ClosedError(message, op="write", path=self._path, adapter=ADAPTER)

    async def write(self, data: bytes | memoryview) -> None:
        self._check_open()
        view = memoryview(data).cast("B")
        self._crc.update(whole_bytes(view))
        self._pending.add(view)
        if self._held.nbytes + self._pending.size > self._chunk:
            await self._guarded(self._flush())

    async def commit(self) -> Object:
        self._check_open()
        obj: Object = await self._guarded(self._finish())
        self._state = _State.COMMITTED
        return obj

    async def abort(self) -> None:
        if self._state is _State.OPEN:
            self._state = _State.ABORTED
            await self._cancel()

    async def _guarded(self, step: Awaitable[Any]) -> Any:
        """Run a step; on any failure cancel the session before raising."""
        try:
            with gcs_errors("write", self._path, idempotent=self._if_not_exists, overrides=self._errors):
                result: Any = await step
                return result
        except BaseException:
            self._state = _State.ABORTED
            await self._cancel()
            raise

    async def _start(self) -> str:
        params = {"uploadType": "resumable", **({"ifGenerationMatch": "0"} if self._if_not_exists else {})}
        body = {**self._fields, "name": self._key, "contentType": self._content_type}
        url = f"{self._client.upload_api}/b/{quote(self._bucket, safe='')}/o"
        headers = {"X-Upload-Content-Type": self._content_type, "Content-Type": "application/json"}
        async with await self._client.request(
            "POST", url, params=params, headers=headers, data=json.dumps(body).encode()
        ) as resp:
            location = resp.headers.get("Location")
        if not location:
            raise ServiceUnavailableError("GCS did not return a resumable session URI")
        return location

    async def _flush(self) -> None:
        if self._uri is None:
            self._uri = await self._start()
        buffered = self._buffered()
        while buffered.nbytes > self._chunk:
            chunk, _ = buffered.split(self._chunk)
            kept = await self._put(chunk, total=None)
            if not isinstance(kept, int) or kept <= self._sent:
                raise ServiceUnavailableError("GCS made no progress on a resumable upload chunk")
            _, buffered = buffered.split(kept - self._sent)
            self._sent = kept
        self._held = buffered

    def _buffered(self) -> Pieces:
        """Everything written and not yet kept by GCS, in order."""
        taken = self._pending.take()
        held, self._held = self._held, Pieces(())
        return Pieces((*held, *taken)) if held.nbytes else taken

    async def _finish(self) -> Object:
        buffered = self._buffered()
        if self._uri is None:
            return await self._small_write(buffered.join())
        crc = self._crc.b64()
        while True:
            total = self._sent + buffered.nbytes
            answer = await self._put(buffered, total=total, crc=crc)
            if not isinstance(answer, int):
                await self._client.check_stored_crc(self._bucket, self._key, answer, crc)
                return self._to_object(answer)
            if answer <= self._sent:
                raise ServiceUnavailableError("GCS did not finalize the resumable upload")
            _, buffered = buffered.split(answer - self._sent)
            self._sent = answer

    async def _put(self, chunk: Pieces, *, total: int | None, crc: str | None = None) -> int | dict[str, Any]:
        """Send one chunk (its buffers unjoined): the byte count kept (308) or the
        object resource (done)."""
        end = self._sent + chunk.nbytes - 1
        span = f"{self._sent}-{end}" if chunk.nbytes else "*"
        headers = {
            "Content-Range": f"bytes {span}/{'*' if total is None else total}",
            "Content-Type": self._content_type,  # fake-gcs-server takes the type from each chunk
        }
        if crc is not None:
            headers["X-Goog-Hash"] = f"crc32c={crc}"
        assert self._uri is not None
        data = chunk.join() if chunk.nbytes <= SLICE_SIZE else BufferPayload(chunk)
        async with await self._client.request("PUT", self._uri, headers=headers, data=data) as resp:
            if resp.status == 308:
                return _persisted(resp.headers.get("Range"))
            answer: dict[str, Any] = await resp.json(content_type=None)
        return answer

    async def _cancel(self) -> None:
        """Cancel the session; best effort, and finished even if the caller is cancelled."""
        uri, self._uri = self._uri, None
        self._held = Pieces(())
        self._pending.take()
        if uri is not None:
            await asyncio.shield(asyncio.ensure_future(self._delete_session(uri)))

    async def _delete_session(self, uri: str) -> None:
        # Cleanup must never mask the error that led here; GCS answers 499 when cancelled.
        with contextlib.suppress(Exception):
            async with await self._client.request("DELETE", uri, check=False):
                pass

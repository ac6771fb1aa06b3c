"""Downloads: ranged, streamed in 1 MiB chunks, checked against GCS's hashes.

A read is one ``GET ...?alt=media`` with a ``Range`` header. When the answer
covers the whole object, its bytes are checked against ``x-goog-hash`` (CRC32C,
or MD5 when there is no CRC32C) and a mismatch is `IntegrityError`. A read
pinned with ``if_match`` sends ``ifGenerationMatch`` and also compares the
generation the answer reports, so a replaced object is refused even by servers
that ignore the precondition.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable

import aiohttp
from yarl import URL

from aiostore._adapter import ReadStream, read_to_end
from aiostore._errors import ConditionNotMetError, IntegrityError, InvalidOffsetError
from aiostore._http import read_whole
from aiostore._types import Object

from ._checksums import Crc32c, crc32c_b64
from ._client import GCSClient, object_url, raise_for_response
from ._errors import gcs_errors
from ._objects import from_headers, goog_hashes

__all__ = ["READ_CHUNK", "GCSReadStream", "fetch_bytes", "open_download", "read_all"]

READ_CHUNK = 1024 * 1024
Stat = Callable[[str], Awaitable[Object]]


class _Verifier:
    """Hashes what is read and compares it with the digest GCS announced."""

    def __init__(self, name: str, expected: str, size: int) -> None:
        self.name, self.expected, self.size = name, expected, size
        self._crc = Crc32c() if name == "crc32c" else None
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._seen = 0

    def update(self, chunk: bytes | memoryview) -> None:
        self._seen += len(chunk)
        if self._crc is not None:
            self._crc.update(chunk)
        else:
            self._md5.update(chunk)

    def check(self) -> None:
        actual = self._crc.b64() if self._crc is not None else base64.b64encode(self._md5.digest()).decode()
        self.compare(self._seen, actual)

    def finish(self) -> None:
        """The core `Verifier` protocol's name for `check` (a resumed read settles it)."""
        self.check()

    def check_whole(self, data: bytes) -> None:
        """Check a body read in one piece (no running hash kept)."""
        if self.name == "crc32c":
            actual = crc32c_b64(data)
        else:
            actual = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self.compare(len(data), actual)

    def compare(self, seen: int, actual: str) -> None:
        if seen != self.size or actual != self.expected:
            # Not retryable here: the bytes were already handed out, so resuming the
            # stream cannot fix them; `read_all` marks it retryable for whole reads.
            raise IntegrityError(
                f"download does not match its {self.name}: got {seen} bytes hashing to "
                f"{actual}, expected {self.size} bytes hashing to {self.expected}",
                retryable=False,
            )


class GCSReadStream(ReadStream):
    """An open download; ``response`` is None for an empty read."""

    def __init__(
        self, response: aiohttp.ClientResponse | None, obj: Object, verifier: _Verifier | None = None
    ) -> None:
        self.object = obj
        self._response = response
        self._verifier = verifier

    def take_verifier(self) -> _Verifier | None:
        """Hand the running whole-object check to the core's Reader for a resumed read."""
        verifier, self._verifier = self._verifier, None
        return verifier

    async def next_chunk(self) -> bytes:
        if self._response is None:
            return b""
        try:
            with gcs_errors("read", self.object.path):
                chunk = await self._read_up_to(READ_CHUNK)
                if self._verifier is not None and chunk:
                    self._verifier.update(chunk)
                elif self._verifier is not None:
                    self._verifier.check()
        except BaseException:
            await self.aclose()
            raise
        if not chunk:
            await self.aclose()
        return chunk

    async def _read_up_to(self, limit: int) -> bytes:
        assert self._response is not None
        parts: list[bytes] = []
        total = 0
        while total < limit:
            data = await self._response.content.read(limit - total)
            if not data:
                break
            parts.append(data)
            total += len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def aclose(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.release()  # back to the pool when fully read, else the connection is dropped


async def read_all(stream: GCSReadStream) -> bytes:
    """Everything a stream holds; a checksum mismatch is retryable, nothing was handed out."""
    try:
        return await read_to_end(stream)
    except IntegrityError as error:
        error.retryable = True
        raise


def _range_header(offset: int, size: int | None) -> dict[str, str]:
    if size is not None:
        return {"Range": f"bytes={offset}-{offset + size - 1}"}
    return {"Range": f"bytes={offset}-"} if offset else {}


def _total_size(response: aiohttp.ClientResponse) -> tuple[int, int | None]:
    """(object size, first byte of the answer or None when it is the whole object)."""
    content_range = response.headers.get("Content-Range", "")
    if content_range.startswith("bytes ") and "/" in content_range:
        span, _, total = content_range[6:].partition("/")
        start = int(span.split("-")[0]) if span[:1].isdigit() else 0
        return int(total), start
    stored = response.headers.get("x-goog-stored-content-length")
    return int(stored or response.headers.get("Content-Length") or 0), None


def _verifier_for(response: aiohttp.ClientResponse, size: int, start: int | None) -> _Verifier | None:
    """A verifier when the answer is the whole stored object, else None."""
    if response.headers.get("Content-Encoding"):
        return None  # decompressed on the way: the stored hashes do not apply
    whole = start is None or (start == 0 and int(response.headers.get("Content-Length", -1)) == size)
    hashes = goog_hashes(response.headers.get("x-goog-hash"))
    name = "crc32c" if "crc32c" in hashes else "md5" if "md5" in hashes else None
    return _Verifier(name, hashes[name], size) if whole and name else None


def _check_pin(pin: str | None, generation: str | None, path: str) -> None:
    if pin is not None and generation is not None and generation != pin:
        raise ConditionNotMetError(f"object changed: generation {generation}, pinned {pin}", path=path)


async def _at_end(stat: Stat, path: str, offset: int, pin: str | None) -> GCSReadStream:
    """The server refused the range: an empty read at the end, or a bad offset."""
    obj = await stat(path)
    _check_pin(pin, obj.version, path)
    size = obj.size or 0
    if offset > size:
        raise InvalidOffsetError(f"offset {offset} is past the end of the object ({size} bytes)", path=path)
    return GCSReadStream(None, obj)


async def open_download(
    client: GCSClient,
    bucket: str,
    key: str,
    path: str,
    *,
    offset: int,
    size: int | None,
    pin: str | None,
    stat: Stat,
) -> GCSReadStream:
    """Start a ranged download of ``key`` (raw: the caller maps errors)."""
    if pin is not None and not pin.isdigit():
        raise ConditionNotMetError(f"{pin!r} is not a generation of this object", path=path)
    if size == 0:
        return await _at_end(stat, path, offset, pin)
    params = {"alt": "media", **({"ifGenerationMatch": pin} if pin else {})}
    url = object_url(client.options.endpoint, bucket, key)
    headers = _range_header(offset, size)
    response = await client.request("GET", url, params=params, headers=headers, check=False)
    if response.status == 416:
        response.release()
        return await _at_end(stat, path, offset, pin)
    if response.status >= 400:
        await raise_for_response(response)
    try:
        _check_pin(pin, response.headers.get("x-goog-generation"), path)
        total, start = _total_size(response)
    except BaseException:
        response.close()
        raise
    obj = from_headers(response.headers, path, total)
    return GCSReadStream(response, obj, _verifier_for(response, total, start))


async def fetch_bytes(
    client: GCSClient,
    url: URL,
    path: str,
    *,
    offset: int,
    size: int | None,
    stat: Stat,
) -> bytes:
    """A whole read in one response, checked like a stream (raw: the caller maps errors).

    ``url`` is the object's media URL (``?alt=media``). A checksum mismatch is
    retryable: nothing was handed out yet.
    """
    if size == 0:
        await _at_end(stat, path, offset, None)
        return b""
    auth = await client.auth()
    headers = {**auth, **_range_header(offset, size)} if offset or size else auth
    async with await client.session.get(url, headers=headers, timeout=client.fast_timeout) as response:
        if response.status == 416:
            response.close()  # fake-gcs-server closes the connection after its 416
            await _at_end(stat, path, offset, None)
            return b""
        if response.status >= 400:
            await raise_for_response(response)
        total, start = _total_size(response)
        verifier = _verifier_for(response, total, start)
        data = await read_whole(response)
    if verifier is not None:
        try:
            verifier.check_whole(data)
        except IntegrityError as error:
            error.retryable = True
            raise
    return data

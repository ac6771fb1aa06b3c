"""Streaming reads as a series of ranged GETs pinned to the first response's ETag.

What is checked, and when:

* A read of the whole blob (offset 0, to the end) whose blob has a stored MD5 is
  checked end to end: a running MD5 of every byte is compared with the stored
  one, which covers transit and storage alike. The mismatch raises
  `IntegrityError` instead of returning the last chunk; the earlier chunks have
  already been handed out unchecked, so a caller that stops before the end gets
  no check at all. Only the first range asks for a transactional MD5 (with
  ``validate_content``: the stored MD5 is not known before that answer); on the
  fast path its MD5 seeds the running one, so no byte is hashed twice. The later
  ranges go without one, ``chunk_size`` bytes each. A resumed read (the core's
  `Reader`) takes the running check over (`take_verifier`) and settles it at
  the end.
* Every other read (a range, or a blob without a stored MD5) asks for a
  transactional Content-MD5 on each GET and checks it before handing the chunk
  out (``validate_content``). The service gives one only for ranges of at most
  4 MiB, so those GETs are at most `MAX_CHUNK` bytes.
* A covered read (`open_covered_read`: a parallel read's later ranges, a resumed
  read) is checked by the caller, which carries the running MD5 of a whole read
  over it: its GETs ask for no transactional MD5 and are ``chunk_size`` long.

Chunks after the first carry ``If-Match`` with the first ETag, so a blob replaced
mid-read gives `ConditionNotMetError`, never a mix. On the fast path
(`Scope.fast`) each chunk is one signed Get Blob with the same range,
``x-ms-range-get-content-md5`` and ``If-Match`` headers the SDK sends.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.storage.blob import BlobProperties

from aiostore import (
    ConditionNotMetError,
    IntegrityError,
    InvalidOffsetError,
    Object,
    ReadStream,
    ServiceUnavailableError,
)

from ._config import MAX_CHUNK
from ._connection import Scope
from ._errors import ADAPTER, boundary, is_status
from ._fastplane import object_from_headers, total_size

if TYPE_CHECKING:
    from _hashlib import HASH

    import aiohttp

__all__ = ["PIECE", "BlobReadStream", "WholeCheck", "open_read"]

#: Bytes per chunk handed out of a GET that is streamed (no transactional MD5 to check first).
PIECE = 1024 * 1024


def _pin(etag: str | None) -> dict[str, Any]:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}


def _total_size(props: BlobProperties) -> int:
    """The whole blob's size from ``Content-Range: bytes a-b/<total>``."""
    content_range = str(props.content_range or "")
    _, slash, total = content_range.rpartition("/")
    return int(total) if slash and total.isdigit() else int(props.size)


class WholeCheck:
    """A running MD5 of a whole blob's bytes, settled against its stored MD5 (a core `Verifier`)."""

    def __init__(self, path: str, expected_md5: str, size: int) -> None:
        self._path = path
        self._expected = expected_md5
        self._size = size
        self._seen = 0
        self._md5: HASH = hashlib.md5(usedforsecurity=False)

    def add(self, chunk: bytes, md5: HASH | None = None) -> None:
        """`update`; a first chunk whose MD5 ``md5`` is already known is not hashed again."""
        if md5 is None or self._seen:
            self.update(chunk)
        else:
            self._md5, self._seen = md5.copy(), len(chunk)

    def update(self, chunk: bytes | memoryview, /) -> None:
        self._md5.update(chunk)
        self._seen += len(chunk)

    def finish(self) -> None:
        """Raise `IntegrityError` unless the bytes hashed are the whole blob the stored MD5 names."""
        got = self._md5.hexdigest()
        if self._seen != self._size or got != self._expected:
            raise IntegrityError(
                f"the data read ({self._seen} bytes, MD5 {got}) does not match the blob's "
                f"stored MD5 {self._expected} ({self._size} bytes)",
                op="read", path=self._path, adapter=ADAPTER,
            )  # fmt: skip


class BlobReadStream(ReadStream):
    """Chunks of ``[start, end)`` of one blob version; see the module docstring for the checks.

    A GET with a transactional MD5 (or through the SDK) is read whole and checked
    before it goes out; one without, on the fast path, is handed out as it arrives,
    `PIECE` bytes at a time, so no GET's body is held whole.
    """

    def __init__(
        self, scope: Scope, path: str, obj: Object, *, start: int, end: int, expected_md5: str | None
    ) -> None:
        self.object = obj
        self._scope = scope
        self._path = path
        self._open = True
        self._pos = start
        self._end = end
        self._pending: bytes | None = None
        self._body: aiohttp.ClientResponse | None = None  # a GET being streamed
        self._body_left = 0
        whole = start == 0 and end == obj.size
        self._check = WholeCheck(path, expected_md5, end) if expected_md5 and whole else None
        # checked end to end: the later ranges need no transactional MD5 (nor its 4 MiB cap)
        self._transactional = scope.config.validate_content and self._check is None
        self._range = self._range_size()

    def _range_size(self) -> int:
        """Bytes per GET: ``chunk_size``, at most 4 MiB with a transactional MD5, and on
        the SDK path, which reads each GET whole (the SDK's own default chunk)."""
        chunk_size = self._scope.config.chunk_size
        capped = self._transactional or self._scope.fast is None
        return min(chunk_size, MAX_CHUNK) if capped else chunk_size

    def leave_checks_to_caller(self) -> None:
        """The caller checks these bytes against the whole blob's MD5 (a covered read):
        the later GETs ask for no transactional MD5 and may be ``chunk_size`` long."""
        self._transactional = False
        self._range = self._range_size()

    def take_verifier(self) -> WholeCheck | None:
        """Hand the running whole-blob check to the core's `Reader` for a resumed read."""
        check, self._check = self._check, None
        return check

    def _take(self, chunk: bytes, md5: HASH | None = None) -> bytes:
        """Account for a fetched chunk (``md5``: its MD5, when already computed); settle
        the whole-blob check before the last chunk goes out."""
        if not chunk and self._pos < self._end:
            raise ServiceUnavailableError(
                f"the service returned no data at offset {self._pos} of {self._end}",
                op="read", path=self._path, adapter=ADAPTER,
            )  # fmt: skip
        self._pos += len(chunk)
        check = self._check
        if check is not None:
            check.add(chunk, md5)
            if self._pos >= self._end:
                self._check = None
                check.finish()
        return chunk

    def prime(self, first: bytes, md5: HASH | None = None) -> None:
        """Keep the chunk `open_read` already fetched for the first `next_chunk`.

        ``md5`` is the chunk's MD5 when the fast path already checked it against
        a transactional Content-MD5: the whole-blob check continues from it
        instead of hashing the chunk a second time.
        """
        self._pending = self._take(first, md5)

    def stream(self, response: aiohttp.ClientResponse) -> None:
        """Hand out ``response``'s body (a GET without a transactional MD5) as it arrives."""
        self._body = response
        self._body_left = response.content_length or 0
        if not self._body_left:  # an empty answer inside the range would never end the read
            self._end_body()
            self._take(b"")
        if self._body_left > self._end - self._pos:
            self._drop_body()
            raise ServiceUnavailableError(
                f"{self._body_left} bytes answered at offset {self._pos}, past the read's end {self._end}",
                op="read", path=self._path, adapter=ADAPTER,
            )  # fmt: skip

    async def next_chunk(self) -> bytes:
        while True:
            if self._pending is not None:
                chunk, self._pending = self._pending, None
                return chunk
            if self._body is not None:
                return self._take(await self._next_piece())
            if not self._open or self._pos >= self._end:
                return b""
            await self._fetch()

    async def _fetch(self) -> None:
        """Send the next GET: streamed on the fast path without a transactional MD5,
        else read whole (and checked) into ``_pending``."""
        length = min(self._range, self._end - self._pos)
        validate = self._transactional
        fast = self._scope.fast
        with boundary("read", self._path):
            if fast is not None:
                key = self._scope.key(self._path)
                if not validate:
                    self.stream(await fast.open_get(key, self._pos, length, self.object.etag))
                    return
                _, chunk, _ = await fast.get(key, self._pos, length, self.object.etag, validate=True)
            else:
                downloader = await self._scope.blob(self._path).download_blob(
                    offset=self._pos, length=length, validate_content=validate, **_pin(self.object.etag)
                )
                chunk = await downloader.readall()
        self._pending = self._take(chunk)

    async def _next_piece(self) -> bytes:
        """The next piece of the GET being streamed; at its end, the connection goes back
        to the pool. A body cut short is a retryable error, never a short read."""
        body = self._body
        assert body is not None
        want = min(PIECE, self._body_left)
        try:
            with boundary("read", self._path):
                piece = await body.content.readexactly(want)
        except asyncio.IncompleteReadError as exc:
            self._drop_body()
            raise ServiceUnavailableError(
                f"an answer ended {want - len(exc.partial)} bytes early, after offset {self._pos}",
                op="read", path=self._path, adapter=ADAPTER,
            ) from exc  # fmt: skip
        except BaseException:
            self._drop_body()
            raise
        self._body_left -= want
        if not self._body_left:
            self._end_body()
        return piece

    def _end_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.release()

    def _drop_body(self) -> None:
        """Close the connection of a GET not read to its end (it cannot be reused)."""
        body, self._body = self._body, None
        if body is not None:
            body.close()

    async def aclose(self) -> None:
        self._open = False
        self._pending = None
        self._drop_body()


async def _empty(
    scope: Scope, path: str, offset: int, if_match: str | None, *, inside: bool
) -> BlobReadStream | None:
    """A stream of nothing at ``offset`` (at the end, or anywhere when ``inside``), else None."""
    obj = await stat(scope, path, if_match)
    size = obj.size or 0
    if offset > size:
        raise InvalidOffsetError(
            f"offset {offset} is past the end ({size} bytes)", op="read", path=path, adapter=ADAPTER
        )
    if offset < size and not inside:
        return None
    return BlobReadStream(scope, path, obj, start=offset, end=offset, expected_md5=None)


async def open_read(
    scope: Scope, path: str, offset: int, size: int | None, if_match: str | None, *, covered: bool = False
) -> ReadStream:
    """Fetch the first chunk (so a missing blob or a bad offset fails here) and wrap it.

    Azure answers 416 for a range starting at the blob's size; the properties then
    tell an empty read at the end from an offset past it. ``covered``: the caller
    checks these bytes against the stored MD5, so no GET asks for a transactional one.
    """
    validate = scope.config.validate_content and not covered
    # the stored MD5 is not known yet: the first range keeps its transactional MD5 (and cap)
    capped = validate or scope.fast is None
    first = min(scope.config.chunk_size, MAX_CHUNK) if capped else scope.config.chunk_size
    length = first if size is None else min(size, first)
    with boundary("read", path):
        if size == 0:
            empty = await _empty(scope, path, offset, if_match, inside=True)
            assert empty is not None
            return empty
        for _ in range(2):  # a second try only if the blob grew between the 416 and the stat
            try:
                opened = await _first(scope, path, offset, size, length, if_match, validate)
                if covered:
                    opened.leave_checks_to_caller()
                return opened
            except Exception as exc:
                if not is_status(exc, 416):
                    raise
                stream = await _empty(scope, path, offset, if_match, inside=False)
                if stream is not None:
                    return stream
    raise ConditionNotMetError(
        "the blob changed while the read was opening", op="read", path=path, adapter=ADAPTER, retryable=True
    )


async def stat(scope: Scope, path: str, if_match: str | None = None) -> Object:
    """Get Blob Properties of ``path`` as an `Object` (fast path or SDK)."""
    key = scope.key(path)
    fast = scope.fast
    if fast is not None:
        return object_from_headers(path, key, await fast.head(key, if_match))
    return scope.object(key, await scope.blob(path).get_blob_properties(**_pin(if_match)))


async def _first(
    scope: Scope, path: str, offset: int, size: int | None, length: int, if_match: str | None, validate: bool
) -> BlobReadStream:
    """The stream with its first chunk fetched (Get Blob raises 416 at or past the end)."""
    fast = scope.fast
    if fast is not None and not validate:
        return await _first_streamed(scope, path, offset, size, length, if_match)
    if fast is not None:
        key = scope.key(path)
        headers, first, md5 = await fast.get(key, offset, length, if_match, validate=validate)
        stream = _stream(
            scope, path, object_from_headers(path, key, headers), total_size(headers), offset, size
        )
        stream.prime(first, md5)
        return stream
    downloader = await scope.blob(path).download_blob(
        offset=offset, length=length, validate_content=validate, **_pin(if_match)
    )
    first = await downloader.readall()
    total = _total_size(downloader.properties)
    stream = _stream(
        scope, path, scope.object(scope.key(path), downloader.properties, size=total), total, offset, size
    )
    stream.prime(first)
    return stream


async def _first_streamed(
    scope: Scope, path: str, offset: int, size: int | None, length: int, if_match: str | None
) -> BlobReadStream:
    """The stream reading its first GET (no transactional MD5) as the body arrives."""
    assert scope.fast is not None
    key = scope.key(path)
    response = await scope.fast.open_get(key, offset, length, if_match)
    try:
        obj = object_from_headers(path, key, response.headers)
        stream = _stream(scope, path, obj, total_size(response.headers), offset, size)
        stream.stream(response)
    except BaseException:
        response.close()
        raise
    return stream


def _stream(
    scope: Scope, path: str, obj: Object, total: int, offset: int, size: int | None
) -> BlobReadStream:
    """A stream of ``size`` bytes (to the end when None) from ``offset`` of a blob of
    ``total`` bytes, its first GET still to be handed to it (`prime` or `stream`)."""
    end = total if size is None else min(total, offset + size)
    return BlobReadStream(scope, path, obj, start=offset, end=end, expected_md5=obj.content_md5)

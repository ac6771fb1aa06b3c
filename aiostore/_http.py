"""Small pieces shared by the adapters that send their hot calls through aiohttp.

Imported only by adapters that depend on aiohttp (the core itself does not).

Example:
    >>> http_date("Wed, 21 Oct 2015 07:28:00 GMT").year
    2015
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
from aiohttp.abc import AbstractStreamWriter

from ._gather import Gathered
from ._pieces import Pieces, buffers_of
from ._retry import TimeoutOptions

__all__ = ["SLICE_SIZE", "BufferPayload", "http_date", "read_body", "read_whole", "reads_covered"]

#: Bytes handed to the transport per write of a request body.
SLICE_SIZE = 1024 * 1024

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_last_date: tuple[str, datetime | None] = ("", None)


def http_date(text: str | None) -> datetime | None:
    """An RFC 7231 date as an aware datetime; None when absent or unreadable.

    The last answer is cached: objects written in the same second share it.
    """
    global _last_date
    if not text:
        return None
    if text == _last_date[0]:
        return _last_date[1]
    try:
        _, day, month, year, clock, _ = text.split()
        hour, minute, second = clock.split(":")
        when = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except (ValueError, KeyError):
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            when = None
    _last_date = (text, when)
    return when


class BufferPayload(aiohttp.payload.Payload):
    """A request body over bytes, a memoryview or `Pieces`, written in 1 MiB slices
    without copies (the pieces one after another, never joined).

    aiohttp warns (`ResourceWarning`) about raw ``bytes`` bodies over 1 MiB, and
    slicing a memoryview costs nothing.
    """

    _autoclose = True

    def __init__(self, data: bytes | bytearray | memoryview | Pieces) -> None:
        views = tuple(memoryview(buffer).cast("B") for buffer in buffers_of(data))
        super().__init__(views, content_type=None)
        self._size = sum(view.nbytes for view in views)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return b"".join(self._value).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        size: int = self._size or 0
        left = size if content_length is None else min(content_length, size)
        for view in self._value:
            end = min(view.nbytes, left)
            for start in range(0, end, SLICE_SIZE):
                await writer.write(view[start : min(start + SLICE_SIZE, end)])
            left -= end
            if not left:
                return


async def read_body(response: aiohttp.ClientResponse) -> bytes:
    """The whole (small) body; a cancelled or failed read drops the connection."""
    try:
        return await response.read()
    except BaseException:
        response.close()
        raise


async def read_whole(response: aiohttp.ClientResponse) -> bytes:
    """The whole (possibly large) body, copied once (`Gathered`), unlike ``response.read()``,
    which holds every chunk until it joins them; a cancelled or failed read drops the connection.
    """
    gathered = Gathered()
    try:
        async for chunk in response.content.iter_any():
            gathered.add(chunk)
    except BaseException:
        response.close()
        raise
    return gathered.value()


def reads_covered(timeouts: TimeoutOptions | None, read_timeout: float) -> bool:
    """Whether the core's timeouts end a silent read before ``read_timeout`` would.

    Every fast-path request runs inside one attempt (``attempt``) and a streamed
    body is read under the stall timeout (``stall``); when both are at most the
    read timeout, the per-read timer aiohttp would arm, re-arm on every packet
    and cancel adds nothing but CPU.

    Example:
        >>> reads_covered(TimeoutOptions(attempt=60.0, stall=30.0), 300.0)
        True
    """
    if timeouts is None or timeouts.attempt is None or timeouts.stall is None:
        return False
    return timeouts.attempt <= read_timeout and timeouts.stall <= read_timeout

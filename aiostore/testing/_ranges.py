"""Ranged reads at every edge, through ``read`` and through ``reader``."""

from __future__ import annotations

import pytest

from aiostore import InvalidOffsetError, NotFoundError, Store

from ._fixtures import Fixtures
from ._helpers import payload, read_stream

__all__ = ["RangeTests"]

SIZE = 1000
DATA = payload(SIZE, seed=7)

GOOD_RANGES = [
    pytest.param(0, None, id="all"),
    pytest.param(0, 10, id="head"),
    pytest.param(500, None, id="middle-to-end"),
    pytest.param(500, 100, id="middle"),
    pytest.param(1, SIZE - 2, id="inner"),
    pytest.param(SIZE - 1, None, id="last-byte"),
    pytest.param(SIZE - 1, 1, id="last-byte-sized"),
    pytest.param(SIZE, None, id="at-end"),
    pytest.param(SIZE, 5, id="at-end-sized"),
    pytest.param(0, 0, id="size-0-at-start"),
    pytest.param(500, 0, id="size-0-in-middle"),
    pytest.param(900, 500, id="past-end-truncated"),
    pytest.param(0, 10 * SIZE, id="whole-truncated"),
    pytest.param(0, SIZE, id="offset-plus-size-is-size"),
    pytest.param(400, SIZE - 400, id="tail-exactly"),
]

BAD_OFFSETS = [
    pytest.param(SIZE + 1, None, id="one-past-end"),
    pytest.param(SIZE + 1, 0, id="one-past-end-size-0"),
    pytest.param(10 * SIZE, 10, id="far-past-end"),
    pytest.param(-1, None, id="negative"),
    pytest.param(-SIZE, 10, id="very-negative"),
]

APIS = ["read", "reader"]


async def _read(s: Store, api: str, path: str, offset: int, size: int | None, whole: int = SIZE) -> bytes:
    """Read a range; through ``reader``, also check ``reader.object.size`` is ``whole``."""
    if api == "read":
        return await s.read(path, offset=offset, size=size)
    data, described = await read_stream(s, path, offset=offset, size=size)
    assert described.size == whole, "reader.object.size must be the whole object's size"
    return data


class RangeTests(Fixtures):
    """``offset``/``size`` reads: inside, at and past the edges of an object."""

    @pytest.mark.parametrize("api", APIS)
    @pytest.mark.parametrize(("offset", "size"), GOOD_RANGES)
    async def test_range(self, s: Store, api: str, offset: int, size: int | None) -> None:
        await s.write("range.bin", DATA)
        end = SIZE if size is None else offset + size
        assert await _read(s, api, "range.bin", offset, size) == DATA[offset:end]
        await s.delete("range.bin")

    @pytest.mark.parametrize("api", APIS)
    @pytest.mark.parametrize(("offset", "size"), BAD_OFFSETS)
    async def test_bad_offset(self, s: Store, api: str, offset: int, size: int | None) -> None:
        await s.write("range.bin", DATA)
        with pytest.raises(InvalidOffsetError) as info:
            await _read(s, api, "range.bin", offset, size)
        assert isinstance(info.value, ValueError)
        await s.delete("range.bin")

    @pytest.mark.parametrize("api", APIS)
    async def test_empty_object_ranges(self, s: Store, api: str) -> None:
        await s.write("empty.bin", b"")
        assert await _read(s, api, "empty.bin", 0, None, whole=0) == b""
        assert await _read(s, api, "empty.bin", 0, 10, whole=0) == b""
        with pytest.raises(InvalidOffsetError):
            await _read(s, api, "empty.bin", 1, None, whole=0)
        await s.delete("empty.bin")

    @pytest.mark.parametrize("api", APIS)
    async def test_range_of_missing_object_is_not_found(self, s: Store, api: str) -> None:
        with pytest.raises(NotFoundError):
            await _read(s, api, "missing.bin", 5, 10)

    @pytest.mark.parametrize("api", APIS)
    async def test_every_byte_is_addressable(self, s: Store, api: str) -> None:
        await s.write("range.bin", DATA)
        step = 97
        pieces = [await _read(s, api, "range.bin", start, step) for start in range(0, SIZE, step)]
        assert b"".join(pieces) == DATA
        await s.delete("range.bin")

"""`Gathered` and `Presized`: whole reads land in one buffer, copied once."""

from __future__ import annotations

import asyncio
import os
import tracemalloc
from collections.abc import Callable, Iterable, Iterator

import pytest

from aiostore._gather import Gathered, Presized

MiB = 1024 * 1024
CHUNKS = 24


def _fresh_chunks(order: Iterable[int] = range(CHUNKS)) -> Iterator[bytes]:
    """1 MiB chunks, each a new allocation, as a socket read hands them out."""
    for index in order:
        yield bytes([index]) * MiB


def _gathered() -> bytes:
    gathered = Gathered()
    for chunk in _fresh_chunks():
        gathered.add(chunk)
    return gathered.value()


def _joined() -> bytes:
    return b"".join(list(_fresh_chunks()))


def _presized_backwards() -> bytes:
    buffer = Presized(CHUNKS * MiB)
    order = range(CHUNKS - 1, -1, -1)
    for index, chunk in zip(order, _fresh_chunks(order), strict=True):
        buffer.view[index * MiB : (index + 1) * MiB] = chunk
    return buffer.value()


def _bytearray_then_bytes() -> bytes:
    buffer = bytearray(CHUNKS * MiB)
    for index, chunk in enumerate(_fresh_chunks()):
        buffer[index * MiB : (index + 1) * MiB] = chunk
    return bytes(buffer)


def _peak_of(build: Callable[[], bytes]) -> tuple[bytes, int]:
    tracemalloc.start()
    try:
        result = build()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


EXPECTED = b"".join(bytes([index]) * MiB for index in range(CHUNKS))


@pytest.mark.parametrize("build", [_gathered, _presized_backwards])
def test_one_copy_plus_a_chunk_at_the_peak(build: Callable[[], bytes]) -> None:
    result, peak = _peak_of(build)
    assert result == EXPECTED
    assert peak < len(EXPECTED) * 1.2 + 2 * MiB, f"peak {peak / MiB:.1f} MiB for {CHUNKS} MiB"


@pytest.mark.parametrize("build", [_joined, _bytearray_then_bytes])
def test_the_measure_sees_the_second_copy_of_the_old_ways(build: Callable[[], bytes]) -> None:
    result, peak = _peak_of(build)
    assert result == EXPECTED
    assert peak > len(EXPECTED) * 1.9, "the peak check above could not fail"


@pytest.mark.parametrize(
    "chunks",
    [[], [b""], [b"a"], [b"", b"ab", b""], [b"ab", b"cd"], [b"a", b"", b"bc", b"d" * 1000]],
    ids=["none", "empty", "one", "one-among-empties", "two", "mixed"],
)
def test_gathered_is_the_join(chunks: list[bytes]) -> None:
    gathered = Gathered()
    for chunk in chunks:
        gathered.add(chunk)
    assert gathered.nbytes == sum(map(len, chunks))
    value = gathered.value()
    assert type(value) is bytes
    assert value == b"".join(chunks)


def test_gathered_single_chunk_is_not_copied() -> None:
    chunk = os.urandom(100)
    gathered = Gathered()
    gathered.add(chunk)
    gathered.add(b"")
    assert gathered.value() is chunk


def test_presized_sizes_and_leftover_views() -> None:
    assert Presized(0).value() == b""
    buffer = Presized(6)
    kept = buffer.view[0:3]
    kept[:] = b"abc"
    buffer.view[3:6] = b"def"
    value = buffer.value()  # a view still alive: the value is a copy, still right
    assert (type(value), value) == (bytes, b"abcdef")
    kept[:] = b"xyz"
    assert value == b"abcdef", "the value changed behind the caller's back"


async def test_presized_in_steps_lets_the_loop_run_and_holds_one_copy() -> None:
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)
    tracemalloc.start()
    try:
        buffer = await Presized.in_steps(CHUNKS * MiB, step=MiB)
        for index, chunk in enumerate(_fresh_chunks()):
            buffer.view[index * MiB : (index + 1) * MiB] = chunk
        result = buffer.value()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        counter.cancel()
    assert result == EXPECTED
    assert turns >= CHUNKS - 1, f"the loop ran {turns} times while {CHUNKS} MiB were zeroed"
    assert peak < len(EXPECTED) * 1.2 + 2 * MiB, f"peak {peak / MiB:.1f} MiB"

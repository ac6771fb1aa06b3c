"""Concurrency: racing creates, parallel readers and writers, atomic replacement."""

from __future__ import annotations

import asyncio
import random

import pytest

from aiostore import AlreadyExistsError, Object, Store

from ._fixtures import Fixtures
from ._helpers import KiB, MiB, listing, payload, read_stream

__all__ = ["ConcurrencyTests"]

RACERS = 20
READERS = 10
WRITERS = 32


def _contender(index: int) -> bytes:
    return f"writer {index:02d} won ".encode() * 64


class ConcurrencyTests(Fixtures):
    """Many coroutines on one store at once."""

    @pytest.mark.capability("if_not_exists")
    async def test_if_not_exists_race_has_one_winner(self, s: Store) -> None:
        results = await asyncio.gather(
            *(s.write("race.bin", _contender(index), if_not_exists=True) for index in range(RACERS)),
            return_exceptions=True,
        )
        winners = [index for index, result in enumerate(results) if isinstance(result, Object)]
        losers = [result for result in results if isinstance(result, AlreadyExistsError)]
        assert len(winners) == 1, f"{len(winners)} writers won: {results}"
        assert len(losers) == RACERS - 1, f"unexpected outcomes: {results}"
        assert await s.read("race.bin") == _contender(winners[0])
        await s.delete("race.bin")

    async def test_concurrent_streaming_readers(self, s: Store) -> None:
        data = payload(MiB, seed=41)
        await s.write("shared.bin", data)
        rng = random.Random(42)
        ranges = [(offset, rng.randrange(1, 200 * KiB)) for offset in rng.sample(range(len(data)), READERS)]
        results = await asyncio.gather(
            *(read_stream(s, "shared.bin", offset=offset, size=size) for offset, size in ranges)
        )
        for (offset, size), (got, described) in zip(ranges, results, strict=True):
            assert got == data[offset : offset + size], f"wrong bytes at offset {offset}"
            assert described.size == len(data)
        await s.delete("shared.bin")

    async def test_concurrent_writers_of_different_keys(self, s: Store) -> None:
        items = {f"w/{index:02d}.bin": payload(4 * KiB + index, seed=index) for index in range(WRITERS)}
        written = await asyncio.gather(*(s.write(path, data) for path, data in items.items()))
        assert sorted(obj.path for obj in written) == sorted(items)
        found = await listing(s, "w", recursive=True)
        assert {path: obj.size for path, obj in found.items()} == {p: len(d) for p, d in items.items()}
        reads = await asyncio.gather(*(s.read(path) for path in items))
        assert reads == list(items.values())
        await s.delete("w", recursive=True)

    async def test_concurrent_streaming_writers(self, s: Store) -> None:
        items = {f"sw/{index}.bin": payload(64 * KiB, seed=50 + index) for index in range(8)}

        async def stream(path: str, data: bytes) -> None:
            async with s.writer(path) as writer:
                for start in range(0, len(data), 8 * KiB):
                    await writer.write(data[start : start + 8 * KiB])

        await asyncio.gather(*(stream(path, data) for path, data in items.items()))
        assert [await s.read(path) for path in items] == list(items.values())
        await s.delete("sw", recursive=True)

    async def test_concurrent_overwrites_are_atomic(self, s: Store) -> None:
        contents = [payload(64 * KiB, seed=60 + index) for index in range(10)]
        await asyncio.gather(*(s.write("hot.bin", data) for data in contents))
        final = await s.read("hot.bin")
        assert final in contents, "concurrent writes of one key mixed their bytes"
        assert (await s.stat("hot.bin")).size == len(final)
        await s.delete("hot.bin")

    async def test_read_while_overwriting_sees_whole_versions(self, s: Store) -> None:
        old, new = payload(128 * KiB, seed=70), payload(96 * KiB, seed=71)
        await s.write("swap.bin", old)
        seen, _ = await asyncio.gather(
            asyncio.gather(*(s.read("swap.bin") for _ in range(5))),
            s.write("swap.bin", new),
        )
        assert all(version in (old, new) for version in seen), "a read saw a half-written object"
        assert await s.read("swap.bin") == new
        await s.delete("swap.bin")

"""Streaming: readers that hand out chunks, writers fed piece by piece, multi-segment
objects, and writers that fail or are cancelled half-way."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from aiostore import InvalidArgumentError, Store

from ._fixtures import Fixtures
from ._helpers import (
    KiB,
    MiB,
    achunks,
    big_size,
    chunks,
    digest,
    listing,
    payload,
    read_stream,
    segment_size,
    segments,
)

__all__ = ["StreamTests"]

ODD_CHUNK = 300_007  # deliberately not aligned with any part size


class Boom(Exception):
    """Raised inside a writer block by the tests."""


async def _assert_nothing_pending(s: Store) -> None:
    if s.metadata().capabilities.list_segments:
        assert await segments(s) == [], "an aborted write left an upload in progress"


async def _fail_inside_writer(s: Store, path: str, data: bytes) -> None:
    async with s.writer(path) as writer:
        for piece in chunks(data, segment_size(s)):
            await writer.write(piece)
        raise Boom


class StreamTests(Fixtures):
    """``store.reader`` and ``store.writer``."""

    async def test_reader_chunks_join_to_the_object(self, s: Store) -> None:
        data = payload(MiB + 17, seed=11)
        await s.write("stream.bin", data)
        async with s.reader("stream.bin") as reader:
            assert reader.object.size == len(data)
            assert reader.object.path == "stream.bin"
            pieces = [piece async for piece in reader]
        assert all(pieces), "a reader must not yield empty chunks"
        assert digest(b"".join(pieces)) == digest(data)
        await s.delete("stream.bin")

    async def test_reader_read_n(self, s: Store) -> None:
        data = payload(10 * KiB, seed=12)
        await s.write("stream.bin", data)
        async with s.reader("stream.bin", offset=100) as reader:
            first = await reader.read(10)
            second = await reader.read(1000)
            rest = await reader.read()
            after = await reader.read()
        assert 0 < len(first) <= 10
        assert 0 < len(second) <= 1000
        assert first + second + rest == data[100:]
        assert after == b""
        await s.delete("stream.bin")

    async def test_writer_publishes_on_clean_exit(self, s: Store) -> None:
        data = payload(100 * KiB, seed=13)
        async with s.writer("written.bin") as writer:
            for piece in chunks(data, 10 * KiB):
                await writer.write(piece)
            assert not await s.exists("written.bin"), "a writer's object is visible before it finished"
        assert writer.object is not None
        assert (writer.object.path, writer.object.size) == ("written.bin", len(data))
        assert await s.read("written.bin") == data
        await s.delete("written.bin")

    async def test_writer_with_declared_size(self, s: Store) -> None:
        data = payload(50 * KiB, seed=14)
        async with s.writer("sized.bin", size=len(data)) as writer:
            for piece in chunks(data, 7 * KiB):
                await writer.write(piece)
        assert writer.object is not None
        assert writer.object.size == len(data)
        assert await s.read("sized.bin") == data
        await s.delete("sized.bin")

    async def test_writer_short_of_declared_size_leaves_nothing(self, s: Store) -> None:
        with pytest.raises(InvalidArgumentError):
            async with s.writer("short.bin", size=100) as writer:
                await writer.write(b"only 16 bytes...")
        assert not await s.exists("short.bin")
        await _assert_nothing_pending(s)

    async def test_multi_segment_writer(self, s: Store) -> None:
        data = payload(big_size(s), seed=15)
        async with s.writer("big.bin") as writer:
            for piece in chunks(data, ODD_CHUNK):
                await writer.write(piece)
        assert writer.object is not None
        assert (writer.object.path, writer.object.size) == ("big.bin", len(data))
        assert (await s.stat("big.bin")).size == len(data)
        assert digest((await read_stream(s, "big.bin"))[0]) == digest(data)
        await s.delete("big.bin")

    async def test_multi_segment_writer_of_mixed_chunks(self, s: Store) -> None:
        """Large chunks (bytes and views of bytes, some cut by a part boundary), runs of
        small ones, and one mutable buffer refilled after every write land in order."""
        scratch = bytearray(ODD_CHUNK)
        expected = bytearray()
        async with s.writer("mixed.bin") as writer:
            for seed in itertools.count(20):
                if len(expected) >= big_size(s):
                    break
                large = payload(ODD_CHUNK + 1, seed)
                smalls = [payload(4099, seed * 100 + n) for n in range(16)]
                scratch[:] = payload(ODD_CHUNK, seed + 1000)
                mixed: list[bytes | bytearray | memoryview] = [large, memoryview(large)[1:], *smalls, scratch]
                for chunk in mixed:
                    await writer.write(chunk)
                    expected += chunk
                scratch[:] = bytes(ODD_CHUNK)  # a buffer kept instead of copied now reads as zeros
        assert (await s.stat("mixed.bin")).size == len(expected)
        assert digest(await s.read("mixed.bin")) == digest(bytes(expected))
        await s.delete("mixed.bin")

    async def test_multi_segment_write_of_unsized_async_iterable(self, s: Store) -> None:
        data = payload(big_size(s), seed=16)
        written = await s.write("big.bin", achunks(data, ODD_CHUNK))
        assert (written.path, written.size) == ("big.bin", len(data))
        assert digest(await s.read("big.bin")) == digest(data)
        await s.delete("big.bin")

    @pytest.mark.parametrize("existing", [False, True], ids=["new", "over-existing"])
    async def test_exception_in_writer_leaves_nothing(self, s: Store, existing: bool) -> None:
        if existing:
            await s.write("fail.bin", b"old content")
        with pytest.raises(Boom):
            await _fail_inside_writer(s, "fail.bin", payload(2 * segment_size(s) + 5))
        if existing:
            assert await s.read("fail.bin") == b"old content"
            await s.delete("fail.bin")
        assert not await s.exists("fail.bin")
        await _assert_nothing_pending(s)

    @pytest.mark.parametrize("moment", ["idle", "busy"])
    async def test_cancelled_writer_leaves_nothing(self, s: Store, moment: str) -> None:
        piece = payload(segment_size(s), seed=17)
        started = asyncio.Event()

        async def upload() -> None:
            try:
                async with s.writer("cancel.bin") as writer:
                    for count in range(4):
                        await writer.write(piece)
                        if count == 1:
                            started.set()
                        if moment == "busy":
                            await asyncio.sleep(0.001)
                    await asyncio.Event().wait()  # never set: the test cancels us
            finally:
                started.set()  # an early failure surfaces at `await task` instead of a hang

        task = asyncio.create_task(upload())
        await asyncio.wait_for(started.wait(), timeout=120)
        if moment == "idle":
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not await s.exists("cancel.bin")
        assert await listing(s, recursive=True) == {}
        await _assert_nothing_pending(s)

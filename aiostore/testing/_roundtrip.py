"""Round trips: what is written is read back byte for byte, from every kind of source."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

import pytest

from aiostore import NotFoundError, Store

from ._fixtures import Fixtures
from ._helpers import AsyncFile, KiB, MiB, achunks, chunks, digest, payload, read_stream, traced_peak

__all__ = ["RoundTripTests"]

# Every byte value, a broken UTF-8 sequence, a BOM, and line endings that must not be translated.
BINARY = bytes(range(256)) + b"\xc3\x28\xa0\xa1\xff\xfe\xef\xbb\xbf\r\n\n\r\x00"

SOURCES: dict[str, Callable[[bytes], object]] = {
    "bytes": bytes,
    "bytearray": bytearray,
    "memoryview": memoryview,
    "sync-iterable": lambda data: iter(list(chunks(data, 7 * KiB))),
    "async-iterable": lambda data: achunks(data, 7 * KiB),
    "sync-file": io.BytesIO,
    "async-file": AsyncFile,
}


async def _missing_read(s: Store) -> object:
    return await s.read("missing.bin")


async def _missing_stat(s: Store) -> object:
    return await s.stat("missing.bin")


async def _missing_reader(s: Store) -> object:
    return await read_stream(s, "missing.bin")


async def _missing_nested(s: Store) -> object:
    return await s.read("no/such/dir/missing.bin")


class RoundTripTests(Fixtures):
    """Write then read: sizes, sources, binary content, overwrite, empty objects, missing ones."""

    @pytest.mark.parametrize("size", [0, 1, 32, MiB], ids=["0B", "1B", "32B", "1MiB"])
    async def test_round_trip(self, s: Store, size: int) -> None:
        data = payload(size, seed=size)
        written = await s.write("object.bin", data)
        assert written.path == "object.bin"
        assert written.size == size
        assert digest(await s.read("object.bin")) == digest(data)
        assert (await s.stat("object.bin")).size == size
        await s.delete("object.bin")

    async def test_large_read_holds_one_copy(self, s: Store) -> None:
        """``read`` copies a large object into memory once: no chunk list held until a join,
        no buffer copied again into ``bytes`` (a second copy doubled its CPU and peak memory)."""
        data = payload(24 * MiB, seed=24)
        await s.write("large.bin", data)
        got, peak = await traced_peak(s.read("large.bin"))
        assert digest(got) == digest(data)
        assert peak < 1.5 * len(data), f"reading 24 MiB allocated up to {peak / MiB:.1f} MiB at once"
        await s.delete("large.bin")

    @pytest.mark.parametrize("source", list(SOURCES))
    async def test_write_from_source(self, s: Store, source: str) -> None:
        data = BINARY + payload(100 * KiB, seed=3)
        written = await s.write("source.bin", SOURCES[source](data))
        assert (written.path, written.size) == ("source.bin", len(data))
        assert digest(await s.read("source.bin")) == digest(data)
        await s.delete("source.bin")

    async def test_content_is_bytes_not_text(self, s: Store) -> None:
        await s.write("binary.bin", BINARY)
        assert await s.read("binary.bin") == BINARY
        await s.delete("binary.bin")

    @pytest.mark.parametrize("via", ["write", "writer"])
    async def test_overwrite_leaves_no_tail(self, s: Store, via: str) -> None:
        await s.write("over.bin", payload(10 * KiB, seed=1))
        short = b"short"
        if via == "write":
            await s.write("over.bin", short)
        else:
            async with s.writer("over.bin") as writer:
                await writer.write(short)
        assert await s.read("over.bin") == short
        assert (await s.stat("over.bin")).size == len(short)
        await s.delete("over.bin")

    async def test_writer_without_writes_creates_empty_object(self, s: Store) -> None:
        async with s.writer("empty.bin") as writer:
            pass
        assert writer.object is not None
        assert writer.object.size == 0
        assert await s.read("empty.bin") == b""
        assert (await s.stat("empty.bin")).size == 0
        await s.delete("empty.bin")

    async def test_empty_object_reads_empty_stream(self, s: Store) -> None:
        await s.write("empty.bin", b"")
        data, described = await read_stream(s, "empty.bin")
        assert data == b""
        assert described.size == 0
        await s.delete("empty.bin")

    @pytest.mark.parametrize(
        "operation",
        [_missing_read, _missing_stat, _missing_reader, _missing_nested],
        ids=["read", "stat", "reader", "read-nested"],
    )
    async def test_missing_object_is_not_found(
        self, s: Store, operation: Callable[[Store], Awaitable[object]]
    ) -> None:
        with pytest.raises(NotFoundError) as info:
            await operation(s)
        assert isinstance(info.value, FileNotFoundError)
        assert not await s.exists("missing.bin")

    async def test_directory_is_not_an_object(self, s: Store) -> None:
        await s.write("d/inside.txt", b"inside")
        assert not await s.exists("d")
        with pytest.raises(NotFoundError):
            await s.read("d")
        await s.delete("d/inside.txt")

    async def test_distinct_keys_hold_distinct_data(self, s: Store) -> None:
        names = ["a.txt", "a/b", "ab", "a-b", "b/a"]
        for index, name in enumerate(names):
            await s.write(name, f"content of {name} #{index}".encode())
        for index, name in enumerate(names):
            assert await s.read(name) == f"content of {name} #{index}".encode()
        for name in names:
            await s.delete(name)

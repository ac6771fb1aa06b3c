"""Parts as `Pieces`: the caller's chunks go to an adapter that can send them as they are."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import pytest

import aiostore
from aiostore import Pieces, TransferOptions
from aiostore._pieces import BY_REFERENCE
from aiostore.memory import MemoryAdapter

KiB = 1024


def test_pieces_size_and_join() -> None:
    head, tail = b"ab", b"xcdef"
    pieces = Pieces([head, memoryview(tail)[1:]])
    assert (pieces.nbytes, len(pieces), pieces.join()) == (6, 6, b"abcdef")
    assert pieces.buffers[0] is head
    assert Pieces([]).join() == b""
    whole = os.urandom(100)
    assert Pieces([memoryview(whole)]).join() is whole, "one whole bytes object is not copied"
    assert Pieces([memoryview(whole)[:10]]).join() == whole[:10]


@pytest.mark.parametrize("at", [0, 1, 2, 3, 5, 6, 9])
def test_split_cuts_at_any_byte_without_copying(at: int) -> None:
    first, second = os.urandom(3), os.urandom(3)
    head, rest = Pieces([first, second]).split(at)
    assert (head.join(), rest.join()) == ((first + second)[:at], (first + second)[at:])
    assert (head.nbytes, rest.nbytes) == (min(at, 6), 6 - min(at, 6))
    kept = [memoryview(piece).obj for piece in (*head, *rest)]
    assert all(obj is first or obj is second for obj in kept), "a piece was copied"


class PiecesAdapter(MemoryAdapter):
    """A memory adapter that takes parts as pieces and records them."""

    writes_pieces: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.parts: dict[int, Pieces] = {}

    async def write_segment_pieces(
        self, segment: aiostore.Segment, index: int, pieces: Pieces
    ) -> aiostore.Part:
        self.parts[index] = pieces
        return await self.write_segment(segment, index, pieces.join())


async def test_large_bytes_chunks_reach_the_adapter_by_reference() -> None:
    adapter = PiecesAdapter()
    chunks = [os.urandom(300 * KiB) for _ in range(6)]
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=900 * KiB)) as store:
        async with store.writer("big") as writer:
            for chunk in chunks:
                await writer.write(chunk)
        assert await store.read("big") == b"".join(chunks)
    assert sorted(adapter.parts) == [0, 1]
    sent = [piece for index in (0, 1) for piece in adapter.parts[index]]
    assert [memoryview(piece).obj for piece in sent] == chunks
    assert all(memoryview(piece).obj is chunk for piece, chunk in zip(sent, chunks, strict=True))


async def test_a_chunk_split_by_a_part_boundary_is_sliced_not_copied() -> None:
    adapter = PiecesAdapter()
    chunk = os.urandom(700 * KiB)
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=500 * KiB)) as store:
        async with store.writer("split") as writer:
            await writer.write(chunk)
            await writer.write(chunk)
        assert await store.read("split") == chunk + chunk
    # parts: [0:500) of the first; [500:700) of the first + [0:300) of the second; the rest
    part_sizes = [adapter.parts[index].nbytes for index in sorted(adapter.parts)]
    assert part_sizes == [500 * KiB, 500 * KiB, 400 * KiB]
    assert all(memoryview(piece).obj is chunk for pieces in adapter.parts.values() for piece in pieces)


async def test_small_and_reused_chunks_are_joined_into_few_pieces() -> None:
    """Runs of small chunks become one piece each (no part of thousands of tiny
    writes), and a buffer the caller refills is copied before it is kept."""
    adapter = PiecesAdapter()
    scratch = bytearray(BY_REFERENCE)  # large but mutable
    expected = bytearray()
    small = [os.urandom(4 * KiB) for _ in range(200)]
    part_size = 1024 * KiB
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=part_size)) as store:
        async with store.writer("mixed") as writer:
            for round_ in range(3):
                scratch[:] = bytes([round_]) * len(scratch)
                await writer.write(scratch)
                expected += scratch
                for piece in small:
                    await writer.write(piece)
                    expected += piece
        assert await store.read("mixed") == bytes(expected)
    for index, pieces in adapter.parts.items():
        assert len(pieces.buffers) <= 4, (index, pieces)
        assert all(memoryview(piece).obj is not scratch for piece in pieces)
    assert sum(pieces.nbytes for pieces in adapter.parts.values()) == len(expected)


def _recording_writer() -> tuple[list[memoryview], Any]:
    written: list[memoryview] = []

    class Writer:
        async def write(self, data: memoryview) -> None:
            written.append(data)

    return written, Writer()


async def test_the_http_body_writes_every_piece_without_joining() -> None:
    pytest.importorskip("aiohttp")
    from aiostore._http import SLICE_SIZE, BufferPayload

    first, second = os.urandom(SLICE_SIZE + 10), os.urandom(20)
    payload = BufferPayload(Pieces([first, memoryview(second)[5:]]))
    assert payload.size == SLICE_SIZE + 25
    written, writer = _recording_writer()
    await payload.write(writer)
    assert [view.nbytes for view in written] == [SLICE_SIZE, 10, 15]
    assert [view.obj for view in written] == [first, first, second]
    assert b"".join(written) == first + second[5:]
    written.clear()
    await payload.write_with_length(writer, SLICE_SIZE + 12)  # a shorter Content-Length stops early
    assert b"".join(written) == first + second[5:7]

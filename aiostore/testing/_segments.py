"""Explicit multipart uploads: parts in any order, concurrently, completed or aborted."""

from __future__ import annotations

import asyncio

import pytest

from aiostore import Part, Segment, Store

from ._fixtures import Fixtures
from ._helpers import digest, listing, payload, segment_size, segments

__all__ = ["SegmentTests"]


def _parts(s: Store, count: int = 3) -> list[bytes]:
    """``count`` parts of the minimum accepted size, the last one shorter."""
    size = segment_size(s)
    return [payload(size, seed=30 + index) for index in range(count - 1)] + [payload(size // 3 + 1, seed=39)]


async def _nothing_left(s: Store, path: str) -> None:
    assert not await s.exists(path)
    if s.metadata().capabilities.list_segments:
        assert await segments(s) == []


class SegmentTests(Fixtures):
    """``init_segment`` / ``write_segment`` / ``complete_segment`` / ``abort_segment``."""

    @pytest.mark.capability("segments")
    @pytest.mark.parametrize("explicit", [False, True], ids=["parts-none", "parts-given"])
    async def test_parts_out_of_order(self, s: Store, explicit: bool) -> None:
        parts = _parts(s)
        segment = await s.init_segment("multi.bin")
        assert segment.path == "multi.bin"
        uploaded: list[Part] = []
        for index in (2, 0, 1):
            part = await s.write_segment(segment, index, parts[index])
            assert (part.index, part.size) == (index, len(parts[index]))
            uploaded.append(part)
        obj = await s.complete_segment(segment, uploaded if explicit else None)
        data = b"".join(parts)
        assert obj.size == len(data)
        assert digest(await s.read("multi.bin")) == digest(data)
        await s.delete("multi.bin")
        await _nothing_left(s, "multi.bin")

    @pytest.mark.capability("segments")
    async def test_parts_concurrently(self, s: Store) -> None:
        parts = _parts(s, count=4)
        segment = await s.init_segment("dir/multi.bin")
        uploads = [s.write_segment(segment, index, data) for index, data in enumerate(parts)]
        written = await asyncio.gather(*reversed(uploads))
        assert sorted(part.index for part in written) == [0, 1, 2, 3]
        obj = await s.complete_segment(segment)
        assert obj.path == "dir/multi.bin"
        assert digest(await s.read("dir/multi.bin")) == digest(b"".join(parts))
        await s.delete("dir/multi.bin")

    @pytest.mark.capability("segments")
    async def test_single_short_part(self, s: Store) -> None:
        segment = await s.init_segment("one.bin")
        await s.write_segment(segment, 0, b"just one small part")
        obj = await s.complete_segment(segment)
        assert obj.size == len(b"just one small part")
        assert await s.read("one.bin") == b"just one small part"
        await s.delete("one.bin")

    @pytest.mark.capability("segments")
    async def test_rewriting_a_part_replaces_it(self, s: Store) -> None:
        parts = _parts(s, count=2)
        segment = await s.init_segment("rewrite.bin")
        await s.write_segment(segment, 0, payload(len(parts[0]), seed=99))
        await s.write_segment(segment, 1, parts[1])
        await s.write_segment(segment, 0, parts[0])
        await s.complete_segment(segment)
        assert digest(await s.read("rewrite.bin")) == digest(b"".join(parts))
        await s.delete("rewrite.bin")

    @pytest.mark.capability("segments")
    async def test_nothing_visible_before_complete(self, s: Store) -> None:
        segment = await s.init_segment("pending.bin")
        await s.write_segment(segment, 0, b"pending")
        assert not await s.exists("pending.bin")
        assert await listing(s, recursive=True) == {}
        await s.abort_segment(segment)
        await _nothing_left(s, "pending.bin")

    @pytest.mark.capability("segments")
    async def test_complete_replaces_existing_object(self, s: Store) -> None:
        await s.write("over.bin", payload(50_000, seed=5))
        segment = await s.init_segment("over.bin")
        await s.write_segment(segment, 0, b"new and short")
        await s.complete_segment(segment)
        assert await s.read("over.bin") == b"new and short"
        await s.delete("over.bin")

    @pytest.mark.capability("segments")
    async def test_abort_leaves_nothing(self, s: Store) -> None:
        parts = _parts(s, count=2)
        segment = await s.init_segment("aborted.bin")
        for index, data in enumerate(parts):
            await s.write_segment(segment, index, data)
        await s.abort_segment(segment)
        await _nothing_left(s, "aborted.bin")
        await s.abort_segment(segment)  # aborting twice succeeds
        await _nothing_left(s, "aborted.bin")

    @pytest.mark.capability("list_segments")
    @pytest.mark.capability("segments")
    async def test_list_segments(self, s: Store) -> None:
        started = [await s.init_segment(path) for path in ("d/one.bin", "d/e/two.bin", "other.bin")]
        assert sorted(seg.path for seg in await segments(s)) == ["d/e/two.bin", "d/one.bin", "other.bin"]
        assert sorted(seg.path for seg in await segments(s, "d")) == ["d/e/two.bin", "d/one.bin"]
        assert await segments(s, "nowhere") == []
        listed: list[Segment] = await segments(s, "d/e/")
        assert [(seg.path, seg.id) for seg in listed] == [("d/e/two.bin", started[1].id)]
        for segment in started:
            await s.abort_segment(segment)
        assert await segments(s) == []

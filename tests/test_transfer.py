"""The transfer engine: bounded segment uploads, part sizes and parallel ranged reads."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

import aiostore
import aiostore._digest
from aiostore import Limits, TransferOptions
from aiostore._transfer import choose_part_size
from aiostore.memory import MemoryAdapter
from aiostore.testing import traced_peak

MiB = 1024 * 1024


class SlowPartsAdapter(MemoryAdapter):
    """Memory adapter whose parts take a while, recording how many overlap."""

    parallel_reads = True

    def __init__(self) -> None:
        super().__init__(chunk_size=500)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.range_requests = 0

    async def write_segment(
        self, segment: aiostore.Segment, index: int, data: bytes | memoryview
    ) -> aiostore.Part:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.005)
            return await super().write_segment(segment, index, data)
        finally:
            self.in_flight -= 1

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> aiostore.ReadStream:
        self.range_requests += 1
        return await super().open_read(path, offset=offset, size=size, if_match=if_match)


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_parts_in_flight_never_exceed_concurrency() -> None:
    adapter = SlowPartsAdapter()
    data = os.urandom(40 * 1000)
    transfer = TransferOptions(part_size=1000, concurrency=3)
    async with aiostore.Store(adapter, transfer=transfer) as store:
        obj = await store.write("big", chunks(data, 777))
        assert obj.size == len(data)
        assert await store.read("big") == data
    assert 1 < adapter.peak_in_flight <= 3


async def test_data_within_one_part_is_a_single_write() -> None:
    adapter = SlowPartsAdapter()
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=1000)) as store:
        await store.write("small", chunks(b"x" * 999, 100))
        assert [s async for s in store.list_segments()] == []
        assert await store.read("small") == b"x" * 999
    assert adapter.peak_in_flight == 0


async def test_size_mismatch_writes_nothing() -> None:
    async with aiostore.connect("memory://") as store:
        with pytest.raises(aiostore.InvalidArgumentError):
            await store.write("a", chunks(b"abc", 1), size=4)
        assert not await store.exists("a")
        with pytest.raises(aiostore.InvalidArgumentError):
            await store.write("a", b"abc", size=2)


def test_part_size_grows_to_fit_the_part_limit() -> None:
    limits = Limits(min_segment_size=5 * MiB, max_segments=10_000, max_segment_size=5 * 1024**3)
    assert choose_part_size(None, limits, None) == 8 * MiB
    assert choose_part_size(10 * MiB, limits, 1 * MiB) == 5 * MiB
    huge = choose_part_size(200 * 1024**3, limits, None)
    assert huge * 10_000 >= 200 * 1024**3
    assert huge % MiB == 0
    with pytest.raises(aiostore.InvalidArgumentError):
        choose_part_size(100 * 1024**4, limits, None)


@pytest.mark.parametrize(
    ("offset", "size"), [(0, None), (1, None), (0, 5 * 1000), (2500, 3001), (9999, None)]
)
async def test_parallel_ranged_read_matches_the_object(offset: int, size: int | None) -> None:
    adapter = SlowPartsAdapter()
    data = os.urandom(10_000)
    transfer = TransferOptions(part_size=1000, concurrency=4)
    async with aiostore.Store(adapter, transfer=transfer) as store:
        await store.write("blob", data)
        got = await store.read("blob", offset=offset, size=size)
    end = len(data) if size is None else offset + size
    assert hashlib.sha256(got).digest() == hashlib.sha256(data[offset:end]).digest()
    wanted = end - offset
    # one request holds up to two parts (read in 500-byte chunks: 2500 bytes);
    # the rest comes in 1000-byte ranges
    expected_requests = 1 if wanted <= 2000 else 1 + -(-(wanted - 2500) // 1000)
    assert adapter.range_requests == expected_requests


async def test_parallel_read_at_the_end_and_past_it() -> None:
    adapter = SlowPartsAdapter()
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=1000)) as store:
        await store.write("blob", b"x" * 10)
        assert await store.read("blob", offset=10) == b""
        with pytest.raises(aiostore.InvalidOffsetError):
            await store.read("blob", offset=11)


async def test_parts_are_bytes_and_reused_buffers_are_copied() -> None:
    seen: list[type] = []

    class Recording(MemoryAdapter):
        async def write_segment(
            self, segment: aiostore.Segment, index: int, data: bytes | memoryview
        ) -> aiostore.Part:
            seen.append(type(memoryview(data).obj))
            return await super().write_segment(segment, index, data)

    transfer = TransferOptions(part_size=1000, concurrency=2)
    expected = bytearray()
    async with aiostore.Store(Recording(), transfer=transfer) as store:
        async with store.writer("big") as writer:
            scratch = bytearray(300)
            for round_ in range(10):  # one buffer, refilled after every write
                scratch[:] = bytes([round_]) * 300
                await writer.write(scratch)
                expected += scratch
            await writer.write(b"z" * 2500)  # bytes: whole parts need no copy
            expected += b"z" * 2500
        assert await store.read("big") == bytes(expected)
    assert seen
    assert all(kind is bytes for kind in seen)


async def test_a_part_starts_as_soon_as_it_is_full() -> None:
    """A producer that never awaits anything else still gets each part going at once,
    instead of after it has filled every free slot."""
    started: list[int] = []

    class Recording(MemoryAdapter):
        async def write_segment(
            self, segment: aiostore.Segment, index: int, data: bytes | memoryview
        ) -> aiostore.Part:
            started.append(index)
            return await super().write_segment(segment, index, data)

    transfer = TransferOptions(part_size=1000, concurrency=4)
    seen_after_write: list[int] = []
    async with aiostore.Store(Recording(), transfer=transfer) as store:
        async with store.writer("big") as writer:
            for _ in range(6):
                await writer.write(b"p" * 1000)
                seen_after_write.append(len(started))
        assert await store.read("big") == b"p" * 6000
    assert seen_after_write == [1, 2, 3, 4, 5, 6]


class _CutShort(aiostore.ReadStream):
    """A stream that ends after ``keep`` bytes although its object says it is larger."""

    def __init__(self, inner: aiostore.ReadStream, keep: int) -> None:
        self.object, self._inner, self._left = inner.object, inner, keep

    async def next_chunk(self) -> bytes:
        chunk = (await self._inner.next_chunk())[: self._left]
        self._left -= len(chunk)
        return chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class ShortAnswers(SlowPartsAdapter):
    """The first ``cuts`` answers (ranges included) end after 700 bytes."""

    def __init__(self, cuts: int) -> None:
        super().__init__()
        self.cuts = cuts

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> aiostore.ReadStream:
        stream = await super().open_read(path, offset=offset, size=size, if_match=if_match)
        if self.cuts:
            self.cuts -= 1
            return _CutShort(stream, 700)
        return stream


@pytest.mark.parametrize("cuts", [1, 2])
async def test_an_answer_cut_short_is_read_again(cuts: int) -> None:
    adapter = ShortAnswers(cuts)
    data = os.urandom(10_000)
    retry = aiostore.RetryOptions(base_delay=0.001, max_delay=0.001)
    transfer = TransferOptions(part_size=1000, concurrency=1)
    async with aiostore.Store(adapter, transfer=transfer, retry=retry) as store:
        await store.write("blob", data)
        assert await store.read("blob") == data
    # the cut answers, the one that fills the first 2,500 bytes, then 7,500 bytes in 1,000-byte ranges
    assert adapter.range_requests == cuts + 1 + 8


async def test_answers_that_stay_short_fail_as_unavailable() -> None:
    adapter = ShortAnswers(cuts=1_000)
    retry = aiostore.RetryOptions(attempts=3, base_delay=0.001, max_delay=0.001)
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=1000), retry=retry) as store:
        await store.write("blob", os.urandom(10_000))
        with pytest.raises(aiostore.ServiceUnavailableError):
            await store.read("blob")


class ChangesMidRead(SlowPartsAdapter):
    """The object is replaced as soon as the first pinned range is asked for."""

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> aiostore.ReadStream:
        if if_match is not None and self.range_requests == 1:
            await self.write_once(path, b"replaced", aiostore.WriteOptions())
        return await super().open_read(path, offset=offset, size=size, if_match=if_match)


async def test_a_range_that_fails_raises_its_own_error_not_a_group() -> None:
    """The ranges run in a task group; what leaves ``read`` is the range's
    `ConditionNotMetError`, which ``except StorageError`` catches, not an ExceptionGroup."""
    adapter = ChangesMidRead()
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=1000)) as store:
        await store.write("blob", os.urandom(10_000))
        with pytest.raises(aiostore.ConditionNotMetError) as caught:
            await store.read("blob")
        assert caught.value.path == "blob"


class HashedParts(SlowPartsAdapter):
    """Parts finish out of order; the MD5 handed to the commit is recorded."""

    stores_content_md5 = True

    def __init__(self) -> None:
        super().__init__()
        self.md5: bytes | None = None

    async def write_segment(
        self, segment: aiostore.Segment, index: int, data: bytes | memoryview
    ) -> aiostore.Part:
        await asyncio.sleep(0.002 * (7 - index % 7))  # later parts tend to finish first
        return await super().write_segment(segment, index, data)

    async def complete_segment_with_md5(
        self,
        segment: aiostore.Segment,
        parts: Sequence[aiostore.Part],
        options: aiostore.WriteOptions,
        content_md5: bytes,
    ) -> aiostore.Object:
        self.md5 = content_md5
        return await self.complete_segment(segment, parts, options)


@pytest.mark.parametrize("source", ["bytes", "unsized-stream"])
async def test_an_adapter_that_stores_md5s_gets_the_whole_objects_md5(source: str) -> None:
    adapter = HashedParts()
    data = os.urandom(40_000 + 123)
    body = data if source == "bytes" else chunks(data, 777)
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=1000, concurrency=4)) as store:
        await store.write("big", body)
        assert await store.read("big") == data
    assert adapter.md5 == hashlib.md5(data).digest()
    assert 1 < adapter.peak_in_flight <= 4


class FailingPart(HashedParts):
    """Part 2 is refused: its upload ends without waiting for its hash."""

    async def write_segment(
        self, segment: aiostore.Segment, index: int, data: bytes | memoryview
    ) -> aiostore.Part:
        if index == 2:
            raise aiostore.PermissionDeniedError("refused")
        return await super().write_segment(segment, index, data)


async def test_an_aborted_upload_stops_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashing slower than the upload, and a part refused: the upload aborts while
    parts still wait for their turn to be hashed, and those waits are cancelled
    rather than left running after the write has failed."""
    hash_part = aiostore._digest._update

    def slow_hash(md5: Any, data: Any) -> None:
        time.sleep(0.02)
        hash_part(md5, data)

    monkeypatch.setattr(aiostore._digest, "_update", slow_hash)
    adapter = FailingPart()
    async with aiostore.Store(adapter, transfer=TransferOptions(part_size=1000, concurrency=4)) as store:
        with pytest.raises(aiostore.PermissionDeniedError):
            await store.write("big", os.urandom(9_000))
        pending = [task for task in asyncio.all_tasks() if "_hash_after" in repr(task.get_coro())]
        await asyncio.sleep(0)  # let the cancelled ones finish
        assert all(task.done() for task in pending), "an aborted upload left MD5 tasks running"
        assert not await store.exists("big")
    assert adapter.md5 is None


class _Sha256Check:
    """A whole-object check (the core's `Verifier`) against a known SHA-256."""

    def __init__(self, expected: bytes) -> None:
        self._hash, self._expected = hashlib.sha256(), expected

    def update(self, chunk: bytes | memoryview, /) -> None:
        self._hash.update(chunk)

    def finish(self) -> None:
        if self._hash.digest() != self._expected:
            raise aiostore.IntegrityError("sha256 mismatch")


class _Checked(aiostore.ReadStream):
    """A whole-object stream whose check the caller can take over (a `VerifyingStream`)."""

    def __init__(self, inner: aiostore.ReadStream, expected: bytes) -> None:
        self.object, self._inner = inner.object, inner
        self._check: _Sha256Check | None = _Sha256Check(expected)

    def take_verifier(self) -> _Sha256Check | None:
        check, self._check = self._check, None
        return check

    async def next_chunk(self) -> bytes:
        chunk = await self._inner.next_chunk()
        if self._check is not None:
            self._check.update(chunk)
        return chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CheckedReads(SlowPartsAdapter):
    """Whole reads carry a SHA-256 check of the object, as S3's CRC32C or Azure's MD5 do."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.digest = hashlib.sha256(data).digest()

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> aiostore.ReadStream:
        stream = await super().open_read(path, offset=offset, size=size, if_match=if_match)
        return _Checked(stream, self.digest) if offset == 0 and size is None else stream


async def test_a_checked_parallel_read_holds_one_copy_while_hashing_threads_linger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ranges are hashed in worker threads, and a worker can still hold its
    arguments (a view of the result buffer) after the loop has its answer. The read
    must release that view itself: a view left exported made the final getvalue()
    copy the whole buffer, 2x the memory (seen once in CI on Azure)."""
    lingering: list[tuple[Any, ...]] = []
    to_thread = asyncio.to_thread

    async def slow_to_let_go(func: Any, /, *args: Any) -> Any:
        lingering.append(args)  # as a worker thread that has not dropped its work item yet
        return await to_thread(func, *args)

    monkeypatch.setattr(asyncio, "to_thread", slow_to_let_go)
    data = os.urandom(6 * MiB)
    adapter = CheckedReads(data)
    transfer = TransferOptions(part_size=512 * 1024, concurrency=4)
    async with aiostore.Store(adapter, transfer=transfer) as store:
        await store.write("blob", data)
        got, peak = await traced_peak(store.read("blob"))
    assert got == data
    assert lingering, "the ranges were not checked in worker threads"
    assert peak < 1.5 * len(data), f"reading 6 MiB allocated up to {peak / MiB:.1f} MiB at once"

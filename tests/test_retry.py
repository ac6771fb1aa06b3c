"""The core retry layer, timeouts and resumable reads, driven by an adapter that fails on cue.

`FlakyAdapter` wraps the real memory adapter and raises aiostore errors (what a
real adapter's error boundary produces) before delegating; no SDK is involved.
End-to-end fault injection through an HTTP proxy lives with the adapters' tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

import aiostore
from aiostore import (
    ConditionNotMetError,
    NotFoundError,
    RateLimitedError,
    ReadStream,
    RetryOptions,
    ServiceUnavailableError,
    StorageTimeoutError,
    TimeoutOptions,
    TransferOptions,
)
from aiostore._retry import Retrier
from aiostore._watchdog import Watchdog
from aiostore.memory import MemoryAdapter

FAST = RetryOptions(attempts=4, base_delay=0.001, max_delay=0.01)


class FlakyAdapter(MemoryAdapter):
    """Raises queued errors for an operation before doing the real work."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: dict[str, list[BaseException | None]] = {}  # None: let that call through
        self.calls: Counter[str] = Counter()
        self.hang: set[str] = set()

    async def _gate(self, op: str) -> None:
        self.calls[op] += 1
        if op in self.hang:
            await asyncio.sleep(3600)
        queue = self.faults.get(op)
        fault = queue.pop(0) if queue else None
        if fault is not None:
            raise fault

    async def stat(self, path: str) -> aiostore.Object:
        await self._gate("stat")
        return await super().stat(path)

    async def init_segment(self, path: str, options: aiostore.WriteOptions) -> aiostore.Segment:
        await self._gate("init_segment")
        return await super().init_segment(path, options)

    async def write_segment(
        self, segment: aiostore.Segment, index: int, data: bytes | memoryview
    ) -> aiostore.Part:
        await self._gate("write_segment")
        return await super().write_segment(segment, index, data)

    async def complete_segment(
        self, segment: aiostore.Segment, parts: Sequence[aiostore.Part] | None, options: aiostore.WriteOptions
    ) -> aiostore.Object:
        await self._gate("complete_segment")
        return await super().complete_segment(segment, parts, options)

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> ReadStream:
        await self._gate("open_read")
        return BreakingStream(
            self, await super().open_read(path, offset=offset, size=size, if_match=if_match)
        )


class BreakingStream(ReadStream):
    """Delegates to a real stream, failing or stalling when the adapter says so."""

    def __init__(self, adapter: FlakyAdapter, inner: ReadStream) -> None:
        self.object = inner.object
        self._adapter = adapter
        self._inner = inner

    async def next_chunk(self) -> bytes:
        await self._adapter._gate("next_chunk")
        return await self._inner.next_chunk()

    async def aclose(self) -> None:
        await self._inner.aclose()


def unavailable(applied: bool = True) -> ServiceUnavailableError:
    return ServiceUnavailableError("connection reset", may_have_applied=applied)


def make_store(adapter: FlakyAdapter, **kwargs: Any) -> aiostore.Store:
    kwargs.setdefault("retry", FAST)
    return aiostore.Store(adapter, **kwargs)


async def test_idempotent_call_is_retried_until_success() -> None:
    adapter = FlakyAdapter()
    async with make_store(adapter) as store:
        await store.write("a", b"x")
        adapter.faults["stat"] = [unavailable(), RateLimitedError("slow down")]
        assert (await store.stat("a")).size == 1
    assert adapter.calls["stat"] == 3


async def test_permanent_error_is_not_retried() -> None:
    adapter = FlakyAdapter()
    async with make_store(adapter) as store:
        with pytest.raises(NotFoundError):
            await store.stat("missing")
    assert adapter.calls["stat"] == 1


async def test_attempts_are_bounded() -> None:
    adapter = FlakyAdapter()
    async with make_store(adapter) as store:
        await store.write("a", b"x")
        adapter.faults["stat"] = [unavailable() for _ in range(10)]
        with pytest.raises(ServiceUnavailableError) as info:
            await store.stat("a")
    assert adapter.calls["stat"] == FAST.attempts
    assert info.value.op == "stat"
    assert info.value.adapter == "memory"


async def test_non_idempotent_call_retried_only_when_not_applied() -> None:
    adapter = FlakyAdapter()
    async with make_store(adapter) as store:
        adapter.faults["init_segment"] = [unavailable(applied=True)]
        with pytest.raises(ServiceUnavailableError):
            await store.init_segment("a")
        assert adapter.calls["init_segment"] == 1
        adapter.faults["init_segment"] = [unavailable(applied=False), RateLimitedError("429")]
        segment = await store.init_segment("a")
        await store.abort_segment(segment)
    assert adapter.calls["init_segment"] == 4


def test_retry_after_is_honoured_within_the_cap() -> None:
    retrier = Retrier(RetryOptions(base_delay=0.0, retry_after_cap=5.0), TimeoutOptions())
    polite = RateLimitedError("slow", retry_after=2.0)
    rude = RateLimitedError("slow", retry_after=500.0)
    assert retrier._retry_delay(polite, 1, True, None) == 2.0
    assert retrier._retry_delay(rude, 1, True, None) == 5.0


def test_budget_stops_a_retry_storm() -> None:
    retrier = Retrier(RetryOptions(budget=10, retry_cost=5), TimeoutOptions())
    error = unavailable()
    assert retrier._retry_delay(error, 1, True, None) is not None
    assert retrier._retry_delay(error, 1, True, None) is not None
    assert retrier._retry_delay(error, 1, True, None) is None
    retrier.budget.refund(5)
    assert retrier._retry_delay(error, 1, True, None) is not None


async def test_attempt_timeout_wraps_one_attempt() -> None:
    adapter = FlakyAdapter()
    timeouts = TimeoutOptions(attempt=0.05)
    async with make_store(adapter, timeouts=timeouts) as store:
        await store.write("a", b"x")
        adapter.hang.add("stat")
        with pytest.raises(StorageTimeoutError):
            await store.stat("a")
    assert adapter.calls["stat"] == FAST.attempts


async def test_deadline_ends_the_retry_loop() -> None:
    adapter = FlakyAdapter()
    retry = RetryOptions(attempts=50, base_delay=0.05, max_delay=0.05, deadline=0.3)
    async with make_store(adapter, retry=retry) as store:
        await store.write("a", b"x")
        adapter.faults["stat"] = [unavailable() for _ in range(100)]
        with pytest.raises(ServiceUnavailableError):
            await store.stat("a")
    assert 1 < adapter.calls["stat"] < 50


async def test_broken_download_resumes_at_the_right_byte() -> None:
    adapter = FlakyAdapter()
    data = os.urandom(5 * 1000 + 7)
    async with make_store(adapter, transfer=TransferOptions(chunk_size=1000)) as store:
        adapter._chunk_size = 1000
        await store.write("blob", data)
        adapter.faults["next_chunk"] = [None, unavailable(), None, None, unavailable()]
        got = bytearray()
        async with store.reader("blob", offset=3) as reader:
            async for chunk in reader:
                got += chunk
    assert bytes(got) == data[3:]
    assert adapter.calls["open_read"] == 3


async def test_resume_refuses_a_changed_object() -> None:
    adapter = FlakyAdapter()
    adapter._chunk_size = 100
    async with make_store(adapter) as store:
        await store.write("blob", b"a" * 1000)
        async with store.reader("blob") as reader:
            first = await reader.read(100)
            await store.write("blob", b"b" * 1000)
            adapter.faults["next_chunk"] = [unavailable()]
            with pytest.raises(ConditionNotMetError):
                await reader.read()
    assert first == b"a" * 100


async def test_stalled_download_resumes() -> None:
    adapter = FlakyAdapter()
    adapter._chunk_size = 10
    data = bytes(range(100))
    async with make_store(adapter, timeouts=TimeoutOptions(stall=0.05)) as store:
        await store.write("blob", data)
        async with store.reader("blob") as reader:
            head = await reader.read(10)
            adapter.hang.add("next_chunk")
            task = asyncio.ensure_future(reader.read())
            await asyncio.sleep(0.1)
            adapter.hang.discard("next_chunk")
            rest = await task
    assert head + rest == data


async def test_failed_part_is_resent_and_counted_once() -> None:
    adapter = FlakyAdapter()
    data = os.urandom(10_000)
    seen: list[int] = []
    transfer = TransferOptions(part_size=1000, concurrency=3)
    async with make_store(adapter, transfer=transfer) as store:
        adapter.faults["write_segment"] = [unavailable(), unavailable()]
        await store.write("big", iter([data]), progress=lambda done, total: seen.append(done))
        stored = await store.read("big")
        assert [s async for s in store.list_segments()] == []
    assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()
    assert seen == sorted(seen)
    assert seen[-1] == len(data)
    assert adapter.calls["write_segment"] == 12


class LostAnswerAdapter(FlakyAdapter):
    """write_once that stores the object and then loses the answer, once."""

    lose_next_answer = True

    async def write_once(
        self, path: str, data: bytes | memoryview, options: aiostore.WriteOptions
    ) -> aiostore.Object:
        self.calls["write_once"] += 1
        obj = await super().write_once(path, data, options)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise unavailable(applied=True)
        return obj


async def test_guarded_create_whose_answer_was_lost_reports_an_unknown_outcome() -> None:
    adapter = LostAnswerAdapter()
    async with make_store(adapter) as store:
        with pytest.raises(ServiceUnavailableError) as info:
            await store.write("a", b"mine", if_not_exists=True)
        assert not isinstance(info.value, aiostore.AlreadyExistsError)
        assert not info.value.retryable
        assert await store.read("a") == b"mine"
    assert adapter.calls["write_once"] == 2


async def test_guarded_create_is_retried_through_a_refusal() -> None:
    adapter = FlakyAdapter()
    async with make_store(adapter) as store:
        adapter.faults["stat"] = []
        original = adapter.write_once
        failures = [RateLimitedError("503 slow down")]

        async def flaky_write(path: str, data: bytes | memoryview, options: aiostore.WriteOptions) -> Any:
            if failures:
                raise failures.pop()
            return await original(path, data, options)

        adapter.write_once = flaky_write  # type: ignore[method-assign]
        obj = await store.write("b", b"ok", if_not_exists=True)
        assert obj.size == 2
        with pytest.raises(aiostore.AlreadyExistsError):
            await store.write("b", b"again", if_not_exists=True)


async def test_attempt_timeout_leaves_the_task_uncancelled() -> None:
    retrier = Retrier(RetryOptions(attempts=1), TimeoutOptions(attempt=0.01))
    with pytest.raises(StorageTimeoutError):
        await retrier.call(lambda: asyncio.sleep(3600), idempotent=True)
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0  # the watchdog took its cancel back
    assert await retrier.call(lambda: asyncio.sleep(0, "ok"), idempotent=True) == "ok"


async def test_a_cancellation_during_an_attempt_stays_a_cancellation() -> None:
    retrier = Retrier(RetryOptions(attempts=3), TimeoutOptions(attempt=3600))
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(retrier.call(hang, idempotent=True))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_attempts_in_flight_each_meet_their_own_deadline() -> None:
    watchdog = Watchdog()

    async def guarded(limit: float, work: Any) -> Any:
        guard = watchdog.arm(limit)
        try:
            return await work
        except asyncio.CancelledError:
            if guard.settle():
                return "timed out"
            raise
        finally:
            watchdog.disarm(guard)

    long = asyncio.create_task(guarded(3600, asyncio.sleep(0.05, "done")))
    await asyncio.sleep(0)
    short = asyncio.create_task(guarded(0.01, asyncio.sleep(3600)))  # armed later, due sooner
    assert await short == "timed out"
    assert await long == "done"


def test_the_watchdog_follows_the_running_loop() -> None:
    retrier = Retrier(RetryOptions(attempts=1), TimeoutOptions(attempt=0.01))
    for _ in range(2):  # a new loop each time: the timer is re-made on it
        with pytest.raises(StorageTimeoutError):
            asyncio.run(retrier.call(lambda: asyncio.sleep(3600), idempotent=True))

"""`Store.delete_many` in the core: batches, bounded concurrency, retries and errors.

The conformance suite checks what every adapter does with the keys; these tests
check what the core hands the adapter and what it raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

import aiostore
from aiostore import Limits, PermissionDeniedError, RetryOptions, ServiceUnavailableError, StorageError
from aiostore._store import _delete_batch_size
from aiostore.memory import MemoryAdapter

FAST = RetryOptions(attempts=3, base_delay=0.001, max_delay=0.01)


class BatchRecorder(MemoryAdapter):
    """Deletes in batches of at most 10 keys, slowly, recording what it was asked."""

    limits = Limits(max_page_size=10)

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.refuse: set[str] = set()  # keys whose batch fails with PermissionDenied
        self.flaky: set[str] = set()  # keys whose batch fails once with a retryable error

    async def delete_many(self, paths: Sequence[str]) -> None:
        self.batches.append(list(paths))
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.005)
            for path in paths:
                if path in self.refuse:
                    raise PermissionDeniedError("denied", op="delete", path=path, adapter=self.name)
                if path in self.flaky:
                    self.flaky.discard(path)
                    raise ServiceUnavailableError("try again", op="delete", path=path, adapter=self.name)
            await super().delete_many(paths)
        finally:
            self.in_flight -= 1


async def _fill(store: aiostore.Store, count: int) -> list[str]:
    keys = [f"k/{index:03d}" for index in range(count)]
    for key in keys:
        await store.write(key, b"x")
    return keys


async def _remaining(store: aiostore.Store) -> set[str]:
    return {obj.path async for obj in store.list("", recursive=True)}


async def test_keys_go_in_batches_of_the_adapter_limit_with_bounded_concurrency() -> None:
    adapter = BatchRecorder()
    transfer = aiostore.TransferOptions(concurrency=3)
    async with aiostore.Store(adapter, transfer=transfer, retry=FAST) as store:
        keys = await _fill(store, 95)
        await store.delete_many([*keys, *keys[:5]])  # repeated keys are sent once
        assert await _remaining(store) == set()
    assert sorted(len(batch) for batch in adapter.batches) == [5] + [10] * 9
    assert sorted(key for batch in adapter.batches for key in batch) == keys
    assert 1 < adapter.peak_in_flight <= 3


async def test_a_failed_batch_raises_its_own_error_not_a_group() -> None:
    adapter = BatchRecorder()
    async with aiostore.Store(adapter, retry=FAST) as store:
        keys = await _fill(store, 30)
        adapter.refuse = {"k/015"}
        with pytest.raises(StorageError) as info:
            await store.delete_many(keys)
        assert isinstance(info.value, PermissionDeniedError)
        assert (info.value.op, info.value.path) == ("delete", "k/015")
        left = await _remaining(store)
        # the refused batch stays; the last one may have been stopped by the failure
        assert set(keys[10:20]) <= left <= set(keys[10:]), sorted(left)
        adapter.refuse = set()
        await store.delete_many(keys)  # calling again finishes the job
        assert await _remaining(store) == set()


async def test_a_batch_that_fails_transiently_is_retried() -> None:
    adapter = BatchRecorder()
    async with aiostore.Store(adapter, retry=FAST) as store:
        keys = await _fill(store, 20)
        adapter.flaky = {"k/004"}
        await store.delete_many(keys)
        assert await _remaining(store) == set()
    assert len(adapter.batches) == 3  # the first batch twice, the second once


async def test_a_scoped_view_reports_paths_relative_to_itself() -> None:
    adapter = BatchRecorder()
    async with aiostore.Store(adapter, retry=FAST) as store:
        await store.write("sub/a", b"x")
        adapter.refuse = {"sub/a"}
        with pytest.raises(PermissionDeniedError) as info:
            await store.scoped("sub/").delete_many(["a"])
        assert info.value.path == "a"


@pytest.mark.parametrize(
    ("count", "concurrency", "limit", "expected"),
    [
        (2000, 8, 1000, 250),  # spread over every slot
        (20_000, 8, 1000, 1000),  # long lists fill the service's batches
        (300, 8, 1000, 100),  # never fewer than 100 keys a batch
        (95, 3, 10, 10),  # nor more than the adapter takes
        (0, 8, 1000, 100),
    ],
)
def test_batch_size(count: int, concurrency: int, limit: int, expected: int) -> None:
    assert _delete_batch_size(count, concurrency, limit) == expected


async def test_a_short_list_is_spread_over_the_concurrency() -> None:
    adapter = BatchRecorder()
    adapter.limits = Limits(max_page_size=1000)
    async with aiostore.Store(adapter, transfer=aiostore.TransferOptions(concurrency=4), retry=FAST) as store:
        keys = await _fill(store, 800)
        await store.delete_many(keys)
        assert await _remaining(store) == set()
    assert [len(batch) for batch in adapter.batches] == [200] * 4
    assert adapter.peak_in_flight == 4


async def test_a_recursive_delete_sends_each_listed_page_as_concurrent_batches() -> None:
    adapter = BatchRecorder()
    adapter.limits = Limits(max_page_size=400)
    async with aiostore.Store(adapter, transfer=aiostore.TransferOptions(concurrency=4), retry=FAST) as store:
        keys = await _fill(store, 700)
        await store.write("kept", b"x")
        await store.delete("k", recursive=True)
        assert await _remaining(store) == {"kept"}
        # two listed pages (400 + 300 keys), each spread over the concurrency
        assert [len(batch) for batch in adapter.batches] == [100] * 4 + [100] * 3
        assert sorted(key for batch in adapter.batches for key in batch) == keys
        adapter.refuse = {"k/000"}
        await store.write("k/000", b"x")
        with pytest.raises(PermissionDeniedError):  # itself, not an exception group
            await store.delete("k", recursive=True)

"""Load: 2,000 concurrent operations through one store, with 30% of them throttled.

One S3 store on SeaweedFS (through the fault proxy) with a pool of 16
connections runs 1,000 writes and 1,000 verifying reads, all started at once
and bounded by a semaphore of 64. The proxy answers 30% of PUTs and GETs with
``503 SlowDown`` (seeded). A sampler counts this process's established
connections to the proxy every few milliseconds: they never exceed the pool.
Afterwards every object is read back straight from the server, byte-exact.
"""

from __future__ import annotations

import asyncio
import random

from aiostore import RetryOptions, Store
from aiostore.testing.faults import FaultProxy, connections_to, slow_down

from ._backends import Backend, KiB, Ledger, sha

OBJECTS = 1000  # written, then read back: 2,000 operations
POOL = 16
LIMIT = 64
#: With 30% throttling a call fails only after 20 throttled tries in a row: p = 0.3**20, about
#: 1e-7 for the run's 2,000 calls. With 10 tries (p = 0.3**10 per call, about 1% a run) one
#: call of a clean-clone CI run did run out of tries: a RateLimitedError, as it should be.
PATIENT = RetryOptions(attempts=20, base_delay=0.002, max_delay=0.05, budget=1_000_000)


class Sampler:
    """Counts established connections to ``port`` until stopped; keeps the peak."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.peak = 0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, connections_to(self.port))
            self.samples += 1
            await asyncio.sleep(0.005)

    def __enter__(self) -> Sampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _run_load(store: Store, blobs: list[bytes]) -> list[BaseException]:
    gate = asyncio.Semaphore(LIMIT)
    written = [asyncio.Event() for _ in blobs]
    failures: list[BaseException] = []

    async def write(i: int) -> None:
        async with gate:
            await store.write(f"load/{i:04d}.bin", blobs[i])
        written[i].set()

    async def read(i: int) -> None:
        await written[i].wait()
        async with gate:
            data = await store.read(f"load/{i:04d}.bin")
        assert sha(data) == sha(blobs[i]), f"object {i} read back wrong"

    async def guarded(op: asyncio.Future[None] | asyncio.Task[None]) -> None:
        try:
            await op
        except Exception as exc:
            failures.append(exc)

    async with asyncio.TaskGroup() as group:
        for i in range(len(blobs)):
            group.create_task(guarded(asyncio.ensure_future(write(i))))
            group.create_task(guarded(asyncio.ensure_future(read(i))))
    return failures


async def test_two_thousand_operations_under_throttling(
    seaweedfs_backend: Backend, prefix: str, ledger: Ledger
) -> None:
    backend = seaweedfs_backend
    rng = random.Random(2024)
    blobs = [rng.randbytes(4 * KiB) for _ in range(OBJECTS)]
    async with FaultProxy(backend.upstream, seed=30, record=False) as proxy:
        proxy.add(slow_down(), method="PUT", probability=0.3, times=None)
        proxy.add(slow_down(), method="GET", probability=0.3, times=None)
        store = backend.connect(proxy.endpoint, prefix, retry=PATIENT, max_pool_connections=POOL)
        async with store:
            with Sampler(proxy.port) as sampler:
                failures = await _run_load(store, blobs)
        ledger.absorb(proxy)
        ledger.operations += 2 * OBJECTS
        throttled, requests = proxy.injected["slow_down"], proxy.total_requests
    async with backend.connect(None, prefix) as clean:
        listed = sorted([obj.path async for obj in clean.list("load/")])
        stored = [sha(await clean.read(f"load/{i:04d}.bin")) for i in range(OBJECTS)]
        await clean.delete("", recursive=True)
    ledger.verified += sum(a == sha(b) for a, b in zip(stored, blobs, strict=True))
    ledger.facts["load"] = (
        f"{2 * OBJECTS} ops, {throttled} of {requests} requests throttled, "
        f"peak {sampler.peak}/{POOL} pooled connections"
    )
    assert failures == []
    assert listed == [f"load/{i:04d}.bin" for i in range(OBJECTS)]
    assert stored == [sha(blob) for blob in blobs], "an object holds other bytes than written"
    assert 0.25 < throttled / requests < 0.35, (throttled, requests)
    assert sampler.samples > 10
    assert 0 < sampler.peak <= POOL, f"peak {sampler.peak} connections, pool {POOL}"

"""Loops and fork: a store used from another event loop or a forked child fails at once, clearly.

A store opened in one event loop (a thread running its own loop) and then used
from the test's loop must raise `ClosedError` within a second, never hang; it
is then closed in its own loop. A child forked while the store is open gets a
`ClosedError` naming the fork when it touches the parent's store, and a new
store made in the child works.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import pytest

import aiostore
from aiostore import ClosedError, Store

from ._backends import FAST, TIMEOUTS, Backend, sha

T = TypeVar("T")
DATA = b"loop and fork " * 100


class LoopThread:
    """An event loop running in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> LoopThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in this loop; the caller's loop keeps running meanwhile."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return await asyncio.wrap_future(future)


@pytest.fixture(params=["memory", "fs", "s3-seaweedfs", "gcs", "azblob"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A factory of stores on one adapter, all on the same storage, under a fresh prefix."""
    name = request.param
    if name in ("memory", "fs"):
        url = f"memory://loops-{time.monotonic_ns()}" if name == "memory" else f"fs://{tmp_path}"
        yield lambda: aiostore.connect(url, retry=FAST, timeouts=TIMEOUTS)
        return
    fixture = {"s3-seaweedfs": "seaweedfs_backend", "gcs": "gcs_backend", "azblob": "azblob_backend"}[name]
    backend: Backend = request.getfixturevalue(fixture)
    prefix = f"loops-{time.monotonic_ns()}/"
    yield lambda: backend.connect(None, prefix)


async def _open_and_write(store: Store) -> None:
    await store.write("a.bin", DATA)


async def test_store_from_another_loop_fails_at_once(make_store: Callable[[], Store]) -> None:
    store = make_store()
    with LoopThread() as other:
        await other.run(_open_and_write(store))
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "stat": lambda: store.stat("a.bin"),
            "read": lambda: store.read("a.bin"),
            "write": lambda: store.write("b.bin", b"x"),
            "list": lambda: anext(aiter(store.list(""))),
        }
        for name, call in calls.items():
            start = time.monotonic()
            with pytest.raises(ClosedError, match="another event loop"):
                async with asyncio.timeout(5):
                    await call()
            assert time.monotonic() - start < 1.0, f"{name} took too long to refuse"
        assert sha(await other.run(store.read("a.bin"))) == sha(DATA)  # still fine in its own loop
        await other.run(_cleanup(store))


async def _cleanup(store: Store) -> None:
    async with store:
        await store.delete("", recursive=True)


def _child(store: Store, make_store: Callable[[], Store], conn: Connection) -> None:
    async def use_parent_store() -> str:
        try:
            async with asyncio.timeout(5):
                await store.stat("a.bin")
        except ClosedError as exc:
            return f"ClosedError: {exc}"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "no error"

    async def use_new_store() -> str:
        async with make_store() as fresh:
            await fresh.write("child.bin", DATA)
            return sha(await fresh.read("child.bin"))

    conn.send((asyncio.run(use_parent_store()), asyncio.run(use_new_store())))
    conn.close()


async def test_forked_child_gets_a_clear_error(make_store: Callable[[], Store]) -> None:
    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe(duplex=False)
    async with make_store() as store:
        await store.write("a.bin", DATA)
        child = context.Process(target=_child, args=(store, make_store, child_end))
        child.start()
        child_end.close()
        got = await asyncio.to_thread(lambda: parent_end.recv() if parent_end.poll(30) else None)
        await asyncio.to_thread(child.join, 10)
        alive = child.is_alive()
        if alive:
            child.kill()
        assert sha(await store.read("a.bin")) == sha(DATA)  # the parent's store is untouched
        shared = store.metadata().adapter != "memory"  # the child's new store wrote to the same storage
        child_wrote = await store.exists("child.bin")
        await store.delete("", recursive=True)
    assert not alive, "the child hung"
    assert got is not None, "the child sent nothing"
    parent_error, child_read = got
    assert parent_error.startswith("ClosedError"), parent_error
    assert "fork" in parent_error, parent_error
    assert child_read == sha(DATA)
    assert child_wrote or not shared

"""The fs streaming writer: batches keep the byte order whatever mix of chunks the
caller sends, a failed or aborted write leaves nothing, and abort never closes the
file under a batch still being written."""

from __future__ import annotations

import asyncio
import errno
import os
import random
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aiostore
from aiostore import StorageError, WriteOptions
from aiostore.fs import FsAdapter, _writer

NO_OPTIONS = WriteOptions()
CHUNK = 100_000


@pytest.fixture
async def adapter(tmp_path: Path) -> AsyncIterator[FsAdapter]:
    fs = FsAdapter(work_dir=tmp_path / "root", chunk_size=CHUNK)
    await fs.open()
    yield fs
    await fs.aclose()


def leftovers(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize("seed", range(6))
async def test_any_mix_of_chunks_arrives_in_order(adapter: FsAdapter, seed: int) -> None:
    rng = random.Random(seed)
    stream = await adapter.open_write("mix.bin", NO_OPTIONS, size_hint=None, part_size=1, concurrency=1)
    expected = bytearray()
    for _ in range(40):
        size = rng.choice([0, 1, 100, 5_000, 70_000, CHUNK - 1, CHUNK, 250_000])
        data = rng.randbytes(size)
        expected += data
        if rng.random() < 0.5:
            await stream.write(data)
        else:
            mutable = bytearray(data)
            await stream.write(memoryview(mutable))
            mutable[:] = bytes(len(mutable))  # the caller may reuse its buffer at once
    obj = await stream.commit()
    assert obj.size == len(expected)
    assert await adapter.read_bytes("mix.bin", offset=0, size=None) == expected


async def test_a_failed_batch_surfaces_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, buffers: list[memoryview], offset: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_writer, "pwritev_all", full)
    root = tmp_path / "root"

    async def upload(store: aiostore.Store) -> None:
        async with store.writer("full/disk.bin") as writer:
            for _ in range(4):
                await writer.write(b"x" * 2_000_000)

    async with aiostore.connect("fs", work_dir=root) as store:
        with pytest.raises(StorageError, match="No space"):
            await upload(store)
        assert not await store.exists("full/disk.bin")
    assert leftovers(root) == []


async def test_abort_waits_for_the_batch_in_flight(
    adapter: FsAdapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    inodes: list[int] = []
    real = _writer.pwritev_all

    def slow(fd: int, buffers: list[memoryview], offset: int) -> None:
        inodes.append(os.fstat(fd).st_ino)
        entered.set()
        release.wait(30)
        inodes.append(os.fstat(fd).st_ino)  # EBADF here if abort had closed the file
        real(fd, buffers, offset)

    monkeypatch.setattr(_writer, "pwritev_all", slow)
    stream = await adapter.open_write("slow.bin", NO_OPTIONS, size_hint=None, part_size=1, concurrency=1)
    await stream.write(b"y" * CHUNK * _writer._BATCH_CHUNKS)  # a whole batch: handed to a thread
    await asyncio.to_thread(entered.wait, 30)
    aborting = asyncio.create_task(stream.abort())
    done, _ = await asyncio.wait({aborting}, timeout=0.5)
    assert not done  # abort cannot finish while the thread still writes
    release.set()
    await aborting
    assert len(inodes) == 2
    assert inodes[0] == inodes[1]
    assert leftovers(tmp_path / "root") == []


async def test_one_hop_per_batch(adapter: FsAdapter, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = _writer.pwritev_all

    def counting(fd: int, buffers: list[memoryview], offset: int) -> None:
        calls.append(sum(view.nbytes for view in buffers))
        real(fd, buffers, offset)

    monkeypatch.setattr(_writer, "pwritev_all", counting)
    stream = await adapter.open_write("hops.bin", NO_OPTIONS, size_hint=None, part_size=1, concurrency=1)
    for _ in range(100):
        await stream.write(b"z" * (CHUNK // 10))  # small chunks are gathered into whole batches
    await stream.commit()
    batch = CHUNK * _writer._BATCH_CHUNKS
    assert calls == [batch] * (10 * CHUNK // batch)  # 1 MB in a few whole batches, not a hundred hops

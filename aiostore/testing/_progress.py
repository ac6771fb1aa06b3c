"""Progress callbacks, sync and async: monotonic, and the last call reports every byte."""

from __future__ import annotations

import pytest

from aiostore import Store

from ._fixtures import Fixtures
from ._helpers import KiB, ProgressLog, achunks, chunks, payload

__all__ = ["ProgressTests"]

SIZE = 300 * KiB + 3
PIECE = 64 * KiB


class ProgressTests(Fixtures):
    """``progress=`` on ``write`` and ``writer``."""

    @pytest.mark.parametrize("kind", ["sync", "async"])
    async def test_progress_of_bytes(self, s: Store, kind: str) -> None:
        data, log = payload(SIZE, seed=90), ProgressLog()
        await s.write("progress.bin", data, progress=log.callback(kind))
        log.check(SIZE, total_known=True)
        assert await s.read("progress.bin") == data
        await s.delete("progress.bin")

    @pytest.mark.parametrize("kind", ["sync", "async"])
    async def test_progress_of_unsized_iterable(self, s: Store, kind: str) -> None:
        data, log = payload(SIZE, seed=91), ProgressLog()
        source = achunks(data, PIECE)
        await s.write("progress.bin", source, progress=log.callback(kind))
        log.check(SIZE, total_known=False)
        assert await s.read("progress.bin") == data
        await s.delete("progress.bin")

    @pytest.mark.parametrize("kind", ["sync", "async"])
    async def test_progress_of_writer(self, s: Store, kind: str) -> None:
        data, log = payload(SIZE, seed=92), ProgressLog()
        async with s.writer("progress.bin", progress=log.callback(kind)) as writer:
            for piece in chunks(data, PIECE):
                await writer.write(piece)
        log.check(SIZE, total_known=False)
        assert await s.read("progress.bin") == data
        await s.delete("progress.bin")

    @pytest.mark.parametrize("kind", ["sync", "async"])
    async def test_progress_of_sized_writer(self, s: Store, kind: str) -> None:
        data, log = payload(SIZE, seed=93), ProgressLog()
        progress = log.callback(kind)
        async with s.writer("progress.bin", size=SIZE, progress=progress) as writer:
            for piece in chunks(data, PIECE):
                await writer.write(piece)
        log.check(SIZE, total_known=True)
        await s.delete("progress.bin")

    async def test_progress_of_empty_write(self, s: Store) -> None:
        log = ProgressLog()
        await s.write("progress.bin", b"", progress=log.sync)
        assert all(done == 0 for done, _ in log.calls)
        assert await s.read("progress.bin") == b""
        await s.delete("progress.bin")

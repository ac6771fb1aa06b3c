"""Uploads in several requests under every fault: the streaming writer and explicit segments.

The data is one part plus a bit, with the smallest part size each service
accepts (5 MiB on S3, 256 KiB resumable chunks on GCS, 64 KiB blocks on Azure),
so every upload has an init, two parts and a completion to break.
"""

from __future__ import annotations

import random

from aiostore import Segment, Store, TransferOptions

from ._backends import Backend, KiB, Ledger
from ._matrix import WRITE_TIMEOUTS, Box, Scenario, WrongResult, prove_all

_DATA: dict[int, bytes] = {}


def big(backend: Backend) -> bytes:
    size = backend.part_size + 100 * KiB
    if size not in _DATA:
        _DATA[size] = random.Random(size).randbytes(size)
    return _DATA[size]


def writer(data: bytes) -> Scenario:
    async def run(s: Store, box: Box) -> None:
        async with s.writer("big.bin") as w:
            for start in range(0, len(data), 64 * KiB):
                await w.write(data[start : start + 64 * KiB])
        if w.object is None or w.object.size != len(data):
            raise WrongResult(f"the writer described {w.object}")

    return Scenario(
        "writer", run, expected={"big.bin": data}, tokens=("big.bin",), idempotent=False, in_doubt=({},),
        timeouts=WRITE_TIMEOUTS, datasets=(data,),
    )  # fmt: skip


def segments(data: bytes, part: int) -> Scenario:
    async def run(s: Store, box: Box) -> None:
        segment = box["segment"] = await s.init_segment("big.bin")
        first = await s.write_segment(segment, 0, data[:part])
        second = await s.write_segment(segment, 1, data[part:])
        obj = await s.complete_segment(segment, [first, second])
        del box["segment"]
        if obj.size != len(data):
            raise WrongResult(f"complete_segment described {obj}")

    async def recover(s: Store, box: Box) -> None:
        if "segment" in box:  # what a caller does after a failure: abort what it started
            await s.abort_segment(box["segment"])

    return Scenario(
        "segments", run, expected={"big.bin": data}, tokens=("big.bin",), idempotent=False, in_doubt=({},),
        recover=recover, timeouts=WRITE_TIMEOUTS, datasets=(data,),
    )  # fmt: skip


async def _started(s: Store, box: Box) -> None:
    segment = box["segment"] = await s.init_segment("big.bin")
    await s.write_segment(segment, 0, b"x" * 1000)


def abort_segment() -> Scenario:
    async def run(s: Store, box: Box) -> None:
        segment: Segment = box["segment"]
        await s.abort_segment(segment)

    return Scenario("abort_segment", run, expected={}, tokens=("big.bin",), setup=_started)


def list_segments() -> Scenario:
    async def run(s: Store, box: Box) -> None:
        found = [(seg.path, seg.id) async for seg in s.list_segments()]
        if found != [(box["segment"].path, box["segment"].id)]:
            raise WrongResult(f"list_segments gave {found}")

    async def teardown(s: Store, box: Box) -> None:
        await s.abort_segment(box["segment"])

    return Scenario("list_segments", run, expected={}, tokens=("big.bin",), setup=_started, teardown=teardown)


def _scenarios(backend: Backend) -> list[Scenario]:
    data = big(backend)
    return [writer(data), segments(data, backend.part_size), abort_segment(), list_segments()]


async def test_uploads_survive_every_fault(remotes: list[Backend], ledger: Ledger) -> None:
    def transfer(backend: Backend) -> TransferOptions:
        return TransferOptions(part_size=backend.part_size, concurrency=2)

    matrices = await prove_all(remotes, ledger, _scenarios, WRITE_TIMEOUTS, transfer)
    for matrix in matrices:
        assert matrix.runs >= 20, matrix.backend.name
    problems = [matrix.report() for matrix in matrices if matrix.problems]
    assert not problems, "\n".join(problems)

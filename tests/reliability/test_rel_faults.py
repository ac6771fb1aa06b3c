"""Every object operation of every remote adapter under every fault, on the real servers.

For each backend and operation, `Matrix.prove` records the requests the
operation makes, then replays it with each fault on each kind of request and
checks the outcome, the bytes and the raw bucket after every run (see
`_matrix`). Uploads (writer, segments) are in ``test_rel_faults_uploads.py``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from aiostore import AlreadyExistsError, Store

from ._backends import Backend, KiB, Ledger
from ._matrix import READ_TIMEOUTS, Box, Scenario, WrongResult, expect_bytes, prove_all


def rnd(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


DATA = rnd(1, 100 * KiB)
OTHER = rnd(2, 3 * KiB)
SMALL = {f"lstdir/{i}.bin": rnd(10 + i, 500 + i) for i in range(5)}
TREE = {f"tree/{name}": rnd(20 + i, 700) for i, name in enumerate(("a", "b", "c/d"))}


async def _read(s: Store, box: Box) -> None:
    expect_bytes(await s.read("obj.bin"), DATA, "read")


async def _read_range(s: Store, box: Box) -> None:
    expect_bytes(await s.read("obj.bin", offset=1000, size=50_000), DATA[1000:51_000], "ranged read")


async def _reader(s: Store, box: Box) -> None:
    async with s.reader("obj.bin") as reader:
        got = b"".join([chunk async for chunk in reader])
    expect_bytes(got, DATA, "reader")


async def _stat(s: Store, box: Box) -> None:
    obj = await s.stat("obj.bin")
    if obj.size != len(DATA) or obj.path != "obj.bin":
        raise WrongResult(f"stat gave {obj}")


async def _list(s: Store, box: Box) -> None:
    names = [obj.path async for obj in s.list("lstdir/", recursive=True, page_size=2)]
    if sorted(names) != sorted(SMALL):
        raise WrongResult(f"listed {names}")


async def _statistical(s: Store, box: Box) -> None:
    stats = await s.statistical()
    if (stats.count, stats.size) != (len(SMALL), sum(map(len, SMALL.values()))):
        raise WrongResult(f"statistical gave {stats}")


async def _write(s: Store, box: Box) -> None:
    obj = await s.write("obj.bin", DATA)
    if obj.size != len(DATA):
        raise WrongResult(f"write described {obj}")


async def _write_if_absent(s: Store, box: Box) -> None:
    try:
        await s.write("obj.bin", DATA, if_not_exists=True)
    except AlreadyExistsError as exc:  # nobody else writes here: the object can only be this call's own
        raise WrongResult(f"AlreadyExistsError for its own write: {exc}") from exc


async def _delete(s: Store, box: Box) -> None:
    await s.delete("obj.bin")


async def _delete_tree(s: Store, box: Box) -> None:
    await s.delete("tree/", recursive=True)


async def _copy(s: Store, box: Box) -> None:
    await s.copy("src.bin", "dst.bin")


async def _move(s: Store, box: Box) -> None:
    await s.move("src.bin", "dst.bin")


def scenarios() -> dict[str, Scenario]:
    obj = {"obj.bin": DATA}
    keep = {"keep.bin": OTHER}
    src, dst = {"src.bin": DATA}, {"dst.bin": DATA}
    reads: Callable[..., Scenario] = lambda name, run, **kw: Scenario(  # noqa: E731
        name, run, expected=obj, initial=obj, tokens=("obj.bin",), datasets=(DATA,), **kw
    )
    found = [
        reads("read", _read),
        reads("read_range", _read_range, ranged=True),
        reads("reader", _reader, streaming=True),
        reads("stat", _stat),
        Scenario("list", _list, expected=SMALL, initial=SMALL, tokens=("lstdir",)),
        Scenario("statistical", _statistical, expected=SMALL, initial=SMALL),
        Scenario("write", _write, expected=obj, tokens=("obj.bin",)),
        Scenario("write_if_absent", _write_if_absent, expected=obj, tokens=("obj.bin",), idempotent=False),
        Scenario("delete", _delete, expected={}, initial=obj, tokens=("obj.bin",)),
        Scenario(
            "delete_tree", _delete_tree, expected=keep, initial=TREE | keep, tokens=("tree",),
            in_doubt=(keep,),
        ),
        Scenario(
            "copy", _copy, expected=src | dst, initial=src, tokens=("src.bin", "dst.bin"), datasets=(DATA,)
        ),
        Scenario(
            "move", _move, expected=dst, initial=src, tokens=("src.bin", "dst.bin"), datasets=(DATA,),
            idempotent=False, in_doubt=(src | dst,),
        ),
    ]  # fmt: skip
    return {scenario.name: scenario for scenario in found}


SCENARIOS = scenarios()


async def test_object_operations_survive_every_fault(remotes: list[Backend], ledger: Ledger) -> None:
    matrices = await prove_all(remotes, ledger, lambda backend: list(SCENARIOS.values()), READ_TIMEOUTS)
    for matrix in matrices:
        assert matrix.runs >= 6 * len(SCENARIOS), matrix.backend.name
    problems = [matrix.report() for matrix in matrices if matrix.problems]
    assert not problems, "\n".join(problems)

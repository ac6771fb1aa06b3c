"""Deleting many keys on S3 (SeaweedFS): aiostore's batch paths against one key per
request, and against the peers' own bulk deletes.

Separate from the main harness (`python -m benchmarks`): one process, one server,
every way of deleting run in turn in each repetition on freshly written keys.
Client CPU is the process's (all its threads) during the timed call; after each
call a listing checks that nothing under the prefix is left.

Example:
    $ python -m benchmarks.bulk_delete --count 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiostore

from .targets import servers

__all__ = ["main"]

_BUCKET = "bulk-delete"
_IN_FLIGHT = 64  # for the one-key-per-request way, as in the main harness's small ops
_Delete = Callable[[list[str]], Awaitable[None]]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _each(keys: list[str], op: Callable[[str], Awaitable[Any]]) -> None:
    gate = asyncio.Semaphore(_IN_FLIGHT)

    async def one(key: str) -> None:
        async with gate:
            await op(key)

    await asyncio.gather(*(one(key) for key in keys))


def _aiostore_ways(store: aiostore.Store, prefix: str) -> dict[str, _Delete]:
    async def recursive(keys: list[str]) -> None:
        await store.delete(prefix, recursive=True)

    return {
        f"aiostore: store.delete per key, {_IN_FLIGHT} in flight": lambda keys: _each(keys, store.delete),
        "aiostore: store.delete_many(keys)": store.delete_many,
        "aiostore: store.delete(prefix, recursive=True)": recursive,
    }


async def _peer_ways(server: Any, closers: list[Callable[[], Awaitable[Any]]]) -> dict[str, Any]:
    """Each installed peer's bulk delete; a peer that fails to load is reported by name."""
    ways: dict[str, Any] = {}
    for name, make in (("obstore", _obstore), ("s3fs", _s3fs), ("aiobotocore", _aiobotocore)):
        try:
            ways.update(await make(server, closers))
        except ImportError as exc:
            ways[name] = f"not installed ({exc.name})"
    return ways


async def _obstore(server: Any, closers: list[Any]) -> dict[str, _Delete]:
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        _BUCKET,
        endpoint=server.endpoint,
        region=server.region,
        access_key_id=server.access_key,
        secret_access_key=server.secret_key,
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )

    async def delete(keys: list[str]) -> None:
        await obstore.delete_async(store, keys)

    return {"obstore: delete_async(store, keys)": delete}


async def _s3fs(server: Any, closers: list[Any]) -> dict[str, _Delete]:
    import s3fs  # type: ignore[import-untyped]

    fs = s3fs.S3FileSystem(
        asynchronous=True,
        skip_instance_cache=True,
        key=server.access_key,
        secret=server.secret_key,
        endpoint_url=server.endpoint,
        client_kwargs={"region_name": server.region},
    )
    session = await fs.set_session()
    closers.append(session.close)

    async def delete(keys: list[str]) -> None:
        await fs._rm([f"{_BUCKET}/{key}" for key in keys])

    return {"s3fs: _rm(paths)": delete}


async def _aiobotocore(server: Any, closers: list[Any]) -> dict[str, _Delete]:
    from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
    from aiobotocore.session import get_session  # type: ignore[import-untyped]

    client = (
        await get_session()
        .create_client(
            "s3",
            endpoint_url=server.endpoint,
            region_name=server.region,
            aws_access_key_id=server.access_key,
            aws_secret_access_key=server.secret_key,
            config=AioConfig(s3={"addressing_style": "path"}),
        )
        .__aenter__()
    )
    closers.append(lambda: client.__aexit__(None, None, None))

    async def delete(keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            objects = [{"Key": key} for key in keys[start : start + 1000]]
            await client.delete_objects(Bucket=_BUCKET, Delete={"Objects": objects, "Quiet": True})

    return {"aiobotocore: delete_objects, 1000 keys a call, one call at a time": delete}


async def _fill(store: aiostore.Store, keys: list[str]) -> None:
    await _each(keys, lambda key: store.write(key, b"x" * 64))


async def _left(store: aiostore.Store, prefix: str) -> int:
    return len([entry async for entry in store.list(prefix, recursive=True)])


async def _measure(server: Any, count: int, repeat: int) -> dict[str, Any]:
    options = {
        "endpoint": server.endpoint,
        "access_key_id": server.access_key,
        "secret_access_key": server.secret_key,
        "region": server.region,
        "profile": "seaweedfs",
    }
    prefix = "many/"
    keys = [f"{prefix}{index:06d}" for index in range(count)]
    closers: list[Callable[[], Awaitable[Any]]] = []
    async with aiostore.service("s3", **options) as service:
        store = await service.create(_BUCKET)
        ways: dict[str, Any] = {**_aiostore_ways(store, prefix), **await _peer_ways(server, closers)}
        runs: dict[str, Any] = {name: [] if callable(way) else way for name, way in ways.items()}
        try:
            for _ in range(repeat):
                for name, way in ways.items():
                    if callable(way):
                        runs[name].append(await _one_run(store, prefix, keys, way))
        finally:
            for close in closers:
                await close()
            await store.delete("", recursive=True)
            await service.delete(_BUCKET)
    return runs


async def _one_run(store: aiostore.Store, prefix: str, keys: list[str], way: _Delete) -> tuple[float, float]:
    await _fill(store, keys)
    started, cpu = time.perf_counter(), _cpu()
    await way(keys)
    wall, cpu = time.perf_counter() - started, _cpu() - cpu
    left = await _left(store, prefix)
    if left:
        raise SystemExit(f"a delete left {left} of {len(keys)} keys behind")
    return wall, cpu


def _table(runs: dict[str, Any], count: int) -> list[str]:
    lines = [
        f"| way ({count} keys) | wall ms, median [min-max] | client CPU µs per key | CPU vs delete_many |",
        "|---|---|---|---|",
    ]
    basis = statistics.median(cpu for _, cpu in runs["aiostore: store.delete_many(keys)"])
    for name, rows in runs.items():
        if isinstance(rows, str):
            lines.append(f"| {name} | {rows} | | |")
            continue
        walls = [wall * 1000 for wall, _ in rows]
        cpu = statistics.median(cpu for _, cpu in rows)
        wall_cell = f"{statistics.median(walls):.0f} [{min(walls):.0f}-{max(walls):.0f}]"
        lines.append(f"| {name} | {wall_cell} | {cpu / count * 1e6:.1f} | {cpu / basis:.2f}x |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bulk_delete", description=__doc__)
    parser.add_argument("--count", type=int, default=2000, help="keys deleted per run (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of every way (default 5)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.repeat < 1:
        parser.error("--count and --repeat must be at least 1")
    with (
        tempfile.TemporaryDirectory(prefix="aiostore-bulk-delete-") as work,
        servers().seaweedfs(Path(work)) as server,
    ):
        runs = asyncio.run(_measure(server, args.count, args.repeat))
    print("\n".join(_table(runs, args.count)))


if __name__ == "__main__":
    main()

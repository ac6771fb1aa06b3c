"""Start each target's server on 127.0.0.1, create its bucket, seed the shared data.

Seeded once per target, outside every measurement: the objects listed by the
``list`` workload (``list/n<N>/...`` for each listing size) and the object the
``download`` workload reads (``large/source.bin``). S3 is seeded with
aiobotocore at high concurrency; GCS and Azure (where aiostore is the only
client measured) with aiostore itself, a few requests in flight; fs with plain
file writes.

fake-gcs-server (memory backend) finds an object by scanning its bucket under
one server-wide lock, so every create, read and delete costs time in the number
of objects already in that bucket: seeding is quadratic, and small ops in the
seeded bucket run 4-10 times slower, which also inflates the client's CPU per op
(one answer per loop wake-up, on caches the busy server keeps evicting). GCS
therefore gets a second, empty bucket (`TargetEnv.ops_bucket`) for the workloads
that write their own objects (``small``, ``paced``, ``upload``), as real GCS answers in
constant time whatever a bucket holds.

Example:
    >>> with contextlib.ExitStack() as stack:
    ...     env = open_target("s3", settings, stack)
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .job import Job, Source
from .settings import Settings

__all__ = ["LARGE_KEY", "SeedError", "TargetEnv", "open_target", "servers", "warm_server"]

BUCKET = "bench"
OPS_BUCKET = "bench-ops"
LARGE_KEY = "large/source.bin"
_WARM_KEY = "large/warm-up.bin"
_SEED_IN_FLIGHT = 128
#: fake-gcs-server makes one object at a time (one lock); more in flight only lengthens the queue
_GCS_SEED_IN_FLIGHT = 8
#: workloads that create and delete their own objects, run in ``ops_bucket`` when there is one
_OWN_OBJECTS = frozenset({"small", "paced", "upload"})


@dataclass
class TargetEnv:
    """A running target: what a worker needs to reach it, and what was seeded."""

    name: str
    bucket: str
    server: dict[str, str] = field(default_factory=dict)
    list_prefixes: dict[str, int] = field(default_factory=dict)
    large_key: str = ""
    server_label: str = ""
    large_size: int = 0
    small_count: int = 0
    ops_bucket: str = ""

    def bucket_for(self, workloads: list[str]) -> str:
        """The bucket a worker running ``workloads`` uses: ``ops_bucket`` when all of
        them bring their own objects, else the seeded one."""
        return self.ops_bucket if self.ops_bucket and _OWN_OBJECTS.issuperset(workloads) else self.bucket


def _list_prefixes(settings: Settings) -> dict[str, int]:
    return {f"list/n{count}/": count for count in (settings.list_count, settings.list_small_count)}


def servers() -> Any:
    """``aiostore.testing.servers`` (stdlib only), loaded by path.

    Importing it normally runs ``aiostore/testing/__init__.py``, which needs the
    conformance suite's test dependencies (pytest, hypothesis); the launchers do not.
    """
    name = "benchmarks._aiostore_servers"
    if name in sys.modules:
        return sys.modules[name]
    import aiostore

    init = Path(aiostore.__file__).parent / "testing" / "servers" / "__init__.py"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the server launchers from {init}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def open_target(name: str, settings: Settings, stack: contextlib.ExitStack) -> TargetEnv:
    """Start and seed ``name``; the server stops when ``stack`` closes."""
    opener = {"s3": _open_s3, "gcs": _open_gcs, "azure": _open_azure, "fs": _open_fs, "memory": _open_memory,
              "moto": _open_moto}  # fmt: skip
    return opener[name](settings, stack)


def _open_s3(settings: Settings, stack: contextlib.ExitStack) -> TargetEnv:
    s3 = stack.enter_context(servers().seaweedfs(settings.work_dir / "servers"))
    server = {"endpoint": s3.endpoint, "access_key": s3.access_key, "secret_key": s3.secret_key,
              "region": s3.region, "pid": str(s3.pid)}  # fmt: skip
    env = TargetEnv("s3", BUCKET, server, _list_prefixes(settings), LARGE_KEY, "SeaweedFS (weed mini)",
                    settings.large_size, settings.small_count)  # fmt: skip
    asyncio.run(_seed_s3(env, settings))
    return env


def _open_moto(settings: Settings, stack: contextlib.ExitStack) -> TargetEnv:
    """moto's S3 server (Python, one request at a time): the S3 fast path against a slow server."""
    s3 = stack.enter_context(servers().moto(settings.work_dir / "servers"))
    server = {"endpoint": s3.endpoint, "access_key": s3.access_key, "secret_key": s3.secret_key,
              "region": s3.region, "pid": str(s3.pid), "profile": "aws"}  # fmt: skip
    env = TargetEnv("moto", BUCKET, server, {}, "", "moto_server (S3, in memory)", 0, settings.small_count)
    asyncio.run(_create_bucket(env, settings))
    return env


async def _create_bucket(env: TargetEnv, settings: Settings) -> None:
    from aiobotocore.session import get_session  # type: ignore[import-untyped]

    from .clients.aiobotocore_client import client_kwargs

    async with get_session().create_client("s3", **client_kwargs(_seed_job(env, settings))) as s3:
        await s3.create_bucket(Bucket=env.bucket)


async def _seed_s3(env: TargetEnv, settings: Settings) -> None:
    from aiobotocore.session import get_session

    from .clients.aiobotocore_client import client_kwargs, multipart_upload

    job = _seed_job(env, settings)
    async with get_session().create_client("s3", **client_kwargs(job)) as s3:
        await s3.create_bucket(Bucket=env.bucket)
        keys = _seed_keys(env)
        await _bounded(keys, lambda key: s3.put_object(Bucket=env.bucket, Key=key, Body=b"x"))
        if settings.large_size:
            await multipart_upload(s3, env.bucket, LARGE_KEY, Source(settings.large_size), job)


def _seed_job(env: TargetEnv, settings: Settings) -> Job:
    return Job(
        target=env.name, client="seed", workloads=[], bucket=env.bucket, prefix="", server=env.server,
        concurrency=_SEED_IN_FLIGHT, large_size=settings.large_size, part_size=settings.part_size,
        part_concurrency=settings.part_concurrency,
    )  # fmt: skip


def _seed_keys(env: TargetEnv) -> list[str]:
    return [f"{prefix}{i:07d}" for prefix, count in env.list_prefixes.items() for i in range(count)]


async def _bounded(keys: list[str], op: Any, in_flight: int = _SEED_IN_FLIGHT) -> None:
    """Run ``op`` on every key, ``in_flight`` at a time; the first failure stops the seeding
    with a message that says how far it got (not a bare TaskGroup error)."""
    feed = iter(keys)
    done = 0

    async def worker() -> None:
        nonlocal done
        for key in feed:
            try:
                await op(key)
            except Exception as exc:
                raise SeedError(f"seeding {key!r} failed after {done} of {len(keys)} keys: "
                                f"{type(exc).__name__}: {exc}") from exc  # fmt: skip
            done += 1

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(in_flight, len(keys))):
                group.create_task(worker())
    except ExceptionGroup as group_error:
        raise group_error.exceptions[0] from None


class SeedError(RuntimeError):
    """The target's shared data could not be written."""


async def _seed_with_aiostore(env: TargetEnv, settings: Settings, in_flight: int = _SEED_IN_FLIGHT) -> None:
    from .clients.aiostore_client import AiostoreClient

    client = AiostoreClient(_seed_job(env, settings))
    await client.setup()
    try:
        started = time.monotonic()
        await _bounded(_seed_keys(env), lambda key: client.put(key, b"x"), in_flight)
        if settings.large_size:
            await client.upload_large(LARGE_KEY, Source(settings.large_size))
        print(f"[{env.name}] seeded {sum(env.list_prefixes.values())} keys in "
              f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    finally:
        await client.teardown()


def _post_json(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        response.read()


def _open_gcs(settings: Settings, stack: contextlib.ExitStack) -> TargetEnv:
    gcs = stack.enter_context(servers().fake_gcs(settings.work_dir / "servers"))
    for bucket in (BUCKET, OPS_BUCKET):
        _post_json(f"{gcs.endpoint}/storage/v1/b?project=bench", {"name": bucket})
    label = f"fake-gcs-server (memory backend; small ops and uploads in the empty bucket {OPS_BUCKET!r})"
    server = {"endpoint": gcs.endpoint, "pid": str(gcs.pid)}
    env = TargetEnv("gcs", BUCKET, server, _list_prefixes(settings), LARGE_KEY, label,
                    settings.large_size, settings.small_count, ops_bucket=OPS_BUCKET)  # fmt: skip
    asyncio.run(_seed_with_aiostore(env, settings, _GCS_SEED_IN_FLIGHT))
    return env


def _open_azure(settings: Settings, stack: contextlib.ExitStack) -> TargetEnv:
    from azure.storage.blob import ContainerClient

    az = stack.enter_context(servers().azurite(settings.work_dir / "servers"))
    with ContainerClient.from_connection_string(az.connection_string, BUCKET) as container:
        container.create_container()
    server = {"endpoint": az.endpoint, "connection_string": az.connection_string, "pid": str(az.pid)}
    env = TargetEnv("azure", BUCKET, server, _list_prefixes(settings), LARGE_KEY, "Azurite (in memory)",
                    settings.large_size, settings.small_count)  # fmt: skip
    asyncio.run(_seed_with_aiostore(env, settings))
    return env


def _open_fs(settings: Settings, stack: contextlib.ExitStack) -> TargetEnv:
    root = settings.work_dir / "fs-root"
    large = root / LARGE_KEY
    large.parent.mkdir(parents=True, exist_ok=True)
    with large.open("wb") as file:
        for chunk in Source(settings.fs_large_size).sync_chunks():
            file.write(chunk)
    label = f"local directory {_mount_of(root)}"
    return TargetEnv(
        "fs", str(root), {}, {}, LARGE_KEY, label, settings.fs_large_size, settings.fs_small_count
    )


def mount_of(path: Path) -> tuple[str, str]:
    """The mount point and filesystem type under ``path`` (from /proc/mounts)."""
    best = ("", "?")
    with contextlib.suppress(OSError), open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            parts = line.split()
            if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best[0]):
                best = (parts[1], parts[2])
    return best


def _mount_of(path: Path) -> str:
    """Where ``path`` lives, for the report."""
    point, kind = mount_of(path)
    return f"on {point or '?'} ({kind})"


def _open_memory(settings: Settings, stack: contextlib.ExitStack) -> TargetEnv:
    label = "aiostore memory adapter (in the worker process)"
    return TargetEnv("memory", "", {}, {}, "", label, 0, settings.small_count)


def warm_server(env: TargetEnv, settings: Settings) -> None:
    """Before a timed upload: an untimed one of two rounds of parts, from this process.

    On SeaweedFS the second upload of a repetition was faster than the first (the
    one right after the downloads) in 14 of 16 pairs, whichever client ran it and
    although the server was idle before either; with this warm-up every timed
    upload follows an upload. It comes from the orchestrator (the seeding client:
    aiobotocore on S3, aiostore on the emulators), so the timed client's process
    starts as cold as before.
    """
    if env.name not in ("s3", "gcs", "azure") or not env.large_size:
        return
    size = min(env.large_size, 2 * settings.part_size * settings.part_concurrency)
    warm_up = _s3_warm_up if env.name == "s3" else _aiostore_warm_up
    asyncio.run(warm_up(env, settings, size))


async def _s3_warm_up(env: TargetEnv, settings: Settings, size: int) -> None:
    from aiobotocore.session import get_session

    from .clients.aiobotocore_client import client_kwargs, multipart_upload

    job = _seed_job(env, settings)
    async with get_session().create_client("s3", **client_kwargs(job)) as s3:
        await multipart_upload(s3, env.bucket, _WARM_KEY, Source(size), job)
        await s3.delete_object(Bucket=env.bucket, Key=_WARM_KEY)


async def _aiostore_warm_up(env: TargetEnv, settings: Settings, size: int) -> None:
    from .clients.aiostore_client import AiostoreClient

    client = AiostoreClient(_seed_job(env, settings))
    await client.setup()
    try:
        await client.upload_large(_WARM_KEY, Source(size))
        await client.delete(_WARM_KEY)
    finally:
        await client.teardown()

"""Fixtures of the S3 adapter tests: options and one bucket per session on each server.

The servers themselves come from ``aiostore.testing.servers.fixtures``
(``seaweedfs_server``, ``moto_server``). Buckets are created and removed through
the adapter's own service API.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import aiostore
from aiostore.testing.servers.seaweedfs import S3Server


def server_options(server: S3Server, profile: str) -> dict[str, Any]:
    """Keyword options reaching ``server`` with the given endpoint profile."""
    options: dict[str, Any] = {
        "endpoint": server.endpoint,
        "access_key_id": server.access_key,
        "secret_access_key": server.secret_key,
        "region": server.region,
        "profile": profile,
    }
    if profile == "aws":
        options["addressing_style"] = "path"
    return options


async def _empty_and_delete(options: dict[str, Any], bucket: str) -> None:
    async with aiostore.service("s3", **options) as svc:
        store = await svc.get(bucket)
        for segment in [seg async for seg in store.list_segments()]:
            await store.abort_segment(segment)
        await store.delete("", recursive=True)
        await svc.delete(bucket)


async def _create(options: dict[str, Any], bucket: str) -> None:
    async with aiostore.service("s3", **options) as svc:
        await svc.create(bucket)


@pytest.fixture(scope="session")
def seaweedfs_options(seaweedfs_server: S3Server) -> dict[str, Any]:
    return server_options(seaweedfs_server, "seaweedfs")


@pytest.fixture(scope="session")
def moto_options(moto_server: S3Server) -> dict[str, Any]:
    return server_options(moto_server, "aws")


def _session_bucket(options: dict[str, Any]) -> Iterator[str]:
    bucket = f"aiostore-s3-{uuid.uuid4().hex[:10]}"
    asyncio.run(_create(options, bucket))
    yield bucket
    asyncio.run(_empty_and_delete(options, bucket))


@pytest.fixture(scope="session")
def seaweedfs_bucket(seaweedfs_options: dict[str, Any]) -> Iterator[str]:
    """A bucket on SeaweedFS for the whole session, removed at the end."""
    yield from _session_bucket(seaweedfs_options)


@pytest.fixture(scope="session")
def moto_bucket(moto_options: dict[str, Any]) -> Iterator[str]:
    """A bucket on moto for the whole session, removed at the end."""
    yield from _session_bucket(moto_options)


@pytest.fixture
async def seaweedfs_store(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> AsyncIterator[aiostore.Store]:
    """An opened store on the SeaweedFS bucket, under a fresh work dir."""
    work_dir = f"t-{uuid.uuid4().hex[:8]}/"
    async with aiostore.connect("s3", name=seaweedfs_bucket, work_dir=work_dir, **seaweedfs_options) as store:
        yield store
        await store.delete("", recursive=True)


@pytest.fixture
async def moto_store(moto_options: dict[str, Any], moto_bucket: str) -> AsyncIterator[aiostore.Store]:
    """An opened store on the moto bucket, under a fresh work dir."""
    work_dir = f"t-{uuid.uuid4().hex[:8]}/"
    async with aiostore.connect("s3", name=moto_bucket, work_dir=work_dir, **moto_options) as store:
        yield store
        await store.delete("", recursive=True)

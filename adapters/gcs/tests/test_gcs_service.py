"""The bucket service: list, get, create, delete, and storagers sharing its session."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiostore_gcs import GCSAdapter, GCSService
from aiostore_gcs._client import GCSClient

import aiostore
from aiostore import (
    AlreadyExistsError,
    ClosedError,
    ConditionNotMetError,
    InvalidArgumentError,
    Service,
    StoragerNotFoundError,
    Store,
)
from aiostore.testing.servers import GCSServer


def gcs_adapter(store: Store) -> GCSAdapter:
    adapter = store._adapter
    assert isinstance(adapter, GCSAdapter)
    return adapter


def service_client(svc: Service) -> GCSClient:
    adapter = svc._adapter
    assert isinstance(adapter, GCSService)
    return adapter._client


@pytest.fixture
def svc_options(fake_gcs_server: GCSServer) -> dict[str, Any]:
    return {"endpoint": fake_gcs_server.endpoint}


def _name() -> str:
    return f"aiostore-svc-{uuid.uuid4().hex[:10]}"


async def test_bucket_lifecycle(svc_options: dict[str, Any]) -> None:
    name = _name()
    async with aiostore.service("gcs", **svc_options) as svc:
        store = await svc.create(name, work_dir="data/")
        await store.write("a.txt", b"in a new bucket")
        assert store.metadata().name == name
        assert name in [info.name async for info in svc.list()]
        again = await svc.get(name)
        assert await again.read("data/a.txt") == b"in a new bucket"
        with pytest.raises(AlreadyExistsError):
            await svc.create(name)
        with pytest.raises(ConditionNotMetError):
            await svc.delete(name)  # not empty
        await store.delete("a.txt")
        await svc.delete(name)
        assert name not in [info.name async for info in svc.list()]
        with pytest.raises(StoragerNotFoundError):
            await svc.get(name)
        with pytest.raises(StoragerNotFoundError):
            await svc.delete(name)


async def test_listed_buckets_have_creation_times(svc_options: dict[str, Any]) -> None:
    name = _name()
    async with aiostore.service("gcs", **svc_options) as svc:
        await svc.create(name)
        infos = {info.name: info async for info in svc.list()}
        created = infos[name].created_at
        assert created is not None
        assert created.tzinfo is not None
        await svc.delete(name)


async def test_storagers_share_the_service_session(svc_options: dict[str, Any]) -> None:
    name = _name()
    svc = aiostore.service("gcs", **svc_options)
    async with svc:
        first, second = await svc.create(name), await svc.get(name)
        await first.write("x", b"1")
        assert await second.read("x") == b"1"
        client = service_client(svc)  # the service owns the one session
        assert gcs_adapter(first)._client is client
        assert gcs_adapter(second)._client is client
        session = client._session
        await first.aclose()  # a storager never closes the shared session
        assert session is not None
        assert not session.closed
        await second.delete("x")
        await svc.delete(name)
    assert session.closed
    with pytest.raises(ClosedError):
        await second.read("x")


async def test_project_is_required_against_google(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Refused before any request: nothing here reaches the network."""
    for name in (
        "STORAGE_EMULATOR_HOST",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud credentials either
    async with aiostore.service("gcs") as svc:
        with pytest.raises(InvalidArgumentError, match="project"):
            await svc.create("never-created")

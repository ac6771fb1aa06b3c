"""Containers through the service, and the one aiohttp session a service shares."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

import aiostore
from aiostore import (
    AlreadyExistsError,
    ClosedError,
    InvalidArgumentError,
    Service,
    StorageError,
    StoragerNotFoundError,
)
from aiostore.testing.servers import AzureServer


@pytest.fixture
async def svc(azurite_server: AzureServer) -> AsyncIterator[Service]:
    async with aiostore.service("azblob", connection_string=azurite_server.connection_string) as service:
        yield service


def fresh_name() -> str:
    return f"svc-{uuid.uuid4().hex[:12]}"


async def test_create_get_list_delete(svc: Service) -> None:
    name = fresh_name()
    store = await svc.create(name)
    listed = {info.name: info for info in [info async for info in svc.list()]}
    assert name in listed
    assert listed[name].created_at is not None
    await store.write("a.txt", b"in the new container")
    got = await svc.get(name, work_dir="")
    assert await got.read("a.txt") == b"in the new container"
    with pytest.raises(AlreadyExistsError):
        await svc.create(name)
    with pytest.raises(StorageError, match="not empty"):
        await svc.delete(name)
    assert await got.exists("a.txt")
    await got.delete("a.txt")
    await svc.delete(name)
    assert name not in [info.name async for info in svc.list()]
    with pytest.raises(StoragerNotFoundError):
        await svc.delete(name)
    with pytest.raises(StoragerNotFoundError):
        await svc.get(name)


async def test_a_missing_container_is_storager_not_found(svc: Service, azurite_server: AzureServer) -> None:
    async with aiostore.connect(
        f"azblob://{fresh_name()}", connection_string=azurite_server.connection_string
    ) as store:
        with pytest.raises(StoragerNotFoundError):
            await store.write("a.txt", b"x")
        with pytest.raises(StoragerNotFoundError):
            await store.stat("a.txt")
        with pytest.raises(StoragerNotFoundError):
            [obj async for obj in store.list("")]


async def test_an_invalid_container_name_is_refused(svc: Service) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await svc.create("Not_Valid")
    assert info.value.op == "create_storager"


async def test_stores_share_the_service_session_and_close_nothing(svc: Service) -> None:
    name = fresh_name()
    first = await svc.create(name)
    second = await svc.get(name, work_dir="sub")
    await first.write("x.txt", b"1")
    await second.write("y.txt", b"2")
    # Both adapters hold the service's one connection, hence its one aiohttp session.
    assert first._adapter._connection is second._adapter._connection  # type: ignore[attr-defined]
    await first.aclose()
    assert await second.read("y.txt") == b"2"
    assert [obj.path async for obj in second.list("")] == ["y.txt"]
    await second.delete("y.txt")
    assert name in [info.name async for info in svc.list()]  # the service still works
    third = await svc.get(name)
    await third.delete("x.txt")
    await svc.delete(name)


async def test_closing_the_service_closes_its_stores(azurite_server: AzureServer) -> None:
    service = aiostore.service("azblob", connection_string=azurite_server.connection_string)
    name = fresh_name()
    store = await service.create(name)
    await store.write("a.txt", b"x")
    await store.delete("a.txt")
    await service.delete(name)
    await service.aclose()
    with pytest.raises(ClosedError):
        await store.stat("a.txt")


async def test_sessions_are_made_lazily_in_the_loop(azurite_server: AzureServer, container_name: str) -> None:
    store = aiostore.connect(f"azblob://{container_name}", connection_string=azurite_server.connection_string)
    connection = store._adapter._connection  # type: ignore[attr-defined]
    assert connection._session is None
    async with store:
        await store.exists("nothing.txt")
        session = connection._session
        assert isinstance(session, aiohttp.ClientSession)
        assert not session.closed
    assert session.closed


async def test_an_injected_session_is_used_and_left_open(
    azurite_server: AzureServer, container_name: str
) -> None:
    requests: list[str] = []

    async def count(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        requests.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count)
    async with aiohttp.ClientSession(trace_configs=[trace], auto_decompress=False) as session:
        async with aiostore.connect(
            f"azblob://{container_name}", connection_string=azurite_server.connection_string, session=session
        ) as store:
            await store.exists("nothing.txt")
        assert not session.closed
        assert requests == ["HEAD"]

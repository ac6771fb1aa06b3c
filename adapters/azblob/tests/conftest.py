"""Fixtures of the azblob tests: one container per test session on the shared Azurite."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from urllib.parse import quote

import pytest
from aiostore_azblob import SPEC, AzblobAdapter
from aiostore_azblob._sharedkey import encode_query
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest import HttpRequest
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

import aiostore
from aiostore import AlreadyExistsError, Store
from aiostore.testing.servers import DEV_ACCOUNT, DEV_KEY, AzureServer

MiB = 1024 * 1024
SdkSignature = Callable[[str, str, str, list[tuple[str, str]], Mapping[str, str]], str]


def _sdk_signature(
    method: str, container: str, name: str, query: list[tuple[str, str]], headers: Mapping[str, str]
) -> str:
    """``Authorization`` as the SDK's own ``SharedKeyCredentialPolicy`` signs this request.

    The URL is the one the SDK builds (names quoted with ``safe="~/"``); the
    pipeline context holds azure-core's aiohttp transport (never opened), as in
    the adapter, so the policy takes its aiohttp branch.
    """
    path = f"/{DEV_ACCOUNT}/{quote(container, safe='')}/{quote(name, safe='~/')}"
    url = f"http://127.0.0.1:10000{path}" + (f"?{encode_query(query)}" if query else "")
    request = HttpRequest(method, url, headers=dict(headers))
    policy = SharedKeyCredentialPolicy(DEV_ACCOUNT, DEV_KEY)
    policy.on_request(PipelineRequest(request, PipelineContext(AioHttpTransport())))
    return str(request.headers["Authorization"])


@pytest.fixture
def sdk_signature() -> SdkSignature:
    """The SDK's Shared Key signature of a request (see `_sdk_signature`)."""
    return _sdk_signature


async def ensure_container(server: AzureServer, name: str) -> None:
    """Create ``name`` on ``server`` unless it exists."""
    async with aiostore.service("azblob", connection_string=server.connection_string) as svc:
        with contextlib.suppress(AlreadyExistsError):
            await svc.create(name)


@pytest.fixture(scope="session")
def container_name() -> str:
    """A container name unique to this test session."""
    return f"aiostore-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def azblob_store(azurite_server: AzureServer, container_name: str) -> AsyncIterator[Store]:
    """An opened store on the session's container, at its root."""
    await ensure_container(azurite_server, container_name)
    async with aiostore.connect(
        f"azblob://{container_name}", connection_string=azurite_server.connection_string
    ) as store:
        yield store


@pytest.fixture
async def azblob_sdk_store(azurite_server: AzureServer, container_name: str) -> AsyncIterator[Store]:
    """Like ``azblob_store``, with every call on the SDK (``fast_path=False``)."""
    await ensure_container(azurite_server, container_name)
    async with aiostore.connect(
        f"azblob://{container_name}?fast_path=false", connection_string=azurite_server.connection_string
    ) as store:
        yield store


@pytest.fixture
async def raw(azurite_server: AzureServer, container_name: str) -> AsyncIterator[ContainerClient]:
    """The session's container through the plain SDK, to look behind the adapter's back."""
    await ensure_container(azurite_server, container_name)
    async with BlobServiceClient.from_connection_string(azurite_server.connection_string) as client:
        yield client.get_container_client(container_name)


@pytest.fixture
async def az(azblob_store: Store, raw: ContainerClient) -> AsyncIterator[Store]:
    """``azblob_store`` scoped under a fresh prefix, emptied (uncommitted blocks too) afterwards."""
    prefix = f"t-{uuid.uuid4().hex[:12]}/"
    yield azblob_store.scoped(prefix)
    async for blob in raw.list_blobs(name_starts_with=prefix, include=["uncommittedblobs"]):
        await raw.delete_blob(blob.name)


@pytest.fixture
async def adapter(
    azurite_server: AzureServer, container_name: str, az: Store, raw: ContainerClient
) -> AsyncIterator[AzblobAdapter]:
    """The adapter itself (1 MiB chunks) in ``az``'s directory, so ``az`` cleans up after it."""
    work_dir = az.metadata().work_dir
    adapter = SPEC.open_store(
        name=container_name,
        work_dir=work_dir,
        connection_string=azurite_server.connection_string,
        chunk_size=MiB,
    )
    assert isinstance(adapter, AzblobAdapter)
    await adapter.open()
    try:
        yield adapter
    finally:
        await adapter.aclose()

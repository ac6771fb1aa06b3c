"""Fixtures of the reliability proof: real servers behind `FaultProxy`, stores on both sides of it.

Every test works in a fresh work dir; the session `Ledger` is printed at the end of the run.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiostore import Store
from aiostore.testing.faults import FaultProxy
from aiostore.testing.servers import AzureServer, GCSServer, S3Server

from ._backends import LEDGER, Backend, Ledger, abort_uploads, make_azure, make_gcs, make_s3


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    """The session's counters; `pytest_terminal_summary` prints them at the end."""
    return LEDGER


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if LEDGER.operations:
        terminalreporter.write_line(LEDGER.line())
        terminalreporter.write_line(LEDGER.details())


# -- fixtures ------------------------------------------------------------------
REMOTES = ("s3-seaweedfs", "s3-moto", "gcs", "azblob")


@pytest.fixture(scope="session")
def seaweedfs_backend(seaweedfs_server: S3Server) -> Backend:
    return make_s3("s3-seaweedfs", seaweedfs_server, "seaweedfs")


@pytest.fixture(scope="session")
def moto_backend(moto_server: S3Server) -> Backend:
    return make_s3("s3-moto", moto_server, "aws")


@pytest.fixture(scope="session")
def gcs_backend(fake_gcs_server: GCSServer) -> Backend:
    return make_gcs(fake_gcs_server)


@pytest.fixture(scope="session")
def azblob_backend(azurite_server: AzureServer) -> Backend:
    return make_azure(azurite_server)


_FIXTURES = {
    "s3-seaweedfs": "seaweedfs_backend", "s3-moto": "moto_backend",
    "gcs": "gcs_backend", "azblob": "azblob_backend",
}  # fmt: skip


@pytest.fixture
def remotes(request: pytest.FixtureRequest) -> list[Backend]:
    """Every remote backend (their servers start on first use).

    scripts/test installs every adapter, so a backend that cannot be made is a
    broken set-up: the matrix fails naming it rather than quietly proving less.
    """
    found: list[Backend] = []
    missing: list[str] = []
    for name in REMOTES:
        try:
            found.append(request.getfixturevalue(_FIXTURES[name]))
        except pytest.skip.Exception as exc:
            missing.append(f"{name} ({exc})")
    if missing:
        pytest.fail("the fault matrix needs every remote backend; not available: " + "; ".join(missing))
    return found


@pytest.fixture(params=REMOTES)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each remote backend in turn (its server starts on first use)."""
    found: Backend = request.getfixturevalue(_FIXTURES[request.param])
    return found


@pytest.fixture
async def proxy(backend: Backend, ledger: Ledger) -> AsyncIterator[FaultProxy]:
    """A `FaultProxy` in front of ``backend``'s server; its counts go to the ledger."""
    async with FaultProxy(backend.upstream, seed=1234) as found:
        yield found
        ledger.absorb(found)


@pytest.fixture
def prefix() -> str:
    """A work dir unique to the test."""
    return f"rel-{uuid.uuid4().hex[:10]}/"


@pytest.fixture
async def clean(backend: Backend, prefix: str) -> AsyncIterator[Store]:
    """A store straight on the server (no proxy) under ``prefix``; emptied afterwards."""
    async with backend.connect(None, prefix) as store:
        yield store
        await abort_uploads(store)
        await store.delete("", recursive=True)


@pytest.fixture
async def faulty(backend: Backend, proxy: FaultProxy, prefix: str) -> AsyncIterator[Store]:
    """A store through ``proxy`` under ``prefix``."""
    async with backend.connect(proxy.endpoint, prefix) as store:
        yield store

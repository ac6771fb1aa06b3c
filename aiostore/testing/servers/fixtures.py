"""Session-scoped pytest fixtures: one real server of each kind per test session.

Loaded for every test with ``-p aiostore.testing.servers.fixtures`` (see pyproject addopts).
A server starts the first time a test asks for it and stops when the session ends.

Example:
    def test_put(seaweedfs_server: S3Server) -> None:
        ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .azurite import AzureServer, azurite
from .fakegcs import GCSServer, fake_gcs
from .moto import moto
from .seaweedfs import S3Server, seaweedfs

__all__ = ["azurite_server", "fake_gcs_server", "moto_server", "seaweedfs_server"]


@pytest.fixture(scope="session")
def seaweedfs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS S3 with signature checking and random per-run credentials."""
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's in-memory S3 (no signature or checksum checks)."""
    with moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(scope="session")
def fake_gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GCSServer]:
    """fake-gcs-server with the in-memory backend."""
    with fake_gcs(tmp_path_factory.mktemp("fake-gcs")) as server:
        yield server


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzureServer]:
    """Azurite blob service with the well-known dev account, in memory."""
    with azurite(tmp_path_factory.mktemp("azurite")) as server:
        yield server

"""The whole aiostore conformance suite against SeaweedFS and moto."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import aiostore
from aiostore.testing import ConformanceSuite


class TestS3OnSeaweedFS(ConformanceSuite):
    @pytest.fixture
    async def store(
        self, seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
    ) -> AsyncIterator[aiostore.Store]:
        async with aiostore.connect(f"seaweedfs://{seaweedfs_bucket}/suite", **seaweedfs_options) as store:
            yield store


class TestS3OnMoto(ConformanceSuite):
    @pytest.fixture
    async def store(self, moto_options: dict[str, Any], moto_bucket: str) -> AsyncIterator[aiostore.Store]:
        async with aiostore.connect(f"s3://{moto_bucket}/suite", **moto_options) as store:
            yield store

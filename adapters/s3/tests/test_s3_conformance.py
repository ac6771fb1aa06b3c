"""The whole aiostore conformance suite on both data planes.

The fast path (SigV4 signed here, sent through aiohttp) runs on SeaweedFS,
which checks every signature, and on moto; the aiobotocore data plane
(``fast_path=False``) runs on SeaweedFS. moto with the aiobotocore plane is
left out to keep the run short: the control-plane calls it would add are the
same in every class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiostore_s3 import S3Adapter
from aiostore_s3._dataplane import BotoPlane
from aiostore_s3._fastplane import FastPlane

import aiostore
from aiostore.testing import ConformanceSuite


async def _checked(store: aiostore.Store, plane: type[Any]) -> aiostore.Store:
    adapter = store._adapter
    assert isinstance(adapter, S3Adapter)
    assert isinstance(await adapter._plane(), plane)
    return store


class TestS3OnSeaweedFS(ConformanceSuite):
    @pytest.fixture
    async def store(
        self, seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
    ) -> AsyncIterator[aiostore.Store]:
        async with aiostore.connect(f"seaweedfs://{seaweedfs_bucket}/suite", **seaweedfs_options) as store:
            yield await _checked(store, FastPlane)


class TestS3OnMoto(ConformanceSuite):
    @pytest.fixture
    async def store(self, moto_options: dict[str, Any], moto_bucket: str) -> AsyncIterator[aiostore.Store]:
        async with aiostore.connect(f"s3://{moto_bucket}/suite", **moto_options) as store:
            yield await _checked(store, FastPlane)


class TestS3OnSeaweedFSBotocore(ConformanceSuite):
    @pytest.fixture
    async def store(
        self, seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
    ) -> AsyncIterator[aiostore.Store]:
        url = f"seaweedfs://{seaweedfs_bucket}/suite-botocore?fast_path=false"
        async with aiostore.connect(url, **seaweedfs_options) as store:
            yield await _checked(store, BotoPlane)

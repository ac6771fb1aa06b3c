"""The whole aiostore conformance suite against Azurite, on both data planes.

The fast path (Shared Key signed here, sent through aiohttp; Azurite checks every
signature) is the default; ``fast_path=False`` keeps every call on the SDK.
"""

from __future__ import annotations

import pytest
from aiostore_azblob import AzblobAdapter
from aiostore_azblob._fastplane import FastPlane

from aiostore import Store
from aiostore.testing import ConformanceSuite


async def _checked(store: Store, *, fast: bool) -> Store:
    await store.exists("probe")  # opens the store
    adapter = store._adapter
    assert isinstance(adapter, AzblobAdapter)
    plane = adapter._scope.fast
    assert isinstance(plane, FastPlane) if fast else plane is None
    return store


class TestAzblobOnAzurite(ConformanceSuite):
    @pytest.fixture
    async def store(self, azblob_store: Store) -> Store:
        return await _checked(azblob_store, fast=True)


class TestAzblobOnAzuriteSdk(ConformanceSuite):
    @pytest.fixture
    async def store(self, azblob_sdk_store: Store) -> Store:
        return await _checked(azblob_sdk_store, fast=False)

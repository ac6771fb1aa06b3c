"""The whole aiostore conformance suite against Azurite."""

from __future__ import annotations

import pytest

from aiostore import Store
from aiostore.testing import ConformanceSuite


class TestAzblobOnAzurite(ConformanceSuite):
    @pytest.fixture
    def store(self, azblob_store: Store) -> Store:
        return azblob_store

"""The whole aiostore conformance suite against fake-gcs-server.

The store uses 256 KiB resumable chunks, so the suite's streamed writes of a
few MiB go through real multi-chunk resumable sessions rather than one request.
"""

from __future__ import annotations

import pytest

from aiostore import Store
from aiostore.testing import ConformanceSuite


class TestGCSOnFakeGCSServer(ConformanceSuite):
    @pytest.fixture
    def store(self, gcs_store: Store) -> Store:
        return gcs_store

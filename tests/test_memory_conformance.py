"""The conformance suite against the in-process ``memory`` adapter.

A 1 MiB part size makes the suite's multi-segment cases really go through the
core's segment uploader.
"""

from collections.abc import AsyncIterator

import pytest

import aiostore
from aiostore.testing import ConformanceSuite, MiB


class TestMemory(ConformanceSuite):
    @pytest.fixture
    async def store(self) -> AsyncIterator[aiostore.Store]:
        transfer = aiostore.TransferOptions(part_size=MiB, concurrency=4)
        async with aiostore.connect("memory://", transfer=transfer) as store:
            yield store

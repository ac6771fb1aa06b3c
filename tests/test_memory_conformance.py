"""The conformance suite against the in-process ``memory`` adapter."""

from collections.abc import AsyncIterator

import pytest

import aiostore
from aiostore.testing import ConformanceSuite


class TestMemory(ConformanceSuite):
    @pytest.fixture
    async def store(self) -> AsyncIterator[aiostore.Store]:
        async with aiostore.connect("memory://") as store:
            yield store

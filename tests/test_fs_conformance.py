"""The conformance suite against the ``fs`` adapter, rooted in a fresh temporary directory."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aiostore
from aiostore.testing import ConformanceSuite


class TestFs(ConformanceSuite):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[aiostore.Store]:
        async with aiostore.connect("fs", work_dir=tmp_path / "root") as store:
            yield store

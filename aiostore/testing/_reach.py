"""``reach``: URLs anyone can fetch where the store supports them, a clear error where not."""

from __future__ import annotations

import pytest

from aiostore import NotFoundError, Store, UnsupportedError

from ._fixtures import Fixtures
from ._helpers import payload

__all__ = ["ReachTests"]


async def _fetch(url: str) -> tuple[int, bytes]:
    """GET ``url`` exactly as given (no re-quoting of the signature) with aiohttp."""
    import aiohttp  # a dev dependency: only needed when the store can reach
    import yarl

    async with aiohttp.ClientSession() as session, session.get(yarl.URL(url, encoded=True)) as response:
        return response.status, await response.read()


class ReachTests(Fixtures):
    """``store.reach`` on both sides of the ``reach`` capability."""

    @pytest.mark.capability("reach")
    @pytest.mark.parametrize("path", ["reach.bin", "dir with space/ünï+#?.bin"], ids=["plain", "quoted"])
    async def test_reach_url_serves_the_bytes(self, s: Store, path: str) -> None:
        data = payload(10_000, seed=80)
        await s.write(path, data)
        url = await s.reach(path, expires=600)
        assert isinstance(url, str)
        assert url.startswith(("http://", "https://"))
        status, body = await _fetch(url)
        assert status == 200
        assert body == data
        await s.delete(path)

    @pytest.mark.capability("reach")
    async def test_reach_url_of_deleted_object_fails(self, s: Store) -> None:
        await s.write("short-lived.bin", b"soon gone")
        url = await s.reach("short-lived.bin")
        await s.delete("short-lived.bin")
        status, body = await _fetch(url)
        assert status >= 400
        assert body != b"soon gone"

    @pytest.mark.capability("reach", absent=True)
    async def test_reach_is_unsupported(self, s: Store) -> None:
        await s.write("reach.bin", b"data")
        with pytest.raises(UnsupportedError) as info:
            await s.reach("reach.bin")
        assert isinstance(info.value, NotImplementedError)
        assert not isinstance(info.value, NotFoundError)
        await s.delete("reach.bin")

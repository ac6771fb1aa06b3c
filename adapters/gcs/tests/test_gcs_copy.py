"""Server-side copies through ``objects.rewrite``."""

from __future__ import annotations

from typing import Any

import pytest

import aiostore
from aiostore import NotFoundError

GCSProxy = Any  # conftest's recording proxy (conftest modules cannot be imported)


async def test_copy_keeps_type_and_metadata(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        await store.write("src.txt", b"original", content_type="text/plain", metadata={"k": "v"})
        await store.copy("src.txt", "dir/dst.txt")
        copied = await store.stat("dir/dst.txt")
        assert (copied.content_type, dict(copied.metadata), copied.size) == ("text/plain", {"k": "v"}, 8)
        assert await store.read("dir/dst.txt") == b"original"
        with pytest.raises(NotFoundError):
            await store.copy("missing.txt", "dir/dst.txt")
        assert await store.read("dir/dst.txt") == b"original"
        await store.delete("src.txt")
        await store.delete("dir/dst.txt")


async def test_copy_loops_until_gcs_says_done(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    """fake-gcs-server finishes every rewrite in one call; the proxy answers the first
    two calls the way GCS answers for a large object (``done: false`` plus a token)."""
    async with aiostore.connect(gcs_url, **{**gcs_options, "endpoint": gcs_proxy.endpoint}) as store:
        await store.write("big-src.bin", b"pretend this is large")
        gcs_proxy.unfinished_rewrites = 2
        await store.copy("big-src.bin", "big-dst.bin")
        assert await store.read("big-dst.bin") == b"pretend this is large"
        await store.delete("big-src.bin")
        await store.delete("big-dst.bin")
    rewrites = gcs_proxy.calls("POST", "/rewriteTo/")
    assert len(rewrites) == 3
    assert "rewriteToken" not in rewrites[0].query
    assert rewrites[1].query["rewriteToken"] != rewrites[2].query["rewriteToken"]

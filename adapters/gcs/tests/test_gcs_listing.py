"""Listing pages fetched one request at a time, exact in size, and batch deletes."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

import aiostore
from aiostore import ObjectType
from aiostore.testing import write_many
from aiostore.testing.servers import GCSServer

GCSProxy = Any  # conftest's recording proxy (conftest modules cannot be imported)


def _lists(proxy: GCSProxy) -> list[dict[str, str]]:
    return [r.query for r in proxy.calls("GET", "/o") if r.path.endswith("/o")]


async def test_pages_are_fetched_lazily_and_exact(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    items = {f"d/f{i:02d}.txt": b"f" for i in range(7)} | {f"d/sub{i}/x": b"x" for i in range(5)}
    async with aiostore.connect(gcs_url, **{**gcs_options, "endpoint": gcs_proxy.endpoint}) as store:
        await write_many(store, items)
        before = len(_lists(gcs_proxy))
        pages = store.list("d", page_size=3).pages()
        first = await anext(pages)
        assert len(_lists(gcs_proxy)) == before + 1, "one request for the first page, no more"
        rest = [page async for page in pages]
        entries = [obj for page in [first, *rest] for obj in page]
        assert all(1 <= len(page) <= 3 for page in [first, *rest])
        paths = [obj.path for obj in entries]
        expected = sorted([f"d/f{i:02d}.txt" for i in range(7)] + [f"d/sub{i}/" for i in range(5)])
        assert paths == expected
        assert {obj.type for obj in entries if obj.path.endswith("/")} == {ObjectType.DIR}
        assert len(_lists(gcs_proxy)) == before + len(rest) + 1
        await store.delete("d", recursive=True)
    assert all("pageToken" not in query for query in _lists(gcs_proxy)[before:])


async def test_directory_markers_are_not_files(
    gcs_url: str, gcs_options: dict[str, Any], gcs_bucket: str, fake_gcs_server: GCSServer
) -> None:
    """Consoles create zero-byte ``dir/`` objects; they are not listed as files
    (and, not being listed, a recursive delete leaves them: removed by key here)."""
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        marker = store.metadata().work_dir + "m/"
        url = f"{fake_gcs_server.endpoint}/upload/storage/v1/b/{gcs_bucket}/o"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, params={"uploadType": "media", "name": marker}, data=b"") as resp:
                assert resp.status == 200
            await store.write("m/inside.txt", b"i")
            assert [o.path async for o in store.list()] == ["m/"]
            assert [o.path async for o in store.list("m")] == ["m/inside.txt"]
            assert [o.path async for o in store.list(recursive=True)] == ["m/inside.txt"]
            await store.delete("m", recursive=True)
            async with session.delete(f"{url.replace('/upload', '')}/{quote(marker, safe='')}") as resp:
                assert resp.status == 200


async def test_recursive_delete_goes_in_batches_of_100(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    async with aiostore.connect(gcs_url, **{**gcs_options, "endpoint": gcs_proxy.endpoint}) as store:
        await write_many(store, {f"many/{i:03d}": b"." for i in range(150)})
        await store.delete("many", recursive=True)
        assert [o async for o in store.list(recursive=True)] == []
    batches = gcs_proxy.calls("POST", "/batch/storage/v1")
    assert len(batches) == 2
    assert sorted(r.body.count(b"DELETE /storage/v1/b/") for r in batches) == [50, 100]

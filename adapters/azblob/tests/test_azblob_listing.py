"""Listings page by page with the service's markers, fetched only when asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiostore_azblob import AzblobAdapter
from azure.storage.blob.aio import ContainerClient

import aiostore
from aiostore import ObjectType, Store
from aiostore.testing.servers import AzureServer

FILES = ["a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d/e/4.txt", "e.txt"]


@pytest.fixture
async def tree(az: Store) -> AsyncIterator[Store]:
    await asyncio.gather(*(az.write(path, path.encode()) for path in FILES))
    yield az
    await az.delete("", recursive=True)


async def test_one_level_pages_hold_files_and_directories(tree: Store, adapter: AzblobAdapter) -> None:
    pages, token = [], None
    while True:
        page = await adapter.list_page("", recursive=False, page_size=2, token=token)
        pages.append([(entry.path, entry.type) for entry in page.entries])
        token = page.next_token
        if token is None:
            break
    assert pages == [
        [("a/", ObjectType.DIR), ("c.txt", ObjectType.FILE)],
        [("d/", ObjectType.DIR), ("e.txt", ObjectType.FILE)],
    ]


async def test_recursive_listing_and_sub_directories(tree: Store) -> None:
    assert [obj.path async for obj in tree.list("", recursive=True, page_size=4)] == sorted(FILES)
    assert [obj.path async for obj in tree.list("a")] == ["a/1.txt", "a/2.txt", "a/b/"]
    assert [obj.path async for obj in tree.list("a/b/", recursive=True)] == ["a/b/3.txt"]
    assert [obj.path async for obj in tree.list("missing/")] == []
    sizes = {obj.path: obj.size async for obj in tree.list("", recursive=True)}
    assert sizes == {path: len(path) for path in FILES}


async def test_directory_marker_blobs_are_not_objects(tree: Store, raw: ContainerClient) -> None:
    work_dir = tree.metadata().work_dir
    await raw.upload_blob(work_dir + "a/", b"")  # what some tools write for a "folder"
    await raw.upload_blob(work_dir + "m/", b"")
    assert [obj.path async for obj in tree.list("", recursive=True)] == sorted(FILES)
    assert [obj.path async for obj in tree.list("")] == ["a/", "c.txt", "d/", "e.txt", "m/"]
    await raw.delete_blob(work_dir + "a/")
    await raw.delete_blob(work_dir + "m/")


async def test_statistical_counts_committed_blobs(tree: Store, adapter: AzblobAdapter) -> None:
    stats = await adapter.statistical()
    assert stats is not None
    assert (stats.count, stats.size) == (len(FILES), sum(len(path) for path in FILES))


async def test_pages_are_fetched_lazily(
    azurite_server: AzureServer, container_name: str, tree: Store
) -> None:
    gets: list[str] = []

    async def seen(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        if "comp=list" in params.url.query_string:
            gets.append(params.url.query.get("marker", ""))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(seen)
    work_dir = tree.metadata().work_dir
    async with (
        aiohttp.ClientSession(trace_configs=[trace], auto_decompress=False) as session,
        aiostore.connect(
            f"azblob://{container_name}/{work_dir}",
            connection_string=azurite_server.connection_string,
            session=session,
        ) as store,
    ):
        seen_pages: list[list[str]] = []
        async for page in store.list("", recursive=True, page_size=2).pages():
            seen_pages.append([obj.path for obj in page])
            assert len(gets) == len(seen_pages)  # one request per page, made when asked
            if len(seen_pages) == 2:
                break
        assert seen_pages == [sorted(FILES)[:2], sorted(FILES)[2:4]]
        assert gets[0] == ""
        assert gets[1]  # the second request carried the service's continuation marker

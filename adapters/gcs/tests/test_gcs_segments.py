"""Segments as temporary objects joined with compose, 32 sources at a time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import aiostore
from aiostore import NotFoundError, ObjectType, Store
from aiostore.testing import payload

GCSProxy = Any  # conftest's recording proxy (conftest modules cannot be imported)
Keys = Callable[[str], Awaitable[list[str]]]


def _work_dir(store: Store) -> str:
    return store.metadata().work_dir


async def _upload(store: Store, path: str, parts: list[bytes]) -> Any:
    segment = await store.init_segment(path, content_type="text/x-parts", metadata={"n": str(len(parts))})
    gate = asyncio.Semaphore(8)

    async def one(index: int, data: bytes) -> None:
        async with gate:
            await store.write_segment(segment, index, data)

    await asyncio.gather(*(one(index, data) for index, data in enumerate(parts)))
    return segment


@pytest.mark.parametrize("count", [1, 32, 33, 70])
async def test_compose_tree_joins_every_part(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any], bucket_keys: Keys, count: int
) -> None:
    parts = [payload(100 + index, seed=index) for index in range(count)]
    async with aiostore.connect(gcs_url, **{**gcs_options, "endpoint": gcs_proxy.endpoint}) as store:
        segment = await _upload(store, "joined.bin", parts)
        obj = await store.complete_segment(segment)
        assert obj.size == sum(map(len, parts))
        assert await store.read("joined.bin") == b"".join(parts)
        found = await store.stat("joined.bin")
        assert (found.content_type, dict(found.metadata)) == ("text/x-parts", {"n": str(count)})
        await store.delete("joined.bin")
        assert await bucket_keys(_work_dir(store)) == [], "temporaries were left behind"
    composes = [json.loads(r.body) for r in gcs_proxy.calls("POST", "/compose")]
    assert all(len(c["sourceObjects"]) <= 32 for c in composes)
    intermediates = 0 if count <= 32 else -(-count // 32)  # 33 and 70 parts need one level
    assert len(composes) == intermediates + 1


async def test_temporaries_never_show_in_listings(
    gcs_url: str, gcs_options: dict[str, Any], bucket_keys: Keys
) -> None:
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        await store.write("visible.txt", b"v")
        segment = await _upload(store, "dir/pending.bin", [b"a" * 10, b"b" * 10])
        hidden = await bucket_keys(_work_dir(store) + ".aiostore-segments/")
        assert len(hidden) == 3, hidden  # the manifest and two parts
        top = {(o.path, o.type) async for o in store.list()}
        assert top == {("visible.txt", ObjectType.FILE)}
        assert [o.path async for o in store.list(recursive=True)] == ["visible.txt"]
        assert (await store.statistical()).count == 1
        assert [s.path async for s in store.list_segments()] == ["dir/pending.bin"]
        assert [s.id async for s in store.list_segments("dir/")] == [segment.id]
        assert [s async for s in store.list_segments("elsewhere/")] == []
        await store.abort_segment(segment)
        assert await bucket_keys(_work_dir(store) + ".aiostore-segments/") == []
        await store.delete("visible.txt")


async def test_parts_of_a_finished_upload_are_refused(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        segment = await _upload(store, "gone.bin", [b"x"])
        await store.abort_segment(segment)
        with pytest.raises(NotFoundError):
            await store.write_segment(segment, 1, b"late")
        with pytest.raises(NotFoundError):
            await store.complete_segment(segment)
        await store.abort_segment(segment)  # twice is fine
        assert not await store.exists("gone.bin")


async def test_given_parts_are_pinned_to_their_generation(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    async with aiostore.connect(gcs_url, **{**gcs_options, "endpoint": gcs_proxy.endpoint}) as store:
        segment = await store.init_segment("pinned.bin")
        parts = [await store.write_segment(segment, index, b"%d" % index) for index in range(3)]
        await store.complete_segment(segment, parts)
        assert await store.read("pinned.bin") == b"012"
        await store.delete("pinned.bin")
    (compose,) = [json.loads(r.body) for r in gcs_proxy.calls("POST", "/compose")]
    pins = [source["objectPreconditions"]["ifGenerationMatch"] for source in compose["sourceObjects"]]
    assert pins == [part.etag for part in parts]


async def test_nested_store_uploads_stay_hidden(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    async with (
        aiostore.connect(gcs_url, **gcs_options) as outer,
        aiostore.connect(gcs_url + "/inner", **gcs_options) as inner,
    ):
        segment = await _upload(inner, "x.bin", [b"x"])
        assert [o async for o in outer.list("inner")] == []
        assert [o async for o in outer.list(recursive=True)] == []
        await inner.abort_segment(segment)

"""Server-side copy, SAS URLs fetched with aiohttp, and deletes without blob batches."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import yarl
from aiostore_azblob import AzblobAdapter
from azure.storage.blob.aio import ContainerClient

from aiostore import NotFoundError, Store


async def fetch(method: str, url: str, data: bytes | None = None, **headers: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, yarl.URL(url, encoded=True), data=data, headers=headers) as response,
    ):
        return response.status, await response.read()


async def test_copy_keeps_settings_and_a_missing_source_leaves_the_target(az: Store) -> None:
    await az.write("src.txt", b"source", content_type="text/plain", metadata={"a": "1"})
    await az.write("dst.txt", b"old target")
    await az.copy("src.txt", "dst.txt")
    copied = await az.stat("dst.txt")
    assert (await az.read("dst.txt"), copied.content_type, dict(copied.metadata)) == (
        b"source",
        "text/plain",
        {"a": "1"},
    )
    await az.write("dst2.txt", b"untouched")
    with pytest.raises(NotFoundError) as info:
        await az.copy("missing.txt", "dst2.txt")
    assert info.value.path == "missing.txt"
    assert await az.read("dst2.txt") == b"untouched"
    await az.delete("", recursive=True)


async def test_sas_urls_for_get_head_and_put(az: Store) -> None:
    await az.write("sas/read.txt", b"readable")
    status, body = await fetch("GET", await az.reach("sas/read.txt", expires=60))
    assert (status, body) == (200, b"readable")
    status, _ = await fetch("HEAD", await az.reach("sas/read.txt", expires=60, method="HEAD"))
    assert status == 200
    put_url = await az.reach("sas/put.txt", expires=60, method="PUT")
    status, _ = await fetch("PUT", put_url, b"uploaded", **{"x-ms-blob-type": "BlockBlob"})
    assert status == 201
    assert await az.read("sas/put.txt") == b"uploaded"
    status, _ = await fetch(
        "PUT", await az.reach("sas/read.txt", expires=60), b"no", **{"x-ms-blob-type": "BlockBlob"}
    )
    assert status == 403  # a read URL cannot write
    await az.delete("sas", recursive=True)


async def test_tampered_and_expired_sas_urls_are_refused(az: Store) -> None:
    await az.write("short.txt", b"brief")
    url = await az.reach("short.txt", expires=1)
    signature = url.index("sig=") + 4
    tampered = url[:signature] + ("A" if url[signature] != "A" else "B") + url[signature + 1 :]
    assert (await fetch("GET", tampered))[0] == 403
    await asyncio.sleep(2.2)
    status, body = await fetch("GET", url)
    assert status == 403
    assert body != b"brief"
    await az.delete("short.txt")


async def test_deletes_fall_back_when_batches_are_refused(
    az: Store, adapter: AzblobAdapter, raw: ContainerClient
) -> None:
    paths = [f"many/{index:03d}.txt" for index in range(300)]
    await asyncio.gather(*(az.write(path, b"x") for path in paths[:150]))
    await asyncio.gather(*(az.write(path, b"x") for path in paths[150:]))
    await adapter.delete_many(["many/000.txt", "many/001.txt", "many/never.txt"])
    assert adapter._batch_refused  # Azurite answers a blob batch with one 400 InvalidInput
    assert not await az.exists("many/000.txt")
    await az.delete("many", recursive=True)
    assert [blob.name async for blob in raw.list_blobs(name_starts_with=az.metadata().work_dir)] == []

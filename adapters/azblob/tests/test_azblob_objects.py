"""Reads and writes of the azblob adapter on Azurite, checked through the plain SDK."""

from __future__ import annotations

import hashlib
import random

import pytest
from aiostore_azblob import AzblobAdapter
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient

from aiostore import (
    AlreadyExistsError,
    ConditionNotMetError,
    IntegrityError,
    InvalidArgumentError,
    InvalidOffsetError,
    InvalidPathError,
    NotFoundError,
    Store,
    WriteOptions,
)

MiB = 1024 * 1024


def data_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


async def read_all(
    adapter: AzblobAdapter, path: str, offset: int = 0, size: int | None = None
) -> list[bytes]:
    stream = await adapter.open_read(path, offset=offset, size=size)
    try:
        chunks = []
        while chunk := await stream.next_chunk():
            chunks.append(chunk)
        return chunks
    finally:
        await stream.aclose()


async def test_stream_chunks_are_ranged_gets_of_chunk_size(adapter: AzblobAdapter) -> None:
    data = data_of(3 * MiB + MiB // 2, seed=1)
    await adapter.write_once("big.bin", data, WriteOptions())
    chunks = await read_all(adapter, "big.bin")
    assert [len(chunk) for chunk in chunks] == [MiB, MiB, MiB, MiB // 2]
    assert b"".join(chunks) == data
    middle = await read_all(adapter, "big.bin", offset=MiB - 5, size=MiB + 10)
    assert b"".join(middle) == data[MiB - 5 : 2 * MiB + 5]


async def test_offset_at_the_end_reads_nothing_and_past_it_fails(adapter: AzblobAdapter) -> None:
    await adapter.write_once("five.txt", b"12345", WriteOptions())
    await adapter.write_once("empty.txt", b"", WriteOptions())
    assert await read_all(adapter, "five.txt", offset=5) == []
    assert await read_all(adapter, "empty.txt") == []
    assert await read_all(adapter, "five.txt", offset=2, size=0) == []
    stream = await adapter.open_read("five.txt", offset=5, size=None)
    assert stream.object.size == 5
    await stream.aclose()
    for path, offset in (("five.txt", 6), ("empty.txt", 1)):
        with pytest.raises(InvalidOffsetError, match="past the end"):
            await adapter.open_read(path, offset=offset, size=None)
    with pytest.raises(NotFoundError):
        await adapter.open_read("missing.txt", offset=0, size=None)


async def test_if_match_pins_the_version(adapter: AzblobAdapter) -> None:
    first = await adapter.write_once("pinned.bin", data_of(2 * MiB + 1, seed=2), WriteOptions())
    stream = await adapter.open_read("pinned.bin", offset=0, size=None)
    assert stream.object.etag == first.etag
    assert len(await stream.next_chunk()) == MiB
    await adapter.write_once("pinned.bin", data_of(2 * MiB + 1, seed=3), WriteOptions())
    with pytest.raises(ConditionNotMetError):
        await stream.next_chunk()
    await stream.aclose()
    with pytest.raises(ConditionNotMetError):
        await adapter.open_read("pinned.bin", offset=0, size=None, if_match=first.etag)


@pytest.mark.parametrize("size", [1000, 2 * MiB + 3], ids=["single-put", "staged-block"])
async def test_writes_store_the_md5_and_a_wrong_one_is_caught(
    adapter: AzblobAdapter, raw: ContainerClient, size: int
) -> None:
    data = data_of(size, seed=4)
    written = await adapter.write_once("sum.bin", data, WriteOptions(content_type="x/y"))
    assert written.content_md5 == hashlib.md5(data).hexdigest()
    assert (await adapter.stat("sum.bin")).content_md5 == written.content_md5
    wrong = bytearray(hashlib.md5(b"something else").digest())
    await raw.get_blob_client(adapter.work_dir + "sum.bin").set_http_headers(
        ContentSettings(content_type="x/y", content_md5=wrong)
    )
    with pytest.raises(IntegrityError, match="MD5") as info:  # the SDK or our whole-blob check
        await read_all(adapter, "sum.bin")
    assert info.value.retryable
    assert b"".join(await read_all(adapter, "sum.bin", offset=1)) == data[1:]  # ranges cannot be checked


async def test_large_single_writes_are_one_committed_block(
    adapter: AzblobAdapter, raw: ContainerClient
) -> None:
    await adapter.write_once("small.bin", b"x" * 10, WriteOptions())
    await adapter.write_once("large.bin", data_of(MiB + 1), WriteOptions())
    small, _ = await raw.get_blob_client(adapter.work_dir + "small.bin").get_block_list("committed")
    large, _ = await raw.get_blob_client(adapter.work_dir + "large.bin").get_block_list("committed")
    assert small == []
    assert [block.size for block in large] == [MiB + 1]


@pytest.mark.parametrize("size", [10, MiB + 1], ids=["single-put", "staged-block"])
async def test_if_not_exists_keeps_the_existing_blob(adapter: AzblobAdapter, size: int) -> None:
    await adapter.write_once("once.bin", b"first", WriteOptions())
    with pytest.raises(AlreadyExistsError):
        await adapter.write_once("once.bin", data_of(size), WriteOptions(if_not_exists=True))
    assert b"".join(await read_all(adapter, "once.bin")) == b"first"


async def test_a_write_replaces_settings_and_metadata(adapter: AzblobAdapter, raw: ContainerClient) -> None:
    options = WriteOptions(
        content_type="text/plain",
        metadata={"owner": "me"},
        extra={"cache_control": "no-cache", "storage_class": "cool"},
    )
    await adapter.write_once("attrs.txt", b"one", options)
    props = await raw.get_blob_client(adapter.work_dir + "attrs.txt").get_blob_properties()
    assert props.content_settings.cache_control == "no-cache"
    assert (await adapter.stat("attrs.txt")).storage_class == "Cool"
    await adapter.write_once("attrs.txt", b"two", WriteOptions())
    obj = await adapter.stat("attrs.txt")
    assert (obj.metadata, obj.content_type) == ({}, "application/octet-stream")


async def test_unknown_write_options_are_refused(adapter: AzblobAdapter) -> None:
    with pytest.raises(InvalidArgumentError, match="unknown write option"):
        await adapter.write_once("x.bin", b"x", WriteOptions(extra={"acl": "public"}))
    with pytest.raises(InvalidArgumentError, match="storage_class"):
        await adapter.write_once("x.bin", b"x", WriteOptions(extra={"storage_class": "glacier"}))
    with pytest.raises(NotFoundError):
        await adapter.stat("x.bin")


@pytest.mark.parametrize("path", ["back\\slash.txt", "dir\\"])
async def test_a_backslash_is_refused_not_turned_into_a_slash(az: Store, path: str) -> None:
    with pytest.raises(InvalidPathError):
        await az.write(path, b"x")
    with pytest.raises(InvalidPathError):
        await az.stat(path)
    assert [obj.path async for obj in az.list("", recursive=True)] == []


async def test_odd_but_valid_names_round_trip(az: Store) -> None:
    names = ["dot.", "a../b", "sp ace ", "pct%41", "hash#q?x", "plus+&", "uni\u00e9\u4e2d\U0001f600", "a%2Fb"]
    for name in names:
        await az.write(name, name.encode())
    assert sorted([obj.path async for obj in az.list("", recursive=True)]) == sorted(names)
    for name in names:
        assert await az.read(name) == name.encode()
    await az.delete("", recursive=True)

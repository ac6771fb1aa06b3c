"""S3-specific behaviour against moto, a second, independent S3 implementation.

moto checks neither signatures, presigned-URL expiry nor checksums: those
tests live in test_s3_seaweedfs.py only.
"""

from __future__ import annotations

import random
from typing import Any

import aiohttp
import pytest
import yarl
from aiostore_s3 import S3Adapter
from aiostore_s3._dataplane import S3ReadStream

import aiostore

MiB = 1024 * 1024


def _data(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


async def _raw_uploads(store: aiostore.Store) -> list[dict[str, Any]]:
    adapter = store._adapter
    assert isinstance(adapter, S3Adapter)
    client = await adapter._client()
    response = await client.list_multipart_uploads(Bucket=adapter.storager_name, Prefix=adapter.work_dir)
    return list(response.get("Uploads") or [])


async def test_multipart_with_parts_just_over_the_minimum(moto_store: aiostore.Store) -> None:
    parts = [_data(5 * MiB + 1, 1), _data(5 * MiB + 1, 2), _data(10, 3)]
    segment = await moto_store.init_segment("mp.bin", metadata={"k": "v"})
    for index in (2, 0, 1):
        await moto_store.write_segment(segment, index, parts[index])
    obj = await moto_store.complete_segment(segment)
    assert obj.size == sum(map(len, parts))
    assert await moto_store.read("mp.bin") == b"".join(parts)
    assert dict((await moto_store.stat("mp.bin")).metadata) == {"k": "v"}
    assert await _raw_uploads(moto_store) == []


async def test_entity_too_small_is_reported_clearly(moto_store: aiostore.Store) -> None:
    segment = await moto_store.init_segment("small.bin")
    for index in range(2):
        await moto_store.write_segment(segment, index, _data(MiB, index))
    with pytest.raises(aiostore.EntityTooSmallError) as info:
        await moto_store.complete_segment(segment)
    assert isinstance(info.value, ValueError)
    assert "5 MiB" in str(info.value)
    await moto_store.abort_segment(segment)
    assert await _raw_uploads(moto_store) == []


async def test_abort_leaves_list_multipart_uploads_empty(moto_store: aiostore.Store) -> None:
    segment = await moto_store.init_segment("aborted.bin")
    await moto_store.write_segment(segment, 0, _data(MiB, 4))
    assert len(await _raw_uploads(moto_store)) == 1
    await moto_store.abort_segment(segment)
    assert await _raw_uploads(moto_store) == []
    await moto_store.abort_segment(segment)


async def test_presigned_get_and_put(moto_store: aiostore.Store) -> None:
    await moto_store.write("shared.bin", b"presigned bytes")
    get_url = await moto_store.reach("shared.bin", expires=60)
    put_url = await moto_store.reach("uploaded.bin", expires=60, method="PUT")
    async with aiohttp.ClientSession() as session:
        async with session.get(yarl.URL(get_url, encoded=True)) as response:
            assert (response.status, await response.read()) == (200, b"presigned bytes")
        async with session.put(yarl.URL(put_url, encoded=True), data=b"put through a URL") as response:
            assert response.status == 200
    assert await moto_store.read("uploaded.bin") == b"put through a URL"


async def test_if_not_exists_on_single_and_multipart_writes(moto_store: aiostore.Store) -> None:
    await moto_store.write("once.bin", b"first", if_not_exists=True)
    with pytest.raises(aiostore.AlreadyExistsError):
        await moto_store.write("once.bin", b"second", if_not_exists=True)
    with pytest.raises(aiostore.AlreadyExistsError):
        async with moto_store.writer("once.bin", if_not_exists=True) as writer:
            await writer.write(_data(12 * MiB, 5))
    assert await moto_store.read("once.bin") == b"first"
    assert await _raw_uploads(moto_store) == []


async def test_storage_class_and_headers_are_sent(moto_store: aiostore.Store) -> None:
    await moto_store.write(
        "cold.bin",
        b"cold",
        storage_class="STANDARD_IA",
        cache_control="max-age=60",
        content_type="text/x-cold",
    )
    found = await moto_store.stat("cold.bin")
    assert (found.storage_class, found.content_type) == ("STANDARD_IA", "text/x-cold")
    with pytest.raises(aiostore.InvalidArgumentError, match="unknown S3 write options"):
        await moto_store.write("typo.bin", b"x", storage_klass="GLACIER")


async def test_missing_bucket_is_storager_not_found(moto_options: dict[str, Any]) -> None:
    async with aiostore.connect("s3://no-such-bucket-aiostore", **moto_options) as store:
        with pytest.raises(aiostore.StoragerNotFoundError):
            await store.write("a.bin", b"x")
        with pytest.raises(aiostore.StoragerNotFoundError):
            await store.read("a.bin")
        with pytest.raises(aiostore.NotFoundError):
            await store.stat("a.bin")


async def test_sse_kms_options_reach_the_server(moto_store: aiostore.Store) -> None:
    await moto_store.write("kms.bin", b"kms data", sse="aws:kms", sse_kms_key_id="alias/aiostore")
    adapter = moto_store._adapter
    assert isinstance(adapter, S3Adapter)
    client = await adapter._client()
    head = await client.head_object(Bucket=adapter.storager_name, Key=adapter.work_dir + "kms.bin")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert await moto_store.read("kms.bin") == b"kms data"
    with pytest.raises(aiostore.InvalidArgumentError, match="sse_kms_key_id needs"):
        await moto_store.write("bad.bin", b"x", sse_kms_key_id="alias/aiostore")


async def _checked_with(store: aiostore.Store, path: str, *, offset: int = 0) -> str | None:
    adapter = store._adapter
    assert isinstance(adapter, S3Adapter)
    stream = await adapter.open_read(path, offset=offset, size=None)
    try:
        assert isinstance(stream, S3ReadStream)
        return stream.verified_with
    finally:
        await stream.aclose()


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "aiobotocore"])
async def test_whole_reads_are_checked_against_an_md5_etag(
    moto_options: dict[str, Any], moto_bucket: str, fast_path: bool
) -> None:
    """moto returns no x-amz-checksum-*: a single-part object's MD5 ETag is the check (K4)."""
    options = moto_options | {"name": moto_bucket, "work_dir": f"etag-{fast_path}/", "fast_path": fast_path}
    async with aiostore.connect("s3", **options) as store:
        await store.write("one.bin", b"single part")
        await store.write("kms.bin", b"kms", sse="aws:kms", sse_kms_key_id="alias/aiostore")
        segment = await store.init_segment("parts.bin")
        await store.write_segment(segment, 0, _data(5 * MiB, 3))
        await store.write_segment(segment, 1, b"end")
        await store.complete_segment(segment)
        try:
            assert await _checked_with(store, "one.bin") == "md5"
            assert await _checked_with(store, "one.bin", offset=1) is None  # a range: no checksum covers it
            assert await _checked_with(store, "parts.bin") is None  # "<hex>-2" is not an MD5
            assert await _checked_with(store, "kms.bin") is None  # under SSE-KMS the ETag is not the MD5
            assert await store.read("one.bin") == b"single part"
        finally:
            await store.delete("", recursive=True)
    async with aiostore.connect("s3", **options, verify_etag=False) as store:
        await store.write("one.bin", b"single part")
        try:
            assert await _checked_with(store, "one.bin") is None
        finally:
            await store.delete("", recursive=True)

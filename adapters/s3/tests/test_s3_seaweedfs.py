"""S3-specific behaviour against SeaweedFS, which checks signatures and checksums."""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from typing import Any

import aiohttp
import google_crc32c
import pytest
import yarl
from aiostore_s3 import S3Adapter
from aiostore_s3._dataplane import BotoPlane, S3ReadStream
from aiostore_s3._errors import boundary

import aiostore
from aiostore.testing.faults import FaultProxy, flip_byte

MiB = 1024 * 1024


def _data(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def _adapter(store: aiostore.Store) -> S3Adapter:
    adapter = store._adapter
    assert isinstance(adapter, S3Adapter)
    return adapter


async def _fetch(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(yarl.URL(url, encoded=True)) as response:
        return response.status, await response.read()


async def _raw_uploads(store: aiostore.Store) -> list[dict[str, Any]]:
    adapter = _adapter(store)
    client = await adapter._client()
    response = await client.list_multipart_uploads(Bucket=adapter.storager_name, Prefix=adapter.work_dir)
    return list(response.get("Uploads") or [])


async def test_multipart_with_parts_just_over_the_minimum(seaweedfs_store: aiostore.Store) -> None:
    parts = [_data(5 * MiB + 1, 1), _data(5 * MiB + 1, 2), _data(1000, 3)]
    segment = await seaweedfs_store.init_segment("mp.bin", content_type="application/x-test")
    written = [await seaweedfs_store.write_segment(segment, i, data) for i, data in enumerate(parts)]
    obj = await seaweedfs_store.complete_segment(segment, written)
    assert obj.size == sum(map(len, parts))
    assert await seaweedfs_store.read("mp.bin") == b"".join(parts)
    assert (await seaweedfs_store.stat("mp.bin")).content_type == "application/x-test"
    assert await _raw_uploads(seaweedfs_store) == []


async def test_entity_too_small_is_reported_clearly(seaweedfs_store: aiostore.Store) -> None:
    segment = await seaweedfs_store.init_segment("small.bin")
    for index in range(2):
        await seaweedfs_store.write_segment(segment, index, _data(MiB, index))
    with pytest.raises(aiostore.EntityTooSmallError) as info:
        await seaweedfs_store.complete_segment(segment)
    assert "5 MiB" in str(info.value)
    assert info.value.op == "complete_segment"
    assert info.value.path == "small.bin"
    await seaweedfs_store.abort_segment(segment)
    assert await _raw_uploads(seaweedfs_store) == []


async def test_abort_leaves_list_multipart_uploads_empty(seaweedfs_store: aiostore.Store) -> None:
    segment = await seaweedfs_store.init_segment("d/aborted.bin")
    await seaweedfs_store.write_segment(segment, 0, _data(5 * MiB, 4))
    assert [upload["UploadId"] for upload in await _raw_uploads(seaweedfs_store)] == [segment.id]
    await seaweedfs_store.abort_segment(segment)
    assert await _raw_uploads(seaweedfs_store) == []
    await seaweedfs_store.abort_segment(segment)  # twice is fine
    assert not await seaweedfs_store.exists("d/aborted.bin")


async def test_presigned_url_works_then_expires(seaweedfs_store: aiostore.Store) -> None:
    await seaweedfs_store.write("shared.bin", b"presigned bytes")
    url = await seaweedfs_store.reach("shared.bin", expires=600)
    assert "X-Amz-Signature=" in url
    assert await _fetch(url) == (200, b"presigned bytes")
    short = await seaweedfs_store.reach("shared.bin", expires=1)
    await asyncio.sleep(2.5)
    status, body = await _fetch(short)
    assert status == 403
    assert body != b"presigned bytes"


async def test_wrong_secret_is_permission_denied(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    wrong = "definitely-not-the-right-secret-key"
    options = seaweedfs_options | {"secret_access_key": wrong}
    async with aiostore.connect("s3", name=seaweedfs_bucket, **options) as store:
        with pytest.raises(aiostore.PermissionDeniedError) as info:
            await store.write("denied.bin", b"x")
        with pytest.raises(aiostore.PermissionDeniedError):
            await store.stat("denied.bin")
    assert isinstance(info.value, PermissionError)
    assert "SignatureDoesNotMatch" in str(info.value)
    assert wrong not in str(info.value)
    assert wrong not in repr(info.value)


@pytest.mark.parametrize("plane", ["fast", "botocore"])
async def test_tampered_checksum_is_an_integrity_error(seaweedfs_store: aiostore.Store, plane: str) -> None:
    adapter = _adapter(seaweedfs_store)
    data_plane = await adapter._plane()
    if plane == "botocore":
        data_plane = BotoPlane(await adapter._client(), adapter.storager_name)
    key = adapter.work_dir + "tampered.bin"
    with pytest.raises(aiostore.IntegrityError) as info, boundary("write", "tampered.bin"):
        await data_plane.put_object(key, b"payload", {"ChecksumCRC32C": "AAAAAA=="})
    assert "BadDigest" in str(info.value)
    assert info.value.retryable
    assert not await seaweedfs_store.exists("tampered.bin")


async def test_whole_downloads_are_verified(seaweedfs_store: aiostore.Store) -> None:
    data = _data(3 * MiB + 5, 6)
    await seaweedfs_store.write("verified.bin", data)
    adapter = _adapter(seaweedfs_store)
    whole = await adapter.open_read("verified.bin", offset=0, size=None)
    ranged = await adapter.open_read("verified.bin", offset=1, size=None)
    try:
        assert isinstance(whole, S3ReadStream)
        assert whole.verified_with == "crc32c"
        assert isinstance(ranged, S3ReadStream)
        assert ranged.verified_with is None
        chunks = []
        while chunk := await whole.next_chunk():
            chunks.append(chunk)
        assert b"".join(chunks) == data
        assert max(map(len, chunks)) > 64 * 1024, "reads come in large chunks"
    finally:
        await whole.aclose()
        await ranged.aclose()


async def test_if_match_pins_the_etag(seaweedfs_store: aiostore.Store) -> None:
    obj = await seaweedfs_store.write("pinned.bin", b"version one")
    adapter = _adapter(seaweedfs_store)
    stream = await adapter.open_read("pinned.bin", offset=0, size=None, if_match=obj.etag)
    await stream.aclose()
    await seaweedfs_store.write("pinned.bin", b"version two")
    with pytest.raises(aiostore.ConditionNotMetError):
        await adapter.open_read("pinned.bin", offset=0, size=None, if_match=obj.etag)


def _lowered(headers: Any) -> dict[str, str]:
    return {str(k).lower(): v for k, v in headers.items()}


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_every_put_and_part_carries_a_checksum_and_no_expect(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str, fast_path: bool
) -> None:
    async with FaultProxy(seaweedfs_options["endpoint"]) as proxy:
        options = seaweedfs_options | {"endpoint": proxy.endpoint, "fast_path": fast_path}
        async with aiostore.connect("s3", name=seaweedfs_bucket, work_dir="sums/", **options) as store:
            await store.write("one.bin", b"small")
            await store.write("two.bin", _data(11 * MiB, 7))
            assert await store.read("two.bin") == _data(11 * MiB, 7)
            async with store.reader("one.bin") as reader:  # a whole object: verified
                assert await reader.read() == b"small"
            await store.delete("", recursive=True)
        puts = [_lowered(seen.headers) for seen in proxy.seen if seen.method == "PUT"]
        gets = [
            _lowered(seen.headers) for seen in proxy.seen if seen.method == "GET" and "/sums/" in seen.path
        ]
    assert len(puts) >= 3
    for headers in puts:
        assert "x-amz-checksum-crc32c" in headers
        assert "expect" not in headers
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 ")
    whole = [headers for headers in gets if "range" not in headers]
    assert whole
    assert all(headers.get("x-amz-checksum-mode") == "ENABLED" for headers in whole)


async def test_multipart_copy_keeps_bytes_and_attributes(seaweedfs_store: aiostore.Store) -> None:
    adapter = _adapter(seaweedfs_store)
    adapter.copy_threshold, adapter.copy_part_size = MiB, 5 * MiB
    data = _data(11 * MiB + 3, 8)
    await seaweedfs_store.write("src.bin", data, content_type="image/x-test", metadata={"k": "v"})
    await seaweedfs_store.copy("src.bin", "dst.bin")
    assert await seaweedfs_store.read("dst.bin") == data
    copied = await seaweedfs_store.stat("dst.bin")
    assert (copied.content_type, dict(copied.metadata)) == ("image/x-test", {"k": "v"})
    assert await _raw_uploads(seaweedfs_store) == []
    with pytest.raises(aiostore.NotFoundError):
        await seaweedfs_store.copy("missing.bin", "dst.bin")


async def test_recursive_delete_goes_in_batches(seaweedfs_store: aiostore.Store) -> None:
    names = [f"many/{i:04}.txt" for i in range(1003)]
    gate = asyncio.Semaphore(16)

    async def put(name: str) -> None:
        async with gate:
            await seaweedfs_store.write(name, b"x")

    await asyncio.gather(*(put(name) for name in names))
    assert (await seaweedfs_store.statistical()).count == 1003
    pages = [len(page) async for page in seaweedfs_store.list("many/").pages()]
    assert sum(pages) == 1003
    assert max(pages) <= 1000
    await seaweedfs_store.delete("many", recursive=True)
    assert [obj async for obj in seaweedfs_store.list(recursive=True)] == []


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_debug_logs_carry_no_secret(
    seaweedfs_options: dict[str, Any],
    seaweedfs_bucket: str,
    caplog: pytest.LogCaptureFixture,
    fast_path: bool,
) -> None:
    options = seaweedfs_options | {"fast_path": fast_path}
    with caplog.at_level(logging.DEBUG):
        async with aiostore.connect("s3", name=seaweedfs_bucket, work_dir="logs/", **options) as store:
            await store.write("logged.bin", b"logged")
            await store.read("logged.bin")
            await store.delete("logged.bin")
    if not fast_path:
        assert "Signature" in caplog.text, "botocore's debug lines were captured"
    assert seaweedfs_options["secret_access_key"] not in caplog.text
    for line in caplog.text.splitlines():
        assert "Signature=" not in line or "Signature=***" in line


async def test_service_manages_buckets(seaweedfs_options: dict[str, Any], seaweedfs_bucket: str) -> None:
    name = f"aiostore-svc-{random.Random().randrange(10**8):08}"
    async with aiostore.service("s3", **seaweedfs_options) as svc:
        assert seaweedfs_bucket in [info.name async for info in svc.list()]
        with pytest.raises(aiostore.StoragerNotFoundError):
            await svc.get(name)
        store = await svc.create(name, work_dir="w/")
        with pytest.raises(aiostore.AlreadyExistsError):
            await svc.create(name)
        await store.write("a.txt", b"a")
        assert _adapter(store)._handle is _adapter(await svc.get(seaweedfs_bucket))._handle
        with pytest.raises(aiostore.ConditionNotMetError):
            await svc.delete(name)
        await store.aclose()  # a borrowed client stays open
        again = await svc.get(name)
        assert await again.read("w/a.txt") == b"a"
        await again.delete("w/a.txt")
        await svc.delete(name)
        with pytest.raises(aiostore.StoragerNotFoundError):
            await svc.delete(name)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_sse_s3_and_sse_c(
    seaweedfs_options: dict[str, Any],
    seaweedfs_bucket: str,
    caplog: pytest.LogCaptureFixture,
    fast_path: bool,
) -> None:
    key = random.Random(9).randbytes(32)
    encoded = base64.b64encode(key).decode()
    work_dir = f"sse-{fast_path}/"
    plain_options = seaweedfs_options | {"fast_path": fast_path}
    async with aiostore.connect("s3", name=seaweedfs_bucket, work_dir=work_dir, **plain_options) as plain:
        await plain.write("s3.bin", b"sse-s3 data", sse="AES256")
        assert await plain.read("s3.bin") == b"sse-s3 data"
        options = plain_options | {"sse_customer_key": key}
        async with aiostore.connect("s3", name=seaweedfs_bucket, work_dir=work_dir, **options) as keyed:
            with caplog.at_level(logging.DEBUG):
                await keyed.write("c.bin", b"sse-c data")
                assert await keyed.read("c.bin") == b"sse-c data"
                assert (await keyed.stat("c.bin")).size == len(b"sse-c data")
            if not fast_path:  # botocore logs the headers it sends, masked
                assert "x-amz-server-side-encryption-customer-key" in caplog.text
            assert encoded not in caplog.text
            assert encoded not in repr(keyed)
            await keyed.copy("c.bin", "c2.bin")
            assert await keyed.read("c2.bin") == b"sse-c data"
            parts = _data(9 * MiB, 11)  # two parts: create, parts and complete carry the key
            await keyed.write("parts.bin", parts)
            assert await keyed.read("parts.bin") == parts
        with pytest.raises(aiostore.StorageError):
            await plain.read("c.bin")  # without the key
        await plain.delete("", recursive=True)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_md5_profiles_send_content_md5_only(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str, fast_path: bool
) -> None:
    async with FaultProxy(seaweedfs_options["endpoint"]) as proxy:
        # the ceph profile: Content-MD5 everywhere, no x-amz-checksum-*
        options = seaweedfs_options | {"profile": "ceph", "endpoint": proxy.endpoint, "fast_path": fast_path}
        async with aiostore.connect("s3", name=seaweedfs_bucket, work_dir="md5/", **options) as store:
            await store.write("a.bin", b"small")
            await store.write("b.bin", _data(9 * MiB, 10))  # two parts
            assert await store.read("a.bin") == b"small"
            await store.delete("", recursive=True)
            assert [obj async for obj in store.list(recursive=True)] == []
        seen = [(request.method, _lowered(request.headers)) for request in proxy.seen]
    uploads = [headers for method, headers in seen if method == "PUT"]
    deletes = [headers for method, headers in seen if method == "POST" and "content-md5" in headers]
    assert len(uploads) >= 3
    assert deletes, "DeleteObjects carried Content-MD5"
    for headers in uploads + deletes:
        assert "content-md5" in headers
        assert not any(name.startswith("x-amz-checksum-") for name in headers)
    assert all("x-amz-checksum-mode" not in headers for method, headers in seen if method == "GET")


@pytest.mark.parametrize("checksum", ["crc32c", "crc32", "md5"])
async def test_parts_sent_unjoined_carry_checksums_the_server_checks(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str, checksum: str
) -> None:
    """Parts go out as the caller's buffers (`Pieces`): whole chunks, chunks split by a
    part boundary, joined runs of small ones and copies of a refilled buffer. Each
    part's checksum is computed over its pieces in order; SeaweedFS recomputes it
    (BadDigest otherwise), and every byte reads back."""
    transfer = aiostore.TransferOptions(part_size=5 * MiB, concurrency=2)
    options = seaweedfs_options | {"checksum": checksum}
    scratch = bytearray(MiB)
    expected = bytearray()
    async with aiostore.connect(
        "s3", name=seaweedfs_bucket, work_dir="pieces/", transfer=transfer, **options
    ) as store:
        async with store.writer("mixed.bin") as writer:
            for seed in range(5):
                chunk = _data(MiB + MiB // 2, seed)
                await writer.write(chunk)
                expected += chunk
            for seed in range(300):
                small = _data(4096, 100 + seed)
                await writer.write(small)
                expected += small
            for round_ in range(3):
                scratch[:] = bytes([round_ + 1]) * MiB
                await writer.write(scratch)
                expected += scratch
        assert await store.read("mixed.bin") == bytes(expected)
        assert (await store.stat("mixed.bin")).size == len(expected)
        await store.delete("mixed.bin")


@pytest.mark.parametrize("full_object", [True, False], ids=["full-object", "composite"])
@pytest.mark.parametrize("how", ["read", "reader"])
async def test_a_multipart_object_is_verified_by_its_full_object_crc(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str, full_object: bool, how: str
) -> None:
    """Multipart uploads declare a FULL_OBJECT CRC32C (the seaweedfs profile's
    ``full_object_checksum``): SeaweedFS combines the parts' CRCs into the CRC of
    the whole object, so a byte flipped on the way back fails a whole read, in
    parallel ranges or in one stream. A COMPOSITE checksum describes only the
    parts: the same flip came back as wrong bytes."""
    data = _data(12 * MiB + 7, 9)
    expected = base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()
    options = seaweedfs_options | {"full_object_checksum": full_object}
    small_parts = aiostore.TransferOptions(part_size=5 * MiB, concurrency=4)
    async with FaultProxy(seaweedfs_options["endpoint"]) as proxy:
        endpoint = {"endpoint": proxy.endpoint}
        async with aiostore.connect(
            "s3", name=seaweedfs_bucket, work_dir="fullcrc/", transfer=small_parts, **options | endpoint
        ) as store:
            await store.write("mp.bin", data)
            head = await (await _adapter(store)._client()).head_object(
                Bucket=seaweedfs_bucket, Key="fullcrc/mp.bin", ChecksumMode="ENABLED"
            )
            proxy.add(flip_byte(4321), method="GET", path="mp.bin", times=None)
            try:
                if full_object:
                    with pytest.raises(aiostore.IntegrityError):
                        await _read_whole(store, how)
                else:
                    assert await _read_whole(store, how) != data  # what the composite let through
            finally:
                proxy.clear()
                await store.delete("", recursive=True)
    assert head["ChecksumType"] == ("FULL_OBJECT" if full_object else "COMPOSITE")
    assert (head["ChecksumCRC32C"] == expected) == full_object
    assert proxy.injected["flip_byte"] >= 1


async def _read_whole(store: aiostore.Store, how: str) -> bytes:
    if how == "read":
        return await store.read("mp.bin")
    async with store.reader("mp.bin") as reader:
        return await reader.read()

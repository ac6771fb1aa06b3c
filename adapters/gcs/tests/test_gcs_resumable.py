"""Streamed writes through resumable upload sessions, seen through a recording proxy."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import aiostore
from aiostore import IntegrityError
from aiostore.testing import achunks, chunks, payload

CHUNK = 256 * 1024  # the chunk_size the gcs_options fixture sets
MiB = 1024 * 1024
GCSProxy = Any  # conftest's recording proxy (conftest modules cannot be imported)


def _via(proxy: GCSProxy, options: dict[str, Any]) -> dict[str, Any]:
    return {**options, "endpoint": proxy.endpoint}


@pytest.mark.parametrize("size", [CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7])
async def test_writer_sends_256k_chunks_then_the_total(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any], size: int
) -> None:
    data = payload(size, seed=size)
    async with aiostore.connect(gcs_url, **_via(gcs_proxy, gcs_options)) as store:
        async with store.writer("big.bin", content_type="text/x-big", metadata={"k": "v"}) as writer:
            for piece in chunks(data, 100_000):
                await writer.write(piece)
            assert not await store.exists("big.bin"), "visible before commit"
        assert await store.read("big.bin") == data
        found = await store.stat("big.bin")
        assert (found.size, found.content_type, dict(found.metadata)) == (size, "text/x-big", {"k": "v"})
        await store.delete("big.bin")
    starts = [r for r in gcs_proxy.calls("POST", "/upload/") if r.query.get("uploadType") == "resumable"]
    assert len(starts) == 1
    puts = [r.headers["Content-Range"] for r in gcs_proxy.calls("PUT", "/upload/")]
    expected = [f"bytes {i * CHUNK}-{(i + 1) * CHUNK - 1}/*" for i in range((size - 1) // CHUNK)]
    last = (size - 1) // CHUNK * CHUNK
    assert puts == [*expected, f"bytes {last}-{size - 1}/{size}"]
    assert "crc32c=" in gcs_proxy.calls("PUT", "/upload/")[-1].headers["X-Goog-Hash"]


async def test_default_8mib_chunks_go_out_unjoined_without_resource_warnings(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    """With the default chunk size (8 MiB from the 8 MiB part size) each chunk is sent
    in slices, not as one raw ``bytes`` body (aiohttp's ResourceWarning about large
    bodies is an error here), from whole chunks, refilled buffers and small writes."""
    options = {k: v for k, v in _via(gcs_proxy, gcs_options).items() if k != "chunk_size"}
    scratch = bytearray(MiB)
    expected = bytearray()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        async with aiostore.connect(gcs_url, **options) as store:
            async with store.writer("default.bin") as writer:
                for seed in range(9):  # 18 MiB
                    scratch[:] = payload(MiB, seed=seed)
                    whole, small = payload(MiB - 4099, seed=100 + seed), payload(4099, seed=200 + seed)
                    for piece in (whole, scratch, small):
                        await writer.write(piece)
                        expected += piece
            assert await store.read("default.bin") == expected
            await store.delete("default.bin")
    size = len(expected)
    puts = [r.headers["Content-Range"] for r in gcs_proxy.calls("PUT", "/upload/")]
    chunked = [f"bytes 0-{8 * MiB - 1}/*", f"bytes {8 * MiB}-{16 * MiB - 1}/*"]
    assert puts == [*chunked, f"bytes {16 * MiB}-{size - 1}/{size}"]


@pytest.mark.parametrize("shortened", [1, 4], ids=["first-chunk", "every-chunk"])
async def test_bytes_gcs_did_not_keep_are_sent_again(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any], shortened: int
) -> None:
    """GCS may persist only part of a chunk (its 308 says how much); the writer sends
    the rest again from there, the final chunk included, and the object is whole."""
    gcs_proxy.short_chunks, gcs_proxy.keep_bytes = shortened, 100_000
    data = payload(3 * CHUNK + 7, seed=9)
    async with aiostore.connect(gcs_url, **_via(gcs_proxy, gcs_options)) as store:
        async with store.writer("short.bin") as writer:
            for piece in chunks(data, 100_000):
                await writer.write(piece)
        assert await store.read("short.bin") == data
        await store.delete("short.bin")
    assert gcs_proxy.short_chunks == 0, "the proxy shortened fewer chunks than asked"
    ranges = [r.headers["Content-Range"] for r in gcs_proxy.calls("PUT", "/upload/")]
    starts = [int(text.split(" ")[1].split("-")[0]) for text in ranges]
    assert 100_000 in starts, "the rest of the first chunk was not sent again from where GCS stopped"


async def test_small_streamed_write_is_one_request(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    async with aiostore.connect(gcs_url, **_via(gcs_proxy, gcs_options)) as store:
        async with store.writer("small.bin") as writer:
            await writer.write(b"tiny")
        assert await store.read("small.bin") == b"tiny"
        await store.delete("small.bin")
    uploads = gcs_proxy.calls("POST", "/upload/")
    assert [r.query.get("uploadType") for r in uploads] == ["multipart"]
    assert gcs_proxy.calls("PUT", "/upload/") == []


async def test_unsized_iterable_goes_through_a_session(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    data = payload(5 * CHUNK // 2, seed=3)
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        written = await store.write("unsized.bin", achunks(data, 77_777))
        assert written.size == len(data)
        assert await store.read("unsized.bin") == data
        await store.delete("unsized.bin")


async def test_failed_writer_cancels_its_session(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    async with aiostore.connect(gcs_url, **_via(gcs_proxy, gcs_options)) as store:

        async def fail_half_way() -> None:
            async with store.writer("failed.bin") as writer:
                await writer.write(payload(2 * CHUNK + 1))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await fail_half_way()
        assert not await store.exists("failed.bin")
    cancels = gcs_proxy.calls("DELETE", "/upload/")
    assert len(cancels) == 1
    assert "upload_id" in cancels[0].query


async def test_corrupted_upload_is_refused_and_removed(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    """fake-gcs-server does not check the CRC32C sent with an upload, so the proxy
    damages the body and the adapter's own check of the stored CRC32C must catch it."""
    gcs_proxy.rewrite_upload = (b"GOOD", b"BAD!")
    async with aiostore.connect(gcs_url, **_via(gcs_proxy, gcs_options)) as store:
        with pytest.raises(IntegrityError):
            await store.write("damaged.bin", b"GOOD" * 100)
        with pytest.raises(IntegrityError):
            await store.write("damaged-stream.bin", achunks(b"GOOD" * (CHUNK // 2), 10_000))
        assert not await store.exists("damaged.bin")
        assert not await store.exists("damaged-stream.bin")

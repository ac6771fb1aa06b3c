"""Downloads: checksums verified, ranges, and reads pinned to a generation."""

from __future__ import annotations

from typing import Any

import pytest

import aiostore
from aiostore import ConditionNotMetError, IntegrityError
from aiostore.testing import payload, read_stream

GCSProxy = Any  # conftest's recording proxy (conftest modules cannot be imported)


def _via(proxy: GCSProxy, options: dict[str, Any]) -> dict[str, Any]:
    return {**options, "endpoint": proxy.endpoint}


@pytest.mark.parametrize("hash_kept", ["crc32c", "md5"])
async def test_corrupted_download_is_integrity_error(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any], hash_kept: str
) -> None:
    """The proxy flips a byte of the body and keeps GCS's x-goog-hash header
    (without its crc32c in the md5 case): both checks must refuse the data."""
    data = payload(300_000, seed=1)
    async with aiostore.connect(gcs_url, **_via(gcs_proxy, gcs_options)) as store:
        await store.write("whole.bin", data)
        gcs_proxy.corrupt_media = True
        gcs_proxy.drop_crc32c = hash_kept == "md5"
        with pytest.raises(IntegrityError) as info:
            await store.read("whole.bin")
        assert info.value.retryable, "a whole read may be tried again"
        with pytest.raises(IntegrityError) as info:
            await read_stream(store, "whole.bin")
        assert not info.value.retryable, "a stream already handed the bytes out"
        gcs_proxy.corrupt_media = False
        assert await store.read("whole.bin") == data
        await store.delete("whole.bin")


async def test_ranged_reads_are_not_checked_against_the_whole_hash(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    """A range cannot be checked against the object's hash; it must still be served."""
    data = payload(10_000, seed=2)
    async with aiostore.connect(gcs_url, **_via(gcs_proxy, gcs_options)) as store:
        await store.write("part.bin", data)
        assert await store.read("part.bin", offset=10, size=100) == data[10:110]
        assert await store.read("part.bin", offset=0, size=len(data)) == data
        await store.delete("part.bin")
    ranges = [r.headers.get("Range") for r in gcs_proxy.calls("GET", "/o/") if r.query.get("alt") == "media"]
    assert ranges == ["bytes=10-109", f"bytes=0-{len(data) - 1}"]


async def test_reader_object_carries_the_generation(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        written = await store.write("gen.bin", b"generation one", content_type="text/plain")
        data, described = await read_stream(store, "gen.bin", offset=6)
        assert data == b"tion one"
        assert described.size == len(b"generation one")
        assert described.etag == described.version == written.version
        assert described.content_type == "text/plain"
        assert written.version is not None
        assert written.version.isdigit()
        await store.delete("gen.bin")


async def test_pinned_read_of_a_replaced_object_fails(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    """A read pinned to a generation sends ``ifGenerationMatch``. fake-gcs-server
    ignores that precondition on downloads, so the ConditionNotMetError here comes
    from the adapter comparing the generation the answer reports (x-goog-generation)."""
    async with aiostore.connect(gcs_url, **_via(gcs_proxy, gcs_options)) as store:
        first = await store.write("pinned.bin", b"first")
        await store.write("pinned.bin", b"second")
        adapter = store._adapter  # the primitive the core's resumed reads use
        key = (await store.stat("pinned.bin")).path
        with pytest.raises(ConditionNotMetError):
            await adapter.open_read(key, offset=0, size=None, if_match=first.etag)
        with pytest.raises(ConditionNotMetError):
            await adapter.open_read(key, offset=0, size=None, if_match="not-a-generation")
        current = await store.stat("pinned.bin")
        stream = await adapter.open_read(key, offset=1, size=None, if_match=current.etag)
        try:
            assert await stream.next_chunk() == b"econd"
        finally:
            await stream.aclose()
        await store.delete("pinned.bin")
    pinned = [r.query for r in gcs_proxy.calls("GET", "/o/") if r.query.get("alt") == "media"]
    assert pinned[0]["ifGenerationMatch"] == first.etag

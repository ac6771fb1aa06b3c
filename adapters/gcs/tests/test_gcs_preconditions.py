"""``if_not_exists`` through ``ifGenerationMatch=0``, and which failed calls are retried.

What fake-gcs-server checks and what it does not, measured: it enforces
``ifGenerationMatch`` on multipart uploads (the adapter's single-request writes),
but ignores it on resumable sessions, ``compose``, ``rewrite`` and ``DELETE``. For
those paths the tests below check what the adapter *sends*, through a recording
proxy, and let the proxy give GCS's answer (412) to check how it is mapped. They
never claim the emulator refused anything.
"""

from __future__ import annotations

from typing import Any

import pytest

import aiostore
from aiostore import (
    AlreadyExistsError,
    ConditionNotMetError,
    RetryOptions,
    WriteOptions,
)
from aiostore.testing import payload

GCSProxy = Any  # conftest's recording proxy (conftest modules cannot be imported)
CHUNK = 256 * 1024
FAST = RetryOptions(base_delay=0.001, max_delay=0.01)


@pytest.fixture
def proxied(gcs_proxy: GCSProxy, gcs_options: dict[str, Any]) -> dict[str, Any]:
    return {**gcs_options, "endpoint": gcs_proxy.endpoint}


async def test_single_write_refused_by_the_emulator(
    gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]
) -> None:
    """The emulator itself answers 412 here: multipart uploads honour the precondition."""
    async with aiostore.connect(gcs_url, **proxied) as store:
        await store.write("once.bin", b"first", if_not_exists=True)
        with pytest.raises(AlreadyExistsError):
            await store.write("once.bin", b"second", if_not_exists=True)
        assert await store.read("once.bin") == b"first"
        await store.delete("once.bin")
    uploads = gcs_proxy.calls("POST", "/upload/")
    assert [r.query.get("ifGenerationMatch") for r in uploads] == ["0", "0"]


async def test_streamed_create_sends_the_precondition(
    gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]
) -> None:
    """Checks what is sent: fake-gcs-server does not enforce it on resumable sessions."""
    async with aiostore.connect(gcs_url, **proxied) as store:
        async with store.writer("stream.bin", if_not_exists=True) as writer:
            await writer.write(payload(2 * CHUNK + 1))
        await store.delete("stream.bin")
    starts = [r for r in gcs_proxy.calls("POST", "/upload/") if r.query.get("uploadType") == "resumable"]
    assert [r.query.get("ifGenerationMatch") for r in starts] == ["0"]


async def test_streamed_create_maps_gcs_412(
    gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]
) -> None:
    """GCS answers the last chunk of a session whose precondition failed with 412;
    the proxy gives that answer, since the emulator would not."""
    gcs_proxy.faults.append(gcs_proxy.fault("PUT", "/upload/", 412))
    async with aiostore.connect(gcs_url, **proxied) as store:
        with pytest.raises(AlreadyExistsError):
            async with store.writer("exists.bin", if_not_exists=True) as writer:
                await writer.write(payload(CHUNK + 1))
        assert not await store.exists("exists.bin")
    assert len(gcs_proxy.calls("DELETE", "/upload/")) == 1, "the session is cancelled"


async def test_composed_create_sends_and_maps_the_precondition(
    gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]
) -> None:
    """The final compose carries ifGenerationMatch=0; the proxy plays GCS's 412.
    ``Store.init_segment`` has no ``if_not_exists``, so this drives the adapter."""
    async with aiostore.connect(gcs_url, **proxied) as store:
        await store.write("before.bin", b"opens the store")
        adapter = store._adapter
        segment = await adapter.init_segment("joined.bin", WriteOptions(if_not_exists=True))
        await adapter.write_segment(segment, 0, b"part")
        gcs_proxy.faults.append(gcs_proxy.fault("POST", "/compose", 412))
        with pytest.raises(AlreadyExistsError):
            await adapter.complete_segment(segment, None, WriteOptions())
        obj = await adapter.complete_segment(segment, None, WriteOptions())  # still there after a failure
        assert obj.size == 4
        await store.delete("joined.bin")
        await store.delete("before.bin")
    composes = gcs_proxy.calls("POST", "/compose")
    assert [r.query.get("ifGenerationMatch") for r in composes] == ["0", "0"]


async def test_plain_write_is_retried(gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]) -> None:
    """A whole-object upload replaces the object, so the core's retry is safe."""
    gcs_proxy.faults.append(gcs_proxy.fault("POST", "/upload/", 503))
    async with aiostore.connect(gcs_url, retry=FAST, **proxied) as store:
        written = await store.write("plain.bin", b"data")
        assert written.size == 4
        assert await store.read("plain.bin") == b"data"
        await store.delete("plain.bin")
    assert len(gcs_proxy.calls("POST", "/upload/")) == 2


async def test_write_with_generation_precondition_is_retried(
    gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]
) -> None:
    gcs_proxy.faults.append(gcs_proxy.fault("POST", "/upload/", 503))
    async with aiostore.connect(gcs_url, retry=FAST, **proxied) as store:
        written = await store.write("guarded.bin", b"data", if_not_exists=True)
        assert written.size == 4
        await store.delete("guarded.bin")
    assert len(gcs_proxy.calls("POST", "/upload/")) == 2


async def test_reads_and_deletes_are_retried(
    gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]
) -> None:
    async with aiostore.connect(gcs_url, retry=FAST, **proxied) as store:
        await store.write("r.bin", b"data")
        gcs_proxy.faults.append(gcs_proxy.fault("GET", "/o/", 503))
        assert await store.read("r.bin") == b"data"
        gcs_proxy.faults.append(gcs_proxy.fault("DELETE", "/o/", 500))
        await store.delete("r.bin")
        assert not await store.exists("r.bin")
    assert len(gcs_proxy.calls("DELETE", "/o/")) == 2


async def test_move_deletes_exactly_the_copied_generation(
    gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]
) -> None:
    """The source is deleted with ifGenerationMatch, so that DELETE is retried."""
    async with aiostore.connect(gcs_url, retry=FAST, **proxied) as store:
        source = await store.write("from.bin", b"moving")
        gcs_proxy.faults.append(gcs_proxy.fault("DELETE", "/o/", 503))
        await store.move("from.bin", "to.bin")
        assert not await store.exists("from.bin")
        assert await store.read("to.bin") == b"moving"
        await store.delete("to.bin")
    deletes = [r.query for r in gcs_proxy.calls("DELETE", "/o/")][:2]
    assert deletes == [{"ifGenerationMatch": source.version}] * 2
    rewrites = gcs_proxy.calls("POST", "/rewriteTo/")
    assert rewrites[0].query.get("ifSourceGenerationMatch") == source.version


async def test_changed_source_stops_a_move(
    gcs_proxy: GCSProxy, gcs_url: str, proxied: dict[str, Any]
) -> None:
    """GCS answers 412 when the source changed after the copy (the proxy plays it)."""
    async with aiostore.connect(gcs_url, retry=FAST, **proxied) as store:
        await store.write("a.bin", b"x")
        gcs_proxy.faults.append(gcs_proxy.fault("DELETE", "/o/", 412))
        with pytest.raises(ConditionNotMetError):
            await store.move("a.bin", "b.bin")
        assert await store.exists("a.bin")
        await store.delete("a.bin")
        await store.delete("b.bin")

"""The hot calls sent through the shared session (`_fast`) and part uploads (`_inflight`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiostore_gcs import GCSAdapter
from aiostore_gcs._client import GCSClient
from aiostore_gcs._fast import _Boundary

import aiostore


def _client(store: aiostore.Store) -> GCSClient:
    adapter = store._adapter
    assert isinstance(adapter, GCSAdapter)
    return adapter._client


async def test_body_holding_the_boundary_round_trips(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    """A body that contains the multipart boundary gets a new boundary, not a broken upload."""
    old = _Boundary.value
    data = b"--" + old.encode() + b"\r\n" + b"x" * 100 + b"--" + old.encode() + b"--\r\n"
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        obj = await store.write("boundary.bin", data, metadata={"k": "v"}, content_type="text/plain")
        assert _Boundary.value != old
        assert obj.size == len(data)
        assert await store.read("boundary.bin") == data
        stat = await store.stat("boundary.bin")
        assert (stat.content_type, dict(stat.metadata)) == ("text/plain", {"k": "v"})
        await store.delete("boundary.bin")


async def test_part_of_a_cancelled_caller_is_removed_by_abort(
    gcs_url: str, gcs_options: dict[str, Any], bucket_keys: Callable[[str], Awaitable[list[str]]]
) -> None:
    """Cancelling write_segment does not stop the upload; abort waits for it and deletes it."""
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        segment = await store.init_segment("a.bin")
        task = asyncio.create_task(store.write_segment(segment, 0, b"x" * 300_000))
        await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.abort_segment(segment)
        assert [s async for s in store.list_segments()] == []
        assert await bucket_keys(store.metadata().work_dir) == [], "the part landed after the abort"


async def test_read_timer_only_where_the_core_timeouts_do_not_bound_the_call(
    gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    """The core's attempt and stall timeouts (60 s and 30 s) bound a call before the
    adapter's 60 s read timeout would: the fast calls then go without a read timer;
    without an attempt timeout, the read timeout is kept."""
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        client = _client(store)
        assert client.fast_timeout.sock_read is None
        await store.write("timer.txt", b"t")
        assert await store.read("timer.txt") == b"t"
        await store.delete("timer.txt")
    untimed = aiostore.TimeoutOptions(attempt=None)
    async with aiostore.connect(gcs_url, timeouts=untimed, **gcs_options) as store:
        client = _client(store)
        assert client.fast_timeout.sock_read == client.options.timeout
        assert client.upload_timeout(4096).total is not None


async def test_metadata_answers_are_asked_for_without_indentation(
    gcs_proxy: Any, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    """GCS indents JSON unless ``prettyPrint=false``: every fast call that reads a
    resource back (upload, stat, listing) asks for the compact form."""
    async with aiostore.connect(gcs_url, **{**gcs_options, "endpoint": gcs_proxy.endpoint}) as store:
        await store.write("pretty/a.txt", b"a", content_type="text/plain")
        assert (await store.stat("pretty/a.txt")).size == 1
        assert [obj.path async for obj in store.list("pretty")] == ["pretty/a.txt"]
        await store.delete("pretty/a.txt")
    uploads = gcs_proxy.calls("POST", "/upload/")
    stats = [r for r in gcs_proxy.calls("GET", "/o/") if r.query.get("alt") != "media"]
    listings = [r for r in gcs_proxy.calls("GET", "/o") if r.path.endswith("/o")]
    assert uploads
    assert stats
    assert listings
    assert all(r.query.get("prettyPrint") == "false" for r in uploads + stats + listings)

"""One small reproduction per gap the proof found (ids as in ``_known.py`` and docs/reliability.md).

Each test asserts the behaviour the issue asks for. Those still waiting for
their fix are marked xfail (not strict): when the fix lands the test passes
(XPASS in the summary) and the marker and the `_known` entry should go.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from aiostore import (
    AlreadyExistsError,
    IntegrityError,
    RetryOptions,
    StorageError,
    Store,
    TransferOptions,
)
from aiostore.testing.faults import FaultProxy, delay, flip_byte, has_query, reset_after, stall, truncate

from ._backends import Backend, KiB, sha
from ._matrix import WRITE_TIMEOUTS

DATA = bytes(range(256)) * 400  # 100 KiB
LONG = bytes(range(251)) * 12_000  # ~2.9 MiB: more than one 1 MiB chunk of a streaming read


def pending(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(reason=reason, strict=False)


@pytest.mark.parametrize("op", ["stat", "init_segment"])
async def test_sdk_does_not_retry_on_its_own(
    backend: Backend, proxy: FaultProxy, clean: Store, prefix: str, op: str
) -> None:
    """The core is the one retry layer: with attempts=1 one injected 503 is one request and an error."""
    await clean.write("a.bin", b"x")
    async with backend.connect(proxy.endpoint, prefix, retry=RetryOptions(attempts=1)) as store:
        await store.exists("a.bin")  # open the store first
        before = proxy.total_requests
        proxy.add(backend.errors["status_503"], times=1)
        with pytest.raises(StorageError):
            await (store.stat("a.bin") if op == "stat" else store.init_segment("b.bin"))
    assert proxy.total_requests - before == 1


async def test_init_whose_answer_was_lost_is_not_sent_again(seaweedfs_backend: Backend, prefix: str) -> None:
    backend = seaweedfs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        proxy.add(reset_after(), method="POST", query=has_query("uploads"))
        with contextlib.suppress(StorageError):  # an honest "may have applied" failure
            await store.abort_segment(await store.init_segment("a.bin"))
        left = [segment async for segment in store.list_segments()]
        for segment in left:
            await store.abort_segment(segment)
    creates = [seen for seen in proxy.seen if seen.method == "POST" and "uploads" in seen.query]
    assert len(creates) == 1, f"CreateMultipartUpload sent {len(creates)} times; {len(left)} uploads orphaned"


async def test_list_segments_retries_a_transient_fault(gcs_backend: Backend, prefix: str) -> None:
    backend = gcs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        segment = await store.init_segment("a.bin")
        try:
            proxy.add(backend.errors["status_503"], method="GET", times=1)
            assert [s.id async for s in store.list_segments()] == [segment.id]
        finally:
            proxy.clear()
            await store.abort_segment(segment)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "aiobotocore"])
async def test_if_not_exists_write_never_reports_its_own_object(
    seaweedfs_backend: Backend, prefix: str, fast_path: bool
) -> None:
    """A2: neither aiohttp session (ours, aiobotocore's) resends a PUT below the core."""
    backend = seaweedfs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(None, prefix) as clean:
        proxy.add(reset_after(), method="PUT")
        async with backend.connect(proxy.endpoint, prefix, fast_path=fast_path) as store:
            with contextlib.suppress(StorageError):  # success, or an honest "may have applied" failure
                try:
                    await store.write("a.bin", DATA, if_not_exists=True)
                except AlreadyExistsError:
                    pytest.fail("AlreadyExistsError for the call's own object")
        assert sha(await clean.read("a.bin")) == sha(DATA)
        await clean.delete("a.bin")


async def test_gcs_write_and_delete_are_retried(gcs_backend: Backend, prefix: str) -> None:
    backend = gcs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        proxy.add(backend.errors["status_503"], method="POST", path="/upload/")
        await store.write("a.bin", DATA)
        proxy.add(backend.errors["status_503"], method="DELETE")
        await store.delete("a.bin")
        assert not await store.exists("a.bin")


async def test_full_read_is_checked_without_a_service_checksum(moto_backend: Backend, prefix: str) -> None:
    backend = moto_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        await store.write("a.bin", DATA)
        proxy.add(flip_byte(100), method="GET", times=None)
        with pytest.raises(IntegrityError):
            await store.read("a.bin")
        proxy.clear()
        await store.delete("a.bin")


async def test_broken_download_resumes_pinned_to_its_version(seaweedfs_backend: Backend, prefix: str) -> None:
    backend = seaweedfs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        await store.write("a.bin", LONG)
        proxy.add(truncate(1536 * KiB), method="GET")
        try:
            async with store.reader("a.bin") as reader:
                etag = reader.object.etag
                assert sha(b"".join([chunk async for chunk in reader])) == sha(LONG)
        finally:
            proxy.clear()
            await store.delete("a.bin")
    gets = [seen for seen in proxy.seen if seen.method == "GET"]
    assert [seen.fault for seen in gets] == ["truncate", None]
    resumed = {k.lower(): v for k, v in gets[1].headers.items()}
    assert resumed["if-match"] == etag
    assert resumed["range"].startswith("bytes=")


@pytest.mark.parametrize("fault", ["truncate", "flip_byte"])
async def test_whole_read_is_retried_and_verified(
    seaweedfs_backend: Backend, prefix: str, fault: str
) -> None:
    backend = seaweedfs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        await store.write("a.bin", DATA)
        if fault == "truncate":
            proxy.add(truncate(-1), method="GET")
        else:
            proxy.add(flip_byte(7), method="GET", times=None)
        try:
            if fault == "truncate":
                assert sha(await store.read("a.bin")) == sha(DATA)
            else:
                with pytest.raises(IntegrityError):
                    await store.read("a.bin")
        finally:
            proxy.clear()
            await store.delete("a.bin")


@pytest.mark.parametrize("flipped", [False, True], ids=["clean", "flipped-range"])
async def test_parallel_read_is_verified_across_its_ranges(
    backend: Backend, prefix: str, flipped: bool
) -> None:
    """A `Store.read` of more than two parts comes back as parallel ranges that no
    checksum covers. The first answer is the whole object with its checksum (CRC32C
    or an MD5); its check carries on over the ranges, so a byte flipped in one of
    them is IntegrityError, not wrong bytes (gap P2). GCS reads in parallel only
    when asked (``parallel_reads=True``), which this test does on every backend."""
    data = bytes(range(253)) * (4 * KiB * 7)  # ~7 MiB, one request (below the 8 MiB part size)
    async with backend.connect(backend.upstream, prefix) as writer:
        await writer.write("a.bin", data)
    small_parts = TransferOptions(part_size=1024 * KiB, concurrency=4, parallel_reads=True)
    async with (
        FaultProxy(backend.upstream) as proxy,
        backend.connect(proxy.endpoint, prefix, transfer=small_parts) as store,
    ):
        if flipped:  # every GET after the first answer: the ranges
            proxy.add(flip_byte(12345), method="GET", path="a.bin", skip=1, times=None)
        try:
            if flipped:
                with pytest.raises(IntegrityError):
                    await store.read("a.bin")
            else:
                assert sha(await store.read("a.bin")) == sha(data)
        finally:
            proxy.clear()
            await store.delete("a.bin")
    gets = [seen for seen in proxy.seen if seen.method == "GET" and seen.path.endswith("a.bin")]
    assert len(gets) >= 3, "the read did not go out as parallel ranges"
    assert ("flip_byte" in [seen.fault for seen in gets]) == flipped


async def test_resumed_read_is_still_verified(seaweedfs_backend: Backend, prefix: str) -> None:
    backend = seaweedfs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        await store.write("a.bin", LONG)
        proxy.add(truncate(1536 * KiB), method="GET")
        proxy.add(flip_byte(10 * KiB), method="GET")
        try:
            with pytest.raises(IntegrityError):
                async with store.reader("a.bin") as reader:
                    await reader.read()
        finally:
            proxy.clear()
            await store.delete("a.bin")
    assert [seen.fault for seen in proxy.seen if seen.method == "GET"] == ["truncate", "flip_byte"]


@pytest.mark.parametrize("how", ["init_segment", "writer"])
async def test_cancelled_init_leaves_no_upload(seaweedfs_backend: Backend, prefix: str, how: str) -> None:
    backend = seaweedfs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(None, prefix) as clean:
        proxy.add(stall(1.0, after=0), method="POST", query=has_query("uploads"))  # created, answer held back
        options = {"timeouts": WRITE_TIMEOUTS, "transfer": TransferOptions(part_size=backend.part_size)}
        async with backend.connect(proxy.endpoint, prefix, **options) as store:
            task = asyncio.create_task(_start_upload(store, how, backend.part_size))
            await asyncio.sleep(0.3)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        left = [segment async for segment in clean.list_segments()]
        for segment in left:
            await clean.abort_segment(segment)
        assert left == []


async def _start_upload(store: Store, how: str, part: int) -> None:
    if how == "init_segment":
        await store.init_segment("a.bin")
        return
    async with store.writer("a.bin") as writer:
        await writer.write(b"x" * (part + 1))


async def test_part_landing_after_abort_is_not_left_behind(gcs_backend: Backend, prefix: str) -> None:
    backend = gcs_backend
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        segment = await store.init_segment("a.bin")
        proxy.add(delay(0.5), method="POST", path="/upload/")  # the part is on its way...
        task = asyncio.create_task(store.write_segment(segment, 0, DATA))
        await asyncio.sleep(0.2)
        task.cancel()  # ...when its caller gives up and aborts, as SegmentedWrite does
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.abort_segment(segment)
    # leaving the proxy let the late part land
    hidden = await backend.hidden(store.metadata().work_dir)
    async with backend.connect(None, prefix) as clean:
        listed = [s async for s in clean.list_segments()]
        for found in listed:
            await clean.abort_segment(found)
    assert proxy.injected["delay"] == 1
    assert hidden == set(), f"left behind, and list_segments shows {listed}"


async def test_aborted_upload_does_not_come_back(azblob_backend: Backend, prefix: str) -> None:
    """AZ1 (fixed): Azurite brings an aborted upload's blocks back; its tombstone keeps it dead."""
    async with azblob_backend.connect(None, prefix) as store:
        first = await store.init_segment("a.bin")
        await store.abort_segment(first)
        second = await store.init_segment("a.bin")
        try:
            assert [s.id async for s in store.list_segments()] == [second.id]
        finally:
            for segment in [s async for s in store.list_segments()]:
                await store.abort_segment(segment)

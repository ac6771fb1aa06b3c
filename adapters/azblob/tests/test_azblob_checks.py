"""Which integrity check covers which read, seen in the requests sent to Azurite.

A whole read of a blob with a stored MD5 is checked end to end against it: only
its first ranged GET asks for a transactional MD5, the later ranges are
``chunk_size`` bytes without one. So are the ranges that carry that check on: a
parallel read's, a resumed read's. Partial reads and blobs without a stored MD5
keep a transactional MD5 on every GET, at most 4 MiB each. Requests go through
the fault proxy, which records them and damages the ones a test picks.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiostore_azblob import AzblobAdapter
from aiostore_azblob._errors import AzureResponseError
from aiostore_azblob._fastplane import FastPlane
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient

import aiostore
from aiostore import IntegrityError, RetryOptions, Store, TransferOptions
from aiostore.testing.faults import FaultProxy, flip_byte, reset_after
from aiostore.testing.servers import DEV_ACCOUNT, AzureServer

MiB = 1024 * 1024
CHUNK = 6 * MiB  # above the 4 MiB cap of transactional MD5s
SIZE = 13 * MiB + 5
DATA = random.Random(7).randbytes(SIZE)
RANGE_MD5 = "x-ms-range-get-content-md5"


@pytest.fixture
def prefix(az: Store) -> str:
    """``az``'s directory: the ``az`` fixture removes whatever is left there."""
    return az.metadata().work_dir.rstrip("/")


@contextlib.asynccontextmanager
async def proxied(
    server: AzureServer, container: str, prefix: str, *, part_size: int = 2 * SIZE, **options: Any
) -> AsyncIterator[tuple[FaultProxy, Store]]:
    """A store on ``prefix`` whose requests go through a fault proxy: ``chunk_size`` is
    `CHUNK`, and by default a write of `DATA` is one request (so the blob gets a
    stored MD5) and so is its ``read``; a smaller ``part_size`` makes ``read`` fetch
    parallel ranges, on the SDK too (where they are off unless asked for)."""
    async with FaultProxy(server.endpoint) as proxy:
        conn = server.connection_string.replace(server.endpoint, f"{proxy.endpoint}/{DEV_ACCOUNT}")
        async with aiostore.connect(
            f"azblob://{container}/{prefix}", connection_string=conn, chunk_size=CHUNK,
            transfer=TransferOptions(part_size=part_size, concurrency=4, parallel_reads=True), **options,
        ) as store:  # fmt: skip
            yield proxy, store


def gets(proxy: FaultProxy, name: str) -> list[tuple[int, int, bool]]:
    """(first byte, length, asked for a transactional MD5) of each Get Blob of ``name``."""
    found = []
    for seen in proxy.seen:
        if seen.method == "GET" and seen.path.endswith("/" + name) and "comp" not in seen.query:
            first, last = seen.headers["x-ms-range"].removeprefix("bytes=").split("-")
            found.append((int(first), int(last) - int(first) + 1, seen.headers.get(RANGE_MD5) == "true"))
    return found


async def set_stored_md5(raw: ContainerClient, key: str, md5: bytes | None) -> None:
    """Replace the blob's stored MD5 (None removes it) through the plain SDK."""
    settings = ContentSettings(content_md5=bytearray(md5) if md5 is not None else None)
    await raw.get_blob_client(key).set_http_headers(settings)


async def read_chunks(store: Store, path: str, **range_: Any) -> list[bytes]:
    async with store.reader(path, **range_) as reader:
        return [chunk async for chunk in reader]


async def read_into(store: Store, path: str, handed: list[bytes]) -> None:
    """Read ``path`` whole through a `Reader`, keeping each chunk as it is handed out."""
    async with store.reader(path) as reader:
        async for chunk in reader:
            handed.append(chunk)  # noqa: PERF401 (kept even when a later chunk fails)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "sdk"])
async def test_a_whole_read_with_a_stored_md5_asks_for_one_transactional_md5(
    azurite_server: AzureServer, container_name: str, prefix: str, fast_path: bool
) -> None:
    async with proxied(azurite_server, container_name, prefix, fast_path=fast_path) as (proxy, store):
        written = await store.write("whole.bin", DATA)
        assert written.content_md5 == hashlib.md5(DATA).hexdigest()
        chunks = await read_chunks(store, "whole.bin")
    assert b"".join(chunks) == DATA
    if fast_path:
        later = [(4 * MiB, CHUNK, False), (10 * MiB, SIZE - 10 * MiB, False)]
    else:  # the SDK reads each GET whole: 4 MiB at most, its own default chunk
        later = [(4 * MiB, 4 * MiB, False), (8 * MiB, 4 * MiB, False), (12 * MiB, SIZE - 12 * MiB, False)]
    assert gets(proxy, "whole.bin") == [(0, 4 * MiB, True), *later]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "sdk"])
async def test_partial_reads_and_blobs_without_a_stored_md5_check_every_range(
    azurite_server: AzureServer, container_name: str, prefix: str, raw: ContainerClient, fast_path: bool
) -> None:
    async with proxied(azurite_server, container_name, prefix, fast_path=fast_path) as (proxy, store):
        await store.write("part.bin", DATA)
        assert b"".join(await read_chunks(store, "part.bin", offset=1)) == DATA[1:]
        assert b"".join(await read_chunks(store, "part.bin", size=SIZE - 1)) == DATA[:-1]
        ranged = gets(proxy, "part.bin")
        await store.write("bare.bin", DATA)
        await set_stored_md5(raw, f"{prefix}/bare.bin", None)
        assert (await store.stat("bare.bin")).content_md5 is None
        assert b"".join(await read_chunks(store, "bare.bin")) == DATA
        bare = gets(proxy, "bare.bin")
    starts = [1, 4 * MiB + 1, 8 * MiB + 1, 12 * MiB + 1, 0, 4 * MiB, 8 * MiB, 12 * MiB]
    assert [start for start, _, _ in ranged] == starts
    assert [start for start, _, _ in bare] == starts[4:]
    assert all(md5 and length <= 4 * MiB for _, length, md5 in ranged + bare)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "sdk"])
async def test_a_wrong_stored_md5_fails_a_whole_read_before_its_last_chunk(
    azurite_server: AzureServer, container_name: str, prefix: str, raw: ContainerClient, fast_path: bool
) -> None:
    async with proxied(azurite_server, container_name, prefix, fast_path=fast_path) as (_, store):
        await store.write("wrong.bin", DATA)
        await set_stored_md5(raw, f"{prefix}/wrong.bin", hashlib.md5(b"other").digest())
        handed: list[bytes] = []
        with pytest.raises(IntegrityError, match="stored MD5"):
            await read_into(store, "wrong.bin", handed)
        # the last chunk never went out: the fast path streams GETs a `PIECE` at a time
        # (the last one is the 5 bytes after 13 MiB), the SDK hands out each 4 MiB GET whole
        assert sum(map(len, handed)) == (SIZE - 5 if fast_path else 12 * MiB)
        with pytest.raises(IntegrityError):
            await store.read("wrong.bin")
        assert await store.read("wrong.bin", offset=3) == DATA[3:]  # ranges are not covered


async def test_a_flipped_byte_in_an_unchecked_range_is_caught_at_the_end(
    azurite_server: AzureServer, container_name: str, prefix: str
) -> None:
    async with proxied(azurite_server, container_name, prefix, retry=RetryOptions(attempts=1)) as (
        proxy,
        store,
    ):
        await store.write("flip.bin", DATA)
        proxy.add(flip_byte(123), method="GET", headers=lambda h: h.get(RANGE_MD5) is None)
        with pytest.raises(IntegrityError):
            await store.read("flip.bin")
        assert proxy.injected["flip_byte"] == 1
        assert await store.read("flip.bin") == DATA


@pytest.mark.parametrize("stored", ["right", "wrong"])
async def test_a_resumed_whole_read_keeps_the_check(
    azurite_server: AzureServer, container_name: str, prefix: str, raw: ContainerClient, stored: str
) -> None:
    """The Reader resumes a broken read with a range; the running MD5 goes with it."""
    async with proxied(azurite_server, container_name, prefix) as (proxy, store):
        await store.write("resume.bin", DATA)
        if stored == "wrong":
            await set_stored_md5(raw, f"{prefix}/resume.bin", hashlib.md5(b"other").digest())
        proxy.add(reset_after(), method="GET", path="resume.bin", skip=1)  # the second range
        handed: list[bytes] = []
        if stored == "wrong":
            with pytest.raises(IntegrityError, match="stored MD5"):
                await read_into(store, "resume.bin", handed)
        else:
            await read_into(store, "resume.bin", handed)
            assert b"".join(handed) == DATA
        assert proxy.injected["reset_after"] == 1
    resumed = gets(proxy, "resume.bin")[2:]  # after the first range and the broken one
    assert resumed[0] == (4 * MiB, CHUNK, False)  # the carried check covers it


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "sdk"])
@pytest.mark.parametrize("flipped", [False, True], ids=["clean", "flipped"])
async def test_a_parallel_read_carries_the_whole_check_over_its_ranges(
    azurite_server: AzureServer, container_name: str, prefix: str, fast_path: bool, flipped: bool
) -> None:
    """``read`` of more than two parts: the first answer fills the head and hands its
    running MD5 over; the later ranges, one GET of a part each, ask for no
    transactional MD5, and a byte damaged in one of them fails the whole check."""
    async with proxied(azurite_server, container_name, prefix) as (_, writer):
        await writer.write("par.bin", DATA)  # one Put Blob: the blob gets a stored MD5
    options = {"fast_path": fast_path, "part_size": 2 * MiB}
    async with proxied(azurite_server, container_name, prefix, **options) as (proxy, store):
        if flipped:
            proxy.add(flip_byte(123), method="GET", path="par.bin", skip=2)  # the first parallel range
            with pytest.raises(IntegrityError, match="stored MD5"):
                await store.read("par.bin")
            assert proxy.injected["flip_byte"] == 1
        else:
            assert await store.read("par.bin") == DATA
    # read until past two parts: the fast path streams the second GET and drops it a
    # piece past 4 MiB; the SDK reads it whole, 4 MiB at most
    head = [(0, 4 * MiB, True), (4 * MiB, CHUNK if fast_path else 4 * MiB, False)]
    ranges_from = 5 * MiB if fast_path else 8 * MiB
    ranges = [(start, min(2 * MiB, SIZE - start), False) for start in range(ranges_from, SIZE, 2 * MiB)]
    assert sorted(gets(proxy, "par.bin")) == head + ranges


async def test_a_staged_block_is_sent_with_the_md5_it_is_given(
    azurite_server: AzureServer, container_name: str, prefix: str, adapter: AzblobAdapter
) -> None:
    """`write_once` hands its single block the blob's MD5; a wrong one is refused by the service."""
    plane = adapter._scope.fast
    assert isinstance(plane, FastPlane)
    wrong = hashlib.md5(b"other").digest()
    with pytest.raises(AzureResponseError, match=r"(?i)md5"):  # unmapped: no boundary around the plane
        await plane.put_block(adapter.work_dir + "block.bin", "b" * 16, DATA[:MiB], validate=True, md5=wrong)
    async with proxied(azurite_server, container_name, prefix) as (proxy, store):
        written = await store.write("block.bin", DATA)
    [put_block] = [seen for seen in proxy.seen if seen.method == "PUT" and seen.query.get("comp") == "block"]
    assert written.content_md5 is not None
    assert base64.b64decode(put_block.headers["Content-MD5"]).hex() == written.content_md5


@pytest.mark.parametrize("store_md5", [True, False])
async def test_a_blob_committed_from_blocks_gets_its_md5(
    azurite_server: AzureServer, container_name: str, prefix: str, store_md5: bool
) -> None:
    """The uploader hashes the blocks in order and commits the MD5 with the block list
    (``store_md5``), so a whole read of the blob is checked end to end: one
    transactional MD5 on the first GET, none after."""
    options = {"part_size": 4 * MiB, "store_md5": store_md5}
    async with proxied(azurite_server, container_name, prefix, **options) as (proxy, store):
        written = await store.write("blocks.bin", DATA)
        stored = (await store.stat("blocks.bin")).content_md5
        async with store.reader("blocks.bin") as reader:
            assert await reader.read() == DATA
    puts = [seen for seen in proxy.seen if seen.method == "PUT" and seen.query.get("comp") == "block"]
    assert len(puts) >= 4, "the write went out as blocks"
    expected = hashlib.md5(DATA).hexdigest() if store_md5 else None
    assert (written.content_md5, stored) == (expected, expected)
    checked = [md5 for _, _, md5 in gets(proxy, "blocks.bin")]
    assert checked == ([True, False, False] if store_md5 else [True, True, True, True])

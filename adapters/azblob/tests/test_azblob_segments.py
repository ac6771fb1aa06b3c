"""Segments as uncommitted blocks: ids, ordering, abort and listing, checked on Azurite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiostore_azblob import AzblobAdapter
from azure.storage.blob.aio import ContainerClient

from aiostore import AlreadyExistsError, InvalidArgumentError, NotFoundError, Part, Store, WriteOptions


async def uncommitted(raw: ContainerClient, key: str) -> list[str]:
    try:
        _, blocks = await raw.get_blob_client(key).get_block_list("uncommitted")
    except Exception:  # the blob has vanished completely
        return []
    return [str(block.id) for block in blocks]


async def visible(raw: ContainerClient, prefix: str) -> list[str]:
    return [blob.name async for blob in raw.list_blobs(name_starts_with=prefix, include=["uncommittedblobs"])]


async def test_block_ids_have_one_length_and_encode_the_index(az: Store, raw: ContainerClient) -> None:
    key = az.metadata().work_dir + "ids.bin"
    segment = await az.init_segment("ids.bin")
    for index in (7, 0, 12):
        await az.write_segment(segment, index, bytes([index]) * 10)
    ids = await uncommitted(raw, key)
    assert len({len(value) for value in ids}) == 1
    assert {f"{segment.id}-{n:06d}" for n in (0, 7, 12)} <= set(ids)
    await az.abort_segment(segment)


async def test_complete_joins_parts_in_index_order(az: Store) -> None:
    segment = await az.init_segment("joined.txt", content_type="text/plain", metadata={"k": "v"})
    for index in (2, 0, 1):
        await az.write_segment(segment, index, f"part{index};".encode())
    obj = await az.complete_segment(segment)
    assert obj.size == len(b"part0;part1;part2;")
    assert await az.read("joined.txt") == b"part0;part1;part2;"
    stat = await az.stat("joined.txt")
    assert (stat.content_type, dict(stat.metadata)) == ("text/plain", {"k": "v"})
    await az.delete("joined.txt")


async def test_complete_with_chosen_parts(az: Store) -> None:
    segment = await az.init_segment("some.bin")
    parts = [await az.write_segment(segment, index, bytes([65 + index]) * 3) for index in range(3)]
    with pytest.raises(InvalidArgumentError, match="never uploaded"):
        await az.complete_segment(segment, [parts[0], Part(index=9, size=3)])
    await az.complete_segment(segment, [parts[0], parts[2]])
    assert await az.read("some.bin") == b"AAACCC"
    await az.delete("some.bin")


async def test_abort_of_a_new_blob_leaves_nothing(az: Store, raw: ContainerClient) -> None:
    work_dir = az.metadata().work_dir
    segment = await az.init_segment("gone.bin")
    await az.write_segment(segment, 0, b"data")
    assert [s.id async for s in az.list_segments()] == [segment.id]
    await az.abort_segment(segment)
    await az.abort_segment(segment)
    assert await visible(raw, work_dir) == []
    assert [s async for s in az.list_segments()] == []
    with pytest.raises(NotFoundError, match="no upload"):
        await az.complete_segment(segment)


async def test_abort_over_an_existing_blob_keeps_it(az: Store, raw: ContainerClient) -> None:
    before = await az.write("kept.bin", b"committed")
    segment = await az.init_segment("kept.bin")
    await az.write_segment(segment, 0, b"replacement")
    await az.abort_segment(segment)
    after = await az.stat("kept.bin")
    assert (after.etag, await az.read("kept.bin")) == (before.etag, b"committed")
    assert [s async for s in az.list_segments()] == []
    with pytest.raises(NotFoundError):
        await az.complete_segment(segment)
    await az.delete("kept.bin")


async def test_aborting_one_of_two_uploads_spares_the_other(az: Store, raw: ContainerClient) -> None:
    first = await az.init_segment("two.bin")
    second = await az.init_segment("two.bin")
    await az.write_segment(first, 0, b"first")
    await az.write_segment(second, 0, b"second")
    await az.abort_segment(first)
    assert [s.id async for s in az.list_segments()] == [second.id]
    await az.complete_segment(second)
    assert await az.read("two.bin") == b"second"
    assert await uncommitted(raw, az.metadata().work_dir + "two.bin") == []
    await az.delete("two.bin")


async def test_an_aborted_upload_stays_dead_when_a_new_one_starts(az: Store) -> None:
    """Gap AZ1: Azurite brings an aborted upload's blocks back with the next Put Block."""
    first = await az.init_segment("again.bin")
    await az.write_segment(first, 0, b"old")
    await az.abort_segment(first)
    second = await az.init_segment("again.bin")
    await az.write_segment(second, 0, b"new")
    assert [s.id async for s in az.list_segments()] == [second.id]
    with pytest.raises(NotFoundError, match="no upload"):
        await az.complete_segment(first)
    await az.complete_segment(second)
    assert await az.read("again.bin") == b"new"
    await az.delete("again.bin")


async def test_listed_segments_carry_path_and_start_time(az: Store) -> None:
    segment = await az.init_segment("deep/dir/up.bin")
    listed = [s async for s in az.list_segments("deep/")]
    assert [(s.path, s.id) for s in listed] == [("deep/dir/up.bin", segment.id)]
    assert listed[0].created_at is not None
    assert abs(listed[0].created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert [s async for s in az.list_segments("other/")] == []
    await az.abort_segment(segment)


async def test_if_not_exists_is_checked_at_commit(adapter: AzblobAdapter) -> None:
    guarded = WriteOptions(if_not_exists=True)
    segment = await adapter.init_segment("race.bin", guarded)
    await adapter.write_segment(segment, 0, b"late")
    await adapter.write_once("race.bin", b"early", WriteOptions())
    # Azure drops the upload's blocks on Put Blob (NotFoundError); Azurite keeps them,
    # so the guarded commit itself is refused. Either way "early" survives.
    with pytest.raises((NotFoundError, AlreadyExistsError)):
        await adapter.complete_segment(segment, None, WriteOptions())
    again = await adapter.init_segment("race.bin", guarded)
    await adapter.write_segment(again, 0, b"late")
    with pytest.raises(AlreadyExistsError):
        await adapter.complete_segment(again, None, WriteOptions())
    await adapter.abort_segment(again)
    assert await adapter.read_bytes("race.bin", offset=0, size=None) == b"early"

"""fs listing pages and segments, through the adapter primitives and through a store."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aiostore
from aiostore import InvalidArgumentError, NotFoundError, ObjectType, Part, Segment, WriteOptions
from aiostore.fs import FsAdapter

NO_OPTIONS = WriteOptions()


@pytest.fixture
async def adapter(tmp_path: Path) -> AsyncIterator[FsAdapter]:
    fs = FsAdapter(work_dir=tmp_path / "root")
    await fs.open()
    yield fs
    await fs.aclose()


async def write_all(adapter: FsAdapter, *paths: str) -> None:
    for path in paths:
        await adapter.write_once(path, path.encode(), NO_OPTIONS)


async def all_pages(adapter: FsAdapter, directory: str, recursive: bool, page_size: int) -> list[list[str]]:
    pages, token = [], None
    while True:
        page = await adapter.list_page(directory, recursive=recursive, page_size=page_size, token=token)
        pages.append([obj.path for obj in page.entries])
        if (token := page.next_token) is None:
            return pages


async def test_recursive_order_is_lexicographic_like_s3(adapter: FsAdapter) -> None:
    names = ["a/b", "a.txt", "a-b", "a0", "a/c/d", "b", "a/b0"]
    await write_all(adapter, *names)
    assert await all_pages(adapter, "", True, 100) == [sorted(names)]
    assert await all_pages(adapter, "", True, 2) == [
        ["a-b", "a.txt"],
        ["a/b", "a/b0"],
        ["a/c/d", "a0"],
        ["b"],
    ]


async def test_one_level_lists_directories_with_a_slash(adapter: FsAdapter) -> None:
    await write_all(adapter, "d/x", "d/y/z", "a.txt", "d.txt")
    page = await adapter.list_page("", recursive=False, page_size=100, token=None)
    assert [(obj.path, obj.type) for obj in page.entries] == [
        ("a.txt", ObjectType.FILE),
        ("d.txt", ObjectType.FILE),
        ("d/", ObjectType.DIR),
    ]
    assert await all_pages(adapter, "d/", False, 1) == [["d/x"], ["d/y/"]]
    file = page.entries[0]
    assert (file.size, file.etag is not None, file.updated_at is not None) == (5, True, True)


async def test_a_listing_resumes_after_its_token_while_entries_change(adapter: FsAdapter) -> None:
    await write_all(adapter, "p/b", "p/d", "p/f", "p/h")
    first = await adapter.list_page("p/", recursive=True, page_size=2, token=None)
    assert [obj.path for obj in first.entries] == ["p/b", "p/d"]
    await write_all(adapter, "p/a", "p/e")  # one before the token, one after
    await adapter.delete("p/f")
    rest = await adapter.list_page("p/", recursive=True, page_size=10, token=first.next_token)
    assert [obj.path for obj in rest.entries] == ["p/e", "p/h"]
    assert rest.next_token is None


async def test_listing_skips_names_that_cannot_be_paths(adapter: FsAdapter, tmp_path: Path) -> None:
    await write_all(adapter, "ok.txt")
    root = os.fsencode(tmp_path / "root")
    for name in (b"bad\xffname", b"new\nline"):
        os.close(os.open(os.path.join(root, name), os.O_CREAT | os.O_WRONLY))
    os.mkfifo(tmp_path / "root" / "fifo")
    page = await adapter.list_page("", recursive=True, page_size=10, token=None)
    assert [obj.path for obj in page.entries] == ["ok.txt"]
    with pytest.raises(NotFoundError):
        await adapter.stat("fifo")  # a FIFO is not an object (and reading it must not hang)
    with pytest.raises(NotFoundError):
        await adapter.read_bytes("fifo", offset=0, size=None)


async def test_a_file_listed_as_a_directory_lists_nothing(adapter: FsAdapter) -> None:
    await write_all(adapter, "plain")
    for recursive in (False, True):
        page = await adapter.list_page("plain/", recursive=recursive, page_size=10, token=None)
        assert (page.entries, page.next_token) == ([], None)


# -- segments ---------------------------------------------------------------------------
async def test_segment_staging_layout_and_completion(adapter: FsAdapter, tmp_path: Path) -> None:
    options = WriteOptions(content_type="text/x-seg", metadata={"k": "v"})
    segment = await adapter.init_segment("out/joined.txt", options)
    staging = tmp_path / "root" / ".aiostore-segments" / segment.id
    manifest = json.loads((staging / "manifest.json").read_text())
    assert (manifest["path"], manifest["content_type"]) == ("out/joined.txt", "text/x-seg")
    parts = [
        await adapter.write_segment(segment, index, data) for index, data in ((1, b"world"), (0, b"hi "))
    ]
    assert sorted(os.listdir(staging)) == ["00000000", "00000001", "manifest.json"]
    obj = await adapter.complete_segment(segment, None, NO_OPTIONS)
    assert (obj.path, obj.size, obj.content_type, dict(obj.metadata)) == (
        "out/joined.txt",
        8,
        "text/x-seg",
        {"k": "v"},
    )
    assert (tmp_path / "root" / "out" / "joined.txt").read_bytes() == b"hi world"
    assert not (tmp_path / "root" / ".aiostore-segments").exists()
    with pytest.raises(NotFoundError):
        await adapter.complete_segment(segment, parts, NO_OPTIONS)


async def test_complete_checks_the_parts(adapter: FsAdapter) -> None:
    segment = await adapter.init_segment("x.bin", NO_OPTIONS)
    await adapter.write_segment(segment, 0, b"abc")
    with pytest.raises(InvalidArgumentError, match="never uploaded"):
        await adapter.complete_segment(segment, [Part(index=0, size=3), Part(index=1, size=1)], NO_OPTIONS)
    with pytest.raises(InvalidArgumentError, match="holds 3 bytes"):
        await adapter.complete_segment(segment, [Part(index=0, size=4)], NO_OPTIONS)
    obj = await adapter.complete_segment(segment, [Part(index=0, size=3)], NO_OPTIONS)
    assert obj.size == 3


async def test_forged_segments_are_not_found(adapter: FsAdapter) -> None:
    real = await adapter.init_segment("a.bin", NO_OPTIONS)
    for forged in (Segment(path="a.bin", id="../../etc"), Segment(path="other.bin", id=real.id)):
        with pytest.raises(NotFoundError):
            await adapter.write_segment(forged, 0, b"x")
    await adapter.abort_segment(Segment(path="a.bin", id="../../etc"))  # nothing to abort: succeeds
    await adapter.abort_segment(real)


async def test_list_segments_filters_by_directory(tmp_path: Path) -> None:
    async with aiostore.connect("fs", work_dir=tmp_path) as store:
        started = [await store.init_segment(path) for path in ("d/one", "d/e/two", "dd/three")]
        assert [seg.path async for seg in store.list_segments("d")] == ["d/e/two", "d/one"]
        assert [seg.path async for seg in store.list_segments()] == ["d/e/two", "d/one", "dd/three"]
        for segment in started:
            await store.abort_segment(segment)
        assert [seg async for seg in store.list_segments()] == []
        assert os.listdir(tmp_path) == []

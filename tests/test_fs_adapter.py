"""fs-specific behaviour, mostly through the adapter primitives: the root boundary
(symlinks), atomic writes that leave nothing behind, pruning, xattrs, races and
the one-thread-hop-per-operation rule."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import aiostore
from aiostore import (
    AlreadyExistsError,
    ConditionNotMetError,
    InvalidPathError,
    NotFoundError,
    Object,
    PermissionDeniedError,
    WriteOptions,
)
from aiostore.fs import FsAdapter, _pool
from aiostore.fs._meta import probe

SECRET = b"outside the root"
linux_xattrs = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux user xattrs and procfs")
NO_OPTIONS = WriteOptions()


def on_disk(root: Path) -> list[str]:
    """Every file and directory under ``root`` (hidden ones too), relative, sorted."""
    found: list[str] = []
    for directory, dirs, files in os.walk(root):
        found.extend(os.path.relpath(os.path.join(directory, name), root) for name in dirs + files)
    return sorted(found)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
async def adapter(root: Path) -> AsyncIterator[FsAdapter]:
    fs = FsAdapter(work_dir=root)
    await fs.open()
    yield fs
    await fs.aclose()


@pytest.fixture
def outside(tmp_path: Path, root: Path) -> Path:
    """A directory next to the root with a secret file, reachable through symlinks."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.txt").write_bytes(SECRET)
    root.mkdir(exist_ok=True)
    (root / "file-link").symlink_to(out / "secret.txt")
    (root / "dir-link").symlink_to(out)
    (root / "dangling-link").symlink_to(out / "not-yet.txt")
    return out


# -- the root boundary ----------------------------------------------------------------
ESCAPES = ["file-link", "dir-link/secret.txt", "dir-link/new.txt", "dangling-link"]


@pytest.mark.parametrize("path", ESCAPES)
async def test_symlink_escape_is_refused_for_every_operation(
    adapter: FsAdapter, outside: Path, path: str
) -> None:
    calls: dict[str, Any] = {
        "stat": lambda: adapter.stat(path),
        "read": lambda: adapter.read_bytes(path, offset=0, size=None),
        "open_read": lambda: adapter.open_read(path, offset=0, size=None),
        "write": lambda: adapter.write_once(path, b"pwned", NO_OPTIONS),
        "open_write": lambda: adapter.open_write(
            path, NO_OPTIONS, size_hint=None, part_size=1, concurrency=1
        ),
        "delete": lambda: adapter.delete(path),
        "copy-src": lambda: adapter.copy(path, "copied.txt"),
        "copy-dst": lambda: adapter.copy("inside.txt", path),
        "move-src": lambda: adapter.move(path, "moved.txt"),
        "move-dst": lambda: adapter.move("inside.txt", path),
        "init_segment": lambda: adapter.init_segment(path, NO_OPTIONS),
    }
    await adapter.write_once("inside.txt", b"inside", NO_OPTIONS)
    for op, call in calls.items():
        with pytest.raises(PermissionDeniedError):
            await call()
        assert sorted(os.listdir(outside)) == ["secret.txt"], op
        assert (outside / "secret.txt").read_bytes() == SECRET, op
    assert await adapter.read_bytes("inside.txt", offset=0, size=None) == b"inside"


async def test_listing_never_goes_through_a_symlink_to_outside(adapter: FsAdapter, outside: Path) -> None:
    await adapter.write_once("inside.txt", b"inside", NO_OPTIONS)
    with pytest.raises(PermissionDeniedError):
        await adapter.list_page("dir-link/", recursive=False, page_size=100, token=None)
    for recursive in (False, True):
        page = await adapter.list_page("", recursive=recursive, page_size=100, token=None)
        assert [obj.path for obj in page.entries] == ["inside.txt"]
    assert (await adapter.statistical()).count == 1


async def test_symlinks_inside_the_root_are_aliases(adapter: FsAdapter, root: Path) -> None:
    await adapter.write_once("real/data.txt", b"data", NO_OPTIONS)
    (root / "alias").symlink_to(root / "real")
    assert await adapter.read_bytes("alias/data.txt", offset=0, size=None) == b"data"
    page = await adapter.list_page("", recursive=True, page_size=100, token=None)
    assert [obj.path for obj in page.entries] == ["alias/data.txt", "real/data.txt"]
    (root / "real" / "loop").symlink_to(root / "real")  # a cycle is not walked twice
    page = await adapter.list_page("real/", recursive=True, page_size=100, token=None)
    assert [obj.path for obj in page.entries] == ["real/data.txt"]


# -- atomic writes leave nothing behind -------------------------------------------------
class Boom(Exception):
    pass


async def failing_source() -> AsyncIterator[bytes]:
    yield b"x" * 300_000
    yield b"y" * 2_000_000
    raise Boom


@pytest.mark.parametrize("existing", [False, True])
async def test_failed_write_removes_the_temporary_file(root: Path, existing: bool) -> None:
    async with aiostore.connect("fs", work_dir=root) as store:
        if existing:
            await store.write("dir/file.bin", b"old")
        with pytest.raises(Boom):
            await store.write("dir/file.bin", failing_source())
    assert on_disk(root) == (["dir", "dir/file.bin"] if existing else [])
    if existing:
        assert (root / "dir" / "file.bin").read_bytes() == b"old"


async def test_aborted_stream_removes_the_temporary_file(adapter: FsAdapter, root: Path) -> None:
    stream = await adapter.open_write("a/b/c.bin", NO_OPTIONS, size_hint=None, part_size=1, concurrency=1)
    await stream.write(b"z" * 3_000_000)
    assert len(on_disk(root)) == 3  # a, a/b and the hidden temporary file
    await stream.abort()
    await stream.abort()
    assert on_disk(root) == []


async def test_cancelled_writer_removes_the_temporary_file(root: Path) -> None:
    started = asyncio.Event()

    async def upload(store: aiostore.Store) -> None:
        async with store.writer("cancel/me.bin") as writer:
            await writer.write(b"a" * 5_000_000)
            started.set()
            await asyncio.Event().wait()

    async with aiostore.connect("fs", work_dir=root) as store:
        task = asyncio.create_task(upload(store))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert on_disk(root) == []


async def test_cancelled_write_once_leaves_no_temporary_file(adapter: FsAdapter, root: Path) -> None:
    data = os.urandom(32 * 1024 * 1024)
    task = asyncio.create_task(adapter.write_once("big/blob.bin", data, NO_OPTIONS))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the thread was waited for: the object is either complete or absent, never partial
    assert on_disk(root) in ([], ["big", "big/blob.bin"])
    if on_disk(root):
        assert (root / "big" / "blob.bin").read_bytes() == data


async def test_writer_copies_a_mutable_buffer_before_returning(adapter: FsAdapter) -> None:
    stream = await adapter.open_write("mutable.bin", NO_OPTIONS, size_hint=None, part_size=1, concurrency=1)
    buffer = bytearray(b"1" * 2_000_000)
    await stream.write(memoryview(buffer))
    buffer[:] = b"2" * 2_000_000  # allowed once write() returned
    await stream.write(b"3" * 10)
    await stream.commit()
    data = await adapter.read_bytes("mutable.bin", offset=0, size=None)
    assert data == b"1" * 2_000_000 + b"3" * 10


# -- the root, hidden names and pruning ---------------------------------------------
async def test_missing_root(adapter: FsAdapter, root: Path) -> None:
    with pytest.raises(NotFoundError):
        await adapter.stat("a.txt")
    with pytest.raises(NotFoundError):
        await adapter.read_bytes("a.txt", offset=0, size=None)
    assert (await adapter.list_page("", recursive=True, page_size=10, token=None)).entries == []
    assert (await adapter.statistical()).count == 0
    await adapter.delete("a.txt")
    assert "root" not in os.listdir(root.parent)
    await adapter.write_once("a.txt", b"made", NO_OPTIONS)  # mkdir -p of the root
    assert (root / "a.txt").read_bytes() == b"made"


async def test_empty_directories_are_pruned_but_never_the_root(adapter: FsAdapter, root: Path) -> None:
    await adapter.write_once("a/b/c.txt", b"c", NO_OPTIONS)
    await adapter.write_once("a/keep.txt", b"k", NO_OPTIONS)
    await adapter.delete("a/b/c.txt")
    assert on_disk(root) == ["a", "a/keep.txt"]
    await adapter.move("a/keep.txt", "x/y/moved.txt")
    assert on_disk(root) == ["x", "x/y", "x/y/moved.txt"]
    await adapter.delete("x/y/moved.txt")
    assert os.listdir(root) == []  # the root itself stays


async def test_hidden_staging_and_temporary_names(adapter: FsAdapter, root: Path) -> None:
    segment = await adapter.init_segment("up/load.bin", NO_OPTIONS)
    await adapter.write_segment(segment, 0, b"part")
    (root / ".name.aiostore-0123456789abcdef.tmp").write_bytes(b"stray")
    assert (root / ".aiostore-segments").is_dir()
    for recursive in (False, True):
        assert (await adapter.list_page("", recursive=recursive, page_size=10, token=None)).entries == []
    assert (await adapter.statistical()).count == 0
    for reserved in (".aiostore-segments/x", "d/.f.aiostore-0123456789abcdef.tmp"):
        with pytest.raises(InvalidPathError):
            await adapter.write_once(reserved, b"no", NO_OPTIONS)
    await adapter.abort_segment(segment)
    assert on_disk(root) == [".name.aiostore-0123456789abcdef.tmp"]


# -- metadata in xattrs, and the fallback ----------------------------------------------
@linux_xattrs
async def test_metadata_lives_in_xattrs(adapter: FsAdapter, root: Path) -> None:
    assert adapter.capabilities.user_metadata
    options = WriteOptions(content_type="text/x-test", metadata={"owner": "Ada"})
    await adapter.write_once("m.bin", b"m", options)
    assert os.getxattr(root / "m.bin", "user.aiostore.content_type") == b"text/x-test"
    await adapter.copy("m.bin", "copy.bin")
    found = await adapter.stat("copy.bin")
    assert (found.content_type, dict(found.metadata)) == ("text/x-test", {"owner": "Ada"})


async def test_without_xattrs_metadata_is_dropped_and_types_are_guessed(root: Path) -> None:
    adapter = FsAdapter(work_dir=root, xattrs=False)
    await adapter.open()
    assert not adapter.capabilities.user_metadata
    assert not adapter.capabilities.content_type
    options = WriteOptions(content_type="text/x-test", metadata={"owner": "Ada"})
    written = await adapter.write_once("notes.txt", b"n", options)
    found = await adapter.stat("notes.txt")
    assert (found.content_type, dict(found.metadata)) == ("text/plain", {})
    assert (written.content_type, dict(written.metadata)) == ("text/plain", {})
    assert os.listxattr(root / "notes.txt") == []


@linux_xattrs
async def test_probe_is_honest_on_a_file_system_without_user_xattrs(tmp_path: Path) -> None:
    assert probe(str(tmp_path / "not" / "created"))
    assert not probe("/proc/aiostore/none")  # procfs refuses user xattrs
    adapter = FsAdapter(work_dir="/proc/aiostore-none")
    await adapter.open()
    assert not adapter.capabilities.user_metadata


# -- etags, conditions and races ---------------------------------------------------------
async def test_if_match_refuses_a_changed_file(adapter: FsAdapter) -> None:
    first = await adapter.write_once("e.bin", b"one", NO_OPTIONS)
    assert first.etag == (await adapter.stat("e.bin")).etag
    await adapter.write_once("e.bin", b"two!", NO_OPTIONS)
    with pytest.raises(ConditionNotMetError):
        await adapter.open_read("e.bin", offset=0, size=None, if_match=first.etag)


async def test_twenty_concurrent_creators_have_one_winner(adapter: FsAdapter, root: Path) -> None:
    options = WriteOptions(if_not_exists=True)
    results = await asyncio.gather(
        *(adapter.write_once("race/x.bin", f"writer {i}".encode() * 1000, options) for i in range(20)),
        return_exceptions=True,
    )
    winners = [i for i, result in enumerate(results) if isinstance(result, Object)]
    assert len(winners) == 1
    assert all(isinstance(result, AlreadyExistsError) for result in results if not isinstance(result, Object))
    assert (root / "race" / "x.bin").read_bytes() == f"writer {winners[0]}".encode() * 1000
    assert on_disk(root) == ["race", "race/x.bin"]


async def test_error_mapping(adapter: FsAdapter) -> None:
    await adapter.write_once("f", b"file", NO_OPTIONS)
    with pytest.raises(InvalidPathError, match="in the way"):
        await adapter.write_once("f/x", b"", NO_OPTIONS)
    with pytest.raises(NotFoundError):
        await adapter.stat("f/x")
    with pytest.raises(InvalidPathError) as info:
        await adapter.write_once("n" * 300, b"", NO_OPTIONS)
    assert (info.value.op, info.value.adapter) == ("write", "fs")


# -- one thread hop per operation -----------------------------------------------------
class Hops:
    """Counts the jobs handed to the fs thread pool, and what ran on the loop's
    default executor instead (nothing should)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.submitted = 0
        real = _pool.Pool.submit

        def counting(pool: _pool.Pool, func: Any, args: tuple[Any, ...]) -> Any:
            self.submitted += 1
            return real(pool, func, args)

        monkeypatch.setattr(_pool.Pool, "submit", counting)
        self.default = CountingExecutor(max_workers=1)
        asyncio.get_running_loop().set_default_executor(self.default)


class CountingExecutor(ThreadPoolExecutor):
    submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
async def hops(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hops]:
    counter = Hops(monkeypatch)
    yield counter
    counter.default.shutdown(wait=True)


async def test_each_operation_is_one_thread_hop(adapter: FsAdapter, hops: Hops) -> None:
    for index in range(20):
        await adapter.write_once(f"many/{index:02d}.txt", b"x", NO_OPTIONS)
    assert hops.submitted == 20
    pages, token = 0, None
    while True:
        page = await adapter.list_page("many/", recursive=True, page_size=7, token=token)
        pages += 1
        if (token := page.next_token) is None:
            break
    assert (pages, hops.submitted) == (3, 23)
    await adapter.stat("many/00.txt")
    await adapter.read_bytes("many/00.txt", offset=0, size=None)
    await adapter.delete_many([f"many/{index:02d}.txt" for index in range(20)])
    assert hops.submitted == 26
    assert hops.default.submitted == 0  # all of it in the fs pool's threads

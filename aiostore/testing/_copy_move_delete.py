"""Copy, move and delete, including their edge cases: missing sources, replaced
destinations, and recursive deletes that must stop at the directory's edge."""

from __future__ import annotations

import pytest

from aiostore import InvalidArgumentError, InvalidPathError, NotFoundError, Store

from ._fixtures import Fixtures
from ._helpers import KiB, listing, payload, write_many

__all__ = ["CopyMoveDeleteTests"]


async def _transfer(s: Store, op: str, src: str, dst: str) -> None:
    if op == "copy":
        await s.copy(src, dst)
    else:
        await s.move(src, dst)


TRANSFERS = [
    pytest.param("copy", marks=pytest.mark.capability("copy")),
    pytest.param("move", marks=pytest.mark.capability("move")),
]


class CopyMoveDeleteTests(Fixtures):
    """``copy``, ``move`` and ``delete``."""

    @pytest.mark.capability("copy")
    async def test_copy(self, s: Store) -> None:
        data = payload(20 * KiB, seed=21)
        await s.write("src.bin", data)
        await s.copy("src.bin", "nested/dir/dst.bin")
        assert await s.read("nested/dir/dst.bin") == data
        assert await s.read("src.bin") == data
        assert (await s.stat("nested/dir/dst.bin")).size == len(data)
        await s.delete("src.bin")
        assert await s.read("nested/dir/dst.bin") == data, "a copy must not share fate with its source"
        await s.delete("nested/dir/dst.bin")

    @pytest.mark.capability("move")
    async def test_move(self, s: Store) -> None:
        data = payload(20 * KiB, seed=22)
        await s.write("src.bin", data)
        await s.move("src.bin", "nested/dst.bin")
        assert await s.read("nested/dst.bin") == data
        assert not await s.exists("src.bin")
        await s.delete("nested/dst.bin")

    @pytest.mark.parametrize("op", TRANSFERS)
    async def test_onto_existing_replaces_it(self, s: Store, op: str) -> None:
        await s.write("src.bin", b"short")
        await s.write("dst.bin", payload(10 * KiB, seed=23))
        await _transfer(s, op, "src.bin", "dst.bin")
        assert await s.read("dst.bin") == b"short"
        assert (await s.stat("dst.bin")).size == 5
        assert await s.exists("src.bin") == (op == "copy")
        await s.delete("src.bin")
        await s.delete("dst.bin")

    @pytest.mark.parametrize("op", TRANSFERS)
    @pytest.mark.parametrize("dst_exists", [False, True], ids=["no-dst", "dst-exists"])
    async def test_missing_source_is_not_found(self, s: Store, op: str, dst_exists: bool) -> None:
        if dst_exists:
            await s.write("dst.bin", b"keep me")
        with pytest.raises(NotFoundError) as info:
            await _transfer(s, op, "missing.bin", "dst.bin")
        assert isinstance(info.value, FileNotFoundError)
        if dst_exists:
            assert await s.read("dst.bin") == b"keep me"
            await s.delete("dst.bin")
        assert not await s.exists("dst.bin")
        assert not await s.exists("missing.bin")

    @pytest.mark.parametrize("op", TRANSFERS)
    async def test_onto_itself_keeps_the_object(self, s: Store, op: str) -> None:
        await s.write("same.bin", b"same")
        await _transfer(s, op, "same.bin", "same.bin")
        assert await s.read("same.bin") == b"same"
        await s.delete("same.bin")

    @pytest.mark.parametrize("op", TRANSFERS)
    async def test_empty_object(self, s: Store, op: str) -> None:
        await s.write("empty.bin", b"")
        await _transfer(s, op, "empty.bin", "copy/empty.bin")
        assert await s.read("copy/empty.bin") == b""
        assert (await s.stat("copy/empty.bin")).size == 0
        await s.delete("empty.bin")
        await s.delete("copy/empty.bin")

    async def test_delete(self, s: Store) -> None:
        await s.write("gone.bin", b"bye")
        await s.delete("gone.bin")
        assert not await s.exists("gone.bin")
        with pytest.raises(NotFoundError):
            await s.read("gone.bin")

    @pytest.mark.parametrize("path", ["missing.bin", "no/such/dir/missing.bin"])
    async def test_delete_missing_succeeds(self, s: Store, path: str) -> None:
        await s.delete(path)
        await s.delete(path)
        assert not await s.exists(path)

    async def test_delete_object_keeps_same_named_directory(self, s: Store) -> None:
        await s.write("a/x", b"x")
        await s.delete("a")
        assert await s.read("a/x") == b"x"
        await s.delete("a/x")

    @pytest.mark.parametrize("directory", ["a", "a/"])
    async def test_recursive_delete_stops_at_the_directory(self, s: Store, directory: str) -> None:
        # "ab" and "abc/x" rather than "ab/x": a file system cannot hold "ab" as file and directory
        await write_many(s, {"a/x": b"1", "a/deep/er/y": b"2", "ab": b"3", "abc/x": b"4", "a.txt": b"5"})
        await s.delete(directory, recursive=True)
        assert set(await listing(s, recursive=True)) == {"ab", "abc/x", "a.txt"}
        for path in ("ab", "abc/x", "a.txt"):
            await s.delete(path)

    async def test_recursive_delete_of_missing_directory_succeeds(self, s: Store) -> None:
        await s.write("keep.txt", b"keep")
        await s.delete("nowhere", recursive=True)
        assert await s.read("keep.txt") == b"keep"
        await s.delete("keep.txt")

    async def test_recursive_delete_of_many(self, s: Store) -> None:
        items = {f"tree/{index % 3}/{index:03d}": b"x" * index for index in range(60)}
        await write_many(s, {**items, "tree.txt": b"sibling"})
        await s.delete("tree", recursive=True)
        assert set(await listing(s, recursive=True)) == {"tree.txt"}
        await s.delete("tree.txt")

    async def test_delete_many(self, s: Store) -> None:
        # "gone/1" and "gone/10": deleting one key never takes another it prefixes
        odd = "gone/a&b <c> 'd' \"e\" ü+%20 ]]>.txt"  # escaped in an XML request body
        items = {"gone/1": b"1", "gone/10": b"2", "gone/sub/2": b"3", "keep/1": b"4", "gone.txt": b"5"}
        await write_many(s, {**items, odd: b"6"})
        await s.delete_many(["gone/1", "gone/sub/2", "gone/1", "gone.txt", "never/was.bin", odd])
        assert set(await listing(s, recursive=True)) == {"gone/10", "keep/1"}
        await s.delete_many(["gone/10", "keep/1"])
        assert await listing(s, recursive=True) == {}

    async def test_delete_many_checks_every_path_first(self, s: Store) -> None:
        await write_many(s, {"a.bin": b"a", "b.bin": b"b"})
        with pytest.raises(InvalidPathError):
            await s.delete_many(["a.bin", "b.bin", "../outside.bin"])
        assert set(await listing(s, recursive=True)) == {"a.bin", "b.bin"}
        with pytest.raises(InvalidArgumentError):
            await s.delete_many("a.bin")  # one path given as a string: never read as "a", ".", ...
        assert set(await listing(s, recursive=True)) == {"a.bin", "b.bin"}
        await s.delete_many([])
        await s.delete_many(path for path in ("a.bin", "b.bin"))
        assert await listing(s, recursive=True) == {}

    async def test_delete_many_in_a_scoped_view_stays_in_it(self, s: Store) -> None:
        await write_many(s, {"x.bin": b"outside", "sub/x.bin": b"inside"})
        await s.scoped("sub/").delete_many(["x.bin"])
        assert set(await listing(s, recursive=True)) == {"x.bin"}
        await s.delete("x.bin")

    async def test_delete_many_across_service_batches(self, s: Store) -> None:
        # 260 keys: more than one batch request on GCS (100) and Azure (256)
        keys = [f"many/{index:03d}" for index in range(260)]
        await write_many(s, dict.fromkeys(keys, b"x"), concurrency=16)
        await s.delete_many(keys[:259])
        assert set(await listing(s, recursive=True)) == {"many/259"}
        await s.delete("many/259")

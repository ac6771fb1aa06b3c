"""Listing: one level and recursive, directories, pages, and what must not show up."""

from __future__ import annotations

import pytest

from aiostore import Object, ObjectType, Store

from ._fixtures import Fixtures
from ._helpers import collect, listing, write_many

__all__ = ["ListingTests"]

TREE = {
    "a.txt": b"a",
    "b.txt": b"bb",
    "d/x": b"xxx",
    "d/y/z": b"zzzz",
    "d/y/w/v": b"vvvvv",
    "dd/x": b"x",
    "e/f": b"",
}
MANY = 55
PAGE = 7


def _many() -> dict[str, bytes]:
    items = {f"many/{index:03d}.txt": f"entry {index}".encode() for index in range(MANY)}
    items["many/sub/inner.txt"] = b"inner"
    return items


async def _pages(s: Store, directory: str, recursive: bool, page_size: int) -> list[list[Object]]:
    return [page async for page in s.list(directory, recursive=recursive, page_size=page_size).pages()]


class ListingTests(Fixtures):
    """``store.list`` and ``.pages()``."""

    async def test_one_level(self, s: Store) -> None:
        await write_many(s, TREE)
        found = await listing(s)
        assert set(found) == {"a.txt", "b.txt", "d/", "dd/", "e/"}
        for path in ("d/", "dd/", "e/"):
            assert found[path].type is ObjectType.DIR
            assert found[path].is_dir
        assert found["b.txt"].type is ObjectType.FILE
        assert found["b.txt"].size == 2
        await s.delete("", recursive=True)

    @pytest.mark.parametrize("directory", ["d", "d/"])
    async def test_one_level_of_a_directory(self, s: Store, directory: str) -> None:
        await write_many(s, TREE)
        found = await listing(s, directory)
        assert set(found) == {"d/x", "d/y/"}
        assert found["d/y/"].is_dir
        assert found["d/x"].size == 3
        assert set(await listing(s, "d/y")) == {"d/y/z", "d/y/w/"}
        await s.delete("", recursive=True)

    @pytest.mark.parametrize("directory", ["", "d", "d/", "d/y"])
    async def test_recursive(self, s: Store, directory: str) -> None:
        await write_many(s, TREE)
        found = await listing(s, directory, recursive=True)
        prefix = directory.rstrip("/") + "/" if directory else ""
        expected = {path: len(data) for path, data in TREE.items() if path.startswith(prefix)}
        assert {path: obj.size for path, obj in found.items()} == expected
        assert all(obj.type is ObjectType.FILE for obj in found.values())
        await s.delete("", recursive=True)

    @pytest.mark.parametrize("recursive", [False, True], ids=["one-level", "recursive"])
    @pytest.mark.parametrize("directory", ["nowhere", "nowhere/deeper/", "a.txt", "d/x"])
    async def test_missing_directory_lists_nothing(self, s: Store, directory: str, recursive: bool) -> None:
        await write_many(s, {"a.txt": b"a", "d/x": b"x"})
        assert await collect(s.list(directory, recursive=recursive)) == []
        await s.delete("a.txt")
        await s.delete("d/x")

    async def test_empty_store_lists_nothing(self, s: Store) -> None:
        assert await collect(s.list()) == []
        assert await collect(s.list(recursive=True)) == []
        assert await _pages(s, "", False, PAGE) == []

    async def test_prefix_siblings_are_not_children(self, s: Store) -> None:
        await write_many(s, {"a/x": b"1", "ab": b"2", "abc/x": b"3", "a.txt": b"4", "a-b/x": b"5"})
        assert set(await listing(s, "a", recursive=True)) == {"a/x"}
        assert set(await listing(s, "a")) == {"a/x"}
        assert set(await listing(s, "abc")) == {"abc/x"}
        await s.delete("", recursive=True)

    @pytest.mark.parametrize("recursive", [False, True], ids=["one-level", "recursive"])
    async def test_pages(self, s: Store, recursive: bool) -> None:
        items = _many()
        await write_many(s, items)
        pages = await _pages(s, "many", recursive, PAGE)
        paths = [obj.path for page in pages for obj in page]
        expected = (
            set(items) if recursive else {path for path in items if "/sub/" not in path} | {"many/sub/"}
        )
        assert len(pages) > 1, "a small page_size must give several pages"
        assert all(1 <= len(page) <= PAGE for page in pages), [len(page) for page in pages]
        assert len(paths) == len(set(paths)), "an entry was listed twice across pages"
        assert set(paths) == expected
        assert {obj.path async for obj in s.list("many", recursive=recursive, page_size=PAGE)} == expected
        await s.delete("many", recursive=True)

    async def test_page_size_one(self, s: Store) -> None:
        await write_many(s, {"p/1": b"1", "p/2": b"2", "p/3": b"3"})
        pages = await _pages(s, "p", True, 1)
        assert [len(page) for page in pages] == [1, 1, 1]
        assert sorted(page[0].path for page in pages) == ["p/1", "p/2", "p/3"]
        await s.delete("p", recursive=True)

    async def test_listing_sees_updates(self, s: Store) -> None:
        await s.write("u/one", b"1")
        assert set(await listing(s, "u")) == {"u/one"}
        await s.write("u/two", b"22")
        await s.write("u/one", b"111")
        found = await listing(s, "u")
        assert {path: obj.size for path, obj in found.items()} == {"u/one": 3, "u/two": 2}
        await s.delete("u/one")
        assert set(await listing(s, "u")) == {"u/two"}
        await s.delete("u/two")
        assert await listing(s, "u") == {}

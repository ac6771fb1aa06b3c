"""Path rules: what every operation refuses before any I/O, and names that must work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from aiostore import InvalidPathError, Store

from ._fixtures import Fixtures
from ._helpers import listing, payload, segments

__all__ = ["PathTests"]

Call = Callable[[], Awaitable[object]]

INVALID_OBJECT_PATHS = [
    pytest.param("", id="empty"),
    pytest.param("/a.txt", id="leading-slash"),
    pytest.param("a//b.txt", id="empty-segment"),
    pytest.param("..", id="dotdot"),
    pytest.param("a/../b.txt", id="dotdot-segment"),
    pytest.param("../escape.txt", id="dotdot-first"),
    pytest.param(".", id="dot"),
    pytest.param("a/./b.txt", id="dot-segment"),
    pytest.param("dir/", id="trailing-slash"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("a\nb", id="newline"),
    pytest.param("a\tb", id="tab"),
    pytest.param("a\x7fb", id="del"),
    pytest.param("a\\b.txt", id="backslash"),
    pytest.param("x" * 1025, id="1025-bytes"),
    pytest.param("é" * 513, id="1026-utf8-bytes"),
    pytest.param("a\udcffb", id="lone-surrogate"),
]

INVALID_DIR_PATHS = [
    pytest.param("/a", id="leading-slash"),
    pytest.param("a//b", id="empty-segment"),
    pytest.param("..", id="dotdot"),
    pytest.param("a/../b/", id="dotdot-segment"),
    pytest.param("./a", id="dot-segment"),
    pytest.param("a\x00/", id="nul"),
    pytest.param("d" * 1025, id="1025-bytes"),
]

VALID_NAMES = [
    pytest.param("ünï/日本/файл.txt", id="unicode"),
    pytest.param("with space.txt", id="space"),
    pytest.param("dir with space/file name.txt", id="space-dir"),
    pytest.param("hash#tag.txt", id="hash"),
    pytest.param("per%cent.txt", id="percent"),
    pytest.param("per%20cent.txt", id="percent-escape"),
    pytest.param("plus+sign.txt", id="plus"),
    pytest.param("question?.txt", id="question"),
    pytest.param("amp&eq=semi;comma,at@.txt", id="punctuation"),
    pytest.param("emoji-\U0001f389.txt", id="emoji"),
    pytest.param(".hidden", id="dotfile"),
    pytest.param("a..b/c...d", id="dots-in-names"),
    pytest.param("a/b/c/d/e/f/g/h.txt", id="deep"),
    pytest.param("n" * 200, id="200-bytes"),
]


async def _refuses(call: Call) -> bool:
    """True when ``call`` raises `InvalidPathError`; other errors propagate."""
    try:
        await call()
    except InvalidPathError:
        return True
    return False


async def _enter_reader(store: Store, path: str) -> None:
    async with store.reader(path) as reader:
        await reader.read()


async def _enter_writer(store: Store, path: str) -> None:
    async with store.writer(path) as writer:
        await writer.write(b"x")


async def _drain_list(store: Store, directory: str, recursive: bool) -> None:
    async for _ in store.list(directory, recursive=recursive):
        pass


def _object_calls(store: Store, path: str) -> dict[str, Call]:
    calls: dict[str, Call] = {
        "write": lambda: store.write(path, b"x"),
        "read": lambda: store.read(path),
        "stat": lambda: store.stat(path),
        "exists": lambda: store.exists(path),
        "delete": lambda: store.delete(path),
        "reader": lambda: _enter_reader(store, path),
        "writer": lambda: _enter_writer(store, path),
    }
    capabilities = store.metadata().capabilities
    if capabilities.copy:
        calls["copy-src"] = lambda: store.copy(path, "ok.txt")
        calls["copy-dst"] = lambda: store.copy("ok.txt", path)
    if capabilities.move:
        calls["move-src"] = lambda: store.move(path, "ok.txt")
        calls["move-dst"] = lambda: store.move("ok.txt", path)
    if capabilities.segments:
        calls["init_segment"] = lambda: store.init_segment(path)
    if capabilities.reach:
        calls["reach"] = lambda: store.reach(path)
    return calls


def _dir_calls(store: Store, directory: str) -> dict[str, Call]:
    calls: dict[str, Call] = {
        "list": lambda: _drain_list(store, directory, False),
        "list-recursive": lambda: _drain_list(store, directory, True),
        "delete-recursive": lambda: store.delete(directory, recursive=True),
    }
    if store.metadata().capabilities.list_segments:
        calls["list_segments"] = lambda: segments(store, directory)
    return calls


class PathTests(Fixtures):
    """Invalid paths are refused by every operation; unusual but valid names round-trip."""

    @pytest.mark.parametrize("path", INVALID_OBJECT_PATHS)
    async def test_invalid_object_path_is_refused(self, s: Store, path: str) -> None:
        accepted = [op for op, call in _object_calls(s, path).items() if not await _refuses(call)]
        assert accepted == [], f"{accepted} accepted {path!r}"
        assert await listing(s, recursive=True) == {}

    @pytest.mark.parametrize("directory", INVALID_DIR_PATHS)
    async def test_invalid_dir_path_is_refused(self, s: Store, directory: str) -> None:
        accepted = [op for op, call in _dir_calls(s, directory).items() if not await _refuses(call)]
        assert accepted == [], f"{accepted} accepted {directory!r}"

    async def test_invalid_path_error_names_the_path(self, s: Store) -> None:
        with pytest.raises(InvalidPathError) as info:
            await s.stat("a/../b")
        assert isinstance(info.value, ValueError)
        assert "a/../b" in str(info.value)

    @pytest.mark.parametrize("name", VALID_NAMES)
    async def test_valid_name_round_trips(self, s: Store, name: str) -> None:
        data = name.encode() + payload(64)
        written = await s.write(name, data)
        assert written.path == name
        assert (await s.stat(name)).path == name
        assert await s.read(name) == data
        assert set(await listing(s, recursive=True)) == {name}
        top, sep, _ = name.partition("/")
        assert set(await listing(s)) == {top + sep}
        await s.delete(name)
        assert not await s.exists(name)

    @pytest.mark.parametrize("directory", ["", "a", "a/", "a/b", "a/b/"])
    async def test_dir_forms_are_accepted(self, s: Store, directory: str) -> None:
        assert await listing(s, directory) == {}
        assert await listing(s, directory, recursive=True) == {}

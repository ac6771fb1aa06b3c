"""Property-based cases (hypothesis): generated keys round-trip unchanged, and
deleting a directory never deletes a sibling that merely shares its prefix."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiostore import InvalidPathError, Store

from ._fixtures import Fixtures
from ._helpers import listing

__all__ = ["PropertyTests", "path_segments", "valid_paths"]

# Letters, digits, punctuation and symbols from all of Unicode, plus space; no
# control characters, no surrogates, no "/" or "\\" (refused by the path rules).
_SEGMENT_CHARS = st.characters(
    categories=("L", "N", "P", "S", "Zs"),
    exclude_characters="/\\",
)


def path_segments() -> st.SearchStrategy[str]:
    """One path segment: 1-24 characters, never ``.`` or ``..``."""
    return st.text(_SEGMENT_CHARS, min_size=1, max_size=24).filter(lambda s: s not in (".", ".."))


def valid_paths() -> st.SearchStrategy[str]:
    """A valid object path of one to three segments."""
    return st.lists(path_segments(), min_size=1, max_size=3).map("/".join)


_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # each adapter class runs these methods with its own store: different executors are expected
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
)


class PropertyTests(Fixtures):
    """Generated keys, checked against the real store."""

    @_SETTINGS
    @given(path=valid_paths(), data=st.binary(max_size=64))
    async def test_generated_key_round_trips(self, s: Store, path: str, data: bytes) -> None:
        view = s.scoped(f"p{uuid.uuid4().hex[:8]}/")
        obj = await view.write(path, data)
        assert obj.path == path
        assert await view.read(path) == data
        assert (await view.stat(path)).path == path
        assert list(await listing(view, recursive=True)) == [path]
        await view.delete(path)
        assert not await listing(view, recursive=True)

    @_SETTINGS
    @given(base=path_segments(), suffix=path_segments())
    async def test_recursive_delete_spares_prefix_siblings(self, s: Store, base: str, suffix: str) -> None:
        view = s.scoped(f"p{uuid.uuid4().hex[:8]}/")
        sibling_file = base + suffix
        sibling_dir = f"{base}{suffix}x/child"
        await view.write(f"{base}/inner", b"1")
        await view.write(sibling_file, b"2")
        await view.write(sibling_dir, b"3")
        await view.delete(base, recursive=True)
        assert sorted(await listing(view, recursive=True)) == sorted([sibling_file, sibling_dir])
        await view.delete("", recursive=True)

    @_SETTINGS
    @given(bad=st.sampled_from(["..", ".", ""]), left=path_segments(), right=path_segments())
    async def test_dot_segments_anywhere_are_refused(self, s: Store, bad: str, left: str, right: str) -> None:
        for path in (f"{bad}/{right}", f"{left}/{bad}/{right}", f"{left}/{bad}"):
            try:
                await s.write(path, b"x")
            except InvalidPathError:
                continue
            raise AssertionError(f"{path!r} was accepted")
        assert not await listing(s, recursive=True)

"""What a store says about itself and its objects: metadata(), stat, exists, scoping,
content types, user metadata, if_not_exists and statistics."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from aiostore import (
    AlreadyExistsError,
    Capabilities,
    Limits,
    ObjectType,
    Statistics,
    StorageMeta,
    Store,
)

from ._fixtures import Fixtures
from ._helpers import payload

__all__ = ["AttributeTests"]

CONTENT_TYPE = "application/x-aiostore-test"
USER_METADATA = {"color": "blue", "owner42": "Ada Lovelace"}


async def _write_with(
    s: Store,
    via: str,
    path: str,
    data: bytes,
    *,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
    if_not_exists: bool = False,
) -> None:
    """Write through ``store.write`` or through ``store.writer`` in two pieces."""
    if via == "write":
        await s.write(path, data, content_type=content_type, metadata=metadata, if_not_exists=if_not_exists)
        return
    async with s.writer(
        path, content_type=content_type, metadata=metadata, if_not_exists=if_not_exists
    ) as writer:
        await writer.write(data[:10])
        await writer.write(data[10:])


class AttributeTests(Fixtures):
    """Object and store descriptions, and the write options that shape them."""

    async def test_metadata_describes_the_store(self, store: Store, s: Store) -> None:
        meta = store.metadata()
        assert not inspect.isawaitable(meta)
        assert isinstance(meta, StorageMeta)
        assert isinstance(meta.name, str)
        assert meta.adapter
        assert isinstance(meta.capabilities, Capabilities)
        assert isinstance(meta.limits, Limits)
        scoped = s.metadata()
        assert (scoped.adapter, scoped.capabilities, scoped.limits) == (
            meta.adapter,
            meta.capabilities,
            meta.limits,
        )

    async def test_limits_are_consistent(self, s: Store) -> None:
        limits = s.metadata().limits
        assert 1 <= limits.min_segment_size <= limits.max_segment_size
        assert limits.max_segments >= 1
        assert limits.max_single_write >= 1
        assert limits.max_page_size >= 1

    async def test_stat_describes_the_object(self, s: Store) -> None:
        before = datetime.now(UTC)
        written = await s.write("dir/stat.bin", payload(1234))
        found = await s.stat("dir/stat.bin")
        assert (found.path, found.size, found.type) == ("dir/stat.bin", 1234, ObjectType.FILE)
        assert not found.is_dir
        assert written.size == found.size
        assert isinstance(found.updated_at, datetime)
        assert found.updated_at.tzinfo is not None, "updated_at must be timezone-aware"
        slack = timedelta(minutes=10)
        assert before - slack <= found.updated_at <= datetime.now(UTC) + slack
        await s.delete("dir/stat.bin")

    async def test_exists(self, s: Store) -> None:
        assert not await s.exists("here.txt")
        await s.write("here.txt", b"here")
        assert await s.exists("here.txt")
        assert not await s.exists("here.tx")
        assert not await s.exists("here.txt.bak")
        await s.delete("here.txt")
        assert not await s.exists("here.txt")

    async def test_scoped_paths_are_relative(self, store: Store, s: Store, prefix: str) -> None:
        await s.write("a/b.txt", b"scoped")
        assert (await store.stat(prefix + "a/b.txt")).path == prefix + "a/b.txt"
        assert await store.read(prefix + "a/b.txt") == b"scoped"
        inner = s.scoped("a/")
        assert (await inner.stat("b.txt")).path == "b.txt"
        assert [obj.path async for obj in inner.list()] == ["b.txt"]
        assert [obj.path async for obj in s.list(recursive=True)] == ["a/b.txt"]
        await inner.delete("b.txt")
        assert not await s.exists("a/b.txt")

    @pytest.mark.capability("content_type")
    @pytest.mark.parametrize("via", ["write", "writer"])
    async def test_content_type_round_trips(self, s: Store, via: str) -> None:
        await _write_with(s, via, "typed.bin", payload(100), content_type=CONTENT_TYPE)
        assert (await s.stat("typed.bin")).content_type == CONTENT_TYPE
        await s.delete("typed.bin")

    @pytest.mark.capability("user_metadata")
    @pytest.mark.parametrize("via", ["write", "writer"])
    async def test_user_metadata_round_trips(self, s: Store, via: str) -> None:
        await _write_with(s, via, "meta.bin", payload(100), metadata=USER_METADATA)
        assert dict((await s.stat("meta.bin")).metadata) == USER_METADATA
        await s.delete("meta.bin")

    @pytest.mark.capability("user_metadata")
    async def test_overwrite_replaces_metadata(self, s: Store) -> None:
        await s.write("meta.bin", b"first", metadata={"color": "blue"})
        await s.write("meta.bin", b"second", metadata={"shape": "round"})
        assert dict((await s.stat("meta.bin")).metadata) == {"shape": "round"}
        await s.delete("meta.bin")

    @pytest.mark.capability("if_not_exists")
    @pytest.mark.parametrize("via", ["write", "writer"])
    async def test_if_not_exists_refuses_existing(self, s: Store, via: str) -> None:
        await _write_with(s, via, "once.bin", b"first version", if_not_exists=True)
        with pytest.raises(AlreadyExistsError) as info:
            await _write_with(s, via, "once.bin", b"second version", if_not_exists=True)
        assert isinstance(info.value, FileExistsError)
        assert await s.read("once.bin") == b"first version"
        await s.delete("once.bin")

    @pytest.mark.capability("statistical")
    async def test_statistical_counts_the_scope(self, s: Store) -> None:
        assert await s.statistical() == Statistics(count=0, size=0)
        await s.write("outer.bin", payload(10))
        inner = s.scoped("inner/")
        await inner.write("x.bin", payload(100))
        await inner.write("deep/y.bin", b"")
        assert await inner.statistical() == Statistics(count=2, size=100)
        assert await s.statistical() == Statistics(count=3, size=110)
        await s.delete("outer.bin")
        await s.delete("inner", recursive=True)
        assert await s.statistical() == Statistics(count=0, size=0)

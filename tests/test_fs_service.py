"""fs options, URL forms and the service (storagers are sub-directories)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import aiostore
from aiostore import (
    AlreadyExistsError,
    InvalidArgumentError,
    StorageError,
    StoragerNotFoundError,
)
from aiostore.fs import FsOptions, url_options


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("fs:///srv/data", {"work_dir": "/srv/data"}),
        ("file:///srv/data", {"work_dir": "/srv/data"}),
        ("file://localhost/srv/data", {"work_dir": "/srv/data"}),
        ("fs://relative/dir", {"work_dir": "relative/dir"}),
        ("fs:///srv/with%20space?fsync=true", {"work_dir": "/srv/with space", "fsync": "true"}),
        ("fs://", {}),
    ],
)
def test_url_options(url: str, expected: dict[str, str]) -> None:
    assert url_options(url) == expected


def test_url_options_refuse_a_remote_file_url() -> None:
    with pytest.raises(InvalidArgumentError):
        url_options("file://server/share")


def test_option_parsing() -> None:
    parsed = FsOptions.parse({"work_dir": "/x", "fsync": "yes", "chunk_size": "4096", "xattrs": "off"})
    assert (parsed.work_dir, parsed.fsync, parsed.chunk_size, parsed.xattrs) == ("/x", True, 4096, False)
    for bad in ({"nope": 1}, {"chunk_size": 0}, {"fsync": "maybe"}, {"work_dir": ""}):
        with pytest.raises(InvalidArgumentError):
            FsOptions.parse(bad)


async def test_every_way_to_connect_names_the_same_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    stores = [
        aiostore.connect(f"fs://{tmp_path}/data"),
        aiostore.connect(f"file://{tmp_path}/data"),
        aiostore.connect("fs", work_dir=tmp_path / "data"),
        aiostore.connect("fs", work_dir="data"),  # relative: resolved once, now
        aiostore.connect("fs://data"),
    ]
    monkeypatch.chdir("/")
    for store in stores:
        async with store:
            meta = store.metadata()
            assert (meta.name, meta.work_dir, meta.adapter) == ("data", str(tmp_path / "data"), "fs")
            await store.write(f"{id(store)}.txt", b"x")
    assert len(os.listdir(tmp_path / "data")) == len(stores)


async def test_unknown_options_are_refused_at_connect() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown option"):
        aiostore.connect("fs", work_dir="/tmp", bucket="nope")


async def test_service_manages_sub_directories(tmp_path: Path) -> None:
    async with aiostore.service("fs", work_dir=tmp_path / "svc") as svc:
        assert [info async for info in svc.list()] == []
        photos = await svc.create("photos")
        await svc.create("docs")
        with pytest.raises(AlreadyExistsError):
            await svc.create("docs")
        (tmp_path / "svc" / ".hidden").mkdir()
        assert [info.name async for info in svc.list()] == ["docs", "photos"]
        await photos.write("cat.jpg", b"meow")
        assert (tmp_path / "svc" / "photos" / "cat.jpg").read_bytes() == b"meow"
        scoped = await svc.get("photos", work_dir="2024/")
        await scoped.write("dog.jpg", b"woof")
        meta = scoped.metadata()
        assert (meta.name, meta.work_dir) == ("photos", "2024/")
        assert (tmp_path / "svc" / "photos" / "2024" / "dog.jpg").read_bytes() == b"woof"
        with pytest.raises(StorageError, match="not empty"):
            await svc.delete("photos")
        await photos.delete("", recursive=True)
        await svc.delete("photos")
        with pytest.raises(StoragerNotFoundError):
            await svc.delete("photos")
        with pytest.raises(StoragerNotFoundError):
            await svc.get("photos")
        for bad in ("", "a/b", "..", ".hidden"):
            with pytest.raises(InvalidArgumentError):
                await svc.create(bad)
        assert sorted(os.listdir(tmp_path / "svc")) == [".hidden", "docs"]


async def test_service_does_not_follow_a_storager_symlink_outside(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "svc" / "escape").symlink_to(tmp_path / "elsewhere")
    async with aiostore.service(f"fs://{tmp_path}/svc") as svc:
        assert [info.name async for info in svc.list()] == []
        with pytest.raises(aiostore.PermissionDeniedError):
            await svc.get("escape")

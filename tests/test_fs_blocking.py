"""The fs adapter's blocking helpers on their fast paths: `describe` fills an
`Object`'s slots directly, `write_all` writes in one call unless the kernel takes
less, and `Root.create_exclusive` makes missing parents."""

from __future__ import annotations

import array
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aiostore import Object, ObjectType
from aiostore.fs._atomic import write_all
from aiostore.fs._meta import Meta, describe
from aiostore.fs._root import Root


@pytest.mark.parametrize(
    ("meta", "content_type", "metadata"),
    [
        (None, None, {}),  # a listing: the type is left unknown
        ((None, {}), "text/plain", {}),  # nothing stored: guessed from the name
        (("image/png", {"k": "v"}), "image/png", {"k": "v"}),
    ],
)
def test_describe_equals_an_object_built_the_usual_way(
    tmp_path: Path, meta: Meta | None, content_type: str | None, metadata: dict[str, str]
) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"12345")
    st = os.stat(path)
    expected = Object(
        path="a/f.txt",
        type=ObjectType.FILE,
        size=5,
        updated_at=datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=st.st_mtime_ns // 1000),
        content_type=content_type,
        etag=f"{st.st_mtime_ns:x}-5",
        metadata=metadata,
    )
    obj = describe("a/f.txt", st, meta)
    assert obj == expected  # every field set (an empty slot would raise here)
    assert repr(obj) == repr(expected)
    assert hash(obj) == hash(expected)
    with pytest.raises(AttributeError):
        obj.size = 1  # type: ignore[misc]  # still frozen


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 40,
        bytearray(b"x" * 10_000),
        memoryview(array.array("I", range(2_500))),  # 4-byte items: len() is not the byte count
    ],
)
def test_write_all_finishes_a_short_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes | bytearray | memoryview
) -> None:
    real_write = os.write
    calls: list[int] = []

    def short_write(fd: int, chunk: bytes | memoryview) -> int:
        calls.append(1)
        return real_write(fd, memoryview(chunk).cast("B")[:3000])

    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        monkeypatch.setattr(os, "write", short_write)
        write_all(fd, data)
        monkeypatch.undo()
    finally:
        os.close(fd)
    expected = memoryview(data).cast("B").tobytes()
    assert (tmp_path / "out").read_bytes() == expected
    assert len(calls) == -(-len(expected) // 3000)


def test_create_exclusive_makes_the_missing_parents(tmp_path: Path) -> None:
    root = Root(str(tmp_path / "root"))
    fd = root.create_exclusive(os.path.join(root.real, "a", "b", "c.tmp"))
    os.close(fd)
    assert (tmp_path / "root" / "a" / "b" / "c.tmp").is_file()
    with pytest.raises(FileExistsError):
        root.create_exclusive(os.path.join(root.real, "a", "b", "c.tmp"))
    (tmp_path / "root" / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):  # a file in the way of a parent
        root.create_exclusive(os.path.join(root.real, "file", "d.tmp"))

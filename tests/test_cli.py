"""The ``aiostore`` command, end to end through its entry points, plus its pure helpers.

The end-to-end tests run ``python -m aiostore.cli`` (and once the installed
``aiostore`` script) as subprocesses against the fs adapter under ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

import aiostore
from aiostore.cli import main
from aiostore.cli._copy import copy_one, make_plan, run_jobs
from aiostore.cli._format import format_long, format_size, relative_name
from aiostore.cli._locations import StorePool, basename, dir_of, parse_location
from aiostore.cli._progress import Transfer
from aiostore.testing.servers.seaweedfs import S3Server

SCRIPT = Path(sys.executable).parent / "aiostore"
BIG_SIZE = 3 * 1024 * 1024 + 17
UNICODE_NAME = "ünïcödé ✓.txt"
FILES = {
    "a.txt": b"hello\n",
    "empty.bin": b"",
    "big.bin": random.Random(7).randbytes(BIG_SIZE),
    "nested/deeper/leaf.txt": b"leaf",
    f"nested/{UNICODE_NAME}": "dåta ✓".encode(),
}


def cli(*args: str, cwd: Path | None = None, script: bool = False) -> subprocess.CompletedProcess[bytes]:
    """Run the command as a user would; warnings about leaked resources reach stderr."""
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "aiostore.cli"]
    env = {**os.environ, "PYTHONWARNINGS": "always::ResourceWarning"}
    return subprocess.run([*command, *args], capture_output=True, cwd=cwd, env=env, timeout=120, check=False)


def ok(*args: str, cwd: Path | None = None, script: bool = False) -> str:
    """Run a command that must succeed quietly; its stdout as text."""
    done = cli(*args, cwd=cwd, script=script)
    assert (done.returncode, done.stderr.decode()) == (0, ""), args
    return done.stdout.decode()


def fails(*args: str, status: int = 1) -> str:
    """Run a command that must fail with one ``aiostore: error:`` line; that line."""
    done = cli(*args)
    assert done.returncode == status, (args, done.stderr)
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("aiostore: error: "), lines
    return lines[0]


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def make_tree(root: Path) -> Path:
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def upload(base: Path) -> str:
    """The tree copied with ``cp -r`` from a relative path to an ``fs://`` + $PWD URL."""
    make_tree(base / "src")
    url = f"fs://{base}/.demo-store/data"
    ok("cp", "-r", "src", url, cwd=base)
    return url


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store of the tree for one test, which may change it."""
    return upload(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store of the tree shared by the tests that only read it."""
    return upload(tmp_path_factory.mktemp("shared"))


# -- end to end ---------------------------------------------------------------


def local(url: str) -> Path:
    return Path(url.removeprefix("fs://"))


def test_cp_recursive_keeps_the_layout(shared: str) -> None:
    assert read_tree(local(shared)) == FILES
    listed = ok("ls", "-r", shared).splitlines()
    assert sorted(listed) == sorted(FILES)


def test_ls_one_level_names_files_and_dirs(shared: str) -> None:
    assert sorted(ok("ls", shared).splitlines()) == ["a.txt", "big.bin", "empty.bin", "nested/"]
    assert sorted(ok("ls", shared + "/nested/").splitlines()) == sorted(["deeper/", UNICODE_NAME])
    assert ok("ls", shared + "/a.txt") == "a.txt\n"


def test_ls_long_shows_size_time_and_type(shared: str) -> None:
    rows = {line.split()[-1]: line.split() for line in ok("ls", "-l", shared).splitlines()}
    size, updated, kind, _ = rows["big.bin"]
    assert (int(size), kind) == (BIG_SIZE, "file")
    assert datetime.fromisoformat(updated).year >= 2024
    assert rows["empty.bin"][0] == "0"
    assert rows["nested/"][2] == "dir"
    human = ok("ls", "-l", "-h", "-r", shared)
    assert "3.0 MiB" in human
    assert f"nested/{UNICODE_NAME}" in human


def test_cat_streams_exact_bytes(shared: str) -> None:
    assert cli("cat", shared + "/big.bin").stdout == FILES["big.bin"]
    both = cli("cat", f"{shared}/nested/{UNICODE_NAME}", shared + "/a.txt").stdout
    assert both == FILES[f"nested/{UNICODE_NAME}"] + b"hello\n"
    assert cli("cat", shared + "/empty.bin").stdout == b""


def test_stat_prints_key_value_lines(shared: str) -> None:
    lines = ok("stat", shared + "/big.bin").splitlines()
    fields = dict(line.split(": ", 1) for line in lines)
    assert fields["type"] == "file"
    assert fields["size"] == str(BIG_SIZE)
    assert fields["path"] == f"{local(shared)}/big.bin"
    assert datetime.fromisoformat(fields["updated_at"]).tzinfo is not None
    directory = dict(line.split(": ", 1) for line in ok("stat", shared + "/nested").splitlines())
    assert (directory["type"], directory["path"]) == ("dir", f"{local(shared)}/nested/")


def test_du_counts_and_sums(shared: str) -> None:
    size, count, location = ok("du", shared).rstrip("\n").split("\t")
    assert (int(size), count, location) == (sum(map(len, FILES.values())), "5 objects", shared)
    nested = ok("du", shared + "/nested/").split("\t")
    nested_size = sum(len(data) for name, data in FILES.items() if name.startswith("nested/"))
    assert (nested[0], nested[1]) == (str(nested_size), "2 objects")
    assert ok("du", "-h", shared).startswith("3.0 MiB\t")


def test_mv_and_rm(tmp_path: Path, store: str) -> None:
    ok("mv", store + "/a.txt", store + "/renamed.txt")
    ok("mv", store + "/nested", store + "/moved")
    root = tmp_path / ".demo-store" / "data"
    assert (root / "renamed.txt").read_bytes() == b"hello\n"
    assert not (root / "a.txt").exists()
    assert read_tree(root / "moved") == {k[7:]: v for k, v in FILES.items() if k.startswith("nested/")}
    assert sorted(ok("ls", store).splitlines()) == ["big.bin", "empty.bin", "moved/", "renamed.txt"]
    ok("rm", "-r", store + "/moved")
    ok("rm", store + "/empty.bin")
    assert sorted(ok("ls", store).splitlines()) == ["big.bin", "renamed.txt"]
    assert "no such file" in fails("rm", store + "/empty.bin")
    ok("rm", "-f", store + "/empty.bin")


def test_cp_back_out_through_the_installed_script(tmp_path: Path, store: str) -> None:
    out = tmp_path / "out"
    ok("cp", "-r", store, str(out), script=True)
    assert read_tree(out) == FILES
    ok("cp", f"{store}/nested/{UNICODE_NAME}", f"{out}/", script=True)
    assert (out / UNICODE_NAME).read_bytes() == FILES[f"nested/{UNICODE_NAME}"]


def test_cp_file_into_or_onto(tmp_path: Path, store: str) -> None:
    ok("cp", store + "/a.txt", store + "/nested")  # an existing directory: into it
    ok("cp", store + "/a.txt", store + "/fresh/")  # a trailing slash: into it
    ok("cp", store + "/a.txt", store + "/copy.txt")  # anything else: onto it
    root = tmp_path / ".demo-store" / "data"
    for copy in ("nested/a.txt", "fresh/a.txt", "copy.txt"):
        assert (root / copy).read_bytes() == b"hello\n"


def test_readme_flow_with_fs_urls(tmp_path: Path, source: Path) -> None:
    ok("cp", "-r", "src", f"fs://{tmp_path}/.demo-store/docs", cwd=tmp_path)
    listing = ok("ls", "-l", "-r", f"fs://{tmp_path}/.demo-store", cwd=tmp_path)
    assert f"docs/nested/{UNICODE_NAME}" in listing
    assert cli("cat", f"fs://{tmp_path}/.demo-store/docs/a.txt").stdout == b"hello\n"
    assert cli("cat", f"file://localhost{tmp_path}/.demo-store/docs/a.txt").stdout == b"hello\n"


def test_progress_forced_on_without_a_terminal(tmp_path: Path, source: Path) -> None:
    done = cli("cp", "--progress", str(source / "big.bin"), str(tmp_path / "copy.bin"))
    assert done.returncode == 0, done.stderr
    assert "1/1 files" in done.stderr.decode()
    assert (tmp_path / "copy.bin").read_bytes() == FILES["big.bin"]
    quiet = cli("cp", "--no-progress", str(source / "a.txt"), str(tmp_path / "quiet.txt"))
    assert (quiet.returncode, quiet.stderr) == (0, b"")


def test_errors_are_one_line(tmp_path: Path, shared: str) -> None:
    assert f"{tmp_path}/missing.txt" in fails("cat", str(tmp_path / "missing.txt"))
    unknown = fails("ls", "nope://x")
    assert "available" in unknown
    assert "fs" in unknown
    assert "support" in fails("url", shared + "/a.txt").lower()


def test_bad_usage_exits_2() -> None:
    done = cli("cp", "only-one")
    assert done.returncode == 2
    assert b"usage: aiostore cp" in done.stderr


# -- end to end against S3 (SeaweedFS): streaming between two stores ---------


async def _bucket(options: dict[str, Any], bucket: str, *, create: bool) -> None:
    async with aiostore.service("s3", **options) as service:
        if create:
            await service.create(bucket)
            return
        store = await service.get(bucket)
        await store.delete("", recursive=True)
        await service.delete(bucket)


@pytest.fixture
def s3(seaweedfs_server: S3Server) -> Iterator[Callable[[str], str]]:
    """``s3("dir/a.txt")`` gives that object's URL in a fresh bucket, options in the query."""
    pytest.importorskip("aiostore_s3")
    options: dict[str, Any] = {
        "endpoint": seaweedfs_server.endpoint,
        "access_key_id": seaweedfs_server.access_key,
        "secret_access_key": seaweedfs_server.secret_key,
        "region": seaweedfs_server.region,
        "profile": "seaweedfs",
    }
    bucket = f"aiostore-cli-{uuid.uuid4().hex[:10]}"
    asyncio.run(_bucket(options, bucket, create=True))
    yield lambda path: f"s3://{bucket}/{path}?{urlencode(options)}"
    asyncio.run(_bucket(options, bucket, create=False))


def in_process(capsys: pytest.CaptureFixture[bytes], *args: str) -> bytes:
    """Run ``main`` here (cheaper than a process once the adapter is imported); its stdout."""
    status = main(list(args))
    out, err = capsys.readouterr()
    assert (status, err) == (0, b""), args
    return out


def test_s3_round_trip(
    tmp_path: Path, source: Path, s3: Callable[[str], str], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    upload = cli("cp", "-r", "--progress", str(source), s3("data/"))
    assert upload.returncode == 0, upload.stderr
    assert "5/5 files" in upload.stderr.decode()
    listed = in_process(capsysbinary, "ls", "-r", s3("data/")).decode().splitlines()
    assert sorted(listed) == sorted(FILES)
    assert in_process(capsysbinary, "cat", s3("data/big.bin")) == FILES["big.bin"]
    link = in_process(capsysbinary, "url", "--expires", "60", s3("data/big.bin")).decode().strip()
    with urllib.request.urlopen(link) as response:
        assert response.read() == FILES["big.bin"]
    in_process(capsysbinary, "mv", s3("data/a.txt"), str(tmp_path / "moved.txt"))
    assert (tmp_path / "moved.txt").read_bytes() == FILES["a.txt"]
    in_process(capsysbinary, "cp", "-r", s3("data/"), str(tmp_path / "out"))
    assert read_tree(tmp_path / "out") == {k: v for k, v in FILES.items() if k != "a.txt"}
    missing = fails("cp", s3("data/a.txt"), str(tmp_path))
    assert "secret_access_key=***" in missing
    assert s3("").split("secret_access_key=")[1].split("&")[0] not in missing


# -- in process: refusals, usage, streaming between two stores -----------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["cp", "{root}/missing.txt", "{root}/x"], "no such file"),
        (["cp", "{store}", "{root}/x"], "is a directory (use -r)"),
        (["rm", "{store}"], "is a directory (use -r)"),
        (["cp", "-r", "{store}", "{store}/nested/inner"], "into itself"),
        (["cp", "-r", "{store}/nested", "{store}/a.txt"], "is a file, not a directory"),
        (["cp", "{store}/a.txt", "{store}/a.txt"], "are the same file"),
        (["ls", "fs:///tmp?bogus=1"], "bogus"),
    ],
)
def test_refusals(
    tmp_path: Path, shared: str, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert main([arg.format(root=tmp_path, store=shared) for arg in args]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("aiostore: error: ")
    assert expected in err[0]


@pytest.mark.parametrize(
    "args", [["frobnicate"], [], ["ls", "--jobs", "3", "x"], ["url", "--expires", "0", "x"]]
)
def test_main_returns_usage_status(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert main(args) == 2
    assert "usage: aiostore" in capsys.readouterr().err


def test_main_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "aiostore 0.1.0" in capsys.readouterr().out
    assert main(["du", "--help"]) == 0
    assert "--human-readable" in capsys.readouterr().out


async def test_copy_between_stores_streams_with_progress() -> None:
    data = random.Random(3).randbytes(2 * 1024 * 1024 + 5)
    src, dst = parse_location("memory://one/src/"), parse_location("memory://two/dst/")
    async with StorePool() as pool:
        await (await pool.open(src)).write("src/sub/blob.bin", data)
        await (await pool.open(src)).write("src/small.txt", b"small")
        plan = await make_plan(pool, src, dst, recursive=True, verb="cp")
        assert not plan.same_store
        assert plan.total == len(data) + 5
        with Transfer(enabled=False, label="cp", files=2, total=plan.total) as transfer:
            await run_jobs(plan.jobs, lambda job: copy_one(plan, job, transfer), 2)
        target = await pool.open(dst)
        assert await target.read("dst/sub/blob.bin") == data
        assert await target.read("dst/small.txt") == b"small"


async def test_copy_of_a_vanished_object_leaves_nothing() -> None:
    src, dst = parse_location("memory://one/gone.txt"), parse_location("memory://two/x.txt")
    async with StorePool() as pool:
        await (await pool.open(src)).write("gone.txt", b"soon gone")
        plan = await make_plan(pool, src, dst, recursive=False, verb="cp")
        await plan.src.delete("gone.txt")
        transfer = Transfer(enabled=False, label="cp", files=1, total=9)
        with pytest.raises(aiostore.NotFoundError):
            await copy_one(plan, plan.jobs[0], transfer)
        assert not await plan.dst.exists("x.txt")


# -- pure helpers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target", "path"),
    [
        ("docs/a.txt", "fs", "work/docs/a.txt"),
        ("docs/", "fs", "work/docs/"),
        ("/", "fs", ""),
        ("fs:///srv/x/", "fs", "srv/x/"),
        ("file://localhost/srv/x", "fs", "srv/x"),
        ("fs://rel/x", "fs", "work/rel/x"),
        ("s3://bucket/dir/a%20b.txt", "s3://bucket", "dir/a b.txt"),
        ("memory://", "memory://", ""),
    ],
)
def test_parse_location(text: str, target: str, path: str) -> None:
    location = parse_location(text, cwd="/work")
    assert (location.target, location.path) == (target, path)


def test_parse_location_options() -> None:
    location = parse_location("s3://b/k?profile=seaweedfs&endpoint=http://127.0.0.1:9000")
    assert location.options == (("endpoint", "http://127.0.0.1:9000"), ("profile", "seaweedfs"))
    assert parse_location("/a").options == (("work_dir", "/"),)
    assert parse_location("/a").store_key == parse_location("fs:///b").store_key


def test_format_helpers() -> None:
    sizes = [format_size(n, human=True) for n in (0, 512, 1536, 3 * 1024**2)]
    assert sizes == ["0 B", "512 B", "1.5 KiB", "3.0 MiB"]
    assert (format_size(None), format_size(10)) == ("-", "10")
    assert relative_name("a/b/c.txt", "a/") == "b/c.txt"
    assert (basename("a/b/"), basename("c.txt"), dir_of("a"), dir_of("")) == ("b", "c.txt", "a/", "")
    line = format_long(aiostore.Object("d/x", size=3), "x")
    assert line.split() == ["3", "-", "file", "x"]

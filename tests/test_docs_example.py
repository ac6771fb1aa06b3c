"""The aiohttp example in docs/ runs: upload and download stream through a store."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp.test_utils import TestClient, TestServer

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "aiohttp_app.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aiohttp_app_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def body(data: bytes, chunk: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


@pytest.mark.parametrize("kind", ["memory", "fs"])
async def test_example_streams_upload_and_download(tmp_path: Path, kind: str) -> None:
    example = load_example()
    data = os.urandom(3 * 1024 * 1024 + 17)
    app = example.make_app("memory://" if kind == "memory" else f"fs://{tmp_path}")
    async with TestClient(TestServer(app)) as client:
        put = await client.put("/files/dir/blob.bin", data=body(data, 65536))
        assert put.status == 201
        assert (await put.json())["size"] == len(data)
        got = await client.get("/files/dir/blob.bin")
        assert got.status == 200
        assert got.headers["Content-Length"] == str(len(data))
        assert hashlib.sha256(await got.read()).digest() == hashlib.sha256(data).digest()
        missing = await client.get("/files/nope.bin")
        assert missing.status == 404
        bad = await client.get("/files/a//b")
        assert bad.status == 400

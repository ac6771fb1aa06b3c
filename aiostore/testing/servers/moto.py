"""moto's standalone server as a second, in-memory S3 implementation.

moto checks no signatures, presigned-URL expiry or checksums; any credentials work.

Example:
    with moto(tmp_path) as s3:
        ...
        reset(s3)  # forget every bucket
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._process import ManagedProcess, Probe, free_port, request
from .seaweedfs import S3Server

__all__ = ["find_moto_server", "moto", "reset"]


def find_moto_server() -> Path:
    """Locate the ``moto_server`` script: next to the interpreter first, then on PATH."""
    local = Path(sys.executable).parent / "moto_server"
    if local.is_file():
        return local
    on_path = shutil.which("moto_server")
    if on_path:
        return Path(on_path)
    raise RuntimeError("'moto_server' not found: pip install 'moto[server]'")


def reset(server: S3Server) -> None:
    """Drop all state held by the moto server (``POST /moto-api/reset``)."""
    status = request(f"{server.endpoint}/moto-api/reset", method="POST", data=b"")
    if status != 200:
        raise RuntimeError(f"moto reset answered HTTP {status}")


@contextmanager
def moto(data_dir: Path, *, startup_timeout: float = 60.0) -> Iterator[S3Server]:
    """Run ``moto_server`` on a fresh port (log under ``data_dir``); yield its S3 endpoint."""
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="moto-", dir=data_dir))
    port = free_port()
    server = S3Server(f"http://127.0.0.1:{port}", "testing", "testing")
    argv = [str(find_moto_server()), "-H", "127.0.0.1", "-p", str(port)]
    proc = ManagedProcess("moto", argv, run_dir)
    try:
        proc.start()
        proc.wait_ready(Probe(f"{server.endpoint}/moto-api/", frozenset({200})), startup_timeout)
        yield dataclasses.replace(server, pid=proc.pid)
    finally:
        proc.stop()

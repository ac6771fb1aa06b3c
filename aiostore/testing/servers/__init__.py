"""Launchers for real local storage servers used by aiostore's tests (stdlib only).

Each launcher is a context manager that starts one server on fresh ports in its own
directory, waits until it answers, yields what a client needs, and stops it.

Example:
    with seaweedfs(tmp_path) as s3:
        print(s3.endpoint, s3.access_key)

The pytest fixtures live in ``aiostore.testing.servers.fixtures`` (load it with ``-p``).
"""

from ._process import ManagedProcess, Probe, free_port
from .azurite import DEV_ACCOUNT, DEV_KEY, AzureServer, azurite, find_azurite_main
from .fakegcs import GCSServer, fake_gcs, find_fake_gcs_server
from .moto import find_moto_server, moto, reset
from .seaweedfs import S3Server, find_weed, seaweedfs

__all__ = [
    "DEV_ACCOUNT",
    "DEV_KEY",
    "AzureServer",
    "GCSServer",
    "ManagedProcess",
    "Probe",
    "S3Server",
    "azurite",
    "fake_gcs",
    "find_azurite_main",
    "find_fake_gcs_server",
    "find_moto_server",
    "find_weed",
    "free_port",
    "moto",
    "reset",
    "seaweedfs",
]

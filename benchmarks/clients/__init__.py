"""The benchmarked clients: one module each, imported only inside the worker that uses it.

Example:
    >>> missing_modules("obstore", "s3")
    []
"""

from __future__ import annotations

import importlib
import importlib.util

from ..job import Job
from .base import Client, Listed, Sink, Unsupported

__all__ = ["CLIENTS", "TARGET_CLIENTS", "Client", "Listed", "Sink", "Unsupported", "make_client"]

#: client name -> module under benchmarks.clients
CLIENTS = {
    "aiostore": "aiostore_client",
    "obstore": "obstore_client",
    "opendal": "opendal_client",
    "s3fs": "s3fs_client",
    "aioboto3": "aioboto3_client",
    "aiobotocore": "aiobotocore_client",
    "aiohttp": "aiohttp_client",
    "os": "os_client",
}

#: which clients run against which target, in the report's row order
TARGET_CLIENTS = {
    "s3": ("aiostore", "obstore", "opendal", "s3fs", "aioboto3", "aiobotocore", "aiohttp"),
    "fs": ("aiostore", "os", "obstore"),
    "memory": ("aiostore",),
    "gcs": ("aiostore",),
    "azure": ("aiostore",),
    "moto": ("aiostore",),
}

#: the import modules a (client, target) needs; the aiostore ones depend on the target
_AIOSTORE_MODULES = {
    "s3": "aiostore_s3",
    "gcs": "aiostore_gcs",
    "azure": "aiostore_azblob",
    "fs": "aiostore.fs",
    "memory": "aiostore.memory",
    "moto": "aiostore_s3",
}
_PEER_MODULES = {
    "obstore": ("obstore",),
    "opendal": ("opendal",),
    "s3fs": ("s3fs",),
    "aioboto3": ("aioboto3",),
    "aiobotocore": ("aiobotocore",),
    "aiohttp": ("aiohttp", "botocore"),
    "os": (),
}


def required_modules(client: str, target: str) -> tuple[str, ...]:
    """The import names ``client`` needs on ``target``."""
    if client == "aiostore":
        return ("aiostore", _AIOSTORE_MODULES[target])
    return _PEER_MODULES[client]


def missing_modules(client: str, target: str) -> list[str]:
    """Which of the required modules cannot be found (without importing them)."""
    missing = []
    for name in required_modules(client, target):
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # the parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


def make_client(job: Job) -> Client:
    """Import the client's module and build it for ``job``."""
    module = importlib.import_module(f"{__name__}.{CLIENTS[job.client]}")
    client: Client = module.make(job)
    return client

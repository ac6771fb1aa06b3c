"""Google Cloud Storage for aiostore: ``gs://bucket/work/dir`` (or ``gcs://``).

Registered under the ``aiostore.adapters`` entry point as ``gcs``.

Example:
    >>> store = aiostore.connect("gs://my-bucket/data", service_file="key.json")
    >>> local = aiostore.connect("gs://test-bucket", endpoint="http://127.0.0.1:4443")  # fake-gcs-server

Options (keyword-only; URL query parameters work too):
    name: the bucket (the URL's host part).
    work_dir: a prefix every path is relative to (the URL's path part).
    endpoint: the API root; defaults to ``STORAGE_EMULATOR_HOST``, else Google's.
    anonymous: send no credentials (default: True with an emulator endpoint).
    service_file: service-account key JSON, as a path or a mapping; needed by ``reach``.
    token: a ``gcloud.aio.auth.Token`` to authenticate with.
    project: the project owning buckets (service ``list``/``create``).
    chunk_size: bytes per resumable-upload request (multiple of 256 KiB).
    timeout: seconds a connect or a read may stall (default 60).
"""

from __future__ import annotations

from typing import Any

from aiostore._registry import AdapterSpec

from ._adapter import CAPABILITIES, LIMITS, GCSAdapter
from ._client import GCSClient
from ._config import ClientOptions, StoreOptions, split_options
from ._service import GCSService

__all__ = ["CAPABILITIES", "LIMITS", "SPEC", "GCSAdapter", "GCSService", "open_service", "open_store"]


def open_store(**options: Any) -> GCSAdapter:
    """A storager that owns its own session (no I/O until it is opened)."""
    client_options, store_options = split_options(options, store=True)
    client = GCSClient(ClientOptions.parse(client_options))
    return GCSAdapter(StoreOptions.parse(store_options), client, owns_client=True)


def open_service(**options: Any) -> GCSService:
    """A bucket service; storagers it hands out share its session."""
    client_options, _ = split_options(options, store=False)
    return GCSService(ClientOptions.parse(client_options))


SPEC = AdapterSpec(name="gcs", open_store=open_store, open_service=open_service, schemes=("gs", "gcs"))

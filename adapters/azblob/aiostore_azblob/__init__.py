"""aiostore-azblob: Azure Blob Storage for aiostore (``azblob://``, ``az://``, ``abfs://``).

Install with ``pip install "aiostore[azblob]"``; the adapter registers itself under
the ``aiostore.adapters`` entry point ``azblob``.

Example:
    >>> import aiostore
    >>> async with aiostore.connect("azblob://photos/2024", connection_string=conn) as store:
    ...     await store.write("cat.jpg", data, content_type="image/jpeg")
    >>> async with aiostore.service("azblob", account_name="acme", credential=cred) as svc:
    ...     await svc.create("backups")
"""

from aiostore import AdapterSpec

from ._adapter import AzblobAdapter
from ._config import AzblobConfig, url_options
from ._service import AzblobService

__all__ = ["SPEC", "AzblobAdapter", "AzblobConfig", "AzblobService", "url_options"]

SPEC = AdapterSpec(
    name="azblob",
    open_store=AzblobAdapter.from_options,
    open_service=AzblobService.from_options,
    url_options=url_options,
    schemes=("az", "abfs", "abfss"),
)

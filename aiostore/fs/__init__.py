"""The ``fs`` adapter: objects are files under a local root directory.

``aiostore.connect("fs:///srv/data")``, ``aiostore.connect("file:///srv/data")`` and
``aiostore.connect("fs", work_dir="/srv/data")`` are the same store. Options:
``work_dir`` (the root; relative to the current directory when not absolute),
``fsync`` (default False), ``chunk_size`` (default 1 MiB) and ``xattrs`` (None
probes the file system). ``aiostore.service("fs", work_dir="/srv")`` manages the
sub-directories of ``/srv`` as storagers.

Example:
    >>> async with aiostore.connect("fs", work_dir="/srv/data") as store:
    ...     await store.write("reports/q1.csv", b"a,b\\n", content_type="text/csv")
    ...     async for obj in store.list("reports/"):
    ...         print(obj.path, obj.size, obj.updated_at)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .._registry import AdapterSpec
from ._adapter import CAPABILITIES, FsAdapter
from ._options import FsOptions, url_options
from ._service import FsService
from ._streams import FsReadStream, FsWriteStream

__all__ = [
    "CAPABILITIES",
    "SPEC",
    "FsAdapter",
    "FsOptions",
    "FsReadStream",
    "FsService",
    "FsWriteStream",
    "open_service",
    "open_store",
    "url_options",
]


def open_store(**options: Any) -> FsAdapter:
    """An `FsAdapter` from keyword or URL options (unknown names are refused); no I/O."""
    return FsAdapter(**_checked(options))


def open_service(**options: Any) -> FsService:
    """An `FsService` managing the sub-directories of ``work_dir``; no I/O."""
    return FsService(**_checked(options))


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    return dataclasses.asdict(FsOptions.parse(options))


SPEC = AdapterSpec(
    name="fs",
    open_store=open_store,
    open_service=open_service,
    url_options=url_options,
    schemes=("file",),
)

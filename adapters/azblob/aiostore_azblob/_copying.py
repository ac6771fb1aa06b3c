"""Server-side copy: ``Copy Blob`` from the source URL, then wait until it is done.

Within one account the service usually finishes at once (``copy_status ==
"success"``); otherwise the destination's properties are polled with a growing
interval, bounded by the ``copy_timeout`` option. A copy that runs out of time is
aborted so no half-copied blob stays behind. A missing source fails before the
destination is touched.
"""

from __future__ import annotations

import asyncio
import time

from azure.storage.blob.aio import BlobClient

from aiostore import ServiceUnavailableError, StorageError, StorageTimeoutError

from ._connection import Scope
from ._errors import ADAPTER, boundary

__all__ = ["copy"]

_FIRST_POLL = 0.05
_MAX_POLL = 2.0


async def copy(scope: Scope, src: str, dst: str) -> None:
    """Copy blob ``src`` over ``dst`` (content, content settings and metadata)."""
    source, target = scope.blob(src), scope.blob(dst)
    with boundary("copy", src):
        result = await target.start_copy_from_url(source.url)
    status, copy_id = str(result.get("copy_status") or ""), str(result.get("copy_id") or "")
    if status != "success":
        with boundary("copy", dst):
            await _wait(target, copy_id, status, dst, scope.config.copy_timeout)


def _failed(status: str, detail: str | None, dst: str) -> StorageError:
    message = f"the server-side copy ended as {status!r}" + (f": {detail}" if detail else "")
    return ServiceUnavailableError(message, op="copy", path=dst, adapter=ADAPTER)


async def _wait(target: BlobClient, copy_id: str, status: str, dst: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    interval = _FIRST_POLL
    detail: str | None = None
    while status == "pending":
        if time.monotonic() >= deadline:
            await target.abort_copy(copy_id)
            raise StorageTimeoutError(
                f"the server-side copy did not finish within {limit:g} s and was aborted",
                op="copy", path=dst, adapter=ADAPTER,
            )  # fmt: skip
        await asyncio.sleep(interval)
        interval = min(interval * 2, _MAX_POLL)
        props = await target.get_blob_properties()
        if props.copy.id and props.copy.id != copy_id:
            raise _failed("superseded by another copy", None, dst)
        status = str(props.copy.status or "")
        detail = props.copy.status_description
    if status != "success":
        raise _failed(status, detail, dst)

"""Listings: one page per call, continued with the service's own marker.

Recursive listings use ``list_blobs(name_starts_with=...)``; one-level listings use
``walk_blobs(delimiter="/")``, whose `BlobPrefix` entries become directories. Each
call fetches exactly one page through ``by_page(continuation_token=...)``. Blobs
named like directories (``a/b/``, which some tools create) are skipped.

With the fast path on (`Scope.fast`), a page is one signed List Blobs GET read
by `_listxml` instead: same query, same entries, same markers; `statistical`
walks the same pages.
"""

from __future__ import annotations

from azure.core.async_paging import AsyncItemPaged
from azure.storage.blob import BlobProperties
from azure.storage.blob.aio import BlobPrefix

from aiostore import Object, ObjectType, Page, Statistics

from ._connection import Scope
from ._errors import boundary
from ._fastplane import FastPlane
from ._listxml import fetch_page, parse_page

__all__ = ["STATS_PAGE", "list_page", "statistical"]

# The most entries Azure returns in one listing page.
STATS_PAGE = 5000


def _entry(scope: Scope, item: BlobProperties | BlobPrefix) -> Object:
    if isinstance(item, BlobPrefix):
        return Object(path=scope.path(item.name), type=ObjectType.DIR)
    return scope.object(item.name, item)


def _is_marker(item: BlobProperties | BlobPrefix) -> bool:
    """A blob named like a directory (``a/b/``), as some tools create: not an object."""
    return isinstance(item, BlobProperties) and item.name.endswith("/")


async def list_page(
    scope: Scope, directory: str, *, recursive: bool, page_size: int, token: str | None
) -> Page:
    """One page of the objects (and, one level down, directories) under ``directory``."""
    prefix = scope.key(directory)
    fast = scope.fast
    if fast is not None:
        with boundary("list", directory):
            delimiter = None if recursive else "/"
            body = await fetch_page(
                fast, prefix=prefix, delimiter=delimiter, page_size=page_size, marker=token
            )
            entries, next_token = parse_page(body, work_dir=scope.work_dir)
        return Page(entries=entries, next_token=next_token)
    with boundary("list", directory):
        container = scope.container_client()
        items: AsyncItemPaged[BlobProperties | BlobPrefix]
        if recursive:
            items = container.list_blobs(name_starts_with=prefix, results_per_page=page_size)  # type: ignore[assignment]
        else:
            items = container.walk_blobs(name_starts_with=prefix, delimiter="/", results_per_page=page_size)
        pages = items.by_page(continuation_token=token or None)
        try:
            page = await anext(pages)
        except StopAsyncIteration:
            return Page(entries=[], next_token=None)
        found = [item async for item in page]
        next_token = getattr(pages, "continuation_token", None) or None
    # The SDK puts a page's prefixes before its blobs; the service's order is by name.
    found.sort(key=lambda item: str(item.name))
    entries = [_entry(scope, item) for item in found if not _is_marker(item)]
    return Page(entries=entries, next_token=next_token)


async def statistical(scope: Scope) -> Statistics:
    """Count and total size of the committed blobs under the work dir, in pages of 5000."""
    if scope.fast is not None:
        return await _fast_statistical(scope, scope.fast)
    count = size = 0
    with boundary("statistical", None):
        container = scope.container_client()
        async for props in container.list_blobs(name_starts_with=scope.work_dir, results_per_page=STATS_PAGE):
            if not props.name.endswith("/"):
                count += 1
                size += props.size or 0
    return Statistics(count=count, size=size)


async def _fast_statistical(scope: Scope, fast: FastPlane) -> Statistics:
    """`statistical` over fast-path List Blobs pages (directory markers are not counted)."""
    count = size = 0
    marker: str | None = None
    work_dir = scope.work_dir
    with boundary("statistical", None):
        while True:
            body = await fetch_page(
                fast, prefix=work_dir, delimiter=None, page_size=STATS_PAGE, marker=marker
            )
            entries, marker = parse_page(body, work_dir=work_dir)
            count += len(entries)
            size += sum(entry.size or 0 for entry in entries)
            if marker is None:
                return Statistics(count=count, size=size)

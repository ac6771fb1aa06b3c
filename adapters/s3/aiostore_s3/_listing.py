"""Listings and the conversions from S3 responses to `aiostore.Object`.

ListObjectsV2 is asked one page at a time: with ``Delimiter="/"`` for one
level (common prefixes become `ObjectType.DIR` entries ending with ``/``),
without for a recursive listing. The continuation token is handed back to
the core, which asks for the next page only when the caller gets that far.
Keys ending with ``/`` (directory markers made by other tools) are not objects
and are skipped.

Example:
    >>> params = list_params("b", "dir/", recursive=False, page_size=100, token=None)
    >>> params["Delimiter"]
    '/'
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from aiostore import Object, ObjectType, Page, Segment

from ._errors import boundary

__all__ = [
    "from_head",
    "iter_segments",
    "list_params",
    "page_from_response",
]


def _strip(key: str, work_dir: str) -> str:
    return key[len(work_dir) :] if work_dir and key.startswith(work_dir) else key


def _metadata(response: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (response.get("Metadata") or {}).items()}


def whole_size(response: Mapping[str, Any]) -> int | None:
    """The object's full size: from ``Content-Range: bytes a-b/total`` or the length."""
    content_range = response.get("ContentRange")
    if isinstance(content_range, str) and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    length = response.get("ContentLength")
    return int(length) if length is not None else None


def from_head(path: str, response: Mapping[str, Any]) -> Object:
    """The object described by a HeadObject or GetObject response."""
    updated: datetime | None = response.get("LastModified")
    return Object(
        path=path,
        size=whole_size(response),
        updated_at=updated,
        content_type=response.get("ContentType"),
        etag=response.get("ETag"),
        storage_class=response.get("StorageClass") or "STANDARD",
        version=response.get("VersionId"),
        metadata=_metadata(response),
    )


def list_params(
    bucket: str, prefix: str, *, recursive: bool, page_size: int, token: str | None
) -> dict[str, Any]:
    """ListObjectsV2 parameters for one page."""
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
    if not recursive:
        params["Delimiter"] = "/"
    if token:
        params["ContinuationToken"] = token
    return params


def _file(entry: Mapping[str, Any], work_dir: str) -> Object:
    return Object(
        path=_strip(str(entry["Key"]), work_dir),
        size=int(entry.get("Size") or 0),
        updated_at=entry.get("LastModified"),
        etag=entry.get("ETag"),
        storage_class=entry.get("StorageClass"),
    )


def page_from_response(response: Mapping[str, Any], work_dir: str, prefix: str) -> Page:
    """One `Page` from a ListObjectsV2 response, files and directories in key order."""
    keyed: list[tuple[str, Object]] = []
    for entry in response.get("Contents") or ():
        key = str(entry["Key"])
        if key != prefix and not key.endswith("/"):
            keyed.append((key, _file(entry, work_dir)))
    for common in response.get("CommonPrefixes") or ():
        key = str(common["Prefix"])
        keyed.append((key, Object(path=_strip(key, work_dir), type=ObjectType.DIR)))
    keyed.sort(key=lambda item: item[0])
    token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
    return Page(entries=[obj for _, obj in keyed], next_token=token)


async def iter_segments(client: Any, bucket: str, work_dir: str, directory: str) -> AsyncIterator[Segment]:
    """Multipart uploads in progress under ``directory``, fetched page by page."""
    markers: dict[str, str] = {}
    while True:
        params = {"Bucket": bucket, "Prefix": work_dir + directory, **markers}
        with boundary("list_segments", directory):
            response = await client.list_multipart_uploads(**params)
        for upload in response.get("Uploads") or ():
            key = str(upload["Key"])
            yield Segment(
                path=_strip(key, work_dir), id=str(upload["UploadId"]), created_at=upload.get("Initiated")
            )
        if not response.get("IsTruncated"):
            return
        next_key, next_id = response.get("NextKeyMarker"), response.get("NextUploadIdMarker")
        if not next_key or (next_key, next_id) == (markers.get("KeyMarker"), markers.get("UploadIdMarker")):
            return
        markers = {"KeyMarker": str(next_key), "UploadIdMarker": str(next_id or "")}

"""Keys, object descriptions and listing tokens.

The adapter owns its work dir: `Keys` joins it onto paths and strips it from
listed names, and hides the segment temporaries kept under
``<work_dir>.aiostore-segments/`` (a directory of that name is reserved at any
depth, so a store never lists the uploads of a store nested inside it). An object's generation is both its
``version`` and its ``etag``: it changes exactly when the content does, and a
read pinned to it uses ``ifGenerationMatch``.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from aiostore._errors import InvalidArgumentError
from aiostore._types import EMPTY_METADATA, Object, ObjectType, draft_object, seal

__all__ = [
    "HIDDEN_DIR",
    "Keys",
    "from_headers",
    "from_resource",
    "write_fields",
]

HIDDEN_DIR = ".aiostore-segments/"
_HIDDEN_BELOW = "/" + HIDDEN_DIR


class Keys:
    """Maps work-dir-relative paths to bucket keys and back."""

    def __init__(self, work_dir: str) -> None:
        self.root = work_dir
        self.hidden = work_dir + HIDDEN_DIR

    def key(self, path: str) -> str:
        return self.root + path

    def path(self, key: str) -> str:
        return key[len(self.root) :] if key.startswith(self.root) else key

    def is_hidden(self, key: str) -> bool:
        """Segment temporaries of this store, or of any store whose work dir is nested in it."""
        return key.startswith(HIDDEN_DIR) or _HIDDEN_BELOW in key


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def b64_to_hex(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return binascii.a2b_base64(value).hex()  # what base64.b64decode does, minus its checks
    except (binascii.Error, ValueError):
        return None


_FILE = ObjectType.FILE


def from_resource(resource: Mapping[str, Any], path: str) -> Object:
    """An `Object` (a file) from a JSON API object resource.

    Called once per listed key, so it reads each field once and builds the
    `Object` through an `ObjectDraft`; objects without user metadata share one empty mapping.
    """
    get = resource.get
    generation = get("generation")
    generation = str(generation) if generation else None
    metadata = get("metadata")
    draft = draft_object()
    draft.path = path
    draft.type = _FILE
    draft.size = int(get("size", 0))
    draft.updated_at = parse_time(get("updated"))
    draft.id = get("id")
    draft.content_md5 = b64_to_hex(get("md5Hash"))
    draft.content_type = get("contentType") or None
    draft.etag = generation
    draft.storage_class = get("storageClass")
    draft.version = generation
    draft.metadata = dict(metadata) if metadata else EMPTY_METADATA
    return seal(draft)


def goog_hashes(value: str | None) -> dict[str, str]:
    """``x-goog-hash: crc32c=...,md5=...`` as ``{"crc32c": ..., "md5": ...}``."""
    hashes = {}
    for item in (value or "").split(","):
        name, sep, digest = item.strip().partition("=")
        if sep:
            hashes[name.lower()] = digest
    return hashes


def _modified(value: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def from_headers(headers: Mapping[str, str], path: str, size: int) -> Object:
    """An `Object` from a media download's headers (user metadata is not included)."""
    generation = headers.get("x-goog-generation")
    return Object(
        path=path,
        size=size,
        updated_at=_modified(headers.get("Last-Modified")),
        content_md5=b64_to_hex(goog_hashes(headers.get("x-goog-hash")).get("md5")),
        content_type=headers.get("Content-Type"),
        etag=generation,
        storage_class=headers.get("x-goog-storage-class"),
        version=generation,
    )


_EXTRA_FIELDS: Mapping[str, str] = {
    "storage_class": "storageClass",
    "cache_control": "cacheControl",
    "content_disposition": "contentDisposition",
    "content_encoding": "contentEncoding",
    "content_language": "contentLanguage",
}


def write_fields(metadata: Mapping[str, str], extra: Mapping[str, Any], op: str) -> dict[str, Any]:
    """Object resource fields (camelCase) for a write: user metadata plus supported extras."""
    unknown = sorted(set(extra) - set(_EXTRA_FIELDS))
    if unknown:
        raise InvalidArgumentError(
            f"unsupported GCS write option(s) {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(_EXTRA_FIELDS))}",
            op=op,
            adapter="gcs",
        )
    fields: dict[str, Any] = {_EXTRA_FIELDS[name]: str(value) for name, value in extra.items()}
    if metadata:
        fields["metadata"] = dict(metadata)
    return fields

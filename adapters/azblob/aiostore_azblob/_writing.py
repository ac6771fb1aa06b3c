"""Writes: one request for small data, one staged block plus a commit for larger data.

aiohttp warns (`ResourceWarning`) when a request body over 1 MiB is given as raw
bytes, and azure-storage-blob's ``upload_blob`` always sends bytes; so data over
`SMALL_BODY` is staged as a block from an ``io.BytesIO`` and committed, which is
just as atomic. Every write stores the blob's MD5 so whole reads can verify it.
That MD5 is computed once: it is also the transactional Content-MD5 of the Put
Blob or of the single staged block (with ``validate_content``), both checked by
the service on arrival. Segments (`stage_block` from `SegmentBook`) carry only
the per-block transactional MD5, and their commit stores no whole-blob MD5 (a
block list has none to give without hashing every byte a second time).

On the fast path (`Scope.fast`) Put Blob and Put Block go out signed here with
the headers `blob_headers` builds from the same options; writes with ``tags``
and the block list commit stay on the SDK.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import time
from collections.abc import Sequence
from typing import Any

from azure.core import MatchConditions
from azure.storage.blob import BlobBlock, ContentSettings, StandardBlobTier
from azure.storage.blob.aio import BlobClient

from aiostore import InvalidArgumentError, Object, Pieces, WriteOptions

from ._connection import Scope
from ._errors import ADAPTER, boundary

__all__ = [
    "SMALL_BODY",
    "blob_headers",
    "block_id",
    "body",
    "commit_blocks",
    "new_upload_id",
    "parse_block_id",
    "stage_block",
    "upload_kwargs",
    "write_once",
]

SMALL_BODY = 1024 * 1024
_SETTINGS = ("cache_control", "content_disposition", "content_encoding", "content_language")
_EXTRAS = frozenset({*_SETTINGS, "storage_class", "standard_blob_tier", "tags"})
_INDEX_DIGITS = 6
_META = "x-ms-meta-"


def new_upload_id() -> str:
    """16 hex characters: the start time in seconds, then 32 random bits."""
    return f"{int(time.time()):08x}{secrets.token_hex(4)}"


def block_id(upload_id: str, index: int | str) -> str:
    """``<upload id>-<6 characters>``: every block id of a blob has the same length."""
    suffix = f"{index:0{_INDEX_DIGITS}d}" if isinstance(index, int) else index
    if len(suffix) != _INDEX_DIGITS:
        raise InvalidArgumentError(f"block suffix {suffix!r} must have {_INDEX_DIGITS} characters")
    return f"{upload_id}-{suffix}"


def parse_block_id(value: str) -> tuple[str, str] | None:
    """``(upload id, suffix)`` for a block id this adapter wrote, else None."""
    upload_id, dash, suffix = value.partition("-")
    if not dash or len(upload_id) != 16 or len(suffix) != _INDEX_DIGITS:
        return None
    return upload_id, suffix


def body(data: bytes | memoryview) -> bytes | io.BytesIO:
    """A request body aiohttp sends without warning or blocking the loop."""
    if len(data) <= SMALL_BODY:
        return bytes(data)
    if isinstance(data, memoryview) and isinstance(data.obj, bytes) and data.nbytes == len(data.obj):
        return io.BytesIO(data.obj)  # shares the bytes instead of copying them
    return io.BytesIO(data)


def _tier(value: object) -> StandardBlobTier:
    try:
        return StandardBlobTier(str(value).capitalize())
    except ValueError:
        tiers = ", ".join(tier.value for tier in StandardBlobTier)
        raise InvalidArgumentError(f"unknown storage_class {value!r}; use one of {tiers}") from None


def _check_extras(options: WriteOptions) -> None:
    unknown = sorted(set(options.extra) - _EXTRAS)
    if unknown:
        raise InvalidArgumentError(
            f"unknown write option(s) {', '.join(unknown)}; azblob accepts {', '.join(sorted(_EXTRAS))}",
            adapter=ADAPTER,
        )


def blob_headers(options: WriteOptions, md5: bytes) -> dict[str, str]:
    """Put Blob headers for what `upload_kwargs` gives the SDK (``tags`` aside)."""
    headers = {_META + key: value for key, value in options.metadata.items()}
    if options.content_type:
        headers["x-ms-blob-content-type"] = options.content_type
    headers["x-ms-blob-content-md5"] = base64.b64encode(md5).decode("ascii")
    if options.extra:
        _check_extras(options)
        for name in _SETTINGS:
            if options.extra.get(name):
                headers["x-ms-blob-" + name.replace("_", "-")] = str(options.extra[name])
        tier = options.extra.get("storage_class", options.extra.get("standard_blob_tier"))
        if tier is not None:
            headers["x-ms-access-tier"] = _tier(tier).value
    if options.if_not_exists:
        headers["if-none-match"] = "*"
    return headers


def upload_kwargs(options: WriteOptions, md5: bytes | None = None) -> dict[str, Any]:
    """SDK keyword arguments for the content settings, metadata and extras of a write."""
    _check_extras(options)
    settings = ContentSettings(
        content_type=options.content_type,
        content_md5=bytearray(md5) if md5 else None,
        **{key: options.extra[key] for key in _SETTINGS if key in options.extra},
    )
    kwargs: dict[str, Any] = {"content_settings": settings, "metadata": dict(options.metadata)}
    tier = options.extra.get("storage_class", options.extra.get("standard_blob_tier"))
    if tier is not None:
        kwargs["standard_blob_tier"] = _tier(tier)
    if options.extra.get("tags"):
        kwargs["tags"] = dict(options.extra["tags"])
    return kwargs


async def commit_blocks(
    blob: BlobClient, ids: Sequence[str], options: WriteOptions, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Commit ``ids`` in order as the whole blob (``If-None-Match: *`` with ``if_not_exists``)."""
    if options.if_not_exists:
        kwargs = {**kwargs, "match_condition": MatchConditions.IfMissing}
    return await blob.commit_block_list([BlobBlock(block_id=value) for value in ids], **kwargs)


async def stage_block(
    scope: Scope,
    path: str,
    block: str,
    data: bytes | memoryview | Pieces,
    *,
    validate: bool,
    md5: bytes | None = None,
) -> None:
    """Put Block ``block`` (plain id) of the blob at ``path``, on the fast path when there is one
    (where `Pieces` go out unjoined; azure-storage-blob gets them joined).

    ``md5``, the digest of ``data`` when the caller has it, spares the fast path a second pass.
    """
    fast = scope.fast
    if fast is not None:
        await fast.put_block(scope.key(path), block, data, validate=validate, md5=md5)
    else:
        whole = data.join() if isinstance(data, Pieces) else data
        await scope.blob(path).stage_block(block, body(whole), length=len(whole), validate_content=validate)


async def write_once(scope: Scope, path: str, data: bytes | memoryview, options: WriteOptions) -> Object:
    """Replace the blob at ``path`` with ``data`` atomically."""
    digest = hashlib.md5(data, usedforsecurity=False)
    fast = scope.fast
    validate = scope.config.validate_content
    with boundary("write", path):
        if fast is not None and len(data) <= SMALL_BODY and not options.extra.get("tags"):
            headers = blob_headers(options, digest.digest())
            result = await fast.put_blob(scope.key(path), data, headers, validate=validate)
            return scope.written(path, len(data), result, options, digest.hexdigest())
        kwargs = upload_kwargs(options, digest.digest())
        blob = scope.blob(path)
        if len(data) <= SMALL_BODY:
            result = await blob.upload_blob(
                bytes(data), length=len(data), overwrite=not options.if_not_exists,
                validate_content=validate, **kwargs,
            )  # fmt: skip
        else:
            single = block_id(new_upload_id(), 0)
            await stage_block(scope, path, single, data, validate=validate, md5=digest.digest())
            result = await commit_blocks(blob, [single], options, kwargs)
    return scope.written(path, len(data), result, options, digest.hexdigest())

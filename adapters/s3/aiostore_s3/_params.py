"""Request parameters built from the adapter options and per-write keywords.

Per-write keywords (``store.write(path, data, storage_class="STANDARD_IA")``)
arrive in ``WriteOptions.extra`` and override the adapter's defaults:

* ``storage_class``: ``STANDARD``, ``STANDARD_IA``, ``INTELLIGENT_TIERING``, ...
* ``sse`` (``AES256`` / ``aws:kms`` / ``aws:kms:dsse``) and ``sse_kms_key_id``
* ``sse_customer_key``: an SSE-C key; reads need the same key, so set it on the
  store (``connect(..., sse_customer_key=...)``) rather than per write
* ``cache_control``, ``content_disposition``, ``content_encoding``, ``content_language``

Example:
    >>> write_params(config, WriteOptions(content_type="text/plain", extra={"storage_class": "STANDARD_IA"}))
    {'ContentType': 'text/plain', 'StorageClass': 'STANDARD_IA'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiostore import InvalidArgumentError, UnsupportedError, WriteOptions

from ._config import S3Config, sse_mode
from ._errors import ADAPTER
from ._redact import remember_secret

__all__ = ["EXTRA_KEYS", "copy_source_sse_params", "read_params", "require_conditional_write", "write_params"]

_HEADERS = {
    "cache_control": "CacheControl",
    "content_disposition": "ContentDisposition",
    "content_encoding": "ContentEncoding",
    "content_language": "ContentLanguage",
}
EXTRA_KEYS = frozenset({"storage_class", "sse", "sse_kms_key_id", "sse_customer_key", *_HEADERS})


def _customer_key(key: str | bytes | None) -> dict[str, Any]:
    if key is None:
        return {}
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def read_params(config: S3Config) -> dict[str, Any]:
    """What every read of an object needs: the SSE-C key, when the store has one."""
    return _customer_key(config.sse_customer_key)


def copy_source_sse_params(config: S3Config) -> dict[str, Any]:
    """The SSE-C key of a copy source (the store's own key)."""
    if config.sse_customer_key is None:
        return {}
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": config.sse_customer_key}


def _check_extra(extra: Mapping[str, Any], op: str) -> None:
    if not extra:
        return
    unknown = sorted(set(extra) - EXTRA_KEYS)
    if unknown:
        raise InvalidArgumentError(
            f"unknown S3 write options {unknown}; known: {sorted(EXTRA_KEYS)}", op=op, adapter=ADAPTER
        )


def _encryption(config: S3Config, extra: Mapping[str, Any]) -> dict[str, Any]:
    if not extra and config.sse is None and config.sse_kms_key_id is None and config.sse_customer_key is None:
        return {}
    params: dict[str, Any] = {}
    sse = sse_mode(extra.get("sse", config.sse))
    kms_key = extra.get("sse_kms_key_id", config.sse_kms_key_id)
    customer_key = extra.get("sse_customer_key", config.sse_customer_key)
    remember_secret(customer_key)
    if sse is not None:
        params["ServerSideEncryption"] = sse
    if kms_key is not None:
        if sse not in ("aws:kms", "aws:kms:dsse"):
            raise InvalidArgumentError("sse_kms_key_id needs sse='aws:kms'", op="write", adapter=ADAPTER)
        params["SSEKMSKeyId"] = kms_key
    if customer_key is not None and sse is not None:
        raise InvalidArgumentError("sse and sse_customer_key exclude each other", op="write", adapter=ADAPTER)
    return params | _customer_key(customer_key)


def require_conditional_write(config: S3Config, op: str) -> None:
    """Refuse ``if_not_exists`` where the service would silently ignore ``If-None-Match``."""
    if not config.profile.conditional_write:
        raise UnsupportedError(
            f"the {config.profile.name} profile does not honour If-None-Match on writes; "
            "if_not_exists would be silently ignored",
            op=op,
            adapter=ADAPTER,
        )


def write_params(
    config: S3Config, options: WriteOptions, *, op: str = "write", metadata: bool = True
) -> dict[str, Any]:
    """ContentType, Metadata, StorageClass, encryption and header options of a write."""
    _check_extra(options.extra, op)
    if options.if_not_exists:
        require_conditional_write(config, op)
    extra = options.extra
    params: dict[str, Any] = {}
    if options.content_type:
        params["ContentType"] = options.content_type
    if metadata and options.metadata:
        params["Metadata"] = dict(options.metadata)
    storage_class = extra.get("storage_class", config.storage_class)
    if storage_class:
        params["StorageClass"] = str(storage_class)
    if extra:
        for key, name in _HEADERS.items():
            if extra.get(key) is not None:
                params[name] = str(extra[key])
    return params | _encryption(config, extra)

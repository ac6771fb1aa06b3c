"""The one boundary where HTTP and SDK exceptions become aiostore errors.

Every call into GCS runs inside `gcs_errors`, which maps what aiohttp and
gcloud-aio raise to the most specific `aiostore.StorageError` and fills in the
operation, the path and the adapter name. Messages carry Google's error text and
the HTTP status, never a header, a token or a key.

Retries: the core retries errors marked ``retryable``. GET-like calls are
idempotent; calls that change an object are retried only when a generation
precondition makes a second attempt safe (``idempotent=True`` at the call site).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import aiohttp

from aiostore._errors import (
    AlreadyExistsError,
    ConditionNotMetError,
    IntegrityError,
    InvalidArgumentError,
    InvalidOffsetError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    StorageError,
    StoragerNotFoundError,
    StorageTimeoutError,
)

__all__ = ["ADAPTER", "gcs_errors", "response_error"]

ADAPTER = "gcs"
_MAX_MESSAGE = 300
_BY_STATUS: Mapping[int, type[StorageError]] = {
    400: InvalidArgumentError,
    401: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: StorageTimeoutError,
    409: AlreadyExistsError,
    412: ConditionNotMetError,
    416: InvalidOffsetError,
    429: RateLimitedError,
}


def google_message(text: str) -> str:
    """Google's ``{"error": {"message": ...}}`` text, or the raw text, shortened."""
    body = text.split(": ", 1)[1] if text[:1].isalpha() and ": {" in text else text
    try:
        message = str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = body.strip()
    return message[:_MAX_MESSAGE] or "no details"


def _status_class(status: int, message: str) -> type[StorageError]:
    if status == 400 and any(word in message for word in ("CRC32C", "MD5", "checksum", "hash")):
        return IntegrityError
    if status == 404 and "bucket" in message.lower():
        return StoragerNotFoundError
    if status == 503 and "slow down" in message.lower():
        return RateLimitedError
    return _BY_STATUS.get(status, ServiceUnavailableError if status >= 500 else StorageError)


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    try:
        return float(headers["Retry-After"]) if headers and "Retry-After" in headers else None
    except ValueError:
        return None


def response_error(
    status: int,
    text: str,
    headers: Mapping[str, str] | None = None,
    overrides: Mapping[int, type[StorageError]] | None = None,
) -> StorageError:
    """The aiostore error for an HTTP error status and its body."""
    message = google_message(text)
    cls = (overrides or {}).get(status) or _status_class(status, message)
    if cls is RateLimitedError:
        return RateLimitedError(f"GCS {status}: {message}", retry_after=_retry_after(headers))
    return cls(f"GCS {status}: {message}")


def _translate(exc: Exception, overrides: Mapping[int, type[StorageError]] | None) -> StorageError:
    if isinstance(exc, aiohttp.ClientResponseError):
        return response_error(exc.status, exc.message, exc.headers, overrides)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return StorageTimeoutError("connecting to GCS timed out", may_have_applied=False)
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return StorageTimeoutError("GCS did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        message = f"cannot connect to GCS: {exc.os_error}"[:_MAX_MESSAGE]
        return ServiceUnavailableError(message, may_have_applied=False)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ServiceUnavailableError(f"GCS response body broken: {type(exc).__name__}")
    if isinstance(exc, aiohttp.ClientError | ConnectionError):
        return ServiceUnavailableError(f"cannot reach GCS: {type(exc).__name__}: {exc}"[:_MAX_MESSAGE])
    if isinstance(exc, OSError):
        return InvalidArgumentError(f"cannot read the GCS credentials: {exc.strerror or exc}")
    if isinstance(exc, RuntimeError) and "closed" in str(exc).lower():
        return ServiceUnavailableError("the HTTP session is closed", retryable=False)
    # ValueError/KeyError from gcloud-aio: bad credentials file, malformed answer.
    return InvalidArgumentError(f"GCS client error: {type(exc).__name__}: {exc}"[:_MAX_MESSAGE])


@contextmanager
def gcs_errors(
    op: str,
    path: str | None = None,
    *,
    idempotent: bool = True,
    overrides: Mapping[int, type[StorageError]] | None = None,
) -> Iterator[None]:
    """Map everything raised inside the block to an aiostore error.

    Args:
        op: the aiostore operation (``"read"``, ``"write"``...).
        path: the work-dir-relative path, when there is one.
        idempotent: False for a call that changes state without a generation
            precondition: its errors are then retryable only when the request
            cannot have taken effect (``may_have_applied`` is False).
        overrides: per-status error classes for this call, e.g. ``{412: AlreadyExistsError}``.
    """
    try:
        yield
    except StorageError as exc:
        _settle(exc, op, path, idempotent)
        raise
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError, KeyError, RuntimeError) as exc:
        raise _settle(_translate(exc, overrides), op, path, idempotent) from exc


def _settle(error: StorageError, op: str, path: str | None, idempotent: bool) -> StorageError:
    error.with_context(op=op, path=path, adapter=ADAPTER)
    if not idempotent and error.may_have_applied:
        error.retryable = False  # a second attempt could undo someone else's newer write
    return error

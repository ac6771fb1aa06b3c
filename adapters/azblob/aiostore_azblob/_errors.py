"""The one place where Azure SDK, azure-core and aiohttp exceptions become aiostore errors.

    azure.core.exceptions / aiohttp / asyncio              aiostore
    ────────────────────────────────────────────           ─────────────────────────
    404 ContainerNotFound                                   StoragerNotFoundError
    404 BlobNotFound, CannotVerifyCopySource, other 404     NotFoundError
    409 BlobAlreadyExists, ContainerAlreadyExists           AlreadyExistsError
    412 ConditionNotMet, 304                                ConditionNotMetError
    416 InvalidRange                                        InvalidOffsetError
    401, 403, ClientAuthenticationError                     PermissionDeniedError
    400 Md5Mismatch, "MD5 mismatch" (download check)        IntegrityError
    other 400                                               InvalidArgumentError
    429, 503 ServerBusy                                     RateLimitedError
    408, 500 OperationTimedOut, request/response timeouts   StorageTimeoutError
    other 5xx, connection errors, truncated bodies          ServiceUnavailableError

The fast path's error answers (`AzureResponseError`: status, ``x-ms-error-code``,
message) go through the same status and code tables, so both paths raise the
same aiostore error for the same answer. A connection that could not be made
at all is ``may_have_applied=False``.

Messages are rebuilt from the status, the error code and the first line of the
service's message; anything that looks like a SAS signature or a key is redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping
from types import TracebackType

import aiohttp
from azure.core import exceptions as az

from aiostore import (
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

__all__ = ["ADAPTER", "AzureResponseError", "boundary", "is_status", "map_error", "redact"]

ADAPTER = "azblob"

_SECRETS = re.compile(r"(?i)(sig|AccountKey|SharedAccessSignature|skoid|sktid)=([^&;\s'\"]+)")
_BY_CODE: dict[str, type[StorageError]] = {
    "ContainerNotFound": StoragerNotFoundError,
    "BlobNotFound": NotFoundError,
    "CannotVerifyCopySource": NotFoundError,
    "BlobAlreadyExists": AlreadyExistsError,
    "ContainerAlreadyExists": AlreadyExistsError,
    "ConditionNotMet": ConditionNotMetError,
    "TargetConditionNotMet": ConditionNotMetError,
    "SourceConditionNotMet": ConditionNotMetError,
    "InvalidRange": InvalidOffsetError,
    "Md5Mismatch": IntegrityError,
    "Crc64Mismatch": IntegrityError,
    "ServerBusy": RateLimitedError,
    "OperationTimedOut": StorageTimeoutError,
    "ContainerBeingDeleted": ServiceUnavailableError,
}
_BY_STATUS: dict[int, type[StorageError]] = {
    304: ConditionNotMetError,
    400: InvalidArgumentError,
    401: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: StorageTimeoutError,
    409: StorageError,
    412: ConditionNotMetError,
    416: InvalidOffsetError,
    429: RateLimitedError,
    503: RateLimitedError,
}


class AzureResponseError(Exception):
    """An error answer of the service on the fast path (status, error code, message)."""

    def __init__(self, status: int, code: str | None, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status} {code or ''}: {message}")
        self.status_code = status
        self.error_code = code
        self.message = message
        self.headers = headers


def redact(text: str) -> str:
    """``text`` with SAS signatures and account keys replaced by ``***``."""
    return _SECRETS.sub(r"\1=***", text)


def _error_code(exc: az.HttpResponseError) -> str | None:
    code = getattr(exc, "error_code", None)
    if code is None and exc.response is not None:
        code = getattr(exc.response, "headers", {}).get("x-ms-error-code")
    return str(getattr(code, "value", code)) if code else None


def is_status(exc: BaseException, status: int) -> bool:
    """Whether ``exc`` is an HTTP error (SDK or fast path) with this status."""
    return isinstance(exc, (az.HttpResponseError, AzureResponseError)) and exc.status_code == status


def _http_class(status: int | None, code: str | None) -> type[StorageError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status is not None and status >= 500:
        return ServiceUnavailableError
    return StorageError


def _summary(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    return redact(text.strip().splitlines()[0] if text.strip() else type(exc).__name__)[:300]


def _http_error(
    exc: az.HttpResponseError | AzureResponseError,
) -> tuple[type[StorageError], str, float | None]:
    status: int | None
    headers: Mapping[str, str]
    if isinstance(exc, AzureResponseError):
        status, code, headers = exc.status_code, exc.error_code, exc.headers
    else:
        status, code = exc.status_code, _error_code(exc)
        headers = getattr(exc.response, "headers", {}) if exc.response is not None else {}
    cls = _http_class(status, code)
    label = f"HTTP {status}" + (f" {code}" if code else "")
    retry_after = None
    if cls is RateLimitedError:
        with contextlib.suppress(TypeError, ValueError):
            retry_after = float(headers.get("Retry-After", ""))
    return cls, f"{label}: {_summary(exc)}", retry_after


def _other_class(exc: BaseException) -> type[StorageError]:
    if isinstance(exc, az.ClientAuthenticationError):
        return PermissionDeniedError
    if isinstance(exc, (az.ServiceRequestTimeoutError, az.ServiceResponseTimeoutError, TimeoutError)):
        return StorageTimeoutError
    if isinstance(exc, az.AzureError) and "md5 mismatch" in str(exc.message).lower():
        return IntegrityError
    if isinstance(exc, (az.AzureError, aiohttp.ClientError, OSError)):
        return ServiceUnavailableError
    if isinstance(exc, (ValueError, TypeError)):
        return InvalidArgumentError
    return StorageError


def map_error(exc: BaseException, *, op: str, path: str | None) -> StorageError:
    """The most specific aiostore error for ``exc`` (not raised: the caller chains it)."""
    if isinstance(exc, StorageError):
        return exc.with_context(op=op, path=path, adapter=ADAPTER)
    if isinstance(exc, (az.HttpResponseError, AzureResponseError)) and exc.status_code is not None:
        cls, message, retry_after = _http_error(exc)
        if cls is RateLimitedError:
            return RateLimitedError(message, retry_after=retry_after, op=op, path=path, adapter=ADAPTER)
        return cls(message, op=op, path=path, adapter=ADAPTER)
    cls = _other_class(exc)
    sent = False if isinstance(exc, aiohttp.ClientConnectorError) else None
    return cls(
        f"{type(exc).__name__}: {_summary(exc)}", op=op, path=path, adapter=ADAPTER, may_have_applied=sent
    )


_MAPPED = (
    az.AzureError,
    AzureResponseError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
    ValueError,
    TypeError,
)


class boundary:
    """Turn every SDK exception raised inside into an aiostore error.

    A plain context manager class (no generator per call: it wraps every hot call).

    Example:
        >>> with boundary("stat", "a.txt"):
        ...     props = await blob.get_blob_properties()
    """

    __slots__ = ("op", "path")

    def __init__(self, op: str, path: str | None = None) -> None:
        self.op = op
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if isinstance(exc, StorageError):
            exc.with_context(op=self.op, path=self.path, adapter=ADAPTER)
        elif isinstance(exc, _MAPPED):
            raise map_error(exc, op=self.op, path=self.path) from exc

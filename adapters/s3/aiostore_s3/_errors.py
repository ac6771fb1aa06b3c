"""The one place where botocore and aiohttp exceptions become aiostore errors.

Every call to S3 runs inside `boundary`, which maps the S3 error code first
and the HTTP status second, to the most specific `aiostore.StorageError`, and
raises it ``from`` the SDK exception. Messages are redacted (`_redact`).

    NoSuchKey, NoSuchUpload, 404        -> NotFoundError
    NoSuchBucket                        -> StoragerNotFoundError
    AccessDenied, bad signature, 403    -> PermissionDeniedError
    SlowDown, Throttling, 429, 503      -> RateLimitedError (retryable, Retry-After kept)
    other 5xx, broken connections       -> ServiceUnavailableError (retryable)
    InvalidRange, 416                   -> InvalidOffsetError
    BadDigest, checksum mismatches      -> IntegrityError (retryable)
    EntityTooSmall                      -> EntityTooSmallError
    PreconditionFailed, 412             -> ConditionNotMetError (AlreadyExistsError for if_not_exists)
    BucketAlreadyExists/OwnedByYou      -> AlreadyExistsError
    NotImplemented, 501                 -> UnsupportedError
    timeouts                            -> StorageTimeoutError (retryable)

A 200 response whose body is an ``<Error>`` (CompleteMultipartUpload, CopyObject)
is turned into a 500 by botocore before parsing, so it arrives here as an error.

Example:
    >>> with boundary("stat", "a.txt"):
    ...     await client.head_object(Bucket="b", Key="a.txt")
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp
from botocore import exceptions as boto  # type: ignore[import-untyped,unused-ignore]

from aiostore import (
    AlreadyExistsError,
    ConditionNotMetError,
    EntityTooSmallError,
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
    UnsupportedError,
)

from ._redact import redact

__all__ = ["ADAPTER", "boundary", "from_client_error", "from_transport_error"]

ADAPTER = "s3"

_BY_CODE: Mapping[str, type[StorageError]] = {
    **dict.fromkeys(("NoSuchKey", "NotFound", "NoSuchUpload", "NoSuchVersion"), NotFoundError),
    "NoSuchBucket": StoragerNotFoundError,
    **dict.fromkeys(
        (
            "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
            "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem", "InvalidSecurity",
            "RequestTimeTooSkewed", "UnauthorizedAccess",
        ),
        PermissionDeniedError,
    ),
    **dict.fromkeys(
        (
            "SlowDown", "Throttling", "ThrottlingException", "TooManyRequests", "TooManyRequestsException",
            "RequestLimitExceeded", "ServiceUnavailable", "RequestThrottled",
        ),
        RateLimitedError,
    ),
    **dict.fromkeys(("InternalError", "OperationAborted"), ServiceUnavailableError),
    "InvalidRange": InvalidOffsetError,
    **dict.fromkeys(
        ("BadDigest", "XAmzContentSHA256Mismatch", "XAmzContentChecksumMismatch", "InvalidChecksum"),
        IntegrityError,
    ),
    "EntityTooSmall": EntityTooSmallError,
    **dict.fromkeys(("PreconditionFailed", "ConditionalRequestConflict"), ConditionNotMetError),
    **dict.fromkeys(("BucketAlreadyExists", "BucketAlreadyOwnedByYou"), AlreadyExistsError),
    "BucketNotEmpty": ConditionNotMetError,
    **dict.fromkeys(("NotImplemented", "MethodNotAllowed", "UnsupportedOperation"), UnsupportedError),
    "RequestTimeout": StorageTimeoutError,
    **dict.fromkeys(
        (
            "InvalidArgument", "InvalidBucketName", "InvalidRequest", "KeyTooLongError", "InvalidPart",
            "InvalidPartOrder", "MalformedXML", "EntityTooLarge", "InvalidDigest", "MetadataTooLarge",
            "InvalidStorageClass", "InvalidEncryptionAlgorithmError", "InvalidObjectName", "TooManyParts",
        ),
        InvalidArgumentError,
    ),
}  # fmt: skip

_BY_STATUS: Mapping[int, type[StorageError]] = {
    400: InvalidArgumentError,
    401: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConditionNotMetError,
    412: ConditionNotMetError,
    416: InvalidOffsetError,
    429: RateLimitedError,
    501: UnsupportedError,
    503: RateLimitedError,
}


def _error_class(code: str, status: int) -> type[StorageError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServiceUnavailableError
    return StorageError


def _retry_after(response: Mapping[str, Any]) -> float | None:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def from_client_error(
    exc: Any,
    op: str,
    path: str | None,
    *,
    precondition: type[StorageError] = ConditionNotMetError,
) -> StorageError:
    """The aiostore error for a botocore ``ClientError``."""
    response: Mapping[str, Any] = getattr(exc, "response", {}) or {}
    error = response.get("Error", {})
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    code = str(error.get("Code") or status or "Unknown")
    cls = _error_class(code, status)
    if cls is ConditionNotMetError and code != "BucketNotEmpty":
        cls = precondition
    detail = str(error.get("Message") or "").strip()
    message = redact(f"S3 {code} (HTTP {status})" + (f": {detail}" if detail else ""))
    if cls is RateLimitedError:
        return RateLimitedError(
            message, retry_after=_retry_after(response), op=op, path=path, adapter=ADAPTER
        )
    retryable = True if cls is StorageError and status >= 500 else None
    return cls(message, op=op, path=path, adapter=ADAPTER, retryable=retryable)


_TIMEOUTS: tuple[type[BaseException], ...] = (
    boto.ConnectTimeoutError,
    boto.ReadTimeoutError,
    aiohttp.ServerTimeoutError,
    asyncio.TimeoutError,
)
_CONNECTION: tuple[type[BaseException], ...] = (
    boto.EndpointConnectionError,
    boto.ConnectionClosedError,
    boto.ConnectionError,
    boto.ResponseStreamingError,
    boto.IncompleteReadError,
    boto.HTTPClientError,
    aiohttp.ClientError,
    ConnectionError,
)
_CREDENTIALS: tuple[type[BaseException], ...] = (
    boto.NoCredentialsError,
    boto.PartialCredentialsError,
    boto.CredentialRetrievalError,
)
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    boto.BotoCoreError,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)


def from_transport_error(exc: BaseException, op: str, path: str | None) -> StorageError:
    """The aiostore error for a botocore, aiohttp or socket failure (no S3 answer)."""
    text = redact(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, _TIMEOUTS):
        return StorageTimeoutError(f"S3 request timed out ({text})", op=op, path=path, adapter=ADAPTER)
    if isinstance(exc, _CREDENTIALS):
        return PermissionDeniedError(f"no usable S3 credentials ({text})", op=op, path=path, adapter=ADAPTER)
    if isinstance(exc, boto.ParamValidationError):
        return InvalidArgumentError(f"invalid S3 request ({text})", op=op, path=path, adapter=ADAPTER)
    if isinstance(exc, boto.FlexibleChecksumError):
        return IntegrityError(f"S3 checksum mismatch ({text})", op=op, path=path, adapter=ADAPTER)
    if isinstance(exc, _CONNECTION):
        return ServiceUnavailableError(f"S3 connection failed ({text})", op=op, path=path, adapter=ADAPTER)
    return StorageError(f"S3 request failed ({text})", op=op, path=path, adapter=ADAPTER)


@contextlib.contextmanager
def boundary(
    op: str, path: str | None = None, *, precondition: type[StorageError] = ConditionNotMetError
) -> Iterator[None]:
    """Map every SDK exception raised inside to an aiostore error.

    ``precondition`` is what a 412 means for this call: `AlreadyExistsError`
    for ``if_not_exists`` writes, `ConditionNotMetError` otherwise.
    """
    try:
        yield
    except StorageError:
        raise
    except boto.ClientError as exc:
        raise from_client_error(exc, op, path, precondition=precondition) from exc
    except TRANSPORT_ERRORS as exc:
        raise from_transport_error(exc, op, path) from exc

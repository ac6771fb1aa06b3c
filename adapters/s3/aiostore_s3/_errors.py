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

The fast path (`_fast`) raises `S3ResponseError` for an error answer; it goes
through the same code table as botocore's ``ClientError``. A connection that
was never made (refused, connect timeout) gives ``may_have_applied=False``;
one that broke after the request was sent keeps the default (it may have).

Example:
    >>> with boundary("stat", "a.txt"):
    ...     await client.head_object(Bucket="b", Key="a.txt")
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from types import TracebackType
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

__all__ = ["ADAPTER", "S3ResponseError", "boundary", "from_client_error", "from_transport_error"]

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


class S3ResponseError(Exception):
    """An error answer received by the fast path: status, S3 code, message and headers."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(f"S3 {code or status} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def from_s3_error(
    code: str,
    status: int,
    detail: str,
    headers: Mapping[str, Any],
    op: str,
    path: str | None,
    *,
    precondition: type[StorageError] = ConditionNotMetError,
) -> StorageError:
    """The aiostore error for an S3 error answer (``code`` may be empty: status only)."""
    code = code or str(status or "Unknown")
    cls = _error_class(code, status)
    if cls is ConditionNotMetError and code != "BucketNotEmpty":
        cls = precondition
    message = redact(f"S3 {code} (HTTP {status})" + (f": {detail}" if detail else ""))
    if cls is RateLimitedError:
        return RateLimitedError(message, retry_after=_retry_after(headers), op=op, path=path, adapter=ADAPTER)
    retryable = True if cls is StorageError and status >= 500 else None
    return cls(message, op=op, path=path, adapter=ADAPTER, retryable=retryable)


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
    metadata = response.get("ResponseMetadata", {})
    status = int(metadata.get("HTTPStatusCode") or 0)
    detail = str(error.get("Message") or "").strip()
    headers = metadata.get("HTTPHeaders", {})
    return from_s3_error(
        str(error.get("Code") or ""), status, detail, headers, op, path, precondition=precondition
    )


_TIMEOUTS: tuple[type[BaseException], ...] = (
    boto.ConnectTimeoutError,
    boto.ReadTimeoutError,
    aiohttp.ServerTimeoutError,
    asyncio.TimeoutError,
)
# no connection was made: the request cannot have taken effect
_NOT_SENT: tuple[type[BaseException], ...] = (
    boto.ConnectTimeoutError,
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    socket.gaierror,
)


def _never_sent(exc: BaseException) -> bool:
    """Whether the request cannot have left: the connection itself failed.

    aiobotocore wraps a reset *after* sending in ``EndpointConnectionError`` too,
    so that one counts only when the aiohttp error inside is a connect failure.
    """
    if isinstance(exc, boto.EndpointConnectionError) and not isinstance(exc, _NOT_SENT):
        return isinstance(getattr(exc, "kwargs", {}).get("error"), _NOT_SENT)
    return isinstance(exc, _NOT_SENT)


_CONNECTION: tuple[type[BaseException], ...] = (
    boto.EndpointConnectionError,
    boto.ConnectionClosedError,
    boto.ConnectionError,
    boto.ResponseStreamingError,
    boto.IncompleteReadError,
    boto.HTTPClientError,
    aiohttp.ClientError,
    ConnectionError,
    asyncio.IncompleteReadError,
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
    asyncio.IncompleteReadError,
)


def from_transport_error(exc: BaseException, op: str, path: str | None) -> StorageError:
    """The aiostore error for a botocore, aiohttp or socket failure (no S3 answer)."""
    text = redact(f"{type(exc).__name__}: {exc}")
    sent = False if _never_sent(exc) else None
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return ServiceUnavailableError(
            f"TLS certificate refused ({text})", op=op, path=path, adapter=ADAPTER, retryable=False
        )
    if isinstance(exc, _TIMEOUTS):
        return StorageTimeoutError(
            f"S3 request timed out ({text})", op=op, path=path, adapter=ADAPTER, may_have_applied=sent
        )
    if isinstance(exc, _CREDENTIALS):
        return PermissionDeniedError(f"no usable S3 credentials ({text})", op=op, path=path, adapter=ADAPTER)
    if isinstance(exc, boto.ParamValidationError):
        return InvalidArgumentError(f"invalid S3 request ({text})", op=op, path=path, adapter=ADAPTER)
    if isinstance(exc, boto.FlexibleChecksumError):
        return IntegrityError(f"S3 checksum mismatch ({text})", op=op, path=path, adapter=ADAPTER)
    if isinstance(exc, _CONNECTION):
        return ServiceUnavailableError(
            f"S3 connection failed ({text})", op=op, path=path, adapter=ADAPTER, may_have_applied=sent
        )
    return StorageError(f"S3 request failed ({text})", op=op, path=path, adapter=ADAPTER)


class boundary:  # used like a function: ``with boundary("read", path):``
    """Map every SDK exception raised inside to an aiostore error.

    ``precondition`` is what a 412 means for this call: `AlreadyExistsError`
    for ``if_not_exists`` writes, `ConditionNotMetError` otherwise. (A class
    rather than a generator context manager: it is entered on every request.)
    """

    __slots__ = ("_op", "_path", "_precondition")

    def __init__(
        self, op: str, path: str | None = None, *, precondition: type[StorageError] = ConditionNotMetError
    ) -> None:
        self._op = op
        self._path = path
        self._precondition = precondition

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or isinstance(exc, StorageError):
            return
        op, path = self._op, self._path
        if isinstance(exc, S3ResponseError):
            error = from_s3_error(
                exc.code, exc.status, exc.message, exc.headers, op, path, precondition=self._precondition
            )
        elif isinstance(exc, boto.ClientError):
            error = from_client_error(exc, op, path, precondition=self._precondition)
        elif isinstance(exc, TRANSPORT_ERRORS):
            error = from_transport_error(exc, op, path)
        else:
            return
        raise error from exc

"""The aiostore error tree.

Every error raised by a store, a service or an adapter is a `StorageError`.
Adapters map their SDK's exceptions to the most specific class below at one
boundary; nothing else leaks out.

    StorageError                              (op, path, adapter, retryable)
    ├── NotFoundError                         + FileNotFoundError
    │   └── StoragerNotFoundError             bucket / container / root missing
    ├── AlreadyExistsError                    + FileExistsError
    ├── ConditionNotMetError                  a precondition (ETag, generation) failed
    ├── PermissionDeniedError                 + PermissionError
    ├── InvalidArgumentError                  + ValueError
    │   ├── InvalidPathError
    │   ├── InvalidOffsetError
    │   └── EntityTooSmallError               a non-final segment part under the minimum
    ├── UnsupportedError                      + NotImplementedError (capability missing)
    ├── AdapterNotFoundError                  + LookupError (unknown adapter name or scheme)
    ├── RateLimitedError                      retryable (429, SlowDown, 503)
    ├── ServiceUnavailableError               retryable (5xx, connection reset)
    ├── StorageTimeoutError                   + TimeoutError, retryable
    ├── IntegrityError                        checksum mismatch, retryable
    └── ClosedError                           + RuntimeError (store used after aclose)
"""

from __future__ import annotations

__all__ = [
    "AdapterNotFoundError",
    "AlreadyExistsError",
    "ClosedError",
    "ConditionNotMetError",
    "EntityTooSmallError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidOffsetError",
    "InvalidPathError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "StorageError",
    "StorageTimeoutError",
    "StoragerNotFoundError",
    "UnsupportedError",
]


class StorageError(Exception):
    """Base of every aiostore error.

    Attributes:
        message: what went wrong, without secrets.
        op: the operation, e.g. ``"read"``.
        path: the path relative to the store's work dir, when there is one.
        adapter: the adapter name, e.g. ``"s3"``.
        retryable: whether trying the same call again may succeed.
        may_have_applied: whether the request may have taken effect before it
            failed; a call that is not idempotent is retried only when this is False.
    """

    default_retryable = False
    default_may_have_applied = True

    def __init__(
        self,
        message: str,
        *,
        op: str | None = None,
        path: str | None = None,
        adapter: str | None = None,
        retryable: bool | None = None,
        may_have_applied: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.op = op
        self.path = path
        self.adapter = adapter
        self.retryable = self.default_retryable if retryable is None else retryable
        self.may_have_applied = (
            self.default_may_have_applied if may_have_applied is None else may_have_applied
        )

    def with_context(
        self, *, op: str | None = None, path: str | None = None, adapter: str | None = None
    ) -> StorageError:
        """Fill in context the raiser did not know; returns ``self``."""
        self.op = self.op or op
        self.path = self.path if self.path is not None else path
        self.adapter = self.adapter or adapter
        return self

    def __str__(self) -> str:
        parts = [f"op={self.op}"] if self.op else []
        if self.path is not None:
            parts.append(f"path={self.path!r}")
        if self.adapter:
            parts.append(f"adapter={self.adapter}")
        if self.retryable:
            parts.append("retryable")
        return f"{self.message} ({', '.join(parts)})" if parts else self.message

    def __reduce__(self) -> tuple[object, ...]:
        kwargs = {
            "op": self.op,
            "path": self.path,
            "adapter": self.adapter,
            "retryable": self.retryable,
            "may_have_applied": self.may_have_applied,
        }
        return (_rebuild, (type(self), self.message, kwargs))


def _rebuild(cls: type[StorageError], message: str, kwargs: dict[str, object]) -> StorageError:
    return cls(message, **kwargs)  # type: ignore[arg-type]


class NotFoundError(StorageError, FileNotFoundError):
    """The object does not exist."""


class StoragerNotFoundError(NotFoundError):
    """The bucket, container or root directory does not exist."""


class AlreadyExistsError(StorageError, FileExistsError):
    """The object exists and the call asked for it not to (``if_not_exists``)."""


class ConditionNotMetError(StorageError):
    """A precondition failed: the object changed under an ETag or generation pin."""


class PermissionDeniedError(StorageError, PermissionError):
    """The credentials are wrong or lack the permission."""


class InvalidArgumentError(StorageError, ValueError):
    """An argument is out of range or malformed; raised before any I/O."""


class InvalidPathError(InvalidArgumentError):
    """A path breaks the path rules (``..``, empty segment, NUL, too long...)."""


class InvalidOffsetError(InvalidArgumentError):
    """A read offset is negative or past the end of the object."""


class EntityTooSmallError(InvalidArgumentError):
    """A segment part (not the last) is smaller than the service's minimum."""


class UnsupportedError(StorageError, NotImplementedError):
    """The adapter does not have the capability this call needs."""


class AdapterNotFoundError(StorageError, LookupError):
    """No adapter is registered under that name or URL scheme."""


class RateLimitedError(StorageError):
    """The service asked us to slow down (429, SlowDown, 503); it did not act."""

    default_retryable = True
    default_may_have_applied = False

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServiceUnavailableError(StorageError):
    """The service failed (5xx) or the connection broke.

    Adapters pass ``may_have_applied=False`` when the request never left
    (connection refused), so even non-idempotent calls may be retried.
    """

    default_retryable = True


class StorageTimeoutError(StorageError, TimeoutError):
    """A connect, stall, attempt or total timeout expired."""

    default_retryable = True


class IntegrityError(StorageError):
    """Data did not match its checksum: a corrupted transfer, never returned as success."""

    default_retryable = True
    default_may_have_applied = False


class ClosedError(StorageError, RuntimeError):
    """The store or service was used after ``aclose()``."""


def first_failure(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error a caller sees for a failed task group (parallel ranges, delete batches):
    the first `StorageError`, else the first error of any kind. An exception group
    would slip past ``except StorageError``."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        error = pending.pop(0)
        if isinstance(error, BaseExceptionGroup):
            pending[:0] = list(error.exceptions)
        else:
            leaves.append(error)
    return next((error for error in leaves if isinstance(error, StorageError)), leaves[0])

"""The fs adapter's one error boundary (OSError -> aiostore errors) and its thread hop.

Every blocking helper runs in the adapter's thread pool (`_pool`) through `run_io`,
which maps what it raises in one place. A hop is never abandoned: when the awaiting
task is cancelled, `run_io` waits for the thread to finish (so no file operation
outlives the cancellation), tells it through ``cancel`` to skip publishing, and
undoes a result nobody will receive (an open file is closed), then re-raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, TypeVarTuple, Unpack

from .._errors import (
    AlreadyExistsError,
    InvalidPathError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    StorageTimeoutError,
)
from ._pool import Job, pool_for

__all__ = ["ADAPTER", "Flag", "map_os_error", "os_errors", "run_io", "settle"]

ADAPTER = "fs"
T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# Operations for which "a directory is in the way" simply means "no such object".
_LOOKUPS = frozenset({"stat", "read", "delete", "list", "list_segments", "statistical"})
_DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_BAD_PATH = frozenset({errno.ENAMETOOLONG, errno.ELOOP, errno.EINVAL})
_TRANSIENT = frozenset({errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.ESTALE, errno.ENOLCK})
_IN_THE_WAY = {
    errno.ENOTDIR: "a file is in the way of a directory in this path",
    errno.EISDIR: "a directory is in the way of the object",
}


def map_os_error(exc: OSError, *, op: str, path: str | None) -> StorageError:
    """The most specific `StorageError` for an OSError, without absolute paths."""
    code = exc.errno or 0
    reason = f"{exc.strerror or type(exc).__name__} [{errno.errorcode.get(code, code)}]"
    cls, message = _classify(code, op, reason)
    return cls(message, op=op, path=path, adapter=ADAPTER, retryable=code in _TRANSIENT or None)


def _classify(code: int, op: str, reason: str) -> tuple[type[StorageError], str]:
    if code == errno.ENOENT:
        return NotFoundError, f"not found: {reason}"
    if code in _IN_THE_WAY:
        if op in _LOOKUPS:
            return NotFoundError, f"not found: {_IN_THE_WAY[code]}"
        return InvalidPathError, f"{_IN_THE_WAY[code]}: {reason}"
    if code == errno.EEXIST:
        return AlreadyExistsError, f"already exists: {reason}"
    if code in _DENIED:
        return PermissionDeniedError, f"permission denied: {reason}"
    if code in _BAD_PATH:
        return InvalidPathError, f"the file system refused the path: {reason}"
    if code == errno.ETIMEDOUT:
        return StorageTimeoutError, f"timed out: {reason}"
    return StorageError, f"file system error: {reason}"


@contextlib.contextmanager
def os_errors(op: str, path: str | None) -> Iterator[None]:
    """Map OSError to aiostore errors and fill in missing context on ours."""
    try:
        yield
    except StorageError as error:
        error.with_context(op=op, path=path, adapter=ADAPTER)
        raise
    except OSError as exc:
        raise map_os_error(exc, op=op, path=path) from exc


async def run_io(
    op: str,
    path: str | None,
    func: Callable[[Unpack[Ts]], T],
    *args: *Ts,
    cancel: Flag | None = None,
    undo: Callable[[T], object] | None = None,
) -> T:
    """Run ``func(*args)`` in one thread hop; errors mapped at this boundary.

    On cancellation ``cancel`` is set, the thread is waited for, and ``undo``
    receives a result that succeeded after all (e.g. to close an opened file).
    """
    job = pool_for(asyncio.get_running_loop()).submit(func, args)
    try:
        return await job.future
    except asyncio.CancelledError:
        if cancel is not None:
            cancel.set()
        await job.finished()
        if undo is not None and job.ok:
            await settle(pool_for(asyncio.get_running_loop()).submit(undo, (job.value,)))
        raise
    except StorageError as error:
        error.with_context(op=op, path=path, adapter=ADAPTER)
        raise
    except OSError as exc:
        raise map_os_error(exc, op=op, path=path) from exc


async def settle(job: Job[Any]) -> None:
    """Wait until the thread is done with ``job``; its error, if any, is dropped
    (the caller is already failing)."""
    await job.finished()
    if not job.future.done():
        job.future.cancel()
    elif not job.future.cancelled():
        job.future.exception()


class Flag:
    """A cancellation flag the loop sets and a thread reads (cheaper than an Event)."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

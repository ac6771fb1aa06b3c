"""The one retry layer every adapter goes through.

Retries transient errors (``StorageError.retryable``) with full-jitter
exponential backoff, honours ``Retry-After`` within a cap, spends from a
per-store token bucket so a storm of failures cannot multiply the load, and
stops at an overall deadline. Calls that are not idempotent are retried only when
the error says the request cannot have taken effect.

Example:
    >>> store = aiostore.connect("s3://b", retry=RetryOptions(attempts=5, deadline=60))
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ._errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    RateLimitedError,
    ServiceUnavailableError,
    StorageError,
    StorageTimeoutError,
)
from ._watchdog import Watchdog

__all__ = ["RetryBudget", "RetryOptions", "Retrier", "TimeoutOptions"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryOptions:
    """How failed calls are retried; immutable. Defaults follow botocore's standard mode.

    Attributes:
        attempts: tries in all, the first included (1 turns retries off).
        base_delay: the backoff base in seconds; try n sleeps up to base * 2**n.
        max_delay: the cap of one backoff sleep.
        retry_after_cap: the longest ``Retry-After`` honoured.
        budget: tokens in the per-store bucket; a retry costs ``retry_cost``
            (``timeout_cost`` after a timeout) and a success refunds one.
        deadline: seconds one call may take with all its retries; None for no limit.
    """

    attempts: int = 3
    base_delay: float = 0.1
    max_delay: float = 20.0
    retry_after_cap: float = 30.0
    budget: int = 500
    retry_cost: int = 5
    timeout_cost: int = 10
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise InvalidArgumentError(f"attempts must be at least 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0 or self.retry_after_cap < 0:
            raise InvalidArgumentError("delays must not be negative")
        if self.deadline is not None and self.deadline <= 0:
            raise InvalidArgumentError(f"deadline must be positive, got {self.deadline}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeoutOptions:
    """Timeouts in seconds (None: no limit); immutable.

    Attributes:
        connect: establishing a connection (applied by the adapters' HTTP pools).
        attempt: one attempt of one call; a timeout wraps one attempt, not the retry loop.
        stall: a stream that moves no byte for this long fails (and a read resumes).
        total: one call with all its retries (same as ``RetryOptions.deadline``).
    """

    connect: float | None = 10.0
    attempt: float | None = 60.0
    stall: float | None = 30.0
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "attempt", "stall", "total"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidArgumentError(f"timeout {name} must be positive, got {value}")


class RetryBudget:
    """A token bucket shared by one store's calls."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tokens = capacity

    def spend(self, cost: int) -> bool:
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True

    def refund(self, amount: int = 1) -> None:
        self.tokens = min(self.capacity, self.tokens + amount)


class Retrier:
    """Runs one call with retries, per-attempt timeouts and the shared budget."""

    def __init__(self, options: RetryOptions, timeouts: TimeoutOptions) -> None:
        self.options = options
        self.timeouts = timeouts
        self.budget = RetryBudget(options.budget)
        self.retries = 0
        self._watchdog = Watchdog()

    def _deadline(self) -> float | None:
        deadline, total = self.options.deadline, self.timeouts.total
        if total is None:
            return None if deadline is None else time.monotonic() + deadline
        return time.monotonic() + (total if deadline is None else min(deadline, total))

    async def call(
        self, make: Callable[[], Awaitable[T]], *, idempotent: bool, created_if_absent: bool = False
    ) -> T:
        """Await ``make()`` until it succeeds, a permanent error, or the budget ends.

        ``created_if_absent`` marks a create guarded by a precondition (If-None-Match,
        ifGenerationMatch=0): retrying it is safe, but if an earlier attempt may have
        applied, an `AlreadyExistsError` on the retry may be about our own object, so
        the caller gets an honest "outcome unknown" error instead.
        """
        deadline = self._deadline()
        attempt = 0
        maybe_applied = False
        while True:
            attempt += 1
            try:
                result = await self._attempt(make, deadline)
            except AlreadyExistsError as error:
                if created_if_absent and maybe_applied:
                    raise ServiceUnavailableError(
                        "the create may have succeeded before its answer was lost; the object "
                        "exists now but whether this call made it is unknown",
                        retryable=False,
                        may_have_applied=True,
                    ) from error
                raise
            except StorageError as error:
                delay = self._retry_delay(error, attempt, idempotent, deadline)
                if delay is None:
                    raise
                maybe_applied = maybe_applied or error.may_have_applied
                self.retries += 1
                await asyncio.sleep(delay)
                continue
            self.budget.refund()
            return result

    async def _attempt(self, make: Callable[[], Awaitable[T]], deadline: float | None) -> T:
        limit = self.timeouts.attempt
        if deadline is not None:
            left = deadline - time.monotonic()
            limit = left if limit is None else min(limit, left)
        if limit is None:
            return await make()
        guard = self._watchdog.arm(max(limit, 0.001))
        try:
            return await make()
        except asyncio.CancelledError as exc:
            if guard.settle():  # our watchdog cancelled, and nobody else did
                raise StorageTimeoutError(f"no answer within {limit:.3g} s") from exc
            raise
        except TimeoutError as exc:
            if isinstance(exc, StorageError):
                raise
            raise StorageTimeoutError(f"no answer within {limit:.3g} s") from exc
        finally:
            self._watchdog.disarm(guard)

    def _retry_delay(
        self, error: StorageError, attempt: int, idempotent: bool, deadline: float | None
    ) -> float | None:
        if not error.retryable or attempt >= self.options.attempts:
            return None
        if not idempotent and error.may_have_applied:
            return None
        timed_out = isinstance(error, StorageTimeoutError)
        cost = self.options.timeout_cost if timed_out else self.options.retry_cost
        delay = self._backoff(attempt, error)
        if deadline is not None and time.monotonic() + delay >= deadline:
            return None
        if not self.budget.spend(cost):
            return None
        return delay

    def _backoff(self, attempt: int, error: StorageError) -> float:
        ceiling = min(self.options.max_delay, self.options.base_delay * 2 ** (attempt - 1))
        delay = random.uniform(0, ceiling)
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            delay = max(delay, min(error.retry_after, self.options.retry_after_cap))
        return delay

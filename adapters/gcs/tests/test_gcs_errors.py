"""The one mapping boundary: HTTP statuses and connection failures to aiostore errors."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiostore_gcs._errors import response_error

import aiostore
from aiostore import (
    AlreadyExistsError,
    ConditionNotMetError,
    IntegrityError,
    InvalidArgumentError,
    InvalidOffsetError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetryOptions,
    ServiceUnavailableError,
    StorageError,
    StoragerNotFoundError,
    StorageTimeoutError,
)

GOOGLE_BODY = '{"error": {"code": %d, "message": "%s", "errors": []}}'


@pytest.mark.parametrize(
    ("status", "message", "expected", "retryable"),
    [
        (400, "Invalid argument", InvalidArgumentError, False),
        (400, "Provided CRC32C abc does not match the calculated CRC32C", IntegrityError, True),
        (401, "Unauthorized", PermissionDeniedError, False),
        (403, "Forbidden", PermissionDeniedError, False),
        (404, "No such object: b/o", NotFoundError, False),
        (404, "The specified bucket does not exist.", StoragerNotFoundError, False),
        (408, "Request timeout", StorageTimeoutError, True),
        (409, "Conflict", AlreadyExistsError, False),
        (412, "Precondition Failed", ConditionNotMetError, False),
        (416, "Requested range not satisfiable", InvalidOffsetError, False),
        (429, "Too many requests", RateLimitedError, True),
        (500, "Backend Error", ServiceUnavailableError, True),
        (503, "Service Unavailable", ServiceUnavailableError, True),
    ],
)
def test_status_mapping(status: int, message: str, expected: type[StorageError], retryable: bool) -> None:
    error = response_error(status, GOOGLE_BODY % (status, message))
    assert type(error) is expected
    assert error.retryable is retryable
    assert error.message.startswith(f"GCS {status}: ")
    assert "{" not in error.message, "Google's message, not the raw JSON"


def test_retry_after_is_kept() -> None:
    error = response_error(429, "slow down", {"Retry-After": "7"})
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 7.0


def test_overrides_win() -> None:
    assert type(response_error(412, "x", overrides={412: AlreadyExistsError})) is AlreadyExistsError


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_connection_is_retried_even_for_writes(gcs_options: dict[str, Any]) -> None:
    """Nothing was sent, so even a plain (non-idempotent) write may be tried again."""
    options = {**gcs_options, "endpoint": f"http://127.0.0.1:{_closed_port()}"}
    retry = RetryOptions(attempts=2, base_delay=0.001, max_delay=0.01)
    async with aiostore.connect("gs://nowhere", retry=retry, **options) as store:
        with pytest.raises(ServiceUnavailableError) as info:
            await store.write("x", b"x")
    assert info.value.retryable
    assert not info.value.may_have_applied
    assert (info.value.op, info.value.path, info.value.adapter) == ("write", "x", "gcs")


async def test_missing_bucket(gcs_options: dict[str, Any]) -> None:
    async with aiostore.connect("gs://no-such-bucket-aiostore", **gcs_options) as store:
        with pytest.raises(StoragerNotFoundError):
            [obj async for obj in store.list()]
        with pytest.raises(NotFoundError):
            await store.stat("x")

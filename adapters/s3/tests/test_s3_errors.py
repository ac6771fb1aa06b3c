"""The error boundary and the redaction of secrets, without a server.

The botocore exceptions below are real botocore classes built from the error
documents S3 sends; nothing of the SDK is mocked.
"""

from __future__ import annotations

import logging
import socket

import aiohttp
import pytest
from aiostore_s3._errors import boundary
from aiostore_s3._redact import install_log_redaction, redact, remember_secret
from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

import aiostore


def _client_error(
    code: str, status: int, message: str = "m", headers: dict[str, str] | None = None
) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
    }
    return ClientError(response, "GetObject")  # type: ignore[arg-type,unused-ignore]


CASES = [
    ("NoSuchKey", 404, aiostore.NotFoundError),
    ("404", 404, aiostore.NotFoundError),
    ("NoSuchUpload", 404, aiostore.NotFoundError),
    ("NoSuchBucket", 404, aiostore.StoragerNotFoundError),
    ("AccessDenied", 403, aiostore.PermissionDeniedError),
    ("SignatureDoesNotMatch", 403, aiostore.PermissionDeniedError),
    ("InvalidAccessKeyId", 403, aiostore.PermissionDeniedError),
    ("403", 403, aiostore.PermissionDeniedError),
    ("SlowDown", 503, aiostore.RateLimitedError),
    ("ServiceUnavailable", 503, aiostore.RateLimitedError),
    ("TooManyRequests", 429, aiostore.RateLimitedError),
    ("InternalError", 500, aiostore.ServiceUnavailableError),
    ("WeirdNewError", 502, aiostore.ServiceUnavailableError),
    ("InvalidRange", 416, aiostore.InvalidOffsetError),
    ("BadDigest", 400, aiostore.IntegrityError),
    ("XAmzContentSHA256Mismatch", 400, aiostore.IntegrityError),
    ("EntityTooSmall", 400, aiostore.EntityTooSmallError),
    ("PreconditionFailed", 412, aiostore.ConditionNotMetError),
    ("BucketAlreadyOwnedByYou", 409, aiostore.AlreadyExistsError),
    ("NotImplemented", 501, aiostore.UnsupportedError),
    ("InvalidArgument", 400, aiostore.InvalidArgumentError),
    ("RequestTimeout", 400, aiostore.StorageTimeoutError),
]


@pytest.mark.parametrize(("code", "status", "expected"), CASES)
def test_client_errors_map_to_the_most_specific_class(
    code: str, status: int, expected: type[aiostore.StorageError]
) -> None:
    with pytest.raises(aiostore.StorageError) as info, boundary("read", "a/b.txt"):
        raise _client_error(code, status)
    assert type(info.value) is expected
    assert (info.value.op, info.value.path, info.value.adapter) == ("read", "a/b.txt", "s3")
    assert isinstance(info.value.__cause__, ClientError)
    assert code in str(info.value)


def test_retryable_flags_follow_the_class() -> None:
    for code, status, retryable in [
        ("SlowDown", 503, True),
        ("InternalError", 500, True),
        ("NoSuchKey", 404, False),
    ]:
        with pytest.raises(aiostore.StorageError) as info, boundary("read"):
            raise _client_error(code, status)
        assert info.value.retryable is retryable


def test_retry_after_is_kept() -> None:
    with pytest.raises(aiostore.RateLimitedError) as info, boundary("write"):
        raise _client_error("SlowDown", 503, headers={"retry-after": "3"})
    assert info.value.retry_after == 3.0


def test_a_failed_precondition_on_if_not_exists_is_already_exists() -> None:
    with (
        pytest.raises(aiostore.AlreadyExistsError),
        boundary("write", precondition=aiostore.AlreadyExistsError),
    ):
        raise _client_error("PreconditionFailed", 412)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), aiostore.ServiceUnavailableError),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:9"), aiostore.StorageTimeoutError),
        (NoCredentialsError(), aiostore.PermissionDeniedError),
        (aiohttp.ClientPayloadError("truncated"), aiostore.ServiceUnavailableError),
        (ConnectionResetError("reset"), aiostore.ServiceUnavailableError),
        (TimeoutError(), aiostore.StorageTimeoutError),
    ],
)
def test_transport_errors_are_mapped(exc: BaseException, expected: type[aiostore.StorageError]) -> None:
    with pytest.raises(expected) as info, boundary("stat", "x"):
        raise exc
    assert info.value.__cause__ is exc


def test_programming_errors_are_not_swallowed() -> None:
    with pytest.raises(KeyError), boundary("stat"):
        raise KeyError("a bug in our code stays a bug")


def test_redaction_masks_signatures_tokens_and_keys() -> None:
    url = "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKID%2F20250101&X-Amz-Signature=0123abcd&X-Amz-Expires=60"
    assert "0123abcd" not in redact(url)
    assert "AKID" not in redact(url)
    assert "X-Amz-Expires=60" in redact(url)
    header = "{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKID/x, Signature=" + "ab" * 32 + "'}"
    assert "ab" * 32 not in redact(header)
    body = "<Error><SignatureProvided>deadbeef</SignatureProvided><StringToSign>AWS4</StringToSign></Error>"
    assert "deadbeef" not in redact(body)
    params = "{'SSECustomerKey': 'c2VjcmV0LWtleQ==', 'Key': 'a.txt'}"
    assert redact(params) == "{'SSECustomerKey': '***', 'Key': 'a.txt'}"


def test_remembered_secrets_are_masked_in_messages() -> None:
    secret = "a-secret-value-that-must-not-leak"
    remember_secret(secret)
    with pytest.raises(aiostore.StorageError) as info, boundary("read"):
        raise _client_error("AccessDenied", 403, message=f"bad key {secret}")
    assert secret not in str(info.value)


def test_sdk_debug_logs_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    logger = logging.getLogger("botocore.auth")
    with caplog.at_level(logging.DEBUG, logger="botocore.auth"):
        logger.debug("Signature:\n%s", "f" * 64)
    assert "f" * 64 not in caplog.text
    assert "Signature" in caplog.text


@pytest.mark.parametrize(
    ("exc", "applied"),
    [
        (EndpointConnectionError(endpoint_url="http://h", error=socket.gaierror("no such host")), False),
        # aiobotocore wraps a reset after the request went out in the same class
        (EndpointConnectionError(endpoint_url="http://h", error=aiohttp.ClientOSError(104, "reset")), True),
        (aiohttp.ClientOSError(104, "reset"), True),
        (aiohttp.ServerDisconnectedError(), True),
        (aiohttp.ConnectionTimeoutError(), False),
        (aiohttp.SocketTimeoutError(), True),
    ],
)
def test_only_a_failed_connect_says_the_request_was_not_sent(exc: BaseException, applied: bool) -> None:
    with pytest.raises(aiostore.StorageError) as info, boundary("init_segment", "x"):
        raise exc
    assert info.value.retryable
    assert info.value.may_have_applied is applied

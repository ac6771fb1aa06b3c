"""The fast path's SigV4 signer gives byte-for-byte the Authorization botocore gives.

botocore signs first, with its own clock; we then sign the same request with the
timestamp botocore put in X-Amz-Date and compare. Nothing in botocore is patched.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from aiostore_s3._sigv4 import Credentials, SigV4Signer, canonical_query, uri_encode_path
from botocore.auth import S3SigV4Auth  # type: ignore[import-untyped,unused-ignore]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped,unused-ignore]
from botocore.credentials import Credentials as BotoCredentials  # type: ignore[import-untyped,unused-ignore]

HOST = "127.0.0.1:8333"
CASES = [
    pytest.param("GET", "bucket/plain.txt", {}, {}, b"", id="get"),
    pytest.param("HEAD", "bucket/dir/ünï 日本 +#?%.txt", {}, {}, b"", id="unicode-key"),
    pytest.param(
        "GET",
        "bucket",
        {
            "list-type": "2",
            "prefix": "a b/ü",
            "delimiter": "/",
            "max-keys": "1000",
            "continuation-token": "x+y/z=",
        },
        {},
        b"",
        id="list",
    ),
    pytest.param(
        "PUT",
        "bucket/a.bin",
        {},
        {"Content-Type": "text/plain", "x-amz-meta-k": "v  w", "x-amz-checksum-crc32c": "AAAAAA=="},
        b"hello world",
        id="put",
    ),
    pytest.param(
        "PUT", "bucket/a.bin", {"partNumber": "3", "uploadId": "abc~def"}, {}, b"x" * 100, id="part"
    ),
    pytest.param("DELETE", "bucket/a.bin", {}, {}, b"", id="delete"),
    pytest.param(
        "GET",
        "bucket",
        {"list-type": "2", "prefix": "w/ünï +%&=?#", "max-keys": "1000", "encoding-type": "url"},
        {},
        b"",
        id="list-url-encoded-recursive",
    ),
    pytest.param(
        "GET",
        "bucket/dir/a b+c%20d#e?f&g=h;i,j@k~l.bin",
        {},
        {"Range": "bytes=5-", "If-Match": '"0123abcd"', "x-amz-checksum-mode": "ENABLED"},
        b"",
        id="get-range-if-match",
    ),
    pytest.param(
        "PUT",
        "bucket/sse.bin",
        {},
        {
            "x-amz-server-side-encryption-customer-algorithm": "AES256",
            "x-amz-server-side-encryption-customer-key": "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=",
            "x-amz-server-side-encryption-customer-key-md5": "bWQ1bWQ1bWQ1bWQ1bWQ1bQ==",
            "x-amz-storage-class": "STANDARD_IA",
            "Cache-Control": "max-age=60",
            "If-None-Match": "*",
            "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
        },
        b"hello",
        id="put-sse-c-conditional",
    ),
    pytest.param("HEAD", "bucket/emoji-\U0001f389 (1).txt", {}, {"If-Match": '"x"'}, b"", id="head-emoji"),
]


def botocore_sign(
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    token: str | None,
) -> dict[str, str]:
    url = f"http://{HOST}{uri_encode_path('/' + path)}"
    request = AWSRequest(method=method, url=url, params=query, headers=dict(headers), data=body)
    request.prepare()  # the URL with its query, as botocore sends it
    creds = BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    S3SigV4Auth(creds, "s3", "us-east-1").add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


@pytest.mark.parametrize("token", [None, "session-token/=+"])
@pytest.mark.parametrize(("method", "path", "query", "headers", "body"), CASES)
def test_signature_matches_botocore(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, token: str | None
) -> None:
    expected = botocore_sign(method, path, query, headers, body, token)
    when = datetime.strptime(expected["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = SigV4Signer("us-east-1").sign(
        method,
        HOST,
        uri_encode_path("/" + path),
        query,
        headers,
        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token),
        payload_hash=hashlib.sha256(body).hexdigest(),
        now=when,
    )
    assert ours["authorization"] == expected["authorization"]
    assert ours["x-amz-content-sha256"] == expected["x-amz-content-sha256"]


@pytest.mark.parametrize(("method", "path", "query", "headers", "body"), CASES)
def test_a_canonical_query_string_signs_like_the_mapping(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
) -> None:
    """The fast path signs the query string it sends; it must equal the mapping's canonical form."""
    signer = SigV4Signer("us-east-1")
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    path = uri_encode_path("/" + path)
    by_mapping = signer.sign(method, HOST, path, query, headers, creds, now=when)
    by_string = signer.sign(method, HOST, path, canonical_query(query), headers, creds, now=when)
    assert by_mapping == by_string


def test_the_clock_is_read_per_second() -> None:
    signer = SigV4Signer("us-east-1")
    creds = Credentials("AKID", "secret")
    stamp = signer.sign("GET", HOST, "/b/k", "", {}, creds)["x-amz-date"]
    assert len(stamp) == 16
    assert stamp.endswith("Z")
    assert (
        abs(
            datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) - datetime.now(UTC)
        ).total_seconds()
        < 5
    )


def test_secret_is_not_in_the_repr() -> None:
    creds = Credentials("AKID", "very-secret", "tok-secret")
    assert "very-secret" not in repr(creds)
    assert "tok-secret" not in repr(creds)

"""Checksums computed for uploads and checked on downloads."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from aiostore_s3._checksums import Verifier, digest, response_verifier, upload_params
from aiostore_s3._config import parse_options
from aiostore_s3._etag import etag_md5, etag_verifier

import aiostore

CHECK = b"123456789"  # the standard check input of CRC catalogues


def _b64(value: int) -> str:
    return base64.b64encode(value.to_bytes(4, "big")).decode()


def test_known_crc_values() -> None:
    assert digest("crc32c", CHECK) == _b64(0xE3069283)
    assert digest("crc32", CHECK) == _b64(0xCBF43926)
    assert digest("md5", b"") == "1B2M2Y8AsgTpgAmY7PhCfg=="


def test_upload_params_name_the_botocore_member() -> None:
    assert upload_params("crc32c", CHECK) == {"ChecksumCRC32C": _b64(0xE3069283)}
    assert upload_params("crc32", CHECK) == {"ChecksumCRC32": _b64(0xCBF43926)}
    assert set(upload_params("md5", CHECK)) == {"ContentMD5"}
    assert upload_params("none", CHECK) == {}


def test_memoryview_and_bytearray_hash_like_bytes() -> None:
    assert (
        digest("crc32c", memoryview(CHECK)) == digest("crc32c", bytearray(CHECK)) == digest("crc32c", CHECK)
    )


def test_a_crc32c_of_views_into_a_large_buffer_matches_its_bytes() -> None:
    """A parallel read feeds its check slices of a writable buffer (not bytes), which
    the CRC32C extension refuses as they are; they go through in small copies."""
    data = bytearray(os.urandom(200_000 + 3))
    view = memoryview(data)
    verifier = Verifier("crc32c", digest("crc32c", bytes(data)))
    for start in range(0, len(data), 70_001):  # slices that cross the 64 KiB copies
        verifier.update(view[start : start + 70_001])
    verifier.finish()


@pytest.mark.parametrize("algorithm", ["crc32c", "crc32", "sha256", "sha1"])
def test_verifier_accepts_matching_data_in_chunks(algorithm: str) -> None:
    verifier = Verifier(algorithm, digest(algorithm, CHECK * 3))
    for _ in range(3):
        verifier.update(CHECK)
    verifier.finish()


def test_verifier_refuses_a_mismatch() -> None:
    verifier = Verifier("crc32c", digest("crc32c", CHECK), path="a.bin")
    verifier.update(CHECK[:-1] + b"0")
    with pytest.raises(aiostore.IntegrityError) as info:
        verifier.finish()
    assert info.value.retryable
    assert info.value.path == "a.bin"
    assert "CRC32C" in str(info.value)


def test_response_verifier_picks_a_full_object_checksum() -> None:
    verifier = response_verifier({"x-amz-checksum-crc32": digest("crc32", CHECK)})
    assert verifier is not None
    assert verifier.algorithm == "crc32"
    assert response_verifier({"X-Amz-Checksum-CRC32C": digest("crc32c", CHECK)}) is not None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-amz-checksum-crc32c": "Drnouw==-2"},
        {"x-amz-checksum-crc32c": "Drnouw==", "x-amz-checksum-type": "COMPOSITE"},
        {"x-amz-checksum-crc64nvme": "AAAAAAAAAAA="},
    ],
    ids=["none", "composite-suffix", "composite-type", "crc64-unsupported"],
)
def test_composite_or_unknown_checksums_are_not_checked(headers: dict[str, str]) -> None:
    assert response_verifier(headers) is None


MD5 = hashlib.md5(CHECK, usedforsecurity=False)


@pytest.mark.parametrize(
    "headers",
    [
        {"ETag": f'"{MD5.hexdigest()}"'},
        {"etag": MD5.hexdigest().upper()},
        {"etag": f'"{MD5.hexdigest()}"', "x-amz-server-side-encryption": "AES256"},
    ],
    ids=["quoted", "upper-case", "sse-s3"],
)
def test_a_single_part_etag_is_checked_as_md5(headers: dict[str, str]) -> None:
    assert etag_md5(headers) == base64.b64encode(MD5.digest()).decode()
    verifier = etag_verifier(headers, path="a.bin")
    assert verifier is not None
    verifier.update(CHECK)
    verifier.finish()
    verifier = etag_verifier(headers, path="a.bin")
    assert verifier is not None
    verifier.update(CHECK[:-1] + b"0")
    with pytest.raises(aiostore.IntegrityError, match="MD5"):
        verifier.finish()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"etag": f'"{MD5.hexdigest()}-2"'},
        {"etag": f'"{MD5.hexdigest()}"', "x-amz-server-side-encryption": "aws:kms"},
        {"etag": f'"{MD5.hexdigest()}"', "x-amz-server-side-encryption": "aws:kms:dsse"},
        {"etag": f'"{MD5.hexdigest()}"', "x-amz-server-side-encryption-customer-algorithm": "AES256"},
        {"etag": '"Fto5o-5ea0sNMlW_75VgGJCv2AcJ"'},
    ],
    ids=["none", "multipart", "sse-kms", "dsse-kms", "sse-c", "service-own-form"],
)
def test_etags_that_are_not_an_md5_are_not_checked(headers: dict[str, str]) -> None:
    assert etag_verifier(headers) is None


@pytest.mark.parametrize(("profile", "checked"), [("aws", True), ("seaweedfs", True), ("b2", False)])
def test_the_etag_check_follows_the_profile_unless_told(profile: str, checked: bool) -> None:
    options = {"name": "b", "profile": profile}
    assert parse_options(options).verify_etag is checked
    assert parse_options(options | {"verify_etag": not checked}).verify_etag is not checked
    assert parse_options(options | {"verify_etag": "false"}).verify_etag is False

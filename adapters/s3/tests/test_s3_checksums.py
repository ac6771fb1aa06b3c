"""Checksums computed for uploads and checked on downloads."""

from __future__ import annotations

import base64

import pytest
from aiostore_s3._checksums import Verifier, digest, response_verifier, upload_params

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

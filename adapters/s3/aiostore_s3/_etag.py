"""The MD5 ETag as the download check of last resort.

A server that returns no ``x-amz-checksum-*`` (moto; any profile whose GETs do
not ask for one, or objects stored without one) still sends an ETag, and for an
object made by one PutObject or CopyObject that ETag is the hex MD5 of its
bytes, on AWS and the services whose profile sets ``etag_md5``. It is not an MD5
for multipart objects (``<hex>-<parts>``), under SSE-KMS, DSSE-KMS or SSE-C,
and on services that make their own ETags; those are skipped, so a good object
never fails the check. The check costs one MD5 pass and runs only when no
other checksum covers the answer.

Example:
    >>> etag_verifier({"etag": '"5d41402abc4b2a76b9719d911017c592"'}, path="a.txt") is not None
    True
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

from multidict import CIMultiDict, CIMultiDictProxy

from ._checksums import Verifier

__all__ = ["etag_md5", "etag_verifier"]

_MD5_HEX = re.compile(r"[0-9a-fA-F]{32}")
#: ``x-amz-server-side-encryption`` values under which the ETag is still the MD5 (SSE-S3)
_MD5_SSE = frozenset({"", "AES256"})


def _header(headers: Mapping[str, str], name: str) -> str:
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):
        return str(headers.get(name, ""))
    return next((value for key, value in headers.items() if key.lower() == name), "")


def etag_md5(headers: Mapping[str, str]) -> str | None:
    """The base64 MD5 that a GetObject answer's ETag stands for, or None if it stands for none."""
    etag = _header(headers, "etag").strip().strip('"')
    if not _MD5_HEX.fullmatch(etag):
        return None  # multipart ("-N"), a service's own form, or none at all
    if _header(headers, "x-amz-server-side-encryption").strip() not in _MD5_SSE:
        return None  # SSE-KMS / DSSE-KMS: the ETag is not the MD5
    if _header(headers, "x-amz-server-side-encryption-customer-algorithm"):
        return None  # SSE-C
    return base64.b64encode(bytes.fromhex(etag)).decode("ascii")


def etag_verifier(headers: Mapping[str, str], *, path: str | None = None) -> Verifier | None:
    """A verifier of a whole object's bytes against its MD5 ETag, when the ETag is one."""
    expected = etag_md5(headers)
    return Verifier("md5", expected, path=path) if expected is not None else None

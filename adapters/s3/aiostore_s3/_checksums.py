"""Checksums sent with uploads and checked on downloads.

Uploads carry the profile's checksum as a plain header (``x-amz-checksum-crc32c``,
``x-amz-checksum-crc32`` or ``Content-MD5``) computed here, so botocore never
needs ``awscrt`` and never switches to an ``aws-chunked`` trailer. CRC32C comes
from ``google-crc32c`` (hardware accelerated), CRC32 from `zlib`.

Downloads of a whole object are checked against the full-object checksum the
server returns; a mismatch raises `IntegrityError`. Ranged reads and composite
multipart checksums (``<value>-<parts>``) cannot be checked and are not.

Example:
    >>> upload_params("crc32", b"hello world")
    {'ChecksumCRC32': 'DUoRhQ=='}
"""

from __future__ import annotations

import base64
import functools
import hashlib
import zlib
from collections.abc import Callable, Mapping
from typing import Protocol

import google_crc32c
from multidict import CIMultiDict, CIMultiDictProxy

from aiostore import IntegrityError, Pieces
from aiostore._pieces import buffers_of, hash_off_loop

from ._profiles import ChecksumName

__all__ = ["Verifier", "as_bytes", "digest", "response_verifier", "upload_params"]

Buffer = bytes | bytearray | memoryview


class _Hash(Protocol):
    def update(self, data: Buffer, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: Buffer, /) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


class _Crc32c:
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: Buffer, /) -> None:
        # the C extension takes bytes only: a view of a whole bytes object is used as is;
        # any other buffer goes through small copies, which reuse the same heap memory
        # (one 8 MiB copy of a parallel read's buffer was fresh memory: 0.6 CPU s/GiB)
        value = self._value
        if isinstance(data, bytes) or (isinstance(data, memoryview) and _whole_bytes(data)):
            value = google_crc32c.extend(value, as_bytes(data))
        else:
            view = memoryview(data).cast("B")
            for start in range(0, view.nbytes, _COPY_SLICE):
                value = google_crc32c.extend(value, bytes(view[start : start + _COPY_SLICE]))
        self._value = int(value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


_COPY_SLICE = 64 * 1024


def _whole_bytes(view: memoryview) -> bool:
    return isinstance(view.obj, bytes) and view.nbytes == len(view.obj)


def as_bytes(data: Buffer) -> bytes:
    """``data`` as bytes, without a copy when it is (a whole view of) a bytes object."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, memoryview) and _whole_bytes(data):
        return data.obj  # type: ignore[return-value]  # _whole_bytes checked it
    return bytes(data)


def _md5() -> _Hash:
    return hashlib.md5(usedforsecurity=False)


_HASHES: Mapping[str, Callable[[], _Hash]] = {
    "crc32c": _Crc32c,
    "crc32": _Crc32,
    "sha256": hashlib.sha256,
    "sha1": hashlib.sha1,
    "md5": _md5,
}
_PARAMS: Mapping[str, str] = {"crc32c": "ChecksumCRC32C", "crc32": "ChecksumCRC32", "md5": "ContentMD5"}


def digest(algorithm: str, data: Buffer | Pieces) -> str:
    """The base64 digest of ``data`` (all its pieces, in order) as S3 headers carry it."""
    hasher = _HASHES[algorithm]()
    for buffer in buffers_of(data):
        hasher.update(buffer)
    return base64.b64encode(hasher.digest()).decode("ascii")


async def upload_params_off_loop(algorithm: ChecksumName, data: Buffer | Pieces) -> dict[str, str]:
    """`upload_params`, with the MD5 of a large body computed in a worker thread.

    MD5 takes 10-15 ms per 8 MiB part and hashlib releases the GIL, so the event
    loop keeps running meanwhile; the CRCs are fast enough to stay on the loop.
    """
    if algorithm == "md5":
        return await hash_off_loop(functools.partial(upload_params, algorithm), data)
    return upload_params(algorithm, data)


def upload_params(algorithm: ChecksumName, data: Buffer | Pieces) -> dict[str, str]:
    """The botocore parameter proving ``data`` for PutObject / UploadPart."""
    if algorithm == "crc32c" and not isinstance(data, Pieces):  # one C call, no hasher object
        value = int(google_crc32c.value(as_bytes(data)))
        return {"ChecksumCRC32C": base64.b64encode(value.to_bytes(4, "big")).decode("ascii")}
    if algorithm == "none":
        return {}
    return {_PARAMS[algorithm]: digest(algorithm, data)}


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


class Verifier:
    """Hashes a download chunk by chunk and compares at the end."""

    def __init__(self, algorithm: str, expected: str, *, path: str | None = None) -> None:
        self.algorithm = algorithm
        self._expected = expected
        self._hash = _HASHES[algorithm]()
        self._path = path

    def update(self, chunk: Buffer) -> None:
        self._hash.update(chunk)

    def finish(self) -> None:
        """Raise `IntegrityError` unless the data matched the server's checksum."""
        actual = base64.b64encode(self._hash.digest()).decode("ascii")
        if actual != self._expected:
            raise IntegrityError(
                f"downloaded data does not match its {self.algorithm.upper()} checksum "
                f"(server {self._expected}, received {actual})",
                op="read",
                path=self._path,
                adapter="s3",
            )


def response_verifier(headers: Mapping[str, str], *, path: str | None = None) -> Verifier | None:
    """A verifier for the full-object checksum in response ``headers``, if there is one.

    Composite checksums of multipart objects (``...-3``, or
    ``x-amz-checksum-type: COMPOSITE``) describe the parts, not the bytes, and are skipped.
    ``headers`` is case-insensitive (aiohttp's) or any mapping (then lowered here).
    """
    lowered = headers if isinstance(headers, CIMultiDictProxy | CIMultiDict) else _lower(headers)
    if lowered.get("x-amz-checksum-type", "FULL_OBJECT").upper() == "COMPOSITE":
        return None
    for algorithm in ("crc32c", "crc32", "sha256", "sha1"):
        value = lowered.get(f"x-amz-checksum-{algorithm}")
        if value and "-" not in value:
            return Verifier(algorithm, value, path=path)
    return None

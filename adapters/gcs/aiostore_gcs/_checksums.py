"""CRC32C as GCS spells it (base64 of the big-endian 4 bytes), typed for mypy.

google-crc32c ships no type hints; this module is the only place that calls it.

Example:
    >>> crc32c_b64(b"hello world")
    'yZRlqg=='
"""

from __future__ import annotations

import base64

import google_crc32c

__all__ = ["Crc32c", "crc32c_b64"]


class Crc32c:
    """A running CRC32C."""

    def __init__(self) -> None:
        self._sum = google_crc32c.Checksum()  # type: ignore[no-untyped-call]

    def update(self, data: bytes | bytearray | memoryview) -> None:
        # The C extension takes read-only bytes only (not a memoryview or bytearray).
        self._sum.update(data if isinstance(data, bytes) else bytes(data))  # type: ignore[no-untyped-call]

    def b64(self) -> str:
        digest: bytes = self._sum.digest()  # type: ignore[no-untyped-call]
        return base64.b64encode(digest).decode()


def crc32c_b64(data: bytes | bytearray | memoryview) -> str:
    crc = Crc32c()
    crc.update(data)
    return crc.b64()

"""R1: a resumed streaming read still verifies the whole object.

The first half drives the core `Reader` with scripted adapter streams (no
server): the stream of a whole object carries a check (`VerifyingStream`), the
stream breaks, the rest comes as ranges, and the check must still settle at the
end. The second half does the same through the fault proxy on every remote
backend whose adapter hands its check over.
"""

from __future__ import annotations

import hashlib

import pytest

from aiostore import (
    IntegrityError,
    Object,
    ReadStream,
    RetryOptions,
    ServiceUnavailableError,
    StorageError,
    TimeoutOptions,
)
from aiostore._retry import Retrier
from aiostore._streams import Reader
from aiostore.testing.faults import FaultProxy, flip_byte, truncate

from ._backends import Backend, KiB, sha

DATA = bytes(range(256)) * 64  # 16 KiB
CHUNK = 1000
LONG = bytes(range(251)) * 12_000  # ~2.9 MiB: more than one 1 MiB chunk of a streaming read


class _Sha256Check:
    """A `Verifier` as an adapter would hand over (SHA-256 standing in for a CRC)."""

    def __init__(self, data: bytes) -> None:
        self._expected = hashlib.sha256(data).digest()
        self._hash = hashlib.sha256()

    def update(self, chunk: bytes, /) -> None:
        self._hash.update(chunk)

    def finish(self) -> None:
        if self._hash.digest() != self._expected:
            raise IntegrityError("the object does not match its checksum", op="read")


class _Scripted(ReadStream):
    """``served[start:]`` in chunks, broken after ``breaks_after`` bytes; a whole read carries a check."""

    def __init__(self, served: bytes, start: int, breaks_after: int | None) -> None:
        self.object = Object("a.bin", size=len(DATA), etag='"v1"')
        self._left = served[start:]
        self._breaks_after = breaks_after
        self._verifier: _Sha256Check | None = _Sha256Check(DATA) if start == 0 else None

    def take_verifier(self) -> _Sha256Check | None:
        verifier, self._verifier = self._verifier, None
        return verifier

    async def next_chunk(self) -> bytes:
        if self._breaks_after is not None and self._breaks_after < CHUNK:
            raise ServiceUnavailableError("connection reset", op="read")
        chunk, self._left = self._left[:CHUNK], self._left[CHUNK:]
        if self._breaks_after is not None:
            self._breaks_after -= len(chunk)
        if self._verifier is not None:
            self._verifier.update(chunk) if chunk else self._verifier.finish()
        return chunk

    async def aclose(self) -> None:
        self._left = b""


def _reader(pieces: list[tuple[bytes, int | None]]) -> Reader:
    """A reader whose n-th open serves ``pieces[n]``: (bytes served, bytes before it breaks)."""
    opened: list[int] = []

    async def opener(consumed: int, etag: str | None, covered: bool) -> ReadStream:
        assert (etag is None) == (not opened), "resumes are pinned to the first answer's ETag"
        assert covered == bool(opened), "a resume is covered by the check carried from the first stream"
        served, breaks_after = pieces[len(opened)]
        opened.append(consumed)
        return _Scripted(served, consumed, breaks_after)

    retrier = Retrier(RetryOptions(attempts=5, base_delay=0.0), TimeoutOptions())
    return Reader(opener, lambda error: None, retrier=retrier, resumable=True)


async def _drain(reader: Reader) -> None:
    async with reader:
        async for _ in reader:
            pass


def _flipped(at: int) -> bytes:
    return DATA[:at] + bytes([DATA[at] ^ 1]) + DATA[at + 1 :]


async def test_intact_pieces_after_resumes_pass() -> None:
    async with _reader([(DATA, 3 * CHUNK), (DATA, 5 * CHUNK), (DATA, None)]) as reader:
        assert await reader.read() == DATA


@pytest.mark.parametrize("breaks", [[0], [3 * CHUNK], [3 * CHUNK, 2 * CHUNK]], ids=["at-0", "once", "twice"])
async def test_a_bad_byte_after_a_resume_is_an_integrity_error(breaks: list[int]) -> None:
    bad = _flipped(len(DATA) - 10)  # in the last resumed piece
    pieces: list[tuple[bytes, int | None]] = [(DATA, breaks[0])]
    pieces += [(bad, after) for after in breaks[1:]] + [(bad, None)]
    with pytest.raises(IntegrityError):
        await _drain(_reader(pieces))


async def test_a_stream_without_a_check_still_resumes() -> None:
    class Unchecked(_Scripted):
        take_verifier = None  # type: ignore[assignment]  # not a VerifyingStream

    async def opener(consumed: int, etag: str | None, covered: bool) -> ReadStream:
        assert not covered, "no check was carried: the resumed range must bring its own"
        return Unchecked(DATA, consumed, 2 * CHUNK if etag is None else None)

    retrier = Retrier(RetryOptions(attempts=3, base_delay=0.0), TimeoutOptions())
    async with Reader(opener, lambda error: None, retrier=retrier, resumable=True) as reader:
        assert await reader.read() == DATA


@pytest.fixture(params=["seaweedfs_backend", "moto_backend", "gcs_backend"])
def resuming(request: pytest.FixtureRequest) -> Backend:
    """SeaweedFS (the stored CRC32C is the check), moto (the MD5 ETag is), GCS (CRC32C).

    Azure is not here: it checks every range it fetches with a transactional MD5.
    """
    found: Backend = request.getfixturevalue(request.param)
    return found


async def test_resumed_read_is_verified_on_the_server(resuming: Backend, prefix: str) -> None:
    """Through the proxy: the first GET is cut, the resumed range has a flipped byte."""
    backend = resuming
    async with FaultProxy(backend.upstream) as proxy, backend.connect(proxy.endpoint, prefix) as store:
        await store.write("a.bin", LONG)
        try:
            proxy.add(truncate(1536 * KiB), method="GET")
            async with store.reader("a.bin") as reader:  # intact: a resume, and a clean end
                assert sha(await reader.read()) == sha(LONG)
            proxy.add(truncate(1536 * KiB), method="GET")
            proxy.add(flip_byte(10 * KiB), method="GET")
            with pytest.raises(StorageError) as info:
                async with store.reader("a.bin") as reader:
                    await reader.read()
            assert isinstance(info.value, IntegrityError)
        finally:
            proxy.clear()
            await store.delete("a.bin")

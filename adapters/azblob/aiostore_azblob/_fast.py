"""The fast path's HTTP side: Blob requests signed here and sent on the shared aiohttp session.

azure-storage-blob spends most of a small request's CPU in its pipeline
(policies, request building, header deserialisation into models). The hot
calls (Put Blob, Put Block, Get Blob, Get Blob Properties, Delete Blob) skip it:
`FastTransport` adds ``x-ms-version`` (the SDK client's own ``api_version``),
``x-ms-date`` and a request id (a counter, cheaper than a UUID), signs with
`SharedKeySigner` and sends through the connection's ``aiohttp.ClientSession``.
The SDK client keeps the configuration, the credential and every other call.

Which credentials: a shared key (account name and key: connection strings,
``account_key``, ``AzureNamedKeyCredential``) is used for signing; a SAS token
(in the URL or as ``AzureSasCredential``) is appended to the query; no
credential at all sends anonymous requests. A token credential (Entra ID) keeps
the whole data plane on the SDK (`FastTransport.create` returns None).

Example:
    >>> transport = FastTransport.create(session, client, connect_timeout=10)
    >>> response = await transport.send("HEAD", "/photos/" + encode_path("a.txt"), [], {})
"""

from __future__ import annotations

import itertools
import platform
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from aiostore import ClosedError, Pieces, TimeoutOptions
from aiostore._http import BufferPayload, reads_covered
from aiostore._pieces import size_of

from ._errors import ADAPTER, AzureResponseError
from ._sharedkey import SharedKeySigner, encode_query, http_now

__all__ = ["BufferPayload", "FastTransport"]

CHUNK_SIZE = 1024 * 1024
# What azure-core's aiohttp transport waits by default for a connection and between reads.
DEFAULT_TIMEOUT = 300.0
_ERROR_BODY_LIMIT = 64 * 1024
_TAG = re.compile(rb"<(Code|Message)>([^<]*)</")
_USER_AGENT = f"aiostore-azblob Python/{platform.python_version()}"


def _auth_kind(credential: Any) -> str | None:
    """``key``, ``sas`` or ``none`` for what the fast path can send; None for token credentials."""
    if credential is None:
        return "none"
    key, name = getattr(credential, "account_key", None), getattr(credential, "account_name", None)
    if isinstance(key, str) and isinstance(name, str):
        return "key"
    if isinstance(getattr(credential, "signature", None), str):  # AzureSasCredential
        return "sas"
    return None


class FastTransport:
    """Signs and sends Blob requests for one account; shares the connection's session."""

    def __init__(
        self, session: aiohttp.ClientSession, client: Any, kind: str, *, connect_timeout: float | None
    ) -> None:
        parts = urlsplit(client.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base = parts.path.rstrip("/")  # "" or "/<account>" for emulators
        self.version: str = client.api_version
        self._session = session
        self._credential = client.credential
        self._kind = kind
        self._url_sas = parts.query  # a SAS token given in the URL or as a string
        # the SDK turns every key credential into a fixed name and key at construction
        self._signer = (
            SharedKeySigner(self._credential.account_name, self._credential.account_key)
            if kind == "key"
            else None
        )
        self._ids_prefix = f"aiostore-{secrets.token_hex(6)}-"  # request ids for the service's logs
        self._ids = itertools.count()
        connect = connect_timeout or DEFAULT_TIMEOUT
        self._timed = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=DEFAULT_TIMEOUT)
        self._untimed = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=None)
        self._covered = True
        self._timeout = self._timed  # until `cover` learns the opener's timeouts
        self.closed = False

    @classmethod
    def create(
        cls, session: aiohttp.ClientSession, client: Any, *, connect_timeout: float | None
    ) -> FastTransport | None:
        """A transport for ``client``'s account, or None when its credential needs the SDK."""
        kind = _auth_kind(client.credential)
        if kind is None or client.location_mode != "primary":
            return None
        if kind != "none" and urlsplit(client.url).query:
            return None  # a key or SAS credential plus a SAS in the URL: the SDK's business
        return cls(session, client, kind, connect_timeout=connect_timeout)

    def __repr__(self) -> str:
        return f"<FastTransport {self.origin}{self.base} {self._kind}>"

    @property
    def read_timeout(self) -> float | None:
        """The per-read timeout the calls go out with (None: the core's timeouts bound them)."""
        return self._timeout.sock_read

    def cover(self, timeouts: TimeoutOptions | None) -> None:
        """Drop the read timer while every store opened on this transport has core
        timeouts that bound its reads (`reads_covered`); one that does not keeps it."""
        self._covered = self._covered and reads_covered(timeouts, DEFAULT_TIMEOUT)
        self._timeout = self._untimed if self._covered else self._timed

    def _query(self, query: list[tuple[str, str]]) -> str:
        sas: str = self._credential.signature.lstrip("?") if self._kind == "sas" else self._url_sas
        if not query:
            return sas
        encoded = encode_query(query)
        if sas:
            return f"{encoded}&{sas}" if encoded else sas
        return encoded

    async def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | memoryview | Pieces | None = None,
    ) -> aiohttp.ClientResponse:
        """Sign and send; an error answer raises `AzureResponseError` (body read, connection freed).

        ``path`` is encoded (`encode_path`) and starts below the account URL;
        ``headers`` have lower-case names; ``query`` values are not encoded yet.
        `Pieces` are sent one buffer after another, never joined.
        """
        if self.closed:
            raise ClosedError("this azblob connection is closed", adapter=ADAPTER)
        path = self.base + path
        headers["x-ms-version"] = self.version
        headers["x-ms-date"] = http_now()
        headers["x-ms-client-request-id"] = f"{self._ids_prefix}{next(self._ids):08x}"
        size = 0 if body is None else size_of(body)
        if body is not None:
            headers["content-length"] = str(size)
        if self._signer is not None:
            headers["authorization"] = self._signer.sign(method, path, query, headers)
        headers["user-agent"] = _USER_AGENT
        text = self._query(query)
        url = URL(f"{self.origin}{path}?{text}" if text else f"{self.origin}{path}", encoded=True)
        data = None if body is None else _payload(body, size)
        response = await self._session.request(
            method, url, headers=headers, data=data, allow_redirects=False, timeout=self._timeout
        )
        if response.status >= 300:
            await _raise_for(response)
        return response


def _payload(body: bytes | memoryview | Pieces, size: int) -> bytes | memoryview | BufferPayload:
    """Small buffers go as they are; large ones and `Pieces` in slices (`BufferPayload`)."""
    if size <= CHUNK_SIZE and not isinstance(body, Pieces):
        return body
    return BufferPayload(body)


async def _raise_for(response: aiohttp.ClientResponse) -> None:
    try:
        body = await response.content.read(_ERROR_BODY_LIMIT)
    finally:
        response.release()
    found = {name.decode(): value.decode("utf-8", "replace") for name, value in _TAG.findall(body)}
    headers: Mapping[str, str] = response.headers
    code = headers.get("x-ms-error-code") or found.get("Code")
    message = found.get("Message") or f"Operation returned an invalid status {response.reason!r}"
    raise AzureResponseError(response.status, code, message, headers)

"""The fast path's HTTP side: SigV4-signed requests on one shared aiohttp session.

botocore spends most of a small request's CPU in its per-request machinery
(events, parameter validation, serialisation, XML parsing). The data-plane calls
(GET, PUT, HEAD, DELETE, UploadPart, ListObjectsV2) skip it: `FastTransport`
signs them with `_sigv4.SigV4Signer` and sends them through its own
``aiohttp.ClientSession``, while aiobotocore keeps the credentials (refreshable
ones are refreshed through it), the configuration and every other call.

Where a bucket lives (scheme, host, path prefix, signing region) is asked of
botocore once per bucket, from a presigned URL (`find_target`), so the fast
path addresses exactly like botocore does (path or virtual style, custom
endpoints, region endpoints). A bucket that answers "wrong region" is handed
back to botocore, whose redirector knows what to do (`WrongRegionError`).

The signed path is the path sent, byte for byte: keys are encoded once with
`uri_encode_path` and the URL is built with ``yarl.URL(..., encoded=True)``.
Nothing secret is logged; error messages go through `_redact`. aiohttp's own
resend of a request on a broken keep-alive connection is switched off: the
core's retrier is the only one, so ``may_have_applied`` means what it says.

Example:
    >>> transport = FastTransport(config, client, connect_timeout=10, ca_bundle=None)
    >>> response = await transport.send(target, "HEAD", target.prefix + "/a.txt", "", {})
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from botocore.credentials import RefreshableCredentials  # type: ignore[import-untyped,unused-ignore]
from botocore.exceptions import NoCredentialsError  # type: ignore[import-untyped,unused-ignore]
from botocore.httpsession import get_cert_path  # type: ignore[import-untyped,unused-ignore]
from yarl import URL

from aiostore import ClosedError, TimeoutOptions
from aiostore._http import BufferPayload
from aiostore._http import reads_covered as covered

from ._config import S3Config
from ._errors import ADAPTER, S3ResponseError
from ._sigv4 import UNSIGNED_PAYLOAD, CredentialsLike, SigV4Signer
from ._xml import parse_error

__all__ = [
    "BODY_BUFFER",
    "CHUNK_SIZE",
    "BufferPayload",
    "FastTransport",
    "Target",
    "WrongRegionError",
    "find_target",
    "reads_covered",
    "widen_reads",
]

CHUNK_SIZE = 1024 * 1024
#: what a large GET may buffer ahead of its reader (aiohttp pauses the socket at twice this)
BODY_BUFFER = 4 * CHUNK_SIZE
_ERROR_BODY_LIMIT = 64 * 1024
# aiohttp adds these unless told not to: no content type S3 would store, no compression
_SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "Content-Type")
_REGION_HEADER = "x-amz-bucket-region"


class WrongRegionError(S3ResponseError):
    """The bucket lives in another region than the one requests are signed for."""


class Target:
    """Where one bucket's requests go: ``origin`` + ``prefix`` + encoded key."""

    __slots__ = ("host", "origin", "prefix", "signer")

    def __init__(self, origin: str, host: str, prefix: str, signer: SigV4Signer | None) -> None:
        self.origin = origin  # scheme://netloc
        self.host = host  # the Host header, as signed
        self.prefix = prefix  # "/bucket" (path style) or "" (virtual style)
        self.signer = signer  # None: anonymous requests

    def __repr__(self) -> str:
        region = self.signer.region if self.signer is not None else "unsigned"
        return f"<Target {self.origin}{self.prefix} {region}>"


async def find_target(client: Any, bucket: str, *, anonymous: bool) -> Target | None:
    """Ask botocore where ``bucket`` lives: a presigned URL of a probe key, parsed.

    None when the bucket needs what this signer does not do (S3 Express sessions,
    another signing service, SigV4a): such buckets stay on botocore.
    """
    url: str = await client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if not parts.path.endswith("/k") or "X-Amz-S3session-Token" in query:
        return None
    signer = None
    if not anonymous:
        if query.get("X-Amz-Algorithm") != ["AWS4-HMAC-SHA256"]:
            return None
        scope = query.get("X-Amz-Credential", [""])[0].split("/")  # key/day/region/service/aws4_request
        if len(scope) != 5 or scope[3] != "s3":
            return None
        signer = SigV4Signer(scope[2])
    return Target(f"{parts.scheme}://{parts.netloc}", parts.netloc, parts.path[:-2], signer)


def _credential_source(client: Any) -> Any:
    """aiobotocore's credentials object (static or refreshable), or None when there is none."""
    getter = getattr(client, "_get_credentials", None)
    if getter is not None:
        return getter()
    return getattr(getattr(client, "_request_signer", None), "_credentials", None)


def _proxy_for(origin: str) -> str | None:
    """The proxy the environment names for ``origin`` (botocore honours these too)."""
    parts = urlsplit(origin)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return proxy
    return None


class FastTransport:
    """One aiohttp session (one pool) plus aiobotocore's credentials, shared by the
    stores of one client handle. Create it inside the running loop."""

    def __init__(
        self, config: S3Config, client: Any, *, connect_timeout: float | None, ca_bundle: str | None
    ) -> None:
        self._config = config
        self._connect_timeout = connect_timeout
        self._ca_bundle = ca_bundle
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}
        self._source: Any = None if config.anonymous else _credential_source(client)
        self._refreshable = isinstance(self._source, RefreshableCredentials)
        self._frozen: CredentialsLike | None = None
        self._closed = False
        # for stores whose core timeouts already bound every read (`reads_covered`):
        # no per-read timer, which aiohttp would otherwise re-arm on every packet
        self._untimed = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=None)
        self._timed = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=config.read_timeout
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._session is not None else "new"
        return f"<FastTransport {self._config.endpoint or 'aws'} {state}>"

    async def open(self) -> None:
        """Create the session and its pool (TLS context built off the loop)."""
        if self._session is not None or self._closed:
            return
        context: ssl.SSLContext | bool = True
        if urlsplit(self._config.endpoint or "https://aws").scheme == "https":
            context = await asyncio.to_thread(_tls_context, self._ca_bundle)
        connector = aiohttp.TCPConnector(
            limit=self._config.max_pool_connections, ttl_dns_cache=300, ssl=context
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timed,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            trust_env=False,
            read_bufsize=CHUNK_SIZE,
        )
        # aiohttp silently resends a GET/PUT/DELETE once when a reused connection
        # breaks; the core owns retries (and ``may_have_applied``), so turn that off
        if hasattr(self._session, "_retry_connection"):
            self._session._retry_connection = False

    async def aclose(self) -> None:
        """Close the session and its connections; safe to call twice."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _credentials(self) -> CredentialsLike:
        if self._frozen is not None:
            return self._frozen
        if self._source is None:
            raise NoCredentialsError()
        frozen: CredentialsLike = await self._source.get_frozen_credentials()
        if not self._refreshable:
            self._frozen = frozen  # static keys never change; refreshable ones are asked each time
        return frozen

    def _proxy(self, origin: str) -> str | None:
        if origin not in self._proxies:
            self._proxies[origin] = _proxy_for(origin)
        return self._proxies[origin]

    async def send(
        self,
        target: Target,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: BufferPayload | None = None,
        *,
        read_bufsize: int | None = None,
        timed_reads: bool = True,
        payload_hash: str = UNSIGNED_PAYLOAD,
    ) -> aiohttp.ClientResponse:
        """Sign and send; an error answer raises `S3ResponseError` (body read, connection freed).

        ``path`` is encoded and ``query`` canonical (sorted, encoded): both are
        sent exactly as signed. ``timed_reads=False`` drops ``read_timeout`` for
        a caller whose own timeouts are stricter (see `reads_covered`).
        ``payload_hash`` is the hex SHA-256 of a small body to sign with it;
        bulk bodies go unsigned and carry their own checksum header instead.
        """
        session = self._session
        if session is None:
            raise ClosedError("this S3 store is closed", adapter=ADAPTER)
        if target.signer is not None:
            credentials = self._frozen or await self._credentials()  # static keys: no await
            headers = target.signer.sign(
                method, target.host, path, query, headers, credentials, payload_hash=payload_hash
            )
        else:
            headers["host"] = target.host
        url = URL(f"{target.origin}{path}?{query}" if query else f"{target.origin}{path}", encoded=True)
        proxy = self._proxies[target.origin] if target.origin in self._proxies else self._proxy(target.origin)
        response = await session.request(
            method,
            url,
            headers=headers,
            data=body,
            allow_redirects=False,
            proxy=proxy,
            read_bufsize=read_bufsize,
            timeout=self._timed if timed_reads else self._untimed,
        )
        if response.status >= 300:
            await _raise_for(response, target)
        return response


def reads_covered(config: S3Config, timeouts: TimeoutOptions | None) -> bool:
    """Whether the core's timeouts bound every fast-path read at least as tightly as
    ``read_timeout`` does (see `aiostore._http.reads_covered`)."""
    return covered(timeouts, config.read_timeout)


def widen_reads(response: aiohttp.ClientResponse) -> None:
    """Let a large body come off the socket in reads of up to `CHUNK_SIZE`.

    asyncio's socket transport reads at most 256 KiB per wake-up; a 1 GiB body
    then costs 4,096 loop iterations, and on a busy machine every one is a chance
    for the sender to stall on a full window. The setting stays with the pooled
    connection, which is harmless: a small answer still allocates only what arrives.
    """
    connection = response.connection
    transport = connection.transport if connection is not None else None
    if transport is not None and getattr(transport, "max_size", CHUNK_SIZE) < CHUNK_SIZE:
        transport.max_size = CHUNK_SIZE  # type: ignore[attr-defined]


async def _raise_for(response: aiohttp.ClientResponse, target: Target) -> None:
    try:
        body = await response.content.read(_ERROR_BODY_LIMIT)
    finally:
        response.release()
    code, message = parse_error(body)
    headers: Mapping[str, str] = response.headers
    region = headers.get(_REGION_HEADER)
    signing = target.signer.region if target.signer is not None else None
    if region and signing and region != signing and response.status in (301, 307, 400):
        raise WrongRegionError(response.status, code, message, headers)
    raise S3ResponseError(response.status, code, message, headers)


def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Verify like botocore: its CA bundle (certifi's), or ``AWS_CA_BUNDLE`` / ``ca_bundle``."""
    context = ssl.create_default_context()
    cafile = get_cert_path(ca_bundle or True)
    if isinstance(cafile, str):
        context.load_verify_locations(cafile)
    return context

"""The shared GCS client: one aiohttp session and the gcloud-aio `Storage` on it.

A `GCSClient` belongs to whoever created it: a service (its storagers share it)
or a lone storager. The session is made lazily inside the running loop and
closed by the owner; using the client after that, or from another event loop,
raises `ClosedError` instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import io
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
from gcloud.aio.storage import Storage

from aiostore import TimeoutOptions
from aiostore._errors import ClosedError, IntegrityError, StorageError
from aiostore._http import reads_covered

from ._checksums import crc32c_b64
from ._config import ClientOptions
from ._errors import ADAPTER, gcs_errors
from ._fast import Routes, list_objects, raise_for_response, upload_multipart

__all__ = ["GCSClient", "iter_objects", "object_url", "raise_for_response"]

_MIN_RATE = 1_000_000  # bytes/s assumed when sizing an upload's total timeout


class _State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


def object_url(root: str, bucket: str, key: str) -> str:
    return f"{root}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(key, safe='')}"


class GCSClient:
    """Owns the HTTP session; `storage` is the gcloud-aio client sharing it."""

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.api = f"{options.endpoint}/storage/v1"
        self.upload_api = f"{options.endpoint}/upload/storage/v1"
        self._state = _State.NEW
        self._session: aiohttp.ClientSession | None = None
        self._storage: Storage | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connect_timeout: float | None = options.timeout
        self._routes: dict[str, Routes] = {}
        self._auth: dict[str, str] = {}
        self._token: str | None = None
        self._timeouts: dict[int, aiohttp.ClientTimeout] = {}
        self._reads_covered = True
        #: the timeout of the fast path's calls (see `open`)
        self.fast_timeout = self._timeout(options.timeout)

    def __repr__(self) -> str:
        return f"GCSClient({self.options!r}, state={self._state.value})"

    # -- lifecycle -------------------------------------------------------------
    async def open(
        self, connect_timeout: float | None = None, timeouts: TimeoutOptions | None = None
    ) -> None:
        """Create the session now (inside the running loop); idempotent.

        ``connect_timeout`` (the core's ``timeouts.connect``) bounds establishing
        a connection; ``options.timeout`` bounds a read that moves no byte.
        When every opener's core ``timeouts`` bound a call (``attempt``) and a
        stream (``stall``) at least as tightly, the fast path's one-answer calls
        go without a read timer, which aiohttp would re-arm on every packet.
        """
        if self._state is _State.NEW:
            self._connect_timeout = connect_timeout
        self._reads_covered = self._reads_covered and reads_covered(timeouts, self.options.timeout)
        self.fast_timeout = self._timeout(None if self._reads_covered else self.options.timeout)
        self._ensure()

    def _timeout(self, sock_read: float | None) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout, sock_read=sock_read)

    async def aclose(self) -> None:
        """Close the session; safe to call twice."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        session, self._session, self._storage = self._session, None, None
        if session is not None:
            await session.close()

    def _ensure(self) -> Storage:
        if self._state is _State.CLOSED:
            raise ClosedError("the GCS client is closed", adapter=ADAPTER)
        loop = asyncio.get_running_loop()
        if self._storage is None:
            self._create(loop)
        elif loop is not self._loop:
            raise ClosedError(
                "this GCS client was opened in another event loop; open a new store in this one",
                adapter=ADAPTER,
            )
        assert self._storage is not None
        return self._storage

    def _create(self, loop: asyncio.AbstractEventLoop) -> None:
        opts = self.options
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._connect_timeout, sock_read=opts.timeout
        )
        session = aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar())
        service_file: Any = opts.service_file
        if isinstance(service_file, Mapping):
            service_file = io.StringIO(json.dumps(dict(service_file)))
        try:
            with gcs_errors("connect"):
                storage = Storage(
                    service_file=service_file,
                    token=opts.token,
                    session=session,  # type: ignore[arg-type]
                    api_root=opts.endpoint,
                    api_is_dev=opts.anonymous,
                )
        except StorageError:
            session.detach()  # no connection was made: nothing to close, no warning
            raise
        self._session, self._storage, self._loop = session, storage, loop
        self._state = _State.OPEN

    @property
    def storage(self) -> Storage:
        return self._ensure()

    @property
    def session(self) -> aiohttp.ClientSession:
        self._ensure()
        assert self._session is not None
        return self._session

    def routes(self, bucket: str) -> Routes:
        """The URLs of ``bucket``'s objects, built once."""
        routes = self._routes.get(bucket)
        if routes is None:
            routes = self._routes[bucket] = Routes(self.options.endpoint, bucket)
        return routes

    # -- requests ----------------------------------------------------------------
    async def auth(self) -> Mapping[str, str]:
        """The credential headers (none when anonymous); rebuilt only when the token changes.

        The mapping is shared: copy it before adding headers.
        """
        if self.options.anonymous:
            return self._auth
        token = await self.storage.token.get()
        if token != self._token:
            self._token, self._auth = token, {"Authorization": f"Bearer {token}"}
        return self._auth

    def service_data(self) -> Mapping[str, Any]:
        """The parsed credentials file (for signing and the default project)."""
        data: Mapping[str, Any] = self.storage.token.service_data or {}
        return data

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        check: bool = True,
    ) -> aiohttp.ClientResponse:
        """Send one request with credentials; error statuses raise unless ``check`` is False."""
        all_headers = {**(headers or {}), **await self.auth()}
        response = await self.session.request(method, url, params=params, headers=all_headers, data=data)
        if check and response.status >= 400:
            await raise_for_response(response)
        return response

    async def call_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> dict[str, Any]:
        """A JSON API call: the decoded answer (``{}`` for an empty body)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json; charset=UTF-8"} if data is not None else {}
        async with await self.request(method, url, params=params, headers=headers, data=data) as resp:
            text = await resp.text()
        decoded: dict[str, Any] = json.loads(text) if text.strip() else {}
        return decoded

    async def list_page(
        self,
        bucket: str,
        *,
        prefix: str,
        delimiter: str | None = None,
        token: str | None = None,
        start: str | None = None,
        page_size: int = 1000,
        fields: str | None = None,
    ) -> dict[str, Any]:
        """One page of ``objects.list`` (gcloud-aio's single-page call, never its gather-all helper)."""
        optional = {"delimiter": delimiter, "pageToken": token, "startOffset": start, "fields": fields}
        params = {"prefix": prefix, "maxResults": str(page_size)} | {k: v for k, v in optional.items() if v}
        return await list_objects(self, self.routes(bucket).list, params)

    def upload_timeout(self, size: int) -> aiohttp.ClientTimeout:
        """The session's connect and read timeouts plus a total that grows with ``size``
        (`fast_timeout` when the core's timeouts bound the call)."""
        if self._reads_covered:
            return self.fast_timeout
        total = int(self.options.timeout + size / _MIN_RATE)
        timeout = self._timeouts.get(total)
        if timeout is None:
            timeout = self._timeouts[total] = aiohttp.ClientTimeout(
                total=total, sock_connect=self._connect_timeout, sock_read=self.options.timeout
            )
        return timeout

    async def upload_bytes(
        self,
        bucket: str,
        key: str,
        data: bytes | memoryview,
        *,
        content_type: str,
        fields: Mapping[str, Any],
        if_not_exists: bool,
    ) -> dict[str, Any]:
        """One multipart upload (object resource plus media).

        ``fields`` are resource fields in the JSON API's camelCase.

        The CRC32C goes with the resource, so GCS refuses a corrupted body; the
        answer's CRC32C is checked too, for servers that do not verify.
        """
        payload = bytes(data)
        crc = crc32c_b64(payload)
        resource = await upload_multipart(
            self,
            self.routes(bucket),
            key,
            payload,
            content_type=content_type,
            resource={**fields, "crc32c": crc},
            if_not_exists=if_not_exists,
        )
        await self.check_stored_crc(bucket, key, resource, crc)
        return resource

    async def check_stored_crc(self, bucket: str, key: str, resource: Mapping[str, Any], crc: str) -> None:
        """Raise `IntegrityError` (after removing the bad object) when GCS stored other bytes."""
        stored = resource.get("crc32c")
        if stored is None or stored == crc:
            return
        generation = str(resource.get("generation", ""))
        params = {"ifGenerationMatch": generation} if generation else {}
        url = object_url(self.options.endpoint, bucket, key)
        with contextlib.suppress(Exception):  # best effort: the integrity error is what matters
            async with await self.request("DELETE", url, params=params, check=False):
                pass
        raise IntegrityError(f"GCS stored CRC32C {stored}, the data sent has {crc}")


async def iter_objects(
    client: GCSClient,
    bucket: str,
    prefix: str,
    *,
    delimiter: str | None = None,
    fields: str | None = None,
    page_size: int = 1000,
) -> AsyncIterator[dict[str, Any]]:
    """Each page of a listing, fetched only when the previous one is consumed."""
    token: str | None = None
    while True:
        page = await client.list_page(
            bucket, prefix=prefix, delimiter=delimiter, token=token, page_size=page_size, fields=fields
        )
        yield page
        token = page.get("nextPageToken")
        if not token:
            return

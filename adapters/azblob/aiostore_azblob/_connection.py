"""The shared aiohttp session and `BlobServiceClient`, and one container seen through a work dir.

A `Connection` belongs to a service (or to a store opened on its own): it makes
the aiohttp session and the service client lazily inside the running loop, and
closes both once. Stores handed out by a service share its connection and never
close it. A session passed in by the caller is used and never closed.

With ``fast_path`` (the default) the connection also holds a `FastTransport` on
the same session, and `Scope.fast` gives each container's `FastPlane`; None
means the SDK serves every call (``fast_path=False`` or a token credential).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp
from azure.storage.blob import BlobProperties
from azure.storage.blob.aio import BlobClient, BlobServiceClient, ContainerClient

from aiostore import ClosedError, InvalidPathError, Object, ObjectType, TimeoutOptions, WriteOptions
from aiostore._types import EMPTY_METADATA

from ._config import AzblobConfig
from ._errors import ADAPTER
from ._fast import FastTransport
from ._fastplane import FastPlane

__all__ = ["DEFAULT_CONTENT_TYPE", "Connection", "Scope", "md5_hex", "quote_etag"]

# What the service stores when a write names no content type.
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class Connection:
    """One aiohttp session plus one service client, opened lazily, closed once."""

    def __init__(self, config: AzblobConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._client: BlobServiceClient | None = None
        self._containers: dict[str, ContainerClient] = {}
        self._fast: FastTransport | None = None
        self._planes: dict[str, FastPlane] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._client else "new"
        return f"<Connection {self.config.account_url} {state}>"

    async def open(
        self, connect_timeout: float | None = None, timeouts: TimeoutOptions | None = None
    ) -> None:
        """Create the session and client in the running loop; a no-op when open.

        ``timeouts`` are the opener's core timeouts: the fast path reads without
        its own timer only while every opener's bound the reads (`FastTransport.cover`).
        """
        if self._client is not None:
            self._check_binding()
            if self._fast is not None:
                self._fast.cover(timeouts)
            return
        if self._closed:
            raise ClosedError("this azblob connection is closed", adapter=ADAPTER)
        session = self.config.session or _own_session()
        self._session = None if self.config.session else session
        self._client = self.config.make_client(session, connect_timeout)
        if self.config.fast_path:
            self._fast = FastTransport.create(session, self._client, connect_timeout=connect_timeout)
            if self._fast is not None:
                self._fast.cover(timeouts)
        self._loop = asyncio.get_running_loop()
        self._pid = os.getpid()

    @property
    def client(self) -> BlobServiceClient:
        """The service client; `ClosedError` before `open` or after `aclose`."""
        if self._client is None:
            state = "closed" if self._closed else "not open yet (call open() first)"
            raise ClosedError(f"this azblob connection is {state}", adapter=ADAPTER)
        self._check_binding()
        return self._client

    def container(self, name: str) -> ContainerClient:
        """A container client on the shared pipeline, made once per container."""
        client = self.client
        found = self._containers.get(name)
        if found is None:
            found = self._containers[name] = client.get_container_client(name)
        return found

    def plane(self, name: str) -> FastPlane | None:
        """The fast plane of a container, or None when the SDK serves the data plane."""
        self._check_binding()
        if self._fast is None:
            return None
        found = self._planes.get(name)
        if found is None:
            found = self._planes[name] = FastPlane(self._fast, name)
        return found

    def _check_binding(self) -> None:
        if os.getpid() != self._pid:
            raise ClosedError(
                "this azblob connection was opened before a fork: open a new one", adapter=ADAPTER
            )
        if asyncio.get_running_loop() is not self._loop:
            raise ClosedError("this azblob connection belongs to another event loop", adapter=ADAPTER)

    async def aclose(self) -> None:
        """Close the client, then the session if this connection made it; safe twice."""
        self._closed = True
        client, self._client = self._client, None
        self._containers.clear()
        self._planes.clear()
        if self._fast is not None:
            self._fast.closed = True
            self._fast = None
        session, self._session = self._session, None
        try:
            if client is not None:
                await client.close()
        finally:
            if session is not None:
                await session.close()


def _own_session() -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False)
    # aiohttp silently resends an idempotent request once when a reused connection
    # breaks; the core owns retries (and ``may_have_applied``), so turn that off
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session


def quote_etag(etag: str | None) -> str | None:
    """ETags as HTTP writes them, with the quotes (listings return them bare)."""
    if not etag:
        return None
    return etag if etag.startswith('"') else f'"{etag}"'


def md5_hex(value: object) -> str | None:
    """The hex digest from the SDK's ``bytearray`` (or base64 text) Content-MD5."""
    if isinstance(value, (bytes, bytearray)) and value:
        return bytes(value).hex()
    if isinstance(value, str) and value:
        return base64.b64decode(value).hex()
    return None


@dataclasses.dataclass(frozen=True)
class Scope:
    """A container plus a work dir: turns store paths into blob names and back."""

    connection: Connection
    container: str
    work_dir: str

    def key(self, path: str) -> str:
        """The blob name of ``path``; a backslash is refused: Azure turns it into ``/``."""
        if "\\" in path:
            raise InvalidPathError(
                "a backslash is not allowed: Azure Blob Storage reads '\\' as '/'", adapter=ADAPTER
            )
        return self.work_dir + path

    def path(self, key: str) -> str:
        return key[len(self.work_dir) :]

    @property
    def config(self) -> AzblobConfig:
        return self.connection.config

    def container_client(self) -> ContainerClient:
        return self.connection.container(self.container)

    @property
    def fast(self) -> FastPlane | None:
        """The container's fast plane; None when the SDK serves every call."""
        return self.connection.plane(self.container)

    def blob(self, path: str) -> BlobClient:
        return self.connection.container(self.container).get_blob_client(self.key(path))

    def object(self, key: str, props: BlobProperties, *, size: int | None = None) -> Object:
        """An `Object` (work-dir-relative path) from the SDK's properties of blob ``key``."""
        settings = props.content_settings
        tier = props.blob_tier
        return Object(
            path=self.path(key),
            type=ObjectType.DIR if key.endswith("/") else ObjectType.FILE,
            size=props.size if size is None else size,
            updated_at=props.last_modified,
            content_md5=md5_hex(settings.content_md5) if settings else None,
            content_type=settings.content_type if settings else None,
            etag=quote_etag(props.etag),
            storage_class=str(getattr(tier, "value", tier)) if tier else None,
            version=props.version_id,
            metadata=dict(props.metadata or {}),
        )

    def written(
        self, path: str, size: int, result: Mapping[str, Any], options: WriteOptions, md5: str | None
    ) -> Object:
        """The `Object` an upload or commit just created, from its response headers."""
        modified = result.get("last_modified")
        return Object(
            path=path,
            size=size,
            updated_at=modified if isinstance(modified, datetime) else None,
            content_md5=md5,
            content_type=options.content_type or DEFAULT_CONTENT_TYPE,
            etag=quote_etag(str(result.get("etag") or "")),
            version=str(result["version_id"]) if result.get("version_id") else None,
            metadata=dict(options.metadata) if options.metadata else EMPTY_METADATA,
        )

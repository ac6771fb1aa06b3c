"""The aiobotocore client: created lazily inside the running loop, shared, closed once.

A `ClientHandle` owns one client (and so one connection pool). A store made by
``aiostore.connect`` owns its handle; stores handed out by a service borrow the
service's handle and never close it.

What the client is configured with, and why:

* ``request_checksum_calculation`` / ``response_checksum_validation`` =
  ``"when_required"``: botocore >= 1.36 otherwise sends CRC32 trailers that
  several S3-compatible services refuse; this adapter sends its own checksums.
* ``signature_version="s3v4"``: presigned URLs too are SigV4 (botocore still
  presigns S3 with SigV2 by default).
* ``retries={"total_max_attempts": 1}``: the core owns retries (``max_attempts`` 1 still
  lets botocore retry once); errors say ``retryable``.
* ``http_session_cls=QuietSession``: aiobotocore's aiohttp sessions, without
  aiohttp's own resend of an idempotent request whose connection broke (RFC 9112
  allows it; aiohttp does it once, silently). The core's retrier stays the only
  one, so ``may_have_applied`` and guarded creates mean what they say.
* no ``Expect: 100-continue``: botocore's ``add_expect_header`` handler is
  unregistered from this client's event hooks, which saves a round trip per PUT.
* ``x-amz-checksum-mode: ENABLED`` added as a header on GetObject (when the
  profile allows it), so the server returns its checksum without botocore
  validating on its own; `_checksums` verifies instead.
* ``Content-MD5`` on DeleteObjects for profiles that require it.

With ``fast_path`` (the default) the handle also owns the `_fast.FastTransport`
(one aiohttp session and pool) that the data-plane calls of its stores use;
both are created together and closed together.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
from typing import Any

from aiobotocore.config import AioConfig  # type: ignore[import-untyped,unused-ignore]
from aiobotocore.httpsession import AIOHTTPSession  # type: ignore[import-untyped,unused-ignore]
from aiobotocore.session import AioSession  # type: ignore[import-untyped,unused-ignore]
from botocore import UNSIGNED  # type: ignore[import-untyped,unused-ignore]
from botocore.handlers import add_expect_header  # type: ignore[import-untyped,unused-ignore]

from aiostore import ClosedError

from ._config import S3Config
from ._errors import ADAPTER, boundary
from ._fast import FastTransport
from ._redact import install_log_redaction

__all__ = ["ClientHandle", "QuietSession"]


class QuietSession(AIOHTTPSession):  # type: ignore[misc,unused-ignore]
    """aiobotocore's HTTP session whose aiohttp sessions never resend a request on their own."""

    async def _get_session(self, proxy_url: str | None) -> Any:
        session = await super()._get_session(proxy_url)
        if hasattr(session, "_retry_connection"):  # aiohttp >= 3.9 resends GET/PUT/DELETE once
            session._retry_connection = False
        return session


def _client_config(config: S3Config) -> Any:
    return AioConfig(
        signature_version=UNSIGNED if config.anonymous else "s3v4",
        s3={"addressing_style": config.addressing_style},
        retries={"total_max_attempts": 1, "mode": "standard"},
        http_session_cls=QuietSession,
        max_pool_connections=config.max_pool_connections,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def _ask_for_checksum(params: dict[str, Any], **_: Any) -> None:
    params["headers"]["x-amz-checksum-mode"] = "ENABLED"


def _delete_with_md5(params: dict[str, Any], **_: Any) -> None:
    body = params.get("body") or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    params["headers"]["Content-MD5"] = base64.b64encode(digest).decode("ascii")
    # drop the CRC32 botocore would add in place of the MD5 (refused by some services)
    checksum = params.get("context", {}).get("checksum", {})
    checksum.pop("request_algorithm", None)
    checksum.pop("request_algorithm_header", None)


def _install_hooks(client: Any, config: S3Config) -> None:
    events = client.meta.events
    events.unregister("before-call.s3", add_expect_header)
    if config.profile.checksum_mode and config.checksum in ("crc32c", "crc32"):
        events.register("before-call.s3.GetObject", _ask_for_checksum)
    if config.profile.delete_md5:
        events.register("before-call.s3.DeleteObjects", _delete_with_md5)


class ClientHandle:
    """One lazily created aiobotocore S3 client and its lifetime."""

    def __init__(self, config: S3Config) -> None:
        self._config = config
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None
        self._lock: asyncio.Lock | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()
        self._transport: FastTransport | None = None
        #: the core's connect timeout (``TimeoutOptions.connect``), set before `open`
        self.connect_timeout: float | None = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._client is not None else "new"
        return f"<ClientHandle {self._config.profile.name} {self._config.endpoint or 'aws'} {state}>"

    async def open(self) -> None:
        """Create the client in the running loop; a no-op when already open."""
        await self.client()

    async def client(self) -> Any:
        """The client, created on first use; `ClosedError` after `aclose`."""
        if self._client is not None and not self._closed:
            self._check_binding()
            return self._client
        if self._closed:
            raise ClosedError("this S3 client is closed", adapter=ADAPTER)
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._client is None and not self._closed:
                await self._create()
        if self._closed:
            raise ClosedError("this S3 client is closed", adapter=ADAPTER)
        return self._client

    async def _create(self) -> None:
        install_log_redaction()
        config = self._config
        session = AioSession(profile=config.aws_profile) if config.aws_profile else AioSession()
        stack = contextlib.AsyncExitStack()
        with boundary("open"):
            client = await stack.enter_async_context(
                session.create_client(
                    "s3",
                    endpoint_url=config.endpoint,
                    region_name=config.region,
                    aws_access_key_id=config.access_key_id,
                    aws_secret_access_key=config.secret_access_key,
                    aws_session_token=config.session_token,
                    config=_client_config(config),
                )
            )
        _install_hooks(client, config)
        if config.fast_path:
            with boundary("open"):
                await self._open_transport(session, client, stack)
        self._stack, self._client = stack, client
        self._loop, self._pid = asyncio.get_running_loop(), os.getpid()

    async def _open_transport(self, session: Any, client: Any, stack: contextlib.AsyncExitStack) -> None:
        limits = [x for x in (self._config.connect_timeout, self.connect_timeout) if x is not None]
        transport = FastTransport(
            self._config,
            client,
            connect_timeout=min(limits),
            ca_bundle=session.get_config_variable("ca_bundle"),
        )
        try:
            await transport.open()
        except BaseException:
            await stack.aclose()
            raise
        stack.push_async_callback(transport.aclose)
        self._transport = transport

    def transport(self) -> FastTransport | None:
        """The fast path's transport once the client exists (None with ``fast_path=False``)."""
        return self._transport

    def _check_binding(self) -> None:
        if os.getpid() != self._pid:
            raise ClosedError("this S3 client was created before a fork; open a new store", adapter=ADAPTER)
        if asyncio.get_running_loop() is not self._loop:
            raise ClosedError("this S3 client belongs to another event loop", adapter=ADAPTER)

    async def aclose(self) -> None:
        """Close the client and its pool; safe to call twice."""
        self._closed = True
        stack, self._stack, self._client, self._transport = self._stack, None, None, None
        if stack is not None:
            await stack.aclose()

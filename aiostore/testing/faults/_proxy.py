"""`FaultProxy`: an HTTP proxy on aiohttp that sits between a client and a real server
and injects faults into the requests its `Rules` pick.

The client is pointed at ``proxy.endpoint`` instead of the server. Requests are
forwarded byte for byte (raw path and query, every header including ``Host``, so
SigV4 and SharedKey signatures still verify); answers come back unchanged except
for ``Location`` headers, which are rewritten to point at the proxy again.

Example:
    >>> async with FaultProxy("http://127.0.0.1:8333") as proxy:
    ...     proxy.add(slow_down(), method="PUT", times=2)
    ...     store = aiostore.connect("s3://bucket", endpoint=proxy.endpoint, ...)
    ...     ...
    ...     print(proxy.injected, proxy.requests)
"""

from __future__ import annotations

import asyncio
import io
import socket
import struct
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from ._rules import Fault, FaultKind, Predicate, RequestInfo, Rule, Rules

__all__ = ["FaultProxy", "Seen"]

_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
    | {"expect"}
)
_NO_AUTO = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
_LARGE = 512 * 1024


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the proxy received, and what became of it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    status: int | None  # None: the connection was reset or cut
    fault: str | None
    sent: int  # request body bytes
    received: int  # response body bytes from the server (0 when not forwarded)
    head: bytes  # the first bytes of the server's response body

    @property
    def info(self) -> RequestInfo:
        """The request as rules see it."""
        return RequestInfo(self.method, self.path, self.query, self.headers)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: CIMultiDict[str]
    body: bytes


class FaultProxy:
    """A fault-injecting HTTP proxy on 127.0.0.1 (a random port) in front of ``upstream``.

    Attributes:
        rules: the `Rules` deciding which request gets which fault.
        seen: every request received, in order (when ``record`` is true).
        requests: requests received, by method.
    """

    def __init__(self, upstream: str, *, seed: int = 0, record: bool = True, host: str = "127.0.0.1") -> None:
        parts = urlsplit(upstream)
        self.upstream = f"{parts.scheme}://{parts.netloc}"
        self.rules = Rules(seed)
        self.seen: list[Seen] = []
        self.requests: Counter[str] = Counter()
        self._record = record
        self._host = host
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._late: set[asyncio.Future[_Answer]] = set()

    def __repr__(self) -> str:
        return f"<FaultProxy {self.endpoint or 'stopped'} -> {self.upstream} rules={len(self.rules.rules)}>"

    # -- lifetime -------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Listen on a free port; `endpoint` tells where."""
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
        )  # fmt: skip
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def aclose(self) -> None:
        """Stop listening, drop client connections, close the upstream pool; safe twice."""
        runner, self._runner = self._runner, None
        if self._late:  # let delayed requests land, as they would on a real network
            await asyncio.wait(set(self._late))
        session, self._session = self._session, None
        if runner is not None:
            await runner.cleanup()
        if session is not None:
            await session.close()

    @property
    def port(self) -> int:
        return self._port

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>`` (empty before `start`)."""
        return f"http://{self._host}:{self._port}" if self._port else ""

    def url(self, upstream_url: str) -> str:
        """``upstream_url`` (on the real server) as seen through the proxy."""
        return upstream_url.replace(self.upstream, self.endpoint, 1)

    # -- rules and counters ---------------------------------------------------
    def add(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str = "",
        query: Callable[[Mapping[str, str]], bool] | None = None,
        headers: Callable[[Mapping[str, str]], bool] | None = None,
        where: Predicate | None = None,
        times: int | None = 1,
        probability: float = 1.0,
        skip: int = 0,
    ) -> Rule:
        """Add a rule (see `Rule`); returns it, to read ``fired`` afterwards."""
        return self.rules.add(
            fault, method=method, path=path, query=query, headers=headers,
            where=where, times=times, probability=probability, skip=skip,
        )  # fmt: skip

    def clear(self) -> None:
        """Remove every rule; counters and the request log stay."""
        self.rules.clear()

    @property
    def injected(self) -> Counter[str]:
        """Faults injected so far, by label (``status_503``, ``reset_after``, ...)."""
        return self.rules.injected

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    # -- the handler ----------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        info = RequestInfo(request.method, request.path, request.query, request.headers)
        self.requests[request.method] += 1
        rule = self.rules.pick(info)
        fault = rule.fault if rule is not None else None
        answer: _Answer | None = None
        status: int | None = None
        try:
            if fault is not None and not fault.forward and fault.kind is FaultKind.OK_WITH_ERROR_BODY:
                fault = self._count(fault)
                status = 200
                return web.Response(status=200, body=fault.body, headers=fault.headers)
            early = await self._before(request, fault)
            if early is not None or (fault is not None and fault.kind is FaultKind.RESET_BEFORE):
                status = early.status if early is not None else None
                return early if early is not None else web.Response(status=499)
            answer = await self._forward_or_late(request, body, fault)
            if fault is not None and (fault.kind is FaultKind.DELAY or _stalled_before(fault)):
                fault = None  # done before the answer came
            if fault is not None and fault.needs_body and not answer.body:
                assert rule is not None
                self.rules.unfire(rule)
                fault = None
            response, status = await self._after(request, answer, fault)
            return response
        finally:
            self._log(info, body, answer, status, fault)

    async def _before(self, request: web.Request, fault: Fault | None) -> web.Response | None:
        """Faults that happen before the server sees the request."""
        if fault is None:
            return None
        if fault.kind is FaultKind.RESET_BEFORE:
            self._count(fault)
            _reset(request)
        elif fault.kind is FaultKind.STATUS:
            self._count(fault)
            return web.Response(status=fault.status, body=fault.body, headers=fault.headers)
        elif fault.kind is FaultKind.STALL and fault.offset < 0:
            self._count(fault)
            await asyncio.sleep(fault.seconds)
        return None

    async def _forward_or_late(self, request: web.Request, body: bytes, fault: Fault | None) -> _Answer:
        if fault is None or fault.kind is not FaultKind.DELAY:
            return await self._forward(request, body)
        self._count(fault)

        async def late() -> _Answer:
            await asyncio.sleep(fault.seconds)
            return await self._forward(request, body)

        task = asyncio.ensure_future(late())  # goes on even if the client hangs up meanwhile
        self._late.add(task)
        task.add_done_callback(self._late.discard)
        return await asyncio.shield(task)

    async def _forward(self, request: web.Request, body: bytes) -> _Answer:
        assert self._session is not None
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in _HOP)
        headers.popall("Content-Length", None)
        url = URL(self.upstream + request.raw_path, encoded=True)
        data = io.BytesIO(body) if len(body) > _LARGE else body or None  # large bytes would warn
        try:
            async with self._session.request(
                request.method, url, headers=headers, data=data,
                allow_redirects=False, skip_auto_headers=_NO_AUTO,
            ) as upstream:  # fmt: skip
                answer = await upstream.read()
                out = CIMultiDict((k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP)
                status = upstream.status
        except (aiohttp.ClientError, OSError) as exc:
            return _Answer(502, CIMultiDict(), f"fault proxy: upstream failed: {exc!r}".encode())
        if "Location" in out:
            out["Location"] = self.url(out["Location"])
        if request.method != "HEAD":
            out.popall("Content-Length", None)
        return _Answer(status, out, answer)

    async def _after(
        self, request: web.Request, answer: _Answer, fault: Fault | None
    ) -> tuple[web.StreamResponse, int | None]:
        """Faults that happen once the server has answered."""
        if fault is None:
            return web.Response(status=answer.status, body=answer.body, headers=answer.headers), answer.status
        self._count(fault)
        kind = fault.kind
        if kind is FaultKind.RESET_AFTER:
            _reset(request)
            return web.Response(status=499), None
        if kind is FaultKind.OK_WITH_ERROR_BODY:
            return web.Response(status=200, body=fault.body, headers=fault.headers), 200
        if kind is FaultKind.FLIP_BYTE:
            damaged = bytearray(answer.body)
            damaged[fault.offset % len(damaged)] ^= 0x01
            flipped = web.Response(status=answer.status, body=bytes(damaged), headers=answer.headers)
            return flipped, answer.status
        if kind is FaultKind.TRUNCATE:
            keep = fault.offset if fault.offset >= 0 else max(0, len(answer.body) + fault.offset)
            return await _partial(request, answer, keep, None), None
        return await _partial(request, answer, fault.offset, fault.seconds), answer.status

    def _count(self, fault: Fault) -> Fault:
        self.rules.count(fault)
        return fault

    def _log(
        self, info: RequestInfo, body: bytes, answer: _Answer | None, status: int | None, fault: Fault | None
    ) -> None:
        if not self._record:
            return
        self.seen.append(
            Seen(
                method=info.method, path=info.path, query=dict(info.query), headers=dict(info.headers),
                status=status, fault=fault.label if fault is not None else None, sent=len(body),
                received=len(answer.body) if answer is not None else 0,
                head=answer.body[:64] if answer is not None else b"",
            )
        )  # fmt: skip


def _stalled_before(fault: Fault) -> bool:
    return fault.kind is FaultKind.STALL and fault.offset < 0


def _reset(request: web.Request) -> None:
    """Close the client's connection with a TCP RST (SO_LINGER 0)."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _partial(
    request: web.Request, answer: _Answer, keep: int, pause: float | None
) -> web.StreamResponse:
    """Send the headers (with the full ``Content-Length``) and ``keep`` body bytes; then either
    close the connection (``pause`` None: a cut body) or wait ``pause`` seconds and send the rest."""
    response = web.StreamResponse(status=answer.status, headers=answer.headers)
    response.content_length = len(answer.body)
    await response.prepare(request)
    if keep:
        await response.write(answer.body[:keep])
    if pause is None:
        if request.transport is not None:
            request.transport.close()
        return response
    await asyncio.sleep(pause)
    await response.write(answer.body[keep:])
    await response.write_eof()
    return response

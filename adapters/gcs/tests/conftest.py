"""Fixtures of the GCS adapter tests, on the shared fake-gcs-server.

The server comes from ``aiostore.testing.servers.fixtures`` (``fake_gcs_server``).
Buckets are made here with a plain JSON API call, independent of the adapter's
own service, so a bug in the service cannot hide one in the store.
"""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import aiostore
from aiostore import Store
from aiostore.testing.servers import GCSServer

KiB = 1024
CHUNK = 256 * KiB  # the smallest resumable chunk, so multi-chunk uploads happen in small tests


def create_bucket(endpoint: str, name: str) -> None:
    """``POST /storage/v1/b?project=...`` on the emulator."""
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b?project=aiostore-test",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture(scope="session")
def service_account() -> dict[str, Any]:
    """A throwaway service-account key: fake-gcs-server does not check signatures,
    but the adapter signs URLs with a real RSA key all the same."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "aiostore-test",
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": "aiostore-test@aiostore-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@pytest.fixture(scope="session")
def gcs_bucket(fake_gcs_server: GCSServer) -> str:
    """A bucket unique to this test session."""
    name = f"aiostore-gcs-{uuid.uuid4().hex[:10]}"
    create_bucket(fake_gcs_server.endpoint, name)
    return name


@pytest.fixture
def gcs_options(fake_gcs_server: GCSServer, service_account: dict[str, Any]) -> dict[str, Any]:
    """Options reaching the emulator explicitly (no environment variable)."""
    return {"endpoint": fake_gcs_server.endpoint, "service_file": service_account, "chunk_size": CHUNK}


@pytest.fixture
def gcs_url(gcs_bucket: str) -> str:
    """A ``gs://`` URL with a work dir of its own, so tests never see each other's objects."""
    return f"gs://{gcs_bucket}/t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def bucket_keys(fake_gcs_server: GCSServer, gcs_bucket: str) -> Callable[[str], Awaitable[list[str]]]:
    """Every key under a prefix, read straight from the emulator (hidden ones included)."""

    async def keys(prefix: str) -> list[str]:
        url = f"{fake_gcs_server.endpoint}/storage/v1/b/{gcs_bucket}/o"
        async with aiohttp.ClientSession() as session, session.get(url, params={"prefix": prefix}) as resp:
            assert resp.status == 200
            return sorted(item["name"] for item in (await resp.json()).get("items", []))

    return keys


@pytest.fixture
async def gcs_store(gcs_bucket: str, gcs_options: dict[str, Any]) -> AsyncIterator[Store]:
    """An opened store on the session's bucket under ``suite/``."""
    async with aiostore.connect(f"gs://{gcs_bucket}/suite", **gcs_options) as store:
        yield store


@dataclass
class Fault:
    """Answer ``status`` instead of forwarding, for requests matching ``method`` and ``path``."""

    method: str
    path: str
    status: int
    times: int = 1


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""  # JSON API calls only, not uploads


@dataclass
class GCSProxy:
    """A real HTTP proxy in front of fake-gcs-server, for what the emulator cannot show.

    It records every request, can answer chosen requests with an error status
    (``faults``), can damage download bodies while keeping their hash headers
    (``corrupt_media``), can answer a JSON API call's ``fields`` projection as
    GCS does, which the emulator ignores (``partial_responses``), and can make the
    emulator persist only part of a resumable chunk, as GCS may (``short_chunks``:
    the first ``keep_bytes`` go upstream as a chunk of their own, so the 308 tells
    the client to send the rest again). It never pretends to be GCS beyond that.
    """

    upstream: str
    endpoint: str = ""
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    corrupt_media: bool = False
    drop_crc32c: bool = False
    rewrite_upload: tuple[bytes, bytes] | None = None
    unfinished_rewrites: int = 0  # answer this many rewrites "done": false, as GCS does for big copies
    partial_responses: bool = False
    short_chunks: int = 0  # forward only the first keep_bytes of this many resumable chunk PUTs
    keep_bytes: int = 256 * 1024

    @staticmethod
    def fault(method: str, path: str, status: int, times: int = 1) -> Fault:
        return Fault(method, path, status, times)

    def calls(self, method: str, path_part: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def _fault(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and request.method == fault.method and fault.path in request.path:
                fault.times -= 1
                return fault
        return None

    async def handle(self, request: web.Request, session: aiohttp.ClientSession) -> web.Response:
        seen = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        data = await request.read()
        kept = b"" if request.path.startswith("/upload/") else data
        self.requests.append(Recorded(request.method, request.path, dict(request.query), seen, kept))
        fault = self._fault(request)
        if self.unfinished_rewrites and "/rewriteTo/" in request.path:
            self.unfinished_rewrites -= 1
            token = f"token-{len(self.requests)}"
            return web.json_response({"done": False, "rewriteToken": token})
        if fault is not None:
            error = json.dumps({"error": {"code": fault.status, "message": "injected by the test proxy"}})
            return web.Response(status=fault.status, text=error, content_type="application/json")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        if self.rewrite_upload is not None and request.path.startswith("/upload/"):
            data = data.replace(*self.rewrite_upload)
        if request.method == "PUT" and self.short_chunks and len(data) > self.keep_bytes:
            self.short_chunks -= 1
            data, headers = self._shortened(data, headers)
        async with session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=io.BytesIO(data) if len(data) > 1024 * 1024 else data,  # raw bytes that large warn
            allow_redirects=False,
        ) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS}
        if "Location" in out:
            out["Location"] = out["Location"].replace(self.upstream, self.endpoint)
        if request.query.get("alt") == "media" and body:
            body = self._damage(body, out)
        elif self.partial_responses and "fields" in request.query and upstream.status == 200:
            body = json.dumps(project(json.loads(body), parse_fields(request.query["fields"]))).encode()
        return web.Response(status=upstream.status, body=body, headers=out)

    def _shortened(self, data: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        """The first ``keep_bytes`` of a chunk, sent as a chunk of unknown total size."""
        start = int(headers["Content-Range"].split(" ")[1].split("-")[0])
        end = start + self.keep_bytes - 1
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-range", "x-goog-hash")}
        return data[: self.keep_bytes], {**headers, "Content-Range": f"bytes {start}-{end}/*"}

    def _damage(self, body: bytes, headers: dict[str, str]) -> bytes:
        if self.drop_crc32c and "X-Goog-Hash" in headers:
            headers["X-Goog-Hash"] = ",".join(
                h for h in headers["X-Goog-Hash"].split(",") if not h.startswith("crc32c=")
            )
        if self.corrupt_media:
            return bytes([body[0] ^ 0xFF]) + body[1:]
        return body


def parse_fields(spec: str) -> dict[str, Any]:
    """A ``fields`` selector such as ``items(name,size),prefixes`` as a tree:
    ``{"items": {"name": {}, "size": {}}, "prefixes": {}}`` (an empty tree keeps all)."""
    stack: list[dict[str, Any]] = [{}]
    name = ""
    for char in spec:
        if char == "(":
            stack.append(stack[-1].setdefault(name.strip(), {}))
            name = ""
        elif char in ",)":
            if name.strip():
                stack[-1][name.strip()] = {}
            name = ""
            if char == ")":
                stack.pop()
        else:
            name += char
    if name.strip():
        stack[-1][name.strip()] = {}
    return stack[0]


def project(value: Any, tree: dict[str, Any]) -> Any:
    """What GCS answers for a ``fields`` projection: only the selected members, at every depth."""
    if not tree:
        return value
    if isinstance(value, list):
        return [project(item, tree) for item in value]
    if isinstance(value, dict):
        return {key: project(item, tree[key]) for key, item in value.items() if key in tree}
    return value


_HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "content-encoding"})


@pytest.fixture
async def gcs_proxy(fake_gcs_server: GCSServer) -> AsyncIterator[GCSProxy]:
    """A `GCSProxy` on a free loopback port, stopped after the test."""
    proxy = GCSProxy(upstream=fake_gcs_server.endpoint)
    async with aiohttp.ClientSession(auto_decompress=False) as session:

        async def handler(request: web.Request) -> web.Response:
            return await proxy.handle(request, session)

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        proxy.endpoint = f"http://127.0.0.1:{port}"
        try:
            yield proxy
        finally:
            await runner.cleanup()

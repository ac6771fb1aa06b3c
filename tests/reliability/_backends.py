"""The remote backends of the reliability proof: real servers, raw bucket views, and the ledger.

Each remote backend is a `Backend`: how to connect a store to a given endpoint
(the server's, or a proxy's in front of it), and how to look at the bucket
behind the adapter's back (hidden segment objects on GCS, uncommitted blobs on
Azure, open multipart uploads everywhere), so "nothing is left" is checked on
the raw service, not only through the store being tested.

The session `Ledger` adds up faults injected, operations tried, objects
verified byte for byte and objects lost; the line is printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest

import aiostore
from aiostore import RetryOptions, Store, TimeoutOptions
from aiostore.testing.faults import FaultProxy, s3_error_body, slow_down, status, throttled
from aiostore.testing.servers import AzureServer, GCSServer, S3Server

KiB = 1024
MiB = 1024 * KiB
#: Fast retries so the suite stays quick; a big budget so one test's faults never starve the next.
FAST = RetryOptions(attempts=5, base_delay=0.002, max_delay=0.02, retry_after_cap=0.05, budget=100_000)
TIMEOUTS = TimeoutOptions(connect=2.0, attempt=3.0, stall=1.0)


@dataclasses.dataclass
class Ledger:
    """What the whole reliability run did."""

    faults: int = 0
    requests: int = 0
    operations: int = 0
    verified: int = 0
    lost: int = 0  # objects missing or holding other bytes than written
    wrong: int = 0  # wrong bytes or descriptions returned as success
    orphans: int = 0  # uploads a failed call left, found with list_segments and aborted
    known: Counter[str] = dataclasses.field(default_factory=Counter)  # cases covered by a known gap
    facts: dict[str, str] = dataclasses.field(default_factory=dict)  # e.g. the load test's peak connections
    kinds: Counter[str] = dataclasses.field(default_factory=Counter)  # faults injected, by kind
    outcomes: Counter[str] = dataclasses.field(default_factory=Counter)  # fault cases, by outcome

    def absorb(self, proxy: FaultProxy) -> None:
        self.faults += proxy.rules.total
        self.requests += proxy.total_requests
        self.kinds.update(proxy.injected)

    def details(self) -> str:
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.kinds.items()))
        outcomes = ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items()))
        return f"reliability details: faults by kind: {kinds}; fault cases: {outcomes}"

    def line(self) -> str:
        gaps = ", ".join(f"{k}={v}" for k, v in sorted(self.known.items())) or "none"
        return (
            f"reliability: {self.faults} faults injected over {self.requests} proxied requests; "
            f"{self.operations} operations tried; {self.verified} objects verified byte-exact (SHA-256); "
            f"{self.orphans} uploads left by failed calls found with list_segments and aborted; "
            f"{self.wrong} wrong results, each inside a known gap: {gaps}; "
            + "".join(f"{k}: {v}; " for k, v in self.facts.items())
            + f"lost: {self.lost}"
        )


LEDGER = Ledger()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass(frozen=True)
class Raw:
    """The bucket under a prefix as the service sees it."""

    committed: frozenset[str]  # object paths a plain listing shows
    hidden: frozenset[str]  # anything else stored under the prefix (temporaries, uncommitted blobs)
    uploads: tuple[str, ...]  # open multipart uploads (segment paths)


@dataclasses.dataclass(frozen=True)
class Backend:
    """One real server and how to reach it."""

    name: str
    upstream: str  # the server's URL; a proxy in front of it is built from this
    options: Callable[[str], dict[str, Any]]  # endpoint -> aiostore.connect keywords
    hidden: Callable[[str], Awaitable[set[str]]]  # key prefix -> keys the adapter's listing cannot show
    errors: Mapping[str, Any]  # the service's own shape of 500 / 503 / 429 answers
    part_size: int  # the smallest part size the service accepts for multi-part uploads
    bucket: str
    light: bool = False  # a second implementation of a protocol already proven in full: fewer faults

    @property
    def port(self) -> int:
        return int(self.upstream.rsplit(":", 1)[1].split("/")[0])

    def connect(self, endpoint: str | None = None, work_dir: str = "", **kwargs: Any) -> Store:
        options = self.options(endpoint or self.upstream) | {"work_dir": work_dir}
        kwargs.setdefault("retry", FAST)
        kwargs.setdefault("timeouts", TIMEOUTS)
        return aiostore.connect(self.name.split("-")[0], **options, **kwargs)


async def raw_state(backend: Backend, store: Store) -> Raw:
    """What ``store``'s work dir holds, seen through a clean (unproxied) store and the raw service."""
    committed = frozenset([obj.path async for obj in store.list("", recursive=True)])
    uploads = tuple(sorted([seg.path async for seg in store.list_segments()]))
    everything = await backend.hidden(store.metadata().work_dir)
    return Raw(committed, frozenset(everything - committed), uploads)


# -- S3 ----------------------------------------------------------------------
def _s3_options(server: S3Server, profile: str, bucket: str) -> Callable[[str], dict[str, Any]]:
    def options(endpoint: str) -> dict[str, Any]:
        found = {
            "name": bucket, "endpoint": endpoint, "access_key_id": server.access_key,
            "secret_access_key": server.secret_key, "region": server.region, "profile": profile,
        }  # fmt: skip
        if profile == "aws":
            found["addressing_style"] = "path"
        return found

    return options


async def _nothing_hidden(prefix: str) -> set[str]:
    return set()  # S3 has no objects a listing does not show; open uploads come from list_segments


_S3_ERRORS = {
    "status_500": status(500, s3_error_body("InternalError"), {"Content-Type": "application/xml"}),
    "status_503": slow_down(),
    "status_429": throttled(1, s3_error_body("SlowDown")),
}


def make_s3(name: str, server: S3Server, profile: str) -> Backend:
    pytest.importorskip("aiostore_s3")
    bucket = f"rel-{uuid.uuid4().hex[:10]}"
    backend = Backend(
        name=name, upstream=server.endpoint, options=_s3_options(server, profile, bucket),
        hidden=_nothing_hidden, errors=_S3_ERRORS, part_size=5 * MiB, bucket=bucket, light=profile == "aws",
    )  # fmt: skip
    asyncio.run(_create_s3(backend))
    return backend


async def _create_s3(backend: Backend) -> None:
    options = backend.options(backend.upstream)
    del options["name"]
    async with aiostore.service("s3", **options) as svc:
        await svc.create(backend.bucket)


async def abort_uploads(store: Store) -> int:
    """Abort every open upload under the store's work dir; returns how many there were."""
    segments = [segment async for segment in store.list_segments()]
    for segment in segments:
        await store.abort_segment(segment)
    return len(segments)


# -- GCS -----------------------------------------------------------------------
def make_gcs(server: GCSServer) -> Backend:
    pytest.importorskip("aiostore_gcs")
    bucket = f"rel-{uuid.uuid4().hex[:10]}"
    _gcs_call(server.endpoint, "POST", "/storage/v1/b?project=rel", {"name": bucket})

    def options(endpoint: str) -> dict[str, Any]:
        return {"name": bucket, "endpoint": endpoint, "chunk_size": 256 * KiB}

    async def everything(prefix: str) -> set[str]:
        query = f"/storage/v1/b/{bucket}/o?prefix={urllib.parse.quote(prefix, safe='')}"
        items = _gcs_call(server.endpoint, "GET", query, None).get("items", [])
        return {item["name"][len(prefix) :] for item in items}

    body = json.dumps({"error": {"code": 0, "message": "injected by the fault proxy"}}).encode()
    errors = {
        "status_500": status(500, body, {"Content-Type": "application/json"}),
        "status_503": status(503, body, {"Content-Type": "application/json"}),
        "status_429": throttled(1, body),
    }
    return Backend(
        name="gcs", upstream=server.endpoint, options=options, hidden=everything,
        errors=errors, part_size=256 * KiB, bucket=bucket,
    )  # fmt: skip


def _gcs_call(endpoint: str, method: str, path: str, payload: object) -> dict[str, Any]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        endpoint + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        found: dict[str, Any] = json.loads(response.read() or b"{}")
        return found


# -- Azure ---------------------------------------------------------------------
def make_azure(server: AzureServer) -> Backend:
    pytest.importorskip("aiostore_azblob")
    container = f"rel-{uuid.uuid4().hex[:10]}"
    origin = server.endpoint.rsplit("/", 1)[0]

    def options(endpoint: str) -> dict[str, Any]:
        account_url = endpoint.rstrip("/") + f"/{server.account}"
        conn = server.connection_string.replace(server.endpoint, account_url)
        return {"name": container, "connection_string": conn}

    async def everything(prefix: str) -> set[str]:
        from azure.storage.blob.aio import ContainerClient

        async with ContainerClient.from_connection_string(server.connection_string, container) as client:
            return {
                blob.name[len(prefix) :]
                async for blob in client.list_blobs(name_starts_with=prefix, include=["uncommittedblobs"])
            }

    async def create() -> None:
        async with aiostore.service("azblob", connection_string=server.connection_string) as svc:
            await svc.create(container)

    asyncio.run(create())
    body = b'<?xml version="1.0" encoding="utf-8"?><Error><Code>{}</Code><Message>injected</Message></Error>'
    xml = {"Content-Type": "application/xml"}
    internal, busy = body.replace(b"{}", b"InternalError"), body.replace(b"{}", b"ServerBusy")
    errors = {
        "status_500": status(500, internal, xml | {"x-ms-error-code": "InternalError"}),
        "status_503": status(503, busy, xml | {"x-ms-error-code": "ServerBusy"}),
        "status_429": status(429, busy, xml | {"Retry-After": "1"}, "status_429_retry_after"),
    }
    return Backend(
        name="azblob", upstream=origin, options=options, hidden=everything,
        errors=errors, part_size=64 * KiB, bucket=container,
    )  # fmt: skip

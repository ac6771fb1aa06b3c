"""The fast data plane against SeaweedFS, which checks every signature.

A recording `FaultProxy` in front of the server shows what was sent and
injects the answers S3 gives under stress (SlowDown, resets, wrong region).
"""

from __future__ import annotations

import asyncio
import gzip
import random
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiobotocore.credentials import AioRefreshableCredentials  # type: ignore[import-untyped,unused-ignore]
from aiobotocore.session import AioSession  # type: ignore[import-untyped,unused-ignore]
from aiostore_s3 import S3Adapter
from aiostore_s3._config import parse_options
from aiostore_s3._dataplane import BotoPlane
from aiostore_s3._fast import FastTransport
from aiostore_s3._fastplane import FastPlane
from botocore.credentials import CredentialProvider  # type: ignore[import-untyped,unused-ignore]

import aiostore
from aiostore import RetryOptions, TransferOptions
from aiostore.testing.faults import (
    FaultProxy,
    has_query,
    ok_with_error_body,
    reset_after,
    s3_error_body,
    slow_down,
    status,
)
from aiostore.testing.servers._process import free_port

MiB = 1024 * 1024
ONCE = RetryOptions(attempts=1)
ODD_NAMES = [
    "ünï/日本/файл.txt", "with space.txt", "hash#tag.txt", "per%cent.txt", "per%20cent.txt",
    "plus+sign.txt", "question?.txt", "amp&eq=semi;comma,at@.txt", "emoji-\U0001f389.txt",
    "tilde~and(parens)!'*.txt", "a..b/c...d", "lt<gt>quote\"apos'.txt",
]  # fmt: skip


def _adapter(store: aiostore.Store) -> S3Adapter:
    adapter = store._adapter
    assert isinstance(adapter, S3Adapter)
    return adapter


def _lowered(headers: Any) -> dict[str, str]:
    return {str(k).lower(): v for k, v in headers.items()}


@asynccontextmanager
async def _through_proxy(
    options: dict[str, Any], bucket: str, work_dir: str, **extra: Any
) -> AsyncIterator[tuple[FaultProxy, aiostore.Store]]:
    async with FaultProxy(options["endpoint"]) as proxy:
        settings = options | {"endpoint": proxy.endpoint, "work_dir": work_dir}
        async with aiostore.connect("s3", name=bucket, **settings, **extra) as store:
            try:
                yield proxy, store
            finally:
                proxy.clear()
                await store.delete("", recursive=True)


async def test_the_option_chooses_the_plane(seaweedfs_options: dict[str, Any], seaweedfs_bucket: str) -> None:
    async with aiostore.connect(f"s3://{seaweedfs_bucket}", **seaweedfs_options) as fast:
        assert isinstance(await _adapter(fast)._plane(), FastPlane)
    async with aiostore.connect(f"s3://{seaweedfs_bucket}?fast_path=false", **seaweedfs_options) as slow:
        assert isinstance(await _adapter(slow)._plane(), BotoPlane)


async def test_anonymous_requests_go_unsigned(moto_options: dict[str, Any], moto_bucket: str) -> None:
    async with FaultProxy(moto_options["endpoint"]) as proxy:
        options = moto_options | {"endpoint": proxy.endpoint, "anonymous": True, "work_dir": "anon/"}
        async with aiostore.connect("s3", name=moto_bucket, **options) as store:
            assert isinstance(await _adapter(store)._plane(), FastPlane)
            await store.write("a.bin", b"public")  # moto takes anonymous writes ...
            with pytest.raises(aiostore.PermissionDeniedError):
                await store.read("a.bin")  # ... but not reads of a private bucket
        put = next(_lowered(seen.headers) for seen in proxy.seen if seen.method == "PUT")
    assert "authorization" not in put
    assert "x-amz-date" not in put
    async with aiostore.connect("s3", name=moto_bucket, work_dir="anon/", **moto_options) as owner:
        assert await owner.read("a.bin") == b"public"
        await owner.delete("a.bin")


async def test_stores_of_a_service_share_one_session(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    async with aiostore.service("s3", **seaweedfs_options) as svc:
        first, second = await svc.get(seaweedfs_bucket), await svc.get(seaweedfs_bucket)
        await first.write("shared/a.bin", b"a")
        assert await second.read("shared/a.bin") == b"a"
        planes = [await _adapter(store)._plane() for store in (first, second)]
        assert all(isinstance(plane, FastPlane) for plane in planes)
        transport = _adapter(first)._handle.transport()
        assert transport is not None
        assert transport is _adapter(second)._handle.transport()
        await first.aclose()  # a borrowed session stays open
        await second.delete("shared/a.bin")
    assert "closed" in repr(transport)


async def test_requests_are_signed_and_carry_nothing_extra(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    async with _through_proxy(seaweedfs_options, seaweedfs_bucket, "lean/") as (proxy, store):
        await store.write("a.bin", b"data")
        assert await store.read("a.bin") == b"data"
        assert [obj.path async for obj in store.list()] == ["a.bin"]
        sent = [(seen.method, seen.query, _lowered(seen.headers)) for seen in proxy.seen]
    put = next(headers for method, _, headers in sent if method == "PUT")
    assert put["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert put["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "signedheaders=" in put["authorization"].lower()
    for absent in ("expect", "content-type", "accept-encoding"):
        assert absent not in put
    listing = next(query for method, query, _ in sent if method == "GET" and "list-type" in query)
    assert listing["encoding-type"] == "url"


async def test_a_large_single_write_warns_nothing(seaweedfs_store: aiostore.Store) -> None:
    data = random.Random(1).randbytes(3 * MiB)  # one PUT: under the part size, over aiohttp's 1 MiB
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await seaweedfs_store.write("big.bin", data)
        await seaweedfs_store.write("view.bin", memoryview(bytearray(data)))
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert await seaweedfs_store.read("big.bin") == data
    assert await seaweedfs_store.read("view.bin") == data


@pytest.mark.parametrize("name", ODD_NAMES)
async def test_odd_keys_are_signed_as_sent(seaweedfs_store: aiostore.Store, name: str) -> None:
    await seaweedfs_store.write(name, name.encode())
    assert (await seaweedfs_store.stat(name)).size == len(name.encode())
    assert await seaweedfs_store.read(name, offset=1) == name.encode()[1:]
    assert [obj.path async for obj in seaweedfs_store.list(recursive=True)] == [name]
    await seaweedfs_store.delete(name)
    assert not await seaweedfs_store.exists(name)


async def test_content_encoding_is_not_undone(seaweedfs_store: aiostore.Store) -> None:
    packed = gzip.compress(b"x" * 10_000)
    await seaweedfs_store.write("packed.gz", packed, content_encoding="gzip")
    assert await seaweedfs_store.read("packed.gz") == packed
    async with seaweedfs_store.reader("packed.gz") as reader:
        assert await reader.read() == packed


async def test_answers_equal_botocores(seaweedfs_store: aiostore.Store) -> None:
    await seaweedfs_store.write(
        "d/typed.bin",
        b"typed",
        content_type="text/x-typed",
        metadata={"color": "blue  green", "Mixed-Case": "v"},
    )
    await seaweedfs_store.write("d/sub/deep.bin", b"deep")
    adapter = _adapter(seaweedfs_store)
    fast = await adapter._plane()
    boto = BotoPlane(await adapter._client(), adapter.storager_name)
    key = adapter.work_dir + "d/typed.bin"
    head = await fast.head_object("d/typed.bin", key, {})
    assert head == await boto.head_object("d/typed.bin", key, {})
    assert head.metadata["color"] == "blue  green"  # sent as given, signed folded
    for recursive in (False, True):
        pages = [
            await plane.list_objects(
                adapter.work_dir + "d/",
                recursive=recursive,
                page_size=1000,
                token=None,
                work_dir=adapter.work_dir,
            )
            for plane in (fast, boto)
        ]
        assert pages[0] == pages[1]
        assert pages[0].entries


async def test_slow_down_keeps_retry_after(seaweedfs_options: dict[str, Any], seaweedfs_bucket: str) -> None:
    async with _through_proxy(seaweedfs_options, seaweedfs_bucket, "slow/", retry=ONCE) as (proxy, store):
        proxy.add(slow_down(retry_after=2), method="PUT")
        with pytest.raises(aiostore.RateLimitedError) as info:
            await store.write("a.bin", b"x")
    assert info.value.retry_after == 2.0
    assert "SlowDown" in str(info.value)
    assert not info.value.may_have_applied


async def test_status_only_head_errors(seaweedfs_options: dict[str, Any], seaweedfs_bucket: str) -> None:
    async with _through_proxy(seaweedfs_options, seaweedfs_bucket, "head/", retry=ONCE) as (proxy, store):
        proxy.add(status(403), method="HEAD")
        with pytest.raises(aiostore.PermissionDeniedError) as denied:
            await store.stat("a.bin")
        with pytest.raises(aiostore.NotFoundError):
            await store.stat("a.bin")
    assert "403" in str(denied.value)


async def test_a_refused_connection_did_not_apply(seaweedfs_options: dict[str, Any]) -> None:
    options = seaweedfs_options | {"endpoint": f"http://127.0.0.1:{free_port()}"}
    async with aiostore.connect("s3://bucket", retry=ONCE, **options) as store:
        with pytest.raises(aiostore.ServiceUnavailableError) as info:
            await store.write("a.bin", b"x")
    assert info.value.retryable
    assert info.value.may_have_applied is False


async def test_a_reset_after_sending_may_have_applied(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    async with _through_proxy(seaweedfs_options, seaweedfs_bucket, "reset/", retry=ONCE) as (proxy, store):
        proxy.add(reset_after(), method="PUT")
        with pytest.raises(aiostore.ServiceUnavailableError) as info:
            await store.write("a.bin", b"x")
        assert await store.read("a.bin") == b"x"  # it did apply
    assert info.value.may_have_applied


async def test_an_error_inside_a_200_is_an_error(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    """The fast path reads a CompleteMultipartUpload failure inside a 200 like botocore
    does (CopyObject stays on aiobotocore)."""
    transfer = TransferOptions(part_size=5 * MiB)
    async with _through_proxy(
        seaweedfs_options, seaweedfs_bucket, "ok-error/", retry=ONCE, transfer=transfer
    ) as (proxy, store):
        await store.write("src.bin", b"source")
        proxy.add(ok_with_error_body(forward=False), method="POST", query=has_query("uploadId"))
        with pytest.raises(aiostore.ServiceUnavailableError, match="InternalError"):
            await store.write("big.bin", random.Random(3).randbytes(6 * MiB))
        proxy.add(ok_with_error_body(forward=False), method="PUT", headers=lambda h: "x-amz-copy-source" in h)
        with pytest.raises(aiostore.ServiceUnavailableError, match="InternalError"):
            await store.copy("src.bin", "dst.bin")
        assert not await store.exists("big.bin")
        assert [seg async for seg in store.list_segments()] == []
        completes = [seen for seen in proxy.seen if seen.method == "POST" and "uploadId" in seen.query]
    assert len(completes) == 1, "botocore resent nothing: the core owns retries"


async def test_multipart_uploads_are_created_and_completed_by_the_fast_path(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    """No cold botocore operation on the way of a first upload; the manifest is signed."""
    data = random.Random(4).randbytes(11 * MiB)
    parts = TransferOptions(part_size=5 * MiB)
    async with _through_proxy(seaweedfs_options, seaweedfs_bucket, "mp/", transfer=parts) as (proxy, store):
        obj = await store.write("big.bin", data, content_type="image/x-parts", metadata={"k": "v"})
        assert await store.read("big.bin") == data
        stat = await store.stat("big.bin")
        posts = [(seen.query, _lowered(seen.headers)) for seen in proxy.seen if seen.method == "POST"]
    assert (stat.etag, stat.content_type, dict(stat.metadata)) == (obj.etag, "image/x-parts", {"k": "v"})
    assert obj.size == len(data)
    (created_query, created), (completed_query, completed) = posts
    assert "uploads" in created_query
    assert completed_query["uploadId"]
    for headers in (created, completed):
        assert "Botocore" not in headers.get("user-agent", "")
    assert created["x-amz-checksum-algorithm"] == "CRC32C"
    assert created["x-amz-meta-k"] == "v"
    assert len(completed["x-amz-content-sha256"]) == 64  # the manifest's SHA-256, not UNSIGNED-PAYLOAD


async def test_another_region_hands_the_bucket_to_botocore(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    moved = status(400, s3_error_body("AuthorizationHeaderMalformed"), {"x-amz-bucket-region": "eu-west-1"})
    async with _through_proxy(seaweedfs_options, seaweedfs_bucket, "region/", retry=ONCE) as (proxy, store):
        await store.write("a.bin", b"here")
        proxy.add(moved, method="GET")
        assert await store.read("a.bin") == b"here"
        plane = await _adapter(store)._plane()
        assert isinstance(plane, FastPlane)
        assert plane.redirected
        await store.write("b.bin", b"there")
        agents = [_lowered(seen.headers).get("user-agent", "") for seen in proxy.seen if seen.method == "PUT"]
    assert "Botocore" not in agents[0]
    assert "Botocore" in agents[-1]


async def test_parallel_reads_are_pinned_to_the_etag(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    data = random.Random(2).randbytes(24 * MiB + 3)
    transfer = TransferOptions(part_size=5 * MiB, concurrency=3)
    directory = "ranges/"
    async with _through_proxy(seaweedfs_options, seaweedfs_bucket, directory, transfer=transfer) as (
        proxy,
        store,
    ):
        written = await store.write("big.bin", data)
        proxy.seen.clear()
        assert await store.read("big.bin") == data
        for _ in range(100):  # the proxy logs a request once it has finished answering it
            gets = [_lowered(seen.headers) for seen in proxy.seen if seen.method == "GET"]
            pinned = [headers for headers in gets if "if-match" in headers]
            if len(pinned) >= 2:
                break
            await asyncio.sleep(0.01)
    assert len(pinned) >= 2, "the ranges after the first answer go out in parallel"
    assert all("range" in headers for headers in pinned)
    assert {headers["if-match"] for headers in pinned} == {written.etag}


class _Rotating(CredentialProvider):  # type: ignore[misc]
    """A credential provider (botocore's extension point) whose keys always need a refresh."""

    METHOD = CANONICAL_NAME = "aiostore-rotating"

    def __init__(self) -> None:
        super().__init__()
        self.issued = 0

    async def fetch(self) -> dict[str, str]:
        self.issued += 1
        expiry = datetime.now(UTC) + timedelta(seconds=30)  # inside botocore's refresh window
        return {
            "access_key": f"AKID{self.issued}",
            "secret_key": "s",
            "token": "t",
            "expiry_time": expiry.isoformat(),
        }

    async def load(self) -> AioRefreshableCredentials:
        return AioRefreshableCredentials.create_from_metadata(await self.fetch(), self.fetch, self.METHOD)


async def test_refreshable_credentials_are_refreshed_and_static_ones_frozen() -> None:
    session = AioSession()
    session.get_component("credential_provider").insert_before("env", _Rotating())
    config = parse_options({"name": "b", "endpoint": "http://127.0.0.1:9"})
    async with session.create_client("s3", endpoint_url=config.endpoint, region_name="us-east-1") as client:
        transport = FastTransport(config, client, connect_timeout=1.0, ca_bundle=None)
        keys = [(await transport._credentials()).access_key for _ in range(3)]
    assert len(set(keys)) == 3
    static = parse_options({"name": "b", "access_key_id": "AKID", "secret_access_key": "secret-value"})
    async with AioSession().create_client(
        "s3", region_name="us-east-1", aws_access_key_id="AKID", aws_secret_access_key="secret-value"
    ) as client:
        transport = FastTransport(static, client, connect_timeout=1.0, ca_bundle=None)
        assert await transport._credentials() is await transport._credentials()


async def test_delete_many_is_one_signed_post_and_reports_refused_keys(
    seaweedfs_options: dict[str, Any], seaweedfs_bucket: str
) -> None:
    async with _through_proxy(seaweedfs_options, seaweedfs_bucket, "bulk/", retry=ONCE) as (proxy, store):
        for name in ODD_NAMES:
            await store.write(name, b"x")
        await store.delete_many(ODD_NAMES)
        assert [obj async for obj in store.list(recursive=True)] == []
        posts = [seen for seen in proxy.seen if seen.method == "POST"]
        assert [seen.method for seen in proxy.seen].count("DELETE") == 0
        assert len(posts) == 1
        assert "delete" in posts[0].query
        headers = _lowered(posts[0].headers)
        assert "content-md5" in headers
        assert len(headers["x-amz-content-sha256"]) == 64, "the small body is signed"
        refused = (
            b'<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Error><Key>bulk/gone.txt</Key>'
            b"<Code>NoSuchKey</Code><Message>m</Message></Error><Error><Key>bulk/a&amp;b.txt</Key>"
            b"<Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>"
        )
        proxy.add(
            status(200, refused, {"Content-Type": "application/xml"}),
            method="POST",
            query=has_query("delete"),
        )
        with pytest.raises(aiostore.PermissionDeniedError) as info:
            await store.delete_many(["gone.txt", "a&b.txt"])
    assert (info.value.op, info.value.path) == ("delete", "a&b.txt")

"""The local test servers start, answer real requests, and stop cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from aiobotocore.config import AioConfig  # type: ignore[import-untyped,unused-ignore]
from aiobotocore.session import get_session  # type: ignore[import-untyped,unused-ignore]
from azure.storage.blob.aio import BlobServiceClient
from botocore.exceptions import ClientError  # type: ignore[import-untyped,unused-ignore]

from aiostore.testing.servers import (
    AzureServer,
    GCSServer,
    ManagedProcess,
    Probe,
    S3Server,
    free_port,
    moto,
    reset,
    seaweedfs,
)
from aiostore.testing.servers._process import port_is_free

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def _s3_roundtrip(server: S3Server, secret: str | None = None) -> bytes:
    """Create a bucket, put and get one object, delete both; return the bytes read."""
    bucket = _name("servers")
    config = AioConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    async with get_session().create_client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key if secret is None else secret,
        config=config,
    ) as s3:
        await s3.create_bucket(Bucket=bucket)
        await s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=b"hello s3")
        response = await s3.get_object(Bucket=bucket, Key="dir/hello.txt")
        async with response["Body"] as body:
            data: bytes = await body.read()
        await s3.delete_object(Bucket=bucket, Key="dir/hello.txt")
        await s3.delete_bucket(Bucket=bucket)
    return data


async def _bucket_names(server: S3Server) -> set[str]:
    async with get_session().create_client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    ) as s3:
        response = await s3.list_buckets()
    return {bucket["Name"] for bucket in response["Buckets"]}


def test_seaweedfs_put_get(seaweedfs_server: S3Server) -> None:
    assert asyncio.run(_s3_roundtrip(seaweedfs_server)) == b"hello s3"


def test_seaweedfs_refuses_wrong_secret(seaweedfs_server: S3Server) -> None:
    with pytest.raises(ClientError) as info:
        asyncio.run(_s3_roundtrip(seaweedfs_server, secret="not-the-secret"))
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert info.value.response["Error"]["Code"] in {"SignatureDoesNotMatch", "AccessDenied"}


def test_second_seaweedfs_runs_alongside_and_frees_its_port(
    seaweedfs_server: S3Server, tmp_path: Path
) -> None:
    with seaweedfs(tmp_path) as other:
        assert other.endpoint != seaweedfs_server.endpoint
        assert other.secret_key != seaweedfs_server.secret_key
        assert asyncio.run(_s3_roundtrip(other)) == b"hello s3"
    assert port_is_free(int(other.endpoint.rsplit(":", 1)[1]))


def test_moto_put_get(moto_server: S3Server) -> None:
    assert asyncio.run(_s3_roundtrip(moto_server)) == b"hello s3"


def test_moto_reset_forgets_buckets(tmp_path: Path) -> None:
    with moto(tmp_path) as server:
        asyncio.run(_s3_roundtrip(server))  # leaves nothing behind
        bucket = _name("kept")
        asyncio.run(_create_bucket(server, bucket))
        assert bucket in asyncio.run(_bucket_names(server))
        reset(server)
        assert asyncio.run(_bucket_names(server)) == set()


async def _create_bucket(server: S3Server, bucket: str) -> None:
    async with get_session().create_client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    ) as s3:
        await s3.create_bucket(Bucket=bucket)


def _gcs_json(method: str, url: str, body: object = None) -> dict[str, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with _OPENER.open(request, timeout=10) as response:
        result: dict[str, object] = json.load(response)
    return result


def test_fake_gcs_creates_and_lists_bucket(fake_gcs_server: GCSServer) -> None:
    bucket = _name("servers")
    created = _gcs_json("POST", f"{fake_gcs_server.endpoint}/storage/v1/b?project=x", {"name": bucket})
    assert created["name"] == bucket
    listed = _gcs_json("GET", f"{fake_gcs_server.endpoint}/storage/v1/b")
    items = listed.get("items")
    assert isinstance(items, list)
    assert bucket in {item["name"] for item in items}


async def _azure_roundtrip(server: AzureServer) -> bytes:
    async with BlobServiceClient.from_connection_string(server.connection_string) as service:
        assert service.account_name == server.account
        container = service.get_container_client(_name("servers"))
        await container.create_container()
        await container.upload_blob("dir/hello.txt", b"hello azure")
        downloader = await container.download_blob("dir/hello.txt")
        data = await downloader.readall()
        await container.delete_container()
    return data


def test_azurite_upload_download(azurite_server: AzureServer) -> None:
    assert azurite_server.endpoint.endswith("/devstoreaccount1")
    assert asyncio.run(_azure_roundtrip(azurite_server)) == b"hello azure"


def test_wait_ready_reports_early_exit_with_log_tail(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "print('boom: bad flag'); raise SystemExit(3)"]
    with ManagedProcess("failing", argv, tmp_path) as proc, pytest.raises(RuntimeError) as info:
        proc.wait_ready(Probe(f"http://127.0.0.1:{free_port()}/"), timeout=10)
    assert "boom: bad flag" in str(info.value)
    assert "exit code 3" in str(info.value)


def test_stop_kills_a_process_group_that_ignores_sigterm(tmp_path: Path) -> None:
    script = (
        "import signal, subprocess, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "print('child', child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = ManagedProcess("stubborn", [sys.executable, "-c", script], tmp_path)
    proc.start()
    child = int(_wait_for_line(proc.log_path, "child ").split()[1])
    proc.stop(grace=0.5)
    assert proc.returncode == -signal.SIGKILL
    assert _gone(child)


def _wait_for_line(path: Path, prefix: str) -> str:
    for _ in range(200):
        for line in path.read_text().splitlines():
            if line.startswith(prefix):
                return line
        time.sleep(0.05)
    raise AssertionError(f"{prefix!r} never appeared in {path}")


def _gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie awaiting its new parent)."""
    for _ in range(100):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_every_server_reports_its_process_group(
    seaweedfs_server: S3Server,
    moto_server: S3Server,
    fake_gcs_server: GCSServer,
    azurite_server: AzureServer,
) -> None:
    """The benchmarks read a server's CPU through ``pid``: it must lead a live process group."""
    pids = [s.pid for s in (seaweedfs_server, moto_server, fake_gcs_server, azurite_server)]
    assert len(set(pids)) == 4
    for pid in pids:
        assert pid > 0
        assert os.getpgid(pid) == pid

"""V4 signed URLs: fetched with aiohttp from the emulator, and their signatures checked here.

fake-gcs-server does not verify signatures, so each URL's signature is verified
in the test with the service account's public key, over the canonical request
rebuilt from the URL itself (host included).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
import yarl
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import aiostore
from aiostore import PermissionDeniedError
from aiostore.testing import payload
from aiostore.testing.servers import GCSServer


def _verify(url: str, method: str, service_account: dict[str, Any]) -> dict[str, str]:
    """Check the signature of ``url``; returns its query parameters."""
    parts = urlsplit(url)
    query, signature = parts.query.rsplit("&X-Goog-Signature=", 1)
    params = dict(parse_qsl(query))
    assert params["X-Goog-SignedHeaders"] == "host"
    canonical = "\n".join([method, parts.path, query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"])
    scope = params["X-Goog-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        ["GOOG4-RSA-SHA256", params["X-Goog-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = serialization.load_pem_private_key(service_account["private_key"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    key.public_key().verify(bytes.fromhex(signature), to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
    return params


async def _send(method: str, url: str, data: bytes | None = None) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, yarl.URL(url, encoded=True), data=data) as response,
    ):
        return response.status, await response.read()


@pytest.mark.parametrize("path", ["plain.bin", "dir with space/ünï+#?.bin"])
async def test_signed_get_is_valid_and_served(
    gcs_url: str,
    gcs_options: dict[str, Any],
    service_account: dict[str, Any],
    fake_gcs_server: GCSServer,
    path: str,
) -> None:
    data = payload(5000, seed=9)
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        await store.write(path, data)
        url = await store.reach(path, expires=90)
        assert url.startswith(fake_gcs_server.endpoint + "/"), "the emulator's host, not https://http://..."
        params = _verify(url, "GET", service_account)
        assert params["X-Goog-Expires"] == "90"
        assert params["X-Goog-Credential"].startswith(service_account["client_email"] + "/")
        assert await _send("GET", url) == (200, data)
        await store.delete(path)


async def test_signed_put_uploads(
    gcs_url: str, gcs_options: dict[str, Any], service_account: dict[str, Any]
) -> None:
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        url = await store.reach("uploaded.bin", method="PUT", expires=60)
        _verify(url, "PUT", service_account)
        status, _ = await _send("PUT", url, b"sent with a signed URL")
        assert status == 200
        assert await store.read("uploaded.bin") == b"sent with a signed URL"
        await store.delete("uploaded.bin")


async def test_emulator_host_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    gcs_bucket: str,
    fake_gcs_server: GCSServer,
    service_account: dict[str, Any],
) -> None:
    """Without ``endpoint`` the client reads STORAGE_EMULATOR_HOST (with http://)."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs_server.endpoint)
    async with aiostore.connect(f"gcs://{gcs_bucket}/env", service_file=service_account) as store:
        await store.write("env.txt", b"via the environment")
        url = await store.reach("env.txt")
        assert url.startswith(f"{fake_gcs_server.endpoint}/{gcs_bucket}/env/env.txt?")
        assert await _send("GET", url) == (200, b"via the environment")
        await store.delete("env.txt")


async def test_reach_needs_a_key(
    gcs_url: str, gcs_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no application default credentials
    options = {k: v for k, v in gcs_options.items() if k != "service_file"}
    async with aiostore.connect(gcs_url, **options) as store:
        await store.write("k.txt", b"k")
        with pytest.raises(PermissionDeniedError, match="service-account key"):
            await store.reach("k.txt")
        await store.delete("k.txt")

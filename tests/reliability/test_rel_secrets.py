"""Secrets never show: not in a repr, not in an error, not in a log line (DEBUG included).

The S3 store (SeaweedFS checks signatures) and the Azure store (SharedKey)
run a round of operations through the proxy, with injected failures and a
store using a wrong secret. The proxy records the ``Authorization`` header of
every request, so the actual signatures sent are known; neither the secret
nor any signature may appear in ``repr(store)``, in the text of any raised
error (its chain and traceback included), or in the captured DEBUG logs.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

import aiostore
from aiostore import StorageError, Store
from aiostore.testing.faults import FaultProxy, reset_after

from ._backends import Backend, Ledger

_SIGNATURE = re.compile(r"(?:Signature=|SharedKey [^:]+:)([A-Za-z0-9+/=]{16,})")


@pytest.fixture(params=["s3-seaweedfs", "azblob"])
def signed(request: pytest.FixtureRequest) -> Backend:
    fixture = {"s3-seaweedfs": "seaweedfs_backend", "azblob": "azblob_backend"}[request.param]
    found: Backend = request.getfixturevalue(fixture)
    return found


def _secret(backend: Backend) -> str:
    options = backend.options(backend.upstream)
    if "secret_access_key" in options:
        return str(options["secret_access_key"])
    key = re.search(r"AccountKey=([^;]+)", options["connection_string"])
    assert key is not None
    return key.group(1)


def _with_wrong_secret(backend: Backend, endpoint: str, prefix: str) -> Store:
    options = backend.options(endpoint) | {"work_dir": prefix}
    if "secret_access_key" in options:
        options["secret_access_key"] = "wrong" + options["secret_access_key"][5:]
        return aiostore.connect("s3", **options)
    options["connection_string"] = options["connection_string"].replace("AccountKey=", "AccountKey=AAAA")
    return aiostore.connect("azblob", **options)


def _texts(error: BaseException) -> Iterator[str]:
    yield str(error)
    yield repr(error)
    yield "".join(traceback.format_exception(error))


async def _exercise(store: Store, proxy: FaultProxy, errors: list[BaseException]) -> None:
    await store.write("a.bin", b"secret-free data")
    async for _ in store.list(""):
        pass
    for call in (lambda: store.stat("missing.bin"), lambda: store.read("missing.bin")):
        try:
            await call()
        except StorageError as exc:
            errors.append(exc)
    proxy.add(reset_after(), method="GET", times=None)
    try:
        await store.read("a.bin")
    except StorageError as exc:
        errors.append(exc)
    proxy.clear()
    if store.metadata().capabilities.reach:
        await store.reach("a.bin")
    # a call the SDK still makes on every adapter (the hot ones may skip its logging)
    await store.copy("a.bin", "b.bin")
    await store.delete("b.bin")
    await store.delete("a.bin")


async def test_secrets_never_show(
    signed: Backend, prefix: str, caplog: pytest.LogCaptureFixture, ledger: Ledger
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    texts: list[str] = []
    async with FaultProxy(signed.upstream) as proxy:
        async with signed.connect(proxy.endpoint, prefix) as store:
            texts += [repr(store), repr(store.metadata()), repr(getattr(store, "_adapter", None))]
            await _exercise(store, proxy, errors)
        async with _with_wrong_secret(signed, proxy.endpoint, prefix) as wrong:
            texts.append(repr(wrong))
            try:
                await wrong.write("b.bin", b"x")
            except StorageError as exc:
                errors.append(exc)
        ledger.absorb(proxy)
    assert len(errors) >= 4, errors
    texts += [text for error in errors for text in _texts(error)]
    texts += [caplog.text, *(str(record.args) for record in caplog.records)]
    signatures = _signatures(proxy)
    assert len(signatures) >= 5, "the proxy should have seen signed requests"
    everything = "\n".join(texts)
    assert _secret(signed) not in everything, "the secret key shows"
    shown = [signature for signature in signatures if signature in everything]
    assert not shown, f"{len(shown)} request signatures show, e.g. {shown[0][:8]}..."
    assert caplog.records, "DEBUG logging was captured"


def _signatures(proxy: FaultProxy) -> set[str]:
    found: set[str] = set()
    for seen in proxy.seen:
        headers: dict[str, Any] = {k.lower(): v for k, v in seen.headers.items()}
        match = _SIGNATURE.search(str(headers.get("authorization", "")))
        if match:
            found.add(match.group(1))
    return found

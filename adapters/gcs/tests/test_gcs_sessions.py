"""Session lifetime: made lazily in the running loop, closed on exit, never leaked;
and secrets kept out of every repr and message."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import pytest
from aiostore_gcs import GCSAdapter

import aiostore
from aiostore import ClosedError, InvalidArgumentError, Store


def gcs_adapter(store: Store) -> GCSAdapter:
    adapter = store._adapter
    assert isinstance(adapter, GCSAdapter)
    return adapter


async def test_session_is_lazy_and_closed_on_exit(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    store = aiostore.connect(gcs_url, **gcs_options)
    client = gcs_adapter(store)._client
    assert client._session is None, "connect() must not create a session"
    async with store:
        await store.write("lazy.txt", b"x")
        session = client._session
        assert session is not None
        assert not session.closed
        await store.delete("lazy.txt")
    assert session.closed
    with pytest.raises(ClosedError):
        await store.read("lazy.txt")


async def test_no_unclosed_session_warning(
    gcs_url: str, gcs_options: dict[str, Any], gcs_bucket: str
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with aiostore.connect(gcs_url, **gcs_options) as store:
            await store.write("w.txt", b"w")
            await store.delete("w.txt")
        async with aiostore.service("gcs", endpoint=gcs_options["endpoint"]) as svc:
            child = await svc.get(gcs_bucket)
            await child.exists("nothing-here")
        never_opened = aiostore.connect(gcs_url, **gcs_options)
        await never_opened.aclose()
        del store, svc, child, never_opened
        gc.collect()
    unclosed = [w for w in caught if "nclosed" in str(w.message)]
    assert unclosed == []


def test_other_event_loop_is_refused(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    store = aiostore.connect(gcs_url, **gcs_options)
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        first.run_until_complete(store.write("loop.txt", b"first loop"))
        with pytest.raises(ClosedError, match="event loop"):
            second.run_until_complete(store.read("loop.txt"))
        first.run_until_complete(store.delete("loop.txt"))
        first.run_until_complete(store.aclose())
    finally:
        first.close()
        second.close()


def test_no_secret_in_reprs(
    gcs_url: str, gcs_options: dict[str, Any], service_account: dict[str, Any]
) -> None:
    store = aiostore.connect(gcs_url, **gcs_options)
    key_line = service_account["private_key"].splitlines()[1]
    adapter = gcs_adapter(store)
    for text in (repr(store), repr(adapter), repr(adapter._client), str(store.metadata())):
        assert key_line not in text
        assert "private_key" not in text


async def test_errors_carry_no_secret(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    account = {"type": "service_account", "client_email": "x@y.z", "private_key": "SECRET-KEY-TEXT"}
    broken = {**gcs_options, "service_file": account}
    async with aiostore.connect(gcs_url, **broken) as store:
        await store.write("s.txt", b"s")
        with pytest.raises(InvalidArgumentError, match="not a valid PEM key") as info:
            await store.reach("s.txt")
        assert "SECRET-KEY-TEXT" not in str(info.value)
        assert "SECRET-KEY-TEXT" not in repr(info.value)
        await store.delete("s.txt")


def test_unknown_option_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown GCS option"):
        aiostore.connect("gs://bucket", acces_key="typo")

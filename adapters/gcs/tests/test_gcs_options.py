"""Options, URLs, schemes and write extras."""

from __future__ import annotations

from typing import Any

import pytest
from aiostore_gcs import CAPABILITIES, SPEC, GCSAdapter
from aiostore_gcs._config import ClientOptions, StoreOptions, round_chunk

import aiostore
from aiostore import InvalidArgumentError, Store


def gcs_adapter(store: Store) -> GCSAdapter:
    adapter = store._adapter
    assert isinstance(adapter, GCSAdapter)
    return adapter


@pytest.mark.parametrize("scheme", ["gs", "gcs"])
def test_both_schemes_reach_the_adapter(scheme: str) -> None:
    store = aiostore.connect(f"{scheme}://my-bucket/some/dir", endpoint="http://127.0.0.1:1")
    meta = store.metadata()
    assert (meta.adapter, meta.name, meta.work_dir) == ("gcs", "my-bucket", "some/dir/")
    assert meta.capabilities == CAPABILITIES


def test_spec_is_registered_by_entry_point() -> None:
    assert SPEC.name == "gcs"
    assert set(SPEC.schemes) == {"gs", "gcs"}
    assert "gcs" in aiostore.adapter_names()


def test_url_query_options_are_parsed() -> None:
    store = aiostore.connect("gs://b?chunk_size=300000&timeout=5&endpoint=http://127.0.0.1:9")
    adapter = gcs_adapter(store)
    assert adapter._options.chunk_size == 512 * 1024  # rounded up to a multiple of 256 KiB
    assert adapter._client.options.timeout == 5.0
    assert adapter._client.options.anonymous  # an emulator endpoint sends no credentials


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": ""}, "bucket name"),
        ({"name": "a/b"}, "bucket name"),
        ({"name": "b", "chunk_size": 0}, "positive"),
        ({"name": "b", "timeout": "soon"}, "not a number"),
        ({"name": "b", "anonymous": "maybe"}, "boolean"),
        ({"name": "b", "service_file": 42}, "service_file"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        SPEC.open_store(**options)


def test_option_parsing_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    client = ClientOptions.parse({})
    assert (client.endpoint, client.anonymous) == ("https://storage.googleapis.com", False)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:4443")
    assert ClientOptions.parse({}).endpoint == "http://127.0.0.1:4443"
    assert StoreOptions.parse({"name": "b", "work_dir": "/x/y/"}).work_dir == "x/y/"
    assert [round_chunk(n) for n in (1, 262144, 262145)] == [262144, 262144, 524288]


async def test_write_extras(gcs_url: str, gcs_options: dict[str, Any]) -> None:
    async with aiostore.connect(gcs_url, **gcs_options) as store:
        obj = await store.write("cold.bin", b"c", storage_class="NEARLINE", cache_control="no-cache")
        assert obj.storage_class == "NEARLINE"
        assert (await store.stat("cold.bin")).storage_class == "NEARLINE"
        with pytest.raises(InvalidArgumentError, match="unsupported GCS write option"):
            await store.write("x.bin", b"x", colour="blue")
        assert not await store.exists("x.bin")
        await store.delete("cold.bin")

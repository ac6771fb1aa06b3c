"""Options, URL forms and the registry entry of the azblob adapter (no I/O)."""

from __future__ import annotations

import pytest
from aiostore_azblob import SPEC, AzblobAdapter, AzblobConfig, url_options

import aiostore
from aiostore import InvalidArgumentError, UnsupportedError

KEY = "c2VjcmV0LWtleS1ub3QtZm9yLXByaW50aW5n"
CONN = (
    f"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={KEY};BlobEndpoint=http://127.0.0.1:1/acct;"
)


def test_spec_registers_name_and_aliases() -> None:
    assert SPEC.name == "azblob"
    assert set(SPEC.schemes) >= {"az", "abfs"}
    assert aiostore.adapter_names().count("azblob") == 1


@pytest.mark.parametrize("scheme", ["azblob", "az", "abfs"])
def test_every_scheme_opens_an_azblob_store(scheme: str) -> None:
    store = aiostore.connect(f"{scheme}://photos/2024/jan", connection_string=CONN)
    meta = store.metadata()
    assert (meta.adapter, meta.name, meta.work_dir) == ("azblob", "photos", "2024/jan/")


def test_abfs_url_names_container_and_account() -> None:
    options = url_options("abfs://photos@acme.dfs.core.windows.net/raw/2024")
    assert options == {
        "name": "photos",
        "account_name": "acme",
        "account_url": "https://acme.blob.core.windows.net",
        "work_dir": "raw/2024/",
    }


def test_query_options_are_coerced() -> None:
    options = url_options("azblob://c/d?validate_content=false&chunk_size=65536&account_name=acme")
    config = AzblobConfig.from_options(options)
    assert config.validate_content is False
    assert config.chunk_size == 65536
    assert config.account_url == "https://acme.blob.core.windows.net"


def test_connection_string_fills_account_and_key() -> None:
    config = AzblobConfig.from_options({"name": "c", "connection_string": CONN})
    assert config.account_name == "acct"
    assert config.account_url == "http://127.0.0.1:1/acct"
    assert config.signing_key == ("acct", KEY)


def test_endpoint_is_an_alias_and_emulator_urls_name_the_account() -> None:
    config = AzblobConfig.from_options({"endpoint": "http://127.0.0.1:10000/devstoreaccount1"})
    assert config.account_url == "http://127.0.0.1:10000/devstoreaccount1"
    assert config.account_name == "devstoreaccount1"
    assert config.signing_key is None


def test_secrets_never_show_in_reprs() -> None:
    config = AzblobConfig.from_options({"name": "c", "connection_string": CONN, "sas_token": "sig=abc"})
    adapter = AzblobAdapter(config)
    for text in (repr(config), repr(adapter), repr(aiostore.connect("azblob://c", connection_string=CONN))):
        assert KEY not in text
        assert "sig=abc" not in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "c"}, "connection_string"),
        ({"name": "c", "account_name": "a", "bogus": 1}, "unknown option"),
        ({"name": "c", "account_name": "a", "chunk_size": 65 * 1024 * 1024}, "chunk_size"),
        ({"name": "c", "account_name": "a", "validate_content": "maybe"}, "validate_content"),
        ({"account_url": "https://x.example", "account_key": KEY, "name": "c"}, "account_name"),
        ({"name": "c", "account_name": "a", "work_dir": "a\\b"}, "reads"),
    ],
)
def test_bad_options_are_refused_before_io(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as info:
        SPEC.open_store(**options)
    assert KEY not in str(info.value)


def test_a_store_needs_a_container() -> None:
    with pytest.raises(InvalidArgumentError, match="container"):
        aiostore.connect("azblob", connection_string=CONN)


def test_reach_needs_an_account_key() -> None:
    keyed = aiostore.connect("azblob://c", connection_string=CONN)
    sas_only = aiostore.connect("azblob://c", account_url="https://a.blob.core.windows.net", sas_token="sv=x")
    assert keyed.metadata().capabilities.reach is True
    assert sas_only.metadata().capabilities.reach is False


async def test_reach_without_a_key_is_unsupported() -> None:
    config = AzblobConfig.from_options({"name": "c", "account_url": "https://a.blob.core.windows.net"})
    with pytest.raises(UnsupportedError, match="account_key"):
        await AzblobAdapter(config).reach("a.txt", expires=60, method="GET")


def test_capabilities_and_limits_fit_azure() -> None:
    meta = aiostore.connect("azblob://c", connection_string=CONN).metadata()
    caps = meta.capabilities
    assert (caps.segments, caps.list_segments, caps.if_not_exists, caps.if_match_read) == (True,) * 4
    assert caps.service
    assert meta.limits.max_segments == 50_000
    assert meta.limits.max_page_size == 5000

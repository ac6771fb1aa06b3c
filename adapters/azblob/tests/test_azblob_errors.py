"""SDK failures become aiostore errors at one boundary, without secrets in them."""

from __future__ import annotations

import traceback

import pytest
from aiostore_azblob._errors import redact

import aiostore
from aiostore import NotFoundError, PermissionDeniedError, RetryOptions, ServiceUnavailableError, StorageError
from aiostore.testing.servers import DEV_KEY, AzureServer, free_port

NO_RETRY = RetryOptions(attempts=1)


def test_redact_hides_signatures_and_keys() -> None:
    text = "GET https://a.blob.core.windows.net/c/b?sv=2024&sig=abc%2Bdef&se=x AccountKey=Zm9v=;"
    cleaned = redact(text)
    assert "abc%2Bdef" not in cleaned
    assert "Zm9v" not in cleaned
    assert "sig=***" in cleaned


async def test_a_wrong_key_is_permission_denied_without_the_key(
    azurite_server: AzureServer, container_name: str
) -> None:
    wrong = DEV_KEY[:-8] + "AAAAAAA="
    conn = azurite_server.connection_string.replace(DEV_KEY, wrong)
    async with aiostore.connect(
        f"azblob://{container_name}", connection_string=conn, retry=NO_RETRY
    ) as store:
        with pytest.raises(PermissionDeniedError) as info:
            await store.write("a.txt", b"x")
    error = info.value
    assert (error.op, error.path, error.adapter) == ("write", "a.txt", "azblob")
    assert isinstance(error, PermissionError)
    shown = str(error) + repr(error) + "".join(traceback.format_exception_only(error))
    assert wrong not in shown
    assert DEV_KEY not in shown


async def test_a_wrong_sas_token_is_refused_and_not_shown(
    azurite_server: AzureServer, container_name: str
) -> None:
    token = "sv=2021-08-06&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=bm90LWEtc2lnbmF0dXJl"
    async with aiostore.connect(
        f"azblob://{container_name}", account_url=azurite_server.endpoint, sas_token=token, retry=NO_RETRY
    ) as store:
        with pytest.raises(PermissionDeniedError) as info:
            await store.stat("a.txt")
    assert "bm90LWEtc2lnbmF0dXJl" not in str(info.value)


async def test_an_unreachable_service_is_retryable_unavailable() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}/devstoreaccount1"
    conn = f"AccountName=devstoreaccount1;AccountKey={DEV_KEY};BlobEndpoint={endpoint};"
    async with aiostore.connect("azblob://c", connection_string=conn, retry=NO_RETRY) as store:
        with pytest.raises(ServiceUnavailableError) as info:
            await store.read("a.txt")
    assert info.value.retryable
    assert info.value.op == "read"


async def test_only_aiostore_errors_escape(azurite_server: AzureServer, container_name: str) -> None:
    async with aiostore.connect(
        f"azblob://{container_name}", connection_string=azurite_server.connection_string
    ) as store:
        with pytest.raises(NotFoundError) as info:
            await store.read("never/written.bin")
    assert isinstance(info.value, (StorageError, FileNotFoundError))
    assert info.value.__cause__ is not None  # the SDK error is chained, not lost
    assert "404" in str(info.value)

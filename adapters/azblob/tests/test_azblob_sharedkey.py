"""The fast path's Shared Key signature equals azure-storage-blob's, byte for byte.

The reference is the SDK's own ``SharedKeyCredentialPolicy`` run on an
azure-core request with the URL the SDK would build and the same headers (the
``sdk_signature`` fixture of conftest.py).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
from aiostore_azblob._sharedkey import SharedKeySigner, encode_path, http_now
from yarl import URL

from aiostore.testing.servers import DEV_ACCOUNT, DEV_KEY

ORIGIN = "http://127.0.0.1:10000"
NAMES = [
    "plain.txt",
    "dir/sub/a b~é.txt",
    "x!$&'()*+,;=:@%#?[]y",
    "日本/語/😀",
    "tab\tnew\nline",
    "trailing/",
]


def base_headers() -> dict[str, str]:
    return {"x-ms-version": "2026-10-06", "x-ms-date": http_now(), "x-ms-client-request-id": "1-2-3"}


REQUESTS: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = [
    (
        "PUT",
        [],
        {
            "x-ms-blob-type": "BlockBlob",
            "content-type": "application/octet-stream",
            "content-length": "4096",
            "content-md5": "XUFAKrxLKna5cZ2REBfFkg==",
            "x-ms-blob-content-md5": "XUFAKrxLKna5cZ2REBfFkg==",
            "x-ms-blob-content-type": "text/plain; charset=utf-8",
            "x-ms-blob-cache-control": "no-cache",
            "x-ms-blob-content-disposition": "attachment",
            "x-ms-blob-content-encoding": "gzip",
            "x-ms-blob-content-language": "en",
            "x-ms-access-tier": "Cool",
            "x-ms-meta-b_2": "v",
            "x-ms-meta-b1": "w",
            "x-ms-meta-a": "x y",
            "x-ms-meta-Upper": "",
            "x-ms-meta-z9_": "ü",
            "if-none-match": "*",
        },
    ),
    ("PUT", [("comp", "block"), ("blockid", "NmIwMjI0YmY0OTA5+2RiMC0w/DAwMDA=")], {"content-length": "1"}),
    ("GET", [], {"x-ms-range": "bytes=0-4194303", "x-ms-range-get-content-md5": "true"}),
    ("GET", [], {"x-ms-range": "bytes=10-19", "if-match": '"0x8DC0FFEE"'}),
    ("HEAD", [], {}),
    ("HEAD", [], {"if-match": '"0x1"'}),
    ("DELETE", [], {"x-ms-delete-snapshots": "include", "content-length": "0"}),
    # a listing whose prefix and marker hold "%", "+", spaces and "/": raw values, signed as they are
    (
        "GET",
        [("restype", "container"), ("comp", "list"), ("prefix", "pct%/a%20b+c d/"), ("marker", "m%2F/ü")],
        {},
    ),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("method", "query", "extra"), REQUESTS)
def test_signature_is_the_sdk_signature(
    sdk_signature: Any, name: str, method: str, query: list[tuple[str, str]], extra: dict[str, str]
) -> None:
    headers = {**base_headers(), **extra}
    path = f"/{DEV_ACCOUNT}/container-1/{encode_path(name)}"
    ours = SharedKeySigner(DEV_ACCOUNT, DEV_KEY).sign(method, path, query, headers)
    assert ours == sdk_signature(method, "container-1", name, query, headers)


@pytest.mark.parametrize("name", NAMES)
def test_the_path_signed_is_the_path_aiohttp_sends(name: str) -> None:
    """yarl leaves the encoded path alone, and it is the path the SDK's URL turns into."""
    path = f"/c/{encode_path(name)}"
    assert str(URL(path)) == path
    sdk_form = URL(f"{ORIGIN}/c/{quote(name, safe='~/')}")
    assert URL(f"{ORIGIN}{path}", encoded=True).raw_path == sdk_form.raw_path


def test_metadata_headers_are_ordered_like_the_service_orders_them(sdk_signature: Any) -> None:
    """Hyphens do not count and ``_`` comes before digits and letters (the SDK's collation)."""
    headers = {
        **base_headers(),
        "x-ms-meta-a_b": "1",
        "x-ms-meta-ab": "2",
        "x-ms-meta-a1": "3",
        "x-ms-meta-a": "4",
        "x-ms-meta-aa": "5",
    }
    signer = SharedKeySigner(DEV_ACCOUNT, DEV_KEY)
    text = signer.string_to_sign("PUT", "/devstoreaccount1/c/k", [], headers)
    order = [line.split(":", 1)[0] for line in text.splitlines() if line.startswith("x-ms-meta-")]
    assert order == ["x-ms-meta-a", "x-ms-meta-a_b", "x-ms-meta-a1", "x-ms-meta-aa", "x-ms-meta-ab"]
    assert signer.sign("PUT", "/devstoreaccount1/c/k", [], headers) == sdk_signature(
        "PUT", "c", "k", [], headers
    )


def test_dates_are_rfc1123_and_current() -> None:
    text = http_now()
    assert text.endswith(" GMT")
    assert abs(time.mktime(time.strptime(text, "%a, %d %b %Y %H:%M:%S GMT")) - time.mktime(time.gmtime())) < 5


def test_the_key_is_never_shown() -> None:
    signer = SharedKeySigner(DEV_ACCOUNT, DEV_KEY)
    assert DEV_KEY not in repr(signer)
    assert DEV_ACCOUNT in repr(signer)

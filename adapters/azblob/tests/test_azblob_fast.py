"""The fast path against Azurite: same requests, same answers, same errors as the SDK path.

Requests go through the fault proxy, which records them as sent; every
fast-path request is re-signed by the SDK's own ``SharedKeyCredentialPolicy``
and must carry the same ``Authorization``. Error mapping, objects and integrity
checks are compared with a store on the SDK path (``fast_path=False``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiostore_azblob import AzblobAdapter
from aiostore_azblob._config import AzblobConfig
from aiostore_azblob._connection import Connection
from aiostore_azblob._fast import DEFAULT_TIMEOUT
from aiostore_azblob._fastplane import FastPlane
from azure.core.credentials import AccessToken

import aiostore
from aiostore import (
    AlreadyExistsError,
    ConditionNotMetError,
    IntegrityError,
    InvalidOffsetError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetryOptions,
    ServiceUnavailableError,
    StorageError,
    StoragerNotFoundError,
    Store,
    TimeoutOptions,
)
from aiostore.testing.faults import FaultProxy, flip_byte, status
from aiostore.testing.servers import DEV_ACCOUNT, DEV_KEY, AzureServer

NO_RETRY = RetryOptions(attempts=1)
DATA = bytes(range(256)) * 16  # 4 KiB


@contextlib.asynccontextmanager
async def pair(
    server: AzureServer, container: str, prefix: str, endpoint: str | None = None, **options: Any
) -> AsyncIterator[tuple[Store, Store]]:
    """(fast, sdk) stores on the same directory, optionally through ``endpoint``."""
    conn = server.connection_string
    if endpoint is not None:
        conn = conn.replace(server.endpoint, f"{endpoint}/{DEV_ACCOUNT}")
    url = f"azblob://{container}/{prefix}"
    async with (
        aiostore.connect(url, connection_string=conn, **options) as fast,
        aiostore.connect(url, connection_string=conn, fast_path=False, **options) as sdk,
    ):
        yield fast, sdk


def plane_of(store: Store) -> FastPlane | None:
    adapter = store._adapter
    assert isinstance(adapter, AzblobAdapter)
    return adapter._scope.fast


@pytest.fixture
def prefix(az: Store) -> str:
    """``az``'s directory: the ``az`` fixture removes whatever is left there."""
    return az.metadata().work_dir.rstrip("/")


async def test_every_fast_request_carries_the_sdk_signature_and_version(
    azurite_server: AzureServer, container_name: str, prefix: str, sdk_signature: Any
) -> None:
    async with (
        FaultProxy(azurite_server.endpoint) as proxy,
        pair(azurite_server, container_name, prefix, proxy.endpoint) as (fast, sdk),
    ):
        await fast.write("a b~é!.txt", DATA, content_type="text/plain", metadata={"Key_1": "v"})
        await fast.read("a b~é!.txt", offset=1, size=10)
        await fast.stat("a b~é!.txt")
        segment = await fast.init_segment("s.bin")
        await fast.write_segment(segment, 0, DATA)
        await fast.abort_segment(segment)
        await fast.delete("a b~é!.txt")
        assert plane_of(fast) is not None
        assert not await sdk.exists("a b~é!.txt")
    ours = [seen for seen in proxy.seen if seen.headers.get("User-Agent", "").startswith("aiostore-azblob")]
    theirs = [seen for seen in proxy.seen if seen.headers.get("User-Agent", "").startswith("azsdk-python")]
    assert len(ours) >= 7
    assert theirs
    assert {seen.headers["x-ms-version"] for seen in ours} == {
        seen.headers["x-ms-version"] for seen in theirs
    }
    for seen in ours:
        assert seen.status is not None
        assert seen.status < 300 or seen.method == "HEAD"
        headers = {
            name: value for name, value in seen.headers.items() if name not in ("Authorization", "Host")
        }
        _, _, container, name = seen.path.split("/", 3)
        expected = sdk_signature(seen.method, container, name, list(seen.query.items()), headers)
        assert seen.headers["Authorization"] == expected, seen


Op = Callable[[Store], Awaitable[object]]


async def _outcome(store: Store, op: Op) -> tuple[type[BaseException], bool, bool, float | None]:
    with pytest.raises(StorageError) as info:
        await op(store)
    error = info.value
    return type(error), error.retryable, error.may_have_applied, getattr(error, "retry_after", None)


async def _read_pinned(store: Store) -> bytes:
    adapter = store._adapter
    stream = await adapter.open_read("there.bin", offset=0, size=None, if_match='"0x8D000000BAD"')
    await stream.aclose()
    return b""


SCENARIOS: list[tuple[str, Op, type[StorageError]]] = [
    ("stat missing", lambda s: s.stat("missing.bin"), NotFoundError),
    ("read missing", lambda s: s.read("missing.bin"), NotFoundError),
    ("create existing", lambda s: s.write("there.bin", b"x", if_not_exists=True), AlreadyExistsError),
    ("offset past end", lambda s: s.read("there.bin", offset=len(DATA) + 5), InvalidOffsetError),
    ("changed etag", _read_pinned, ConditionNotMetError),
]


@pytest.mark.parametrize(("label", "op", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
async def test_errors_map_like_the_sdk_path(
    azurite_server: AzureServer, container_name: str, prefix: str, label: str, op: Op, expected: type
) -> None:
    async with pair(azurite_server, container_name, prefix, retry=NO_RETRY) as (fast, sdk):
        await sdk.write("there.bin", DATA)
        seen_fast, seen_sdk = await _outcome(fast, op), await _outcome(sdk, op)
    assert seen_fast == seen_sdk
    assert issubclass(seen_fast[0], expected)


async def test_a_wrong_key_and_a_missing_container_map_like_the_sdk_path(
    azurite_server: AzureServer, container_name: str
) -> None:
    wrong = azurite_server.connection_string.replace(DEV_KEY, DEV_KEY[:-8] + "AAAAAAA=")
    for name, conn, expected in [
        (container_name, wrong, PermissionDeniedError),
        ("no-such-container-here", azurite_server.connection_string, StoragerNotFoundError),
    ]:
        outcomes = []
        for fast_path in (True, False):
            async with aiostore.connect(
                f"azblob://{name}", connection_string=conn, fast_path=fast_path, retry=NO_RETRY
            ) as store:
                outcomes.append(await _outcome(store, lambda s: s.stat("a.bin")))
                outcomes.append(await _outcome(store, lambda s: s.write("a.bin", b"x")))
        assert outcomes[:2] == outcomes[2:]
        assert outcomes[0][0] is expected


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (status(503, headers={"x-ms-error-code": "ServerBusy", "Retry-After": "2"}), RateLimitedError),
        (status(500, headers={"x-ms-error-code": "InternalError"}), ServiceUnavailableError),
        (status(412, headers={"x-ms-error-code": "ConditionNotMet"}), ConditionNotMetError),
        (status(409, headers={"x-ms-error-code": "BlobAlreadyExists"}), AlreadyExistsError),
        (status(403, headers={"x-ms-error-code": "AuthorizationFailure"}), PermissionDeniedError),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "GET", "HEAD", "DELETE"])
async def test_injected_answers_map_like_the_sdk_path(
    azurite_server: AzureServer, container_name: str, prefix: str, fault: Any, expected: type, method: str
) -> None:
    ops: dict[str, Op] = {
        "PUT": lambda s: s.write("there.bin", DATA),
        "GET": lambda s: s.read("there.bin"),
        "HEAD": lambda s: s.stat("there.bin"),
        "DELETE": lambda s: s.delete("there.bin"),
    }
    async with (
        FaultProxy(azurite_server.endpoint) as proxy,
        pair(azurite_server, container_name, prefix, proxy.endpoint, retry=NO_RETRY) as (fast, sdk),
    ):
        await sdk.write("there.bin", DATA)
        outcomes = []
        for store in (fast, sdk):
            proxy.add(fault, method=method, path="there.bin")
            outcomes.append(await _outcome(store, ops[method]))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] is expected


async def test_objects_are_the_same_on_both_paths(
    azurite_server: AzureServer, container_name: str, prefix: str
) -> None:
    async with pair(azurite_server, container_name, prefix) as (fast, sdk):
        written = await fast.write(
            "o/a.txt", DATA, content_type="text/plain", metadata={"Mixed": "v", "k": ""}
        )
        assert written.content_md5 is not None
        assert await fast.stat("o/a.txt") == await sdk.stat("o/a.txt")
        for offset, size in [(0, None), (7, 100)]:
            async with (
                fast.reader("o/a.txt", offset=offset, size=size) as one,
                sdk.reader("o/a.txt", offset=offset, size=size) as other,
            ):
                assert [chunk async for chunk in one] == [chunk async for chunk in other]
                assert one.object == other.object
        assert (await fast.stat("o/a.txt")).metadata == {"Mixed": "v", "k": ""}


@pytest.mark.parametrize("fast_path", [True, False])
async def test_a_flipped_byte_is_an_integrity_error_on_both_paths(
    azurite_server: AzureServer, container_name: str, prefix: str, fast_path: bool
) -> None:
    async with FaultProxy(azurite_server.endpoint) as proxy:
        conn = azurite_server.connection_string.replace(
            azurite_server.endpoint, f"{proxy.endpoint}/{DEV_ACCOUNT}"
        )
        async with aiostore.connect(
            f"azblob://{container_name}/{prefix}", connection_string=conn, fast_path=fast_path, retry=NO_RETRY
        ) as store:
            await store.write("f.bin", DATA)
            proxy.add(flip_byte(100), method="GET")
            with pytest.raises(IntegrityError):
                await store.read("f.bin")
            assert await store.read("f.bin") == DATA


class _Token:
    """A token credential (Entra ID); never asked for a token here."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise AssertionError("no request is made")


@pytest.mark.parametrize(
    ("options", "fast"),
    [
        ({"account_url": "https://acme.blob.core.windows.net", "credential": _Token()}, False),
        ({"account_url": "https://acme.blob.core.windows.net", "sas_token": "sv=1&sig=abc"}, True),
        ({"account_name": "acme", "account_key": DEV_KEY}, True),
        ({"account_name": "acme", "account_key": DEV_KEY, "fast_path": False}, False),
    ],
)
async def test_which_credentials_take_the_fast_path(options: dict[str, Any], fast: bool) -> None:
    async with aiostore.connect("azblob://c", **options) as store:
        await store._lifecycle.ensure_open()
        assert (plane_of(store) is not None) is fast


async def test_read_timer_only_where_the_core_timeouts_do_not_bound_the_call() -> None:
    """The core's attempt and stall timeouts (60 s and 30 s) end a silent read before
    the fast path's 300 s read timeout: calls then go without aiohttp's per-read
    timer. A connection keeps the timer once any store opened on it lacks them."""
    options = {"account_name": "acme", "account_key": DEV_KEY}
    async with aiostore.connect("azblob://c", **options) as store:
        await store._lifecycle.ensure_open()
        plane = plane_of(store)
        assert plane is not None
        assert plane._transport.read_timeout is None
    untimed = TimeoutOptions(attempt=None)
    async with aiostore.connect("azblob://c", timeouts=untimed, **options) as store:
        await store._lifecycle.ensure_open()
        plane = plane_of(store)
        assert plane is not None
        assert plane._transport.read_timeout == DEFAULT_TIMEOUT
    connection = Connection(AzblobConfig.from_options({**options, "name": "c"}))
    try:
        await connection.open(10.0, TimeoutOptions())
        transport = connection._fast
        assert transport is not None
        assert transport.read_timeout is None
        await connection.open(10.0, untimed)  # a second store on the same connection
        assert transport.read_timeout == DEFAULT_TIMEOUT
        await connection.open(10.0, TimeoutOptions())
        assert transport.read_timeout == DEFAULT_TIMEOUT
    finally:
        await connection.aclose()


async def test_a_sas_token_is_appended_on_the_fast_path(
    azurite_server: AzureServer, container_name: str, prefix: str
) -> None:
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    token = generate_container_sas(
        DEV_ACCOUNT, container_name, account_key=DEV_KEY,
        permission=ContainerSasPermissions(read=True, write=True, delete=True),
        expiry=datetime.now(UTC) + timedelta(minutes=10),
    )  # fmt: skip
    async with aiostore.connect(
        f"azblob://{container_name}/{prefix}", account_url=azurite_server.endpoint, sas_token=token
    ) as store:
        await store.write("sas.bin", DATA)
        assert plane_of(store) is not None
        assert await store.read("sas.bin") == DATA
        assert (await store.stat("sas.bin")).size == len(DATA)
        await store.delete("sas.bin")
        assert not await store.exists("sas.bin")

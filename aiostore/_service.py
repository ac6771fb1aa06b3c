"""`Service` (go-storage's Servicer) and the `connect` / `service` entry functions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

from ._adapter import ServiceAdapter
from ._errors import StorageError, StoragerNotFoundError
from ._lifecycle import Lifecycle
from ._registry import open_service, resolve
from ._retry import RetryOptions, TimeoutOptions
from ._store import Store
from ._transfer import TransferOptions
from ._types import StoragerInfo

__all__ = ["Service", "connect", "service"]


def connect(
    target: str,
    *,
    transfer: TransferOptions | None = None,
    retry: RetryOptions | None = None,
    timeouts: TimeoutOptions | None = None,
    **options: Any,
) -> Store:
    """Open a store by URL (``"s3://bucket/dir"``) or adapter name plus options.

    No I/O happens here: pooled resources open on first use, inside the loop.

    Example:
        >>> store = aiostore.connect("fs:///srv/data")
        >>> store = aiostore.connect("fs", work_dir="/srv/data")
        >>> async with store:
        ...     await store.write("hello.txt", b"hi")
    """
    spec, merged = resolve(target, options)
    return Store(spec.open_store(**merged), transfer=transfer, retry=retry, timeouts=timeouts)


def service(
    target: str,
    *,
    transfer: TransferOptions | None = None,
    retry: RetryOptions | None = None,
    timeouts: TimeoutOptions | None = None,
    **options: Any,
) -> Service:
    """Open a service that lists, gets, creates and deletes storagers (buckets).

    Example:
        >>> async with aiostore.service("s3", endpoint="http://127.0.0.1:8333") as svc:
        ...     store = await svc.create("my-bucket")
    """
    spec, merged = resolve(target, options)
    return Service(open_service(spec, merged), transfer=transfer, retry=retry, timeouts=timeouts)


class Service:
    """Manages storagers; stores it hands out share its session and pool.

    Closing the service closes that session; close the service after its stores.
    """

    def __init__(
        self,
        adapter: ServiceAdapter,
        *,
        transfer: TransferOptions | None = None,
        retry: RetryOptions | None = None,
        timeouts: TimeoutOptions | None = None,
    ) -> None:
        self._adapter = adapter
        self._transfer = transfer
        self._retry = retry
        self._timeouts = timeouts or TimeoutOptions()
        adapter.timeouts = self._timeouts
        self._lifecycle = Lifecycle(adapter.name, adapter.open, adapter.aclose)

    def __repr__(self) -> str:
        return f"<Service {self._adapter.name} {self._lifecycle.state.value}>"

    async def __aenter__(self) -> Service:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._lifecycle.close()

    def _fill(self, error: StorageError, op: str, name: str | None) -> None:
        error.with_context(op=op, path=name, adapter=self._adapter.name)

    async def list(self) -> AsyncIterator[StoragerInfo]:
        """Every storager the credentials can see, fetched page by page."""
        await self._lifecycle.ensure_open()
        iterator = self._adapter.list()
        while True:
            try:
                info = await anext(iterator)
            except StopAsyncIteration:
                return
            except StorageError as error:
                self._fill(error, "list_storagers", None)
                raise
            yield info

    def _store(self, name: str, work_dir: str) -> Store:
        return Store(
            self._adapter.storager(name, work_dir),
            transfer=self._transfer,
            retry=self._retry,
            timeouts=self._timeouts,
            owner=False,
        )

    async def get(self, name: str, *, work_dir: str = "") -> Store:
        """A store on an existing storager; `StoragerNotFoundError` when missing."""
        await self._lifecycle.ensure_open()
        try:
            found = await self._adapter.exists(name)
        except StorageError as error:
            self._fill(error, "get_storager", name)
            raise
        if not found:
            raise StoragerNotFoundError(
                f"no storager named {name!r}", op="get_storager", path=name, adapter=self._adapter.name
            )
        return self._store(name, work_dir)

    async def create(self, name: str, *, work_dir: str = "") -> Store:
        """Create a storager and return a store on it; `AlreadyExistsError` if it exists."""
        await self._lifecycle.ensure_open()
        try:
            await self._adapter.create(name)
        except StorageError as error:
            self._fill(error, "create_storager", name)
            raise
        return self._store(name, work_dir)

    async def delete(self, name: str) -> None:
        """Delete an empty storager; `StoragerNotFoundError` when missing."""
        await self._lifecycle.ensure_open()
        try:
            await self._adapter.delete(name)
        except StorageError as error:
            self._fill(error, "delete_storager", name)
            raise

"""`StoreBase`: what every part of `Store` shares: the adapter, lifetime, scope,
retries, and the path and error helpers."""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import Self

from . import _paths
from ._adapter import Adapter
from ._errors import StorageError, UnsupportedError
from ._lifecycle import Lifecycle
from ._retry import Retrier, RetryOptions, TimeoutOptions
from ._transfer import TransferOptions
from ._types import Object, StorageMeta

__all__ = ["StoreBase"]


class StoreBase:
    """The state and helpers `Store` and its mixins build on."""

    def __init__(
        self,
        adapter: Adapter,
        *,
        transfer: TransferOptions | None = None,
        retry: RetryOptions | None = None,
        timeouts: TimeoutOptions | None = None,
        owner: bool = True,
        scope: str = "",
        lifecycle: Lifecycle | None = None,
        retrier: Retrier | None = None,
    ) -> None:
        self._adapter = adapter
        self._transfer = transfer or TransferOptions()
        self._retrier = retrier or Retrier(retry or RetryOptions(), timeouts or TimeoutOptions())
        adapter.timeouts = self._retrier.timeouts
        self._owner = owner
        self._scope = scope
        self._lifecycle = lifecycle or Lifecycle(adapter.name, adapter.open, self._close_adapter)

    async def _close_adapter(self) -> None:
        if self._owner:
            await self._adapter.aclose()

    def __repr__(self) -> str:
        meta = self.metadata()
        return f"<Store {meta.adapter}:{meta.name} work_dir={meta.work_dir!r} {self._lifecycle.state.value}>"

    async def __aenter__(self) -> Self:
        await self._lifecycle.ensure_open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close pooled resources this store owns; a scoped view closes nothing."""
        if not self._scope or self._owner:
            await self._lifecycle.close()

    def scoped(self, directory: str) -> Self:
        """A view of this store under ``directory``, sharing its adapter and lifetime.

        Example:
            >>> photos = store.scoped("photos/")
            >>> await photos.write("cat.jpg", data)   # writes photos/cat.jpg
        """
        directory = _paths.dir_path(directory, "scoped")
        return type(self)(
            self._adapter,
            transfer=self._transfer,
            owner=False,
            scope=self._scope + directory,
            lifecycle=self._lifecycle,
            retrier=self._retrier,
        )

    @property
    def transfer(self) -> TransferOptions:
        """The transfer options this store was opened with."""
        return self._transfer

    def metadata(self) -> StorageMeta:
        """Name, work dir, adapter, capabilities and limits; no I/O."""
        return StorageMeta(
            name=self._adapter.storager_name,
            work_dir=self._adapter.work_dir + self._scope,
            adapter=self._adapter.name,
            capabilities=self._adapter.capabilities,
            limits=self._adapter.limits,
        )

    # -- helpers ------------------------------------------------------------
    def _context(self, op: str, path: str | None) -> _Context:
        """``with self._context(op, path):`` names the call in any `StorageError` raised inside."""
        return _Context(self, op, path)

    def _fill(self, error: StorageError, op: str, path: str | None) -> None:
        if error.path is not None and self._scope and error.path.startswith(self._scope):
            error.path = error.path[len(self._scope) :]
        error.with_context(op=op, path=path, adapter=self._adapter.name)

    def _key(self, path: str, op: str) -> str:
        return self._scope + _paths.object_path(path, op)

    def _dir(self, path: str, op: str) -> str:
        return self._scope + _paths.dir_path(path, op)

    def _unscope(self, obj: Object) -> Object:
        return dataclasses.replace(obj, path=obj.path[len(self._scope) :])

    def _require(self, capability: str, op: str) -> None:
        if not getattr(self._adapter.capabilities, capability):
            raise UnsupportedError(
                f"the {self._adapter.name} adapter does not support {op}", op=op, adapter=self._adapter.name
            )

    async def _ensure_open(self) -> None:
        await self._lifecycle.ensure_open()


class _Context:
    """What `StoreBase._context` returns: a class, as it is entered on every call."""

    __slots__ = ("_op", "_path", "_store")

    def __init__(self, store: StoreBase, op: str, path: str | None) -> None:
        self._store = store
        self._op = op
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, StorageError):
            self._store._fill(exc, self._op, self._path)

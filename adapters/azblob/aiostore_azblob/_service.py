"""`AzblobService`: list, get, create and delete containers over one shared connection.

Example:
    >>> async with aiostore.service("azblob", connection_string=conn) as svc:
    ...     store = await svc.create("photos")
    ...     async for info in svc.list():
    ...         print(info.name)
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from aiostore import ServiceAdapter, StorageError, StoragerInfo

from ._adapter import AzblobAdapter
from ._config import AzblobConfig, clean_work_dir
from ._connection import Connection
from ._errors import ADAPTER, boundary, is_status

__all__ = ["AzblobService"]

_PAGE = 1000


class AzblobService(ServiceAdapter):
    """Owns the aiohttp session and the service client; its stores share both."""

    name: ClassVar[str] = ADAPTER

    def __init__(self, config: AzblobConfig) -> None:
        self._config = config
        self._connection = Connection(config)

    @classmethod
    def from_options(cls, **options: Any) -> AzblobService:
        """The ``open_service`` of the registry (same options as a store, without ``name``)."""
        return cls(AzblobConfig.from_options(options))

    def __repr__(self) -> str:
        return f"<AzblobService {self._config.account_url}>"

    async def open(self) -> None:
        await self._connection.open(self.timeouts.connect, self.timeouts)

    async def aclose(self) -> None:
        await self._connection.aclose()

    async def list(self) -> AsyncIterator[StoragerInfo]:
        containers = self._connection.client.list_containers(results_per_page=_PAGE)
        while True:
            with boundary("list_storagers"):
                try:
                    props = await anext(containers)
                except StopAsyncIteration:
                    return
            yield StoragerInfo(name=props.name, created_at=props.last_modified)

    async def exists(self, name: str) -> bool:
        with boundary("get_storager", name):
            try:
                await self._connection.client.get_container_client(name).get_container_properties()
            except Exception as exc:
                if is_status(exc, 404):
                    return False
                raise
        return True

    async def create(self, name: str) -> None:
        with boundary("create_storager", name):
            await self._connection.client.create_container(name)

    async def delete(self, name: str) -> None:
        """Delete an empty container (Azure itself would delete a full one: checked first)."""
        with boundary("delete_storager", name):
            container = self._connection.client.get_container_client(name)
            async for _ in container.list_blobs(results_per_page=1):
                raise StorageError(f"container {name!r} is not empty", path=name, adapter=ADAPTER)
            await container.delete_container()

    def storager(self, name: str, work_dir: str) -> AzblobAdapter:
        config = dataclasses.replace(self._config, name=name, work_dir=clean_work_dir(work_dir))
        return AzblobAdapter(config, self._connection)

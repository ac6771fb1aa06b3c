"""`GCSService`: list, get, create and delete buckets.

gcloud-aio-storage has no bucket calls (its ``list_buckets`` gathers every
page), so these go to the JSON API through the shared session. The service
owns the session; the storagers it hands out use it and never close it.

Example:
    >>> async with aiostore.service("gcs", project="my-project") as svc:
    ...     await svc.create("new-bucket")
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from aiostore._adapter import ServiceAdapter
from aiostore._errors import ConditionNotMetError, InvalidArgumentError, StoragerNotFoundError
from aiostore._types import StoragerInfo

from ._adapter import GCSAdapter
from ._client import GCSClient, raise_for_response
from ._config import ClientOptions, StoreOptions
from ._errors import gcs_errors
from ._objects import parse_time

__all__ = ["GCSService"]

_EMULATOR_PROJECT = "aiostore"
_PAGE_SIZE = "1000"


class GCSService(ServiceAdapter):
    """Buckets of one project, over one session shared with its storagers."""

    name = "gcs"

    def __init__(self, options: ClientOptions) -> None:
        self._client = GCSClient(options)

    def __repr__(self) -> str:
        return f"GCSService({self._client!r})"

    async def open(self) -> None:
        with gcs_errors("open"):
            await self._client.open(self.timeouts.connect, self.timeouts)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _bucket_url(self, name: str = "") -> str:
        return f"{self._client.api}/b/{quote(name, safe='')}" if name else f"{self._client.api}/b"

    def _project(self, op: str) -> str:
        opts = self._client.options
        project = (
            opts.project
            or self._client.service_data().get("project_id")
            or os.environ.get("GOOGLE_CLOUD_PROJECT")
            or (_EMULATOR_PROJECT if opts.anonymous else None)
        )
        if not project:
            raise InvalidArgumentError("listing or creating buckets needs project=...", op=op, adapter="gcs")
        return str(project)

    async def list(self) -> AsyncIterator[StoragerInfo]:
        token: str | None = None
        while True:
            with gcs_errors("list_storagers"):
                params = {"project": self._project("list_storagers"), "maxResults": _PAGE_SIZE}
                if token:
                    params["pageToken"] = token
                page = await self._client.call_json("GET", self._bucket_url(), params=params)
            for item in page.get("items", []):
                yield StoragerInfo(name=item["name"], created_at=parse_time(item.get("timeCreated")))
            token = page.get("nextPageToken")
            if not token:
                return

    async def exists(self, name: str) -> bool:
        with gcs_errors("exists", name):
            async with await self._client.request(
                "GET", self._bucket_url(name), params={"fields": "name"}, check=False
            ) as resp:
                if resp.status == 404:
                    return False
                if resp.status >= 400:
                    await raise_for_response(resp)
                return True

    async def create(self, name: str) -> None:
        with gcs_errors("create", name, idempotent=False):
            body: dict[str, Any] = {"name": name}
            await self._client.call_json(
                "POST", self._bucket_url(), params={"project": self._project("create")}, body=body
            )

    async def delete(self, name: str) -> None:
        # 409 (GCS) and 412 (fake-gcs-server) both mean "not empty" here.
        overrides = {404: StoragerNotFoundError, 409: ConditionNotMetError, 412: ConditionNotMetError}
        with gcs_errors("delete_storager", name, idempotent=False, overrides=overrides):
            await self._client.call_json("DELETE", self._bucket_url(name))

    def storager(self, name: str, work_dir: str) -> GCSAdapter:
        store = StoreOptions.parse({"name": name, "work_dir": work_dir})
        return GCSAdapter(store, self._client, owns_client=False)

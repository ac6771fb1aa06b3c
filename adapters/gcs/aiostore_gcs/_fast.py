"""The hot JSON API calls, sent straight through the shared aiohttp session.

gcloud-aio spends most of a small request's CPU around the request: header and
parameter dicts, a `ClientTimeout` and a multipart encoder per call, a second
JSON decode. Media upload (multipart), metadata ``objects.get``, ``objects.delete``
and ``objects.list`` go out from here instead, with URLs built once per bucket,
cached credentials (`GCSClient.auth`, still from the gcloud-aio `Token`) and
one JSON decode per answer. Media downloads are in `_reader`. Error answers
raise exactly what gcloud-aio raised (`raise_for_response`), so `gcs_errors`
maps them the same way.

Example:
    >>> routes = Routes(client.options.endpoint, "bucket")
    >>> resource = await get_resource(client, routes.resource("a/b.txt"))
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

if TYPE_CHECKING:
    from ._client import GCSClient

__all__ = [
    "Routes",
    "delete_object",
    "get_resource",
    "list_objects",
    "raise_for_response",
    "upload_multipart",
]

_LARGE_BODY = 1024 * 1024  # aiohttp warns about raw bytes bodies above this
_JSON_PART = b"Content-Type: application/json; charset=UTF-8\r\n\r\n"


async def raise_for_response(response: aiohttp.ClientResponse) -> None:
    """Read an error answer and raise it the way gcloud-aio does, for `gcs_errors` to map."""
    text = await response.text(errors="replace")
    response.release()
    raise aiohttp.ClientResponseError(
        response.request_info,
        response.history,
        status=response.status,
        message=text,
        headers=response.headers,
    )


class Routes:
    """The URLs of one bucket's objects, joined once."""

    __slots__ = ("_objects", "list", "upload", "upload_if_absent")

    def __init__(self, endpoint: str, bucket: str) -> None:
        name = quote(bucket, safe="")
        self._objects = f"{endpoint}/storage/v1/b/{name}/o/"
        self.list = f"{endpoint}/storage/v1/b/{name}/o"
        upload = f"{endpoint}/upload/storage/v1/b/{name}/o?uploadType=multipart&prettyPrint=false"
        self.upload = URL(upload, encoded=True)
        self.upload_if_absent = URL(f"{upload}&ifGenerationMatch=0", encoded=True)

    def object(self, key: str, query: str = "") -> URL:
        """``.../o/<key>`` plus an already encoded ``query``."""
        url = self._objects + quote(key, safe="")
        return URL(f"{url}?{query}" if query else url, encoded=True)

    def resource(self, key: str) -> URL:
        """``objects.get`` of ``key``'s metadata, answered without indentation (see `list_objects`)."""
        return self.object(key, "prettyPrint=false")


async def get_resource(client: GCSClient, url: URL) -> dict[str, Any]:
    """``objects.get``: the object resource (metadata, not media)."""
    return await _get_json(client, url)


async def _get_json(client: GCSClient, url: URL) -> dict[str, Any]:
    """A JSON API GET, its answer decoded once; an error answer raises the mapped error."""
    async with await client.session.get(
        url, headers=await client.auth(), timeout=client.fast_timeout
    ) as response:
        if response.status >= 400:
            await raise_for_response(response)
        decoded: dict[str, Any] = json.loads(await response.read())
    return decoded


async def delete_object(client: GCSClient, url: URL) -> None:
    """``objects.delete``; a missing object counts as deleted."""
    async with await client.session.delete(
        url, headers=await client.auth(), timeout=client.fast_timeout
    ) as response:
        if response.status >= 400 and response.status != 404:
            await raise_for_response(response)


async def list_objects(client: GCSClient, url: str, params: Mapping[str, str]) -> dict[str, Any]:
    """One page of ``objects.list``, decoded once.

    ``prettyPrint=false``: GCS indents its JSON answers unless told not to, a
    third more bytes to receive and scan on every page (emulators ignore it).
    """
    query = urlencode(params, quote_via=quote)
    return await _get_json(client, URL(f"{url}?{query}&prettyPrint=false", encoded=True))


class _Boundary:
    """A random multipart boundary, replaced when a body happens to contain it."""

    value = os.urandom(16).hex()

    @classmethod
    def for_body(cls, payload: bytes) -> str:
        while cls.value.encode() in payload:
            cls.value = os.urandom(16).hex()
        return cls.value


def _multipart(resource: Mapping[str, Any], payload: bytes, content_type: str) -> tuple[bytes, str]:
    """``multipart/related``: the JSON resource, then the media (as the upload guide spells it)."""
    boundary = _Boundary.for_body(payload)
    dash = f"--{boundary}\r\n".encode()
    media = f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode()
    end = f"\r\n--{boundary}--\r\n".encode()
    body = b"".join((dash, _JSON_PART, json.dumps(resource).encode(), media, payload, end))
    return body, f"multipart/related; boundary={boundary}"


async def upload_multipart(
    client: GCSClient,
    routes: Routes,
    key: str,
    payload: bytes,
    *,
    content_type: str,
    resource: Mapping[str, Any],
    if_not_exists: bool,
) -> dict[str, Any]:
    """A multipart upload (resource fields in camelCase plus media); the stored resource."""
    body, body_type = _multipart({**resource, "name": key}, payload, content_type)
    headers = {**await client.auth(), "Content-Type": body_type, "Accept": "application/json"}
    data: bytes | io.BytesIO = body if len(body) <= _LARGE_BODY else io.BytesIO(body)
    url = routes.upload_if_absent if if_not_exists else routes.upload
    timeout = client.upload_timeout(len(payload))
    async with await client.session.post(url, headers=headers, data=data, timeout=timeout) as response:
        if response.status >= 400:
            await raise_for_response(response)
        stored: dict[str, Any] = json.loads(await response.read())
    return stored

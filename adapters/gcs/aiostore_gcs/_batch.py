"""Batch deletes through the JSON API's ``/batch/storage/v1`` endpoint.

One HTTP request carries up to 100 ``DELETE`` calls (GCS's limit); each answer
is read separately, so a missing object (404) counts as deleted while any other
failure is raised after the whole batch has been tried.

Example:
    >>> failures = await batch_delete(client, "bucket", ["a", "b"])
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from urllib.parse import quote

from aiostore._errors import StorageError

from ._client import GCSClient
from ._errors import response_error

__all__ = ["BATCH_LIMIT", "batch_delete"]

BATCH_LIMIT = 100


def _encode(bucket: str, keys: Sequence[str], boundary: str) -> bytes:
    parts = []
    for index, key in enumerate(keys):
        path = f"/storage/v1/b/{quote(bucket, safe='')}/o/{quote(key, safe='')}"
        parts.append(
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{boundary}+{index}>\r\n\r\nDELETE {path} HTTP/1.1\r\n\r\n"
        )
    parts.append(f"--{boundary}--\r\n")
    return "\r\n".join(parts).encode()


def _boundary_of(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            return value.strip('"')
    raise ValueError("batch answer without a multipart boundary")


def _index_of(headers: str) -> int | None:
    for line in headers.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-id":
            return int(value.strip().strip("<>").rsplit("+", 1)[-1])
    return None


def _decode(body: str, boundary: str) -> dict[int, tuple[int, str]]:
    """``{call index: (status, body)}`` from a multipart/mixed answer."""
    answers: dict[int, tuple[int, str]] = {}
    for chunk in body.split(f"--{boundary}")[1:]:
        if chunk.startswith("--"):
            break
        outer, _, inner = chunk.strip("\r\n").partition("\r\n\r\n")
        index = _index_of(outer)
        status_line, _, rest = inner.partition("\r\n")
        fields = status_line.split(" ", 2)
        if index is None or len(fields) < 2 or not fields[1].isdigit():
            continue
        answers[index] = (int(fields[1]), rest.partition("\r\n\r\n")[2])
    return answers


async def batch_delete(client: GCSClient, bucket: str, keys: Sequence[str]) -> list[tuple[str, StorageError]]:
    """Delete up to `BATCH_LIMIT` keys in one request; returns the calls that failed."""
    boundary = uuid.uuid4().hex
    headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
    url = f"{client.options.endpoint}/batch/storage/v1"
    body = _encode(bucket, keys, boundary)
    async with await client.request("POST", url, headers=headers, data=body) as resp:
        text = await resp.text(errors="replace")
        answers = _decode(text, _boundary_of(resp.headers.get("Content-Type", "")))
    failures = []
    for index, key in enumerate(keys):
        status, detail = answers.get(index, (500, "no answer for this call in the batch"))
        if status >= 400 and status != 404:
            failures.append((key, response_error(status, detail)))
    return failures

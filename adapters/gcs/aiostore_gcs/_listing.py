"""Listing pages that hold at most ``page_size`` entries, in name order, each once.

Pages are requested with ``startOffset`` rather than GCS's opaque page token,
and the token handed to the core says where the next page starts and which
name was returned last. That makes pages exact on every server: GCS counts
directories (``prefixes``) toward ``maxResults``, while fake-gcs-server counts
only objects and returns every directory at or after the start on each page.
Files and directories are merged in name order, entries up to the last one
returned are skipped, and after a directory the next page starts past
everything under it.

Example:
    >>> page = await list_page(client, "bucket", keys, "a/", recursive=False, page_size=100, token=None)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from aiostore._errors import InvalidArgumentError
from aiostore._types import Object, ObjectType, Page

from ._client import GCSClient
from ._objects import HIDDEN_DIR, Keys, from_resource

__all__ = ["list_page"]

_MAX_EMPTY_ROUNDS = 16  # pages made only of skipped names are fetched again, a few times
#: what `from_resource` reads (GCS then leaves out ACLs, links and the rest; emulators may not)
_FIELDS = (
    "items(name,size,updated,id,md5Hash,contentType,generation,storageClass,metadata),prefixes,nextPageToken"
)


def _encode(start: str, last: str) -> str:
    raw = json.dumps({"s": start, "l": last}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(token: str | None) -> tuple[str | None, str | None]:
    if not token:
        return None, None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(data["s"]), str(data["l"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgumentError("malformed GCS page token", op="list", adapter="gcs") from None


def _after(name: str) -> str:
    """Where to resume after ``name``: past every key under it when it is a directory."""
    return name[:-1] + chr(ord("/") + 1) if name.endswith("/") else name


def _entries(page: dict[str, Any], keys: Keys, last: str | None) -> list[tuple[str, Object]]:
    """Files and directories of one answer, in name order, without hidden or repeated names."""
    files = _files(page.get("items", ()), keys, last)
    prefixes = page.get("prefixes")
    if not prefixes:
        return files  # in name order and unique (`_files` sorts when the server did not)
    found = dict(files)
    for name in prefixes:
        if (last is None or name > last) and not keys.is_hidden(name):
            found[name] = Object(path=keys.path(name), type=ObjectType.DIR)
    return sorted(found.items())


def _files(items: Iterable[dict[str, Any]], keys: Keys, last: str | None) -> list[tuple[str, Object]]:
    """The listed files after ``last``, in name order: no "dir/" markers, no hidden names.

    One pass per key of a listing, so the hidden-name test starts with one
    substring check that almost never matches.
    """
    found: list[tuple[str, Object]] = []
    root, hidden = keys.root, keys.is_hidden
    cut = len(root)
    previous, in_order = "", True
    for item in items:
        name = item["name"]
        # names up to ``last`` were handed out already; "dir/" markers are not files
        if (last is None or name > last) and not name.endswith("/"):
            if HIDDEN_DIR in name and hidden(name):
                continue
            found.append((name, from_resource(item, name[cut:] if name.startswith(root) else name)))
            in_order = in_order and name > previous
            previous = name
    if not in_order:
        return sorted(dict(found).items())  # a server that sends items out of order or twice
    return found


def _furthest(page: dict[str, Any]) -> str | None:
    names = [item["name"] for item in page.get("items", [])] + list(page.get("prefixes", []))
    return max(names) if names else None


async def list_page(
    client: GCSClient,
    bucket: str,
    keys: Keys,
    directory: str,
    *,
    recursive: bool,
    page_size: int,
    token: str | None,
) -> Page:
    """One page of the objects under ``directory`` (raw: the caller maps errors)."""
    start, last = _decode(token)
    for _ in range(_MAX_EMPTY_ROUNDS):
        answer = await client.list_page(
            bucket,
            prefix=keys.key(directory),
            delimiter=None if recursive else "/",
            start=start,
            page_size=page_size + 1,  # the name at ``start`` may come back once
            fields=_FIELDS,
        )
        entries = _entries(answer, keys, last)
        taken = entries[:page_size]
        more = len(entries) > page_size or bool(answer.get("nextPageToken"))
        if taken or not more:
            next_token = _encode(_after(taken[-1][0]), taken[-1][0]) if more and taken else None
            return Page(entries=[obj for _, obj in taken], next_token=next_token)
        furthest = _furthest(answer)
        if furthest is None:
            break
        start, last = _after(furthest), furthest
    return Page(entries=[], next_token=_encode(start, last) if start and last else None)

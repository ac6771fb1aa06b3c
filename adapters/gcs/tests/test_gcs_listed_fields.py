"""A listed `Object` carries every field `stat()` gives, through the ``fields`` projection.

fake-gcs-server ignores ``fields`` and ``prettyPrint``; the recording proxy applies
the projection as GCS does (``partial_responses``), so a field the listing forgets
to ask for shows up here as a difference from ``stat()``. `from_resource` and the
listing's entry merge are also checked against the plain dataclass constructor.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiostore_gcs._listing import _entries
from aiostore_gcs._objects import HIDDEN_DIR, Keys, b64_to_hex, from_resource, parse_time

import aiostore
from aiostore import Object, ObjectType
from aiostore._types import EMPTY_METADATA

GCSProxy = Any  # conftest's recording proxy (conftest modules cannot be imported)

_MD5 = "wbtPgdiSstV5R2gq6yUkVg=="
_RESOURCES: list[dict[str, Any]] = [
    {
        "name": "w/a.txt",
        "size": "64",
        "updated": "2026-11-22T05:02:35.951862Z",
        "id": "b/w/a.txt/17",
        "md5Hash": _MD5,
        "contentType": "text/plain",
        "generation": "17",
        "storageClass": "NEARLINE",
        "metadata": {"k": "v"},
    },
    {"name": "w/bare"},
    {"name": "w/odd", "size": 3, "generation": 5, "updated": "not a time", "md5Hash": "!", "contentType": ""},
]


def _constructed(resource: dict[str, Any], path: str) -> Object:
    """What `from_resource` returned when it called the dataclass constructor."""
    generation = str(resource["generation"]) if resource.get("generation") else None
    return Object(
        path=path,
        size=int(resource.get("size", 0)),
        updated_at=parse_time(resource.get("updated")),
        id=resource.get("id"),
        content_md5=b64_to_hex(resource.get("md5Hash")),
        content_type=resource.get("contentType") or None,
        etag=generation,
        storage_class=resource.get("storageClass"),
        version=generation,
        metadata=dict(resource["metadata"]) if resource.get("metadata") else EMPTY_METADATA,
    )


def _fields(obj: Object) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(Object)}


@pytest.mark.parametrize("resource", _RESOURCES, ids=lambda r: r["name"])
def test_from_resource_builds_the_object_the_constructor_builds(resource: dict[str, Any]) -> None:
    built = from_resource(resource, resource["name"])
    assert type(built) is Object
    assert _fields(built) == _fields(_constructed(resource, resource["name"]))
    assert built == _constructed(resource, resource["name"])
    assert hash(built) == hash(_constructed(resource, resource["name"]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.size = 1  # type: ignore[misc]


def test_entries_are_sorted_and_unique_whatever_order_the_server_sends() -> None:
    keys = Keys("w/")
    items = [{"name": n, "size": "1"} for n in ("w/c", "w/a", "w/c", "w/b/", f"w/{HIDDEN_DIR}x", "w/b")]
    page = {"items": items, "prefixes": ["w/d/", "w/0/"]}
    names = [name for name, _ in _entries(page, keys, None)]
    assert names == ["w/0/", "w/a", "w/b", "w/c", "w/d/"]
    assert [name for name, _ in _entries({"items": items[:2] + items[5:]}, keys, "w/a")] == ["w/b", "w/c"]
    in_order = _entries({"items": [{"name": "w/a"}, {"name": "w/b"}]}, keys, None)
    assert [(name, obj.path, obj.type) for name, obj in in_order] == [
        ("w/a", "a", ObjectType.FILE),
        ("w/b", "b", ObjectType.FILE),
    ]


async def test_the_proxy_answers_a_projection_as_gcs_does(gcs_proxy: GCSProxy, gcs_bucket: str) -> None:
    """The check below is only worth something if the projection really drops fields."""
    gcs_proxy.partial_responses = True
    key = f"proj-{uuid.uuid4().hex[:12]}/x"
    url = f"{gcs_proxy.endpoint}/upload/storage/v1/b/{gcs_bucket}/o"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, params={"uploadType": "media", "name": key}, data=b"x") as resp:
            assert resp.status == 200
        list_url = f"{gcs_proxy.endpoint}/storage/v1/b/{gcs_bucket}/o"
        params = {"prefix": key, "fields": "items(name,size),nextPageToken"}
        async with session.get(list_url, params=params) as resp:
            assert await resp.json() == {"items": [{"name": key, "size": "1"}]}
        async with session.delete(f"{list_url}/{quote(key, safe='')}") as resp:
            assert resp.status in (200, 204)


async def test_a_listed_object_equals_its_stat_field_by_field(
    gcs_proxy: GCSProxy, gcs_url: str, gcs_options: dict[str, Any]
) -> None:
    gcs_proxy.partial_responses = True
    async with aiostore.connect(gcs_url, **{**gcs_options, "endpoint": gcs_proxy.endpoint}) as store:
        await store.write(
            "f/meta.txt", b"with metadata", content_type="text/plain", metadata={"a": "1", "b": "2"}
        )
        await store.write("f/plain.bin", b"")
        await store.write("f/sub/deep.json", b"{}", content_type="application/json")
        listed = [obj async for obj in store.list("f", recursive=True)]
        assert [obj.path for obj in listed] == ["f/meta.txt", "f/plain.bin", "f/sub/deep.json"]
        for obj in listed:
            assert _fields(obj) == _fields(await store.stat(obj.path)), obj.path
        assert listed[0].metadata == {"a": "1", "b": "2"}
        assert listed[0].content_md5
        assert listed[0].updated_at is not None
        assert listed[0].etag == listed[0].version is not None
        await store.delete("f", recursive=True)
    queries = [r.query for r in gcs_proxy.calls("GET", "/o") if r.path.endswith("/o")]
    assert queries
    assert all(q.get("prettyPrint") == "false" and "items(" in q["fields"] for q in queries)

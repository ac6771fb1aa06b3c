"""`ObjectDraft` and `seal`: the fast `Object` builder listings and the fs adapter use."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from aiostore import Object, ObjectType
from aiostore._types import EMPTY_METADATA, ObjectDraft, draft_object, listed_file, seal


def test_the_draft_has_exactly_the_slots_and_fields_of_object() -> None:
    """A new `Object` field must be added to the draft too, or sealed objects lack it."""
    assert ObjectDraft.__slots__ == Object.__slots__
    assert set(ObjectDraft.__annotations__) == {f.name for f in dataclasses.fields(Object)}


def _filled() -> ObjectDraft:
    draft = draft_object()
    draft.path = "d/a.txt"
    draft.type = ObjectType.FILE
    draft.size = 3
    draft.updated_at = datetime(2026, 1, 2, tzinfo=UTC)
    draft.id = "id-1"
    draft.content_md5 = "900150983cd24fb0d6963f7d28e17f72"
    draft.content_type = "text/plain"
    draft.etag = '"e"'
    draft.storage_class = "STANDARD"
    draft.version = "7"
    draft.metadata = {"k": "v"}
    return draft


def test_a_sealed_draft_is_an_equal_frozen_object() -> None:
    built = seal(_filled())
    expected = Object(
        "d/a.txt", ObjectType.FILE, 3, datetime(2026, 1, 2, tzinfo=UTC), "id-1",
        "900150983cd24fb0d6963f7d28e17f72", "text/plain", '"e"', "STANDARD", "7", {"k": "v"},
    )  # fmt: skip
    assert type(built) is Object
    assert built == expected
    assert hash(built) == hash(expected)
    assert repr(built) == repr(expected)
    assert dataclasses.replace(built, size=4).size == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.size = 1  # type: ignore[misc]


def test_listed_file_fills_every_field() -> None:
    built = listed_file("a.txt", 3, None, '"e"', "GLACIER")
    assert built == Object("a.txt", size=3, etag='"e"', storage_class="GLACIER")
    assert built.metadata is EMPTY_METADATA
    assert all(hasattr(built, name) for name in Object.__slots__)

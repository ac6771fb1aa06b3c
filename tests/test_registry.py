"""The adapter registry: names, schemes, entry points and helpful errors."""

from __future__ import annotations

import pytest

import aiostore
from aiostore import AdapterNotFoundError, AdapterSpec, InvalidArgumentError
from aiostore.memory import MemoryAdapter


def test_core_adapters_come_from_entry_points() -> None:
    names = aiostore.adapter_names()
    assert {"memory", "fs"} <= set(names)


def test_unknown_scheme_lists_adapters_and_install_hint() -> None:
    with pytest.raises(AdapterNotFoundError) as info:
        aiostore.connect("nope://bucket")
    assert "memory" in str(info.value)
    assert "fs" in str(info.value)
    assert isinstance(info.value, LookupError)


def test_missing_cloud_adapter_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiostore import _registry

    monkeypatch.setattr(_registry, "_entry_points", list)
    monkeypatch.setattr(_registry, "_registered", {})
    monkeypatch.setattr(_registry, "_schemes", {})
    monkeypatch.setattr(_registry, "_broken", {})
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)
    with pytest.raises(AdapterNotFoundError, match=r'pip install "aiostore\[azblob\]"'):
        aiostore.connect("az://container")


def test_register_refuses_duplicates_and_maps_schemes() -> None:
    spec = AdapterSpec(name="mem2", open_store=MemoryAdapter, schemes=("mem2x",))
    aiostore.register("mem2", spec)
    try:
        with pytest.raises(InvalidArgumentError, match="already registered"):
            aiostore.register("mem2", AdapterSpec(name="mem2", open_store=MemoryAdapter))
        store = aiostore.connect("mem2x://b/dir")
        assert store.metadata().name == "b"
        assert store.metadata().work_dir == "dir/"
    finally:
        aiostore.unregister("mem2")


def test_keyword_options_win_over_the_url() -> None:
    store = aiostore.connect("memory://from-url", name="from-kwargs")
    assert store.metadata().name == "from-kwargs"


def test_bad_target_is_refused() -> None:
    with pytest.raises(InvalidArgumentError):
        aiostore.connect("")

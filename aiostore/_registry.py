"""The adapter registry: names, URL schemes and the ``aiostore.adapters`` entry points.

Adapters register an `AdapterSpec` under a name, either in code with
`register` or through the ``aiostore.adapters`` entry-point group (the core's own
``memory`` and ``fs`` adapters use the entry points too). Entry points are loaded
lazily: only the adapter a caller asks for is imported.

Example:
    >>> aiostore.register("mine", AdapterSpec(name="mine", open_store=MyAdapter))
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ._adapter import Adapter, ServiceAdapter
from ._errors import AdapterNotFoundError, InvalidArgumentError, UnsupportedError

__all__ = ["AdapterSpec", "ENTRY_POINT_GROUP", "adapter_names", "get_spec", "register", "unregister"]

ENTRY_POINT_GROUP = "aiostore.adapters"

# Adapters that live in their own distributions: what to install for each name.
KNOWN_ADAPTERS: Mapping[str, str] = {
    "s3": 'pip install "aiostore[s3]"',
    "gcs": 'pip install "aiostore[gcs]"',
    "azblob": 'pip install "aiostore[azblob]"',
}
# Scheme aliases resolvable before anything is imported.
KNOWN_SCHEMES: Mapping[str, str] = {
    "file": "fs",
    "gs": "gcs",
    "az": "azblob",
    "abfs": "azblob",
}


def default_url_options(url: str) -> dict[str, Any]:
    """``scheme://name/work/dir?k=v`` gives ``{"name": ..., "work_dir": ..., "k": "v"}``."""
    parts = urlsplit(url)
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    if parts.netloc:
        options["name"] = unquote(parts.netloc)
    work_dir = unquote(parts.path).strip("/")
    if work_dir:
        options["work_dir"] = work_dir + "/"
    return options


@dataclass(frozen=True)
class AdapterSpec:
    """How to build an adapter: what an entry point in ``aiostore.adapters`` names.

    Attributes:
        name: the registry name (``"s3"``).
        open_store: builds an `Adapter` from keyword options; no I/O.
        open_service: builds a `ServiceAdapter`, or None when there is no service.
        url_options: turns a URL into keyword options for ``open_store``.
        schemes: extra URL schemes that mean this adapter (the name always does).
    """

    name: str
    open_store: Callable[..., Adapter]
    open_service: Callable[..., ServiceAdapter] | None = None
    url_options: Callable[[str], dict[str, Any]] = field(default=default_url_options)
    schemes: tuple[str, ...] = ()


_lock = threading.Lock()
_registered: dict[str, AdapterSpec] = {}
_schemes: dict[str, str] = {}
_entry_points_loaded = False
_broken: dict[str, str] = {}


def register(name: str, spec: AdapterSpec | Callable[..., Adapter], *, replace: bool = False) -> None:
    """Register an adapter under ``name``; a duplicate name is refused unless ``replace``."""
    if not isinstance(spec, AdapterSpec):
        spec = AdapterSpec(name=name, open_store=spec)
    with _lock:
        if name in _registered and not replace and _registered[name] is not spec:
            raise InvalidArgumentError(f"an adapter named {name!r} is already registered", op="register")
        _registered[name] = spec
        for scheme in spec.schemes:
            _schemes.setdefault(scheme, name)


def unregister(name: str) -> None:
    """Remove a registered adapter (tests use this)."""
    with _lock:
        spec = _registered.pop(name, None)
        for scheme in spec.schemes if spec else ():
            if _schemes.get(scheme) == name:
                del _schemes[scheme]


def _entry_points() -> list[importlib_metadata.EntryPoint]:
    return list(importlib_metadata.entry_points(group=ENTRY_POINT_GROUP))


def _load_entry_point(ep: importlib_metadata.EntryPoint) -> None:
    spec = ep.load()
    if not isinstance(spec, AdapterSpec):
        raise InvalidArgumentError(
            f"entry point {ep.name!r} = {ep.value!r} is not an AdapterSpec", op="register"
        )
    if spec.name != ep.name:
        raise InvalidArgumentError(f"entry point {ep.name!r} names adapter {spec.name!r}", op="register")
    register(ep.name, spec)


def _load_all_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    for ep in _entry_points():
        if ep.name not in _registered:
            try:
                _load_entry_point(ep)
            except Exception as exc:  # a broken adapter must not hide the others
                _broken[ep.name] = f"{type(exc).__name__}: {exc}"
    _entry_points_loaded = True


def adapter_names() -> list[str]:
    """Every adapter name available: registered ones and installed entry points."""
    names = set(_registered) | {ep.name for ep in _entry_points()}
    return sorted(names)


def _not_found(name: str, what: str) -> AdapterNotFoundError:
    available = ", ".join(adapter_names()) or "none"
    hint = KNOWN_ADAPTERS.get(KNOWN_SCHEMES.get(name, name))
    message = f"no adapter for {what} {name!r} (available: {available})"
    if hint:
        message += f"; install it with: {hint}"
    if _broken:
        message += "; adapters that failed to load: " + "; ".join(f"{k} ({v})" for k, v in _broken.items())
    return AdapterNotFoundError(message, op="connect", adapter=name)


def get_spec(name: str) -> AdapterSpec:
    """The spec registered under ``name``, loading its entry point if needed."""
    if name in _registered:
        return _registered[name]
    for ep in _entry_points():
        if ep.name == name:
            try:
                _load_entry_point(ep)
            except Exception as exc:
                raise AdapterNotFoundError(
                    f"the {name!r} adapter is installed but failed to load: {type(exc).__name__}: {exc}",
                    op="connect",
                    adapter=name,
                ) from exc
            return _registered[name]
    raise _not_found(name, "name")


def spec_for_scheme(scheme: str) -> AdapterSpec:
    """The spec for a URL scheme: an adapter name, a known alias, or a declared scheme."""
    scheme = scheme.lower()
    if scheme in _registered or scheme in _schemes:
        return _registered[_schemes.get(scheme, scheme)] if scheme not in _registered else _registered[scheme]
    if scheme in KNOWN_SCHEMES:
        return get_spec(KNOWN_SCHEMES[scheme])
    try:
        return get_spec(scheme)
    except AdapterNotFoundError:
        _load_all_entry_points()
    if scheme in _schemes:
        return _registered[_schemes[scheme]]
    raise _not_found(scheme, "URL scheme")


def resolve(target: str, options: Mapping[str, Any]) -> tuple[AdapterSpec, dict[str, Any]]:
    """Turn ``"s3://b/dir"`` or ``"s3"`` plus keyword options into a spec and options.

    Explicit keyword options win over what the URL says.
    """
    if not isinstance(target, str) or not target:
        raise InvalidArgumentError(f"expected an adapter name or URL, got {target!r}", op="connect")
    if "://" not in target:
        return get_spec(target), dict(options)
    spec = spec_for_scheme(target.split("://", 1)[0])
    merged = spec.url_options(target)
    merged.update(options)
    return spec, merged


def open_service(spec: AdapterSpec, options: Mapping[str, Any]) -> ServiceAdapter:
    if spec.open_service is None:
        raise UnsupportedError(f"adapter {spec.name!r} has no service", op="service", adapter=spec.name)
    return spec.open_service(**options)

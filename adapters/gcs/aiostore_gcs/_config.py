"""Options of the GCS adapter: parsed once, immutable, secrets kept out of ``repr``.

Example:
    >>> ClientOptions.parse({"endpoint": "http://127.0.0.1:4443"})
    ClientOptions(endpoint='http://127.0.0.1:4443', anonymous=True, project=None, timeout=60.0)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiostore._errors import InvalidArgumentError

__all__ = ["DEFAULT_API_ROOT", "ClientOptions", "StoreOptions"]

DEFAULT_API_ROOT = "https://storage.googleapis.com"
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
UPLOAD_QUANTUM = 256 * 1024  # resumable chunks must be multiples of this
_CLIENT_KEYS = frozenset({"endpoint", "anonymous", "service_file", "token", "project", "timeout"})
_STORE_KEYS = frozenset({"name", "work_dir", "chunk_size"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _refuse(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, op="connect", adapter="gcs")


def _as_bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise _refuse(f"option {name}={value!r} is not a boolean")


def _as_number(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise _refuse(f"option {name}={value!r} is not a number") from None
    if number <= 0:
        raise _refuse(f"option {name} must be positive, got {value!r}")
    return number


def _api_root(endpoint: str | None) -> tuple[str, bool]:
    """The JSON API root, and whether it came from the emulator variable or option."""
    if endpoint:
        return endpoint.rstrip("/"), True
    host = os.environ.get(EMULATOR_ENV)
    if host:
        return (host if "://" in host else f"http://{host}").rstrip("/"), True
    return DEFAULT_API_ROOT, False


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How to reach GCS: shared by a service and the storagers it hands out.

    Attributes:
        endpoint: the API root, e.g. the emulator's ``http://127.0.0.1:4443``;
            defaults to ``STORAGE_EMULATOR_HOST`` when set, else Google's.
        anonymous: send no credentials; defaults to True with an emulator.
        service_file: a service-account JSON path, or its parsed content (never shown).
        token: a ready ``gcloud.aio.auth.Token`` (never shown).
        project: the project that owns buckets (service ``list``/``create``).
        timeout: seconds a connect or a read may stall before giving up.
    """

    endpoint: str = DEFAULT_API_ROOT
    anonymous: bool = False
    project: str | None = None
    timeout: float = 60.0
    service_file: str | Mapping[str, Any] | None = field(default=None, repr=False)
    token: Any = field(default=None, repr=False)

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> ClientOptions:
        endpoint, emulated = _api_root(options.get("endpoint"))
        anonymous = _as_bool("anonymous", options.get("anonymous"))
        service_file = options.get("service_file")
        if service_file is not None and not isinstance(service_file, str | os.PathLike | Mapping):
            raise _refuse("service_file must be a path or a mapping of service-account fields")
        return cls(
            endpoint=endpoint,
            anonymous=emulated if anonymous is None else anonymous,
            project=options.get("project"),
            timeout=float(_as_number("timeout", options.get("timeout", 60.0), float)),
            service_file=os.fspath(service_file) if isinstance(service_file, os.PathLike) else service_file,
            token=options.get("token"),
        )


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """One storager: a bucket plus a work dir, and how large resumable chunks are.

    Attributes:
        name: the bucket.
        work_dir: a key prefix ending in ``/`` (``""`` is the bucket root).
        chunk_size: bytes per resumable-upload request, rounded up to 256 KiB;
            None follows the part size the core asks for.
    """

    name: str
    work_dir: str = ""
    chunk_size: int | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> StoreOptions:
        name = options.get("name")
        if not isinstance(name, str) or not name or "/" in name:
            raise _refuse(f"the GCS adapter needs a bucket name (name=...), got {name!r}")
        work_dir = str(options.get("work_dir") or "").strip("/")
        chunk = options.get("chunk_size")
        return cls(
            name=name,
            work_dir=f"{work_dir}/" if work_dir else "",
            chunk_size=None if chunk is None else round_chunk(_as_number("chunk_size", chunk, int)),
        )


def round_chunk(size: int) -> int:
    """Round up to a positive multiple of 256 KiB, as resumable uploads require."""
    return max(UPLOAD_QUANTUM, -(-size // UPLOAD_QUANTUM) * UPLOAD_QUANTUM)


def split_options(options: Mapping[str, Any], *, store: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate client options from storager options; unknown names are refused."""
    allowed = _CLIENT_KEYS | (_STORE_KEYS if store else frozenset())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise _refuse(f"unknown GCS option(s) {', '.join(unknown)}; valid: {', '.join(sorted(allowed))}")
    client = {k: v for k, v in options.items() if k in _CLIENT_KEYS}
    return client, {k: v for k, v in options.items() if k in _STORE_KEYS}

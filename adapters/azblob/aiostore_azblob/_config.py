"""Options of the azblob adapter: parsing, checking, URL forms and client construction.

Example:
    >>> config = AzblobConfig.from_options({"name": "photos", "connection_string": conn})
    >>> config
    AzblobConfig(name='photos', work_dir='', account_name='devstoreaccount1', ...)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import aiohttp
from azure.core.pipeline.transport import AioHttpTransport
from azure.storage.blob.aio import BlobServiceClient

from aiostore import InvalidArgumentError

from ._errors import ADAPTER

__all__ = ["DEFAULT_CHUNK", "MAX_CHUNK", "AzblobConfig", "clean_work_dir", "url_options"]

MiB = 1024 * 1024
# The service returns a transactional Content-MD5 only for ranges of at most 4 MiB.
MAX_CHUNK = 4 * MiB
# Ranges of whole reads checked against the stored MD5: the core's default part size.
DEFAULT_CHUNK = 8 * MiB
_CHUNK_LIMIT = 64 * MiB  # one range is held in memory at a time
_PUBLIC_SUFFIX = "core.windows.net"
_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _refuse(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, op="connect", adapter=ADAPTER)


def _as_bool(value: object, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    raise _refuse(f"option {key!r} must be a boolean, got {value!r}")


def _as_number(value: object, key: str, low: float, high: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _refuse(f"option {key!r} must be a number, got {value!r}") from None
    if not low <= number <= high:
        raise _refuse(f"option {key!r} must be in [{low:g}, {high:g}], got {value!r}")
    return number


def _parse_connection_string(text: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
    return {key.strip().lower(): value.strip() for key, value in pairs}


def _account_from_url(account_url: str) -> str | None:
    """``acme`` from ``https://acme.blob.core.windows.net`` or ``http://127.0.0.1:10000/acme``."""
    parts = urlsplit(account_url)
    labels = (parts.hostname or "").split(".")
    if len(labels) > 2 and labels[1] in ("blob", "dfs"):
        return labels[0]
    first = parts.path.strip("/").split("/", 1)[0]  # emulator style puts the account in the path
    return first or None


def clean_work_dir(value: object) -> str:
    """``a/b`` and ``/a/b/`` both give ``a/b/``; ``""`` stays the container root."""
    if not isinstance(value, str):
        raise _refuse(f"option 'work_dir' must be a str, got {type(value).__name__}")
    if "\\" in value:
        raise _refuse(f"work_dir {value!r}: Azure Blob Storage reads '\\' as '/'")
    stripped = value.strip("/")
    return stripped + "/" if stripped else ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class AzblobConfig:
    """Checked options; secrets never appear in ``repr``.

    Attributes:
        name: the container (empty for a service).
        work_dir: the directory inside the container, ``""`` or ending with ``/``.
        account_url: ``https://<account>.blob.core.windows.net`` or an emulator URL.
        account_name: needed with ``account_key`` and for SAS URLs.
        validate_content: send and check a transactional Content-MD5 on every
            upload, and on every ranged GET of a read that the blob's stored MD5
            does not cover: a partial read, or a blob without one. A whole read
            of a blob with a stored MD5 is always checked against it instead
            (one MD5 pass, the mismatch raised before the last chunk goes out),
            whatever this says; see `aiostore_azblob._reading`.
        chunk_size: bytes per ranged GET of a streaming read (at most 64 MiB);
            a GET that asks for a transactional MD5 takes at most 4 MiB.
        copy_timeout: seconds to wait for a server-side copy to finish.
        fast_path: send Put Blob, Put Block, Get Blob, Get Blob Properties and
            Delete Blob signed here through the shared session (shared key, SAS or
            anonymous credentials); ``False`` keeps every call on the SDK.
        store_md5: give a blob the core's uploader commits from blocks its MD5
            (hashed in order while the blocks go out), as single writes always
            do, so its whole reads are checked end to end; ``False`` saves that
            MD5 pass (1.7 CPU s/GiB on the benchmark VM).
    """

    name: str = ""
    work_dir: str = ""
    account_url: str | None = None
    account_name: str | None = None
    connection_string: str | None = dataclasses.field(default=None, repr=False)
    account_key: str | None = dataclasses.field(default=None, repr=False)
    sas_token: str | None = dataclasses.field(default=None, repr=False)
    credential: Any = dataclasses.field(default=None, repr=False)
    session: aiohttp.ClientSession | None = dataclasses.field(default=None, repr=False)
    validate_content: bool = True
    chunk_size: int = DEFAULT_CHUNK
    copy_timeout: float = 600.0
    fast_path: bool = True
    store_md5: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> AzblobConfig:
        """Check ``options`` (keyword options or URL query values) and fill in derived ones."""
        unknown = sorted(set(options) - {f.name for f in dataclasses.fields(cls)} - {"endpoint"})
        if unknown:
            valid = ", ".join(sorted({f.name for f in dataclasses.fields(cls)} | {"endpoint"}))
            raise _refuse(f"unknown option(s) {', '.join(unknown)}; valid options: {valid}")
        values = dict(options)
        if "endpoint" in values:
            values.setdefault("account_url", values.pop("endpoint"))
        values["work_dir"] = clean_work_dir(values.get("work_dir", ""))
        values["validate_content"] = _as_bool(values.get("validate_content", True), "validate_content")
        values["fast_path"] = _as_bool(values.get("fast_path", True), "fast_path")
        values["store_md5"] = _as_bool(values.get("store_md5", True), "store_md5")
        chunk = _as_number(values.get("chunk_size", DEFAULT_CHUNK), "chunk_size", 1, _CHUNK_LIMIT)
        values["chunk_size"] = int(chunk)
        values["copy_timeout"] = _as_number(values.get("copy_timeout", 600.0), "copy_timeout", 0.001, 86400)
        return cls(**_with_account(values))

    @property
    def signing_key(self) -> tuple[str, str] | None:
        """(account name, account key) when SAS URLs can be signed."""
        if self.account_name and self.account_key:
            return self.account_name, self.account_key
        return None

    def make_client(self, session: aiohttp.ClientSession, connect_timeout: float | None) -> BlobServiceClient:
        """A service client over ``session`` (which it never closes); SDK retries off."""
        timeouts = {} if connect_timeout is None else {"connection_timeout": connect_timeout}
        transport = AioHttpTransport(session=session, session_owner=False, **timeouts)
        common: dict[str, Any] = {
            "transport": transport,
            "retry_total": 0,
            "max_single_get_size": self.chunk_size,  # GETs without a transactional MD5
            "max_chunk_get_size": min(self.chunk_size, MAX_CHUNK),  # GETs with one
        }
        if self.connection_string:
            return BlobServiceClient.from_connection_string(
                self.connection_string, credential=self._credential(), **common
            )
        assert self.account_url is not None
        return BlobServiceClient(self.account_url, credential=self._credential(), **common)

    def _credential(self) -> Any:
        if self.credential is not None:
            return self.credential
        if self.sas_token:
            return self.sas_token
        if self.account_key and not self.connection_string:
            return {"account_name": self.account_name, "account_key": self.account_key}
        return None


def _with_account(values: dict[str, Any]) -> dict[str, Any]:
    conn = values.get("connection_string")
    parsed = _parse_connection_string(conn) if conn else {}
    if parsed:
        values.setdefault("account_name", parsed.get("accountname"))
        values.setdefault("account_key", parsed.get("accountkey"))
        values.setdefault("account_url", parsed.get("blobendpoint"))
    elif not values.get("account_url"):
        if not values.get("account_name"):
            raise _refuse("give connection_string, account_url, or account_name (for the public cloud)")
        values["account_url"] = f"https://{values['account_name']}.blob.{_PUBLIC_SUFFIX}"
    if values.get("account_url") and not values.get("account_name"):
        values["account_name"] = _account_from_url(values["account_url"])
    if values.get("account_key") and not values.get("account_name"):
        raise _refuse("account_key needs account_name (it cannot be read from the account_url)")
    return {key: value for key, value in values.items() if value is not None}


def url_options(url: str) -> dict[str, Any]:
    """Options from ``azblob://container/dir?k=v`` or ``abfs://container@account.dfs.core.windows.net/dir``.

    Example:
        >>> url_options("abfs://photos@acme.dfs.core.windows.net/2024")
        {'name': 'photos', 'account_name': 'acme', 'account_url': 'https://acme.blob.core.windows.net', ...}
    """
    parts = urlsplit(url)
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    if parts.username is not None and parts.hostname:
        account = parts.hostname.split(".", 1)[0]
        options["name"] = unquote(parts.username)
        options.setdefault("account_name", account)
        options.setdefault("account_url", f"https://{account}.blob.{_PUBLIC_SUFFIX}")
    elif parts.netloc:
        options["name"] = unquote(parts.netloc)
    work_dir = unquote(parts.path).strip("/")
    if work_dir:
        options["work_dir"] = work_dir + "/"
    return options

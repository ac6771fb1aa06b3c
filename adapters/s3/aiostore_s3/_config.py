"""Keyword options of the S3 adapter, checked once and frozen into `S3Config`.

Example:
    >>> store = aiostore.connect(
    ...     "s3://bucket/dir?profile=seaweedfs&endpoint=http://127.0.0.1:8333",
    ...     access_key_id="...", secret_access_key="...",
    ... )
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypedDict, get_args
from urllib.parse import urlsplit

from aiostore import InvalidArgumentError
from aiostore._registry import default_url_options

from ._profiles import PROFILES, AddressingStyle, ChecksumName, Profile, get_profile
from ._redact import remember_secret

__all__ = ["S3Config", "S3Options", "parse_options", "url_options"]


class S3Options(TypedDict, total=False):
    """Every keyword ``aiostore.connect("s3", ...)`` and ``aiostore.service("s3", ...)`` take.

    Attributes:
        name: the bucket (from the URL netloc when a URL is given).
        work_dir: a key prefix every path lives under (``"dir/"``).
        endpoint: the service URL; None means AWS (or ``AWS_ENDPOINT_URL``).
        region: the signing region; the profile's default, then the AWS chain.
        access_key_id, secret_access_key, session_token: static credentials;
            without them the usual AWS chain (environment, config files, IMDS) applies.
        aws_profile: a named profile of the AWS config files, for credentials.
        profile: the endpoint profile (``aws``, ``seaweedfs``, ``minio``, ``ceph``,
            ``r2``, ``b2``, ``oss``, ``cos``, ``kodo``, ``qingstor``); see the README.
        addressing_style: ``path``, ``virtual`` or ``auto``; the profile's by default.
        storage_class: the default ``x-amz-storage-class`` of writes (``STANDARD_IA``...).
        sse: server-side encryption: ``AES256`` (SSE-S3), ``aws:kms``, ``aws:kms:dsse``.
        sse_kms_key_id: the KMS key of ``sse="aws:kms"``.
        sse_customer_key: an SSE-C key (32 bytes); sent with every read and write.
        checksum: ``crc32c``, ``crc32``, ``md5`` or ``none``; the profile's by default.
        max_pool_connections: the connection pool size (default 32).
        connect_timeout, read_timeout: seconds (defaults 10 and 60).
        anonymous: send unsigned requests (public buckets).
        fast_path: send GET, PUT, HEAD, DELETE, UploadPart and ListObjectsV2 signed
            here through aiohttp (default True); False sends everything through aiobotocore.
        verify_etag: check a whole read against a single-part object's MD5 ETag when
            the answer carries no ``x-amz-checksum-*``; the profile's by default.
        full_object_checksum: multipart uploads with a CRC checksum ask for a
            ``FULL_OBJECT`` checksum, which whole reads are checked against; the
            profile's by default (on for ``seaweedfs``).
    """

    name: str
    work_dir: str
    endpoint: str
    region: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    aws_profile: str
    profile: str
    addressing_style: AddressingStyle
    storage_class: str
    sse: str
    sse_kms_key_id: str
    sse_customer_key: str | bytes
    checksum: ChecksumName | None
    max_pool_connections: int
    connect_timeout: float
    read_timeout: float
    anonymous: bool
    fast_path: bool
    verify_etag: bool
    full_object_checksum: bool


_SSE_ALIASES = {
    "aes256": "AES256",
    "sse-s3": "AES256",
    "s3": "AES256",
    "kms": "aws:kms",
    "aws:kms": "aws:kms",
}
_SSE_ALIASES |= {"aws:kms:dsse": "aws:kms:dsse", "dsse": "aws:kms:dsse"}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class S3Config:
    """Resolved, immutable adapter configuration; secrets never show in its ``repr``."""

    bucket: str
    work_dir: str
    profile: Profile = dataclasses.field(repr=False)
    endpoint: str | None
    region: str | None
    addressing_style: AddressingStyle
    checksum: ChecksumName
    access_key_id: str | None = None
    secret_access_key: str | None = dataclasses.field(default=None, repr=False)
    session_token: str | None = dataclasses.field(default=None, repr=False)
    aws_profile: str | None = None
    storage_class: str | None = None
    sse: str | None = None
    sse_kms_key_id: str | None = None
    sse_customer_key: str | bytes | None = dataclasses.field(default=None, repr=False)
    max_pool_connections: int = 32
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    anonymous: bool = False
    fast_path: bool = True
    verify_etag: bool = False
    full_object_checksum: bool = False

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
        secrets = [f.name for f in dataclasses.fields(self) if not f.repr and f.name != "profile"]
        hidden = ", ".join(f"{name}=***" for name in secrets if getattr(self, name) is not None)
        return f"S3Config(profile={self.profile.name!r}, {shown}{', ' + hidden if hidden else ''})"

    def for_bucket(self, bucket: str, work_dir: str) -> S3Config:
        """The same service settings on another bucket (what a Servicer hands out)."""
        return dataclasses.replace(self, bucket=_bucket(bucket), work_dir=normalize_work_dir(work_dir))


def normalize_work_dir(work_dir: str | None) -> str:
    """``"/a/b"`` and ``"a/b/"`` both give ``"a/b/"``; nothing gives ``""``."""
    stripped = (work_dir or "").strip("/")
    return stripped + "/" if stripped else ""


def _bucket(name: object) -> str:
    if not isinstance(name, str) or not name or "/" in name:
        raise InvalidArgumentError(f"invalid bucket name {name!r}", op="connect", adapter="s3")
    return name


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise InvalidArgumentError(
            f"{name} must be one of {allowed}, got {value!r}", op="connect", adapter="s3"
        )
    return value


def _number(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"{name} must be a number, got {value!r}", op="connect", adapter="s3"
        ) from None
    if number <= 0:
        raise InvalidArgumentError(f"{name} must be positive, got {value!r}", op="connect", adapter="s3")
    return number


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def sse_mode(value: object) -> str | None:
    """The canonical SSE mode for ``value`` (aliases such as ``kms`` accepted)."""
    if value is None:
        return None
    mode = _SSE_ALIASES.get(str(value).lower())
    if mode is None:
        raise InvalidArgumentError(
            f"sse must be AES256, aws:kms or aws:kms:dsse, got {value!r}", op="connect", adapter="s3"
        )
    return mode


def _profile(value: object) -> Profile:
    try:
        return get_profile(None if value is None else str(value))
    except KeyError as exc:
        raise InvalidArgumentError(str(exc.args[0]), op="connect", adapter="s3") from None


_KNOWN = frozenset(S3Options.__annotations__)


def parse_options(options: Mapping[str, Any], *, need_bucket: bool = True) -> S3Config:
    """Check the keyword options and resolve them against the endpoint profile."""
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        raise InvalidArgumentError(
            f"unknown S3 options {unknown}; known: {sorted(_KNOWN)}", op="connect", adapter="s3"
        )
    profile = _profile(options.get("profile"))
    get = options.get
    checksum = get("checksum") or profile.checksum
    for secret in ("secret_access_key", "session_token", "sse_customer_key"):
        remember_secret(get(secret))
    return S3Config(
        bucket=_bucket(get("name")) if need_bucket or get("name") else "",
        work_dir=normalize_work_dir(get("work_dir")),
        profile=profile,
        endpoint=_endpoint(get("endpoint")),
        region=get("region") or profile.region or profile.region_for(get("endpoint")),
        addressing_style=_choice("addressing_style", get("addressing_style") or profile.addressing_style,
                                 get_args(AddressingStyle)),
        checksum=_choice("checksum", checksum, get_args(ChecksumName)),
        access_key_id=get("access_key_id"),
        secret_access_key=get("secret_access_key"),
        session_token=get("session_token"),
        aws_profile=get("aws_profile"),
        storage_class=get("storage_class"),
        sse=sse_mode(get("sse")),
        sse_kms_key_id=get("sse_kms_key_id"),
        sse_customer_key=get("sse_customer_key"),
        max_pool_connections=_number("max_pool_connections", get("max_pool_connections", 32), int),
        connect_timeout=_number("connect_timeout", get("connect_timeout", 10.0), float),
        read_timeout=_number("read_timeout", get("read_timeout", 60.0), float),
        anonymous=_flag(get("anonymous", False)),
        fast_path=_flag(get("fast_path", True)),
        verify_etag=_flag(get("verify_etag", profile.etag_md5)),
        full_object_checksum=_flag(get("full_object_checksum", profile.full_object)),
    )  # fmt: skip


def _endpoint(value: object) -> str | None:
    if value is None or value == "":
        return None
    text = str(value)
    if urlsplit(text).scheme not in ("http", "https"):
        raise InvalidArgumentError(
            f"endpoint must be an http(s) URL, got {text!r}", op="connect", adapter="s3"
        )
    return text.rstrip("/")


def url_options(url: str) -> dict[str, Any]:
    """``s3://bucket/dir?endpoint=...`` and profile schemes (``minio://bucket``) as options."""
    options = default_url_options(url)
    scheme = url.split("://", 1)[0].lower()
    if scheme in PROFILES and scheme != "s3":
        options.setdefault("profile", scheme)
    return options

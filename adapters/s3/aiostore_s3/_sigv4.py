"""AWS Signature Version 4 for S3 requests sent straight through aiohttp.

The fast path signs data-plane requests itself instead of going through
botocore's per-request machinery; aiobotocore still owns credentials,
configuration and the less frequent calls. The derived signing key is cached
per day, so a request costs two SHA-256 digests and two HMACs.

Example:
    >>> signer = SigV4Signer("us-east-1")
    >>> headers = signer.sign("GET", "127.0.0.1:8333", "/bucket/a.txt", {}, {}, creds)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import quote

__all__ = [
    "UNSIGNED_PAYLOAD",
    "Credentials",
    "CredentialsLike",
    "SigV4Signer",
    "canonical_query",
    "uri_encode_path",
]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"


class CredentialsLike(Protocol):
    """What signing needs: our `Credentials` or botocore's frozen ``ReadOnlyCredentials``."""

    @property
    def access_key(self) -> str: ...

    @property
    def secret_key(self) -> str: ...

    @property
    def token(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    """A frozen set of AWS credentials; the secret never shows in a repr."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


_PLAIN_PATH = re.compile(r"[A-Za-z0-9/_.~-]*")


def uri_encode_path(path: str) -> str:
    """Encode a key for the canonical URI: everything but unreserved characters and ``/``."""
    if _PLAIN_PATH.fullmatch(path):  # most keys: nothing to encode
        return path
    return quote(path, safe="/" + _UNRESERVED)


def _encode(value: str) -> str:
    return quote(value, safe=_UNRESERVED)


def canonical_query(params: Mapping[str, str]) -> str:
    """``k=v`` pairs, URI-encoded and sorted by encoded key (then value)."""
    pairs = sorted((_encode(k), _encode(v)) for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


class SigV4Signer:
    """Signs S3 requests for one region; safe to share between tasks."""

    def __init__(self, region: str, service: str = "s3") -> None:
        self.region = region
        self.service = service
        self._keys: dict[tuple[str, str], bytes] = {}
        self._second = -1
        self._stamp = ""
        self._scopes: dict[str, str] = {}

    def _now(self) -> str:
        """``X-Amz-Date`` for this second, formatted once per second."""
        second = int(time.time())
        if second != self._second:
            self._stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._second = second
        return self._stamp

    def _scope(self, day: str) -> str:
        scope = self._scopes.get(day)
        if scope is None:
            scope = f"{day}/{self.region}/{self.service}/aws4_request"
            self._scopes = {day: scope}
        return scope

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached = self._keys.get((secret, day))
        if cached is None:
            key = hmac.digest(f"AWS4{secret}".encode(), day.encode(), "sha256")
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            self._keys = {(secret, day): key}
            cached = key
        return cached

    def sign(
        self,
        method: str,
        host: str,
        path: str,
        query: Mapping[str, str] | str,
        headers: Mapping[str, str],
        credentials: CredentialsLike,
        *,
        payload_hash: str = UNSIGNED_PAYLOAD,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The headers to send: ``headers`` plus host, date, content hash, token and Authorization.

        ``path`` is the already-encoded request path (see `uri_encode_path`);
        ``query`` is a mapping, or a string already in canonical form (`canonical_query`);
        header names in ``headers`` may have any case; all of them are signed.
        """
        stamp = now.strftime("%Y%m%dT%H%M%SZ") if now is not None else self._now()
        day = stamp[:8]
        signed = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": stamp}
        for name, value in headers.items():
            signed[name.lower()] = str(value)  # sent as given; signed with runs of spaces folded
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        names = sorted(signed)
        signed_names = ";".join(names)
        canonical = query if isinstance(query, str) else canonical_query(query)
        lines = [method, path, canonical]
        lines += [f"{name}:{' '.join(signed[name].split())}" for name in names]
        lines += ["", signed_names, payload_hash]
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        scope = self._scope(day)
        to_sign = f"{_ALGORITHM}\n{stamp}\n{scope}\n{digest}"
        key = self._signing_key(credentials.secret_key, day)
        signature = hmac.digest(key, to_sign.encode(), "sha256").hex()
        signed["authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_names}, Signature={signature}"
        )
        return signed

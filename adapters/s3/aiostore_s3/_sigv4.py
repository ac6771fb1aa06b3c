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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

__all__ = ["UNSIGNED_PAYLOAD", "Credentials", "SigV4Signer", "canonical_query", "uri_encode_path"]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"


@dataclass(frozen=True, slots=True)
class Credentials:
    """A frozen set of AWS credentials; the secret never shows in a repr."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


def uri_encode_path(path: str) -> str:
    """Encode a key for the canonical URI: everything but unreserved characters and ``/``."""
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
        query: Mapping[str, str],
        headers: Mapping[str, str],
        credentials: Credentials,
        *,
        payload_hash: str = UNSIGNED_PAYLOAD,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The headers to send: ``headers`` plus host, date, content hash, token and Authorization.

        ``path`` is the already-encoded request path (see `uri_encode_path`);
        header names in ``headers`` may have any case; all of them are signed.
        """
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        signed = {name.lower(): " ".join(str(value).split()) for name, value in headers.items()}
        signed["host"] = host
        signed["x-amz-date"] = stamp
        signed["x-amz-content-sha256"] = payload_hash
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        names = sorted(signed)
        canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in names)
        signed_names = ";".join(names)
        request = "\n".join(
            (method, path, canonical_query(query), canonical_headers, signed_names, payload_hash)
        )
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = f"{_ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
        key = self._signing_key(credentials.secret_key, day)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        signed["authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_names}, Signature={signature}"
        )
        return signed

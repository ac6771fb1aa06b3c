"""V4 signed URLs (``GOOG4-RSA-SHA256``) signed locally with a service-account key.

The signature covers the host the URL is for: Google's by default, the
emulator's when the adapter talks to one. (gcloud-aio's own signer reads
``STORAGE_EMULATOR_HOST`` once at import time and then builds
``https://http://...``; signing here avoids patching its output afterwards.)

Example:
    >>> signer = Signer.from_service_data(service_data)
    >>> url = signer.sign("https://storage.googleapis.com", "bucket", "a.txt", method="GET", expires=600)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from aiostore._errors import InvalidArgumentError, PermissionDeniedError

__all__ = ["MAX_EXPIRES", "METHODS", "Signer"]

MAX_EXPIRES = 7 * 24 * 3600  # GCS refuses V4 URLs valid for longer than a week
METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
_ALGORITHM = "GOOG4-RSA-SHA256"


def _canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))


class Signer:
    """Signs URLs as one service account; holds the key, never shows it."""

    def __init__(self, client_email: str, key: rsa.RSAPrivateKey) -> None:
        self.client_email = client_email
        self._key = key

    def __repr__(self) -> str:
        return f"Signer(client_email={self.client_email!r})"

    @classmethod
    def from_service_data(cls, data: Mapping[str, Any]) -> Signer:
        """A signer from parsed service-account JSON; `PermissionDeniedError` without a key."""
        email, pem = data.get("client_email"), data.get("private_key")
        if not email or not isinstance(pem, str):
            raise PermissionDeniedError(
                "signing a URL needs a service-account key: pass service_file=<key JSON path or mapping>"
            )
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            raise InvalidArgumentError("the service account's private_key is not a valid PEM key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidArgumentError("the service account's private_key is not an RSA key")
        return cls(str(email), key)

    def sign(
        self,
        endpoint: str,
        bucket: str,
        key: str,
        *,
        method: str,
        expires: int,
        now: datetime | None = None,
    ) -> str:
        """A URL allowing ``method`` on ``bucket/key`` for ``expires`` seconds."""
        if method not in METHODS:
            raise InvalidArgumentError(f"cannot sign {method!r}; use one of {', '.join(sorted(METHODS))}")
        if not 1 <= expires <= MAX_EXPIRES:
            raise InvalidArgumentError(f"expires must be 1..{MAX_EXPIRES} seconds, got {expires}")
        parts = urlsplit(endpoint)
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        stamp, day = moment.strftime("%Y%m%dT%H%M%SZ"), moment.strftime("%Y%m%d")
        scope = f"{day}/auto/storage/goog4_request"
        resource = f"/{quote(bucket, safe='')}/{quote(key, safe='/~')}"
        query = _canonical_query(
            {
                "X-Goog-Algorithm": _ALGORITHM,
                "X-Goog-Credential": f"{self.client_email}/{scope}",
                "X-Goog-Date": stamp,
                "X-Goog-Expires": str(expires),
                "X-Goog-SignedHeaders": "host",
            }
        )
        request = "\n".join([method, resource, query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"])
        digest = hashlib.sha256(request.encode()).hexdigest()
        to_sign = "\n".join([_ALGORITHM, stamp, scope, digest])
        signature = self._key.sign(to_sign.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()
        return f"{parts.scheme}://{parts.netloc}{resource}?{query}&X-Goog-Signature={signature}"

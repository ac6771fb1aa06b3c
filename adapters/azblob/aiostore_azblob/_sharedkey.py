"""Shared Key signing of Blob service requests (HMAC-SHA256 over the canonical string).

The string to sign is the one the Blob service documents and azure-storage-blob
builds in its ``SharedKeyCredentialPolicy``: the verb, eleven standard headers
(``Content-Length`` left empty when it is 0, ``Range`` always empty because
requests here use ``x-ms-range``), the ``x-ms-*`` headers sorted, then
``/<account><path>`` and the query parameters sorted, with their values
percent-decoded. The test suite checks the output byte for byte against the
SDK's policy on the same request.

Paths are encoded once with `encode_path` into the form aiohttp puts on the
wire (yarl leaves it untouched), so the path signed is the path sent.

Example:
    >>> signer = SharedKeySigner("devstoreaccount1", key)
    >>> headers["authorization"] = signer.sign("HEAD", "/devstoreaccount1/c/a.txt", [], headers)
"""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Iterable, Mapping
from email.utils import formatdate
from operator import itemgetter
from urllib.parse import quote

__all__ = ["SharedKeySigner", "encode_path", "encode_query", "http_now"]

# The standard headers of the string to sign, in order. The SDK names the last one
# "byte_range", which no request carries: the line is always empty.
_STANDARD = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
)
# What yarl leaves unquoted in a path: unreserved characters plus sub-delims, ':' and '@'.
_PATH_SAFE = "/~!$&'()*,;=:@"
# The service orders x-ms-* names ignoring '-' and with '_' before digits and letters.
# (`str.replace` twice, not `str.translate`: a translate table is looked up per character,
# and every character not in it raises and swallows a KeyError.)

_now: tuple[int, str] = (0, "")


def http_now() -> str:
    """The current time as an RFC 1123 date (``x-ms-date``), formatted once per second."""
    global _now
    second = int(time.time())
    if _now[0] != second:
        _now = (second, formatdate(second, usegmt=True))
    return _now[1]


def encode_path(name: str) -> str:
    """Percent-encode a container or blob name the way it goes on the wire."""
    return quote(name, safe=_PATH_SAFE)


def encode_query(params: Iterable[tuple[str, str]]) -> str:
    """``a=1&b=2`` with every value fully percent-encoded (``+``, ``/`` and ``=`` too)."""
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in params)


_first = itemgetter(0)


class SharedKeySigner:
    """Signs requests for one account with its base64 account key."""

    __slots__ = ("_account", "_secret")

    def __init__(self, account: str, key: str) -> None:
        self._account = account
        self._secret = base64.b64decode(key)

    def __repr__(self) -> str:
        return f"<SharedKeySigner {self._account}>"

    def string_to_sign(
        self, method: str, path: str, query: Iterable[tuple[str, str]], headers: Mapping[str, str]
    ) -> str:
        """The canonical string; standard ``headers`` have lower-case names, ``query`` raw values."""
        get = headers.get
        lines = [method, *[get(name) or "" for name in _STANDARD], ""]  # "" for Range: see x-ms-range
        if lines[3] == "0":  # Content-Length
            lines[3] = ""
        ms: list[tuple[str, str]] = []
        for name, value in headers.items():
            if name.startswith("x-ms-"):
                lower = name.lower()
                ms.append((lower.replace("-", "").replace("_", "!"), f"{lower}:{value}"))
        ms.sort(key=_first)
        lines.extend([line for _, line in ms])
        resource = f"/{self._account}{path}"
        if query:
            # values are raw (not percent-encoded): signed as they are, which is what the
            # service (and the SDK, after decoding its URL) compares; decoding them again
            # would turn a "%" in a prefix or marker into a wrong signature
            resource += "".join(f"\n{name.lower()}:{value}" for name, value in sorted(query))
        lines.append(resource)
        return "\n".join(lines)

    def sign(
        self, method: str, path: str, query: Iterable[tuple[str, str]], headers: Mapping[str, str]
    ) -> str:
        """The ``Authorization`` header value for this request."""
        text = self.string_to_sign(method, path, query, headers)
        digest = hmac.digest(self._secret, text.encode("utf-8"), "sha256")
        return f"SharedKey {self._account}:{base64.b64encode(digest).decode('ascii')}"

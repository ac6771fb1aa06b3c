"""Keeping secrets out of messages and logs.

Every message this adapter builds from a server or SDK text goes through
`redact`, which masks signatures, security tokens, SSE-C keys and every secret
value handed to a store (`remember_secret`). botocore logs signed headers at
DEBUG level; `install_log_redaction` adds a filter to the loggers that do so.

Example:
    >>> redact("...&X-Amz-Signature=abc123&x=1")
    '...&X-Amz-Signature=***&x=1'
"""

from __future__ import annotations

import base64
import logging
import re
import threading

__all__ = ["MASK", "install_log_redaction", "redact", "remember_secret"]

MASK = "***"

_PATTERNS = (
    # query-string credentials of presigned URLs
    re.compile(r"(?i)(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s'\"<>]+"),
    # Authorization header values and botocore.auth's "Signature:\n<hex>" debug line
    re.compile(r"(?i)(Signature[=:]\s*)[0-9a-f]{16,}"),
    # header dicts in botocore's debug lines: 'name': b'value' or "name": "value"
    re.compile(
        r"(?i)(['\"]?(?:authorization|x-amz-security-token|x-amz(?:-copy-source)?-server-side-encryption-customer-key|"
        r"(?:CopySource)?SSECustomerKey|SessionToken|SecretAccessKey)['\"]?\s*[:=]\s*b?['\"])[^'\"]+"
    ),
    # error bodies that echo what was signed
    re.compile(r"(?i)(<(?:SignatureProvided|StringToSign|StringToSignBytes|CanonicalRequest)>)[^<]*"),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_MAX_SECRETS = 256


def remember_secret(value: str | bytes | None) -> None:
    """Mask ``value`` (and its base64 form, as headers carry keys) wherever `redact` sees it."""
    if value is None:
        return
    raw = value.encode("utf-8") if isinstance(value, str) else value
    forms = {raw.decode("latin-1"), base64.b64encode(raw).decode("ascii")}
    with _lock:
        for text in forms:
            if len(text) >= 8 and len(_secrets) < _MAX_SECRETS:
                _secrets.add(text)


def redact(text: str) -> str:
    """``text`` with signatures, tokens, keys and remembered secrets masked."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    with _lock:
        secrets = tuple(_secrets)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# The loggers that print request headers, signatures or error bodies at DEBUG.
_SDK_LOGGERS = (
    "botocore.auth",
    "botocore.endpoint",
    "botocore.hooks",
    "botocore.parsers",
    "botocore.httpsession",
    "botocore.retryhandler",
    "botocore.awsrequest",
    "aiobotocore.endpoint",
    "aiobotocore.httpsession",
    "aiobotocore.parsers",
    "aiostore_s3",
)
_installed = False


def install_log_redaction() -> None:
    """Attach the redacting filter to the SDK loggers (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    log_filter = _RedactingFilter()
    for name in _SDK_LOGGERS:
        logging.getLogger(name).addFilter(log_filter)

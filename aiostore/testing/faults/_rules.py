"""Faults and the rules that pick which requests get them.

A `Rule` matches a request by method, a path regex, and optional predicates on
the query and the headers; it fires a number of times (or with a probability
drawn from a seeded RNG) and then does one `Fault`. `Rules` holds the list, in
order (the first rule that fires wins), and counts what it injected.

Example:
    >>> rules = Rules(seed=1)
    >>> rules.add(slow_down(), method="PUT", times=2)
    >>> rules.add(flip_byte(10), method="GET", path=r"/data\\.bin$", probability=0.5)
"""

from __future__ import annotations

import enum
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "Fault",
    "FaultKind",
    "RequestInfo",
    "RequestKind",
    "Rule",
    "Rules",
    "delay",
    "flip_byte",
    "has_query",
    "lacks_query",
    "ok_with_error_body",
    "reset_after",
    "reset_before",
    "s3_error_body",
    "slow_down",
    "stall",
    "status",
    "throttled",
    "truncate",
]


class FaultKind(enum.Enum):
    """What the proxy does to a request it picked."""

    RESET_BEFORE = "reset_before"  # close the client's connection (RST) without forwarding
    RESET_AFTER = "reset_after"  # forward, then close (RST) without answering
    STATUS = "status"  # answer a canned status without forwarding
    OK_WITH_ERROR_BODY = "ok_with_error_body"  # 200 whose body is an <Error> (forwarded or not)
    TRUNCATE = "truncate"  # forward; send the original Content-Length but only n bytes, then RST
    FLIP_BYTE = "flip_byte"  # forward; flip one bit of one body byte
    STALL = "stall"  # wait, before answering or in the middle of the body
    DELAY = "delay"  # reach the server late, even after the client gave up (a request still in flight)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """One fault; build it with the functions of this module (`slow_down()`, ...)."""

    kind: FaultKind
    status: int = 0
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    offset: int = 0
    seconds: float = 0.0
    forward: bool = True
    name: str = ""

    @property
    def label(self) -> str:
        """The name the counters use, e.g. ``status_503`` or ``truncate``."""
        if self.name:
            return self.name
        if self.kind is FaultKind.STATUS:
            return f"status_{self.status}"
        return str(self.kind.value)

    @property
    def needs_body(self) -> bool:
        """Whether the fault only makes sense on a response with a body."""
        return self.kind in (FaultKind.TRUNCATE, FaultKind.FLIP_BYTE)


def reset_before() -> Fault:
    """Reset the connection before the request reaches the server: nothing applied."""
    return Fault(kind=FaultKind.RESET_BEFORE)


def reset_after() -> Fault:
    """Let the server apply the request, then reset instead of answering."""
    return Fault(kind=FaultKind.RESET_AFTER)


def status(code: int, body: bytes = b"", headers: Mapping[str, str] | None = None, name: str = "") -> Fault:
    """Answer ``code`` with ``body`` and ``headers``; the server never sees the request."""
    return Fault(kind=FaultKind.STATUS, status=code, body=body, headers=dict(headers or {}), name=name)


def s3_error_body(code: str, message: str = "injected by the fault proxy") -> bytes:
    """An S3-style ``<Error>`` XML document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>"
    ).encode()


def slow_down(retry_after: float | None = None) -> Fault:
    """S3's ``503 SlowDown``, optionally with ``Retry-After``."""
    headers = {"Content-Type": "application/xml"}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    name = "slow_down" + ("_retry_after" if retry_after is not None else "")
    return status(503, s3_error_body("SlowDown", "Please reduce your request rate."), headers, name)


def throttled(retry_after: float | None = None, body: bytes = b"") -> Fault:
    """``429 Too Many Requests``, optionally with ``Retry-After``."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return status(429, body, headers, "status_429" + ("_retry_after" if retry_after is not None else ""))


def ok_with_error_body(code: str = "InternalError", *, forward: bool = True) -> Fault:
    """A ``200 OK`` whose body is an S3 ``<Error>`` (CompleteMultipartUpload, CopyObject).

    ``forward=True`` lets the server apply the request first (the answer lies);
    ``forward=False`` is what S3 does when the call failed after answering 200.
    """
    name = "ok_with_error_body" + ("" if forward else "_unforwarded")
    return Fault(
        kind=FaultKind.OK_WITH_ERROR_BODY,
        status=200,
        body=s3_error_body(code, "We encountered an internal error. Please try again."),
        headers={"Content-Type": "application/xml"},
        forward=forward,
        name=name,
    )


def truncate(keep: int) -> Fault:
    """Forward, then send the original ``Content-Length`` but only ``keep`` body bytes and reset.

    A negative ``keep`` keeps that many bytes fewer than the body holds.
    """
    return Fault(kind=FaultKind.TRUNCATE, offset=keep)


def flip_byte(offset: int = 0) -> Fault:
    """Forward, then flip the low bit of body byte ``offset`` (modulo the body length)."""
    return Fault(kind=FaultKind.FLIP_BYTE, offset=offset)


def stall(seconds: float, *, after: int | None = None) -> Fault:
    """Wait ``seconds``: before forwarding (``after=None``), or after sending the headers
    and the first ``after`` body bytes of the real answer."""
    return Fault(kind=FaultKind.STALL, seconds=seconds, offset=-1 if after is None else after)


def delay(seconds: float) -> Fault:
    """Forward the request ``seconds`` late, whether or not the client is still waiting:
    what a request already on its way does when the caller is cancelled."""
    return Fault(kind=FaultKind.DELAY, seconds=seconds)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What rules see of a request."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]

    @property
    def url(self) -> str:
        """The path and the query, as ``path?k=v&...`` (for simple substring checks)."""
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{k}={v}" for k, v in self.query.items())


Predicate = Callable[[RequestInfo], bool]


@dataclass(frozen=True, slots=True)
class RequestKind:
    """A class of requests: the method, the set of query keys, and which of some
    tokens (object names) the URL mentions.

    To fault every request an operation makes, run it once through the proxy,
    take the kinds of what it saw, then add one rule per kind (``where=kind.matches``).

    Example:
        >>> kinds = {RequestKind.of(s.info, ("a.bin",)) for s in proxy.seen}
        >>> proxy.add(reset_after(), where=next(iter(kinds)).matches)
    """

    method: str
    keys: frozenset[str]
    token: str
    tokens: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def of(cls, request: RequestInfo, tokens: tuple[str, ...]) -> RequestKind:
        url = request.url
        token = next((t for t in tokens if t in url), "")
        return cls(request.method, frozenset(request.query), token, tokens)

    def matches(self, request: RequestInfo) -> bool:
        return RequestKind.of(request, self.tokens) == self

    def __str__(self) -> str:
        return f"{self.method} {self.token or '-'}?{'&'.join(sorted(self.keys))}"


def has_query(*keys: str) -> Callable[[Mapping[str, str]], bool]:
    """A query predicate: every key in ``keys`` is present."""
    return lambda query: all(key in query for key in keys)


def lacks_query(*keys: str) -> Callable[[Mapping[str, str]], bool]:
    """A query predicate: no key in ``keys`` is present."""
    return lambda query: not any(key in query for key in keys)


@dataclass(kw_only=True)
class Rule:
    """Which requests get ``fault``, and how often.

    Attributes:
        method: the HTTP method (any when None).
        path: a regex searched in the request path.
        query, headers: predicates on the query parameters and the (case-insensitive) headers.
        where: a predicate on the whole `RequestInfo`.
        times: how many times the rule fires (None: no limit).
        probability: the chance a matching request is hit (drawn from the rules' seeded RNG).
        skip: let this many matching requests through before firing.
    """

    fault: Fault
    method: str | None = None
    path: str = ""
    query: Callable[[Mapping[str, str]], bool] | None = None
    headers: Callable[[Mapping[str, str]], bool] | None = None
    where: Predicate | None = None
    times: int | None = 1
    probability: float = 1.0
    skip: int = 0
    matched: int = 0
    fired: int = 0

    def matches(self, request: RequestInfo) -> bool:
        if self.method is not None and request.method != self.method.upper():
            return False
        if self.path and re.search(self.path, request.path) is None:
            return False
        if self.query is not None and not self.query(request.query):
            return False
        if self.headers is not None and not self.headers(request.headers):
            return False
        return self.where is None or self.where(request)

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


class Rules:
    """The ordered rule list of one proxy, with its counters."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[Rule] = []
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()

    def add(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str = "",
        query: Callable[[Mapping[str, str]], bool] | None = None,
        headers: Callable[[Mapping[str, str]], bool] | None = None,
        where: Predicate | None = None,
        times: int | None = 1,
        probability: float = 1.0,
        skip: int = 0,
    ) -> Rule:
        """Append a rule (keywords as in `Rule`); returns it, to read its counters."""
        rule = Rule(
            fault=fault, method=method, path=path, query=query, headers=headers,
            where=where, times=times, probability=probability, skip=skip,
        )  # fmt: skip
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Drop every rule (the counters stay)."""
        self.rules.clear()

    def pick(self, request: RequestInfo) -> Rule | None:
        """The first rule that fires for ``request``, counted as fired."""
        for rule in self.rules:
            if rule.spent or not rule.matches(request):
                continue
            rule.matched += 1
            if rule.matched <= rule.skip:
                continue
            if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None

    def unfire(self, rule: Rule) -> None:
        """Give a shot back: the fault could not apply (no body to damage)."""
        rule.fired -= 1

    def count(self, fault: Fault) -> None:
        self.injected[fault.label] += 1

    @property
    def total(self) -> int:
        """Faults injected so far, of every kind."""
        return sum(self.injected.values())

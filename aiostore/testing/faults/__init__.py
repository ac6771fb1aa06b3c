"""A fault-injecting HTTP proxy for testing storage adapters against real servers.

Point an adapter's endpoint at a `FaultProxy` placed in front of a real local
server (SeaweedFS, moto, fake-gcs-server, Azurite...) and add rules: each rule
matches requests (method, path regex, query/header predicates) and injects one
fault a number of times or with a seeded probability. The proxy counts what it
injected and records every request.

Faults: `reset_before`, `reset_after`, `status` (with `slow_down` and `throttled`
for the usual throttling answers), `ok_with_error_body`, `truncate`,
`flip_byte`, `stall`, `delay` (a request that lands after its caller gave up).

Example:
    >>> from aiostore.testing.faults import FaultProxy, has_query, reset_after, slow_down
    >>> async with FaultProxy(server.endpoint, seed=7) as proxy:
    ...     proxy.add(slow_down(retry_after=1), method="PUT", probability=0.3, times=None)
    ...     proxy.add(reset_after(), method="POST", query=has_query("uploadId"))
    ...     async with aiostore.connect("s3://bucket", endpoint=proxy.endpoint, ...) as store:
    ...         ...
    ...     assert proxy.injected["slow_down_retry_after"] > 0

`Resources` and `settle` check that tasks, file descriptors and connections
come back to a baseline after the work (cancellation and leak tests).

Requires ``aiohttp`` (the ``testing`` extra); ``psutil`` for connection counts.
"""

from ._proxy import FaultProxy, Seen
from ._resources import Resources, connections_to, settle
from ._rules import (
    Fault,
    FaultKind,
    RequestInfo,
    RequestKind,
    Rule,
    Rules,
    delay,
    flip_byte,
    has_query,
    lacks_query,
    ok_with_error_body,
    reset_after,
    reset_before,
    s3_error_body,
    slow_down,
    stall,
    status,
    throttled,
    truncate,
)

__all__ = [
    "Fault",
    "FaultKind",
    "FaultProxy",
    "RequestInfo",
    "RequestKind",
    "Resources",
    "Rule",
    "Rules",
    "Seen",
    "connections_to",
    "delay",
    "flip_byte",
    "has_query",
    "lacks_query",
    "ok_with_error_body",
    "reset_after",
    "reset_before",
    "s3_error_body",
    "settle",
    "slow_down",
    "stall",
    "status",
    "throttled",
    "truncate",
]

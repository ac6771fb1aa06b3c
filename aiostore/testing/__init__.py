"""The aiostore conformance suite: one set of tests every adapter must pass.

An adapter's test module subclasses `ConformanceSuite` and provides an async
``store`` fixture yielding an opened store; every test then runs under a fresh
random prefix and fails if it leaves anything behind. Tests that need an
optional feature carry ``@pytest.mark.capability("name")`` and are skipped when
``store.metadata().capabilities`` lacks it.

Example:
    >>> import pytest, aiostore
    >>> from aiostore.testing import ConformanceSuite
    >>> class TestMemory(ConformanceSuite):
    ...     @pytest.fixture
    ...     async def store(self):
    ...         async with aiostore.connect("memory://") as s:
    ...             yield s

The topic mixins (`PathTests`, `RoundTripTests`, ...) can also be combined one by
one, e.g. ``class TestListing(ListingTests)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._suite import (
        PREFIX,
        AsyncFile,
        AttributeTests,
        ConcurrencyTests,
        ConformanceSuite,
        CopyMoveDeleteTests,
        Fixtures,
        KiB,
        ListingTests,
        MiB,
        PathTests,
        ProgressLog,
        ProgressTests,
        PropertyTests,
        RangeTests,
        ReachTests,
        RoundTripTests,
        SegmentTests,
        StreamTests,
        achunks,
        big_size,
        chunks,
        collect,
        digest,
        listing,
        payload,
        read_stream,
        segment_size,
        segments,
        traced_peak,
        write_many,
    )

__all__ = [
    "AsyncFile",
    "AttributeTests",
    "ConcurrencyTests",
    "ConformanceSuite",
    "CopyMoveDeleteTests",
    "Fixtures",
    "KiB",
    "ListingTests",
    "MiB",
    "PREFIX",
    "PathTests",
    "ProgressLog",
    "ProgressTests",
    "PropertyTests",
    "RangeTests",
    "ReachTests",
    "RoundTripTests",
    "SegmentTests",
    "StreamTests",
    "achunks",
    "big_size",
    "chunks",
    "collect",
    "digest",
    "listing",
    "payload",
    "read_stream",
    "segment_size",
    "segments",
    "traced_peak",
    "write_many",
]


def __getattr__(name: str) -> Any:
    """Import the suite (and pytest, hypothesis) only when a name is used, so that
    ``aiostore.testing.servers`` stays importable without test dependencies."""
    if name in __all__:
        return getattr(importlib.import_module("._suite", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

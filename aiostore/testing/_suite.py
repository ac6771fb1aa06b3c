"""The conformance suite itself; `aiostore.testing` re-exports it lazily.

The aiostore conformance suite: one set of tests every adapter must pass.

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

import pytest

_TOPICS = (
    "_attributes",
    "_concurrency",
    "_copy_move_delete",
    "_fixtures",
    "_helpers",
    "_listing",
    "_paths",
    "_progress",
    "_properties",
    "_ranges",
    "_reach",
    "_roundtrip",
    "_segments",
    "_streams",
)
# Plain asserts in the topic modules get pytest's detailed messages. The package
# itself may already be imported (by the servers plugin), so name the modules.
pytest.register_assert_rewrite(*(f"aiostore.testing.{topic}" for topic in _TOPICS))

from ._attributes import AttributeTests  # noqa: E402
from ._concurrency import ConcurrencyTests  # noqa: E402
from ._copy_move_delete import CopyMoveDeleteTests  # noqa: E402
from ._fixtures import PREFIX, Fixtures  # noqa: E402
from ._helpers import (  # noqa: E402
    AsyncFile,
    KiB,
    MiB,
    ProgressLog,
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
from ._listing import ListingTests  # noqa: E402
from ._paths import PathTests  # noqa: E402
from ._progress import ProgressTests  # noqa: E402
from ._properties import PropertyTests  # noqa: E402
from ._ranges import RangeTests  # noqa: E402
from ._reach import ReachTests  # noqa: E402
from ._roundtrip import RoundTripTests  # noqa: E402
from ._segments import SegmentTests  # noqa: E402
from ._streams import StreamTests  # noqa: E402

__all__ = [
    "PREFIX",
    "AsyncFile",
    "AttributeTests",
    "ConcurrencyTests",
    "ConformanceSuite",
    "CopyMoveDeleteTests",
    "Fixtures",
    "KiB",
    "ListingTests",
    "MiB",
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


class ConformanceSuite(
    PathTests,
    RoundTripTests,
    AttributeTests,
    RangeTests,
    StreamTests,
    ListingTests,
    CopyMoveDeleteTests,
    SegmentTests,
    ConcurrencyTests,
    ReachTests,
    ProgressTests,
    PropertyTests,
):
    """Every conformance test; subclass it and provide an async ``store`` fixture."""

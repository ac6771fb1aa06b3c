"""The fixtures every conformance test stands on: a fresh scope and the capability gate.

An adapter's test module provides an async ``store`` fixture yielding an opened
`aiostore.Store`. Each test then gets ``s``: a view of that store under a random
prefix (``aiostore-test-<12 hex>/``). A test deletes what it wrote; at teardown
the fixture fails the test if objects (or, where the store can list them,
uploads in progress) are left under the prefix, then removes them so one failure
does not spill into the next test.

Markers:
    ``@pytest.mark.capability("segments")`` runs a test only when
    ``store.metadata().capabilities.segments`` is true;
    ``@pytest.mark.capability("reach", absent=True)`` only when it is false.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator

import pytest

from aiostore import Capabilities, Store

from ._helpers import listing, segments

__all__ = ["PREFIX", "Fixtures"]

PREFIX = "aiostore-test-"


def _gate(request: pytest.FixtureRequest, capabilities: Capabilities) -> None:
    for marker in request.node.iter_markers("capability"):
        name = str(marker.args[0])
        if not hasattr(capabilities, name):
            pytest.fail(f"the capability marker names {name!r}, which is not a Capabilities field")
        wanted = not marker.kwargs.get("absent", False)
        if bool(getattr(capabilities, name)) != wanted:
            state = "lacks" if wanted else "has"
            pytest.skip(f"the store {state} the capability {name!r}")


def _call_failed() -> bool:
    """Whether this test's body raised: pytest keeps the error in ``sys.last_value``
    (for post-mortem debugging) and clears it before each test. A failed test's
    leftovers are cleaned without a second report."""
    return getattr(sys, "last_value", None) is not None


async def _leftovers(view: Store) -> tuple[list[str], list[str]]:
    capabilities = view.metadata().capabilities
    objects = sorted(await listing(view, recursive=True)) if capabilities.list else []
    uploads = sorted(seg.path for seg in await segments(view)) if capabilities.list_segments else []
    return objects, uploads


async def _force_clean(view: Store) -> None:
    capabilities = view.metadata().capabilities
    if capabilities.list_segments:
        for upload in await segments(view):
            await view.abort_segment(upload)
    if capabilities.list:
        for path in await listing(view, recursive=True):
            await view.delete(path)


class Fixtures:
    """Fixtures shared by every topic mixin; subclasses provide ``store``."""

    @pytest.fixture(autouse=True)
    def _capability_gate(self, request: pytest.FixtureRequest, store: Store) -> None:
        """Skip a test whose ``capability`` markers the store does not satisfy."""
        _gate(request, store.metadata().capabilities)

    @pytest.fixture
    def prefix(self) -> str:
        """The random directory this test's ``s`` lives in, relative to ``store``."""
        return f"{PREFIX}{uuid.uuid4().hex[:12]}/"

    @pytest.fixture
    async def s(self, store: Store, prefix: str, _capability_gate: None) -> AsyncIterator[Store]:
        """``store`` scoped under a fresh prefix; fails the test if anything is left there."""
        view = store.scoped(prefix)
        yield view
        objects, uploads = await _leftovers(view)
        await _force_clean(view)
        if (objects or uploads) and not _call_failed():
            pytest.fail(f"the test left objects {objects[:10]} and uploads {uploads[:10]} under {prefix!r}")

"""One operation, every request it makes, every fault: run it and check the bucket after each.

A `Scenario` is one store operation with the objects it starts from and the
objects it must leave. `Matrix.record` runs it once through the proxy to learn
the kinds of requests it makes (`RequestKind`); `Matrix.prove` then runs it
again for each kind and each applicable `Spec` (a fault and how often it
fires), and after every run checks, on the raw service:

* the outcome: an idempotent call succeeds through transient faults; a call
  that is not idempotent succeeds or fails with a `StorageError`; a fault that
  never stops makes the call fail; nothing but `StorageError` escapes;
* the data: whatever a call returned as success is byte-exact (else `Corrupted`);
* the bucket: exactly the expected objects (or, after a failure, one of the
  states the scenario allows), byte-exact by SHA-256, no hidden temporaries,
  no uncommitted blobs, no open multipart uploads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiostore import IntegrityError, StorageError, Store, TimeoutOptions, TransferOptions
from aiostore.testing.faults import (
    Fault,
    FaultProxy,
    RequestKind,
    Seen,
    flip_byte,
    ok_with_error_body,
    reset_after,
    reset_before,
    stall,
    truncate,
)

from ._backends import Backend, Ledger, abort_uploads, raw_state, sha
from ._known import known

Box = dict[str, Any]
State = Mapping[str, bytes]
READ_TIMEOUTS = TimeoutOptions(connect=2.0, attempt=0.6, stall=0.3)
WRITE_TIMEOUTS = TimeoutOptions(connect=2.0, attempt=10.0, stall=5.0)


class Corrupted(AssertionError):
    """A call returned wrong bytes as if it had succeeded."""


class WrongResult(AssertionError):
    """A call returned a wrong description (size, names, count) as if it had succeeded."""


def expect_bytes(got: bytes, want: bytes, what: str) -> None:
    if got != want:
        pairs = enumerate(zip(got, want, strict=False))
        diff = next((i for i, (a, b) in pairs if a != b), min(len(got), len(want)))
        raise Corrupted(f"{what}: {len(got)} bytes returned for {len(want)}, first difference at {diff}")


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One operation: where it starts, what it must leave, and what else a failure may leave."""

    name: str
    run: Callable[[Store, Box], Awaitable[None]]
    expected: State
    initial: State = dataclasses.field(default_factory=dict)
    tokens: tuple[str, ...] = ()
    idempotent: bool = True
    in_doubt: tuple[State, ...] = ()
    setup: Callable[[Store, Box], Awaitable[None]] | None = None
    recover: Callable[[Store, Box], Awaitable[None]] | None = None  # after a failure, as a user would
    teardown: Callable[[Store, Box], Awaitable[None]] | None = None  # always, on the clean store
    streaming: bool = False  # chunks are handed out before the end: a flipped byte may surface as an error
    ranged: bool = False  # a range of an object: no service checksum covers it (S3, GCS)
    timeouts: TimeoutOptions = READ_TIMEOUTS
    transfer: TransferOptions | None = None
    datasets: tuple[bytes, ...] = ()


@dataclasses.dataclass(frozen=True)
class Observed:
    """A request kind an operation makes, and what its answer looked like."""

    kind: RequestKind
    body: bool  # the answer had a body
    data: bool  # the answer's body was object data
    s3_op: str  # botocore's ``x-id`` (S3 operation name) when present


@dataclasses.dataclass(frozen=True)
class Spec:
    """A fault, how many times it fires on its kind (None: always), and where it applies."""

    label: str
    fault: Callable[[Backend], Fault]
    times: int | None
    applies: Callable[[Observed, Backend], bool]
    forwards: bool = False  # the server may have applied the request


def _s3_operation(seen: Seen) -> str:
    """The S3 calls that may answer 200 with an ``<Error>`` body, recognised by their request."""
    copying = any(k.lower() == "x-amz-copy-source" for k in seen.headers)
    if seen.method == "PUT" and copying:
        return "UploadPartCopy" if "partNumber" in seen.query else "CopyObject"
    if seen.method == "POST" and "uploadId" in seen.query:
        return "CompleteMultipartUpload"
    return ""


def _any(o: Observed, b: Backend) -> bool:
    return True


def _body(o: Observed, b: Backend) -> bool:
    return o.body


def _data(o: Observed, b: Backend) -> bool:
    return o.data


def _lying_200(o: Observed, b: Backend) -> bool:
    return b.name.startswith("s3") and o.s3_op in ("CompleteMultipartUpload", "CopyObject", "UploadPartCopy")


def _ok_error(forward: bool) -> Callable[[Backend], Fault]:
    return lambda b: ok_with_error_body(forward=forward)


SPECS: tuple[Spec, ...] = (
    Spec("reset_before", lambda b: reset_before(), 2, _any),
    Spec("reset_after", lambda b: reset_after(), 2, _any, forwards=True),
    Spec("status_500", lambda b: b.errors["status_500"], 2, _any),
    Spec("status_503", lambda b: b.errors["status_503"], 2, _any),
    Spec("status_429_retry_after", lambda b: b.errors["status_429"], 1, _any),
    Spec("ok_with_error_body", _ok_error(True), 1, _lying_200, forwards=True),
    Spec("ok_with_error_body_unforwarded", _ok_error(False), 1, _lying_200),
    Spec("truncate", lambda b: truncate(-1), 2, _body, forwards=True),
    Spec("flip_byte", lambda b: flip_byte(7), 1, _data, forwards=True),
    Spec("stall", lambda b: stall(1.0, after=1000), 1, _data, forwards=True),
    Spec("status_503_forever", lambda b: b.errors["status_503"], None, _any),
    Spec("flip_byte_forever", lambda b: flip_byte(7), None, _data, forwards=True),
)
#: One fault of each family, for a second server of a protocol (moto after SeaweedFS).
LIGHT = frozenset({"reset_before", "reset_after", "status_503", "truncate", "flip_byte",
                   "ok_with_error_body_unforwarded", "status_503_forever"})  # fmt: skip


@dataclasses.dataclass
class Matrix:
    """Runs scenarios under faults for one backend; collects problems instead of stopping."""

    backend: Backend
    proxy: FaultProxy
    clean: Store  # straight on the server
    faulty: Store  # through the proxy
    ledger: Ledger
    problems: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    runs: int = 0

    async def record(self, scenario: Scenario) -> list[Observed]:
        """Run ``scenario`` once without faults; the kinds of requests it made, in order."""
        start = len(self.proxy.seen)
        sub = f"rec-{scenario.name}/"
        outcome, _ = await self._run(scenario, None, sub)
        if outcome is not None:
            self.problems.append(f"{scenario.name}: fails without any fault: {outcome!r}")
        kinds: dict[RequestKind, Observed] = {}
        for seen in self.proxy.seen[start:]:
            kind = RequestKind.of(seen.info, scenario.tokens)
            data = len(seen.head) >= 16 and any(seen.head[:16] in blob for blob in scenario.datasets)
            body = seen.received > 0
            if (found := kinds.get(kind)) is not None:
                data, body = data or found.data, body or found.body
            kinds[kind] = Observed(kind, body, data, _s3_operation(seen))
        await self._reset(sub)
        return list(kinds.values())

    async def prove(self, scenario: Scenario) -> None:
        """Every applicable fault on every request kind of ``scenario``."""
        specs = [s for s in SPECS if s.label in LIGHT] if self.backend.light else SPECS
        for observed in await self.record(scenario):
            for spec in specs:
                if spec.applies(observed, self.backend):
                    await self.case(scenario, observed, spec)

    async def case(self, scenario: Scenario, observed: Observed, spec: Spec) -> None:
        self.runs += 1
        case = Case(self, scenario, spec, f"{scenario.name} / {observed.kind} / {spec.label}")
        outcome, box = await self._run(scenario, (observed, spec), f"c{self.runs}/")
        self.ledger.outcomes[_outcome(outcome)] += 1
        case.judge(outcome)
        await case.check_state(outcome, self.clean.scoped(box["sub"]))
        await self._reset(box["sub"])

    async def _run(
        self, scenario: Scenario, fault: tuple[Observed, Spec] | None, sub: str
    ) -> tuple[BaseException | None, Box]:
        clean, faulty = self.clean.scoped(sub), self.faulty.scoped(sub)
        box: Box = {"sub": sub}
        for path, data in scenario.initial.items():
            await clean.write(path, data)
        if scenario.setup is not None:
            await scenario.setup(clean, box)
        if fault is not None:
            observed, spec = fault
            self.proxy.add(spec.fault(self.backend), where=observed.kind.matches, times=spec.times)
        outcome: BaseException | None = None
        try:
            await scenario.run(faulty, box)
        except Exception as exc:  # judged later: StorageError, a wrong result, or an SDK error escaping
            outcome = exc
        finally:
            self.proxy.clear()
            self.ledger.operations += 1
        if outcome is not None and scenario.recover is not None:
            await scenario.recover(faulty, box)
        if scenario.teardown is not None:
            await scenario.teardown(clean, box)
        return outcome, box

    async def _reset(self, sub: str) -> None:
        clean = self.clean.scoped(sub)
        await abort_uploads(clean)
        await clean.delete("", recursive=True)

    def report(self) -> str:
        name = self.backend.name
        lines = [f"[{name}] {p}" for p in self.problems] + [f"[{name}] note: {n}" for n in self.notes]
        return "\n".join(lines)


async def prove_all(
    backends: Sequence[Backend],
    ledger: Ledger,
    scenarios: Callable[[Backend], Sequence[Scenario]],
    timeouts: TimeoutOptions,
    transfer: Callable[[Backend], TransferOptions] | None = None,
) -> list[Matrix]:
    """Prove ``scenarios`` on every backend at once (each has its own proxy and work dir)."""

    async def prove(backend: Backend) -> Matrix:
        prefix = f"rel-{uuid.uuid4().hex[:10]}/"
        options = {"timeouts": timeouts} | ({"transfer": transfer(backend)} if transfer else {})
        async with (
            FaultProxy(backend.upstream, seed=1234) as proxy,
            backend.connect(None, prefix) as clean,
            backend.connect(proxy.endpoint, prefix, **options) as faulty,
        ):
            matrix = Matrix(backend, proxy, clean, faulty, ledger)
            try:
                for scenario in scenarios(backend):
                    await matrix.prove(scenario)
            finally:
                await abort_uploads(clean)
                await clean.delete("", recursive=True)
                ledger.absorb(proxy)
        return matrix

    return list(await asyncio.gather(*(prove(backend) for backend in backends)))


def _outcome(outcome: BaseException | None) -> str:
    if outcome is None:
        return "succeeded"
    if isinstance(outcome, AssertionError):
        return "wrong result"
    return "failed with a StorageError" if isinstance(outcome, StorageError) else "failed uncleanly"


@dataclasses.dataclass
class Case:
    """One run of one scenario under one fault on one request kind."""

    matrix: Matrix
    scenario: Scenario
    spec: Spec
    where: str

    def problem(self, text: str) -> None:
        gap = known(self.matrix.backend.name, self.scenario.name, self.spec.label, text)
        if gap is None:
            self.matrix.problems.append(f"{self.where}: {text}")
            return
        self.matrix.ledger.known[gap.id] += 1
        self.matrix.notes.append(f"{self.where}: known gap {gap.id}: {text}")

    def judge(self, outcome: BaseException | None) -> None:
        if isinstance(outcome, AssertionError):
            self.matrix.ledger.wrong += 1
            self.problem(f"wrong result: {outcome}")
        elif outcome is not None and not isinstance(outcome, StorageError):
            self.problem(f"{type(outcome).__module__}.{type(outcome).__name__} escaped: {outcome}")
        elif outcome is None or self.spec.times is None or not self.scenario.idempotent:
            return
        elif self._flip_refused(outcome):
            return  # the reader handed the bad chunk out already; it refuses to end as success
        else:
            self.problem(f"an idempotent call failed on a transient fault: {outcome!r}")

    def _flip_refused(self, outcome: BaseException) -> bool:
        flip = self.spec.label.startswith("flip")
        return flip and isinstance(outcome, IntegrityError) and self.scenario.streaming

    async def check_state(self, outcome: BaseException | None, clean: Store) -> None:
        backend, ledger, scenario = self.matrix.backend, self.matrix.ledger, self.scenario
        failed = outcome is not None and not isinstance(outcome, AssertionError)
        raw = await raw_state(backend, clean)
        if raw.uploads:
            if failed:  # what a failure may leave, found with list_segments as a user would, and aborted
                ledger.orphans += len(raw.uploads)
                self.matrix.notes.append(f"{self.where}: upload a failed call left, aborted: {raw.uploads}")
            else:
                self.problem(f"open uploads left after success: {raw.uploads}")
            await abort_uploads(clean)
            raw = await raw_state(backend, clean)
        if raw.hidden or raw.uploads:
            self.problem(f"partial objects left: {sorted(raw.hidden)} {raw.uploads}")
        allowed = [scenario.expected] if not failed else [scenario.initial, *scenario.in_doubt]
        if failed and (self.spec.forwards or not scenario.idempotent):
            allowed.append(scenario.expected)
        await self._match(clean, raw.committed, allowed)

    async def _match(self, clean: Store, names: frozenset[str], allowed: list[State]) -> None:
        """The bucket must be one of the ``allowed`` states, byte for byte (SHA-256)."""
        same_names = [state for state in allowed if set(state) == names]
        if not same_names:
            self.problem(f"bucket holds {sorted(names)}, allowed {[sorted(s) for s in allowed]}")
            return
        stored = {path: sha(await clean.read(path)) for path in names}
        if any(all(stored[p] == sha(data) for p, data in state.items()) for state in same_names):
            self.matrix.ledger.verified += len(stored)
            return
        self.matrix.ledger.lost += 1
        self.problem("the bucket holds other bytes than any allowed state")

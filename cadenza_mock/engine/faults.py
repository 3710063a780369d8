"""Armed faults and what they do to a request: matching, schedules, token buckets.

Pure decision logic (no aiohttp): the HTTP middleware describes a request with a
`RequestView`, asks `Faults.decide()` and performs the returned `Decision` (sleep, error
envelope, dropped connection, truncated or trickled body). Randomness (probability, delay
ranges) comes from generators seeded by the scenario seed and the fault's position, so
the same scenario and the same request sequence fail the same way on every run.
"""

from __future__ import annotations

import builtins
import fnmatch
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cadenza_mock.contract.errors import RATE_LIMITED, ApiError
from cadenza_mock.contract.model import User
from cadenza_mock.contract.operations import OPERATIONS
from cadenza_mock.engine.auth import bearer_token
from cadenza_mock.engine.journal import redact_body
from cadenza_mock.scenario import fault_spec
from cadenza_mock.scenario.faults import is_glob, unknown_user

# The calls that reach the venue behind Cadenza: where a `venue:` fault without a path acts.
VENUE_PATHS = frozenset(op.path for op in OPERATIONS if op.venue)  # the rows' `venue`


@dataclass(frozen=True, slots=True)
class RequestView:
    """What matching needs to know about a request; headers are looked up case-insensitively."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]  # a case-insensitive mapping (aiohttp's CIMultiDictProxy)

    def bearer(self) -> str | None:
        return bearer_token(self.headers.get("Authorization"))


@dataclass(slots=True)
class Decision:
    """What the middleware does with a request: wait `delay`, then `action` (None: proceed)."""

    delay: float = 0.0
    action: str | None = None
    error: ApiError | None = None  # respond / rate_limit
    chunk_delay: float = 0.0  # slow_body
    chunks: int = 0
    venue_outcome: str | None = None  # venue: what verify or connect meets at the venue
    notes: list[str] = field(default_factory=list)  # "<fault id>:<action>", for the journal

    @property
    def note(self) -> str | None:
        return ", ".join(self.notes) or None


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at_ms: int


class Fault:
    """One armed fault with its counters, generators and token buckets."""

    def __init__(
        self, fault_id: str, spec: fault_spec.FaultSpec, origin: str, seed: int, position: int
    ) -> None:
        self.id = fault_id
        self.spec = spec
        self.origin = origin  # "scenario" or "runtime"
        match = spec.match or fault_spec.Match()
        self.methods = frozenset(match.methods)
        self.path = match.path
        self.path_is_glob = self.path is not None and is_glob(self.path)
        self.query = dict(match.query or ())
        self.user = match.user
        self.token = match.token
        self.headers = match.headers
        self.action = spec.action_name
        self.remaining = spec.times
        self.after = spec.after or 0
        self.probability = spec.probability
        self.matched = 0
        self.fired = 0
        # Separate streams, so adding a delay range does not change which calls fail.
        self._chance = random.Random(f"cadenza-mock:{seed}:{origin}:{position}:probability")
        self._delays = random.Random(f"cadenza-mock:{seed}:{origin}:{position}:delay")
        self._buckets: dict[str, _Bucket] = {}
        limit = spec.action
        self.bucket = limit if isinstance(limit, fault_spec.RateLimit) and limit.requests else None

    @property
    def armed(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def matches(self, request: RequestView, user: Callable[[], User | None]) -> bool:
        if self.methods and request.method not in self.methods:
            return False
        if self.path is None and self.action == "venue" and request.path not in VENUE_PATHS:
            return False  # a venue fault is used up only by calls that reach the venue
        if self.path is not None:
            if self.path_is_glob:
                if not fnmatch.fnmatchcase(request.path, self.path):
                    return False
            elif request.path != self.path:
                return False
        for key, wanted in self.query.items():
            if wanted not in request.query.get(key, ()):
                return False
        for name in self.headers:
            if name not in request.headers:
                return False
        if self.token is not None and request.bearer() != self.token:
            return False
        if self.user is not None:
            who = user()
            if who is None or (self.user != who.user_id and self.user.lower() != who.email.lower()):
                return False
        return True

    def delay_seconds(self) -> float:
        delay = self.spec.delay
        if delay is None:
            return 0.0
        if isinstance(delay, fault_spec.DelayRange):
            return self._delays.uniform(delay.low, delay.high)
        return float(delay)

    def _take(self, key: str, now_ms: int) -> float | None:
        """Take one token from `key`'s bucket; None if taken, else seconds until one is back."""
        assert self.bucket is not None and self.bucket.requests and self.bucket.window
        capacity = float(self.bucket.requests)
        rate = capacity / self.bucket.window  # tokens per second
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, now_ms)
        elapsed = max(0, now_ms - bucket.at_ms) / 1000
        bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
        bucket.at_ms = now_ms
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / rate

    def fires(
        self, request: RequestView, now_ms: int, user: Callable[[], User | None]
    ) -> float | None:
        """Whether this matching request is hit (schedule and bucket applied).

        Returns None when it is not; otherwise the Retry-After seconds for a rate limit
        (0.0 for the other actions).
        """
        self.matched += 1
        if self.matched <= self.after:
            return None
        if self.probability is not None and self._chance.random() >= self.probability:
            return None
        retry = 0.0
        if self.bucket is not None:
            who = user()
            key = who.user_id if who is not None else f"token:{request.bearer() or '-'}"
            wait = self._take(key, now_ms)
            if wait is None:
                return None
            retry = wait
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1
        return retry

    def rate_limit_error(self, retry_seconds: float) -> ApiError:
        limit = self.spec.action
        given = limit.retry_after if isinstance(limit, fault_spec.RateLimit) else None
        retry_after = given if given is not None else max(1, math.ceil(retry_seconds))
        return RATE_LIMITED.error(headers={"Retry-After": str(retry_after)})

    def respond_error(self) -> ApiError:
        respond = self.spec.action
        assert isinstance(respond, fault_spec.Respond)
        return ApiError(
            respond.status,
            respond.errno,
            respond.error,
            code=respond.code,
            headers=dict(respond.headers or ()),
        )

    def to_json(self) -> dict[str, Any]:
        """The fault as the admin API shows it: secrets it matches on (a `token`, an
        `apiSecret` query value) redacted as the journal redacts them."""
        return {
            "id": self.id,
            "origin": self.origin,
            "armed": self.armed,
            "remaining": self.remaining,
            "matched": self.matched,
            "fired": self.fired,
            "fault": redact_body(self.spec.to_json()),
        }


class Faults:
    """The armed faults of one loaded scenario, in evaluation order.

    Scenario faults come first, in file order, then faults armed at run time, in the
    order they were armed. Every matching delay-only fault adds its delay; the first
    matching fault with another action decides the answer, and later faults with an
    action are skipped (not counted). `reset()` re-arms the scenario's faults and forgets
    run-time ones.
    """

    def __init__(self, scenario_faults: Sequence[fault_spec.FaultSpec], seed: int) -> None:
        self._scenario_faults = tuple(scenario_faults)
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        self._faults: list[Fault] = []
        self._runtime_count = 0
        for index, spec in enumerate(self._scenario_faults):
            fault_id = spec.id or f"scenario-{index + 1}"
            self._faults.append(Fault(fault_id, spec, "scenario", self._seed, index))
        self._refresh()

    def _refresh(self) -> None:
        self.armed = any(f.armed for f in self._faults)

    def arm(self, spec: fault_spec.FaultSpec, users: Sequence[User] = ()) -> Fault:
        """Add a run-time fault (a normalized spec from `parse_fault*`).

        ValueError if its id is taken or it names a user the scenario does not have (such
        a fault could never fire, which a test would only notice as a puzzling pass).
        """
        fault_id = spec.id
        wanted = spec.match.user if spec.match is not None else None
        problem = unknown_user(wanted, users) if wanted is not None and users else None
        if problem is not None:
            raise ValueError(f"match.user: {problem}")
        if fault_id is not None and any(f.id == fault_id for f in self._faults):
            raise ValueError(f"a fault with id {fault_id!r} is already armed")
        self._runtime_count += 1
        position = self._runtime_count
        if fault_id is None:
            fault_id = f"runtime-{position}"
            while any(f.id == fault_id for f in self._faults):
                fault_id += "x"
        fault = Fault(fault_id, spec, "runtime", self._seed, position)
        self._faults.append(fault)
        self._refresh()
        return fault

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        self._refresh()
        return len(self._faults) != before

    def clear(self) -> int:
        """Disarm every fault (scenario ones come back on reset); returns how many."""
        count = len(self._faults)
        self._faults = []
        self._refresh()
        return count

    def list(self) -> builtins.list[Fault]:
        return list(self._faults)

    def ids(self) -> builtins.list[str]:
        return [f.id for f in self._faults]

    def decide(
        self, request: RequestView, now_ms: int, user: Callable[[], User | None]
    ) -> Decision | None:
        """What to do with this request, or None to serve it untouched."""
        if not self.armed:
            return None
        resolved: list[User | None] = []

        def who() -> User | None:
            if not resolved:
                resolved.append(user())
            return resolved[0]

        decision: Decision | None = None
        exhausted = False
        for fault in self._faults:
            if not fault.armed:
                continue
            if decision is not None and decision.action is not None and fault.action is not None:
                continue  # the answer is decided; later actions are not even counted
            if not fault.matches(request, who):
                continue
            retry = fault.fires(request, now_ms, who)
            if retry is None:
                continue
            exhausted = exhausted or not fault.armed
            decision = decision or Decision()
            decision.delay += fault.delay_seconds()
            decision.notes.append(f"{fault.id}:{fault.action or 'delay'}")
            if fault.action is None:
                continue
            decision.action = fault.action
            if fault.action == "respond":
                decision.error = fault.respond_error()
            elif fault.action == "rate_limit":
                decision.error = fault.rate_limit_error(retry)
            elif isinstance(fault.spec.action, fault_spec.VenueOutcome):
                decision.venue_outcome = fault.spec.action.outcome
            elif isinstance(fault.spec.action, fault_spec.SlowBody):
                decision.chunk_delay = fault.spec.action.chunk_delay
                decision.chunks = fault.spec.action.chunks
        if exhausted:
            self._refresh()
        return decision

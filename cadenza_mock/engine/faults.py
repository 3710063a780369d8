"""Armed faults and what they do to a request: matching, schedules, token buckets.

Pure decision logic (no aiohttp): a transport (the HTTP middleware, the WebSocket
endpoint) describes a call with a `RequestView` and asks `Faults.decide()`. The firing
fault's action (`scenario/fault_actions/`) performs itself on the returned `Decision`,
which records what the transport then does: sleep, answer an error, drop the connection,
cut or trickle the answer, set the venue's outcome. Randomness (probability, delay
ranges) comes from generators seeded by the scenario seed and the fault's position, so
the same scenario and the same request sequence fail the same way on every run.
"""

from __future__ import annotations

import builtins
import fnmatch
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import User
from cadenza_mock.engine.auth import bearer_token
from cadenza_mock.engine.journal import redact_body
from cadenza_mock.scenario import fault_spec
from cadenza_mock.scenario.fault_actions import transport_of
from cadenza_mock.scenario.fault_actions.venue import venue_calls
from cadenza_mock.scenario.faults import is_glob, unknown_user

__all__ = ["Decision", "Fault", "Faults", "RequestView", "venue_calls"]


@dataclass(frozen=True, slots=True)
class RequestView:
    """What matching needs to know about a request; headers are looked up case-insensitively."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]  # a case-insensitive mapping (aiohttp's CIMultiDictProxy)

    def bearer(self) -> str | None:
        return bearer_token(self.headers.get("Authorization"))

    @property
    def transport(self) -> str:
        """http, upgrade or rpc (see `fault_actions.TRANSPORTS`)."""
        return transport_of(self.method, self.path)


@dataclass(slots=True)
class Decision:
    """What a transport does with a call: wait `delay`, then what the firing action asked
    for through the `fault_actions.Call` methods below (nothing: serve it as usual)."""

    delay: float = 0.0
    action: str | None = None  # the key of the action that fired (the observer reads it)
    error: ApiError | None = None  # answer this instead of serving the call
    dropped: bool = False  # no answer: the connection goes
    close: tuple[int, str] | None = None  # ... with this WebSocket close frame
    venue_outcome: str | None = None  # what verify or connect meets at the venue
    cut_answer: bool = False  # the real answer, cut in half
    chunk_delay: float = 0.0  # the real answer trickled out in `chunks` pieces
    chunks: int = 0
    notes: list[str] = field(default_factory=list)  # "<fault id>:<action>", for the journal

    @property
    def note(self) -> str | None:
        return ", ".join(self.notes) or None

    def fail(self, error: ApiError) -> None:
        self.error = error

    def drop(self, close: tuple[int, str] | None = None) -> None:
        self.dropped, self.close = True, close

    def venue(self, outcome: str) -> None:
        self.venue_outcome = outcome

    def cut(self) -> None:
        self.cut_answer = True

    def trickle(self, chunk_delay: float, chunks: int) -> None:
        self.chunk_delay, self.chunks = chunk_delay, chunks


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
        self._memory: dict[str, Any] = {}  # the action's own (a token bucket's buckets)

    @property
    def armed(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def matches(self, request: RequestView, user: Callable[[], User | None]) -> bool:
        if self.methods and request.method not in self.methods:
            return False
        action = self.spec.action
        if action is not None and not action.applies(
            request.transport, request.path, self.path is not None
        ):
            return False  # not counted: e.g. a venue fault is used up only at the venue
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

    def fires(
        self, request: RequestView, now_ms: int, user: Callable[[], User | None]
    ) -> float | None:
        """Whether this matching request is hit (schedule and bucket applied).

        Returns None when it is not; otherwise what the action's `admit` said (the
        Retry-After seconds of a rate limit, 0.0 for the other actions).
        """
        self.matched += 1
        if self.matched <= self.after:
            return None
        if self.probability is not None and self._chance.random() >= self.probability:
            return None
        retry = 0.0
        if self.spec.action is not None:

            def caller() -> str:
                who = user()
                return who.user_id if who is not None else f"token:{request.bearer() or '-'}"

            found = self.spec.action.admit(self._memory, caller, now_ms)
            if found is None:
                return None
            retry = found
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1
        return retry

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
            assert fault.spec.action is not None
            fault.spec.action.perform(decision, retry)
        if exhausted:
            self._refresh()
        return decision

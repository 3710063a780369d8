"""Many isolated mocks in one server: namespaces, each a whole `MockState` of its own.

A shared container serves a CI job's xdist workers, or a staging stack's services, without
one test seeing another's data. The code under test needs no change: it is given either
the namespace's base URL (`/__ns/<name>`, where the scenario's tokens work as they are),
or tokens that select the namespace on any URL: the scenario's static tokens prefixed
with "<name>.", and whatever the namespace issues (login, refresh: salted with its name
and its incarnation, so no two namespaces ever issue one token, not even one created again
under the name of a deleted one). The admin API takes a path prefix or the
X-Cadenza-Mock-Namespace header. The bound on their number, the budget of records they
may hold together and the idle expiry keep a long-running server's memory bounded whatever
its clients forget to delete (or ask for: a 110-byte `generate: 200000` body).
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cadenza_mock.contract import options
from cadenza_mock.contract.bounds import NAME_PATTERN as NAME_PATTERN
from cadenza_mock.contract.errors import (
    INVALID_ARGUMENT,
    NAMESPACE_EXISTS,
    NAMESPACE_NOT_FOUND,
    RECORD_BUDGET,
    TOO_MANY_NAMESPACES,
)

if TYPE_CHECKING:  # the CLI reads the defaults below without building any state
    from cadenza_mock.engine.state import MockState, ScenarioSource
    from cadenza_mock.scenario import Scenario

# The server's own state: reachable by this name too (admin prefix, header).
DEFAULT_NAMESPACE = "default"
# The bounds' defaults are ServerOptions' (`--max-namespaces` and friends).
DEFAULT_LIMIT = options.DEFAULT_MAX_NAMESPACES
DEFAULT_IDLE_SECONDS = options.DEFAULT_NAMESPACE_IDLE
DEFAULT_RECORD_BUDGET = options.DEFAULT_MAX_RECORDS
_REMEMBERED_TOKENS = 4096
# Lower-case letters, digits and dashes: safe in a URL path, a header and a token prefix,
# and never the start of a JWT (those begin "eyJ").


@dataclass(slots=True)
class Namespace:
    """One isolated mock and when it was last used (for idle expiry)."""

    name: str
    state: MockState
    created_at_ms: int  # on its own mock clock, like every other time the mock shows
    last_used: float  # monotonic seconds (idle expiry is real time)
    requests: int = field(default=0)
    # Uses under way (requests in flight, open WebSocket connections and journal streams),
    # counted by the transport through `Namespaces.hold`: a busy namespace is never idle.
    busy: int = field(default=0)

    def touch(self, now: float) -> None:
        self.last_used = now
        self.requests += 1

    @property
    def records(self) -> int:
        """What the namespace's scenario built, as the record budget counts it."""
        from cadenza_mock.scenario.declared import built_records

        return built_records(self.state.scenario)


class Namespaces:
    """The namespaces of one server, besides its default state."""

    def __init__(
        self,
        default: MockState,
        *,
        limit: int = DEFAULT_LIMIT,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        max_records: int = DEFAULT_RECORD_BUDGET,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 0:
            raise ValueError("the namespace limit cannot be negative")
        if idle_seconds <= 0:
            raise ValueError("the idle expiry must be positive")
        if max_records < 0:
            raise ValueError("the record budget cannot be negative")
        self.default = default
        self.limit = limit
        self.idle_seconds = idle_seconds
        self.max_records = max_records
        self._monotonic = monotonic
        self._spaces: dict[str, Namespace] = {}
        # Namespaces created so far: each one's number salts the tokens it issues.
        self._incarnations = 0
        # Issued token -> the namespace found to hold it: a client's next calls with it
        # cost one lookup, not one per namespace. Checked again on every use.
        self._issued_by: dict[str, str] = {}
        # Told of a dropped namespace (the WebSocket layer lets go of its hub).
        self.on_drop: list[Callable[[Namespace], None]] = []
        # Told of each use of a namespace (a request, a WebSocket connect): the transport
        # holds it busy (`hold`) for as long as that use lasts.
        self.on_use: list[Callable[[Namespace], None]] = []

    def __len__(self) -> int:
        return len(self._spaces)

    def __iter__(self) -> Iterator[Namespace]:
        return iter(list(self._spaces.values()))

    def create(
        self, source: ScenarioSource, *, name: str | None = None, text: bool = False
    ) -> Namespace:
        """A new namespace on `source` (confined like the admin API's scenario load).

        ApiError if the name is malformed or taken, the bound is reached once idle
        namespaces are gone, or the scenario does not fit the record budget; ScenarioError
        if the scenario is bad (nothing is created). Not thread-safe: call it on the
        server's loop (requests look namespaces up there). The admin API runs the same
        three steps with the middle one, the slow one, in a worker thread.
        """
        name, incarnation, room = self.reserve(name)
        return self.add(self.build(source, name, incarnation, room, text=text))

    def reserve(self, name: str | None) -> tuple[str, int, int]:
        """(name, incarnation, records left) for a namespace to `build`, or ApiError
        unless one called `name` (None: a fresh name) can be created now."""
        self.check_room(name)
        self._incarnations += 1
        return name or self._fresh_name(), self._incarnations, self.records_left()

    def build(
        self,
        source: ScenarioSource,
        name: str,
        incarnation: int,
        room: int,
        *,
        text: bool = False,
    ) -> MockState:
        """The state of a namespace to be, on `source`; safe off the server's loop (it
        reads nothing that requests change). ApiError if the scenario declares, or
        builds, more than `room` records; ScenarioError if it is bad."""
        from cadenza_mock.engine.state import MockState

        default = self.default
        scenario = self.parse_within(default, source, room, text=text)
        return MockState(
            scenario,
            profile=default.profile_override,
            seed=default.seed_override,
            journal_limit=default.journal.limit,
            scenario_dirs=default.confinement.roots,
            namespace=name,
            incarnation=incarnation,
        )

    def parse_within(
        self,
        state: MockState,
        source: ScenarioSource,
        room: int,
        *,
        text: bool = False,
        confined: bool = True,
    ) -> Scenario:
        """`state.parse(source)` if the scenario fits `room` records: what it declares is
        checked first (refusing is instant), what it built after. Safe off the loop."""
        from cadenza_mock.scenario.declared import built_records, declared_records

        where = state.confinement if confined else None
        self.check_budget(declared_records(source, text=text, confined=where), room)
        scenario = state.parse(source, confined=confined, text=text)
        self.check_budget(built_records(scenario), room)
        return scenario

    def add(self, state: MockState) -> Namespace:
        """Serve a state `build` made as the namespace it was built for; ApiError if the
        name was taken, the bound reached or the budget spent meanwhile."""
        name = state.namespace
        assert name is not None, "a namespace's state is built with its name"
        self.check_room(name)
        from cadenza_mock.scenario.declared import built_records

        self.check_budget(built_records(state.scenario), self.records_left())
        space = Namespace(name, state, state.clock.now_ms(), self._monotonic())
        self._spaces[name] = space
        return space

    def check_room(self, name: str | None) -> None:
        """ApiError unless a namespace called `name` (None: a fresh name) can be created
        now; idle namespaces expire first."""
        self.expire()
        if name is not None:
            check_name(name)
            if name == DEFAULT_NAMESPACE or name in self._spaces:
                raise NAMESPACE_EXISTS.error(f"namespace {name!r}")
        if len(self._spaces) >= self.limit:
            raise TOO_MANY_NAMESPACES.error(
                f"{self.limit} namespaces exist (the server's --max-namespaces); delete "
                "one or wait for an idle one to expire",
                headers=self._retry_after(),
            )

    def records_left(self, replacing: MockState | None = None) -> int:
        """Records the budget still has room for (`replacing`: not counting that
        namespace's, which a load is about to replace). On the loop."""
        used = sum(s.records for s in self._spaces.values() if s.state is not replacing)
        return max(0, self.max_records - used)

    def check_budget(self, records: int, room: int) -> None:
        """ApiError 429 naming the budget unless `records` fit in `room`."""
        if records > room:
            used = self.max_records - room
            raise RECORD_BUDGET.error(
                f"the scenario holds {records:,} records (credentials, trading accounts and "
                f"their history) and the namespaces {used:,} already, over the server's "
                f"budget of {self.max_records:,} (--max-records); delete a namespace or "
                "load a smaller scenario",
                headers=self._retry_after(),
            )

    def _retry_after(self) -> dict[str, str]:
        """The Retry-After of a 429 at a bound: seconds until an idle namespace may
        expire (the next chance of room, unless one is deleted first)."""
        now = self._monotonic()
        spaces = list(self._spaces.values())  # one step: safe from a worker thread too
        waits = [s.last_used + self.idle_seconds - now for s in spaces if not s.busy]
        return {"Retry-After": str(max(1, math.ceil(min(waits, default=self.idle_seconds))))}

    def _fresh_name(self) -> str:
        while True:
            name = f"ns-{secrets.token_hex(4)}"
            if name not in self._spaces:
                return name

    def get(self, name: str) -> Namespace:
        """The live namespace called `name`; ApiError 404 if there is none (any more)."""
        space = self._spaces.get(name)
        if space is None or self._idle(space, self._monotonic()):
            if space is not None:
                self._drop(space)
            raise NAMESPACE_NOT_FOUND.error(
                f"{name[:60]!r} (it never existed, was deleted, or expired after "
                f"{self.idle_seconds:g} s idle)"
            )
        return space

    def state_named(self, name: str) -> MockState:
        """The state a namespace name selects; the default name selects the server's."""
        if name == DEFAULT_NAMESPACE:
            return self.default
        check_name(name)  # a malformed name is a 400, not an unknown namespace's 404
        return self._use(self.get(name), self._monotonic())

    def drop(self, name: str) -> Namespace:
        """Delete a namespace: its connections end, its tokens are unknown from now on."""
        if name == DEFAULT_NAMESPACE:
            raise INVALID_ARGUMENT.error(
                "namespace: the default namespace is the server's own and cannot be deleted"
            )
        check_name(name)
        space = self.get(name)
        self._drop(space)
        return space

    def hold(self, space: Namespace) -> Callable[[], None]:
        """Mark `space` in use until the returned function is called (once is enough):
        never idle meanwhile, last used when it ends."""
        space.busy += 1
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                space.busy -= 1
                space.last_used = self._monotonic()

        return release

    def _use(self, space: Namespace, now: float) -> MockState:
        space.touch(now)
        for listener in self.on_use:
            listener(space)
        return space.state

    def _drop(self, space: Namespace) -> None:
        if self._spaces.pop(space.name, None) is None:
            return
        for listener in self.on_drop:
            listener(space)
        space.state.retire()

    def _idle(self, space: Namespace, now: float) -> bool:
        return not space.busy and now - space.last_used > self.idle_seconds

    def expire(self) -> list[str]:
        """Drop namespaces idle for longer than the expiry; their names."""
        now = self._monotonic()
        gone = [space for space in self._spaces.values() if self._idle(space, now)]
        for space in gone:
            self._drop(space)
        return [space.name for space in gone]

    def for_token(self, token: str) -> MockState | None:
        """The namespace state a bearer token belongs to; None: the default's (or nobody's).

        The server's own tokens are known at once; a static token names its namespace
        before the first dot; an issued one (a JWT) is found in the namespace remembered for
        it, else looked up in each namespace's sessions (bounded by the namespace limit).
        """
        space = self.owner_of(token)
        return None if space is None else self._used(space)

    def owner_of(self, token: str) -> Namespace | None:
        """The namespace a bearer token selects (idle or not), without counting a use:
        `for_token`'s lookup, which the list fast path (http/fast_path.py) shares."""
        if not self._spaces:
            return None
        # The server's own tokens first, even one that looks prefixed ("ci.alice").
        if self.default.store.lookup_token(token) is not None:
            return None
        prefix, dot, _ = token.partition(".")
        if dot:
            # Its prefixed static tokens and every token it issues start "<name>.": no
            # other namespace's do. A stale one (issued before the name was deleted and
            # created again) is nobody's.
            space = self._spaces.get(prefix)
            if space is not None:
                return space if space.state.store.lookup_token(token) is not None else None
        owner = self._spaces.get(self._issued_by.get(token, ""))
        if owner is not None and owner.state.store.sessions.lookup(token) is not None:
            return owner
        for space in self._spaces.values():
            if space.state.store.sessions.lookup(token) is not None:
                if len(self._issued_by) >= _REMEMBERED_TOKENS:
                    self._issued_by.clear()
                self._issued_by[token] = space.name
                return space
        return None

    def live(self, space: Namespace | None) -> bool:
        """Whether `space` is served (not dropped, not idle past the expiry); reads only."""
        return (
            space is not None
            and self._spaces.get(space.name) is space
            and not self._idle(space, self._monotonic())
        )

    def touch(self, space: Namespace) -> None:
        """Count a use of `space` answered at once (no request task to hold it busy)."""
        space.touch(self._monotonic())

    def named(self, name: str) -> Namespace | None:
        """The namespace called `name`, if any (live or not); reads only."""
        return self._spaces.get(name)

    def for_refresh_token(self, refresh_token: str) -> MockState | None:
        """The namespace state that issued a refresh token; None if none did."""
        if self.default.store.sessions.knows_refresh_token(refresh_token):
            return None
        for space in self._spaces.values():
            if space.state.store.sessions.knows_refresh_token(refresh_token):
                return self._used(space)
        return None

    def _used(self, space: Namespace) -> MockState | None:
        now = self._monotonic()
        if self._idle(space, now):
            self._drop(space)
            return None
        return self._use(space, now)


def check_name(name: str) -> None:
    """ApiError 400 unless `name` can name a namespace."""
    if not NAME_PATTERN.fullmatch(name):
        raise INVALID_ARGUMENT.error(
            f"namespace: {name[:60]!r} is not a namespace name (1 to 40 lower-case letters, "
            "digits and dashes, starting and ending with a letter or digit)"
        )

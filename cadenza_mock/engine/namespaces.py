"""Many isolated mocks in one server: namespaces, each a whole `MockState` of its own.

A shared container serves a CI job's xdist workers, or a staging stack's services, without
one test seeing another's data. The code under test needs no change: it is given either
the namespace's base URL (`/__ns/<name>`, where the scenario's tokens work as they are),
or tokens that select the namespace on any URL: the scenario's static tokens prefixed
with "<name>.", and whatever the namespace issues (login, refresh: salted with its name,
so no two namespaces ever issue one token). The admin API takes a path prefix or the
X-Cadenza-Mock-Namespace header. The bound on their number and the idle expiry keep a
long-running server's memory bounded whatever its clients forget to delete.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cadenza_mock.errors import (
    INVALID_ARGUMENT,
    NAMESPACE_EXISTS,
    NAMESPACE_NOT_FOUND,
    TOO_MANY_NAMESPACES,
)

if TYPE_CHECKING:  # the CLI reads the defaults below without building any state
    from cadenza_mock.engine.state import MockState, ScenarioSource

# The server's own state: reachable by this name too (admin prefix, header).
DEFAULT_NAMESPACE = "default"
DEFAULT_LIMIT = 64
DEFAULT_IDLE_SECONDS = 1800.0
_REMEMBERED_TOKENS = 4096
# Lower-case letters, digits and dashes: safe in a URL path, a header and a token prefix,
# and never the start of a JWT (those begin "eyJ").
NAME_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")


@dataclass(slots=True)
class Namespace:
    """One isolated mock and when it was last used (for idle expiry)."""

    name: str
    state: MockState
    created_at_ms: int  # on its own mock clock, like every other time the mock shows
    last_used: float  # monotonic seconds (idle expiry is real time)
    requests: int = field(default=0)

    def touch(self, now: float) -> None:
        self.last_used = now
        self.requests += 1


class Namespaces:
    """The namespaces of one server, besides its default state."""

    def __init__(
        self,
        default: MockState,
        *,
        limit: int = DEFAULT_LIMIT,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 0:
            raise ValueError("the namespace limit cannot be negative")
        if idle_seconds <= 0:
            raise ValueError("the idle expiry must be positive")
        self.default = default
        self.limit = limit
        self.idle_seconds = idle_seconds
        self._monotonic = monotonic
        self._spaces: dict[str, Namespace] = {}
        # Issued token -> the namespace found to hold it: a client's next calls with it
        # cost one lookup, not one per namespace. Checked again on every use.
        self._issued_by: dict[str, str] = {}
        # Told of a dropped namespace (the WebSocket layer lets go of its hub).
        self.on_drop: list[Callable[[Namespace], None]] = []

    def __len__(self) -> int:
        return len(self._spaces)

    def __iter__(self) -> Iterator[Namespace]:
        return iter(list(self._spaces.values()))

    def create(
        self, source: ScenarioSource, *, name: str | None = None, text: bool = False
    ) -> Namespace:
        """A new namespace on `source` (confined like the admin API's scenario load).

        ApiError if the name is malformed or taken, or the bound is reached once idle
        namespaces are gone; ScenarioError if the scenario is bad (nothing is created).
        Not thread-safe: call it on the server's loop (requests look namespaces up there).
        """
        self.check_room(name)
        name = name or self._fresh_name()
        from cadenza_mock.engine.state import MockState

        default = self.default
        scenario = default.parse(source, confined=True, text=text)
        state = MockState(
            scenario,
            profile=default.profile_override,
            seed=default.seed_override,
            journal_limit=default.journal.limit,
            scenario_dirs=default.confinement.roots,
            namespace=name,
        )
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
                "one or wait for an idle one to expire"
            )

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
        space = self.get(name)
        space.touch(self._monotonic())
        return space.state

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

    def _drop(self, space: Namespace) -> None:
        if self._spaces.pop(space.name, None) is None:
            return
        for listener in self.on_drop:
            listener(space)
        space.state.retire()

    def _idle(self, space: Namespace, now: float) -> bool:
        return now - space.last_used > self.idle_seconds

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
        if not self._spaces:
            return None
        # The server's own tokens first, even one that looks prefixed ("ci.alice"): the
        # list fast path answers those from the server's own state, so must everything.
        if self.default.store.lookup_token(token) is not None:
            return None
        prefix, dot, _ = token.partition(".")
        if dot:
            space = self._spaces.get(prefix)
            if space is not None:
                return self._used(space)
        owner = self._spaces.get(self._issued_by.get(token, ""))
        if owner is not None and owner.state.store.sessions.lookup(token) is not None:
            return self._used(owner)
        for space in self._spaces.values():
            if space.state.store.sessions.lookup(token) is not None:
                if len(self._issued_by) >= _REMEMBERED_TOKENS:
                    self._issued_by.clear()
                self._issued_by[token] = space.name
                return self._used(space)
        return None

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
        space.touch(now)
        return space.state


def check_name(name: str) -> None:
    """ApiError 400 unless `name` can name a namespace."""
    if not NAME_PATTERN.fullmatch(name):
        raise INVALID_ARGUMENT.error(
            f"namespace: {name[:60]!r} is not a namespace name (1 to 40 lower-case letters, "
            "digits and dashes, starting and ending with a letter or digit)"
        )

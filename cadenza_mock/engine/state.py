"""Everything one running mock holds: scenario, store, clock, journal.

Every entry point (HTTP app, threaded server, pytest plugin, admin API) goes through one
`MockState`, so load and reset mean the same thing everywhere.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from cadenza_mock.contract.model import Credential
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.faults import Faults
from cadenza_mock.engine.journal import Journal
from cadenza_mock.engine.store import Store
from cadenza_mock.engine.stubs import Stubs
from cadenza_mock.engine.subscriptions import ChannelEvent
from cadenza_mock.scenario import Confinement, Scenario, load_scenario, load_scenario_text

ScenarioSource = str | Path | Mapping[str, Any] | Scenario
# What a load switches to: built by `prepare()` (off the loop if need be), used by `install()`.
Prepared = tuple[Scenario, Clock, Store, Faults]
# Snapshots kept per load; taking one more forgets the oldest.
MAX_SNAPSHOTS = 64
_Parts = tuple[Clock, Store, Faults]


class MockState:
    """The live mock. `load()` swaps the scenario only once the new one validated."""

    def __init__(
        self,
        scenario: ScenarioSource = "default",
        *,
        profile: str | None = None,
        seed: int | None = None,
        journal_limit: int = 1000,
        scenario_dirs: Iterable[str | Path] | None = None,
        namespace: str | None = None,
        incarnation: int = 0,
    ) -> None:
        # A namespace's state (see engine.namespaces) also takes its scenario's static
        # tokens prefixed with "<namespace>.", and salts the tokens it issues with its name
        # and `incarnation` (one number per namespace created): such tokens select the
        # namespace, and one created again under the same name never issues the old tokens.
        self.namespace = namespace
        self.incarnation = incarnation
        self.retired = False  # set by retire(): a dropped namespace takes nothing new
        self.profile_override = profile
        self.seed_override = seed
        self.journal = Journal(journal_limit)
        self.scenario = self._scenario(scenario)
        # What the admin API may load: bundled names, and files in these folders (by
        # default the folder the scenario was read from; none for a dict or text).
        loaded_from = self.scenario.source
        self.confinement = Confinement.of(
            scenario_dirs
            if scenario_dirs is not None
            else ([Path(loaded_from).parent] if loaded_from else [])
        )
        # What other transports (the WebSocket hub) hear of: a load or reset, a token ended
        # by logout, a credential changed by any transport.
        self.on_reset: list[Callable[[], None]] = []
        self.on_logout: list[Callable[[str], None]] = []
        self.on_credential_change: list[Callable[[Credential], None]] = []
        # What the trading account channels carry (engine.subscriptions decides).
        self.on_channel_event: list[Callable[[ChannelEvent], None]] = []
        self.clock = Clock(self.scenario.now)
        self.store = self._store(self.scenario, self.clock)
        self.faults = Faults(self.scenario.faults, self.scenario.seed)
        # A test's ad-hoc answers (engine/stubs.py): cleared by every load and reset.
        self.stubs = Stubs()
        # Bumped by every load and reset: a request that began before one must not leave
        # any trace (journal entry, state change) in what comes after it.
        self.generation = 0
        # Snapshot id -> copies of (clock, store, faults); a load forgets them all.
        self._snapshots: dict[str, _Parts] = {}
        self._snapshots_taken = 0

    def parse(
        self, source: ScenarioSource, *, confined: bool = False, text: bool = False
    ) -> Scenario:
        """Validate a scenario without switching to it; safe off the server's loop.

        `confined`: the source came from outside the process (the admin API), so it may
        only read bundled scenarios and files in the scenario folders. `text`: a str
        source is YAML text (a request body), not a name or path.
        """
        if text and isinstance(source, str):
            return load_scenario_text(
                source,
                profile=self.profile_override,
                seed=self.seed_override,
                confined=self.confinement if confined else None,
            )
        if confined and not isinstance(source, Scenario):
            return load_scenario(
                source,
                profile=self.profile_override,
                seed=self.seed_override,
                confined=self.confinement,
            )
        return self._scenario(source)

    def _scenario(self, source: ScenarioSource) -> Scenario:
        # A Scenario already built with these overrides is reused as is: the plugin caches
        # loaded scenarios so switching back to one never re-parses its YAML.
        if (
            isinstance(source, Scenario)
            and self.profile_override in (None, source.profile)
            and self.seed_override in (None, source.seed)
        ):
            return self._own_tokens(source)
        if isinstance(source, Scenario):
            source = source.origin()
        loaded = load_scenario(source, profile=self.profile_override, seed=self.seed_override)
        return self._own_tokens(loaded)

    def _own_tokens(self, scenario: Scenario) -> Scenario:
        """A namespace's scenario: each static token works as is (through the namespace's
        base URL or header) and as "<namespace>.<token>" (which selects the namespace on
        any URL)."""
        if self.namespace is None:
            return scenario
        prefix = f"{self.namespace}."

        def own(tokens: tuple[str, ...]) -> tuple[str, ...]:
            plain = [t for t in tokens if not t.startswith(prefix)]
            return tuple(dict.fromkeys([*plain, *(prefix + t for t in plain), *tokens]))

        users = tuple(
            dataclasses.replace(u, tokens=own(u.tokens), expired_tokens=own(u.expired_tokens))
            for u in scenario.users
        )
        return dataclasses.replace(scenario, users=users)

    def _store(self, scenario: Scenario, clock: Clock) -> Store:
        return Store(
            scenario,
            clock,
            on_change=self._credential_changed,
            on_event=self._channel_event,
            namespace=f"{self.namespace}#{self.incarnation}" if self.namespace else "",
        )

    def load(self, source: ScenarioSource) -> Scenario:
        """Validate and switch; on ScenarioError the current scenario stays untouched."""
        return self.install(self.prepare(source))

    def prepare(self, source: ScenarioSource) -> Prepared:
        """What a load of `source` switches to, built without touching what serves now:
        safe off the server's loop (a large scenario's store builds in a worker thread)."""
        scenario = self._scenario(source)
        clock = Clock(scenario.now)
        return scenario, clock, self._store(scenario, clock), Faults(scenario.faults, scenario.seed)

    def install(self, prepared: Prepared) -> Scenario:
        """Switch to what `prepare()` built (on the loop: requests read the state)."""
        scenario, self.clock, self.store, self.faults = prepared
        self.generation += 1
        self.scenario = scenario
        self.journal.restart()
        self.stubs.clear()
        self._snapshots.clear()
        self._announce_reset()
        return scenario

    def snapshot(self) -> str:
        """Remember the data, clock and faults as they are now; return the snapshot's id.

        The journal is not part of it: it keeps recording what happened. Cheap at any
        size: the scenario's own records are shared, only what requests changed is copied.
        """
        self._snapshots_taken += 1
        snapshot_id = f"snapshot-{self._snapshots_taken}"
        if len(self._snapshots) >= MAX_SNAPSHOTS:
            del self._snapshots[next(iter(self._snapshots))]
        self._snapshots[snapshot_id] = self._copy((self.clock, self.store, self.faults))
        return snapshot_id

    def rollback(self, snapshot_id: str) -> None:
        """Back to a snapshot of this load (it stays usable); KeyError if there is none.
        Like a reset, it ends WebSocket connections and requests in flight leave no trace."""
        parts = self._snapshots[snapshot_id]
        self.generation += 1
        self.clock, self.store, self.faults = self._copy(parts)
        self._announce_reset()

    @property
    def snapshot_ids(self) -> list[str]:
        return list(self._snapshots)

    @staticmethod
    def _copy(parts: _Parts) -> _Parts:
        store = parts[1]
        memo: dict[int, Any] = {id(shared): shared for shared in store.shared_parts()}
        return copy.deepcopy(parts, memo)

    def reset(self) -> None:
        """Pristine state of the loaded scenario: data, clock, journal, faults (the
        scenario's re-armed, run-time ones cleared) and stubs (cleared)."""
        self.generation += 1
        self.store.reset()
        self.clock.reset()
        self.faults.reset()
        self.stubs.clear()
        self.journal.restart()
        self._announce_reset()

    def retire(self) -> None:
        """This state is dropped (a namespace deleted or expired): its WebSocket
        connections end and requests in flight leave no trace."""
        self.generation += 1
        self.retired = True
        self._snapshots.clear()
        self._announce_reset()

    def _announce_reset(self) -> None:
        for listener in self.on_reset:
            listener()

    def logged_out(self, token: str) -> None:
        """A token ended by /auth/logout: its WebSocket connections end too."""
        for listener in self.on_logout:
            listener(token)

    def _credential_changed(self, cred: Credential) -> None:
        for listener in self.on_credential_change:
            listener(cred)

    def _channel_event(self, event: ChannelEvent) -> None:
        for listener in self.on_channel_event:
            listener(event)

"""What a test holds: the API shared by the in-process `MockServer` and the `RemoteMock`.

The pytest fixture hands out either one, so everything a test touches (tokens, journal
assertions, switching scenarios) is written once here and behaves the same locally and
against a container. Loaded scenarios are cached per source, so a suite that moves between
a few scenarios parses each YAML file once. No aiohttp import: remote mode does not need it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cadenza_mock.engine.journal import JournalEntry
from cadenza_mock.model import User
from cadenza_mock.scenario import Scenario, is_bundled_name, load_scenario
from cadenza_mock.scenario.faults import delay_spec, fail_spec

SourceLike = str | Path | Mapping[str, Any] | Scenario


def source_key(source: SourceLike) -> Hashable:
    """Identity of a scenario source: equal keys load equal scenarios."""
    if isinstance(source, Scenario):
        return ("object", id(source))
    if isinstance(source, Mapping):
        return ("inline", json.dumps(source, sort_keys=True, default=repr))
    if isinstance(source, str) and is_bundled_name(source):
        return ("name", source)
    path = Path(source).expanduser().resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = None  # loading will report the missing file
    # The mtime makes an edited file a new source, so a long session sees the edit.
    return ("path", str(path), mtime)


def describe_source(source: SourceLike) -> str:
    """A short human name for messages: the bundled name, the path, or `<inline>`."""
    if isinstance(source, Scenario):
        return source.name
    if isinstance(source, Mapping):
        return "<inline>"
    return str(source)


class ScenarioCache:
    """Validated scenarios by source, built with one set of profile/seed overrides."""

    def __init__(self, *, profile: str | None = None, seed: int | None = None) -> None:
        self.profile = profile
        self.seed = seed
        self._loaded: dict[Hashable, Scenario] = {}

    def get(self, source: SourceLike) -> Scenario:
        """The scenario for `source`, parsed on first use; ScenarioError if it is invalid."""
        if isinstance(source, Scenario):
            if self.profile in (None, source.profile) and self.seed in (None, source.seed):
                return source
            source = source.origin()
        key = source_key(source)
        scenario = self._loaded.get(key)
        if scenario is None:
            scenario = load_scenario(source, profile=self.profile, seed=self.seed)
            self._loaded[key] = scenario
        return scenario

    def __len__(self) -> int:
        return len(self._loaded)


class MockHandle(ABC):
    """The fixture API: url, token, auth_headers, users, load/reset/use, journal asserts."""

    _current_key: Hashable | None = None
    # X-Admin-Token for /__admin/ calls a test makes itself (e.g. arming a fault); None if open.
    admin_token: str | None = None

    # ----------------------------------------------------------------- provided by subclasses

    @abstractmethod
    def start(self) -> Self:
        """Make the mock reachable (start a server, or check a remote one answers)."""

    @abstractmethod
    def stop(self) -> None:
        """Release what `start()` took; safe to call twice."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    @abstractmethod
    def url(self) -> str:
        """Base URL of the emulated API, e.g. `http://127.0.0.1:54321`."""

    @property
    def ws_url(self) -> str:
        """The WebSocket API (Centrifugo protocol), e.g. `ws://127.0.0.1:54321/connection/websocket`."""
        scheme, rest = self.url.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/connection/websocket"

    @property
    @abstractmethod
    def users(self) -> list[User]:
        """The loaded scenario's users, with their static tokens."""

    @property
    @abstractmethod
    def profile(self) -> str:
        """The wire profile being served: `docs` or `sdk`."""

    @abstractmethod
    def load(self, scenario: SourceLike) -> Scenario:
        """Switch scenario (bundled name, path or dict); a bad one raises and changes nothing."""

    @abstractmethod
    def reset(self) -> None:
        """Back to the loaded scenario's pristine state; the journal is cleared too."""

    @property
    @abstractmethod
    def requests(self) -> list[JournalEntry]:
        """Requests answered since the last reset, oldest first, secrets redacted."""

    @abstractmethod
    def clear_requests(self) -> None:
        """Empty the journal without touching data."""

    @abstractmethod
    def add_fault(self, spec: Mapping[str, Any]) -> str:
        """Arm a fault written like an entry of a scenario's `faults:` list; return its id."""

    @abstractmethod
    def remove_fault(self, fault_id: str) -> None:
        """Disarm one fault by id."""

    @abstractmethod
    def clear_faults(self) -> None:
        """Disarm every fault, the scenario's included (they come back on `reset()`)."""

    @property
    @abstractmethod
    def faults(self) -> list[dict[str, Any]]:
        """Every armed fault with its counters, as `GET /__admin/faults` lists them."""

    @abstractmethod
    def advance(self, seconds: float) -> int:
        """Move the mock's clock forward without sleeping; return the new time in ms."""

    @property
    @abstractmethod
    def now_ms(self) -> int:
        """The mock's clock, in ms since the epoch (frozen by the scenario's `now`)."""

    @abstractmethod
    def credentials(self, user: str | None = None) -> list[dict[str, Any]]:
        """Stored credentials (of one user, by id or email), secrets excluded."""

    @abstractmethod
    def trading_accounts(self, user: str | None = None) -> list[dict[str, Any]]:
        """Stored trading accounts (of one user, by id or email), createdAt then id, as
        `GET /__admin/trading-accounts` lists them."""

    def check_handler_errors(self) -> None:
        """Raise the first unexpected error a request handler hit (no-op when unknowable)."""
        return None

    def clear_handler_errors(self) -> None:
        """Forget handler errors collected so far."""
        return None

    # ----------------------------------------------------------------- shared behaviour

    def credential(self, credential_id: str) -> dict[str, Any]:
        """One stored credential as tests inspect it: wire fields, revokedAt, keysValid."""
        records = self.credentials()
        for record in records:
            if record["credentialId"].lower() == credential_id.lower():
                return record
        raise KeyError(f"no credential {credential_id!r} among the {len(records)} stored")

    def trading_account(self, trading_account_id: str) -> dict[str, Any]:
        """One stored trading account as tests inspect it: status, credentialIds,
        disconnectedAt (the id matched case-insensitively, as the API does)."""
        records = self.trading_accounts()
        for record in records:
            if record["tradingAccountId"].lower() == trading_account_id.lower():
                return record
        raise KeyError(f"no trading account {trading_account_id!r} among the {len(records)} stored")

    def fail_next(
        self,
        status: int = 500,
        errno: int | None = None,
        error: str | None = None,
        *,
        path: str | None = None,
        method: str | None = None,
        times: int | None = 1,
    ) -> str:
        """Answer the next `times` matching calls (None: all) with this error envelope."""
        return self.add_fault(
            fail_spec(status, errno, error, path=path, method=method, times=times)
        )

    def delay_next(
        self,
        seconds: float | tuple[float, float],
        *,
        path: str | None = None,
        method: str | None = None,
        times: int | None = 1,
    ) -> str:
        """Hold the next `times` matching calls back `seconds` (or a seeded (min, max) draw)."""
        return self.add_fault(delay_spec(seconds, path=path, method=method, times=times))

    def use(self, scenario: SourceLike) -> None:
        """Pristine state of `scenario`: reset when it is already loaded, load it otherwise.

        The pytest fixture calls this before each test, so a test that loaded another
        scenario does not leak it into the next one.
        """
        if source_key(scenario) == self._current_key:
            self.reset()
        else:
            self.load(scenario)

    @property
    def token(self) -> str:
        """First valid bearer token of the scenario's first user that has one."""
        for user in self.users:
            if user.tokens:
                return user.tokens[0]
        raise LookupError("the loaded scenario has no user with a valid token")

    @property
    def auth_headers(self) -> dict[str, str]:
        """`{"Authorization": "Bearer <token>"}` for `token`."""
        return {"Authorization": f"Bearer {self.token}"}

    def headers_for(self, user: str) -> dict[str, str]:
        """Auth headers of the user with this email or id."""
        for candidate in self.users:
            if user in (candidate.email, candidate.user_id) and candidate.tokens:
                return {"Authorization": f"Bearer {candidate.tokens[0]}"}
        raise LookupError(f"no user {user!r} with a valid token in the loaded scenario")

    def calls(self, path: str | None = None, *, method: str | None = None) -> list[JournalEntry]:
        """Journal entries for `path` (and `method`), oldest first; all of them without."""
        return [
            entry
            for entry in self.requests
            if (path is None or entry.path == path)
            and (method is None or entry.method == method.upper())
        ]

    def assert_called(
        self, path: str, *, method: str | None = None, times: int | None = None
    ) -> list[JournalEntry]:
        """Assert `path` was requested (exactly `times` times, if given); return the calls."""
        entries = self.requests
        found = [
            e for e in entries if e.path == path and (method is None or e.method == method.upper())
        ]
        what = f"{method.upper() + ' ' if method else ''}{path}"
        if times is None and not found:
            raise AssertionError(f"{what} was never requested; requests: {summarize(entries)}")
        if times is not None and len(found) != times:
            raise AssertionError(
                f"{what} was requested {len(found)} time(s), expected {times}; "
                f"requests: {summarize(entries)}"
            )
        return found

    def assert_not_called(self, path: str, *, method: str | None = None) -> None:
        """Assert `path` was never requested (with `method`, if given)."""
        self.assert_called(path, method=method, times=0)


def summarize(entries: list[JournalEntry]) -> str:
    """`GET /path -> 200, ...`: enough to see what happened, never a header or a body."""
    if not entries:
        return "none"
    return ", ".join(f"{e.method} {e.path} -> {e.status}" for e in entries)

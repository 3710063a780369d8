"""What a test holds: the API shared by the in-process `MockServer` and the `RemoteMock`.

The pytest fixture hands out either one, so everything a test touches (tokens, journal
assertions, switching scenarios) is written once here and behaves the same locally and
against a container. Loaded scenarios are cached per source (testing/scenario_cache.py);
journal filters and failure messages live in testing/journal_match.py. No aiohttp import:
remote mode does not need it.
"""

from __future__ import annotations

import ssl
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cadenza_mock.contract.model import User
from cadenza_mock.engine.journal import JournalEntry
from cadenza_mock.scenario import Scenario
from cadenza_mock.scenario.faults import (
    delay_spec,
    drop_spec,
    fail_spec,
    malformed_spec,
    rate_limit_spec,
)
from cadenza_mock.testing.comforts import HandleComforts
from cadenza_mock.testing.fault_checks import armed_by

# Re-exported: these names were importable from here before the split.
from cadenza_mock.testing.journal_match import JOURNAL_METHODS as JOURNAL_METHODS
from cadenza_mock.testing.journal_match import SUMMARY_LIMIT as SUMMARY_LIMIT
from cadenza_mock.testing.journal_match import WS_METHODS as WS_METHODS
from cadenza_mock.testing.journal_match import CallFilter as CallFilter
from cadenza_mock.testing.journal_match import QueryLike as QueryLike
from cadenza_mock.testing.journal_match import _describe_unknown as _describe_unknown
from cadenza_mock.testing.journal_match import _unknown as _unknown
from cadenza_mock.testing.journal_match import json_contains as json_contains
from cadenza_mock.testing.journal_match import summarize as summarize
from cadenza_mock.testing.scenario_cache import ScenarioCache as ScenarioCache
from cadenza_mock.testing.scenario_cache import SourceLike as SourceLike
from cadenza_mock.testing.scenario_cache import describe_source as describe_source
from cadenza_mock.testing.scenario_cache import source_key as source_key
from cadenza_mock.testing.stubs import StubsHandle
from cadenza_mock.testing.venue_handle import VenueBehaviorHandle


class MockHandle(HandleComforts, StubsHandle, VenueBehaviorHandle, ABC):
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
    def ca_bundle(self) -> Path | None:
        """The CA certificate (PEM) that verifies an HTTPS mock (`tls=True`); None over plain
        HTTP or with your own certificate: `requests.get(..., verify=mock.ca_bundle)`."""
        return None

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """A client SSL context trusting `ca_bundle` (httpx `verify=`, aiohttp `ssl=`);
        None over plain HTTP."""
        return None

    @property
    def ws_url(self) -> str:
        """The WebSocket API (Centrifugo protocol), e.g. `ws://127.0.0.1:54321/connection/websocket`."""
        scheme, rest = self.url.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/connection/websocket"

    def url_for(self, path: str) -> str:
        """`url` + `path` (a leading slash added if missing): `requests.get(mock.url_for(LIST))`."""
        if not isinstance(path, str):
            raise TypeError(f"url_for takes a path like '/api/v3/credential/list', got {path!r}")
        if path.startswith(("http://", "https://")):
            raise ValueError(f"url_for takes a path, not a URL: {path!r}")
        return self.url + (path if path.startswith("/") else "/" + path)

    @property
    @abstractmethod
    def scenario(self) -> Scenario:
        """The loaded scenario (validated, with its users and pristine credentials)."""

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
        """Back to the loaded scenario's pristine state; the journal is emptied too and
        numbers its next entry 1, as after a load."""

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
    def snapshot(self) -> str:
        """Remember the data, clock and faults as they are now (not the journal); return an
        id for `rollback()`. A scenario load forgets every snapshot."""

    @abstractmethod
    def rollback(self, snapshot: str) -> None:
        """Back to `snapshot()`'s state; the snapshot stays usable. KeyError (RemoteError
        for a remote mock) if it is unknown."""

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

    @abstractmethod
    def orders(
        self, user: str | None = None, trading_account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every trade order (of one user, by id or email, or one account), oldest first,
        as `GET /__admin/orders` lists them (the document's tradeOrder)."""

    @abstractmethod
    def portfolio(self, trading_account_id: str) -> dict[str, Any]:
        """One trading account's portfolio (the document's portfolio: balances, positions,
        summary), as `GET /__admin/portfolios/{id}` shows it. KeyError for an unknown
        account (RemoteError for a remote mock)."""

    @abstractmethod
    def _market(self, instrument_id: str | None = None, price: str | None = None) -> Any:
        """The market's state (`GET /__admin/market`), after setting a price when given."""

    @abstractmethod
    def _market_control(self, name: str, body: dict[str, Any]) -> Any:
        """Apply a market control (`POST /__admin/market/<name>`); the market's state."""

    @property
    def market(self) -> MarketControl:
        """The market's controls: `mock.market.set_price("BINANCE:BTC/USDT", "60000")`,
        `set_book`, `halt`, `resume`, `gap`, `venue_data`, `state()`."""
        return MarketControl(self)

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
            armed_by(
                "fail_next", fail_spec(status, errno, error, path=path, method=method, times=times)
            )
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
        spec = delay_spec(seconds, path=path, method=method, times=times)
        return self.add_fault(armed_by("delay_next", spec))

    def drop_next(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        times: int | None = 1,
    ) -> str:
        """Close the next `times` matching calls' connections unanswered (None: all), as a
        flaky network does: the client sees a reset, the journal status 0."""
        return self.add_fault(
            armed_by("drop_next", drop_spec(path=path, method=method, times=times))
        )

    def rate_limit_next(
        self,
        retry_after: int | None = None,
        *,
        path: str | None = None,
        method: str | None = None,
        times: int | None = 1,
    ) -> str:
        """Answer the next `times` matching calls 429 with `Retry-After` (`retry_after`
        seconds, default 1): what a client's back-off code must handle."""
        spec = rate_limit_spec(retry_after, path=path, method=method, times=times)
        return self.add_fault(armed_by("rate_limit_next", spec))

    def malformed_next(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        times: int | None = 1,
    ) -> str:
        """Answer the next `times` matching calls with the real answer's body cut in half
        (same status): what a client's JSON error handling must survive."""
        spec = malformed_spec(path=path, method=method, times=times)
        return self.add_fault(armed_by("malformed_next", spec))

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

    def calls(
        self,
        path: str | None = None,
        *,
        method: str | None = None,
        query: QueryLike | None = None,
        json: Any = None,
        wait: bool | float = False,
    ) -> list[JournalEntry]:
        """Journal entries matching every filter given, oldest first; all without filters.

        `path` is exact or a glob (`/api/v3/credential/*`) as in a fault's `match.path`,
        `query` a subset of the query parameters, `json` a subset of the JSON body
        (dicts at any depth match as subsets, other values must be equal). `wait=True`
        (or seconds) first waits for the requests still in flight, as `wait_idle()`.
        """
        wanted = CallFilter("calls", path, method=method, query=query, json=json)
        self._wait_for_journal("calls", wait)
        return [entry for entry in self.requests if wanted.matches(entry)]

    @property
    def last_call(self) -> JournalEntry:
        """The newest journal entry; LookupError when nothing was requested since the reset."""
        entries = self.requests
        if not entries:
            raise LookupError(
                f"no request reached cadenza-mock at {self.url} since the last reset "
                "(last_call has nothing to show)"
            )
        return entries[-1]

    def assert_called(
        self,
        path: str | None = None,
        *,
        method: str | None = None,
        query: QueryLike | None = None,
        json: Any = None,
        times: int | None = None,
        wait: bool | float = False,
    ) -> list[JournalEntry]:
        """Assert a matching request was made (exactly `times` times, if given); return the
        matching calls. Filters and `wait` as in `calls()`; the failure lists what was
        requested."""
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise TypeError(f"times must be an int or None, got {times!r}")
        if times is not None and times < 0:
            raise ValueError(f"times must be 0 or more, got {times!r}")
        wanted = CallFilter("assert_called", path, method=method, query=query, json=json)
        self._wait_for_journal("assert_called", wait)
        entries = self.requests
        found = [entry for entry in entries if wanted.matches(entry)]
        what = wanted.describe()
        bodies = json is not None
        if times is None and not found:
            raise AssertionError(
                f"{what} was never requested; requests: {summarize(entries, bodies=bodies)}"
            )
        if times is not None and len(found) != times:
            raise AssertionError(
                f"{what} was requested {len(found)} time(s), expected {times}; "
                f"{self._journal_cap_note(entries, times)}"
                f"requests: {summarize(entries, bodies=bodies)}"
            )
        return found

    def assert_not_called(
        self,
        path: str | None = None,
        *,
        method: str | None = None,
        query: QueryLike | None = None,
        json: Any = None,
        wait: bool | float = False,
    ) -> None:
        """Assert no request matched (filters and `wait` as in `calls()`)."""
        self.assert_called(path, method=method, query=query, json=json, times=0, wait=wait)

    def unknown_requests(self) -> list[JournalEntry]:
        """Requests the real API would not understand: an unknown route or method (404/405
        not caused by an armed fault), or any with near-miss hints. Strict mode fails a
        test that made one."""
        return [entry for entry in self.requests if _unknown(entry)]

    def assert_no_unknown_requests(self) -> None:
        """Fail listing every request of `unknown_requests()` (what strict mode runs)."""
        unknown = self.unknown_requests()
        if unknown:
            lines = "\n".join(f"  {_describe_unknown(entry)}" for entry in unknown)
            raise AssertionError(
                f"cadenza-mock strict mode: {len(unknown)} request(s) the Cadenza API does "
                f"not know:\n{lines}"
            )


class MarketControl:
    """`mock.market`: the market of the handle's mock (its namespace, for a remote one)."""

    def __init__(self, mock: MockHandle) -> None:
        self._mock = mock

    def state(self) -> dict[str, Any]:
        """Its origin, the clock and each instrument's parameters and prices now, as
        `GET /__admin/market` shows them."""
        found: dict[str, Any] = self._mock._market()
        return found

    def set_price(self, instrument_id: str, price: str | int | Decimal) -> dict[str, Any]:
        """Set an instrument's price now (rounded to its tick); the walk goes on from it.
        Answers the market's state. KeyError for an unknown instrument, ValueError for a
        price that is not a decimal > 0 (RemoteError for a remote mock)."""
        found: dict[str, Any] = self._mock._market(instrument_id, str(price))
        return found

    def set_book(
        self,
        instrument_id: str,
        bids: Sequence[tuple[object, object]],
        asks: Sequence[tuple[object, object]],
    ) -> dict[str, Any]:
        """Set the instrument's whole book: (price, quantity) levels, best first, on its
        tick and lot grid, not crossed. The price moves to the book's mid; the book stays
        until a price is set, a gap, another book or a reset. ValueError (a bad book),
        KeyError (an unknown instrument); RemoteError for a remote mock."""
        levels = {
            side: [[str(p), str(q)] for p, q in given]
            for side, given in (("bids", bids), ("asks", asks))
        }
        return self._control("book", {"instrumentId": instrument_id, **levels})

    def halt(self, instrument_id: str) -> dict[str, Any]:
        """Halt the instrument: price, book and ticker freeze; its status reads INACTIVE."""
        return self._control("halt", {"instrumentId": instrument_id})

    def resume(self, instrument_id: str) -> dict[str, Any]:
        """End a halt: the walk goes on from the halted price."""
        return self._control("resume", {"instrumentId": instrument_id})

    def gap(
        self,
        instrument_id: str,
        *,
        price: str | int | Decimal | None = None,
        percent: str | int | Decimal | None = None,
        at_ms: int | None = None,
    ) -> dict[str, Any]:
        """The price jumps at an instant (now, or a later `at_ms` of the mock clock) to
        `price`, or by `percent` (-10: a tenth down); the walk goes on from there."""
        body: dict[str, Any] = {"instrumentId": instrument_id}
        if price is not None:
            body["price"] = str(price)
        if percent is not None:
            body["percent"] = str(percent)
        if at_ms is not None:
            body["at"] = at_ms
        return self._control("gap", body)

    def venue_data(self, venue: str, data: str) -> dict[str, Any]:
        """A venue's market data: "stale" (timestamps and prices stop where they are),
        "unavailable" (its reads answer 503 -18012) or "live" again."""
        return self._control("venue", {"venue": venue, "data": data})

    def _control(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = self._mock._market_control(name, body)
        return found

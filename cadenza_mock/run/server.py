"""Running the app on a socket in a thread (`MockServer`, which the pytest plugin wraps);
the foreground `cadenza-mock serve` is `cadenza_mock.run.foreground`.

The threaded server owns its own event loop, so a test's own loop (pytest-asyncio,
pytest-aiohttp) never blocks it, and state changes from the test thread are marshalled
onto that loop so a request never sees a half-applied reset or load.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Self, TypeVar

from aiohttp import web

from cadenza_mock.contract import wire
from cadenza_mock.contract.model import User
from cadenza_mock.contract.options import DEFAULT_MARKET_INTERVAL, ServerOptions
from cadenza_mock.engine.accounts import account_sort_key
from cadenza_mock.engine.journal import JournalEntry
from cadenza_mock.engine.state import MockState
from cadenza_mock.engine.stubs import StubSpec
from cadenza_mock.http.app import make_app
from cadenza_mock.http.guard import BrowserGuard
from cadenza_mock.http.keys import DEFAULT_READ_TIMEOUT
from cadenza_mock.http.runner import SHUTDOWN_TIMEOUT, MockRunner, display_host
from cadenza_mock.run.state_file import StateFile
from cadenza_mock.run.tls import setup as tls_setup
from cadenza_mock.scenario import Scenario
from cadenza_mock.scenario.faults import parse_fault_dict
from cadenza_mock.testing.handle import MockHandle, ScenarioCache, SourceLike, source_key

log = logging.getLogger("cadenza_mock")
T = TypeVar("T")


class MockServer(MockHandle):
    """The mock in a background thread: `with MockServer(scenario="revoked") as mock:`.

    Usable without pytest (scripts, notebooks, other runners); the pytest fixture is this
    object. Port 0 (the default) picks a free port, read back into `port` and `url`.
    `state_file=PATH` keeps the state in a file as `serve --state-file` does: locked and
    restored here (StateFileError for a bad file, left as it is, or one another server
    holds), written on change while running and at `stop()`, which lets the lock go.
    `allow_origins`, `allow_hosts`: as `serve --allow-origin/--allow-host` (a browser app
    under test calling the mock). `fast_path=False`: as `serve --no-fast-path`.
    `market_interval`: as `serve --market-interval`.
    """

    def __init__(
        self,
        scenario: SourceLike = "default",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        profile: str | None = None,
        seed: int | None = None,
        journal_limit: int = 1000,
        admin_token: str | None = None,
        scenario_dirs: Sequence[str | Path] | None = None,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        scenario_cache: ScenarioCache | None = None,
        hints: bool = True,
        tls: bool = False,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        tls_ca_file: str | Path | None = None,
        state_file: str | Path | None = None,
        allow_origins: Sequence[str] = (),
        allow_hosts: Sequence[str] = (),
        fast_path: bool = True,
        market_interval: float = DEFAULT_MARKET_INTERVAL,
        upstream: str | None = None,
    ) -> None:
        # Checked now (ValueError in the caller for a bad value), as `serve` checks its flags.
        self.options = ServerOptions(
            host=host,
            port=port,
            profile=profile,
            seed=seed,
            journal_size=journal_limit,
            admin_token=admin_token,
            scenario_dirs=None if scenario_dirs is None else tuple(scenario_dirs),
            read_timeout=read_timeout,
            hints=hints,
            fast_path=fast_path,
            tls=tls,
            tls_cert=tls_cert,
            tls_key=tls_key,
            tls_ca_file=tls_ca_file,
            state_file=state_file,
            allow_origins=tuple(allow_origins),
            allow_hosts=tuple(allow_hosts),
            market_interval=market_interval,
            upstream=upstream,
        )
        self.scenarios = scenario_cache or ScenarioCache(profile=profile, seed=seed)
        if (self.scenarios.profile, self.scenarios.seed) != (profile, seed):
            raise ValueError(
                f"scenario_cache was built for profile={self.scenarios.profile!r} "
                f"seed={self.scenarios.seed!r}, not profile={profile!r} seed={seed!r}"
            )
        # Build state now so a bad scenario fails in the caller, with its own traceback.
        # The admin API may load files from `scenario_dirs` (default: the folder of a
        # scenario given as a file), bundled scenarios, and nothing else.
        self.state = MockState(
            self.scenarios.get(scenario),
            profile=profile,
            seed=seed,
            journal_limit=journal_limit,
            scenario_dirs=scenario_dirs,
        )
        self._current_key = source_key(scenario)
        self.state_file = StateFile.open(self.state, state_file) if state_file else None
        self.host = host
        self.port = port
        self.admin_token = admin_token
        self.read_timeout = read_timeout
        self.hints = hints
        self.fast_path = fast_path
        # Web pages allowed to call the mock (checked now: OriginError in the caller).
        self.guard = BrowserGuard.from_options(allow_origins, allow_hosts, host)
        # HTTPS (and WSS): a certificate for localhost made now, or the caller's files.
        self.tls = tls_setup(tls, tls_cert, tls_key, tls_ca_file)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._handler_errors: list[tuple[str, BaseException]] = []

    # ----------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns once the port is listening."""
        if self.running:
            raise RuntimeError(f"MockServer is already running at {self.url}")
        if self.state_file is not None:  # let go by stop(): StateFileError if taken since
            self.state_file.lock.acquire()
        self._ready.clear()
        self._startup_error = None
        self._thread = threading.Thread(target=self._run, name="cadenza-mock", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise self._startup_error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._start_site())
        except BaseException as exc:  # reported to the thread that called start()
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
            if self.state_file is not None:
                loop.run_until_complete(self.state_file.close())
            loop.close()

    async def _start_site(self) -> None:
        app = make_app(
            state=self.state,
            options=self.options.replace(
                allow_origins=self.guard.allow_origins, allow_hosts=self.guard.allow_hosts
            ),
            on_handler_error=self._record_handler_error,
        )
        runner = MockRunner(
            app,
            header_timeout=self.read_timeout,
            fast_path=self.fast_path,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        context = self.tls.server_context if self.tls else None
        site = web.TCPSite(runner, self.host, self.port, ssl_context=context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        if self.state_file is not None:
            self.state_file.start()

    def _record_handler_error(self, where: str, exc: BaseException) -> None:
        """A crash the client saw as a 500, kept for `check_handler_errors()`."""
        self._handler_errors.append((where, exc))

    def stop(self) -> None:
        """Stop serving and join the thread; a no-op when not running."""
        if not self.running or self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = None
        self._loop = None

    def _call(self, function: Callable[[], T]) -> T:
        """Run `function` on the server's loop, between requests, and return its result."""
        if self._loop is None or not self.running:
            return function()

        async def run() -> T:
            return function()

        future: Future[T] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result()

    # ----------------------------------------------------------------- what tests use

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{display_host(self.host)}:{self.port}"

    @property
    def ca_bundle(self) -> Path | None:
        return self.tls.ca_bundle if self.tls else None

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        return self.tls.client_context() if self.tls else None

    @property
    def scenario(self) -> Scenario:
        """The loaded scenario (validated, with its users and pristine credentials)."""
        return self.state.scenario

    @property
    def users(self) -> list[User]:
        return list(self.state.scenario.users)

    @property
    def profile(self) -> str:
        return self.state.scenario.profile

    def load(self, scenario: SourceLike) -> Scenario:
        loaded = self.scenarios.get(scenario)  # ScenarioError here leaves everything as it was
        result = self._call(lambda: self.state.load(loaded))
        self._current_key = source_key(scenario)
        return result

    def reset(self) -> None:
        self._call(self.state.reset)

    @property
    def requests(self) -> list[JournalEntry]:
        return self._call(self.state.journal.entries)

    def clear_requests(self) -> None:
        self._call(self.state.journal.clear)

    def _in_flight_after(self, timeout: float) -> int:
        if self._loop is None or not self.running:
            return self.state.journal.in_flight
        journal = self.state.journal

        async def wait() -> int:
            await journal.wait_idle(timeout)
            return journal.in_flight

        return asyncio.run_coroutine_threadsafe(wait(), self._loop).result(timeout + 5)

    @property
    def journal_size(self) -> int | None:
        return self.state.journal.limit

    def _set_clock(self, at_ms: int | None, frozen: bool | None) -> int:
        def place() -> int:
            clock = self.state.clock
            return clock.set_now(clock.now_ms() if at_ms is None else at_ms, frozen=frozen)

        return self._call(place)

    def check_handler_errors(self) -> None:
        """Re-raise, in the caller's thread, the first crash a request handler hit.

        The client only saw a 500; this makes the test that caused it fail with the cause.
        """
        if not self._handler_errors:
            return
        errors, self._handler_errors = self._handler_errors, []
        where, first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise HandlerError(
            f"cadenza-mock crashed answering {where}{more}: {type(first).__name__}: {first}"
        ) from first

    def clear_handler_errors(self) -> None:
        self._handler_errors = []

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<MockServer {self.url} scenario={self.scenario.name!r} {state}>"

    # ----------------------------------------------------------------- faults

    def add_fault(self, spec: Mapping[str, Any]) -> str:
        """Arm a fault written like an entry of a scenario's `faults:` list; return its id.

        A bad spec raises ScenarioError naming the key and arms nothing. Run-time faults
        are cleared by `reset()` (so by the fixture between tests); scenario ones re-armed.
        """
        normalized = parse_fault_dict(spec, "add_fault")
        users = self.state.scenario.users
        return self._call(lambda: self.state.faults.arm(normalized, users)).id

    def remove_fault(self, fault_id: str) -> None:
        """Disarm one fault by id; KeyError if there is none."""
        if not self._call(lambda: self.state.faults.remove(fault_id)):
            raise KeyError(f"no fault {fault_id!r} (faults: {self.state.faults.ids()})")

    def clear_faults(self) -> None:
        """Disarm every fault, the scenario's included (they come back on `reset()`)."""
        self._call(self.state.faults.clear)

    # ----------------------------------------------------------------- stubs

    def _add_stub(self, spec: dict[str, Any], parsed: StubSpec) -> str:
        return self._call(lambda: self.state.stubs.add(parsed)).id

    def remove_stub(self, stub_id: str) -> None:
        """Remove one stub by id; KeyError if there is none."""
        if not self._call(lambda: self.state.stubs.remove(stub_id)):
            raise KeyError(f"no stub {stub_id!r} (stubs: {self.state.stubs.ids()})")

    def clear_stubs(self) -> None:
        self._call(self.state.stubs.clear)

    @property
    def stubs(self) -> list[dict[str, Any]]:
        return self._call(lambda: [stub.to_json() for stub in self.state.stubs.list()])

    def snapshot(self) -> str:
        return self._call(self.state.snapshot)

    def rollback(self, snapshot: str) -> None:
        def restore() -> None:
            try:
                self.state.rollback(snapshot)
            except KeyError:
                known = ", ".join(self.state.snapshot_ids) or "none since the last load"
                raise KeyError(f"no snapshot {snapshot!r} (snapshots: {known})") from None

        self._call(restore)

    @property
    def faults(self) -> list[dict[str, Any]]:
        """Every fault with its counters, as `GET /__admin/faults` lists them."""
        return self._call(lambda: [fault.to_json() for fault in self.state.faults.list()])

    def advance(self, seconds: float) -> int:
        return self._call(lambda: self.state.clock.advance(seconds))

    @property
    def now_ms(self) -> int:
        return self._call(self.state.clock.now_ms)

    def credentials(self, user: str | None = None) -> list[dict[str, Any]]:
        def collect() -> list[dict[str, Any]]:
            store = self.state.store
            keep = self.state.scenario.mask_keep
            return [
                wire.credential_inspect(cred, keep)
                for cred in store.all_credentials()
                if user is None or user in (cred.user_id, store.users[cred.user_id].email)
            ]

        return self._call(collect)

    def trading_accounts(self, user: str | None = None) -> list[dict[str, Any]]:
        def collect() -> list[dict[str, Any]]:
            store = self.state.store
            accounts = store.accounts
            return [
                wire.account_inspect(account, accounts.enums)
                for account in sorted(accounts.all(), key=account_sort_key)
                if user is None or user in (account.user_id, store.users[account.user_id].email)
            ]

        return self._call(collect)

    def orders(
        self, user: str | None = None, trading_account_id: str | None = None
    ) -> list[dict[str, Any]]:
        from cadenza_mock.engine.trading_query import inspect_orders

        return self._call(
            lambda: inspect_orders(self.state.store.trading, user, trading_account_id)
        )

    def portfolio(self, trading_account_id: str) -> dict[str, Any]:
        from cadenza_mock.engine.trading_query import inspect_portfolio

        found = self._call(lambda: inspect_portfolio(self.state.store.trading, trading_account_id))
        if found is None:
            raise KeyError(f"no trading account {trading_account_id!r}")
        return found

    def _market(self, instrument_id: str | None = None, price: str | None = None) -> Any:
        from cadenza_mock.contract.errors import ApiError
        from cadenza_mock.engine.market import parse_price

        def act() -> Any:
            market = self.state.store.market
            if instrument_id is not None:
                try:
                    spec = market.instrument(instrument_id)
                except ApiError:
                    raise KeyError(f"no instrument {instrument_id!r}") from None
                try:
                    parsed = parse_price(price)
                except ApiError as exc:
                    raise ValueError(exc.message) from None
                market.set_price(spec, parsed)
                market.moved()
            return market.state()

        return self._call(act)

    def _venue_behavior(
        self, body: dict[str, Any] | None, trading_account_id: str | None = None
    ) -> Any:
        from cadenza_mock.contract.errors import ApiError
        from cadenza_mock.engine import venue_control

        def act() -> Any:
            trading = self.state.store.trading
            try:
                if body is None:
                    return venue_control.listed(trading, trading_account_id)
                return venue_control.apply(trading, body)
            except ApiError as exc:
                raise (KeyError if exc.status == 404 else ValueError)(exc.message) from None

        return self._call(act)

    def _market_control(self, name: str, body: dict[str, Any]) -> Any:
        from cadenza_mock.contract.errors import ApiError
        from cadenza_mock.engine.market_control import apply

        def act() -> Any:
            market = self.state.store.market
            try:
                apply(market, name, body)
            except ApiError as exc:
                raise (KeyError if exc.status == 404 else ValueError)(exc.message) from None
            return market.state()

        return self._call(act)


class HandlerError(RuntimeError):
    """A request handler raised an unexpected exception (the client got a 500)."""

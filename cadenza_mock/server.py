"""Running the app on a socket: in the foreground (`cadenza-mock serve`) or in a thread
(`MockServer`, which the pytest plugin wraps).

The threaded server owns its own event loop, so a test's own loop (pytest-asyncio,
pytest-aiohttp) never blocks it, and state changes from the test thread are marshalled
onto that loop so a request never sees a half-applied reset or load.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from cadenza_mock import __version__
from cadenza_mock.engine.journal import JournalEntry
from cadenza_mock.engine.state import MockState, ScenarioSource
from cadenza_mock.errors import ScenarioError
from cadenza_mock.http.app import AccessLogger, make_app
from cadenza_mock.model import User
from cadenza_mock.scenario import Scenario

log = logging.getLogger("cadenza_mock")
access_log = logging.getLogger("cadenza_mock.access")
T = TypeVar("T")

# Connections still open at shutdown get this long: SIGTERM must end the process in ~1 s.
SHUTDOWN_TIMEOUT = 0.5
WATCH_INTERVAL = 0.5


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def banner(state: MockState, url: str) -> str:
    scenario = state.scenario
    lines = [
        f"cadenza-mock {__version__} serving scenario {scenario.name!r} "
        f"({scenario.profile} profile, {len(scenario.credentials)} credentials) on {url}",
    ]
    for user in scenario.users:
        token = user.tokens[0] if user.tokens else "(no valid token)"
        lines.append(f"  user   {user.email}  token {token}")
    if scenario.token:
        auth = f"-H 'Authorization: Bearer {scenario.token}'"
        lines.append(f"  try    curl {auth} {url}/api/v3/credential/list")
    lines.append(f"  admin  {url}/__admin/health  (reset, scenario, requests: see README)")
    return "\n".join(lines)


def _watched_file(state: MockState) -> Path | None:
    source = state.scenario.source
    return Path(source) if source else None


async def watch_scenario(state: MockState, interval: float = WATCH_INTERVAL) -> None:
    """Reload the scenario file when its mtime changes; a broken edit keeps the old one."""
    path = _watched_file(state)
    if path is None:
        log.warning("--watch: scenario %r is not a file; nothing to watch", state.scenario.name)
        return
    last = path.stat().st_mtime_ns
    while True:
        await asyncio.sleep(interval)
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue  # editors replace files; it reappears
        if mtime == last:
            continue
        last = mtime
        try:
            state.load(path)
        except ScenarioError as exc:
            log.error("scenario %s not reloaded, the previous one keeps serving:\n%s", path, exc)
        else:
            log.info("scenario %s reloaded (state reset)", path)


async def _serve(
    app: web.Application, host: str, port: int, *, watch: bool, quiet: bool, admin_token: str | None
) -> int:
    from cadenza_mock.http.keys import STATE

    state = app[STATE]
    runner = web.AppRunner(
        app,
        access_log_class=AccessLogger,
        access_log=None if quiet else access_log,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"cadenza-mock: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
    bound_port = runner.addresses[0][1]
    url = f"http://{_display_host(host)}:{bound_port}"
    print(banner(state, url), flush=True)
    if not _is_loopback(host) and not admin_token:
        log.warning(
            "serving on %s without --admin-token: anyone who can reach this port can reset "
            "or replace the scenario through /__admin/",
            host,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    watcher = asyncio.create_task(watch_scenario(state)) if watch else None
    try:
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await runner.cleanup()
    log.info("cadenza-mock stopped")
    return 0


def serve_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    scenario: ScenarioSource = "default",
    seed: int | None = None,
    profile: str | None = None,
    watch: bool = False,
    admin_token: str | None = None,
    journal_size: int = 1000,
    quiet: bool = False,
) -> int:
    """`cadenza-mock serve`: run until SIGINT/SIGTERM; the exit code says why it stopped."""
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        state = MockState(scenario, profile=profile, seed=seed, journal_limit=journal_size)
    except ScenarioError as exc:
        print(f"cadenza-mock: scenario {scenario!s} is invalid:\n{exc}", file=sys.stderr)
        return 2
    app = make_app(state=state, admin_token=admin_token)
    return asyncio.run(_serve(app, host, port, watch=watch, quiet=quiet, admin_token=admin_token))


class MockServer:
    """The mock in a background thread: `with MockServer(scenario="revoked") as mock:`.

    Usable without pytest (scripts, notebooks, other runners); the pytest fixture is this
    object. Port 0 (the default) picks a free port, read back into `url`.
    """

    def __init__(
        self,
        scenario: ScenarioSource = "default",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        profile: str | None = None,
        seed: int | None = None,
        journal_limit: int = 1000,
        admin_token: str | None = None,
    ) -> None:
        # Build state now so a bad scenario fails in the caller, with its own traceback.
        self.state = MockState(scenario, profile=profile, seed=seed, journal_limit=journal_limit)
        self.host = host
        self.port = port
        self.admin_token = admin_token
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        if self.running:
            raise RuntimeError(f"MockServer is already running at {self.url}")
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
            loop.close()

    async def _start_site(self) -> None:
        app = make_app(state=self.state, admin_token=self.admin_token)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    def stop(self) -> None:
        if not self.running or self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

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
        return f"http://{_display_host(self.host)}:{self.port}"

    @property
    def scenario(self) -> Scenario:
        return self.state.scenario

    @property
    def users(self) -> list[User]:
        return list(self.state.scenario.users)

    @property
    def token(self) -> str:
        token = self.state.scenario.token
        if token is None:
            raise LookupError(f"scenario {self.scenario.name!r} has no user with a valid token")
        return token

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def headers_for(self, user: str) -> dict[str, str]:
        """Auth headers of the user with this email or id."""
        for candidate in self.state.scenario.users:
            if user in (candidate.email, candidate.user_id) and candidate.tokens:
                return {"Authorization": f"Bearer {candidate.tokens[0]}"}
        raise LookupError(f"no user {user!r} with a valid token in scenario {self.scenario.name!r}")

    def load(self, scenario: ScenarioSource | Mapping[str, Any]) -> Scenario:
        """Switch scenario (bundled name, path or dict); a bad one raises and changes nothing."""
        return self._call(lambda: self.state.load(scenario))

    def reset(self) -> None:
        """Back to the loaded scenario's pristine state; the journal is cleared too."""
        self._call(self.state.reset)

    @property
    def requests(self) -> list[JournalEntry]:
        """Requests answered since the last reset, oldest first, secrets redacted."""
        return self._call(self.state.journal.entries)

    def clear_requests(self) -> None:
        self._call(self.state.journal.clear)

    def calls(self, path: str | None = None, *, method: str | None = None) -> list[JournalEntry]:
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
        found = self.calls(path, method=method)
        what = f"{method.upper() + ' ' if method else ''}{path}"
        if times is None and not found:
            raise AssertionError(f"{what} was never requested; requests: {self._summary()}")
        if times is not None and len(found) != times:
            raise AssertionError(
                f"{what} was requested {len(found)} time(s), expected {times}; "
                f"requests: {self._summary()}"
            )
        return found

    def assert_not_called(self, path: str, *, method: str | None = None) -> None:
        self.assert_called(path, method=method, times=0)

    def _summary(self) -> str:
        entries = self.requests
        if not entries:
            return "none"
        return ", ".join(f"{e.method} {e.path} -> {e.status}" for e in entries)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<MockServer {self.url} scenario={self.scenario.name!r} {state}>"

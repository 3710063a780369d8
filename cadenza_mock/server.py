"""Running the app on a socket: in the foreground (`cadenza-mock serve`) or in a thread
(`MockServer`, which the pytest plugin wraps).

The threaded server owns its own event loop, so a test's own loop (pytest-asyncio,
pytest-aiohttp) never blocks it, and state changes from the test thread are marshalled
onto that loop so a request never sees a half-applied reset or load.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import signal
import ssl
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Self, TypeVar

from aiohttp import web

from cadenza_mock import wire
from cadenza_mock.engine import persist
from cadenza_mock.engine.accounts import account_sort_key
from cadenza_mock.engine.journal import DEFAULT_MAX_STREAMS, JournalEntry
from cadenza_mock.engine.namespaces import (
    DEFAULT_IDLE_SECONDS,
    DEFAULT_LIMIT,
    DEFAULT_RECORD_BUDGET,
)
from cadenza_mock.engine.state import MockState, ScenarioSource
from cadenza_mock.errors import ScenarioError
from cadenza_mock.handle import MockHandle, ScenarioCache, SourceLike, source_key
from cadenza_mock.http import access_log as access_lines
from cadenza_mock.http.app import make_app
from cadenza_mock.http.guard import BrowserGuard, OriginError
from cadenza_mock.http.keys import ADMIN_TOKEN, DEFAULT_READ_TIMEOUT
from cadenza_mock.http.runner import MockRunner
from cadenza_mock.http.ws_limits import DEFAULT_MAX_CONNECTIONS
from cadenza_mock.model import User
from cadenza_mock.scenario import Scenario
from cadenza_mock.scenario.faults import parse_fault_dict
from cadenza_mock.tls import TlsError, TlsSetup
from cadenza_mock.tls import setup as tls_setup
from cadenza_mock.version import __version__, loop_name

log = logging.getLogger("cadenza_mock")
access_log = logging.getLogger("cadenza_mock.access")
T = TypeVar("T")

# Connections still open at shutdown get this long: SIGTERM must end the process in ~1 s.
SHUTDOWN_TIMEOUT = 0.5
WATCH_INTERVAL = 0.5
# The state file is written this long after the last change, and never later than
# STATE_MAX_DELAY after the first unsaved one however steadily changes come.
STATE_DEBOUNCE = 0.5
STATE_MAX_DELAY = 2.0
STATE_POLL = 0.1


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def banner(state: MockState, url: str, loop: str = "asyncio", ca_bundle: Path | None = None) -> str:
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
        trust = f"--cacert {ca_bundle} " if ca_bundle is not None else ""
        lines.append(f"  try    curl {trust}{auth} {url}/api/v3/credential/list")
    lines.append(
        f"  ws     {url.replace('http', 'ws', 1)}/connection/websocket  (Centrifugo protocol)"
    )
    lines.append(f"  admin  {url}/__admin/health  (reset, scenario, requests: see README)")
    lines.append(f"  ui     {url}/__admin/ui  (the dashboard, in a browser)")
    lines.append(f"  loop   {loop}")
    if ca_bundle is not None:
        lines.append(f"  tls    CA bundle {ca_bundle}  (trust it to verify this server)")
    return "\n".join(lines)


class StateFile:
    """Keeps one `MockState` in a state file (`serve --state-file`, `MockServer(state_file=)`).

    `open()` checks that the folder can be written, locks the file (another server on it
    is refused) and restores what it holds (or finds none), so every problem shows at
    start. Then `run()` writes the file, debounced, as the state changes, and `close()`
    writes what is still unsaved and lets the lock go. It polls a cheap change mark rather
    than hooking every transport's changes: nothing a request can change is missed, and no
    code path has to remember to report itself.
    """

    def __init__(
        self, state: MockState, path: Path, restored: bool, lock: persist.StateLock
    ) -> None:
        self.state = state
        self.path = path
        self.restored = restored
        self.lock = lock
        self._lines = persist.RecordLines()  # what the last write encoded, reused
        self._saved = persist.change_mark(state)
        self._task: asyncio.Task[None] | None = None
        self._writing: asyncio.Future[None] | None = None
        self._failing = False

    @classmethod
    def open(cls, state: MockState, path: str | Path) -> StateFile:
        """Restore `state` from the file when there is one; StateFileError (the file left as
        it is) for one that is corrupt, foreign or another scenario's, an unwritable place,
        or a file another cadenza-mock holds."""
        path = Path(path)
        persist.check_writable(path)
        lock = persist.StateLock(path)
        if not lock.supported:
            log.warning("state file %s not locked (no flock here): serve it from one process", path)
        lock.acquire()
        try:
            document = persist.read_document(path)
            if document is not None:
                persist.restore(state, document, f"state file {path}")
        except BaseException:
            lock.release()
            raise
        return cls(state, path, document is not None, lock)

    @property
    def pending(self) -> bool:
        """Changes not in the file yet."""
        return persist.change_mark(self.state) != self._saved

    def start(self) -> None:
        """Write on change from now on (call on the loop that serves the state)."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        seen = self._saved
        first = last = retry_at = 0.0  # when the first unsaved and the latest change were seen
        while True:
            await asyncio.sleep(STATE_POLL)
            mark = persist.change_mark(self.state)
            now = loop.time()
            if mark == self._saved:
                seen = mark
                continue
            if mark != seen:
                if seen == self._saved:
                    first = now
                seen, last = mark, now
            if now < retry_at:
                continue
            due = now - last >= STATE_DEBOUNCE or now - first >= STATE_MAX_DELAY
            if due and not await self._write(loop):
                retry_at = now + STATE_MAX_DELAY  # a full disk is not hammered

    async def _write(self, loop: asyncio.AbstractEventLoop) -> bool:
        # A snapshot is taken on the loop, between requests (a consistent state, in a few
        # list copies); the document (fingerprints), its encoding and the disk happen in a
        # thread, so a big one does not stop the server answering.
        try:
            snap = persist.snapshot(self.state)
            self._writing = loop.run_in_executor(None, self._put, snap)
            # Shielded: cancelled at shutdown, the write in the thread still ends first.
            await asyncio.shield(self._writing)
        except Exception as exc:  # the writer must outlive a full disk, or anything else
            if not self._failing:
                log.error("state file %s not written (%s); retrying", self.path, exc)
            self._failing = True
            return False
        if self._failing:
            log.info("state file %s written again", self.path)
        self._failing = False
        self._saved = snap.mark
        return True

    def _put(self, snap: persist.Snapshot) -> None:
        persist.write_file(self.path, persist.encode(persist.document_of(snap, self._lines)))

    async def close(self) -> None:
        """Stop writing on change, then write what is still unsaved (at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._writing is not None:  # a write in a thread ends before the last one begins
            await asyncio.wait([self._writing])
        self.flush()
        self.lock.release()

    def flush(self) -> None:
        """Write now if anything is unsaved (synchronously; the server must not be serving
        from another thread meanwhile)."""
        if not self.pending:
            return
        snap = persist.snapshot(self.state)
        try:
            self._put(snap)
        except Exception as exc:  # whatever it is, the server still stops cleanly
            log.error("state file %s not written at shutdown: %s", self.path, exc)
            return
        self._saved = snap.mark


def _watched_file(state: MockState) -> Path | None:
    source = state.scenario.source
    return Path(source) if source else None


def _file_version(path: Path) -> tuple[int, int] | None:
    """(mtime, size): an edit changes at least one, even within one coarse mtime tick."""
    try:
        info = path.stat()
    except OSError:
        return None  # editors replace files; it reappears
    return (info.st_mtime_ns, info.st_size)


async def watch_scenario(
    state: MockState,
    interval: float = WATCH_INTERVAL,
    since: tuple[int, int] | None = None,
) -> None:
    """Reload the scenario file when it changes; a broken edit keeps the old one.

    `since` is the file version the served scenario was read from; pass it when the
    watcher starts after the server (an edit in between is then not missed).
    """
    path = _watched_file(state)
    if path is None:
        log.warning("--watch: scenario %r is not a file; nothing to watch", state.scenario.name)
        return
    last = since or _file_version(path)
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        version = _file_version(path)
        if version is None or version == last:
            continue
        last = version
        try:
            # Built in a worker thread: a big scenario does not stop the server answering.
            scenario = await loop.run_in_executor(None, state.parse, path)
        except ScenarioError as exc:
            log.error("scenario %s not reloaded, the previous one keeps serving:\n%s", path, exc)
        except Exception as exc:  # the watcher must outlive anything an edit can cause
            log.error(
                "scenario %s not reloaded (%s), the previous one keeps serving",
                path,
                type(exc).__name__,
            )
        else:
            state.load(scenario)
            log.info("scenario %s reloaded (state reset)", path)


async def _serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    watch: bool,
    quiet: bool,
    locked: bool,
    read_timeout: float,
    loop_label: str,
    tls: TlsSetup | None = None,
    state_file: StateFile | None = None,
) -> int:
    from cadenza_mock.http.keys import STATE

    state = app[STATE]
    runner = MockRunner(
        app,
        header_timeout=read_timeout,
        access_log_class=access_lines.AccessLogger,
        access_log=None if quiet else access_log,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    # Signal handlers first: a SIGTERM right after the banner must still exit cleanly.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=tls.server_context if tls else None)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"cadenza-mock: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
    watched = _watched_file(state) if watch else None
    since = _file_version(watched) if watched is not None else None
    bound_port = runner.addresses[0][1]
    url = f"{'https' if tls else 'http'}://{_display_host(host)}:{bound_port}"
    print(banner(state, url, loop_label, tls.ca_bundle if tls else None), flush=True)
    if state_file is not None:
        kept = "restored from it" if state_file.restored else "none yet, written on change"
        log.info("state file %s (%s)", state_file.path, kept)
        state_file.start()
    if locked:
        log.warning(
            "serving on %s without --admin-token: the admin API is off (403, health "
            "excepted); set --admin-token to use it, or --admin-open on a trusted network",
            host,
        )
    elif not _is_loopback(host) and app.get(ADMIN_TOKEN) is None:
        log.warning(
            "serving on %s with --admin-open: anyone who can reach this port can reset "
            "or replace the scenario through /__admin/",
            host,
        )
    watcher = asyncio.create_task(watch_scenario(state, since=since)) if watch else None
    try:
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await runner.cleanup()
        if state_file is not None:  # after the last request, before the process ends
            await state_file.close()
        access_lines.lines.flush()
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
    admin_open: bool = False,
    scenario_dirs: Sequence[str | Path] | None = None,
    journal_size: int = 1000,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    quiet: bool = False,
    hints: bool = True,
    max_namespaces: int = DEFAULT_LIMIT,
    namespace_idle: float = DEFAULT_IDLE_SECONDS,
    max_records: int = DEFAULT_RECORD_BUDGET,
    max_streams: int = DEFAULT_MAX_STREAMS,
    loop: str = "auto",
    tls: bool = False,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_ca_file: str | None = None,
    state_file: str | None = None,
    allow_origins: Sequence[str] = (),
    allow_hosts: Sequence[str] = (),
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> int:
    """`cadenza-mock serve`: run until SIGINT/SIGTERM; the exit code says why it stopped."""
    try:
        loop_label = loop_name(loop)
    except ValueError as exc:
        print(f"cadenza-mock: --loop {loop}: {exc}", file=sys.stderr)
        return 2
    try:
        secure = tls_setup(tls, tls_cert, tls_key, tls_ca_file)
    except TlsError as exc:
        print(f"cadenza-mock: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        guard = BrowserGuard.from_options(allow_origins, allow_hosts, host)
    except OriginError as exc:
        print(f"cadenza-mock: --allow-origin {exc}", file=sys.stderr)
        return 2
    for folder in scenario_dirs or ():
        if not Path(folder).is_dir():
            print(f"cadenza-mock: --scenario-dir {folder}: not a folder", file=sys.stderr)
            return 2
    # The scenario's records live as long as the process: built without collector passes,
    # then frozen, so no later collection walks them again (a 100,000-record scenario
    # would otherwise cost a pass over all of it now and slow every full one after).
    gc.disable()
    try:
        state = MockState(
            scenario,
            profile=profile,
            seed=seed,
            journal_limit=journal_size,
            scenario_dirs=scenario_dirs,
        )
    except ScenarioError as exc:
        print(f"cadenza-mock: scenario {scenario!s} is invalid:\n{exc}", file=sys.stderr)
        return 2
    finally:
        gc.freeze()
        gc.enable()
    state.on_reset.append(refreeze_after_load(state))
    try:
        kept = StateFile.open(state, state_file) if state_file else None
    except persist.StateFileError as exc:
        print(f"cadenza-mock: {exc}", file=sys.stderr)
        return 2
    locked = not _is_loopback(host) and not admin_token and not admin_open
    app = make_app(
        state=state,
        admin_token=admin_token,
        admin_locked=locked,
        body_timeout=read_timeout,
        hints=hints,
        max_namespaces=max_namespaces,
        namespace_idle=namespace_idle,
        allow_origins=guard.allow_origins,
        allow_hosts=guard.allow_hosts,
        bound_host=host,
        max_records=max_records,
        max_streams=max_streams,
        max_ws_connections=max_connections,
    )
    served = _serve(
        app,
        host,
        port,
        watch=watch,
        quiet=quiet,
        locked=locked,
        read_timeout=read_timeout,
        loop_label=loop_label,
        tls=secure,
        state_file=kept,
    )
    with asyncio.Runner(loop_factory=_loop_factory(loop_label)) as runner:
        return runner.run(served)


def refreeze_after_load(state: MockState) -> Callable[[], None]:
    """A reset listener for a state frozen at start (`gc.freeze()`): once a load replaces
    the scenario, the old one's records are garbage no collection looks at (and the
    stores replaced later wait for a full one). So: unfreeze, collect once, freeze again."""
    current = state.scenario

    def after_reset() -> None:
        nonlocal current
        if state.scenario is current:
            return  # a reset: the scenario's records are the same, nothing to give back
        current = state.scenario
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    return after_reset


def _loop_factory(label: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop for a `uvloop ...` label; None keeps asyncio's default."""
    if not label.startswith("uvloop"):
        return None
    import uvloop

    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


class MockServer(MockHandle):
    """The mock in a background thread: `with MockServer(scenario="revoked") as mock:`.

    Usable without pytest (scripts, notebooks, other runners); the pytest fixture is this
    object. Port 0 (the default) picks a free port, read back into `port` and `url`.
    `state_file=PATH` keeps the state in a file as `serve --state-file` does: locked and
    restored here (StateFileError for a bad file, left as it is, or one another server
    holds), written on change while running and at `stop()`, which lets the lock go.
    `allow_origins`, `allow_hosts`: as `serve --allow-origin/--allow-host` (a browser app
    under test calling the mock).
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
    ) -> None:
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
            admin_token=self.admin_token,
            body_timeout=self.read_timeout,
            on_handler_error=self._record_handler_error,
            hints=self.hints,
            allow_origins=self.guard.allow_origins,
            allow_hosts=self.guard.allow_hosts,
            bound_host=self.host,
        )
        runner = MockRunner(
            app,
            header_timeout=self.read_timeout,
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
        return f"{scheme}://{_display_host(self.host)}:{self.port}"

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


class HandlerError(RuntimeError):
    """A request handler raised an unexpected exception (the client got a 500)."""

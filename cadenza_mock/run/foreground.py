"""`cadenza-mock serve`: the server in the foreground, until SIGINT or SIGTERM.

The banner, the scenario watcher, the browser guard's options, the state file and the
event loop choice meet here; `make_app()` builds the app, `MockRunner` serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.contract.options import ServerOptions
from cadenza_mock.engine.persist_io import StateFileError
from cadenza_mock.engine.state import MockState
from cadenza_mock.http import access_log as access_lines
from cadenza_mock.http.app import make_app
from cadenza_mock.http.guard import BrowserGuard, OriginError, is_loopback_name
from cadenza_mock.http.keys import ADMIN_TOKEN
from cadenza_mock.http.runner import SHUTDOWN_TIMEOUT, MockRunner, display_host
from cadenza_mock.run.tls import TlsError, TlsSetup
from cadenza_mock.run.tls import setup as tls_setup
from cadenza_mock.version import __version__, loop_name

if TYPE_CHECKING:  # imported when a state file is asked for: the state file's code
    from cadenza_mock.run.state_file import StateFile

log = logging.getLogger("cadenza_mock")
access_log = logging.getLogger("cadenza_mock.access")

WATCH_INTERVAL = 0.5


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
    fast_path: bool = True,
    tls: TlsSetup | None = None,
    state_file: StateFile | None = None,
) -> int:
    from cadenza_mock.http.keys import STATE

    state = app[STATE]
    runner = MockRunner(
        app,
        header_timeout=read_timeout,
        fast_path=fast_path,
        access_log_class=access_lines.AccessLogger,
        access_log=None if quiet else access_log,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    stop = await start_listening(runner, host, port, tls.server_context if tls else None)
    if stop is None:
        return 1
    watched = _watched_file(state) if watch else None
    since = _file_version(watched) if watched is not None else None
    bound_port = runner.addresses[0][1]
    url = f"{'https' if tls else 'http'}://{display_host(host)}:{bound_port}"
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
    elif not is_loopback_name(host) and app.get(ADMIN_TOKEN) is None:
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


def serve_forever(options: ServerOptions | None = None, **changes: Any) -> int:
    """`cadenza-mock serve`: run until SIGINT/SIGTERM; the exit code says why it stopped.

    `options` (default: every default), with `changes` to its fields applied."""
    try:
        options = (options or ServerOptions()).replace(**changes)
    except ValueError as exc:
        print(f"cadenza-mock: {exc}", file=sys.stderr)
        return 2
    host = options.host
    if options.loop != "asyncio":  # served on it, so imported anyway: its own version then
        with contextlib.suppress(ImportError):
            import uvloop  # noqa: F401
    try:
        loop_label = loop_name(options.loop)
    except ValueError as exc:
        print(f"cadenza-mock: --loop {options.loop}: {exc}", file=sys.stderr)
        return 2
    try:
        secure = tls_setup(options.tls, options.tls_cert, options.tls_key, options.tls_ca_file)
    except TlsError as exc:
        print(f"cadenza-mock: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        guard = BrowserGuard.from_options(options.allow_origins, options.allow_hosts, host)
    except OriginError as exc:
        print(f"cadenza-mock: --allow-origin {exc}", file=sys.stderr)
        return 2
    for folder in options.scenario_dirs or ():
        if not Path(folder).is_dir():
            print(f"cadenza-mock: --scenario-dir {folder}: not a folder", file=sys.stderr)
            return 2
    # The scenario's records live as long as the process: built without collector passes,
    # then frozen, so no later collection walks them again (a 100,000-record scenario
    # would otherwise cost a pass over all of it now and slow every full one after).
    gc.disable()
    try:
        state = MockState(
            options.scenario,
            profile=options.profile,
            seed=options.seed,
            journal_limit=options.journal_size,
            scenario_dirs=options.scenario_dirs,
        )
    except ScenarioError as exc:
        print(f"cadenza-mock: scenario {options.scenario!s} is invalid:\n{exc}", file=sys.stderr)
        return 2
    finally:
        gc.freeze()
        gc.enable()
    state.on_reset.append(refreeze_after_load(state))
    try:
        kept = _state_file(state, options.state_file) if options.state_file else None
    except StateFileError as exc:
        print(f"cadenza-mock: {exc}", file=sys.stderr)
        return 2
    locked = not is_loopback_name(host) and not options.admin_token and not options.admin_open
    app = make_app(
        state=state,
        options=options.replace(allow_origins=guard.allow_origins, allow_hosts=guard.allow_hosts),
        admin_locked=locked,
    )
    served = _serve(
        app,
        host,
        options.port,
        watch=options.watch,
        quiet=options.quiet,
        locked=locked,
        read_timeout=options.read_timeout,
        loop_label=loop_label,
        fast_path=options.fast_path,
        tls=secure,
        state_file=kept,
    )
    with asyncio.Runner(loop_factory=_loop_factory(loop_label)) as runner:
        return runner.run(served)


def _state_file(state: MockState, path: str | Path) -> StateFile:
    from cadenza_mock.run.state_file import StateFile

    return StateFile.open(state, path)


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


async def start_listening(
    runner: web.BaseRunner, host: str, port: int, ssl_context: ssl.SSLContext | None = None
) -> asyncio.Event | None:
    """Signal handlers, then the socket: the event SIGINT/SIGTERM sets, or None once
    stderr says why the address cannot be had (the runner cleaned up).

    Handlers first: a SIGTERM right after the banner must still exit cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"cadenza-mock: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr
        )
        return None
    return stop

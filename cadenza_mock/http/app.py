"""`make_app()`: the one way an aiohttp app of the mock is built.

The CLI, the container, the threaded `MockServer` and the pytest plugin all call it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from functools import partial
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from cadenza_mock.contract.operations import NAMESPACED_ADMIN, OPERATIONS, namespaced_path
from cadenza_mock.engine.journal import DEFAULT_MAX_STREAMS
from cadenza_mock.engine.namespaces import (
    DEFAULT_IDLE_SECONDS,
    DEFAULT_LIMIT,
    DEFAULT_RECORD_BUDGET,
    Namespace,
    Namespaces,
)
from cadenza_mock.engine.state import MockState, ScenarioSource
from cadenza_mock.http import (
    admin,
    api,
    journal_stream,
    meta,
    stubs_api,
    subscriptions_api,
    ui,
    ws,
)
from cadenza_mock.http.guard import BrowserGuard
from cadenza_mock.http.keys import (
    ADMIN_LOCKED,
    ADMIN_TOKEN,
    BODY_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    GUARD,
    HANDLER_ERROR_HOOK,
    HINTS,
    MAX_STREAMS,
    NAMESPACES,
    STARTED_AT,
    STATE,
    STOPPING,
    STREAMS,
)
from cadenza_mock.http.middleware import CATCH_ALL, enveloped, expect_handler, no_route
from cadenza_mock.http.observer import ResponseObserver, attach, default_observer
from cadenza_mock.http.ws_limits import DEFAULT_MAX_CONNECTIONS


def make_app(
    scenario: ScenarioSource = "default",
    *,
    profile: str | None = None,
    seed: int | None = None,
    journal_limit: int = 1000,
    admin_token: str | None = None,
    admin_locked: bool = False,
    scenario_dirs: Iterable[str | Path] | None = None,
    body_timeout: float = DEFAULT_READ_TIMEOUT,
    state: MockState | None = None,
    response_observer: ResponseObserver | None = None,
    on_handler_error: Callable[[str, BaseException], None] | None = None,
    hints: bool = True,
    max_namespaces: int = DEFAULT_LIMIT,
    namespace_idle: float = DEFAULT_IDLE_SECONDS,
    allow_origins: Iterable[str] = (),
    allow_hosts: Iterable[str] = (),
    bound_host: str | None = "127.0.0.1",
    max_records: int = DEFAULT_RECORD_BUDGET,
    max_streams: int = DEFAULT_MAX_STREAMS,
    max_ws_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> web.Application:
    """An app serving `scenario` (bundled name, path, dict or Scenario), or a given state.

    `admin_locked` turns the admin API off (403, health excepted) unless `admin_token` is
    set: what `serve` does on a non-loopback address. `scenario_dirs`: the folders whose
    files the admin API may load (default: the scenario file's folder). `body_timeout`:
    seconds a request body may take to arrive. `hints`: tell the tester about near-miss
    parameters (journal, access log, `X-Cadenza-Mock-Hint`). `max_namespaces`,
    `namespace_idle`: how many namespaces may exist at once (0: none), and after how many
    idle seconds one is dropped. `max_records`: the records (credentials, trading accounts,
    their history) all namespaces may hold together. `max_streams`: how many journal
    streams (`GET /__admin/requests/stream`) may be open at once. `allow_origins`: web
    origins (`scheme://host:port`, or `*`) whose pages may call the mock (see
    http/guard.py); `bound_host`: the address it is served on: when loopback, a `Host`
    must name loopback, it, or one of `allow_hosts` (None: no Host check). Raises
    guard.OriginError for an origin it cannot read. `max_ws_connections`: how many
    WebSocket connections may be open at once (0: none).
    """
    app = web.Application()
    app[GUARD] = BrowserGuard.from_options(allow_origins, allow_hosts, bound_host)
    app[STATE] = state or MockState(
        scenario,
        profile=profile,
        seed=seed,
        journal_limit=journal_limit,
        scenario_dirs=scenario_dirs,
    )
    spaces = Namespaces(
        app[STATE], limit=max_namespaces, idle_seconds=namespace_idle, max_records=max_records
    )
    spaces.on_use.append(partial(_hold_while_running, spaces))
    app[NAMESPACES] = spaces
    app.cleanup_ctx.append(_expire_namespaces)
    if admin_token:
        app[ADMIN_TOKEN] = admin_token
    elif admin_locked:
        app[ADMIN_LOCKED] = True
    app[BODY_TIMEOUT] = body_timeout
    app[HINTS] = hints
    app[STOPPING] = asyncio.Event()
    app[STREAMS] = {}
    app[MAX_STREAMS] = max_streams
    app.cleanup_ctx.append(journal_stream.watch_streams)
    app.on_shutdown.append(_stopping)
    app[STARTED_AT] = time.monotonic()
    # Sees every response (the test suite checks them against the OpenAPI document).
    observer = response_observer or default_observer()
    if observer is not None:
        attach(app, observer)
    if on_handler_error is not None:
        app[HANDLER_ERROR_HOOK] = on_handler_error
    router = app.router
    ws.attach(app, max_connections=max_ws_connections)  # before the catch-all route
    routes = [(op, op.path) for op in OPERATIONS]
    routes += [(op, namespaced_path(op.path)) for op in NAMESPACED_ADMIN]
    for op, path in routes:
        handler = enveloped(_handler(op.handler))
        if op.method == "GET":  # HEAD too, as aiohttp's add_get does
            router.add_get(path, handler, expect_handler=expect_handler)
        else:
            router.add_route(op.method, path, handler, expect_handler=expect_handler)
    router.add_route("*", CATCH_ALL, enveloped(no_route), expect_handler=expect_handler)
    return app


_HANDLER_MODULES = {
    "api": api,
    "admin": admin,
    "journal_stream": journal_stream,
    "meta": meta,
    "stubs_api": stubs_api,
    "subscriptions_api": subscriptions_api,
    "ui": ui,
}


def _handler(name: str) -> Handler:
    """`"api.list_credentials"` (an operation's `handler`) -> that function."""
    module, function = name.split(".")
    handler: Handler = getattr(_HANDLER_MODULES[module], function)
    return handler


async def _stopping(app: web.Application) -> None:
    app[STOPPING].set()
    for wake in app[STREAMS]:
        wake.set()


def _hold_while_running(spaces: Namespaces, space: Namespace) -> None:
    """A namespace a request uses stays busy (never idle) until that request is answered:
    aiohttp runs each request in a task of its own, so its end is the task's. A WebSocket
    connection's task lasts as long as the connection, a journal stream's as the stream."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no loop running: a call from another thread (MockServer)
        return
    if task is not None:
        release = spaces.hold(space)
        task.add_done_callback(lambda _: release())


async def _expire_namespaces(app: web.Application) -> AsyncIterator[None]:
    """Idle namespaces go even when nobody creates or lists them (memory stays bounded)."""
    spaces = app[NAMESPACES]

    async def sweep() -> None:
        while True:
            await asyncio.sleep(min(60.0, spaces.idle_seconds / 4))
            spaces.expire()

    task = asyncio.ensure_future(sweep())
    yield
    task.cancel()

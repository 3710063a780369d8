"""`make_app()`: the one way an aiohttp app of the mock is built.

The CLI, the container, the threaded `MockServer` and the pytest plugin all call it.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from cadenza_mock.contract.operations import NAMESPACED_ADMIN, OPERATIONS, namespaced_path
from cadenza_mock.contract.options import ServerOptions
from cadenza_mock.engine.namespaces import Namespace, Namespaces
from cadenza_mock.engine.state import MockState, ScenarioSource
from cadenza_mock.http import admin, api, journal_stream, ws
from cadenza_mock.http.guard import BrowserGuard
from cadenza_mock.http.keys import (
    ADMIN_LOCKED,
    ADMIN_TOKEN,
    BODY_TIMEOUT,
    GUARD,
    HANDLER_ERROR_HOOK,
    HINTS,
    MAX_STREAMS,
    NAMESPACES,
    REPLICA_ID,
    STARTED_AT,
    STATE,
    STOPPING,
    STREAMS,
)
from cadenza_mock.http.middleware import CATCH_ALL, enveloped, expect_handler, no_route
from cadenza_mock.http.observer import ResponseObserver, attach, default_observer

# make_app's older keyword names for ServerOptions fields (kept: they are documented).
_ALIASES = {
    "journal_limit": "journal_size",
    "body_timeout": "read_timeout",
    "max_ws_connections": "max_connections",
    "bound_host": "host",
}


def make_app(
    scenario: ScenarioSource | None = None,
    *,
    options: ServerOptions | None = None,
    state: MockState | None = None,
    admin_locked: bool = False,
    response_observer: ResponseObserver | None = None,
    on_handler_error: Callable[[str, BaseException], None] | None = None,
    **changes: Any,
) -> web.Application:
    """An app serving `scenario` (bundled name, path, dict or Scenario; default: the
    options' `scenario`), or a given `state`.

    `options` (default: ServerOptions()) with `changes` to its fields, by field name
    (`max_records=50`) or by the older names `journal_limit`, `body_timeout`,
    `max_ws_connections`, `bound_host`; an unknown name is a TypeError, a bad value a
    ValueError. `bound_host=None` turns the Host check off (see http/guard.py).
    `admin_locked` turns the admin API off (403, health excepted) unless `admin_token` is
    set: what `serve` does on a non-loopback address. Raises guard.OriginError for an
    origin it cannot read.
    """
    check_host = changes.get("bound_host", "") is not None
    if not check_host:
        del changes["bound_host"]
    renamed = {_ALIASES.get(name, name): value for name, value in changes.items()}
    unknown = sorted(set(renamed) - set(ServerOptions.names()))
    if unknown:
        raise TypeError(f"make_app() got an unexpected keyword argument {unknown[0]!r}")
    opts = (options or ServerOptions()).replace(**renamed)
    app = web.Application()
    app[GUARD] = BrowserGuard.from_options(
        opts.allow_origins, opts.allow_hosts, opts.host if check_host else None
    )
    app[STATE] = state or MockState(
        opts.scenario if scenario is None else scenario,
        profile=opts.profile,
        seed=opts.seed,
        journal_limit=opts.journal_size,
        scenario_dirs=opts.scenario_dirs,
    )
    spaces = Namespaces(
        app[STATE],
        limit=opts.max_namespaces,
        idle_seconds=opts.namespace_idle,
        max_records=opts.max_records,
    )
    spaces.on_use.append(partial(_hold_while_running, spaces))
    app[NAMESPACES] = spaces
    app.cleanup_ctx.append(_expire_namespaces)
    if opts.admin_token:
        app[ADMIN_TOKEN] = opts.admin_token
    elif admin_locked:
        app[ADMIN_LOCKED] = True
    app[BODY_TIMEOUT] = opts.read_timeout
    app[HINTS] = opts.hints
    if opts.replica_id:
        app[REPLICA_ID] = opts.replica_id
    app[STOPPING] = asyncio.Event()
    app[STREAMS] = {}
    app[MAX_STREAMS] = opts.max_streams
    app.cleanup_ctx.append(journal_stream.watch_streams)
    app.on_shutdown.append(_stopping)
    app[STARTED_AT] = time.monotonic()
    # Sees every response (the test suite checks them against the OpenAPI document).
    observer = response_observer or default_observer()
    if observer is not None:
        attach(app, observer)
    if on_handler_error is not None:
        app[HANDLER_ERROR_HOOK] = on_handler_error
    if opts.upstream:  # pass-through (http/proxy.py), imported only when asked for
        importlib.import_module("cadenza_mock.http.proxy").pass_through(app, opts.upstream)
    router = app.router
    # before the catch-all route
    ws.attach(app, max_connections=opts.max_connections, market_interval=opts.market_interval)
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


_HANDLER_MODULES = {"admin": admin, "api": api, "journal_stream": journal_stream}
# Imported at their first request, not at start: the documents (meta: the OpenAPI and
# AsyncAPI builders), the dashboard and the subscription handlers are not what `serve`'s
# first answer needs (tests/test_server_options.py keeps it so).
_LAZY_MODULES = {
    "market_api": "cadenza_mock.http.market_api",
    "market_subscriptions_api": "cadenza_mock.http.market_subscriptions_api",
    "meta": "cadenza_mock.http.meta",
    "subscriptions_api": "cadenza_mock.http.subscriptions_api",
    "ui": "cadenza_mock.http.ui",
    "stubs_api": "cadenza_mock.http.stubs_api",
    "trading_api": "cadenza_mock.http.trading_api",
}


def _handler(name: str) -> Handler:
    """`"api.list_credentials"` (an operation's `handler`) -> that function (or, for a
    module imported on first use, a stand-in that imports it then)."""
    module, function = name.split(".")
    if module in _HANDLER_MODULES:
        handler: Handler = getattr(_HANDLER_MODULES[module], function)
        return handler
    path = _LAZY_MODULES[module]
    resolved: list[Handler] = []

    async def first_use(request: web.Request) -> web.StreamResponse:
        if not resolved:
            resolved.append(getattr(importlib.import_module(path), function))
        return await resolved[0](request)

    first_use.__name__ = first_use.__qualname__ = function
    return first_use


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

"""Typed app and request state keys shared by the HTTP modules."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cadenza_mock.contract import options
from cadenza_mock.engine.namespaces import Namespaces
from cadenza_mock.engine.state import MockState
from cadenza_mock.http.guard import BrowserGuard

STATE = web.AppKey("cadenza_state", MockState)
NAMESPACES = web.AppKey("cadenza_namespaces", Namespaces)
# Names the namespace of a request that has no token of one (login), and of admin calls.
NAMESPACE_HEADER = "X-Cadenza-Mock-Namespace"
ADMIN_TOKEN = web.AppKey("cadenza_admin_token", str)
STARTED_AT = web.AppKey("cadenza_started_at", float)
# Called with ("METHOD /path", exception) when a handler crashes (the client gets a 500):
# MockServer re-raises it in the test that caused it.
HANDLER_ERROR_HOOK: web.AppKey[Callable[[str, BaseException], None]] = web.AppKey(
    "cadenza_handler_error_hook"
)

# Seconds request headers, and then a body, may take to arrive (`--read-timeout`).
DEFAULT_READ_TIMEOUT = options.DEFAULT_READ_TIMEOUT
BODY_TIMEOUT = web.AppKey("cadenza_body_timeout", float)
# Set when the server begins to stop: pending delays end at once, so SIGTERM takes
# well under a second whatever delays are armed.
STOPPING = web.AppKey("cadenza_stopping", asyncio.Event)
# The wake-up events of the open journal streams (and their requests): stopping sets them,
# so each ends at once; at most MAX_STREAMS are open (`--max-streams`).
STREAMS: web.AppKey[dict[asyncio.Event, web.Request]] = web.AppKey("cadenza_streams")
MAX_STREAMS = web.AppKey("cadenza_max_streams", int)
# On a non-loopback server without an admin token the admin API answers 403 (but health).
ADMIN_LOCKED = web.AppKey("cadenza_admin_locked", bool)
# Who may drive the mock from a browser (Origin, Host; see http/guard.py).
GUARD = web.AppKey("cadenza_guard", BrowserGuard)
# Near-miss hints on (journal, access log, X-Cadenza-Mock-Hint header); off with --no-hints.
HINTS = web.AppKey("cadenza_hints", bool)
# This server's name among replicas behind a balancer (`--replica-id`; docs/team.md).
REPLICA_ID = web.AppKey("cadenza_replica_id", str)


def _request_key(name: str, kind: type) -> Any:
    """aiohttp >= 3.14 has typed request keys; older releases take a plain string."""
    return web.RequestKey(name, kind) if hasattr(web, "RequestKey") else name


# Set on the request by handlers, read by the middleware for the journal and the log line.
USER_ID = _request_key("cadenza_user_id", str)
# The state's generation when the request arrived: a later one means it was reset since.
GENERATION = _request_key("cadenza_generation", int)
# The action of the fault that shaped the answer, set only when one did (the observer).
FAULT_ACTION = _request_key("cadenza_fault_action", str)
# The id of the stub that answered this request (http/stubs_api.py), for the journal.
STUBBED = _request_key("cadenza_stubbed", str)
# Forwarded to `serve --upstream` (a not-emulated operation, or a `proxy` stub's request).
TO_UPSTREAM = _request_key("cadenza_to_upstream", bool)
# A fault's `venue:` outcome for this request: the handler hands it to the engine.
VENUE_OUTCOME = _request_key("cadenza_venue_outcome", str)
# The near-miss hints a request was given, for its access log line.
HINTS_GIVEN = _request_key("cadenza_hints_given", tuple)
# `/__ns/<name>/api/v3/...`: a namespace's base URL (the runner strips the prefix and
# keeps the name here).
URL_NAMESPACE_PREFIX = "/__ns/"
URL_NAMESPACE = _request_key("cadenza_url_namespace", str)
# The namespace state a request was resolved to (unset: the server's default state).
REQUEST_STATE = _request_key("cadenza_request_state", MockState)
# Set on a request the HTTP parser rejected (the access log has no method or path for it).
MALFORMED = _request_key("cadenza_malformed", bool)


def state_of(request: web.Request) -> MockState:
    """The state this request works on: its namespace's, else the server's."""
    state: MockState | None = request.get(REQUEST_STATE)
    return state if state is not None else request.app[STATE]


def uptime(app: web.Application) -> float:
    return time.monotonic() - app[STARTED_AT]

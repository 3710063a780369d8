"""Typed app and request state keys shared by the HTTP modules."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cadenza_mock.engine.state import MockState

STATE = web.AppKey("cadenza_state", MockState)
ADMIN_TOKEN = web.AppKey("cadenza_admin_token", str)
STARTED_AT = web.AppKey("cadenza_started_at", float)
# Called with ("METHOD /path", exception) when a handler crashes (the client gets a 500):
# MockServer re-raises it in the test that caused it.
HANDLER_ERROR_HOOK: web.AppKey[Callable[[str, BaseException], None]] = web.AppKey(
    "cadenza_handler_error_hook"
)

# Seconds a request body may take to arrive once its headers did (`read_body`).
BODY_TIMEOUT = web.AppKey("cadenza_body_timeout", float)
DEFAULT_BODY_TIMEOUT = 10.0
# Set when the server begins to stop: pending delays end at once, so SIGTERM takes
# well under a second whatever delays are armed.
STOPPING = web.AppKey("cadenza_stopping", asyncio.Event)
# On a non-loopback server without an admin token the admin API answers 403 (but health).
ADMIN_LOCKED = web.AppKey("cadenza_admin_locked", bool)

# Set on the request by handlers, read by the middleware for the journal and the log line.
# aiohttp >= 3.14 has typed request keys; older releases take a plain string.
USER_ID: Any = (
    web.RequestKey("cadenza_user_id", str) if hasattr(web, "RequestKey") else "cadenza_user_id"
)
# The state's generation when the request arrived: a later one means it was reset since.
GENERATION: Any = (
    web.RequestKey("cadenza_generation", int) if hasattr(web, "RequestKey") else "cadenza_gen"
)


def uptime(app: web.Application) -> float:
    return time.monotonic() - app[STARTED_AT]

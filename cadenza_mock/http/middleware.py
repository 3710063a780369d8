"""The one middleware that turns every failure into the Cadenza envelope and journals calls."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from cadenza_mock import wire
from cadenza_mock.engine.journal import JournalEntry, redact_body, redact_headers
from cadenza_mock.errors import ApiError, method_not_allowed, page_not_found, unknown_error
from cadenza_mock.http.keys import STATE, USER_ID

log = logging.getLogger("cadenza_mock")

ADMIN_PREFIX = "/__admin/"


def error_response(err: ApiError, profile: str) -> web.Response:
    return web.Response(
        status=err.status,
        body=wire.error_body(err, profile),
        content_type="application/json",
        headers=err.headers,
    )


def _from_http_exception(exc: web.HTTPException, request: web.Request) -> ApiError:
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return method_not_allowed(request.method, request.path, exc.allowed_methods)
    if isinstance(exc, web.HTTPNotFound):
        return page_not_found(request.path)
    return ApiError(
        exc.status, -22000 if exc.status >= 500 else -19004, exc.reason, code="HTTP_ERROR"
    )


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    started = time.perf_counter()
    try:
        response = await handler(request)
    except ApiError as err:
        response = error_response(err, state.store.profile)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like pass through untouched
            raise
        response = error_response(_from_http_exception(exc, request), state.store.profile)
    except Exception:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        response = error_response(unknown_error(), state.store.profile)
    if not request.path.startswith(ADMIN_PREFIX):
        await _journal(request, response, state, started)
    return response


async def _journal(
    request: web.Request, response: web.StreamResponse, state: Any, started: float
) -> None:
    body: Any = None
    if request.body_exists:
        raw = await request.read()
        try:
            body = redact_body(json.loads(raw))
        except (ValueError, UnicodeDecodeError):
            # Unparsed bytes could hold a secret; keep only their size.
            body = f"<non-JSON body, {len(raw)} bytes>"
    journal = state.journal
    journal.add(
        JournalEntry(
            seq=journal.next_seq(),
            time_ms=state.clock.now_ms(),
            method=request.method,
            path=request.path,
            query={k: request.query.getall(k) for k in request.query},
            headers=redact_headers(request.headers.items()),
            body=body,
            status=response.status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            user_id=request.get(USER_ID),
        )
    )

"""The one middleware that turns every failure into the Cadenza envelope and journals calls."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from cadenza_mock import wire
from cadenza_mock.engine.faults import Decision, RequestView
from cadenza_mock.engine.journal import JournalEntry, redact_body, redact_headers
from cadenza_mock.engine.state import MockState
from cadenza_mock.errors import ApiError, method_not_allowed, page_not_found, unknown_error
from cadenza_mock.http.keys import STATE, USER_ID
from cadenza_mock.http.observer import observe
from cadenza_mock.model import User

log = logging.getLogger("cadenza_mock")

ADMIN_PREFIX = "/__admin/"


JSON = "application/json"


def json_response(body: bytes) -> web.Response:
    """A 200 carrying prebuilt JSON bytes (the list cache, the OpenAPI document)."""
    return web.Response(body=body, content_type=JSON)


def ok(data: Any) -> web.Response:
    """The success envelope around `data`; error envelopes come only from this module."""
    return json_response(wire.success_body(data))


def error_response(err: ApiError, profile: str) -> web.Response:
    return web.Response(
        status=err.status,
        body=wire.error_body(err, profile),
        content_type=JSON,
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
    response: web.StreamResponse | None = None
    decision: Decision | None = None
    # Faults are evaluated here, not in a second middleware: with none armed this costs
    # one attribute read. The admin API is never faulted, so a test can always disarm.
    if state.faults.armed and not request.path.startswith(ADMIN_PREFIX):
        decision = state.faults.decide(
            _request_view(request), state.clock.now_ms(), lambda: _user_of(request, state)
        )
        if decision is not None:
            if decision.delay:
                await _sleep_while_connected(request, decision.delay)
            if decision.error is not None:
                response = error_response(decision.error, state.store.profile)
            elif decision.action == "drop":
                response = _drop(request)
    if response is None:
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
        if decision is not None and decision.action == "malformed":
            response = _truncated(response)
        elif decision is not None and decision.action == "slow_body":
            response = await _trickle(request, response, decision)
    if not request.path.startswith(ADMIN_PREFIX):
        await _journal(request, response, state, started, decision)
    observe(request, response, state.store.profile, decision.action if decision else None)
    return response


# --------------------------------------------------------------------------- faults


def _request_view(request: web.Request) -> RequestView:
    query = {key: request.query.getall(key) for key in request.query}
    return RequestView(request.method, request.path, query, request.headers)


def _user_of(request: web.Request, state: MockState) -> User | None:
    """The caller, for faults matched per user; an unknown token is simply nobody."""
    try:
        return state.store.user_for_token(request.headers.get("Authorization"))
    except ApiError:
        return None


def _connected(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


async def _sleep_while_connected(request: web.Request, seconds: float) -> None:
    """asyncio.sleep (other requests go on), cut short once the client has gone away."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and _connected(request):
        await asyncio.sleep(min(left, 0.05))


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without a response: clients see a server disconnect."""
    if request.transport is not None:
        request.transport.close()
    # Nothing reaches the client; the status only marks the journal entry (0 = no answer).
    return web.Response(status=204)


def _body_of(response: web.StreamResponse) -> bytes | None:
    body = getattr(response, "body", None)
    return body if isinstance(body, bytes) else None


def _truncated(response: web.StreamResponse) -> web.StreamResponse:
    """The same answer cut in half: a JSON parser fails on it, as on a broken proxy's."""
    body = _body_of(response)
    if body is None or response.prepared:
        return response
    return web.Response(
        status=response.status,
        body=body[: len(body) // 2],
        content_type=response.content_type,
    )


async def _trickle(
    request: web.Request, response: web.StreamResponse, decision: Decision
) -> web.StreamResponse:
    """Send the real body in `chunks` pieces, `chunk_delay` apart (the socket stays busy)."""
    body = _body_of(response)
    if body is None or response.prepared:
        return response
    slow = web.StreamResponse(status=response.status, headers=response.headers)
    slow.content_length = len(body)
    await slow.prepare(request)
    size = max(1, -(-len(body) // decision.chunks))
    for offset in range(0, len(body), size):
        if offset:
            await _sleep_while_connected(request, decision.chunk_delay)
        if not _connected(request):
            break
        await slow.write(body[offset : offset + size])
    return slow


async def _journal(
    request: web.Request,
    response: web.StreamResponse,
    state: Any,
    started: float,
    decision: Decision | None = None,
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
            status=0 if decision is not None and decision.action == "drop" else response.status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            user_id=request.get(USER_ID),
            fault=decision.note if decision is not None else None,
        )
    )

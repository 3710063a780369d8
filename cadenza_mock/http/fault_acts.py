"""What an armed fault does to an HTTP request, over the socket: wait while the client
is still there (and the state not reset), close the connection unanswered, cut the answer
in half or send it in slow pieces. The fault's decision is the engine's
(engine/faults.py); the envelope middleware (http/middleware.py) applies it with these.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import User
from cadenza_mock.engine.faults import Decision, RequestView
from cadenza_mock.engine.state import MockState
from cadenza_mock.http.keys import STOPPING
from cadenza_mock.http.ws_limits import pause


def request_view(request: web.Request) -> RequestView:
    query = {key: request.query.getall(key) for key in request.query}
    return RequestView(request.method, request.path, query, request.headers)


def user_of(request: web.Request, state: MockState) -> User | None:
    """The caller, for faults matched per user; an unknown token is simply nobody."""
    try:
        return state.store.user_for_token(request.headers.get("Authorization"))
    except ApiError:
        return None


def connected(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


async def sleep_while_connected(
    request: web.Request, seconds: float, state: MockState | None = None, generation: int = 0
) -> None:
    """asyncio.sleep (other requests go on), cut short once the client has gone away, the
    server stops, or the mock was reset (`state`, `generation`: the request's own)."""
    stopping = request.app[STOPPING]
    # Woken at once when the client goes or the state is reset (else every PAUSE_STEP).
    wake = asyncio.Event()
    lost: list[Any] | None = getattr(request.protocol, "on_lost", None)
    if lost is not None:
        lost.append(wake.set)
    if state is not None:
        state.on_reset.append(wake.set)
    try:
        await pause(
            seconds,
            lambda: (
                connected(request)
                and not stopping.is_set()
                and (state is None or state.generation == generation)
            ),
            wake,
        )
    finally:
        if lost is not None:
            lost.remove(wake.set)
        if state is not None:
            state.on_reset.remove(wake.set)


def drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without a response: clients see a server disconnect."""
    if request.transport is not None:
        request.transport.close()
    # Nothing reaches the client; the status only marks the journal entry (0 = no answer).
    return web.Response(status=204)


def body_of(response: web.StreamResponse) -> bytes | None:
    body = getattr(response, "body", None)
    return body if isinstance(body, bytes) else None


def truncated(response: web.StreamResponse) -> web.StreamResponse:
    """The same answer cut in half: a JSON parser fails on it, as on a broken proxy's."""
    body = body_of(response)
    if body is None or response.prepared:
        return response
    return web.Response(
        status=response.status,
        body=body[: len(body) // 2],
        content_type=response.content_type,
    )


async def trickle(
    request: web.Request, response: web.StreamResponse, decision: Decision
) -> web.StreamResponse:
    """Send the real body in `chunks` pieces, `chunk_delay` apart (the socket stays busy)."""
    body = body_of(response)
    if body is None or response.prepared:
        return response
    slow = web.StreamResponse(status=response.status, headers=response.headers)
    slow.content_length = len(body)
    await slow.prepare(request)
    size = max(1, -(-len(body) // decision.chunks))
    for offset in range(0, len(body), size):
        if offset:
            await sleep_while_connected(request, decision.chunk_delay)
        if not connected(request):
            break
        await slow.write(body[offset : offset + size])
    return slow

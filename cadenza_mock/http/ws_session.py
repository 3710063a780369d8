"""One WebSocket connection (`WsClient`) and the open connections of one state (`WsHub`),
with the Centrifugo protocol's codes they close with.

Split from `ws`, which reads frames and answers commands: what a connection holds, how
its replies queue (bounded, see `ws_limits`) and how it is closed live here.
"""

from __future__ import annotations

import asyncio
import heapq
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMessage, web

from cadenza_mock.contract import rpc_wire, wire
from cadenza_mock.contract.model import TradingAccount, User
from cadenza_mock.engine import subscriptions
from cadenza_mock.engine.journal import kept_answer
from cadenza_mock.engine.namespaces import Namespace
from cadenza_mock.engine.state import MockState
from cadenza_mock.engine.subscriptions import ChannelEvent
from cadenza_mock.http.ws_limits import CLOSE_SECONDS, QUEUE_MAX_BYTES, Outbox

dumps = wire.dumps_text  # frames are text: the one encoder's str


def frame_header(size: int) -> bytes:
    """An unmasked, final text frame's header for a payload of `size` bytes (RFC 6455
    5.2: a server never masks)."""
    if size < 126:
        return bytes((0x81, size))
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size)
    return struct.pack("!BBQ", 0x81, 127, size)


CHANNEL_PREFIX = subscriptions.CHANNEL_PREFIX


# Centrifugo's client protocol codes (errors in replies; disconnects as close codes).
ERROR_INTERNAL = (100, "internal server error")
ERROR_UNKNOWN_CHANNEL = (102, "unknown channel")
ERROR_PERMISSION_DENIED = (103, "permission denied")
ERROR_METHOD_NOT_FOUND = (104, "method not found")
ERROR_ALREADY_SUBSCRIBED = (105, "already subscribed")
ERROR_BAD_REQUEST = (107, "bad request")
ERROR_NOT_AVAILABLE = (108, "not available")
ERROR_TOKEN_EXPIRED = (109, "token expired")
DISCONNECT_SHUTDOWN = (3001, "shutdown")
DISCONNECT_EXPIRED = (3005, "connection expired")
DISCONNECT_SLOW = (3008, "slow")  # it does not read what waits for it (see ws_limits)
DISCONNECT_INVALID_TOKEN = (3500, "invalid token")
DISCONNECT_BAD_REQUEST = (3501, "bad request")
DISCONNECT_STALE = (3502, "stale")  # no successful connect within CONNECT_TIMEOUT_SECONDS
DISCONNECT_FORCE_NO_RECONNECT = (3503, "force disconnect")
# Never sent: what a connection cut without a close frame is closing with (1006, RFC 6455).
CUT = (1006, "cut")


@dataclass(eq=False)
class WsClient:
    """One open connection: who it speaks for, what it listens to, what it sends next."""

    ws: web.WebSocketResponse
    state: MockState  # the server's, or the namespace's its header or token selects
    hub: WsHub
    transport: asyncio.Transport | None = None
    # Numbered by its hub at connect, so a namespace's clients never shift the ids the
    # server's own clients get (seeded: a rerun sees the same ids).
    client_id: str = ""
    user: User | None = None
    token: str | None = None
    expires_at_ms: int | None = None
    channels: set[str] = field(default_factory=set)
    outbox: Outbox = field(default_factory=lambda: Outbox(QUEUE_MAX_BYTES))
    closing: tuple[int, str] | None = None
    # Sends a slow client's close frame: its writer may be blocked on that very socket.
    closer: asyncio.Future[None] | None = None
    # A frame read while a delay held a reply (to see the client's close): taken next.
    lookahead: WSMessage | None = None
    # The reader waits on the socket with nothing queued for it (http/ws_fast.py).
    reading: bool = False
    # awaitClosed submits waiting for their order's final status (http/ws_orders.py).
    waits: set[asyncio.Task[None]] = field(default_factory=set)

    def send(self, message: dict[str, Any]) -> None:
        """Queue a reply (the reader holds back the next command while too many wait)."""
        self.outbox.put(dumps(message))

    def send_text(self, text: str) -> None:
        """Queue a reply, or write it at once when nothing waits before it."""
        if not self._write_now(text):
            self.outbox.put(text)

    def _write_now(self, text: str) -> bool:
        """Write a reply's frame straight to the socket when the writer is idle, nothing
        is queued, the socket's buffer is empty and the frames are not compressed: the
        order stays (nothing else is being written), and a reply costs no task switch.
        False (nothing done) otherwise: the writer task sends it, with aiohttp's flow
        control."""
        transport = self.transport
        if (
            transport is None
            or self.closing is not None
            or not self.outbox.idle
            or self.ws.closed
            or self.ws.compress
            or transport.is_closing()
            or transport.get_write_buffer_size()
        ):
            return False
        try:
            payload = text.encode("utf-8")
        except UnicodeEncodeError:
            return False  # aiohttp's send_str refuses it the same way: its to report
        transport.writelines((frame_header(len(payload)), payload))
        return True

    def push(self, text: str) -> None:
        """Send what the client did not ask for (a publication, a ping): at once when
        nothing waits before it (a fan-out to many clients costs no task switch each),
        else queued; a client with more of those waiting than the bound is not reading,
        and is closed as slow."""
        if not self._write_now(text) and not self.outbox.put(text, push=True):
            self.slow()

    def close(self, code: tuple[int, str]) -> None:
        """Close after what is already queued is sent."""
        if self.closing is None:
            self.closing = code
            self.outbox.close()

    def cut(self) -> None:
        """End the connection as a network failure does: no close frame, nothing queued
        sent (a Centrifugo client reconnects, as after 1006)."""
        self.outbox.clear()
        self.close(CUT)
        self.abort()

    def stale(self) -> None:
        """The connect timer: still no successful connect, so the socket goes."""
        if self.user is None:
            self.close(DISCONNECT_STALE)

    def abort(self) -> None:
        """Cut the socket without a goodbye (a peer that reads nothing gets nothing). Also
        when it is closing already: a graceful close waits for the peer to read first."""
        if self.transport is not None:
            self.transport.abort()

    def connected(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def slow(self) -> None:
        # The backlog goes at once (its memory with it), and the close frame is written
        # behind what the socket already holds, without waiting for the writer: it is
        # most likely blocked on that socket. (Cancelling it there would break aiohttp's
        # flow control for the close frame too: the drain waiter is shared.)
        self.outbox.clear()
        self.close(DISCONNECT_SLOW)
        if self.closer is None:
            self.closer = asyncio.ensure_future(self.send_close(drain=False))

    async def send_close(self, drain: bool = True) -> None:
        """The close frame with this connection's code; a peer that has not taken it and
        answered within CLOSE_SECONDS is cut off."""
        code, reason = self.closing or DISCONNECT_SHUTDOWN
        try:
            await asyncio.wait_for(
                self.ws.close(code=code, message=reason.encode(), drain=drain), CLOSE_SECONDS
            )
        except (TimeoutError, ConnectionError, RuntimeError):
            self.abort()


class WsHub:
    """The open connections of one state."""

    def __init__(self) -> None:
        self.clients: set[WsClient] = set()
        self.opened = 0  # numbers the client ids (seeded, so a rerun sees the same ids)
        # (expires_at_ms, n, client) of clients whose token expires, soonest first: the
        # clock watcher looks at the first only, so idle connections cost it nothing.
        self._expiring: list[tuple[int, int, WsClient]] = []
        self._pushed = 0

    def close_all(self, code: tuple[int, str] = DISCONNECT_SHUTDOWN) -> None:
        for client in list(self.clients):
            client.close(code)

    def token_ended(self, token: str) -> None:
        """A logout: that token's connections end (and may not reconnect with it)."""
        for client in list(self.clients):
            if client.token == token:
                client.close(DISCONNECT_INVALID_TOKEN)

    def join(self, client: WsClient) -> None:
        self.clients.add(client)
        if client.expires_at_ms is not None:
            self.watch_expiry(client)

    def leave(self, client: WsClient) -> None:
        self.clients.discard(client)
        if len(self._expiring) > 2 * len(self.clients) + 64:  # entries of clients gone
            self._expiring = [e for e in self._expiring if e[2] in self.clients]
            heapq.heapify(self._expiring)

    @property
    def expiring(self) -> bool:
        return bool(self._expiring)

    def watch_expiry(self, client: WsClient) -> None:
        """Called when a client's expiry is set (connect, refresh, a move between hubs)."""
        if client.expires_at_ms is not None:
            self._pushed += 1
            heapq.heappush(self._expiring, (client.expires_at_ms, self._pushed, client))

    def expire(self, now_ms: int) -> None:
        expiring = self._expiring
        while expiring and expiring[0][0] <= now_ms:
            at, _, client = heapq.heappop(expiring)
            # An entry left by a refresh (a later expiry) or by a client gone is skipped.
            if client.expires_at_ms == at and client in self.clients:
                client.close(DISCONNECT_EXPIRED)

    def publish(self, channel: str, data: Any) -> None:
        for client in list(self.clients):
            if channel in client.channels:
                client.push(dumps({"push": {"channel": channel, "pub": {"data": data}}}))


HUBS = web.AppKey("cadenza_ws_hubs", dict[MockState, WsHub])


def hub_for(app: web.Application, state: MockState) -> WsHub:
    """The hub of `state`'s connections, made (and told of its events) on first use."""
    hubs = app[HUBS]
    hub = hubs.get(state)
    if hub is None:
        hub = hubs[state] = WsHub()
        state.on_reset.append(hub.close_all)
        state.on_logout.append(hub.token_ended)
        state.on_channel_event.append(lambda event: channel_event(state, hub, event))
    return hub


def forget(hubs: dict[MockState, WsHub], space: Namespace) -> None:
    hub = hubs.pop(space.state, None)
    if hub is not None:
        hub.close_all(DISCONNECT_FORCE_NO_RECONNECT)


def channel_event(state: MockState, hub: WsHub, event: ChannelEvent) -> None:
    """Publish what the engine says a trading account's channel carries (the document's
    rpc*UpdatedEvent shapes, see `rpc_wire.event`)."""
    if not hub.clients:
        return
    record = event.record
    creds = (
        state.store.accounts.credentials_of(record) if isinstance(record, TradingAccount) else []
    )
    hub.publish(CHANNEL_PREFIX + event.trading_account_id, rpc_wire.event(event, creds))


def journal_command(
    state: MockState,
    method: str,
    path: str,
    params: Any,
    status: int,
    started: float,
    user: User,
    hints: tuple[str, ...],
    text: str | None,
    note: str | None = None,
) -> None:
    """One journal entry for a WebSocket command (RPC, SUBSCRIBE), like a request's."""
    if not state.journal.limit:
        return
    state.journal.record(
        (
            state.clock.now_ms(),
            method,
            path,
            "",
            (),
            params,
            status,
            (time.perf_counter() - started) * 1000,
            user.user_id,
            note,
            hints,
            kept_answer(text),
        )
    )

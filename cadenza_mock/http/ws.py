"""Cadenza's WebSocket API: the Centrifugo client protocol (JSON) at /connection/websocket.

The transport only: frames in, commands parsed, replies and pushes out. Who the caller is
comes from the store (the same tokens as REST), what an RPC does from `cadenza_mock.rpc`
(which calls the same engine methods as the REST handlers), what a reply looks like from
`cadenza_mock.rpc_wire`. One `WsHub` per state (the server's, and each namespace's) holds
its open connections: a load or reset closes them, a logout closes its token's, an expired
token's are closed on the mock clock, and credential changes are pushed to the channels of
the accounts they back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from cadenza_mock import rpc, rpc_wire
from cadenza_mock.engine.faults import Decision, RequestView
from cadenza_mock.engine.hints import rpc_hints
from cadenza_mock.engine.journal import kept_answer, redact_body
from cadenza_mock.engine.namespaces import Namespace
from cadenza_mock.engine.state import MockState
from cadenza_mock.errors import ApiError
from cadenza_mock.http.keys import (
    HANDLER_ERROR_HOOK,
    HINTS,
    NAMESPACES,
    REQUEST_STATE,
    STATE,
    STOPPING,
)
from cadenza_mock.http.middleware import error_response, guarded, named_namespace
from cadenza_mock.model import User
from cadenza_mock.seeded import rng_for, uuid4_from
from cadenza_mock.version import __version__

log = logging.getLogger("cadenza_mock")
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

WS_PATH = "/connection/websocket"
PING_SECONDS = 25  # the server pings this often; the client answers with a pong
EXPIRY_CHECK_SECONDS = 0.2  # how often connections are checked against the mock clock
MAX_FRAME_BYTES = 1024 * 1024  # like a REST body
CHANNEL_PREFIX = "tradingAccount:"

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
DISCONNECT_INVALID_TOKEN = (3500, "invalid token")
DISCONNECT_BAD_REQUEST = (3501, "bad request")
DISCONNECT_FORCE_NO_RECONNECT = (3503, "force disconnect")


class _Disconnect(Exception):
    """Close the connection with this protocol code and reason."""

    def __init__(self, code: tuple[int, str]) -> None:
        super().__init__(code[1])
        self.code = code


@dataclass(eq=False)
class WsClient:
    """One open connection: who it speaks for, what it listens to, what it sends next."""

    ws: web.WebSocketResponse
    state: MockState  # the server's, or the namespace's its header or token selects
    hub: WsHub
    # Numbered by its hub at connect, so a namespace's clients never shift the ids the
    # server's own clients get (seeded: a rerun sees the same ids).
    client_id: str = ""
    user: User | None = None
    token: str | None = None
    expires_at_ms: int | None = None
    channels: set[str] = field(default_factory=set)
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    closing: tuple[int, str] | None = None

    def send(self, message: dict[str, Any]) -> None:
        self.outbox.put_nowait(_dumps(message))

    def close(self, code: tuple[int, str]) -> None:
        """Close after what is already queued is sent."""
        if self.closing is None:
            self.closing = code
            self.outbox.put_nowait(None)


class WsHub:
    """The open connections of one state."""

    def __init__(self) -> None:
        self.clients: set[WsClient] = set()
        self.opened = 0  # numbers the client ids (seeded, so a rerun sees the same ids)

    def close_all(self, code: tuple[int, str] = DISCONNECT_SHUTDOWN) -> None:
        for client in list(self.clients):
            client.close(code)

    def token_ended(self, token: str) -> None:
        """A logout: that token's connections end (and may not reconnect with it)."""
        for client in list(self.clients):
            if client.token == token:
                client.close(DISCONNECT_INVALID_TOKEN)

    def expire(self, now_ms: int) -> None:
        for client in list(self.clients):
            if client.expires_at_ms is not None and client.expires_at_ms <= now_ms:
                client.close(DISCONNECT_EXPIRED)

    def publish(self, channel: str, data: Any) -> None:
        for client in list(self.clients):
            if channel in client.channels:
                client.send({"push": {"channel": channel, "pub": {"data": data}}})


HUBS = web.AppKey("cadenza_ws_hubs", dict[MockState, WsHub])


def hub_for(app: web.Application, state: MockState) -> WsHub:
    """The hub of `state`'s connections, made (and told of its events) on first use."""
    hubs = app[HUBS]
    hub = hubs.get(state)
    if hub is None:
        hub = hubs[state] = WsHub()
        state.on_reset.append(hub.close_all)
        state.on_logout.append(hub.token_ended)
        state.on_credential_change.append(lambda cred: _credential_changed(state, hub, cred))
    return hub


def attach(app: web.Application) -> None:
    """Serve the WebSocket endpoint on `app`, with its hubs and clock watcher."""
    hubs = app[HUBS] = {}
    hub_for(app, app[STATE])
    spaces = app.get(NAMESPACES)
    if spaces is not None:
        # A dropped namespace's hub goes, its connections closed (retire() follows).
        spaces.on_drop.append(lambda space: _forget(hubs, space))
    refused = "this is the WebSocket endpoint: send an upgrade (Upgrade: websocket)"
    app.router.add_get(WS_PATH, guarded(websocket, refused))

    async def watch_clock(app: web.Application) -> Any:
        async def loop() -> None:
            while True:
                await asyncio.sleep(EXPIRY_CHECK_SECONDS)
                for state, hub in list(hubs.items()):
                    if hub.clients:
                        hub.expire(state.clock.now_ms())

        task = asyncio.ensure_future(loop())
        yield
        task.cancel()
        for hub in list(hubs.values()):
            hub.close_all()

    app.cleanup_ctx.append(watch_clock)

    async def close_on_shutdown(app: web.Application) -> None:
        # Before aiohttp cancels handlers: each connection gets its close frame.
        for hub in list(hubs.values()):
            hub.close_all()
        for _ in range(50):
            if not any(hub.clients for hub in hubs.values()):
                return
            await asyncio.sleep(0.01)

    app.on_shutdown.append(close_on_shutdown)


def _forget(hubs: dict[MockState, WsHub], space: Namespace) -> None:
    hub = hubs.pop(space.state, None)
    if hub is not None:
        hub.close_all(DISCONNECT_FORCE_NO_RECONNECT)


def _credential_changed(state: MockState, hub: WsHub, cred: Any) -> None:
    """Push `event.credential.updated` to every account channel the credential backs."""
    if not hub.clients:
        return
    data = rpc_wire.credential_event(cred)
    for account in state.store.accounts.backed_by(cred.credential_id):
        hub.publish(CHANNEL_PREFIX + account.trading_account_id, data)


async def websocket(request: web.Request) -> web.StreamResponse:
    try:
        state = named_namespace(request) or request.app[STATE]
    except ApiError as err:  # a namespace header naming none
        return error_response(err, request.app[STATE].store)
    decision = _decide(
        state, RequestView(request.method, request.path, request.query, request.headers), None
    )
    if decision is not None:  # a fault on the upgrade itself
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.action == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=499)
        if decision.error is not None:
            return error_response(decision.error, state.store)
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, autoping=True)
    await ws.prepare(request)
    if state.retired:  # its namespace was dropped during the delay or the handshake
        await ws.close(code=DISCONNECT_FORCE_NO_RECONNECT[0])
        return ws
    hub = hub_for(request.app, state)
    client = WsClient(ws, state, hub)
    hub.clients.add(client)
    writer = asyncio.ensure_future(_write(client))
    pinger = asyncio.ensure_future(_ping(client))
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                raise _Disconnect(DISCONNECT_BAD_REQUEST)  # JSON protocol: text frames only
            for line in message.data.split("\n"):
                if line.strip():
                    await _command(request, client, line)
            if client.closing is not None or request.app[STOPPING].is_set():
                break
    except _Disconnect as exc:
        client.close(exc.code)
    finally:
        client.hub.clients.discard(client)
        client.close(client.closing or DISCONNECT_SHUTDOWN)
        pinger.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, 5)
    return ws


async def _write(client: WsClient) -> None:
    """The one task that writes to the socket: replies and pushes keep their order."""
    ws = client.ws
    while True:
        item = await client.outbox.get()
        if item is None:
            code, reason = client.closing or DISCONNECT_SHUTDOWN
            await ws.close(code=code, message=reason.encode())
            return
        if ws.closed:
            return
        try:
            await ws.send_str(item)
        except (ConnectionError, RuntimeError):
            return


async def _ping(client: WsClient) -> None:
    while True:
        await asyncio.sleep(PING_SECONDS)
        if client.user is not None:
            client.outbox.put_nowait("{}")


def _enter_namespace(request: web.Request, client: WsClient, body: Any) -> None:
    """A connect whose token belongs to a namespace moves the connection to that
    namespace's hub (unless a header named the namespace at the upgrade)."""
    spaces = request.app.get(NAMESPACES)
    token = body.get("token") if isinstance(body, dict) else None
    if spaces is None or not isinstance(token, str) or request.get(REQUEST_STATE) is not None:
        return  # a URL or header named the namespace: the token does not choose
    found = spaces.for_token(token)
    if found is None:
        return
    client.hub.clients.discard(client)
    client.state, client.hub = found, hub_for(request.app, found)
    client.hub.clients.add(client)


def _decide(state: MockState, view: RequestView, user: User | None) -> Decision | None:
    return state.faults.decide(view, state.clock.now_ms(), lambda: user)


async def _command(request: web.Request, client: WsClient, line: str) -> None:
    """One command of the Centrifugo protocol."""
    try:
        command = json.loads(line)
    except ValueError:
        raise _Disconnect(DISCONNECT_BAD_REQUEST) from None
    if not isinstance(command, dict):
        raise _Disconnect(DISCONNECT_BAD_REQUEST)
    if not command:
        return  # a pong
    command_id = command.get("id")
    if not isinstance(command_id, int) or isinstance(command_id, bool) or command_id <= 0:
        if "send" in command:
            return  # an asynchronous message: nobody listens to those here
        raise _Disconnect(DISCONNECT_BAD_REQUEST)
    kinds = [k for k in ("connect", "rpc", "subscribe", "unsubscribe", "refresh") if k in command]
    if kinds == ["connect"] and client.user is None:
        _enter_namespace(request, client, command.get("connect"))
    state = client.state
    if client.user is None and kinds != ["connect"]:
        raise _Disconnect(DISCONNECT_BAD_REQUEST)  # connect comes first, and once
    if len(kinds) != 1:
        if any(k in command for k in ("publish", "presence", "presence_stats", "history")):
            client.send(_error(command_id, ERROR_NOT_AVAILABLE))
            return
        raise _Disconnect(DISCONNECT_BAD_REQUEST)
    kind = kinds[0]
    body = command[kind]
    if not isinstance(body, dict):
        raise _Disconnect(DISCONNECT_BAD_REQUEST)
    if kind == "connect":
        if client.user is not None:
            raise _Disconnect(DISCONNECT_BAD_REQUEST)
        _connect(state, client, command_id, body)
    elif kind == "refresh":
        _refresh(state, client, command_id, body)
    elif kind == "subscribe":
        _subscribe(state, client, command_id, body)
    elif kind == "unsubscribe":
        client.channels.discard(str(body.get("channel", "")))
        client.send({"id": command_id, "unsubscribe": {}})
    else:
        await _rpc(request, client, command_id, body)


def _error(command_id: int, error: tuple[int, str], temporary: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"code": error[0], "message": error[1]}
    if temporary:
        found["temporary"] = True
    return {"id": command_id, "error": found}


def _who(state: MockState, token: Any) -> tuple[User, int | None]:
    """The user a token speaks for and when it expires (ms; None: never), or the
    protocol's answer: an expired token is error 109, any other bad one a disconnect."""
    found = state.store.lookup_token(token) if isinstance(token, str) and token else None
    if found is None:
        raise _Disconnect(DISCONNECT_INVALID_TOKEN)
    user, expired = found
    if expired:
        raise _TokenExpired
    return user, state.store.token_expiry_ms(token)


# The engine's ownership answers, as the protocol's subscribe errors.
_CHANNEL_ERRORS = {404: ERROR_UNKNOWN_CHANNEL, 403: ERROR_PERMISSION_DENIED}


class _TokenExpired(Exception):
    pass


def _session_reply(state: MockState, client: WsClient) -> dict[str, Any]:
    reply: dict[str, Any] = {"client": client.client_id, "version": f"cadenza-mock {__version__}"}
    if client.expires_at_ms is not None:
        ttl = max(1, (client.expires_at_ms - state.clock.now_ms() + 999) // 1000)
        reply |= {"expires": True, "ttl": ttl}
    return reply


def _connect(state: MockState, client: WsClient, command_id: int, body: dict[str, Any]) -> None:
    try:
        user, expires = _who(state, body.get("token"))
    except _TokenExpired:
        client.send(_error(command_id, ERROR_TOKEN_EXPIRED, temporary=True))
        return
    client.user, client.token, client.expires_at_ms = user, body["token"], expires
    hub = client.hub
    hub.opened += 1
    client.client_id = uuid4_from(rng_for(state.scenario.seed, "ws-client", hub.opened))
    client.send(
        {
            "id": command_id,
            "connect": {**_session_reply(state, client), "ping": PING_SECONDS, "pong": True},
        }
    )


def _refresh(state: MockState, client: WsClient, command_id: int, body: dict[str, Any]) -> None:
    try:
        user, expires = _who(state, body.get("token"))
    except _TokenExpired:
        client.send(_error(command_id, ERROR_TOKEN_EXPIRED, temporary=True))
        return
    if client.user is None or user.user_id != client.user.user_id:
        raise _Disconnect(DISCONNECT_INVALID_TOKEN)  # a refresh cannot switch users
    client.token, client.expires_at_ms = body["token"], expires
    client.send({"id": command_id, "refresh": _session_reply(state, client)})


def _subscribe(state: MockState, client: WsClient, command_id: int, body: dict[str, Any]) -> None:
    channel = body.get("channel")
    if not isinstance(channel, str) or not channel.startswith(CHANNEL_PREFIX):
        client.send(_error(command_id, ERROR_UNKNOWN_CHANNEL))
        return
    assert client.user is not None
    try:  # whose account it is: the engine's rule, as for REST
        state.store.accounts.owned(client.user, channel.removeprefix(CHANNEL_PREFIX))
    except ApiError as err:
        client.send(_error(command_id, _CHANNEL_ERRORS[err.status]))
        return
    if channel in client.channels:
        client.send(_error(command_id, ERROR_ALREADY_SUBSCRIBED))
        return
    client.channels.add(channel)
    client.send({"id": command_id, "subscribe": {}})


async def _rpc(
    request: web.Request, client: WsClient, command_id: int, body: dict[str, Any]
) -> None:
    """An RPC: faults first (as for HTTP), then the engine; journaled like a request."""
    state = client.state
    generation = state.generation
    started = time.perf_counter()
    method = body.get("method")
    data = body.get("data", {})
    assert client.user is not None
    user = client.user
    name = method if isinstance(method, str) else ""
    decision = _decide(state, RequestView("RPC", name, {}, {}), user)
    status, note = 200, decision.note if decision is not None else None
    text: str | None = None  # the reply frame
    if decision is not None and decision.delay:
        await asyncio.sleep(decision.delay)
        if state.generation != generation:
            return  # a reset came in between: the connection is closing anyway
    if decision is not None and decision.action == "drop":
        status = 0
        client.close(DISCONNECT_FORCE_NO_RECONNECT)
    elif decision is not None and decision.error is not None:
        text, status = (
            _dumps(rpc_wire.error_reply(command_id, decision.error)),
            decision.error.status,
        )
    else:
        outcome = decision.venue_outcome if decision is not None else None
        try:
            result = rpc.call(state.store, user, name, data, outcome)
            text = f'{{"id":{command_id},"rpc":{{"data":{result}}}}}'
        except rpc.MethodNotFound:
            text, status = _dumps(_error(command_id, ERROR_METHOD_NOT_FOUND)), 404
        except ApiError as err:
            text, status = _dumps(rpc_wire.error_reply(command_id, err)), err.status
        except Exception as exc:  # a bug in the mock: logged and reported, as for REST
            log.exception("unexpected error answering RPC %s", name)
            hook = request.app.get(HANDLER_ERROR_HOOK)
            if hook is not None:
                hook(f"RPC {name}", exc)
            text, status = _dumps(_error(command_id, ERROR_INTERNAL, temporary=True)), 500
        if decision is not None and decision.action == "malformed":
            text = text[: len(text) // 2]
    if text is not None:
        client.outbox.put_nowait(text)
    if state.journal.limit and state.generation == generation:
        params = redact_body(data)
        known = rpc.METHODS.get(name) if data and request.app[HINTS] else None
        state.journal.record(
            (
                state.clock.now_ms(),
                "RPC",
                name,
                "",
                (),
                params,
                status,
                (time.perf_counter() - started) * 1000,
                user.user_id,
                note,
                rpc_hints(name, known.params, params) if known is not None else (),
                kept_answer(text),
            )
        )

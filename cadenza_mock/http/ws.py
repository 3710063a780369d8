"""Cadenza's WebSocket API: the Centrifugo client protocol (JSON) at /connection/websocket.

The transport only: frames in, commands parsed, replies and pushes out. Who the caller is
comes from the store (the same tokens as REST), what an RPC does from `cadenza_mock.http.rpc`
(which calls the same engine methods as the REST handlers), what a reply looks like from
`cadenza_mock.contract.rpc_wire`. One `WsHub` per state (the server's, and each namespace's) holds
its open connections: a load or reset closes them, a logout closes its token's, an expired
token's are closed on the mock clock, and what the engine says a trading account's channel
carries (`engine.subscriptions`) is published there. What one client may cost (queued
bytes, lines per frame, time to connect, open connections) is bounded: see `ws_limits`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from cadenza_mock.contract import rpc_wire
from cadenza_mock.contract.errors import TOO_MANY_CONNECTIONS, ApiError
from cadenza_mock.contract.model import User
from cadenza_mock.contract.operation_type import WS_PATH
from cadenza_mock.engine.faults import Decision, RequestView
from cadenza_mock.engine.hints import channel_hints, rpc_hints
from cadenza_mock.engine.journal import redact_body
from cadenza_mock.engine.market_feed import ChannelError
from cadenza_mock.engine.orders import Order
from cadenza_mock.engine.state import MockState
from cadenza_mock.http import rpc, ws_fast
from cadenza_mock.http.fault_acts import connected
from cadenza_mock.http.keys import (
    HANDLER_ERROR_HOOK,
    HINTS,
    NAMESPACES,
    REQUEST_STATE,
    STATE,
    STOPPING,
)
from cadenza_mock.http.middleware import error_response, guarded, named_namespace
from cadenza_mock.http.rpc_trading import AwaitClosed
from cadenza_mock.http.ws_limits import (
    CLOSE_SECONDS,
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_MAX_CONNECTIONS,
    SLOW_SECONDS,
    YIELD_EVERY,
    Connections,
    frame_lines,
    pause,
)
from cadenza_mock.http.ws_market import DEFAULT_INTERVAL, MARKET_CHANNELS, MarketChannels, refusal
from cadenza_mock.http.ws_orders import answer_closed, end_waits, tick_orders
from cadenza_mock.http.ws_session import (
    CHANNEL_PREFIX,
    DISCONNECT_BAD_REQUEST,
    DISCONNECT_FORCE_NO_RECONNECT,
    DISCONNECT_INVALID_TOKEN,
    DISCONNECT_SHUTDOWN,
    ERROR_ALREADY_SUBSCRIBED,
    ERROR_INTERNAL,
    ERROR_METHOD_NOT_FOUND,
    ERROR_NOT_AVAILABLE,
    ERROR_PERMISSION_DENIED,
    ERROR_TOKEN_EXPIRED,
    ERROR_UNKNOWN_CHANNEL,
    HUBS,
    WsClient,
    dumps,
    forget,
    hub_for,
    journal_command,
)
from cadenza_mock.scenario.replay import replay_key
from cadenza_mock.seeded import rng_for, uuid4_from
from cadenza_mock.version import __version__

log = logging.getLogger("cadenza_mock")

PING_SECONDS = 25  # the server pings this often; the client answers with a pong
EXPIRY_CHECK_SECONDS = 0.2  # how often connections are checked against the mock clock
MAX_FRAME_BYTES = 1024 * 1024  # like a REST body
# Messages after which nothing more is read from a socket.
_ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)
# Commands the protocol has and the mock does not serve: error 108, not a disconnect.
_NOT_AVAILABLE = ("publish", "presence", "presence_stats", "history")
# Commands the mock serves, each in a frame of its own kind.
_COMMANDS = ("connect", "rpc", "subscribe", "unsubscribe", "refresh", "ping")


class _Disconnect(Exception):
    """Close the connection with this protocol code and reason."""

    def __init__(self, code: tuple[int, str]) -> None:
        super().__init__(code[1])
        self.code = code


CONNECTIONS = web.AppKey("cadenza_ws_connections", Connections)


def attach(
    app: web.Application,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    market_interval: float = DEFAULT_INTERVAL,
) -> None:
    """Serve the WebSocket endpoint on `app`, with its hubs and clock watcher;
    `max_connections`: how many may be open at once (0: none); `market_interval`: seconds
    between the market channels' publications on a running clock."""
    hubs = app[HUBS] = {}
    app[MARKET_CHANNELS] = MarketChannels(hubs, market_interval)
    app[CONNECTIONS] = Connections(max_connections)
    hub_for(app, app[STATE])
    spaces = app.get(NAMESPACES)
    if spaces is not None:
        # A dropped namespace's hub goes, its connections closed (retire() follows).
        spaces.on_drop.append(lambda space: forget(hubs, space))
    refused = "this is the WebSocket endpoint: send an upgrade (Upgrade: websocket)"
    app.router.add_get(WS_PATH, guarded(websocket, refused))

    async def watch_clock(app: web.Application) -> Any:
        async def loop() -> None:
            while True:
                await asyncio.sleep(EXPIRY_CHECK_SECONDS)
                for state, hub in list(hubs.items()):
                    if hub.expiring:
                        hub.expire(state.clock.token_ms())
                    if hub.clients and state.clock.frozen_ms is None:
                        tick_orders(state)  # a running clock's fills reach the channels

        task = asyncio.ensure_future(loop())
        yield
        task.cancel()
        app[MARKET_CHANNELS].stop()
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


async def websocket(request: web.Request) -> web.StreamResponse:
    try:
        state = named_namespace(request) or request.app[STATE]
    except ApiError as err:  # a namespace header naming none
        return error_response(err, request.app[STATE].store)
    connections = request.app[CONNECTIONS]
    if not connections.admit():  # answered before the upgrade: no socket is kept
        return error_response(_too_many(connections), state.store)
    try:
        return await _serve(request, state)
    finally:
        connections.leave()


def _too_many(connections: Connections) -> ApiError:
    if connections.limit == 0:
        detail = "WebSocket connections are off (serve --max-connections 0)"
    else:
        detail = (
            f"{connections.open} WebSocket connections are open, the most this server "
            "takes (serve --max-connections)"
        )
    return TOO_MANY_CONNECTIONS.error(detail, headers={"Retry-After": "1"})


def _refused(request: web.Request) -> web.StreamResponse:
    """No answer at all: the upgrade's `drop` fault, or a server stopping during a delay."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=499)


async def _serve(request: web.Request, state: MockState) -> web.StreamResponse:
    stopping = request.app[STOPPING]
    decision = _decide(
        state, RequestView(request.method, request.path, request.query, request.headers), None
    )
    if decision is not None:  # a fault on the upgrade itself
        if decision.delay and not await pause(
            decision.delay, lambda: connected(request) and not stopping.is_set()
        ):
            return _refused(request)
        if decision.dropped:
            return _refused(request)
        if decision.error is not None:
            return error_response(decision.error, state.store)
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, autoping=True)
    tap = ws_fast.install(request.protocol, journal_command, request.app[HINTS], stopping.is_set)
    await ws.prepare(request)
    if state.retired:  # its namespace was dropped during the delay or the handshake
        await ws.close(code=DISCONNECT_FORCE_NO_RECONNECT[0])
        return ws
    hub = hub_for(request.app, state)
    client = WsClient(ws, state, hub, request.transport)
    if tap is not None:
        tap.client = client
    hub.join(client)
    writer = asyncio.ensure_future(_write(client))
    pinger = asyncio.ensure_future(_ping(client))
    stale = asyncio.get_running_loop().call_later(CONNECT_TIMEOUT_SECONDS, client.stale)
    unyielded = 0  # commands run since this reader last let the others run
    try:
        while True:
            if client.lookahead is None:
                client.reading = True  # until a frame comes (ws_fast answers some)
                message = await ws.receive()
                client.reading = False
            else:
                message, client.lookahead = client.lookahead, None
            if message.type in _ENDED:
                break
            if message.type != WSMsgType.TEXT:
                raise _Disconnect(DISCONNECT_BAD_REQUEST)  # JSON protocol: text frames only
            lines = frame_lines(message.data)
            if lines is None:
                raise _Disconnect(DISCONNECT_BAD_REQUEST)  # over MAX_COMMANDS_PER_FRAME
            for index, line in enumerate(lines):
                # Other clients' turn between commands: one frame cannot hold the server,
                # nor can frames already read (a frame's first command usually waited for
                # the frame: a client calling in turn pays no extra loop pass each time).
                if index or unyielded >= YIELD_EVERY:
                    await asyncio.sleep(0)
                    unyielded = 0
                unyielded += 1
                # Backpressure: no next command while too much waits for this client.
                full = client.outbox.full
                if full and not await client.outbox.drained(SLOW_SECONDS) and not client.closing:
                    client.slow()  # it has not read for SLOW_SECONDS
                if client.closing is not None:
                    break
                await _command(request, client, line)
            if client.closing is not None or stopping.is_set():
                break
    except _Disconnect as exc:
        client.close(exc.code)
    finally:
        if tap is not None:
            ws_fast.detach(request.protocol)
        stale.cancel()
        end_waits(client)
        client.hub.leave(client)
        client.close(client.closing or DISCONNECT_SHUTDOWN)
        pinger.cancel()
        ending = [writer] if client.closer is None else [writer, client.closer]
        _, late = await asyncio.wait(ending, timeout=CLOSE_SECONDS + 1)
        if late:  # still writing to a client that does not read
            client.abort()
            for task in late:
                task.cancel()
    return ws


async def _write(client: WsClient) -> None:
    """The one task that writes replies and pushes (so they keep their order), then the
    close frame."""
    ws = client.ws
    try:
        while (text := await client.outbox.get()) is not None:
            if ws.closed:
                return
            await ws.send_str(text)
    except (ConnectionError, RuntimeError):
        return
    if not ws.closed:  # (a slow client's closer has sent it already)
        await client.send_close()


async def _hold(client: WsClient, seconds: float, still: Callable[[], bool]) -> bool:
    """A delay fault's hold on a reply: it ends early once `still()` is false or the
    client closes (the socket is read meanwhile for its close frame; a frame that comes
    first is kept for the reader loop, which takes it next). True: the whole time passed."""
    watch = asyncio.ensure_future(client.ws.receive())
    try:
        return await pause(seconds, lambda: still() and not _closed_by(watch))
    finally:
        if not watch.done():
            watch.cancel()
            await asyncio.wait([watch])  # receive() is free before the reader loop calls it
        elif not watch.cancelled() and watch.exception() is None:
            client.lookahead = watch.result()  # the next frame, or the close to end on


def _closed_by(watch: asyncio.Future[WSMessage]) -> bool:
    if not watch.done():
        return False
    return watch.cancelled() or watch.exception() is not None or watch.result().type in _ENDED


async def _ping(client: WsClient) -> None:
    while True:
        await asyncio.sleep(PING_SECONDS)
        if client.user is not None:
            client.push("{}")


def _namespace_of(request: web.Request, body: dict[str, Any]) -> MockState | None:
    """The namespace a connect's token belongs to, unless a URL or header named the
    namespace at the upgrade (then the token does not choose)."""
    spaces = request.app.get(NAMESPACES)
    token = body.get("token")
    if spaces is None or not isinstance(token, str) or request.get(REQUEST_STATE) is not None:
        return None
    return spaces.for_token(token)


def _decide(state: MockState, view: RequestView, user: User | None) -> Decision | None:
    return state.faults.decide(view, state.clock.now_ms(), lambda: user)


async def _command(request: web.Request, client: WsClient, line: str) -> None:
    """One command of the Centrifugo protocol. Until a connect succeeds, a connect is the
    only command taken: anything else (a pong too) closes with 3501."""
    try:
        command = json.loads(line)
    except ValueError:
        raise _Disconnect(DISCONNECT_BAD_REQUEST) from None
    if not isinstance(command, dict):
        raise _Disconnect(DISCONNECT_BAD_REQUEST)
    connected = client.user is not None
    if not command:
        if not connected:
            raise _Disconnect(DISCONNECT_BAD_REQUEST)
        return  # a pong
    command_id = command.get("id")
    if not isinstance(command_id, int) or isinstance(command_id, bool) or command_id <= 0:
        if "send" in command and connected:
            return  # an asynchronous message: nobody listens to those here
        raise _Disconnect(DISCONNECT_BAD_REQUEST)
    kinds = [k for k in _COMMANDS if k in command]
    unavailable = any(k in command for k in _NOT_AVAILABLE)
    if not connected and (kinds != ["connect"] or unavailable):
        raise _Disconnect(DISCONNECT_BAD_REQUEST)  # connect comes first, and once
    if len(kinds) != 1:
        if unavailable:
            client.send(_error(command_id, ERROR_NOT_AVAILABLE))
            return
        raise _Disconnect(DISCONNECT_BAD_REQUEST)
    kind = kinds[0]
    body = command[kind]
    if not isinstance(body, dict):
        raise _Disconnect(DISCONNECT_BAD_REQUEST)
    state = client.state
    if kind == "connect":
        if connected:
            raise _Disconnect(DISCONNECT_BAD_REQUEST)
        _connect(request, client, command_id, body)
    elif kind == "refresh":
        _refresh(state, client, command_id, body)
    elif kind == "subscribe":
        market = request.app[MARKET_CHANNELS]
        _subscribe(state, client, command_id, body, hints=request.app[HINTS], market=market)
    elif kind == "ping":
        # The document's ping command (protocol v1's; Centrifugo v2 servers refuse it):
        # answered with its empty result, only after connect like every other command.
        client.send({"id": command_id, "ping": {}})
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
    """`expires`/`ttl` always, as the document's connect result shows them (false and 0
    for a scenario's static token, which never expires)."""
    reply: dict[str, Any] = {"client": client.client_id, "version": f"cadenza-mock {__version__}"}
    if client.expires_at_ms is None:
        return reply | {"expires": False, "ttl": 0}
    ttl = max(1, (client.expires_at_ms - state.clock.token_ms() + 999) // 1000)
    return reply | {"expires": True, "ttl": ttl}


def _connect(request: web.Request, client: WsClient, command_id: int, body: dict[str, Any]) -> None:
    """A connect whose token belongs to a namespace moves the connection to that
    namespace's hub, once it succeeds: a refused one leaves it where it was."""
    state = _namespace_of(request, body) or client.state
    try:
        user, expires = _who(state, body.get("token"))
    except _TokenExpired:
        client.send(_error(command_id, ERROR_TOKEN_EXPIRED, temporary=True))
        return
    client.user, client.token, client.expires_at_ms = user, body["token"], expires
    if state is not client.state:
        client.hub.leave(client)
        client.state, client.hub = state, hub_for(request.app, state)
    hub = client.hub
    hub.join(client)
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
    client.hub.watch_expiry(client)
    client.send({"id": command_id, "refresh": _session_reply(state, client)})


# What a refused subscribe is journaled as (the protocol's code as an HTTP status).
_SUBSCRIBE_STATUS = {ERROR_UNKNOWN_CHANNEL[0]: 404, ERROR_PERMISSION_DENIED[0]: 403}


def _subscribe(
    state: MockState,
    client: WsClient,
    command_id: int,
    body: dict[str, Any],
    *,
    hints: bool,
    market: MarketChannels,
) -> None:
    """A channel subscribe: journaled (method SUBSCRIBE, the channel as path), with a hint
    when the engine says nothing feeds that channel yet (no trading account or order book
    subscription). A market channel's first publications follow the reply."""
    started = time.perf_counter()
    channel = body.get("channel")
    assert client.user is not None
    refused: tuple[int, str] | None = None
    found = None
    fed = True
    is_market = isinstance(channel, str) and channel.startswith("market:")
    if is_market:
        assert isinstance(channel, str)
        try:
            fed = market.check(state, channel)
        except ChannelError as err:
            refused = (ERROR_UNKNOWN_CHANNEL[0], refusal(err))
    elif not isinstance(channel, str) or not channel.startswith(CHANNEL_PREFIX):
        refused = ERROR_UNKNOWN_CHANNEL
    else:
        try:  # whose account it is: the engine's rule, as for REST
            found = state.store.accounts.owned(client.user, channel.removeprefix(CHANNEL_PREFIX))
        except ApiError as err:
            refused = _CHANNEL_ERRORS[err.status]
    if refused is None and channel in client.channels:
        refused = ERROR_ALREADY_SUBSCRIBED
    if refused is not None:
        text = dumps(_error(command_id, refused))
        status = _SUBSCRIBE_STATUS.get(refused[0], 409)
    else:
        assert isinstance(channel, str) and (found is not None or is_market)
        client.channels.add(channel)
        text, status = dumps({"id": command_id, "subscribe": {}}), 200
    client.send_text(text)
    if refused is None and is_market:
        assert isinstance(channel, str)
        market.joined(state, client, channel)
    if found is not None:
        fed = state.store.subscriptions.feeds(found.trading_account_id)
    advice = channel_hints(channel, fed) if hints and isinstance(channel, str) else ()
    journal_command(
        state, "SUBSCRIBE", str(channel or ""), None, status, started, client.user, advice, text
    )


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
    armed = state.faults.armed  # none armed (the usual case): nothing to build
    decision = _decide(state, RequestView("RPC", name, {}, {}), user) if armed else None
    status, note = 200, decision.note if decision is not None else None
    text: str | None = None  # the reply frame
    waiting: Order | None = None  # an awaitClosed submit's order, still open
    if decision is not None and decision.delay:
        stopping = request.app[STOPPING]

        def held() -> bool:  # until a reset, a stop, or the client closing or gone
            return (
                state.generation == generation
                and client.closing is None
                and client.connected()
                and not stopping.is_set()
            )

        if not await _hold(client, decision.delay, held):
            return  # no reply: the connection is closing anyway
    if decision is not None and decision.dropped:
        status = 0
        if decision.close is not None:
            client.close(decision.close)  # a close frame with the fault's code
        else:
            client.cut()  # as a network failure: no close frame, clients reconnect
    elif decision is not None and decision.error is not None:  # `respond`, `rate_limit`
        text, status = _failed(command_id, decision.error), decision.error.status
    else:
        outcome = decision.venue_outcome if decision is not None else None
        replayed = state.scenario.replay and state.scenario.replay.get(
            replay_key(user.user_id, name, redact_body(data))
        )
        try:
            if replayed:  # a recorded query (`replay:`), answered as recorded
                text = f'{{"id":{command_id},"{replayed[0]}":{replayed[1]}}}'
                if replayed[0] == "rpc":
                    text = f'{{"id":{command_id},"rpc":{{"data":{replayed[1]}}}}}'
            else:
                result = rpc.call(state.store, user, name, data, outcome)
                text = f'{{"id":{command_id},"rpc":{{"data":{result}}}}}'
        except AwaitClosed as still:  # answered once final (http/ws_orders.py)
            waiting = still.order
        except rpc.MethodNotFound:
            text, status = dumps(_error(command_id, ERROR_METHOD_NOT_FOUND)), 404
        except ApiError as err:
            text, status = _failed(command_id, err), err.status
        except Exception as exc:  # a bug in the mock: logged and reported, as for REST
            log.exception("unexpected error answering RPC %s", name)
            hook = request.app.get(HANDLER_ERROR_HOOK)
            if hook is not None:
                hook(f"RPC {name}", exc)
            text, status = dumps(_error(command_id, ERROR_INTERNAL, temporary=True)), 500
    cut = decision is not None and decision.cut_answer

    def finish(text: str | None) -> None:
        if text is not None and cut:
            text = text[: len(text) // 2]
        if text is not None:
            client.send_text(text)
        if state.generation == generation:
            params = redact_body(data)
            known = rpc.METHODS.get(name) if data and request.app[HINTS] else None
            advice = rpc_hints(name, known.params, params) if known is not None else ()
            journal_command(state, "RPC", name, params, status, started, user, advice, text, note)

    if waiting is not None:
        answer_closed(client, state, command_id, waiting, finish)
        return
    finish(text)


def _failed(command_id: int, err: ApiError) -> str:
    """A Cadenza error answers the RPC: inside its result, as every source has it (a
    client parses Rpc*Result and reads `.error`); reply-level errors are the protocol's."""
    return dumps({"id": command_id, "rpc": {"data": rpc_wire.error_result(err)}})

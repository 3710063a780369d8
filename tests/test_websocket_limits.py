"""What one WebSocket client may cost the server, over real sockets: a bounded reply queue
(a client that does not read is held back, then closed 3008 `slow`; one that reads late
loses nothing), nothing but `connect` before connect, a bound on lines per frame, a
connect timeout (3502 `stale`), a bound on open connections (`--max-connections`, 503
before the upgrade), a failed connect that leaves the connection where it was, and delay
faults that end when the client goes or the server stops."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from centrifuge import Client
from support import LIST, Served, bearer, run_cli

from cadenza_mock.http import ws, ws_session
from cadenza_mock.http.ws_limits import MAX_COMMANDS_PER_FRAME, QUEUE_MAX_BYTES, Outbox

WS = "/connection/websocket"
ALICE_TOKEN = "alice-token"
# Enough credentials that one list reply is ~20 KB: a client that stops reading fills
# every socket buffer on the way and then the server's queue within a few frames.
FLOOD_SCENARIO: dict[str, Any] = {
    "seed": 5,
    "users": [
        {"email": "alice@example.com", "tokens": [ALICE_TOKEN], "credentials": [{"generate": 60}]}
    ],
}
UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def ws_url(base: Any) -> str:
    return str(base.make_url(WS)).replace("http://", "ws://", 1)


def rpc(command_id: int, method: str = "query.credential.list", **data: Any) -> str:
    return json.dumps({"id": command_id, "rpc": {"method": method, "data": data}})


async def connected(mock: Any, token: str = ALICE_TOKEN) -> aiohttp.ClientWebSocketResponse:
    socket = await mock.ws_connect(WS)
    await socket.send_str(json.dumps({"id": 1, "connect": {"token": token}}))
    reply = json.loads((await socket.receive(timeout=10)).data)
    assert "connect" in reply, reply
    return socket


async def close_of(socket: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str, int]:
    """Read to the end: (close code, reason, text frames read before it)."""
    frames = 0
    while True:
        message = await socket.receive(timeout=10)
        if message.type is aiohttp.WSMsgType.TEXT:
            frames += 1
            continue
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        return socket.close_code, str(message.extra or ""), frames


async def eventually(check: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not so after {seconds} s: {what}"
        await asyncio.sleep(0.02)


def open_connections(mock: Any) -> int:
    return int(mock.server.app[ws.CONNECTIONS].open)


async def rpc_count(socket: aiohttp.ClientWebSocketResponse, command_id: int) -> int:
    await socket.send_str(rpc(command_id))
    reply = json.loads((await socket.receive(timeout=10)).data)
    return len(reply["rpc"]["data"]["data"])


async def first_credential(mock: Any) -> str:
    listed = await (await mock.get(LIST, headers=bearer(ALICE_TOKEN))).json()
    return str(next(c for c in listed["data"] if c["status"] == "ACTIVE")["credentialId"])


# --------------------------------------------------------------------------- slow readers


class QueueWatch:
    """Watches every connection's queue: its largest size, whether one was ever full (the
    reader then holds back), whether pushes overflowed it, and slow closes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.peak = 0
        self.full = self.overflowed = self.slow = False
        put, slow = Outbox.put, ws_session.WsClient.slow

        def watched(outbox: Outbox, text: str, *, push: bool = False) -> bool:
            fits = put(outbox, text, push=push)
            self.peak = max(self.peak, outbox.size)
            self.full |= outbox.full
            self.overflowed |= not fits
            return fits

        def watched_slow(client: ws_session.WsClient) -> None:
            self.slow = True
            slow(client)

        monkeypatch.setattr(Outbox, "put", watched)
        monkeypatch.setattr(ws_session.WsClient, "slow", watched_slow)


async def test_a_client_that_does_not_read_is_held_back_then_closed_slow(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = QueueWatch(monkeypatch)
    monkeypatch.setattr(ws, "SLOW_SECONDS", 0.5)
    monkeypatch.setattr(ws_session, "CLOSE_SECONDS", 30)  # time to read up to the close
    mock = await make_client(FLOOD_SCENARIO)
    other = Client(ws_url(mock), token=ALICE_TOKEN)
    await other.connect()
    flooder = await connected(mock)
    reply_size = len(json.dumps((await other.rpc("query.credential.list", {})).data))
    frame = "\n".join(rpc(n) for n in range(2, 2 + MAX_COMMANDS_PER_FRAME))
    sent = 0
    while not queue.full and sent < 1000:  # up to ~2 GB of replies asked for
        await asyncio.wait_for(flooder.send_str(frame), 10)
        sent += 1
        await asyncio.sleep(0.01)
    assert queue.full, "the server queued 2 GB for a client that reads nothing"
    assert not queue.slow  # held back first: a client may be slow for a moment
    await eventually(lambda: queue.slow, "closed as slow after SLOW_SECONDS")
    code, reason, frames = await close_of(flooder)  # what reached the socket, then the close
    assert (code, reason) == (3008, "slow")
    assert frames < sent * MAX_COMMANDS_PER_FRAME
    # The queue never held more than its bound and a reply.
    assert QUEUE_MAX_BYTES < queue.peak <= QUEUE_MAX_BYTES + 2 * reply_size
    await eventually(lambda: open_connections(mock) == 1, "the slow client's slot is free")
    try:  # the other client was served throughout, and still is
        listed = (await other.rpc("query.credential.list", {})).data["data"]
        assert len(listed) == 60
    finally:
        await other.disconnect()


async def test_a_slow_client_that_still_reads_nothing_is_cut_off(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its close frame waits behind data it does not read: after CLOSE_SECONDS the socket
    goes (a graceful close would wait for it to read, holding the socket for good)."""
    queue = QueueWatch(monkeypatch)
    monkeypatch.setattr(ws, "SLOW_SECONDS", 0.3)
    monkeypatch.setattr(ws_session, "CLOSE_SECONDS", 0.3)
    mock = await make_client(FLOOD_SCENARIO)
    sockets = mock.server.runner.server  # aiohttp's view of the open TCP connections
    flooder = await connected(mock)
    assert len(sockets.connections) == 1
    frame = "\n".join(rpc(n) for n in range(2, 2 + MAX_COMMANDS_PER_FRAME))
    sent = 0
    while not queue.full and sent < 1000:
        await asyncio.wait_for(flooder.send_str(frame), 10)
        sent += 1
        await asyncio.sleep(0.01)
    await eventually(lambda: queue.slow, "closed as slow")
    await eventually(lambda: not sockets.connections, "the socket cut", seconds=5)
    assert open_connections(mock) == 0


async def test_a_client_that_reads_late_gets_every_reply(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replies that outrun the socket hold the next command back instead of closing a
    client that is only a moment behind (large lists pipelined, a GC pause)."""
    queue = QueueWatch(monkeypatch)
    monkeypatch.setattr(ws_session, "QUEUE_MAX_BYTES", 16 * 1024)  # a reply is ~20 KB
    mock = await make_client(FLOOD_SCENARIO)
    socket = await connected(mock)
    sent = 0
    while not queue.full and sent < 20:  # the socket's buffers take the first megabytes
        first = 2 + sent * MAX_COMMANDS_PER_FRAME
        await socket.send_str("\n".join(rpc(n) for n in range(first, first + 100)))
        sent += 1
        await asyncio.sleep(0.05)
    assert queue.full, "the queue never filled: nothing held back"
    await asyncio.sleep(0.3)  # still not reading
    replies = [json.loads((await socket.receive(timeout=10)).data) for _ in range(sent * 100)]
    assert [r["id"] for r in replies] == list(range(2, 2 + sent * MAX_COMMANDS_PER_FRAME))
    assert all(len(r["rpc"]["data"]["data"]) == 60 for r in replies)
    assert await rpc_count(socket, 1_000_000) == 60 and not queue.slow
    assert queue.peak <= 16 * 1024 + 2 * len(json.dumps(replies[0]))
    await socket.close()


async def test_pushes_to_a_subscriber_that_does_not_read_close_it_slow(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog of pushes alone (the client sends nothing): closed all the same, the
    server's reader being idle on that socket."""
    queue = QueueWatch(monkeypatch)
    credential = "11111111-1111-4111-8111-111111111111"
    mock = await make_client(
        {
            "seed": 5,
            "users": [
                {
                    "email": "alice@example.com",
                    "tokens": [ALICE_TOKEN],
                    "credentials": [
                        {
                            "credentialId": credential,
                            "venue": "BINANCE",
                            "apiKey": "pushKEY0123456789abcdef",
                            "apiSecret": "push-secret-0123",
                            "nickname": "n" * 100_000,  # each push ~100 KB
                        }
                    ],
                }
            ],
        }
    )
    r = await mock.post(
        "/api/v3/tradingAccount/connect",
        json={"credentialIds": [credential], "externalTradingAccountId": "spot"},
        headers=bearer(ALICE_TOKEN),
    )
    answer = await r.json()
    assert answer["success"], answer
    account = answer["data"]["tradingAccountId"]
    streamed = await mock.post(  # the server-side subscription that feeds its channel
        "/api/v3/tradingAccount/subscription/subscribe",
        json={"tradingAccountId": account},
        headers=bearer(ALICE_TOKEN),
    )
    assert streamed.status == 200
    listener = await connected(mock)
    await listener.send_str(
        json.dumps({"id": 2, "subscribe": {"channel": f"tradingAccount:{account}"}})
    )
    assert json.loads((await listener.receive(timeout=10)).data) == {"id": 2, "subscribe": {}}
    rotations = 0
    while not queue.overflowed and rotations < 500:  # up to 50 MB of pushes
        rotations += 1
        rotated = await mock.post(
            "/api/v3/credential/rotate",
            json={
                "credentialId": credential,
                "apiKey": f"pushKEY{rotations:020d}",
                "apiSecret": "push-secret-0123",
            },
            headers=bearer(ALICE_TOKEN),
        )
        assert rotated.status == 200
    assert queue.overflowed
    code, reason, pushes = await close_of(listener)
    # Each rotate publishes two events (the credential's, the account's): not all came.
    assert (code, reason) == (3008, "slow") and pushes < 2 * rotations
    await eventually(lambda: open_connections(mock) == 0, "the slow client's slot is free")


# --------------------------------------------------------------------------- before connect


@pytest.mark.parametrize(
    "frame",
    [
        "{}",  # a pong
        "{}\n" * 1000,  # many of them
        json.dumps({"send": {"data": {}}}),  # an asynchronous message
        json.dumps({"id": 1, "publish": {"channel": "x", "data": {}}}),
        json.dumps({"id": 1, "connect": {"token": ALICE_TOKEN}, "publish": {"channel": "x"}}),
        json.dumps({"id": 1, "subscribe": {"channel": "tradingAccount:x"}}),
    ],
)
async def test_nothing_but_connect_before_connect(make_client: Any, frame: str) -> None:
    mock = await make_client("default")
    socket = await mock.ws_connect(WS)
    await socket.send_str(frame)
    code, reason, frames = await close_of(socket)
    assert (code, reason, frames) == (3501, "bad request", 0)
    assert (await mock.get(LIST, headers=bearer(ALICE_TOKEN))).status == 200


async def test_after_connect_pongs_and_async_messages_are_still_taken(make_client: Any) -> None:
    mock = await make_client("default")
    socket = await connected(mock)
    await socket.send_str("\n".join(["{}", json.dumps({"send": {"data": {}}}), rpc(2)]))
    reply = json.loads((await socket.receive(timeout=10)).data)
    assert reply["id"] == 2 and len(reply["rpc"]["data"]["data"]) == 4


# --------------------------------------------------------------------------- frames


async def test_a_frame_of_more_lines_than_the_bound_runs_none_of_them(make_client: Any) -> None:
    mock = await make_client("default")
    credential = await first_credential(mock)
    socket = await connected(mock)
    revoke = rpc(2, "command.credential.revoke", credentialId=credential)
    # The bound itself, with a trailing newline, is taken: one reply per line.
    await socket.send_str("\n".join([rpc(n) for n in range(3, 2 + MAX_COMMANDS_PER_FRAME)]) + "\n")
    replies = [json.loads((await socket.receive(timeout=10)).data) for _ in range(99)]
    assert [r["id"] for r in replies] == list(range(3, 2 + MAX_COMMANDS_PER_FRAME))
    # One line more, the revoke first: the whole frame is refused before any of it runs.
    await socket.send_str("\n".join([revoke, *("{}" for _ in range(MAX_COMMANDS_PER_FRAME))]))
    assert (await close_of(socket))[:2] == (3501, "bad request")
    listed = await (await mock.get(LIST, headers=bearer(ALICE_TOKEN))).json()
    assert next(c for c in listed["data"] if c["credentialId"] == credential)["status"] != (
        "REVOKED"
    )
    journal = (await (await mock.get("/__admin/requests")).json())["data"]
    assert [e["path"] for e in journal if e["method"] == "RPC"] == ["query.credential.list"] * 99


async def test_a_frame_over_the_size_bound_closes_the_connection(make_client: Any) -> None:
    mock = await make_client("default")
    socket = await connected(mock)
    await socket.send_str(rpc(2, nickname="x" * ws.MAX_FRAME_BYTES))
    code, _, frames = await close_of(socket)
    assert code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG and frames == 0
    await eventually(lambda: open_connections(mock) == 0, "the socket's slot is free")


# --------------------------------------------------------------------------- connect timeout


async def test_a_socket_without_a_successful_connect_is_closed_stale(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws, "CONNECT_TIMEOUT_SECONDS", 0.3)
    mock = await make_client("default")
    silent = await mock.ws_connect(WS)
    refused = await mock.ws_connect(WS)  # its token has expired: error 109, then nothing
    await refused.send_str(json.dumps({"id": 1, "connect": {"token": "alice-expired-token"}}))
    assert json.loads((await refused.receive(timeout=10)).data)["error"]["code"] == 109
    good = await connected(mock)
    assert await close_of(silent) == (3502, "stale", 0)
    assert await close_of(refused) == (3502, "stale", 0)
    await asyncio.sleep(0.3)  # well past the timeout: a connected client stays
    assert await rpc_count(good, 2) == 4
    await eventually(lambda: open_connections(mock) == 1, "the stale sockets' slots are free")
    await good.close()


# --------------------------------------------------------------------------- connection bound


async def test_connections_over_the_bound_are_refused_before_the_upgrade(
    make_client: Any,
) -> None:
    mock = await make_client("default", max_ws_connections=2)
    first = await connected(mock)
    second = await mock.ws_connect(WS)  # not connected yet: it holds a socket all the same
    refused = await mock.get(WS, headers=UPGRADE)
    assert refused.status == 503 and refused.headers["Retry-After"] == "1"
    body = await refused.json()
    assert body["success"] is False and body["errno"] == -19006
    assert body["error"].startswith("Service unavailable: 2 WebSocket connections are open")
    assert "--max-connections" in body["error"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await mock.ws_connect(WS)
    assert caught.value.status == 503
    assert (await mock.get(LIST, headers=bearer(ALICE_TOKEN))).status == 200  # REST goes on
    await second.close()
    await eventually(lambda: open_connections(mock) == 1, "the closed socket's slot is free")
    third = await connected(mock)
    assert await rpc_count(third, 2) == await rpc_count(first, 2) == 4
    await first.close()
    await third.close()


async def test_zero_connections_turns_the_websocket_api_off(make_client: Any) -> None:
    mock = await make_client("sdk", max_ws_connections=0)
    refused = await mock.get(WS, headers=UPGRADE)
    body = await refused.json()
    assert refused.status == 503 and body["details"]["code"] == "SERVICE_UNAVAILABLE"
    assert "WebSocket connections are off (serve --max-connections 0)" in body["error"]


# --------------------------------------------------------------------------- namespaces


async def test_a_refused_connect_leaves_the_connection_where_it_was(make_client: Any) -> None:
    mock = await make_client("default")
    assert (await mock.post("/__admin/namespaces", params={"namespace": "a"})).status == 200
    created = await mock.post(
        "/api/v3/credential/create",
        json={"venue": "BINANCE", "apiKey": "NSkeyABCDEFGHIJ0123456789", "apiSecret": "s" * 16},
        headers=bearer("a.alice-token"),
    )
    assert created.status == 200  # namespace a: 5 credentials; the server's own: 4
    socket = await mock.ws_connect(WS)
    await socket.send_str(json.dumps({"id": 1, "connect": {"token": "a.alice-expired-token"}}))
    assert json.loads((await socket.receive(timeout=10)).data)["error"]["code"] == 109
    await socket.send_str(json.dumps({"id": 2, "connect": {"token": ALICE_TOKEN}}))
    assert "connect" in json.loads((await socket.receive(timeout=10)).data)
    assert await rpc_count(socket, 3) == 4  # the server's own state, not a's
    # The other way round: a refused connect on the server's state, then a's token.
    other = await mock.ws_connect(WS)
    await other.send_str(json.dumps({"id": 1, "connect": {"token": "alice-expired-token"}}))
    assert json.loads((await other.receive(timeout=10)).data)["error"]["code"] == 109
    await other.send_str(json.dumps({"id": 2, "connect": {"token": "a.alice-token"}}))
    assert "connect" in json.loads((await other.receive(timeout=10)).data)
    assert await rpc_count(other, 3) == 5
    # Dropping a closes the connection that moved into it, not the other one.
    assert (await mock.delete("/__admin/namespaces/a")).status == 200
    assert (await close_of(other))[0] == 3503
    assert await rpc_count(socket, 4) == 4
    await socket.close()


# --------------------------------------------------------------------------- delays and expiry


async def test_an_rpc_delay_ends_when_the_client_goes(make_client: Any) -> None:
    mock = await make_client("default")
    fault = {"match": {"path": "query.credential.list"}, "delay": 60}
    assert (await mock.post("/__admin/faults", json=fault)).status == 200
    socket = await connected(mock)
    await socket.send_str(rpc(2))
    await asyncio.sleep(0.2)  # the reply is being held
    await socket.close()  # its close frame is read during the delay: answered at once
    await eventually(lambda: open_connections(mock) == 0, "the held handler ended", seconds=5)
    journal = (await (await mock.get("/__admin/requests")).json())["data"]
    assert not [e for e in journal if e["method"] == "RPC"]  # nothing done, nothing answered


async def test_a_frame_sent_during_a_delay_is_answered_after_it_in_order(
    make_client: Any,
) -> None:
    """The socket is read during a delay (to see a close); a command read then waits."""
    mock = await make_client("default")
    fault = {"match": {"path": "query.system.info"}, "delay": 0.3, "times": 1}
    assert (await mock.post("/__admin/faults", json=fault)).status == 200
    socket = await connected(mock)
    await socket.send_str(rpc(2, "query.system.info"))
    await asyncio.sleep(0.1)  # the first reply is being held
    await socket.send_str(rpc(3))
    await socket.send_str(rpc(4))
    replies = [json.loads((await socket.receive(timeout=10)).data) for _ in range(3)]
    assert [r["id"] for r in replies] == [2, 3, 4]
    assert len(replies[1]["rpc"]["data"]["data"]) == 4
    await socket.close()


async def test_an_rpc_delay_ends_when_the_server_begins_to_stop(make_client: Any) -> None:
    from cadenza_mock.http.keys import STOPPING

    mock = await make_client("default")
    fault = {"match": {"path": "query.credential.list"}, "delay": 60}
    assert (await mock.post("/__admin/faults", json=fault)).status == 200
    socket = await connected(mock)
    await socket.send_str(rpc(2))
    await asyncio.sleep(0.2)  # the reply is being held
    mock.server.app[STOPPING].set()  # what SIGTERM sets first
    assert await close_of(socket) == (3001, "shutdown", 0)
    await eventually(lambda: open_connections(mock) == 0, "the held handler ended", seconds=5)


async def test_a_refresh_moves_the_expiry_on(make_client: Any) -> None:
    mock = await make_client("default")
    login = await (
        await mock.post(
            "/api/v3/auth/login", json={"email": "alice@example.com", "password": "correct-horse"}
        )
    ).json()
    socket = await connected(mock, login["data"]["accessToken"])
    await mock.post("/__admin/clock", json={"advance": 1800})
    fresh = await (
        await mock.post(
            "/api/v3/auth/token/refresh", json={"refreshToken": login["data"]["refreshToken"]}
        )
    ).json()
    await socket.send_str(json.dumps({"id": 2, "refresh": {"token": fresh["data"]["accessToken"]}}))
    assert json.loads((await socket.receive(timeout=10)).data)["refresh"]["ttl"] == 3600
    await mock.post("/__admin/clock", json={"advance": 1900})  # past the first expiry only
    await asyncio.sleep(ws.EXPIRY_CHECK_SECONDS * 3)
    assert await rpc_count(socket, 3) == 4
    await mock.post("/__admin/clock", json={"advance": 1800})  # past the refreshed one
    assert (await close_of(socket))[:2] == (3005, "connection expired")


def test_sigterm_with_websocket_delays_pending_exits_at_once(
    serve: Callable[..., Served],
) -> None:
    """A held RPC reply and a held upgrade end when the server stops; the connection
    bound comes from the environment and refuses a third socket."""
    import requests

    served = serve("--quiet", env={"CADENZA_MOCK_MAX_CONNECTIONS": "2"})
    url, _ = served.banner()
    for fault in (
        {"match": {"path": "query.credential.list"}, "delay": 60},
        {"match": {"path": WS}, "delay": 60, "times": 1},
    ):
        assert requests.post(url + "/__admin/faults", json=fault, timeout=10).ok

    async def held_then_stopped() -> tuple[int | None, float]:
        async with aiohttp.ClientSession() as session:
            upgrade = asyncio.ensure_future(session.ws_connect(url + WS))  # held by its delay
            await asyncio.sleep(0.3)
            socket = await session.ws_connect(url + WS)
            await socket.send_str(json.dumps({"id": 1, "connect": {"token": ALICE_TOKEN}}))
            assert "connect" in json.loads((await socket.receive(timeout=10)).data)
            await socket.send_str(rpc(2))  # held by its delay
            refused = await session.get(url + WS, headers=UPGRADE)
            assert refused.status == 503 and (await refused.json())["errno"] == -19006
            await asyncio.sleep(0.3)
            started = time.monotonic()
            assert served.process.poll() is None
            served.process.terminate()
            code, _, _ = await close_of(socket)
            with pytest.raises(aiohttp.ClientError):
                await asyncio.wait_for(upgrade, 10)
            return code, started

    code, started = asyncio.run(held_then_stopped())
    assert code == 3001
    served.process.wait(timeout=30)  # one SIGTERM only: stop() sends none to a process gone
    assert time.monotonic() - started < 5
    exit_code, output = served.stop()
    assert exit_code == 0
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--max-connections", "-1"], {}, "argument --max-connections: '-1': must be 0 or more"),
        ([], {"CADENZA_MOCK_MAX_CONNECTIONS": "many"}, "MAX_CONNECTIONS='many': expected an"),
    ],
)
def test_a_bad_connection_bound_stops_the_start(
    args: list[str], env: dict[str, str], said: str
) -> None:
    result = run_cli("serve", "--port", "0", *args, env=env)
    assert result.returncode == 2 and said in result.stderr, result.stderr

"""The WebSocket API over real sockets: centrifuge-python as the peer, raw frames for the
protocol's edge cases. Same state as REST: what one transport changes, the other sees."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from centrifuge import Client, ClientEventHandler, PublicationContext, SubscriptionEventHandler

WS = "/connection/websocket"
ALICE_TOKEN, BOB_TOKEN = "alice-token", "bob-token"
ALICE = {"Authorization": f"Bearer {ALICE_TOKEN}"}
BINANCE_ID = "11111111-1111-4111-8111-111111111111"
BOB_CRED = "66666666-6666-4666-8666-666666666666"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
SECRETS = ("alice-ws-secret-1234", "bob-ws-secret-5678", "rotated-ws-secret-9")
CREDENTIAL_KEYS = [
    "credentialId",
    "nickname",
    "credentialType",
    "status",
    "venue",
    "createdAt",
    "updatedAt",
    "withInfo",
    "withSecret",
]
ACCOUNT_KEYS = [
    "tradingAccountId",
    "userId",
    "nickname",
    "externalAccountId",
    "venue",
    "status",
    "accountType",
    "externalAccountType",
    "credentials",
    "createdAt",
    "updatedAt",
]
SCENARIO: dict[str, Any] = {
    "profile": "sdk",
    "seed": 21,
    "now": "2026-03-01T00:00:00Z",
    "users": [
        {
            "email": "alice@example.com",
            "password": "alice-password-1",
            "tokens": [ALICE_TOKEN],
            "credentials": [
                {
                    "credentialId": BINANCE_ID,
                    "venue": "BINANCE",
                    "credentialType": "API_KEY",
                    "apiKey": "aliceWSkey0123456789abcdef",
                    "apiSecret": SECRETS[0],
                }
            ],
        },
        {
            "email": "bob@example.com",
            "tokens": [BOB_TOKEN],
            "credentials": [
                {
                    "credentialId": BOB_CRED,
                    "venue": "BINANCE",
                    "credentialType": "API_KEY",
                    "apiKey": "bobWSkey0123456789abcdefgh",
                    "apiSecret": SECRETS[1],
                }
            ],
        },
    ],
}


def ws_url(client: Any) -> str:
    return str(client.make_url(WS)).replace("http://", "ws://", 1)


@pytest.fixture
async def mock(make_client: Any) -> Any:
    return await make_client(SCENARIO)


async def _centrifuge(mock: Any, token: str = ALICE_TOKEN, **kwargs: Any) -> Client:
    client = Client(ws_url(mock), token=token, **kwargs)
    await client.connect()
    await client.ready(timeout=5)
    return client


async def _connected_account(mock: Any, external: str = "spot") -> str:
    r = await mock.post(
        "/api/v3/tradingAccount/connect",
        json={"credentialIds": [BINANCE_ID], "externalTradingAccountId": external},
        headers=ALICE,
    )
    answer = await r.json()
    assert answer["success"], answer
    return str(answer["data"]["tradingAccountId"])


class RawSocket:
    """Frames by hand, for what a well-behaved client never sends."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, *commands: Any) -> None:
        await self.ws.send_str("\n".join(json.dumps(c) for c in commands))

    async def replies(self, count: int = 1) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while len(found) < count:
            message = await asyncio.wait_for(self.ws.receive(), 5)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            found.extend(json.loads(line) for line in message.data.split("\n") if line)
        return found

    async def closed_with(self) -> tuple[int | None, str]:
        message = await asyncio.wait_for(self.ws.receive(), 5)
        while message.type == aiohttp.WSMsgType.TEXT:
            message = await asyncio.wait_for(self.ws.receive(), 5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        return self.ws.close_code, str(message.extra or "")


@pytest.fixture
async def raw(mock: Any) -> Any:
    async def open_socket(connect: str | None = ALICE_TOKEN) -> RawSocket:
        socket = RawSocket(await mock.ws_connect(WS))
        if connect is not None:
            await socket.send({"id": 1, "connect": {"token": connect, "name": "raw"}})
            (reply,) = await socket.replies()
            assert "connect" in reply, reply
        return socket

    return open_socket


# --------------------------------------------------------------------------- connect


async def test_connect_reply_and_static_tokens_never_expire(raw: Any) -> None:
    socket = RawSocket((await raw(None)).ws)
    await socket.send({"id": 1, "connect": {"token": ALICE_TOKEN, "name": "py"}})
    (reply,) = await socket.replies()
    connect = reply["connect"]
    assert reply["id"] == 1 and isinstance(connect["client"], str) and connect["client"]
    assert connect["version"].startswith("cadenza-mock ")
    # A scenario token does not expire: said as the document's connect result shows it.
    assert connect["expires"] is False and connect["ttl"] == 0
    assert connect["ping"] == 25 and connect["pong"] is True


async def test_login_tokens_expire_on_the_mock_clock_and_refresh_works(mock: Any) -> None:
    login = await (
        await mock.post(
            "/api/v3/auth/login",
            json={"email": "alice@example.com", "password": "alice-password-1"},
        )
    ).json()
    token = login["data"]["accessToken"]
    socket = RawSocket(await mock.ws_connect(WS))
    await socket.send({"id": 1, "connect": {"token": token}})
    (reply,) = await socket.replies()
    assert reply["connect"]["expires"] is True and reply["connect"]["ttl"] == 3600
    # 30 minutes later a refresh with a new token extends the connection.
    await mock.post("/__admin/clock", json={"advance": 1800})
    fresh = await (
        await mock.post(
            "/api/v3/auth/token/refresh", json={"refreshToken": login["data"]["refreshToken"]}
        )
    ).json()
    await socket.send({"id": 2, "refresh": {"token": fresh["data"]["accessToken"]}})
    (refreshed,) = await socket.replies()
    assert refreshed["refresh"]["expires"] is True and refreshed["refresh"]["ttl"] == 3600
    # Past the new expiry without a refresh: closed with the protocol's expiry code.
    await mock.post("/__admin/clock", json={"advance": 3601})
    code, reason = await socket.closed_with()
    assert (code, reason) == (3005, "connection expired")
    # Reconnecting with the expired token: error 109, which makes a client fetch a new one.
    again = RawSocket(await mock.ws_connect(WS))
    await again.send({"id": 1, "connect": {"token": token}})
    (expired,) = await again.replies()
    assert expired["error"]["code"] == 109 and expired["error"]["message"] == "token expired"


@pytest.mark.parametrize("token", ["nope", "", None, 7])
async def test_bad_tokens_are_refused(raw: Any, token: Any) -> None:
    socket = await raw(None)
    await socket.send({"id": 1, "connect": {"token": token}})
    assert await socket.closed_with() == (3500, "invalid token")


async def test_logout_closes_that_tokens_connections(mock: Any, raw: Any) -> None:
    mine = await raw(ALICE_TOKEN)
    bobs = await raw(BOB_TOKEN)
    assert (await mock.post("/api/v3/auth/logout", headers=ALICE)).status == 200
    assert await mine.closed_with() == (3500, "invalid token")
    await bobs.send({"id": 2, "rpc": {"method": "query.system.info", "data": {}}})
    (still,) = await bobs.replies()
    assert still["id"] == 2 and "rpc" in still


async def test_reset_closes_open_connections(mock: Any, raw: Any) -> None:
    socket = await raw()
    assert (await mock.post("/__admin/reset")).status == 200
    assert await socket.closed_with() == (3001, "shutdown")


# --------------------------------------------------------------------------- protocol edges


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        json.dumps({"id": 0, "rpc": {"method": "query.system.info"}}),
        json.dumps({"id": "1", "rpc": {"method": "query.system.info"}}),
        json.dumps({"id": 2, "connect": {"token": ALICE_TOKEN}}),  # connect twice
        json.dumps({"id": 2, "rpc": "query.system.info"}),
        json.dumps({"id": 2}),
    ],
)
async def test_malformed_frames_close_with_bad_request(raw: Any, frame: str) -> None:
    socket = await raw()
    await socket.ws.send_str(frame)
    assert await socket.closed_with() == (3501, "bad request")


async def test_a_command_before_connect_is_a_bad_request(raw: Any) -> None:
    socket = await raw(None)
    await socket.send({"id": 1, "rpc": {"method": "query.system.info", "data": {}}})
    assert await socket.closed_with() == (3501, "bad request")


async def test_binary_frames_are_refused(raw: Any) -> None:
    socket = await raw()
    await socket.ws.send_bytes(b"\x00\x01")
    assert await socket.closed_with() == (3501, "bad request")


async def test_several_commands_in_one_frame_and_pongs(raw: Any) -> None:
    socket = await raw()
    await socket.ws.send_str(
        "\n".join(
            [
                "{}",  # a pong: no answer
                json.dumps({"id": 2, "rpc": {"method": "query.system.info", "data": {}}}),
                json.dumps({"id": 3, "rpc": {"method": "query.system.check"}}),
                json.dumps({"id": 4, "rpc": {"method": "no.such.method", "data": {}}}),
            ]
        )
    )
    replies = await socket.replies(3)
    assert [r["id"] for r in replies] == [2, 3, 4]
    assert replies[0]["rpc"]["data"]["data"]["name"].startswith("Cadenza API")
    check = replies[1]["rpc"]["data"]["data"]
    assert check["status"] == "healthy" and check["timestamp"].endswith("Z")
    assert replies[2]["error"] == {"code": 104, "message": "method not found"}


async def test_duplicate_subscribe_and_channel_rules(mock: Any, raw: Any) -> None:
    account = await _connected_account(mock)
    socket = await raw()
    bob = await raw(BOB_TOKEN)
    channel = f"tradingAccount:{account}"
    await socket.send({"id": 2, "subscribe": {"channel": channel}})
    await socket.send({"id": 3, "subscribe": {"channel": channel}})
    await socket.send({"id": 4, "subscribe": {"channel": f"tradingAccount:{UNKNOWN}"}})
    await socket.send({"id": 5, "subscribe": {"channel": "news"}})
    await bob.send({"id": 2, "subscribe": {"channel": channel}})
    first, duplicate, unknown, other = await socket.replies(4)
    assert first == {"id": 2, "subscribe": {}}
    assert duplicate["error"] == {"code": 105, "message": "already subscribed"}
    assert unknown["error"] == {"code": 102, "message": "unknown channel"}
    assert other["error"] == {"code": 102, "message": "unknown channel"}
    (denied,) = await bob.replies()
    assert denied["error"] == {"code": 103, "message": "permission denied"}


# --------------------------------------------------------------------------- RPC with centrifuge


async def test_rpc_credentials_share_the_rest_state(mock: Any) -> None:
    client = await _centrifuge(mock)
    try:
        listed = (await client.rpc("query.credential.list", {})).data
        (cred,) = listed["data"]
        assert list(cred) == CREDENTIAL_KEYS
        assert cred["credentialId"] == BINANCE_ID and cred["withSecret"] is False
        assert cred["createdAt"].endswith("Z") and "revokedAt" not in cred  # not nullable
        assert "pagination" not in listed  # rpcListCredentialsResult has none
        reached = (
            await client.rpc("command.credential.verify", {"credentialIds": [BINANCE_ID]})
        ).data
        accounts = reached["data"]["tradingAccounts"]
        assert accounts and {a["status"] for a in accounts} == {"NEW"}
        assert list(accounts[0]) == ACCOUNT_KEYS
        connected = (
            await client.rpc(
                "command.trading_account.connect",
                {
                    "tradingAccount": {
                        "venue": "BINANCE",
                        "externalAccountId": "spot",
                        "nickname": "over ws",
                        "credentials": [{"credentialId": BINANCE_ID}],
                    }
                },
            )
        ).data["data"]
        assert connected["status"] == "ACTIVE" and connected["nickname"] == "over ws"
        # REST sees the account connected over the WebSocket.
        listed_url = "/api/v3/tradingAccount/list?accountStatus=ACTIVE"  # verify's are NEW
        rest = await (await mock.get(listed_url, headers=ALICE)).json()
        assert [a["tradingAccountId"] for a in rest["data"]] == [connected["tradingAccountId"]]
        rotated = (
            await client.rpc(
                "command.credential.rotate",
                {
                    "credentialId": BINANCE_ID,
                    "credentialType": "API_KEY",
                    "apiKey": "rotatedWSkey0123456789",
                    "secretKey": SECRETS[2],
                },
            )
        ).data["data"]
        assert rotated["updatedAt"] > cred["updatedAt"]
        created = (
            await client.rpc(
                "command.credential.create",
                {
                    "tradingAccountId": connected["tradingAccountId"],
                    "venue": "BINANCE",
                    "credentialType": "API_KEY",
                    "apiKey": "secondWSkey0123456789ab",
                    "secretKey": "second-ws-secret-000",
                    "nickname": "second",
                },
            )
        ).data["data"]
        assert created["status"] == "CREATED" and created["nickname"] == "second"
        stored = await (await mock.get(f"/__admin/credentials/{created['credentialId']}")).json()
        assert stored["data"]["hasApiSecret"] is True
        revoked = (await client.rpc("command.credential.revoke", {"credentialId": BINANCE_ID})).data
        assert revoked["data"]["status"] == "REVOKED" and revoked["data"]["revokedAt"]
        accounts = (await client.rpc("query.trading_account.list", {})).data["data"]
        # The new credential still backs it: connected, backed by that one alone.
        (only,) = [a for a in accounts if a["status"] != "DISCONNECTED"]  # verify's NEW ones
        assert only["status"] == "ACTIVE"
        assert [c["credentialId"] for c in only["credentials"]] == [created["credentialId"]]
        # No reply carried a secret or a full key (the mock never answers withSecret data).
        replies = json.dumps([listed, reached, connected, rotated, created, revoked, accounts])
        for secret in (*SECRETS, "second-ws-secret-000", "secondWSkey0123456789ab"):
            assert secret not in replies
        assert "aliceWSkey0123456789abcdef" not in replies and '"apiKey"' not in replies
    finally:
        await client.disconnect()


async def test_rpc_errors_carry_the_positive_catalogue_code(mock: Any) -> None:
    """Inside the RPC's result (Rpc*Result.error): centrifuge-python raises nothing."""
    client = await _centrifuge(mock)
    try:
        cases = [
            ("command.credential.revoke", {"credentialId": UNKNOWN}, 22016, "Credential not found"),
            ("command.credential.revoke", {"credentialId": BOB_CRED}, 22018, "Permission denied"),
            ("command.credential.revoke", {"credentialId": "nope"}, 19004, "credentialId"),
            ("command.credential.revoke", {}, 19004, "credentialId is required"),
            (
                "command.trading_account.enable",
                {"tradingAccountId": UNKNOWN},
                22016,
                "Trading account",
            ),
            ("query.credential.list", [], 19004, "data must be a JSON object"),
        ]
        for method, data, code, words in cases:
            result = (await client.rpc(method, data)).data
            assert set(result) == {"error"}, (method, result)
            assert result["error"]["code"] == code, (method, result)
            assert words in result["error"]["message"]
            assert result["error"]["temporary"] is False
        listed = (await client.rpc("query.credential.list", {})).data["data"]
        assert [c["status"] for c in listed] == ["ACTIVE"]  # errors changed nothing
    finally:
        await client.disconnect()


async def test_events_reach_subscribers_whatever_transport_changed_the_credential(
    mock: Any,
) -> None:
    account = await _connected_account(mock)
    events: asyncio.Queue[Any] = asyncio.Queue()

    class Handler(SubscriptionEventHandler):
        async def on_publication(self, ctx: PublicationContext) -> None:
            await events.put(ctx.pub.data)

    # The channels page's server-side subscription first: then the channel carries events.
    r = await mock.post(
        "/api/v3/tradingAccount/subscription/subscribe",
        json={"tradingAccountId": account},
        headers=ALICE,
    )
    assert r.status == 200
    client = await _centrifuge(mock, events=ClientEventHandler())
    try:
        sub = client.new_subscription(f"tradingAccount:{account}", events=Handler())
        await sub.subscribe()
        await sub.ready(timeout=5)
        # Over REST:
        r = await mock.post(
            "/api/v3/credential/rotate",
            json={
                "credentialId": BINANCE_ID,
                "apiKey": "restRotated0123456789",
                "apiSecret": "x" * 12,
            },
            headers=ALICE,
        )
        assert r.status == 200
        event = await asyncio.wait_for(events.get(), 5)  # rpcCredentialUpdatedEvent
        assert list(event) == ["data"] and event["data"]["credentialId"] == BINANCE_ID
        account_event = await asyncio.wait_for(events.get(), 5)  # the account moved too
        assert account_event["data"]["tradingAccountId"] == account
        # Over the WebSocket:
        await client.rpc("command.credential.revoke", {"credentialId": BINANCE_ID})
        event = await asyncio.wait_for(events.get(), 5)
        assert event["data"]["status"] == "REVOKED"
        # It alone backed the account: disconnected, and its subscription ends with it.
        disconnected = await asyncio.wait_for(events.get(), 5)
        assert disconnected["data"]["status"] == "DISCONNECTED"
        ended = await asyncio.wait_for(events.get(), 5)
        assert ended["data"]["status"] == "TERMINATED"
        # Nothing else is pushed: bob's changes are not alice's events.
        await mock.post(
            "/api/v3/credential/revoke",
            json={"credentialId": BOB_CRED},
            headers={"Authorization": f"Bearer {BOB_TOKEN}"},
        )
        await asyncio.sleep(0.2)
        assert events.empty()
    finally:
        await client.disconnect()


# ------------------------------------------------------------------ journal, faults, secrets


async def test_rpc_calls_are_journaled_redacted(mock: Any) -> None:
    client = await _centrifuge(mock)
    try:
        await client.rpc(
            "command.credential.rotate",
            {
                "credentialId": BINANCE_ID,
                "credentialType": "API_KEY",
                "apiKey": "journalKEY0123456789",
                "secretKey": SECRETS[2],
            },
        )
        failed = await client.rpc("command.credential.revoke", {"credentialId": UNKNOWN})
        assert failed.data["error"]["code"] == 22016
    finally:
        await client.disconnect()
    journal = (await (await mock.get("/__admin/requests")).json())["data"]
    rpc_entries = [e for e in journal if e["method"] == "RPC"]
    assert [e["path"] for e in rpc_entries] == [
        "command.credential.rotate",
        "command.credential.revoke",
    ]
    assert [e["status"] for e in rpc_entries] == [200, 404]
    rotate = rpc_entries[0]
    assert rotate["body"]["secretKey"] == "<redacted>" and rotate["body"]["apiKey"] == "journa***"
    assert rotate["userId"] is not None
    assert not any(s in json.dumps(journal) for s in SECRETS)


async def test_faults_shape_rpc_replies_and_the_upgrade(mock: Any, raw: Any) -> None:
    faults = [
        {
            "match": {"path": "query.credential.list"},
            "respond": {"status": 503, "errno": -18013},
            "times": 1,
        },
        {"match": {"path": "command.credential.verify"}, "venue": "timeout", "times": 1},
        {"match": {"path": "query.system.info"}, "delay": 0.2, "times": 1},
    ]
    for fault in faults:
        assert (await mock.post("/__admin/faults", json=fault)).status == 200
    socket = await raw()
    await socket.send(
        {"id": 2, "rpc": {"method": "query.credential.list", "data": {}}},
        {
            "id": 3,
            "rpc": {"method": "command.credential.verify", "data": {"credentialIds": [BINANCE_ID]}},
        },
    )
    listed, verified = await socket.replies(2)
    maintenance = {"code": 18013, "message": "On maintenance", "temporary": True}
    assert listed == {"id": 2, "rpc": {"data": {"error": maintenance}}}
    timeout = verified["rpc"]["data"]["error"]
    assert timeout["code"] == 18015 and timeout["temporary"] is True
    loop = asyncio.get_running_loop()
    started = loop.time()
    await socket.send({"id": 4, "rpc": {"method": "query.system.info", "data": {}}})
    (info,) = await socket.replies()
    assert info["id"] == 4 and loop.time() - started >= 0.2
    # Used up: the next list is answered.
    await socket.send({"id": 5, "rpc": {"method": "query.credential.list", "data": {}}})
    (again,) = await socket.replies()
    assert "data" in again["rpc"]["data"]
    # drop: the connection goes away with no answer, and no close frame (a network failure).
    drop = {"match": {"path": "query.credential.list"}, "drop": True, "times": 1}
    assert (await mock.post("/__admin/faults", json=drop)).status == 200
    await socket.send({"id": 6, "rpc": {"method": "query.credential.list", "data": {}}})
    code, _ = await socket.closed_with()
    assert code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE  # 1006: no close frame came
    # A fault on the WebSocket path refuses the upgrade itself.
    refuse = {"match": {"path": WS}, "respond": {"status": 503}, "times": 1}
    assert (await mock.post("/__admin/faults", json=refuse)).status == 200
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await mock.ws_connect(WS)
    assert caught.value.status == 503


async def test_cached_query_answers_follow_every_change(mock: Any, raw: Any) -> None:
    """Query answers are remembered until the state changes, by either transport."""
    socket = await raw()

    async def listed(command_id: int) -> dict[str, Any]:
        await socket.send(
            {"id": command_id, "rpc": {"method": "query.credential.list", "data": {}}}
        )
        (reply,) = await socket.replies()
        (cred,) = reply["rpc"]["data"]["data"]
        return dict(cred)

    first = await listed(2)
    assert await listed(3) == first  # the same answer, from the cache
    r = await mock.post(
        "/api/v3/credential/rotate",
        json={"credentialId": BINANCE_ID, "apiKey": "cacheKEY0123456789abc", "apiSecret": "y" * 12},
        headers=ALICE,
    )
    assert r.status == 200
    rotated = await listed(4)
    assert rotated["updatedAt"] > first["updatedAt"]

    async def accounts(command_id: int) -> list[dict[str, Any]]:
        await socket.send({"id": command_id, "rpc": {"method": "query.trading_account.list"}})
        (reply,) = await socket.replies()
        return list(reply["rpc"]["data"]["data"])

    assert await accounts(5) == []
    await _connected_account(mock)  # over REST: an account change, not a credential one
    (account,) = await accounts(6)
    assert account["status"] == "ACTIVE"
    await socket.send(
        {
            "id": 7,
            "rpc": {"method": "command.credential.revoke", "data": {"credentialId": BINANCE_ID}},
        }
    )
    await socket.replies()
    assert (await listed(8))["status"] == "REVOKED"
    assert [a["status"] for a in await accounts(9)] == ["DISCONNECTED"]
    assert (await mock.post("/__admin/reset")).status == 200
    assert await socket.closed_with() == (3001, "shutdown")
    socket = await raw()
    assert await listed(2) == first  # the pristine state again, not a stale answer


async def test_the_asyncapi_document_describes_every_rpc_method(mock: Any) -> None:
    from cadenza_mock.http.rpc import METHODS

    r = await mock.get("/api/v3/asyncapi.json")  # no token needed, like the OpenAPI one
    assert r.status == 200
    doc = await r.json()
    assert doc["asyncapi"].startswith("3.")
    messages = doc["channels"]["connection"]["messages"]
    named = {m["name"] for m in messages.values()}
    assert set(METHODS) <= named and "connect" in named
    for key, operation in doc["operations"].items():
        for ref in operation["messages"]:
            channel, _, message = ref["$ref"].removeprefix("#/channels/").partition("/messages/")
            assert message in doc["channels"][channel]["messages"], key
    events = doc["channels"]["tradingAccount"]["messages"]
    assert {e["name"] for e in events.values()} == {
        "event.credential.updated",
        "event.trading_account.updated",
        "event.trading_account.subscription.updated",
        "event.trade_order.updated",
        "event.portfolio.updated",
    }
    for event in events.values():  # the document's rpc*UpdatedEvent: {data}, no `method`
        assert event["payload"]["required"] == ["data"]
        assert event["payload"]["additionalProperties"] is False
    assert {"ping", "subscribe"} <= named


async def test_refresh_cannot_switch_users_or_use_a_bad_token(raw: Any) -> None:
    socket = await raw(ALICE_TOKEN)
    await socket.send({"id": 2, "refresh": {"token": BOB_TOKEN}})
    assert await socket.closed_with() == (3500, "invalid token")
    other = await raw(ALICE_TOKEN)
    await other.send({"id": 2, "refresh": {"token": "not-a-token"}})
    assert await other.closed_with() == (3500, "invalid token")


async def test_a_malformed_fault_sends_half_a_reply(mock: Any, raw: Any) -> None:
    fault = {"match": {"path": "query.system.info"}, "malformed": True, "times": 1}
    assert (await mock.post("/__admin/faults", json=fault)).status == 200
    socket = await raw()
    await socket.send({"id": 2, "rpc": {"method": "query.system.info", "data": {}}})
    message = await asyncio.wait_for(socket.ws.receive(), 5)
    assert message.type == aiohttp.WSMsgType.TEXT
    with pytest.raises(json.JSONDecodeError):
        json.loads(message.data)
    assert message.data.startswith('{"id":2,')
    await socket.send({"id": 3, "rpc": {"method": "query.system.info", "data": {}}})
    (whole,) = await socket.replies()  # used up: the next reply is whole
    assert whole["id"] == 3 and "rpc" in whole


async def test_a_bug_in_an_rpc_is_error_100_and_the_connection_stays(
    raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cadenza_mock.http import rpc

    def broken(*_: Any) -> Any:
        raise RuntimeError("a bug")

    method = rpc.METHODS["query.system.check"]
    monkeypatch.setitem(rpc.METHODS, "query.system.check", rpc.Method(method.params, broken))
    socket = await raw()
    await socket.send({"id": 2, "rpc": {"method": "query.system.check", "data": {}}})
    (reply,) = await socket.replies()
    assert reply["error"] == {"code": 100, "message": "internal server error", "temporary": True}
    await socket.send({"id": 3, "rpc": {"method": "query.system.info", "data": {}}})
    (still,) = await socket.replies()
    assert still["id"] == 3 and "rpc" in still

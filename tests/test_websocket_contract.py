"""The WebSocket API against the platform's own document (issue 24): every reply, result
and push parsed with the `rpc*`/`ws*` shapes it defines (tests/platform_ws.py), over real
sockets, with centrifuge-python (the peer the official client re-exports) and raw frames.

Cadenza errors travel inside the RPC result; protocol errors stay reply-level. A trading
account's channel carries its events once a server-side subscription feeds it. The params
are the document's `Rpc*Params`. A docs-profile scenario is spoken in the sdk vocabulary.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from centrifuge import Client, PublicationContext, SubscriptionEventHandler
from centrifuge.exceptions import ReplyError
from platform_ws import (
    assert_event,
    assert_reply,
    assert_rpc_result,
    assert_shape,
    require_document,
    rpc_schema,
)

WS = "/connection/websocket"
ACCOUNT = "/api/v3/tradingAccount"
ALICE_TOKEN, BOB_TOKEN = "alice-token", "bob-token"
ALICE = {"Authorization": f"Bearer {ALICE_TOKEN}"}
BOB = {"Authorization": f"Bearer {BOB_TOKEN}"}
ALICE_CRED = "21111111-1111-4111-8111-111111111111"
BOB_CRED = "26666666-6666-4666-8666-666666666666"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
SECRETS = ("contract-secret-alice-1", "contract-secret-bob-2", "contract-rotated-3")
KEYS = ("contractALICEkey0123456789", "contractBOBkey0123456789ab", "contractNEWkey0123456789")
USER_DATA = "TRADING_ACCOUNT.SUBSCRIPTION.USER_DATA"
PORTFOLIO = "TRADING_ACCOUNT.SUBSCRIPTION.PORTFOLIO"
ACCOUNT_EVENT = "rpcTradingAccountUpdatedEvent"
CREDENTIAL_EVENT = "rpcCredentialUpdatedEvent"
SUBSCRIPTION_EVENT = "rpcTradingAccountSubscriptionUpdatedEvent"


def _user(email: str, token: str, cred: str, key: str, secret: str) -> dict[str, Any]:
    return {
        "email": email,
        "tokens": [token],
        "credentials": [
            {
                "credentialId": cred,
                "venue": "BINANCE",
                "credentialType": "API_KEY",
                "status": "ACTIVE",
                "apiKey": key,
                "apiSecret": secret,
            }
        ],
    }


SCENARIO: dict[str, Any] = {
    "profile": "sdk",
    "seed": 24,
    "now": "2026-03-01T00:00:00Z",
    "users": [
        _user("alice@example.com", ALICE_TOKEN, ALICE_CRED, KEYS[0], SECRETS[0]),
        _user("bob@example.com", BOB_TOKEN, BOB_CRED, KEYS[1], SECRETS[1]),
    ],
}


@pytest.fixture
async def mock(make_client: Any) -> Any:
    require_document()
    return await make_client(SCENARIO)


def _ws_url(mock: Any) -> str:
    return str(mock.make_url(WS)).replace("http://", "ws://", 1)


async def _centrifuge(mock: Any, token: str = ALICE_TOKEN) -> Client:
    client = Client(_ws_url(mock), token=token)
    await client.connect()
    await client.ready(timeout=5)
    return client


class Socket:
    """Raw frames: a reply or push at a time, each parsed."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[str] = []  # every text received, for the no-secret checks
        self._next = 10

    async def send(self, command: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(command))

    async def frame(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.receive(), 5)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        self.seen.append(message.data)
        found: dict[str, Any] = json.loads(message.data)
        return found

    async def call(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send one command; its reply (pushes that come first are not expected here)."""
        self._next += 1
        await self.send({"id": self._next, **command})
        reply = await self.frame()
        assert reply.get("id") == self._next, reply
        return reply

    async def rpc(self, method: str, data: Any) -> dict[str, Any]:
        return await self.call({"rpc": {"method": method, "data": data}})

    async def closed_with(self) -> int | None:
        message = await asyncio.wait_for(self.ws.receive(), 5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        return self.ws.close_code


async def _socket(mock: Any, token: str | None = ALICE_TOKEN) -> Socket:
    socket = Socket(await mock.ws_connect(WS))
    if token is not None:
        await socket.send({"id": 1, "connect": {"token": token, "name": "contract"}})
        reply = await socket.frame()
        assert "connect" in reply, reply
    return socket


async def _connect(mock: Any, headers: dict[str, str] = ALICE, cred: str = ALICE_CRED) -> str:
    r = await mock.post(
        f"{ACCOUNT}/connect",
        json={"credentialIds": [cred], "externalTradingAccountId": "spot"},
        headers=headers,
    )
    answer = await r.json()
    assert answer["success"], answer
    return str(answer["data"]["tradingAccountId"])


async def _journal(mock: Any, method: str) -> list[dict[str, Any]]:
    entries = (await (await mock.get("/__admin/requests")).json())["data"]
    return [e for e in entries if e["method"] == method]


# ------------------------------------------------------------------ item 1: errors in results


async def test_cadenza_errors_are_the_rpc_result_and_centrifuge_raises_nothing(mock: Any) -> None:
    account = await _connect(mock)
    bobs = await _connect(mock, BOB, BOB_CRED)
    client = await _centrifuge(mock)
    cases: list[tuple[str, Any, int, str]] = [
        ("command.credential.revoke", {"credentialId": UNKNOWN}, 22016, "Credential not found"),
        ("command.credential.revoke", {"credentialId": BOB_CRED}, 22018, "Permission denied"),
        ("command.credential.revoke", {"credentialId": "nope"}, 19004, "credentialId"),
        ("command.trading_account.enable", {"tradingAccountId": UNKNOWN}, 22016, "Trading"),
        ("command.trading_account.disable", {"tradingAccountId": bobs}, 22018, "Permission"),
        ("query.credential.list", {"status": "NOPE"}, 19004, "status must be one of"),
        (
            "command.trading_account.subscribe",
            {"tradingAccount": {"tradingAccountId": account}, "subscriptionType": "NOPE"},
            19004,
            "subscriptionType",
        ),
        (
            "command.trading_account.unsubscribe",
            {"tradingAccountId": account},
            22015,
            "no active subscription",
        ),
        ("query.credential.list", [], 19004, "data must be a JSON object"),
    ]
    try:
        before = (await client.rpc("query.credential.list", {})).data
        for method, data, code, words in cases:
            result = (await client.rpc(method, data)).data  # no ReplyError
            assert_shape(rpc_schema(method, "Result"), result)
            assert set(result) == {"error"}, (method, result)  # no `data` beside it
            error = result["error"]
            assert (error["code"], error["temporary"]) == (code, False), (method, error)
            assert words in error["message"], (method, error)
        assert (await client.rpc("query.credential.list", {})).data == before  # nothing lost
        # A protocol error is still the protocol's: centrifuge-python raises it.
        with pytest.raises(ReplyError) as caught:
            await client.rpc("no.such.method", {})
        assert caught.value.code == 104
    finally:
        await client.disconnect()
    statuses = [e["status"] for e in await _journal(mock, "RPC")]
    assert statuses == [200, 404, 403, 400, 404, 403, 400, 400, 400, 400, 200, 404]


async def test_a_respond_fault_answers_inside_the_result_and_frames_conform(mock: Any) -> None:
    fault = {
        "match": {"path": "query.trading_account.list"},
        "respond": {"status": 503, "errno": -18013},
        "times": 1,
    }
    assert (await mock.post("/__admin/faults", json=fault)).status == 200
    socket = await _socket(mock)
    reply = await socket.rpc("query.trading_account.list", {})
    result = assert_rpc_result("query.trading_account.list", reply)
    assert result == {"error": {"code": 18013, "message": "On maintenance", "temporary": True}}
    reply = await socket.rpc("query.trading_account.list", {})  # used up: answered
    assert assert_rpc_result("query.trading_account.list", reply)["data"] == []


async def test_protocol_errors_stay_reply_level(mock: Any) -> None:
    account = await _connect(mock)
    bob = await _socket(mock, BOB_TOKEN)
    socket = await _socket(mock)
    channel = f"tradingAccount:{account}"
    replies = [
        await socket.rpc("no.such.method", {}),
        await socket.call({"subscribe": {"channel": "news"}}),
        await socket.call({"subscribe": {"channel": channel}}),
        await socket.call({"subscribe": {"channel": channel}}),
        await socket.call({"publish": {"channel": channel, "data": {}}}),
        await bob.call({"subscribe": {"channel": channel}}),
    ]
    for reply in replies:
        assert_reply(reply)
    codes = [r.get("error", {}).get("code") for r in replies]
    assert codes == [104, 102, None, 105, 108, 103]
    assert replies[2] == {"id": replies[2]["id"], "subscribe": {}}


# ------------------------------------------------------------------ item 3: events


async def _events_until(socket: Socket, count: int) -> list[dict[str, Any]]:
    return [await socket.frame() for _ in range(count)]


async def test_a_fed_channel_carries_the_documents_events_in_order(mock: Any) -> None:
    account = await _connect(mock)
    channel = f"tradingAccount:{account}"
    listener = await _socket(mock)
    assert (await listener.call({"subscribe": {"channel": channel}}))["subscribe"] == {}
    # Nothing feeds it yet: a change publishes nothing (the first push below is the
    # subscription's own), and the SUBSCRIBE entry says why.
    r = await mock.post(f"{ACCOUNT}/disable", json={"tradingAccountId": account}, headers=ALICE)
    assert r.status == 200
    (entry,) = await _journal(mock, "SUBSCRIBE")
    assert entry["path"] == channel and entry["status"] == 200
    assert (
        "carries nothing until its trading account has an active subscription"
        in (entry["hints"][0])
    )
    actor = await _socket(mock)
    subscribed = await actor.rpc(
        "command.trading_account.subscribe",
        {"tradingAccount": {"tradingAccountId": account}, "subscriptionType": USER_DATA},
    )
    made = assert_rpc_result("command.trading_account.subscribe", subscribed)["data"]
    assert (made["status"], made["subscriptionType"]) == ("ACTIVE", USER_DATA)
    (push,) = await _events_until(listener, 1)
    assert push["push"]["channel"] == channel
    assert assert_event(SUBSCRIPTION_EVENT, push)["data"] == made
    # enable (RPC), update (RPC), rotate (RPC, keys left out), disconnect (REST)
    await actor.rpc("command.trading_account.enable", {"tradingAccountId": account})
    await actor.rpc(
        "command.trading_account.update",
        {"tradingAccount": {"tradingAccountId": account, "nickname": "renamed"}},
    )
    await actor.rpc(
        "command.credential.rotate", {"credentialId": ALICE_CRED, "credentialType": "API_KEY"}
    )
    r = await mock.post(f"{ACCOUNT}/disconnect", json={"tradingAccountId": account}, headers=ALICE)
    assert r.status == 200
    pushes = await _events_until(listener, 6)
    names = [ACCOUNT_EVENT, ACCOUNT_EVENT, CREDENTIAL_EVENT, ACCOUNT_EVENT, ACCOUNT_EVENT]
    names.append(SUBSCRIPTION_EVENT)
    events = [assert_event(n, p) for n, p in zip(names, pushes, strict=True)]
    enabled, renamed, rotated, touched, disconnected, ended = (e["data"] for e in events)
    assert enabled["status"] == "ACTIVE" and renamed["nickname"] == "renamed"
    assert rotated["credentialId"] == ALICE_CRED and touched["tradingAccountId"] == account
    assert disconnected["status"] == "DISCONNECTED"
    assert (ended["subscriptionId"], ended["status"]) == (made["subscriptionId"], "TERMINATED")
    assert all("method" not in p["push"]["pub"]["data"] for p in pushes)
    # Ended: a later change to the credential reaches no one (the next frame is a reply).
    revoked = await actor.rpc("command.credential.revoke", {"credentialId": ALICE_CRED})
    assert assert_rpc_result("command.credential.revoke", revoked)["data"]["status"] == "REVOKED"
    again = await listener.rpc("query.system.check", {})
    assert "rpc" in again
    text = "".join(listener.seen + actor.seen)
    assert not any(secret in text for secret in (*SECRETS, *KEYS))


async def test_centrifuge_python_receives_events_only_while_fed(mock: Any) -> None:
    account = await _connect(mock)
    events: asyncio.Queue[Any] = asyncio.Queue()

    class Handler(SubscriptionEventHandler):
        async def on_publication(self, ctx: PublicationContext) -> None:
            await events.put(ctx.pub.data)

    client = await _centrifuge(mock)
    try:
        sub = client.new_subscription(f"tradingAccount:{account}", events=Handler())
        await sub.subscribe()
        await sub.ready(timeout=5)
        body = {"tradingAccountId": account}
        r = await mock.post(f"{ACCOUNT}/subscription/subscribe", json=body, headers=ALICE)
        subscription = (await r.json())["data"]
        first = await asyncio.wait_for(events.get(), 5)
        assert_shape(SUBSCRIPTION_EVENT, first)
        assert first["data"]["subscriptionId"] == subscription["subscriptionId"]
        r = await mock.post(f"{ACCOUNT}/subscription/unsubscribe", json=body, headers=ALICE)
        assert r.status == 200
        ended = await asyncio.wait_for(events.get(), 5)
        assert ended["data"]["status"] == "TERMINATED"
        await mock.post(f"{ACCOUNT}/disable", json=body, headers=ALICE)  # not fed: nothing
        await mock.post(f"{ACCOUNT}/subscription/subscribe", json=body, headers=ALICE)
        again = await asyncio.wait_for(events.get(), 5)  # the next one is the new stream's
        assert again["data"]["status"] == "ACTIVE"
        assert again["data"]["subscriptionId"] != subscription["subscriptionId"]
    finally:
        await client.disconnect()


# ------------------------------------------------------------------ item 4: subscriptions


async def test_subscriptions_are_one_state_for_rest_and_rpc(mock: Any) -> None:
    account = await _connect(mock)
    socket = await _socket(mock)

    async def rest(path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        if path == "list":
            r = await mock.get(f"{ACCOUNT}/subscription/list", headers=ALICE, **kw)
            answer: dict[str, Any] = await r.json()
            assert_shape("listTradingAccountSubscriptions_200_response", answer, closed=False)
        else:
            r = await mock.post(f"{ACCOUNT}/subscription/{path}", json=body, headers=ALICE)
            answer = await r.json()
            assert_shape("subscribeTradingAccount_200_response", answer, closed=False)
        assert r.status == 200, answer
        for item in answer["data"] if isinstance(answer["data"], list) else [answer["data"]]:
            assert_shape("subscription", item)
        return answer

    async def listed(**params: Any) -> list[dict[str, Any]]:
        reply = await socket.rpc(
            "query.trading_account.subscription.list", {"tradingAccountId": account, **params}
        )
        found: list[dict[str, Any]] = assert_rpc_result(
            "query.trading_account.subscription.list", reply
        )["data"]
        return found

    made = (await rest("subscribe", {"tradingAccountId": account}))["data"]
    assert (made["status"], made["subscriptionType"], made["tradingAccountId"]) == (
        "ACTIVE",
        USER_DATA,
        account,
    )
    params = {"tradingAccount": {"tradingAccountId": account}, "subscriptionType": USER_DATA}
    assert_shape(rpc_schema("command.trading_account.subscribe", "Params"), params)
    same = await socket.rpc("command.trading_account.subscribe", params)
    same_data = assert_rpc_result("command.trading_account.subscribe", same)["data"]
    assert same_data["subscriptionId"] == made["subscriptionId"]  # subscribing twice: one
    second = await socket.rpc(
        "command.trading_account.subscribe", {**params, "subscriptionType": PORTFOLIO}
    )
    portfolio = assert_rpc_result("command.trading_account.subscribe", second)["data"]
    assert [s["subscriptionId"] for s in (await rest("list"))["data"]] == [
        made["subscriptionId"],
        portfolio["subscriptionId"],
    ]
    ended = await socket.rpc(
        "command.trading_account.unsubscribe",
        {"tradingAccountId": account, "subscriptionId": portfolio["subscriptionId"]},
    )
    assert assert_rpc_result("command.trading_account.unsubscribe", ended)["data"]["status"] == (
        "TERMINATED"
    )
    listed_rest = await rest("list", params={"tradingAccountId": account})
    assert [s["subscriptionId"] for s in listed_rest["data"]] == [made["subscriptionId"]]
    gone = (await rest("unsubscribe", {"tradingAccountId": account}))["data"]
    assert (gone["subscriptionId"], gone["status"]) == (made["subscriptionId"], "TERMINATED")
    assert (await rest("list"))["data"] == []
    assert [s["status"] for s in await listed()] == ["TERMINATED", "TERMINATED"]
    assert await listed(status="ACTIVE") == []
    assert [s["subscriptionType"] for s in await listed(subscriptionType=PORTFOLIO)] == [PORTFOLIO]


async def test_bad_subscription_calls_are_clear_errors_and_change_nothing(mock: Any) -> None:
    account = await _connect(mock)
    bobs = await _connect(mock, BOB, BOB_CRED)
    r = await mock.post(
        f"{ACCOUNT}/subscription/subscribe", json={"tradingAccountId": bobs}, headers=BOB
    )
    bob_subscription = (await r.json())["data"]["subscriptionId"]
    made = await mock.post(
        f"{ACCOUNT}/subscription/subscribe", json={"tradingAccountId": account}, headers=ALICE
    )
    assert made.status == 200

    async def state() -> Any:
        r = await mock.get(f"{ACCOUNT}/subscription/list", headers=ALICE)
        return (await r.json())["data"]

    before = await state()
    bad: list[tuple[str, Any, int, int, str]] = [
        ("subscribe", {"tradingAccountId": UNKNOWN}, 404, -22016, "Trading account not found"),
        ("subscribe", {"tradingAccountId": bobs}, 403, -22018, "Permission denied"),
        ("subscribe", {"tradingAccountId": "nope"}, 400, -19004, "tradingAccountId"),
        ("subscribe", {}, 400, -19004, "tradingAccountId is required"),
        ("unsubscribe", {}, 400, -19004, "subscriptionId or tradingAccountId is required"),
        ("unsubscribe", {"subscriptionId": UNKNOWN}, 400, -22015, UNKNOWN),
        ("unsubscribe", {"subscriptionId": bob_subscription}, 400, -22015, "subscriptionId"),
        ("unsubscribe", {"tradingAccountId": bobs}, 400, -22015, "no active subscription"),
    ]
    for path, body, status, errno, words in bad:
        r = await mock.post(f"{ACCOUNT}/subscription/{path}", json=body, headers=ALICE)
        answer = await r.json()
        assert (r.status, answer["errno"]) == (status, errno), (path, body, answer)
        assert words in answer["error"], (path, answer)
    r = await mock.get(
        f"{ACCOUNT}/subscription/list", params={"tradingAccountId": "nope"}, headers=ALICE
    )
    assert r.status == 400 and "tradingAccountId" in (await r.json())["error"]
    r = await mock.post(f"{ACCOUNT}/disconnect", json={"tradingAccountId": account}, headers=ALICE)
    assert r.status == 200
    r = await mock.post(
        f"{ACCOUNT}/subscription/subscribe", json={"tradingAccountId": account}, headers=ALICE
    )
    refused = await r.json()
    assert r.status == 400 and "DISCONNECTED" in refused["error"]
    assert await state() == []  # the disconnect ended it, nothing else did
    assert len(before) == 1
    r = await mock.get(f"{ACCOUNT}/subscription/list", headers=BOB)
    assert [s["subscriptionId"] for s in (await r.json())["data"]] == [bob_subscription]


# ------------------------------------------------------------------ item 7: params


async def test_the_documents_params_are_taken_and_enums_enforced(mock: Any) -> None:
    account = await _connect(mock)
    socket = await _socket(mock)
    sent: list[tuple[str, dict[str, Any]]] = [
        ("command.credential.rotate", {"credentialId": ALICE_CRED, "credentialType": "API_KEY"}),
        (
            "command.credential.rotate",
            {
                "credentialId": ALICE_CRED,
                "credentialType": "API_KEY",
                "apiKey": KEYS[2],
                "secretKey": SECRETS[2],
            },
        ),
        (
            "command.credential.create",
            {
                "tradingAccountId": account,
                "venue": "BINANCE",
                "credentialType": "API_KEY",
                "apiKey": "contractSECONDkey01234567",
                "secretKey": "contract-second-secret",
            },
        ),
        ("query.trading_account.operation.list", {"tradingAccountId": account}),
    ]
    results = []
    for method, params in sent:
        assert_shape(rpc_schema(method, "Params"), params)  # SDK-valid params...
        reply = await socket.rpc(method, params)
        results.append(assert_rpc_result(method, reply))  # ...answered with data
    assert all("data" in r for r in results), results
    keyless, rotated, created, operations = (r["data"] for r in results)
    assert keyless["updatedAt"] < rotated["updatedAt"]
    assert created["credentialType"] == "API_KEY" and created["status"] == "CREATED"
    history = [(o.get("operationType"), o["tags"]) for o in operations]
    # Newest first; the document's enum has no rotate or update: tags keep the REST name.
    assert history[-1] == ("CONNECT", ["CONNECT"])
    assert (None, ["CREDENTIAL_ROTATE"]) in history
    assert all(o["tradingAccountId"] == account for o in operations)
    refused = [
        ("command.credential.rotate", {"credentialId": ALICE_CRED}, "credentialType is required"),
        (
            "command.credential.rotate",
            {"credentialId": ALICE_CRED, "credentialType": "TOKEN"},
            "not the credential's type (API_KEY)",
        ),
        (
            "command.credential.create",
            {"tradingAccountId": account, "venue": "BINANCE"},
            "credentialType is required",
        ),
        ("query.credential.list", {"credentialType": "api_key"}, "credentialType must be"),
        ("query.credential.list", {"venue": "NOPE"}, "venue must be one of"),
        ("query.trading_account.list", {"status": "DISABLED"}, "status must be one of"),
        ("query.trading_account.operation.list", {}, "tradingAccountId is required"),
    ]
    for method, params, words in refused:
        reply = await socket.rpc(method, params)
        result = assert_rpc_result(method, reply)
        assert result["error"]["code"] == 19004 and words in result["error"]["message"], result
    listed = await socket.rpc("query.credential.list", {"credentialType": "API_KEY"})
    assert len(assert_rpc_result("query.credential.list", listed)["data"]) == 2
    text = "".join(socket.seen)
    assert not any(s in text for s in (*SECRETS, *KEYS, "contract-second-secret"))


# ------------------------------------------------------------------ item 8: protocol


async def test_ping_gets_an_empty_reply_and_connect_says_expires(mock: Any) -> None:
    socket = await _socket(mock, None)
    await socket.send({"id": 1, "connect": {"token": ALICE_TOKEN}})
    connected = await socket.frame()
    assert_reply(connected)
    assert (connected["connect"]["expires"], connected["connect"]["ttl"]) == (False, 0)
    pong = await socket.call({"ping": {}})
    assert_reply(pong)
    assert pong == {"id": pong["id"], "ping": {}}
    assert "rpc" in await socket.rpc("query.system.info", {})  # the connection stays
    early = await _socket(mock, None)  # before connect: only connect is taken
    await early.send({"id": 1, "ping": {}})
    assert await early.closed_with() == 3501


# ------------------------------------------------------------------ item 9: docs scenario

BYBIT_CRED = "31111111-1111-4111-8111-111111111111"
BROKER_CRED = "32222222-2222-4222-8222-222222222222"
BYBIT_ACCOUNT = "41111111-1111-4111-8111-111111111111"
FUTURES_ACCOUNT = "42222222-2222-4222-8222-222222222222"
DOCS: dict[str, Any] = {
    "profile": "docs",
    "seed": 9,
    "now": "2026-03-01T00:00:00Z",
    "users": [
        {
            "email": "carol@example.com",
            "tokens": ["carol-token"],
            "credentials": [
                {
                    "credentialId": BYBIT_CRED,
                    "venue": "BYBIT",
                    "name": "bybit",
                    "type": "EXCHANGE",
                    "apiKey": "carolBYBITkey0123456789",
                    "apiSecret": "carol-bybit-secret",
                },
                {
                    "credentialId": BROKER_CRED,
                    "venue": "BINANCE",
                    "name": "broker",
                    "type": "BROKER",
                    "apiKey": "carolBINANCEkey0123456",
                    "apiSecret": "carol-binance-secret",
                },
            ],
            "trading_accounts": [
                {
                    "tradingAccountId": BYBIT_ACCOUNT,
                    "credentials": [BYBIT_CRED],
                    "externalTradingAccountId": "spot",
                    "status": "DISABLED",
                },
                {
                    "tradingAccountId": FUTURES_ACCOUNT,
                    "credentials": [BROKER_CRED],
                    "externalTradingAccountId": "futures",
                },
            ],
        }
    ],
}


async def test_a_docs_scenario_is_spoken_in_the_sdk_vocabulary(make_client: Any) -> None:
    require_document()
    mock = await make_client(DOCS)
    socket = await _socket(mock, "carol-token")

    async def data(method: str, params: dict[str, Any]) -> Any:
        return assert_rpc_result(method, await socket.rpc(method, params))["data"]

    creds = await data("query.credential.list", {})
    assert {(c["venue"], c["credentialType"]) for c in creds} == {
        ("MOCK", "API_KEY"),  # BYBIT, EXCHANGE
        ("BINANCE", "API_KEY"),  # BROKER
    }
    accounts = {a["tradingAccountId"]: a for a in await data("query.trading_account.list", {})}
    assert (accounts[BYBIT_ACCOUNT]["status"], accounts[BYBIT_ACCOUNT]["venue"]) == (
        "INACTIVE",  # docs DISABLED
        "MOCK",
    )
    assert accounts[FUTURES_ACCOUNT]["accountType"] == "MARGIN"  # docs FUTURES
    # Filters and params in the sdk vocabulary mean the scenario's values.
    (bybit,) = await data("query.credential.list", {"venue": "MOCK"})
    assert bybit["credentialId"] == BYBIT_CRED
    (inactive,) = await data("query.trading_account.list", {"status": "INACTIVE"})
    assert inactive["tradingAccountId"] == BYBIT_ACCOUNT
    made = await data(
        "command.credential.create",
        {
            "tradingAccountId": FUTURES_ACCOUNT,
            "venue": "BINANCE",
            "credentialType": "API_KEY",
            "apiKey": "carolSECONDkey01234567",
            "secretKey": "carol-second-secret",
        },
    )
    assert made["credentialType"] == "API_KEY" and made["status"] == "ACTIVE"
    rest = await (await mock.get("/api/v3/credential/list", headers=_bearer("carol-token"))).json()
    stored = {c["credentialId"]: c for c in rest["data"]}[made["credentialId"]]
    assert (stored["venue"], stored["type"]) == ("BINANCE", "EXCHANGE")  # REST: docs again
    reply = await socket.rpc(
        "command.credential.rotate", {"credentialId": BYBIT_CRED, "credentialType": "TOKEN"}
    )
    error = assert_rpc_result("command.credential.rotate", reply)["error"]
    assert error["code"] == 19004 and "API_KEY" in error["message"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_subscriptions_follow_snapshots_and_reset(mock: Any) -> None:
    account = await _connect(mock)
    body = {"tradingAccountId": account}
    r = await mock.post(f"{ACCOUNT}/subscription/subscribe", json=body, headers=ALICE)
    made = (await r.json())["data"]
    snapshot = (await (await mock.post("/__admin/snapshots")).json())["data"]["id"]
    r = await mock.post(f"{ACCOUNT}/subscription/unsubscribe", json=body, headers=ALICE)
    assert r.status == 200

    async def active() -> list[str]:
        r = await mock.get(f"{ACCOUNT}/subscription/list", headers=ALICE)
        return [s["subscriptionId"] for s in (await r.json())["data"]]

    assert await active() == []
    r = await mock.post(f"/__admin/snapshots/{snapshot}/restore")
    assert r.status == 200
    assert await active() == [made["subscriptionId"]]  # back, with the account
    assert (await mock.post("/__admin/reset")).status == 200
    assert await active() == []  # the scenario has none


def test_subscribes_are_journaled_and_found_by_channel() -> None:
    """In-process: `calls(<channel glob>, method="SUBSCRIBE")`, the hint, strict mode's report."""
    import requests

    from cadenza_mock import MockServer

    with MockServer(SCENARIO) as server:
        r = requests.post(
            server.url + f"{ACCOUNT}/connect",
            json={"credentialIds": [ALICE_CRED], "externalTradingAccountId": "spot"},
            headers=ALICE,
            timeout=10,
        )
        account = r.json()["data"]["tradingAccountId"]

        async def subscribe_twice() -> None:
            client = Client(server.ws_url, token=ALICE_TOKEN)
            await client.connect()
            try:
                sub = client.new_subscription(f"tradingAccount:{account}")
                await sub.subscribe()
                await sub.ready(timeout=5)
                await sub.unsubscribe()
                r = await asyncio.to_thread(
                    requests.post,
                    server.url + f"{ACCOUNT}/subscription/subscribe",
                    json={"tradingAccountId": account},
                    headers=ALICE,
                    timeout=10,
                )
                assert r.status_code == 200
                await sub.subscribe()  # fed now: no hint
                await sub.ready(timeout=5)
            finally:
                await client.disconnect()

        asyncio.run(subscribe_twice())
        calls = server.calls("tradingAccount:*", method="SUBSCRIBE")
        assert [(c.path, c.status, len(c.hints)) for c in calls] == [
            (f"tradingAccount:{account}", 200, 1),
            (f"tradingAccount:{account}", 200, 0),
        ]
        assert server.calls("market:*", method="SUBSCRIBE") == []
        with pytest.raises(AssertionError, match="carries nothing until"):
            server.assert_no_unknown_requests()


async def test_every_rpc_method_answers_in_its_documented_shape(mock: Any) -> None:
    """One valid call of each method, params and result checked against the document."""
    from cadenza_mock.rpc import METHODS

    account = await _connect(mock)
    socket = await _socket(mock)
    ref = {"tradingAccountId": account}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("query.system.info", {}),
        ("query.system.check", {}),
        ("query.credential.list", {"status": "ACTIVE", "pagination": {"offset": 0, "limit": 5}}),
        ("command.credential.verify", {"credentialIds": [ALICE_CRED]}),
        ("query.trading_account.list", {"status": "ACTIVE", "pagination": {"limit": 1}}),
        ("command.trading_account.update", {"tradingAccount": {**ref, "nickname": "n"}}),
        ("command.trading_account.disable", ref),
        ("command.trading_account.enable", ref),
        (
            "command.trading_account.subscribe",
            {"tradingAccount": ref, "subscriptionType": USER_DATA},
        ),
        ("query.trading_account.subscription.list", ref),
        ("command.trading_account.unsubscribe", ref),
        ("query.trading_account.operation.list", {**ref, "pagination": {"limit": 2}}),
        (
            "command.credential.create",
            {**ref, "venue": "BINANCE", "credentialType": "API_KEY", "nickname": "second"},
        ),
        ("command.credential.rotate", {"credentialId": ALICE_CRED, "credentialType": "API_KEY"}),
        ("command.trading_account.disconnect", ref),
        ("command.credential.revoke", {"credentialId": ALICE_CRED}),
        (
            "command.trading_account.connect",
            {
                "tradingAccount": {
                    "venue": "BINANCE",
                    "externalAccountId": "spot",
                    "credentials": [{"credentialId": BOB_CRED}],
                }
            },
        ),
    ]
    assert {method for method, _ in calls} == set(METHODS)
    bob = await _socket(mock, BOB_TOKEN)  # connects with his own credential
    answered = {}
    for method, params in calls:
        assert_shape(rpc_schema(method, "Params"), params)
        caller = bob if method == "command.trading_account.connect" else socket
        result = assert_rpc_result(method, await caller.rpc(method, params))
        assert "data" in result, (method, result)
        answered[method] = result
    assert answered["query.trading_account.list"]["pagination"]["total"] == 1
    assert answered["command.credential.revoke"]["data"]["revokedAt"].endswith("Z")

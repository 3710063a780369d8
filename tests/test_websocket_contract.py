"""The WebSocket API against the platform's own document: every reply and
result parsed with the `rpc*`/`ws*` shapes it defines (tests/platform_ws.py), over real
sockets, with centrifuge-python (the peer the official client re-exports) and raw frames.

Cadenza errors travel inside the RPC result; protocol errors stay reply-level. The params
are the document's `Rpc*Params`. A docs-profile scenario is spoken in the sdk vocabulary.
Events and subscriptions: test_websocket_events.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from centrifuge.exceptions import ReplyError
from platform_ws import assert_reply, assert_rpc_result, assert_shape, require_document, rpc_schema
from ws_contract import (
    ALICE_CRED,
    ALICE_TOKEN,
    BOB,
    BOB_CRED,
    BOB_TOKEN,
    KEYS,
    SCENARIO,
    SECRETS,
    UNKNOWN,
    USER_DATA,
    centrifuge,
    connect_account,
    journal_of,
    open_socket,
)


@pytest.fixture
async def mock(make_client: Any) -> Any:
    require_document()
    return await make_client(SCENARIO)


# ------------------------------------------------------------------ item 1: errors in results


async def test_cadenza_errors_are_the_rpc_result_and_centrifuge_raises_nothing(mock: Any) -> None:
    account = await connect_account(mock)
    bobs = await connect_account(mock, BOB, BOB_CRED)
    client = await centrifuge(mock)
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
    statuses = [e["status"] for e in await journal_of(mock, "RPC")]
    assert statuses == [200, 404, 403, 400, 404, 403, 400, 400, 400, 400, 200, 404]


async def test_a_respond_fault_answers_inside_the_result_and_frames_conform(mock: Any) -> None:
    fault = {
        "match": {"path": "query.trading_account.list"},
        "respond": {"status": 503, "errno": -18013},
        "times": 1,
    }
    assert (await mock.post("/__admin/faults", json=fault)).status == 200
    socket = await open_socket(mock)
    reply = await socket.rpc("query.trading_account.list", {})
    result = assert_rpc_result("query.trading_account.list", reply)
    assert result == {"error": {"code": 18013, "message": "On maintenance", "temporary": True}}
    reply = await socket.rpc("query.trading_account.list", {})  # used up: answered
    assert assert_rpc_result("query.trading_account.list", reply)["data"] == []


async def test_protocol_errors_stay_reply_level(mock: Any) -> None:
    account = await connect_account(mock)
    bob = await open_socket(mock, BOB_TOKEN)
    socket = await open_socket(mock)
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


# ------------------------------------------------------------------ item 7: params


async def test_the_documents_params_are_taken_and_enums_enforced(mock: Any) -> None:
    account = await connect_account(mock)
    socket = await open_socket(mock)
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
    socket = await open_socket(mock, None)
    await socket.send({"id": 1, "connect": {"token": ALICE_TOKEN}})
    connected = await socket.frame()
    assert_reply(connected)
    assert (connected["connect"]["expires"], connected["connect"]["ttl"]) == (False, 0)
    pong = await socket.call({"ping": {}})
    assert_reply(pong)
    assert pong == {"id": pong["id"], "ping": {}}
    assert "rpc" in await socket.rpc("query.system.info", {})  # the connection stays
    early = await open_socket(mock, None)  # before connect: only connect is taken
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
    socket = await open_socket(mock, "carol-token")

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


ORDER = "the submitted order's id"


async def test_every_rpc_method_answers_in_its_documented_shape(mock: Any) -> None:
    """One valid call of each method, params and result checked against the document."""
    from cadenza_mock.http.rpc import METHODS

    account = await connect_account(mock)
    socket = await open_socket(mock)
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
        # Orders and portfolios (more in test_orders_rpc.py); ORDER: the submitted one's id.
        (
            "command.trade_order.submit",
            {
                **ref,
                "tradeOrder": {
                    "instrumentId": "BINANCE:BTC/USDT",
                    "orderSide": "BUY",
                    "orderType": "LIMIT",
                    "quantity": "0.01",
                    "limitPrice": "1000.00",
                    "clientOrderId": "c-1",
                },
            },
        ),
        ("query.trade_order.get", {**ref, "clientOrderId": "c-1"}),
        ("query.trade_order.get_by_id", {"tradeOrderId": ORDER}),
        ("query.trade_order.list", {**ref, "pagination": {"limit": 5}}),
        ("command.trade_order.cancel", {**ref, "tradeOrderId": ORDER}),
        ("query.portfolio.get", ref),
        ("query.portfolio.list", {"venue": "BINANCE"}),
        # No rpc shape of its own in the document: its answer is the REST `quote` (below).
        (
            "command.quote.rfq",
            {
                "dealerAccountId": account,
                "orderSide": "SELL",
                "quantity": "0.01",
                "instrumentId": "BINANCE:BTC/USDT",
            },
        ),
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
        # The market's queries (more in test_market_rpc.py).
        ("query.venue.list", {}),
        ("query.instrument.list", {"venue": "BINANCE", "symbols": ["BTC/USDT"]}),
        ("query.security.list", {"venue": "OKX", "securities": ["BTC"]}),
        ("query.orderbook.get", {"instrumentId": "BINANCE:BTC/USDT", "depth": 2}),
        ("query.orderbook.list", {"venue": "OKX", "depth": 1}),
        ("query.ticker.list", {"instrumentIds": ["BINANCE:ETH/USDT"]}),
        ("query.kline.list", {"venue": "BINANCE", "symbols": ["SOL/USDT"], "interval": "1d"}),
        ("command.market.subscription.orderbook.subscribe", {"instrumentIds": ["OKX:BTC/USDT"]}),
        ("query.market.subscription.orderbook.list", {"venue": "OKX"}),
        ("command.market.subscription.orderbook.unsubscribe", {"instrumentId": "OKX:BTC/USDT"}),
        # The market's commands (more in test_market_write.py).
        ("command.instrument.disable", {"instrumentId": "OKX:BTC/USDT"}),
        ("command.instrument.enable", {"instrumentId": "OKX:BTC/USDT"}),
        ("command.instrument.delete", {"instrumentId": "OKX:BTC/USDT"}),
        ("command.instrument.sync", {"venue": "OKX", "symbols": ["BTC/USDT"]}),
        ("command.security.delete", {"securityIds": ["OKX:SOL"]}),
        ("command.security.sync", {"venue": "OKX"}),
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
    bob = await open_socket(mock, BOB_TOKEN)  # connects with his own credential
    answered = {}
    for method, params in calls:
        if params.get("tradeOrderId") == ORDER:
            placed = answered["command.trade_order.submit"]["data"]["tradeOrderId"]
            params = {**params, "tradeOrderId": placed}
        if method == "command.quote.rfq":
            reply = await socket.rpc(method, params)
            assert_reply(reply)
            assert_shape("quote", reply["rpc"]["data"]["data"])
            continue
        no_data = method == "command.security.delete"  # its ids are not the uuids documented
        if not no_data:
            assert_shape(rpc_schema(method, "Params"), params)
        caller = bob if method == "command.trading_account.connect" else socket
        result = assert_rpc_result(method, await caller.rpc(method, params))
        assert ("data" in result) != no_data, (method, result)
        answered[method] = result
    assert answered["query.trading_account.list"]["pagination"]["total"] == 1
    assert answered["command.credential.revoke"]["data"]["revokedAt"].endswith("Z")

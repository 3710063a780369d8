"""Order book subscriptions over REST and the WebSocket RPC, on real sockets: one set of
records and rules behind both transports, the platform document's shapes, the same errors,
and nothing changed by a refused call."""

from __future__ import annotations

from typing import Any

import pytest
from platform_ws import assert_rpc_result, assert_shape, require_document, rpc_schema
from ws_contract import ALICE, BOB, SCENARIO, open_socket

BOOKS = "/api/v3/market/subscription/orderBook"
ONE, TWO = "BINANCE:BTC/USDT", "OKX:ETH/USDT"
NOBODY = {"Authorization": "Bearer nope"}


@pytest.fixture
async def mock(make_client: Any) -> Any:
    require_document()
    return await make_client(SCENARIO)


async def call(mock: Any, verb: str, body: Any = None, headers: Any = ALICE, **kw: Any) -> Any:
    method = "GET" if verb == "list" else "POST"
    r = await mock.request(method, f"{BOOKS}/{verb}", json=body, headers=headers, **kw)
    return r.status, await r.json()


async def listed(mock: Any, headers: Any = ALICE, **params: str) -> list[dict[str, Any]]:
    status, body = await call(mock, "list", headers=headers, params=params)
    assert status == 200, body
    found: list[dict[str, Any]] = body["data"]
    return found


async def test_rest_subscribe_list_unsubscribe(mock: Any) -> None:
    status, body = await call(mock, "subscribe", {"instrumentId": ONE})
    assert status == 200, body
    made = body["data"]
    assert_shape("subscription", made)
    assert (made["instrumentId"], made["venue"], made["status"]) == (ONE, "BINANCE", "ACTIVE")
    assert made["subscriptionType"] == "MARKET.SUBSCRIPTION.ORDERBOOK"
    # Twice: the one subscription, nothing new.
    assert (await call(mock, "subscribe", {"instrumentId": ONE}))[1]["data"] == made
    _, other = await call(mock, "subscribe", {"instrumentId": TWO})
    assert [s["instrumentId"] for s in await listed(mock)] == [ONE, TWO]
    assert await listed(mock, instrumentId=TWO) == [other["data"]]
    assert await listed(mock, instrumentId="OKX:NONE/USDT") == []
    assert await listed(mock, BOB) == []  # each user lists their own
    status, body = await call(mock, "unsubscribe", {"subscriptionId": made["subscriptionId"]})
    assert status == 200 and body["data"]["status"] == "TERMINATED", body
    assert body["data"]["updatedAt"] >= made["updatedAt"]
    # Ending an ended one changes nothing; by instrument, the active one ends.
    again = await call(mock, "unsubscribe", {"subscriptionId": made["subscriptionId"]})
    assert again[1]["data"] == body["data"]
    status, body = await call(mock, "unsubscribe", {"instrumentId": TWO})
    assert status == 200 and body["data"]["subscriptionId"] == other["data"]["subscriptionId"]
    assert await listed(mock) == []


async def test_rest_refusals_are_the_catalogues_and_change_nothing(mock: Any) -> None:
    _, kept = await call(mock, "subscribe", {"instrumentId": ONE})
    cases: list[tuple[str, Any, Any, int, int, str]] = [
        ("subscribe", {"instrumentId": "BINANCE:DOGE/USDT"}, ALICE, 404, -22016,
         "Instrument not found: BINANCE:DOGE/USDT"),
        ("subscribe", {}, ALICE, 400, -19004, "instrumentId"),
        ("subscribe", {"instrumentId": ""}, ALICE, 400, -19004, "instrumentId"),
        ("unsubscribe", {}, ALICE, 400, -19004, "subscriptionId"),
        ("unsubscribe", {"instrumentId": TWO}, ALICE, 400, -22015, TWO),
        # Bob may not end Alice's: to him it does not exist.
        ("unsubscribe", {"subscriptionId": kept["data"]["subscriptionId"]}, BOB, 400, -22015,
         kept["data"]["subscriptionId"]),
        ("unsubscribe", {"subscriptionId": kept["data"]["subscriptionId"], "instrumentId": TWO},
         ALICE, 400, -22015, "is not on instrument"),
        ("subscribe", {"instrumentId": ONE}, NOBODY, 401, -19002, "token"),
    ]  # fmt: skip
    for verb, body, headers, status, errno, text in cases:
        got, answer = await call(mock, verb, body, headers)
        assert (got, answer["errno"]) == (status, errno), (verb, body, answer)
        assert answer["success"] is False and text in answer["error"], answer
    got, answer = await call(mock, "list", params=[("instrumentId", ONE), ("instrumentId", TWO)])
    assert (got, answer["errno"]) == (400, -22015) and "instrumentId" in answer["error"]
    assert await listed(mock) == [kept["data"]]


async def test_rpc_twins_share_the_records_and_the_errors(mock: Any) -> None:
    socket = await open_socket(mock)
    method = "command.market.subscription.orderbook.subscribe"
    params = {"instrumentIds": [ONE, TWO, ONE]}
    assert_shape(rpc_schema(method, "Params"), params)
    made = assert_rpc_result(method, await socket.rpc(method, params))["data"]
    assert [(s["instrumentId"], s["status"]) for s in made] == [(ONE, "ACTIVE"), (TWO, "ACTIVE")]
    # The REST list sees them (the same records), in the REST shape.
    rest = await listed(mock)
    assert [s["subscriptionId"] for s in rest] == [s["subscriptionId"] for s in made]
    by_symbols = await socket.rpc(method, {"venue": "OKX", "symbols": ["ETH/USDT"]})
    assert assert_rpc_result(method, by_symbols)["data"] == [made[1]]
    listing = "query.market.subscription.orderbook.list"
    found = assert_rpc_result(listing, await socket.rpc(listing, {"venue": "OKX"}))["data"]
    assert found == [made[1]]
    ending = "command.market.subscription.orderbook.unsubscribe"
    ended = await socket.rpc(ending, {"instrumentId": ONE})
    assert assert_rpc_result(ending, ended)["data"]["status"] == "TERMINATED"
    # The errors, in the result, as REST's (and nothing changed by them).
    cases = [
        (method, {"instrumentIds": [TWO, "OKX:NONE/USDT"]}, 22016, "OKX:NONE/USDT"),
        (method, {"venue": "OKX", "symbols": ["NONE/USDT"]}, 22016, "OKX:NONE/USDT"),
        (method, {}, 22015, "instrumentIds"),
        (method, {"instrumentIds": "OKX:ETH/USDT"}, 19004, "instrumentIds"),
        (ending, {}, 19004, ""),
        (ending, {"instrumentId": ONE}, 22015, ONE),
        (ending, {"subscriptionId": "not-a-uuid"}, 19004, "subscriptionId"),
    ]
    for name, data, code, text in cases:
        reply = await socket.rpc(name, data)
        error = reply["rpc"]["data"]["error"]
        assert error["code"] == code and text in error["message"], (name, data, reply)
    after = assert_rpc_result(listing, await socket.rpc(listing, {}))["data"]
    assert after == [made[1]]


async def test_a_reset_forgets_the_subscriptions(mock: Any) -> None:
    await call(mock, "subscribe", {"instrumentId": ONE})
    assert (await mock.post("/__admin/reset")).status == 200
    assert await listed(mock) == []

"""The market's RPC queries over a real WebSocket: the document's params and results, the
same answers as their REST twins at the same clock, and the twins' errors in the result."""

from __future__ import annotations

from typing import Any

import pytest
from platform_ws import assert_rpc_result, assert_shape, require_document, rpc_schema
from ws_contract import ALICE, SCENARIO, open_socket

MARKET = "/api/v3/market"


@pytest.fixture
async def mock(make_client: Any) -> Any:
    require_document()
    return await make_client(SCENARIO)


async def rest(mock: Any, path: str, params: Any) -> Any:
    r = await mock.get(f"{MARKET}/{path}", params=params, headers=ALICE)
    assert r.status == 200, await r.text()
    return (await r.json())["data"]


async def test_each_market_query_answers_its_rest_twin_in_the_documents_shapes(mock: Any) -> None:
    socket = await open_socket(mock)
    one = "OKX:ETH/USDT"
    cases: list[tuple[str, dict[str, Any], str, Any]] = [
        ("query.venue.list", {}, "venue/list", {}),
        ("query.instrument.list", {"venue": "OKX"}, "instrument/list", {"venue": "OKX"}),
        ("query.security.list", {"venue": "BINANCE"}, "security/list", {"venue": "BINANCE"}),
        ("query.orderbook.get", {"instrumentId": one, "depth": 4}, "orderBook/get",
         {"instrumentId": one, "depth": 4}),
        ("query.orderbook.list", {"instrumentIds": [one]}, "orderBook/list",
         {"instrumentIds": one}),
        ("query.ticker.list", {"venue": "OKX"}, "ticker/list", {}),
        ("query.kline.list", {"instrumentIds": [one], "interval": "1h"},
         "kline/get", {"instrumentId": one, "interval": "1h"}),
    ]  # fmt: skip
    for method, params, path, query in cases:
        assert_shape(rpc_schema(method, "Params"), params)
        data = assert_rpc_result(method, await socket.rpc(method, params))["data"]
        twin = await rest(mock, path, query)
        if method == "query.venue.list":
            assert data == [v["venue"] for v in twin]
        elif method == "query.instrument.list":
            assert [i["instrumentId"] for i in data] == [i["instrumentId"] for i in twin]
            assert data[0]["pipSize"] == twin[0]["pipSize"]
        elif method == "query.security.list":
            assert [s["securityId"] for s in data] == [s["securityId"] for s in twin]
        elif method == "query.ticker.list":
            assert data == [t for t in twin if t["venue"] == "OKX"] and len(data) == 3
        elif method == "query.kline.list":
            assert data == [twin]
        else:
            assert data == twin  # the same book at the same clock


async def test_the_rest_twins_errors_come_in_the_result(mock: Any) -> None:
    socket = await open_socket(mock)
    cases = [
        ("query.orderbook.get", {"instrumentId": "OKX:NONE/USDT"}, 22016, "Instrument not found"),
        ("query.kline.list", {"instrumentIds": ["OKX:ETH/USDT"], "interval": "2m"}, 22015,
         "interval"),
        ("query.instrument.list", {"venue": "NOWHERE"}, 22015, "venue"),
        ("query.orderbook.get", {}, 19004, "instrumentId"),
    ]  # fmt: skip
    for method, params, code, text in cases:
        reply = await socket.rpc(method, params)
        error = reply["rpc"]["data"]["error"]
        assert error["code"] == code and text in error["message"], reply
    # Nothing chosen matches nothing, as an unknown id does in REST.
    reply = await socket.rpc("query.ticker.list", {"symbols": ["NONE/USDT"]})
    assert assert_rpc_result("query.ticker.list", reply)["data"] == []

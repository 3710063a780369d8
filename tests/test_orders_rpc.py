"""The trading RPC methods over a real WebSocket: the document's params and results
(rpc*TradeOrder*, rpc*Portfolio*), the same orders and portfolios as the REST twins, and
the twins' errors (18xxx) inside the result."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from platform_ws import assert_rpc_result, assert_shape, require_document, rpc_schema
from ws_contract import ALICE, BOB_TOKEN, SCENARIO, connect_account, open_socket

API = "/api/v3"


@pytest.fixture
async def mock(make_client: Any) -> Any:
    require_document()
    return await make_client(SCENARIO)


def submit_params(account: str, **order: Any) -> dict[str, Any]:
    found = {
        "instrumentId": "BINANCE:ETH/USDT",
        "orderSide": "BUY",
        "orderType": "MARKET",
        "quantity": "0.5",
        **order,
    }
    return {"tradingAccountId": account, "tradeOrder": found}


async def rpc(socket: Any, method: str, params: dict[str, Any]) -> Any:
    assert_shape(rpc_schema(method, "Params"), params)
    return assert_rpc_result(method, await socket.rpc(method, params))["data"]


async def test_each_trading_method_answers_in_the_documents_shapes(mock: Any) -> None:
    account = await connect_account(mock)
    socket = await open_socket(mock)
    filled = await rpc(socket, "command.trade_order.submit", submit_params(account))
    assert (filled["status"], filled["quantity"], filled["executedQuantity"]) == (
        "FILLED", "0.5000", "0.5000"
    )  # fmt: skip
    params = submit_params(account, orderType="LIMIT", limitPrice="1000.00", clientOrderId="c-1")
    resting = await rpc(socket, "command.trade_order.submit", {**params, "idempotencyKey": "i-1"})
    assert resting["status"] == "ACCEPTED" and resting["clientOrderId"] == "c-1"
    again = await rpc(socket, "command.trade_order.submit", {**params, "idempotencyKey": "i-1"})
    assert again == resting
    by_id = {"tradeOrderId": resting["tradeOrderId"]}
    assert await rpc(socket, "query.trade_order.get_by_id", by_id) == resting
    by_client = {"clientOrderId": "c-1", "tradingAccountId": account}
    assert await rpc(socket, "query.trade_order.get", by_client) == resting
    listed = await rpc(socket, "query.trade_order.list", {"tradingAccountId": account})
    assert [o["tradeOrderId"] for o in listed] == [resting["tradeOrderId"], filled["tradeOrderId"]]
    only = await rpc(socket, "query.trade_order.list", {"status": "FILLED", "side": "BUY"})
    assert [o["tradeOrderId"] for o in only] == [filled["tradeOrderId"]]
    cancelled = await rpc(
        socket, "command.trade_order.cancel", {**by_id, "tradingAccountId": account}
    )
    assert cancelled["status"] == "CANCELLED" and cancelled["canceledAt"].endswith("Z")
    # The portfolio, as REST shows it.
    pf = await rpc(socket, "query.portfolio.get", {"tradingAccountId": account})
    r = await mock.get(f"{API}/tradingAccount/portfolio/list", headers=ALICE)
    (twin,) = (await r.json())["data"]
    rest = {b["securitySymbol"]: b["total"] for b in twin["balances"]}
    assert {b["securitySymbol"]: b["total"] for b in pf["balances"]} == rest
    assert Decimal(rest["ETH"]) > Decimal("0.5")  # the seeded ETH and the fill
    listed_pf = await rpc(socket, "query.portfolio.list", {"currency": "USDT"})
    assert [b["securitySymbol"] for b in listed_pf[0]["balances"]] == ["USDT"]


async def test_the_twins_errors_come_in_the_result(mock: Any) -> None:
    account = await connect_account(mock)
    socket = await open_socket(mock)
    cases = [
        (submit_params(account, quantity="5000"), 18006, "Insufficient funds"),
        (submit_params(account, orderType="TRAILING_STOP"), 18001, "Order type not supported"),
        (submit_params(account, instrumentId="OKX:BTC/USDT"), 18017, "Symbol not found"),
        (submit_params(account, quantity="0.00001"), 18007, "Invalid order"),
        (submit_params(account, orderType="NOPE"), 19004, "orderType"),
    ]
    for params, code, text in cases:
        reply = await socket.rpc("command.trade_order.submit", params)
        error = reply["rpc"]["data"]["error"]
        assert error["code"] == code and text in error["message"], reply
    unknown = {"tradeOrderId": "00000000-0000-4000-8000-000000000000"}
    reply = await socket.rpc("query.trade_order.get_by_id", unknown)
    assert reply["rpc"]["data"]["error"]["code"] == 18018
    # Bob sees none of alice's orders, and cannot read her portfolio.
    await rpc(socket, "command.trade_order.submit", submit_params(account))
    bobs = await open_socket(mock, BOB_TOKEN)
    assert await rpc(bobs, "query.trade_order.list", {}) == []
    reply = await bobs.rpc("query.portfolio.get", {"tradingAccountId": account})
    assert reply["rpc"]["data"]["error"]["code"] == 22018


async def test_a_fed_channel_carries_order_and_portfolio_events(mock: Any) -> None:
    """event.trade_order.updated then event.portfolio.updated on tradingAccount:{id}, in the
    document's rpcTradeOrderUpdatedEvent and rpcPortfolioUpdatedEvent shapes, only while
    the account has an active subscription (engine/subscriptions.py's rule)."""
    from platform_ws import assert_event

    account = await connect_account(mock)
    listener = await open_socket(mock)
    channel = f"tradingAccount:{account}"
    assert (await listener.call({"subscribe": {"channel": channel}}))["subscribe"] == {}
    actor = await open_socket(mock)
    # Not fed yet: an order publishes nothing (the next frame is the subscription's own).
    await rpc(actor, "command.trade_order.submit", submit_params(account, quantity="0.1"))
    r = await mock.post(
        f"{API}/tradingAccount/subscription/subscribe",
        json={"tradingAccountId": account},
        headers=ALICE,
    )
    assert r.status == 200
    first = await listener.frame()
    assert first["push"]["pub"]["data"]["data"]["status"] == "ACTIVE"  # the subscription
    params = submit_params(account, orderType="LIMIT", limitPrice="1000.00")
    placed = await rpc(actor, "command.trade_order.submit", params)
    order_push, portfolio_push = await listener.frame(), await listener.frame()
    assert order_push["push"]["channel"] == portfolio_push["push"]["channel"] == channel
    assert assert_event("rpcTradeOrderUpdatedEvent", order_push)["data"] == placed
    pf = assert_event("rpcPortfolioUpdatedEvent", portfolio_push)["data"]
    usdt = next(b for b in pf["balances"] if b["securitySymbol"] == "USDT")
    assert Decimal(usdt["locked"]) > 0  # the resting order's lock
    await rpc(actor, "command.trade_order.cancel", {"tradingAccountId": account,
              "tradeOrderId": placed["tradeOrderId"]})  # fmt: skip
    cancelled = assert_event("rpcTradeOrderUpdatedEvent", await listener.frame())["data"]
    assert cancelled["status"] == "CANCELLED"
    pf = assert_event("rpcPortfolioUpdatedEvent", await listener.frame())["data"]
    assert next(b for b in pf["balances"] if b["securitySymbol"] == "USDT")["locked"] == "0"

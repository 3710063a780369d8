"""A stop order's RPC twin over a real WebSocket (centrifuge-python): submitted with
`command.trade_order.submit`, answered in the document's rpcTradeOrder with its stopPrice,
and its trigger published on `tradingAccount:{id}` at the price set, with no call reading
the orders; a missing stopPrice is the twin's 18007 in the result."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from platform_ws import assert_shape, require_document, rpc_schema
from test_orders import SPOT
from test_venue_timing_ws import Listener, admin

ETH = "BINANCE:ETH/USDT"


def stop_params(**order: Any) -> dict[str, Any]:
    found = {"instrumentId": ETH, "orderSide": "SELL", "orderType": "STOP_LOSS_LIMIT",
             "quantity": "0.5", "stopPrice": "3000.00", "limitPrice": "2990.00"}  # fmt: skip
    found.update(order)
    return {"tradingAccountId": SPOT, "tradeOrder": found}


async def test_a_stop_submitted_over_rpc_triggers_and_is_published(make_client: Any) -> None:
    require_document()
    mock = await make_client("accounts")
    listener = await Listener().start(mock)
    try:
        params = stop_params()
        assert_shape(rpc_schema("command.trade_order.submit", "Params"), params)
        reply = await listener.client.rpc("command.trade_order.submit", params)
        assert_shape(rpc_schema("command.trade_order.submit", "Result"), reply.data)
        placed = reply.data["data"]
        assert (placed["status"], placed["orderType"]) == ("ACCEPTED", "STOP_LOSS_LIMIT")
        assert (placed["stopPrice"], placed["limitPrice"]) == ("3000.00", "2990.00")
        assert (await listener.order_then_portfolio())["status"] == "ACCEPTED"
        # Under the stop and over the limit: triggered, and the bids it meets fill it.
        await admin(mock, "market/price", {"instrumentId": ETH, "price": "2995.00"})
        filled = await listener.order_then_portfolio()
        assert (filled["tradeOrderId"], filled["status"]) == (placed["tradeOrderId"], "FILLED")
        assert Decimal(filled["executedPrice"]) >= Decimal("2990.00")
        params = stop_params(quantityType="QUOTE", quantity="1500")
        del params["tradeOrder"]["stopPrice"]
        missing = await listener.client.rpc("command.trade_order.submit", params)
        assert missing.data["error"]["code"] == 18007
        assert "stopPrice is required" in missing.data["error"]["message"]
    finally:
        await listener.client.disconnect()

"""An order list's events over a real WebSocket (centrifuge-python): the entry's fill, its
exits placed and then one exit's fill with the other's cancel are each published on
`tradingAccount:{id}` as `rpcTradeOrder`s (which carry no list fields in the document)."""

from __future__ import annotations

from typing import Any

from test_order_lists import a_list
from test_venue_timing_ws import Listener, admin

ETH = "BINANCE:ETH/USDT"


async def orders_until(listener: Listener, want: dict[str, str]) -> dict[str, str]:
    """The statuses published per order id, read until every wanted one was seen."""
    seen: dict[str, str] = {}
    while any(seen.get(k) != v for k, v in want.items()):
        event = await listener.next()
        if "tradeOrderId" in event:
            seen[event["tradeOrderId"]] = event["status"]
    return seen


async def test_an_order_lists_changes_are_published(make_client: Any) -> None:
    mock = await make_client("accounts")
    listener = await Listener().start(mock)
    try:
        entry, take, stop = await a_list(
            mock, instrumentId=ETH, orderType="MARKET", quantity="0.5",
            takeProfitPrice="3300.00", stopLossPrice="2900.00",
        )  # fmt: skip
        ids = {o["orderType"]: o["tradeOrderId"] for o in (entry, take, stop)}
        seen = await orders_until(listener, {ids["MARKET"]: "FILLED",
                                             ids["TAKE_PROFIT"]: "ACCEPTED",
                                             ids["STOP_LOSS"]: "ACCEPTED"})  # fmt: skip
        assert set(seen) == set(ids.values())
        await admin(mock, "market/price", {"instrumentId": ETH, "price": "3350.00"})
        seen = await orders_until(listener, {ids["TAKE_PROFIT"]: "FILLED",
                                             ids["STOP_LOSS"]: "CANCELLED"})  # fmt: skip
        assert ids["MARKET"] not in seen  # the entry is done: nothing more of it
    finally:
        await listener.client.disconnect()

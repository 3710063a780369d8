"""Order lists over real HTTP: a submit with takeProfitPrice / stopLossPrice is an entry
plus exits placed when it fills (OTO / OTOCO), the two exits one-cancels-the-other; the
list filter; each refusal its error row with nothing changed; a restart keeps the links."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support import ALICE
from test_orders import API, BTC, SPOT, UNKNOWN, advance, balances, cancel, set_price, submit
from test_stop_orders import best, listed, price

pytestmark = pytest.mark.scenario("accounts")
CENT = Decimal("0.01")


async def a_list(client: Any, **body: Any) -> list[dict[str, Any]]:
    status, answer = await submit(client, **body)
    assert status == 200, answer
    orders: list[dict[str, Any]] = answer["data"]
    return orders


async def of_list(client: Any, list_id: str) -> dict[str, dict[str, Any]]:
    """The list's orders by type (the list filter)."""
    r = await client.get(f"{API}/tradeOrder/list", params={"orderListId": list_id}, headers=ALICE)
    assert r.status == 200
    return {o["orderType"]: o for o in (await r.json())["data"]}


async def test_a_market_entry_fills_places_both_exits_and_one_fill_cancels_the_other(
    client: Any,
) -> None:
    _, ask = await best(client)
    tp, sl = (ask * Decimal("1.05")).quantize(CENT), (ask * Decimal("0.95")).quantize(CENT)
    before = await balances(client)
    entry, *exits = await a_list(
        client, orderType="MARKET", takeProfitPrice=str(tp), stopLossPrice=str(sl)
    )
    assert entry["status"] == "FILLED" and entry["contingencyType"] == "OTOCO"
    list_id = entry["orderListId"]
    assert isinstance(list_id, str) and list_id.isdigit()
    assert [(o["orderType"], o["orderSide"], o["status"], o["stopPrice"]) for o in exits] == [
        ("TAKE_PROFIT", "SELL", "ACCEPTED", str(tp)),
        ("STOP_LOSS", "SELL", "ACCEPTED", str(sl)),
    ]
    assert all(o["orderListId"] == list_id and o["contingencyType"] == "OTOCO" for o in exits)
    assert all(o["quantity"] == entry["executedQuantity"] for o in exits)
    held = await balances(client)  # one lock for the pair: the quantity bought, once
    assert held["BTC"]["locked"] == Decimal("0.01")
    assert held["BTC"]["total"] == before["BTC"]["total"] + Decimal("0.01")
    assert set(await of_list(client, list_id)) == {"MARKET", "TAKE_PROFIT", "STOP_LOSS"}
    await set_price(client, price(sl * Decimal("0.98")))  # the stop-loss triggers
    await advance(client, 5)
    found = await of_list(client, list_id)
    assert found["STOP_LOSS"]["status"] == "FILLED"
    assert found["TAKE_PROFIT"]["status"] == "CANCELLED"
    assert exits[1]["tradeOrderId"] in found["TAKE_PROFIT"]["cancelReason"]
    after = await balances(client)
    assert after["BTC"]["locked"] == 0 and after["BTC"]["total"] == before["BTC"]["total"]
    await set_price(client, price(tp * Decimal("1.02")))  # a cancelled exit stays so
    await advance(client, 5)
    assert (await of_list(client, list_id))["TAKE_PROFIT"]["status"] == "CANCELLED"


async def test_a_resting_entry_places_its_exit_when_it_fills_and_a_cancel_ends_the_list(
    client: Any,
) -> None:
    bid, _ = await best(client)
    limit = (bid * Decimal("0.99")).quantize(CENT)
    sl = (limit * Decimal("0.95")).quantize(CENT)
    (entry,) = await a_list(client, limitPrice=str(limit), stopLossPrice=str(sl),
                            stopLossLimitPrice=str(sl))  # fmt: skip
    assert (entry["status"], entry["contingencyType"]) == ("ACCEPTED", "OTO")
    await set_price(client, price(limit * Decimal("0.999")))
    await advance(client, 5)
    found = await of_list(client, entry["orderListId"])
    assert found["LIMIT"]["status"] == "FILLED"
    assert (found["STOP_LOSS_LIMIT"]["status"], found["STOP_LOSS_LIMIT"]["limitPrice"]) == (
        "ACCEPTED", str(sl)
    )  # fmt: skip
    # Cancelling the entry before it fills: the whole list, and no exit is ever placed.
    before = await balances(client)
    (second,) = await a_list(client, limitPrice=str(sl), takeProfitPrice=str(limit))
    status, answer = await cancel(client, second["tradeOrderId"])
    assert (status, answer["data"]["status"]) == (200, "CANCELLED")
    await set_price(client, price(sl * Decimal("0.99")))
    await advance(client, 5)
    assert list(await of_list(client, second["orderListId"])) == ["LIMIT"]
    assert (await balances(client))["USDT"] == before["USDT"]


async def test_cancelling_one_exit_cancels_the_other(client: Any) -> None:
    _, ask = await best(client)
    tp, sl = (ask * Decimal("1.05")).quantize(CENT), (ask * Decimal("0.95")).quantize(CENT)
    _, take, stop = await a_list(client, orderType="MARKET", takeProfitPrice=str(tp),
                                 stopLossPrice=str(sl))  # fmt: skip
    status, answer = await cancel(client, stop["tradeOrderId"])
    assert (status, answer["data"]["status"]) == (200, "CANCELLED")
    other = await listed(client, take["tradeOrderId"])
    assert other["status"] == "CANCELLED" and stop["tradeOrderId"] in other["cancelReason"]
    assert (await balances(client))["BTC"]["locked"] == 0


async def test_a_sell_entry_gets_exits_on_the_buy_side(client: Any) -> None:
    bid, _ = await best(client)
    tp, sl = (bid * Decimal("0.95")).quantize(CENT), (bid * Decimal("1.05")).quantize(CENT)
    entry, take, stop = await a_list(client, orderType="MARKET", orderSide="SELL",
                                     takeProfitPrice=str(tp), stopLossPrice=str(sl))  # fmt: skip
    assert entry["status"] == "FILLED"
    assert [(o["orderSide"], o["status"]) for o in (take, stop)] == [("BUY", "ACCEPTED")] * 2
    await set_price(client, price(tp * Decimal("0.98")))  # the take-profit buys back
    await advance(client, 5)
    found = await of_list(client, entry["orderListId"])
    assert (found["TAKE_PROFIT"]["status"], found["STOP_LOSS"]["status"]) == (
        "FILLED", "CANCELLED"
    )  # fmt: skip


REFUSALS = [
    ({"takeProfitPrice": "90000.001"}, -18007, "takeProfitPrice"),
    ({"stopLossPrice": "cheap"}, -18007, "stopLossPrice"),
    ({"takeProfitLimitPrice": "90000.00"}, -18007, "need takeProfitPrice"),
    ({"stopLossTimeInForce": "GTC"}, -18007, "need stopLossPrice"),
    ({"takeProfitPrice": "90000.00", "takeProfitTimeInForce": "IOC"}, -18003, "TimeInForce"),
    ({"takeProfitPrice": "40000.00"}, -18025, "takeProfitPrice"),  # a BUY's under its price
    ({"stopLossPrice": "90000.00"}, -18025, "stopLossPrice"),
    ({"orderSide": "SELL", "takeProfitPrice": "90000.00"}, -18025, "below"),
    ({"orderType": "QUOTED", "quoteId": UNKNOWN, "stopLossPrice": "1.00"}, -18007, "QUOTED"),
]


@pytest.mark.parametrize(("change", "errno", "words"), REFUSALS)
async def test_each_exit_refusal_is_its_error_row_and_changes_nothing(
    client: Any, change: dict[str, Any], errno: int, words: str
) -> None:
    before = await balances(client)
    body = {"orderType": "LIMIT", "limitPrice": "50000.00", **change}
    got, answer = await submit(client, **body)
    assert (got, answer["errno"], answer["data"]) == (400, errno, None), answer
    assert words in answer["error"]
    assert await balances(client) == before
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    assert (await r.json())["data"] == []


async def test_the_list_filter_matches_only_its_list(client: Any) -> None:
    (entry,) = await a_list(client, limitPrice="30000.00", stopLossPrice="29000.00")
    await a_list(client, limitPrice="30000.00")
    r = await client.get(f"{API}/tradeOrder/list", params={"orderListId": "12"}, headers=ALICE)
    assert (await r.json())["data"] == []
    found = await of_list(client, entry["orderListId"])
    assert [o["tradeOrderId"] for o in found.values()] == [entry["tradeOrderId"]]


def test_an_order_list_survives_a_restart(tmp_path: Any) -> None:
    """The state file keeps an entry's exits not placed yet and the list links: after a
    restart the entry fills, its exits are placed, and one cancels the other."""
    import json

    import requests

    from cadenza_mock.run.server import MockServer

    path = tmp_path / "state.json"
    body = {"tradingAccountId": SPOT, "instrumentId": BTC, "quantity": "0.01",
            "orderSide": "BUY", "orderType": "LIMIT", "limitPrice": "40000.00",
            "takeProfitPrice": "45000.00", "stopLossPrice": "35000.00"}  # fmt: skip
    with MockServer("accounts", state_file=path) as first:
        r = requests.post(f"{first.url}{API}/tradeOrder/submit", json=body, headers=ALICE,
                          timeout=10)  # fmt: skip
        assert r.status_code == 200, r.text
        (entry,) = r.json()["data"]
        orders = first.orders()
    document = json.loads(path.read_text())
    assert [x["kind"] for x in document["trading"]["orders"][0]["exits"]] == [
        "takeProfit", "stopLoss"
    ]  # fmt: skip
    with MockServer("accounts", state_file=path) as second:
        assert second.orders() == orders
        admin = f"{second.url}/__admin"
        for value in ("39900.00", "34000.00"):  # the entry fills, then the stop-loss
            price = {"instrumentId": BTC, "price": value}
            assert requests.post(f"{admin}/market/price", json=price, timeout=10).ok
            assert requests.post(f"{admin}/clock", json={"advance": 2}, timeout=10).ok
            second.orders()
        r = requests.get(f"{second.url}{API}/tradeOrder/list", headers=ALICE, timeout=10,
                         params={"orderListId": entry["orderListId"]})  # fmt: skip
        statuses = {o["orderType"]: o["status"] for o in r.json()["data"]}
    assert statuses == {"LIMIT": "FILLED", "TAKE_PROFIT": "CANCELLED", "STOP_LOSS": "FILLED"}


async def test_exits_the_account_cannot_lock_are_rejected(make_client: Any) -> None:
    """A SELL entry's stop-loss buys back above what the entry received: with no other
    quote to lock it is placed REJECTED, and nothing stays locked."""
    from test_orders import _with_balances

    client = await make_client(_with_balances({"USDT": "0", "BTC": "0.25"}))
    bid, _ = await best(client)
    sl = (bid * Decimal("1.05")).quantize(CENT)
    entry, stop = await a_list(client, orderType="MARKET", orderSide="SELL", stopLossPrice=str(sl))
    assert (entry["status"], entry["contingencyType"]) == ("FILLED", "OTO")
    assert (stop["orderType"], stop["orderSide"], stop["status"]) == (
        "STOP_LOSS",
        "BUY",
        "REJECTED",
    )
    held = await balances(client)
    assert held["USDT"]["locked"] == 0 and held["USDT"]["free"] < Decimal("0.01") * sl

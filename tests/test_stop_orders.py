"""Stop and take-profit orders over real HTTP (and one RPC twin): `stopPrice` checked at
submit, the order resting ACCEPTED with its lock until the price path reaches the stop
(a price set and a clock advance here), then a MARKET walk or a LIMIT order from then on;
every refusal its error row with nothing changed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support import ALICE
from test_orders import (
    API,
    BTC,
    SPOT,
    TAKER,
    advance,
    balances,
    book,
    cancel,
    placed,
    set_price,
    submit,
)

pytestmark = pytest.mark.scenario("accounts")
CENT = Decimal("0.01")


async def best(client: Any) -> tuple[Decimal, Decimal]:
    found = await book(client)
    return Decimal(found["bids"][0][0]), Decimal(found["asks"][0][0])


async def listed(client: Any, order_id: str) -> dict[str, Any]:
    r = await client.get(f"{API}/tradeOrder/list", params={"tradeOrderId": order_id}, headers=ALICE)
    (order,) = (await r.json())["data"]
    return dict(order)


def price(value: Decimal) -> str:
    return str(value.quantize(CENT))


async def test_a_sell_stop_loss_rests_locked_and_sells_at_market_when_the_price_falls(
    client: Any,
) -> None:
    bid, _ = await best(client)
    stop = (bid * Decimal("0.95")).quantize(CENT)
    before = await balances(client)
    order = await placed(
        client, orderType="STOP_LOSS", orderSide="SELL", quantity="0.01", stopPrice=str(stop)
    )
    assert (order["status"], order["stopPrice"], order["executions"]) == (
        "ACCEPTED", str(stop), []
    )  # fmt: skip
    assert "limitPrice" not in order and order["timeInForce"] == "GTC"
    held = await balances(client)
    assert held["BTC"]["locked"] == Decimal("0.01")
    assert held["BTC"]["free"] == before["BTC"]["free"] - Decimal("0.01")
    await advance(client, 1)  # the price has not fallen that far: still waiting
    assert (await listed(client, order["tradeOrderId"]))["status"] == "ACCEPTED"
    await set_price(client, price(stop * Decimal("0.98")))
    await advance(client, 5)
    done = await listed(client, order["tradeOrderId"])
    assert done["status"] == "FILLED" and Decimal(done["executedQuantity"]) == Decimal("0.01")
    assert all(Decimal(e["executedPrice"]) < stop for e in done["executions"])
    assert done["updatedAt"] > order["createdAt"]
    cost = Decimal(done["executedCost"])
    fee = Decimal(done["fees"][0]["quantity"])
    assert cost * TAKER - len(done["executions"]) * Decimal("1e-8") <= fee <= cost * TAKER
    after = await balances(client)
    assert after["BTC"] == {
        "free": before["BTC"]["free"] - Decimal("0.01"),
        "locked": 0,
        "total": before["BTC"]["total"] - Decimal("0.01"),
    }
    assert after["USDT"]["free"] == before["USDT"]["free"] + cost - fee


async def test_a_buy_stop_limit_triggers_on_a_rise_and_then_rests_at_its_limit(
    client: Any,
) -> None:
    _, ask = await best(client)
    stop, limit = (ask * Decimal("1.02")).quantize(CENT), (ask * Decimal("1.03")).quantize(CENT)
    before = await balances(client)
    order = await placed(
        client, orderType="STOP_LIMIT", quantity="0.01", stopPrice=str(stop), limitPrice=str(limit)
    )
    assert (order["status"], order["limitPrice"]) == ("ACCEPTED", str(limit))
    locked = (await balances(client))["USDT"]["locked"]
    assert Decimal("0.01") * limit * (1 + TAKER) <= locked < Decimal("0.01") * limit * 2
    # Under the limit but not yet at the stop: a LIMIT would fill, the stop waits.
    await set_price(client, price(ask * Decimal("1.005")))
    await advance(client, 5)
    assert (await listed(client, order["tradeOrderId"]))["status"] == "ACCEPTED"
    await set_price(client, price(limit * Decimal("1.05")))  # past the stop and the limit
    await advance(client, 5)
    triggered = await listed(client, order["tradeOrderId"])
    assert (triggered["status"], triggered["executions"]) == ("ACCEPTED", [])  # asks > limit
    await set_price(client, price(limit * Decimal("0.97")))  # back under it: a LIMIT fills
    await advance(client, 5)
    filled = await listed(client, order["tradeOrderId"])
    assert filled["status"] == "FILLED"
    assert [e["executedPrice"] for e in filled["executions"]] == [str(limit)]
    after = await balances(client)
    assert after["USDT"]["locked"] == 0
    assert after["BTC"]["free"] == before["BTC"]["free"] + Decimal("0.01")


async def test_a_sell_take_profit_triggers_on_a_rise_and_a_cancel_frees_a_waiting_one(
    client: Any,
) -> None:
    _, ask = await best(client)
    before = await balances(client)
    target = (ask * Decimal("1.03")).quantize(CENT)
    waiting = await placed(
        client, orderType="TAKE_PROFIT_LIMIT", orderSide="SELL", stopPrice=str(target),
        limitPrice=str(target),
    )  # fmt: skip
    status, answer = await cancel(client, waiting["tradeOrderId"])
    assert (status, answer["data"]["status"]) == (200, "CANCELLED")
    assert await balances(client) == before
    order = await placed(
        client, orderType="TAKE_PROFIT", orderSide="SELL", quantityType="QUOTE",
        quantity="1000", stopPrice=str(target),
    )  # fmt: skip
    assert (order["status"], order["orderQuantityType"]) == ("ACCEPTED", "QUOTE")
    assert Decimal(order["quantity"]) == (Decimal(1000) / target).quantize(
        Decimal("0.00001"), rounding="ROUND_FLOOR"
    )
    await set_price(client, price(target * Decimal("1.01")))
    await advance(client, 5)
    done = await listed(client, order["tradeOrderId"])
    assert done["status"] == "FILLED"
    assert all(Decimal(e["executedPrice"]) >= target for e in done["executions"])


REFUSALS = [
    ({"orderType": "STOP_LOSS", "orderSide": "SELL"}, 400, -18007, "stopPrice is required"),
    ({"orderType": "STOP", "stopPrice": "50000.001"}, 400, -18007, "pipSize"),
    ({"orderType": "STOP", "stopPrice": "abc"}, 400, -18007, "stopPrice"),
    ({"orderType": "STOP_LIMIT", "stopPrice": "90000.00"}, 400, -18007, "limitPrice is required"),
    ({"orderType": "STOP", "stopPrice": "30000.00"}, 400, -18025, "trigger immediately"),
    (
        {"orderType": "STOP_LOSS", "orderSide": "SELL", "stopPrice": "90000.00"},
        400,
        -18025,
        "trigger",
    ),
    ({"orderType": "TAKE_PROFIT", "stopPrice": "90000.00"}, 400, -18025, "trigger immediately"),
    ({"orderType": "STOP", "stopPrice": "90000.00", "timeInForce": "IOC"}, 400, -18003, "GTC"),
    ({"orderType": "STOP", "stopPrice": "90000.00", "quantity": "1000"}, 400, -18006, "needs"),
    ({"orderType": "TRAILING_STOP", "stopPrice": "90000.00"}, 400, -18001, "TRAILING_STOP"),
]


@pytest.mark.parametrize(("change", "status", "errno", "words"), REFUSALS)
async def test_each_stop_refusal_is_its_error_row_and_changes_nothing(
    client: Any, change: dict[str, Any], status: int, errno: int, words: str
) -> None:
    before = await balances(client)
    got, answer = await submit(client, **change)
    assert (got, answer["errno"], answer["data"]) == (status, errno, None), answer
    assert words in answer["error"]
    assert await balances(client) == before
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    assert (await r.json())["data"] == []


def test_a_waiting_stop_survives_a_restart_and_triggers_after_it(tmp_path: Any) -> None:
    """The state file keeps a stop's stopPrice (and a QUOTE order's quantityType): after a
    restart it still waits with its lock, and triggers when the price reaches it; a
    damaged stopPrice is refused naming its place."""
    import json

    import requests

    from cadenza_mock.engine.persist import StateFileError
    from cadenza_mock.run.server import MockServer

    path = tmp_path / "state.json"
    body = {"tradingAccountId": SPOT, "instrumentId": BTC, "quantity": "0.01"}
    stop = {"orderSide": "SELL", "orderType": "STOP_LOSS", "stopPrice": "60000.00"}
    amount = {"orderSide": "BUY", "orderType": "LIMIT", "limitPrice": "30000.00",
              "quantityType": "QUOTE", "quantity": "600"}  # fmt: skip
    with MockServer("accounts", state_file=path) as first:
        for extra in (stop, amount):
            r = requests.post(f"{first.url}{API}/tradeOrder/submit", json={**body, **extra},
                              headers=ALICE, timeout=10)  # fmt: skip
            assert r.status_code == 200, r.text
        orders, portfolio = first.orders(), first.portfolio(SPOT)
    with MockServer("accounts", state_file=path) as second:
        assert second.orders() == orders and second.portfolio(SPOT) == portfolio
        assert [(o["status"], o.get("stopPrice"), o["orderQuantityType"]) for o in orders] == [
            ("ACCEPTED", "60000.00", "BASE"),
            ("ACCEPTED", None, "QUOTE"),
        ]  # newest first
        admin = f"{second.url}/__admin"
        price = {"instrumentId": BTC, "price": "59000.00"}
        assert requests.post(f"{admin}/market/price", json=price, timeout=10).ok
        assert requests.post(f"{admin}/clock", json={"advance": 2}, timeout=10).ok
        statuses = {o["orderType"]: o["status"] for o in second.orders()}
        assert statuses == {"STOP_LOSS": "FILLED", "LIMIT": "ACCEPTED"}
    document = json.loads(path.read_text())
    assert [o["stopPrice"] for o in document["trading"]["orders"]] == ["60000.00", None]  # as sent
    document["trading"]["orders"][0]["stopPrice"] = "cheap"
    path.write_text(json.dumps(document))
    with pytest.raises(StateFileError, match=r"trading\.orders\[0\]\.stopPrice"):
        MockServer("accounts", state_file=path).start()

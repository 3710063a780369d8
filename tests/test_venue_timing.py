"""A venue that fills late and cancels slowly (`venue_behavior: {fill_delay, cancel_delay}`,
seconds on the mock clock) over real HTTP: orders ACCEPTED at once and filled once the
clock has moved that far, against the book of that instant; a cancel PENDING_CANCEL until
the venue answers, a fill due before then winning; bad delays refused at load, naming
their place."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support import ALICE
from test_orders import API, BTC, TAKER, advance, balances, book, cancel, placed, set_price
from test_venue_behavior import with_behavior

from cadenza_mock.engine.fills import fee
from cadenza_mock.scenario.loader import ScenarioError


async def order_now(client: Any, order_id: str) -> dict[str, Any]:
    r = await client.get(f"{API}/tradeOrder/list", params={"tradeOrderId": order_id}, headers=ALICE)
    found: dict[str, Any] = (await r.json())["data"][0]
    return found


async def test_a_late_venue_fills_a_market_order_at_the_book_of_its_due_instant(make_client):
    client = await make_client(with_behavior({"fill_delay": 2}))
    before = await balances(client)
    order = await placed(client, orderType="MARKET", quantity="0.01")
    assert (order["status"], order["executedQuantity"], order["executions"]) == (
        "ACCEPTED", "0.00000", []
    )  # fmt: skip
    held = await balances(client)
    assert held["USDT"]["locked"] > 0  # what its walk of the book cost at the submit
    assert held["USDT"]["total"] == before["USDT"]["total"]
    await advance(client, 1.999)
    assert (await order_now(client, order["tradeOrderId"]))["status"] == "ACCEPTED"
    await advance(client, 0.001)
    asks = (await book(client))["asks"]  # the book of the due instant (the clock is frozen)
    filled = await order_now(client, order["tradeOrderId"])
    assert filled["status"] == "FILLED"
    (execution,) = filled["executions"]
    assert execution["executedAt"] == order["createdAt"] + 2000
    assert Decimal(execution["executedPrice"]) == Decimal(asks[0][0])
    cost = Decimal(filled["executedCost"])
    after = await balances(client)
    assert after["USDT"]["locked"] == 0
    assert after["USDT"]["free"] == before["USDT"]["free"] - cost - fee(cost, TAKER)
    assert after["BTC"]["total"] == before["BTC"]["total"] + Decimal("0.01")


async def test_a_late_limit_is_not_on_the_book_before_it_is_due(make_client):
    """A price that crosses it before the venue reads it fills nothing then; at its due
    instant it takes the book as it is (the book's price, the taker fee)."""
    client = await make_client(with_behavior({"fill_delay": 2}))
    order = await placed(client, limitPrice="64000.00")
    await set_price(client, "63900.00")  # under the limit, before the venue has the order
    await advance(client, 1)
    assert (await order_now(client, order["tradeOrderId"]))["status"] == "ACCEPTED"
    await advance(client, 1)
    filled = await order_now(client, order["tradeOrderId"])
    assert filled["status"] == "FILLED"
    price = Decimal(filled["executions"][0]["executedPrice"])
    assert price < Decimal("64000.00")  # the book's ask, not the limit (a maker fill's)
    cost = Decimal(filled["executedCost"])
    assert Decimal(filled["fees"][0]["quantity"]) == fee(cost, TAKER)
    # What it did not take rests as any order does: a later cross fills it at its limit.
    resting = await placed(client, limitPrice="63000.00", quantity="0.02")
    await advance(client, 2)
    assert (await order_now(client, resting["tradeOrderId"]))["status"] == "ACCEPTED"
    await set_price(client, "62500.00")
    await advance(client, 1)
    crossed = await order_now(client, resting["tradeOrderId"])
    assert crossed["status"] == "FILLED"
    assert crossed["executions"][0]["executedPrice"] == "63000.00"


async def test_a_gtd_order_that_expires_before_the_venue_reads_it_fills_nothing(make_client):
    client = await make_client(with_behavior({"fill_delay": 5}))
    before = await balances(client)
    r = await client.get("/__admin/clock")
    now = (await r.json())["data"]["now"]
    order = await placed(
        client, limitPrice="99999.00", timeInForce="GTD", expireAt=now + 3000, quantity="0.01"
    )
    await advance(client, 10)
    expired = await order_now(client, order["tradeOrderId"])
    assert (expired["status"], expired["executions"]) == ("EXPIRED", [])
    assert await balances(client) == before


async def test_a_slow_cancel_is_pending_until_the_venue_answers(make_client):
    client = await make_client(with_behavior({"cancel_delay": 3}))
    before = await balances(client)
    order = await placed(client, limitPrice="60000.00")
    status, answer = await cancel(client, order["tradeOrderId"])
    assert (status, answer["data"]["status"]) == (200, "PENDING_CANCEL"), answer
    assert (await balances(client))["USDT"]["locked"] > 0  # held until the venue answers
    status, again = await cancel(client, order["tradeOrderId"])  # the same answer meanwhile
    assert (status, again["data"]["status"]) == (200, "PENDING_CANCEL")
    await advance(client, 2.5)
    assert (await order_now(client, order["tradeOrderId"]))["status"] == "PENDING_CANCEL"
    await advance(client, 0.5)
    done = await order_now(client, order["tradeOrderId"])
    assert done["status"] == "CANCELLED"
    assert done["canceledAt"] == answer["data"]["updatedAt"] + 3000
    assert await balances(client) == before
    status, late = await cancel(client, order["tradeOrderId"])
    assert (status, late["errno"]) == (400, -18007)


async def test_a_fill_due_before_the_cancel_wins(make_client):
    client = await make_client(with_behavior({"cancel_delay": 3}))
    order = await placed(client, limitPrice="64000.00")
    _, answer = await cancel(client, order["tradeOrderId"])
    assert answer["data"]["status"] == "PENDING_CANCEL"
    await set_price(client, "63900.00")
    await advance(client, 1)  # crossed before the venue's cancel came: filled
    assert (await order_now(client, order["tradeOrderId"]))["status"] == "FILLED"
    await advance(client, 5)
    final = await order_now(client, order["tradeOrderId"])
    assert (final["status"], final["executedQuantity"]) == ("FILLED", "0.01000")
    assert "canceledAt" not in final and (await balances(client))["USDT"]["locked"] == 0
    # The other way: the cancel comes first, a later cross fills nothing.
    other = await placed(client, limitPrice="63000.00")
    await cancel(client, other["tradeOrderId"])
    await advance(client, 3.5)
    assert (await order_now(client, other["tradeOrderId"]))["status"] == "CANCELLED"
    await set_price(client, "62000.00")
    await advance(client, 1)
    final = await order_now(client, other["tradeOrderId"])
    assert (final["status"], final["executions"]) == ("CANCELLED", [])


@pytest.mark.parametrize(
    ("fill", "cancel_after", "status"),
    [(2, 1, "CANCELLED"), (1, 3, "FILLED"), (2, 2, "FILLED")],  # a tie: the fill wins
)
async def test_a_late_fill_and_a_slow_cancel_have_one_winner(make_client, fill, cancel_after,
                                                             status):  # fmt: skip
    client = await make_client(with_behavior({"fill_delay": fill, "cancel_delay": cancel_after}))
    before = await balances(client)
    order = await placed(client, orderType="MARKET", quantity="0.01")
    _, answer = await cancel(client, order["tradeOrderId"])
    assert answer["data"]["status"] == "PENDING_CANCEL"
    await advance(client, 5)
    final = await order_now(client, order["tradeOrderId"])
    assert final["status"] == status
    after = await balances(client)
    assert after["USDT"]["locked"] == 0
    if status == "CANCELLED":
        assert final["executions"] == [] and after == before
    else:
        assert final["executedQuantity"] == "0.01000" and "canceledAt" not in final


@pytest.mark.parametrize(
    ("behavior", "place"),
    [
        ({"fill_delay": -1}, "venue_behavior.fill_delay"),
        ({"fill_delay": "soon"}, "venue_behavior.fill_delay"),
        ({"fill_delay": True}, "venue_behavior.fill_delay"),
        ({"cancel_delay": ".nan"}, "venue_behavior.cancel_delay"),
        ({"cancel_delay": 86_401}, "venue_behavior.cancel_delay"),
    ],
)
async def test_a_bad_delay_is_refused_at_load_naming_its_place(make_client, behavior, place):
    with pytest.raises(ScenarioError) as caught:
        await make_client(with_behavior(behavior))
    text = str(caught.value)
    assert place in text and "expected a number of seconds from 0 to 86400" in text, text


async def test_a_zero_delay_is_the_usual_venue(make_client):
    client = await make_client(with_behavior({"fill_delay": 0, "cancel_delay": "0"}))
    order = await placed(client, orderType="MARKET", quantity="0.01")
    assert order["status"] == "FILLED"
    resting = await placed(client, limitPrice="60000.00", instrumentId=BTC)
    _, answer = await cancel(client, resting["tradeOrderId"])
    assert answer["data"]["status"] == "CANCELLED"

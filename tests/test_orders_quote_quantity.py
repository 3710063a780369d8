"""`quantityType: QUOTE` on submit over real HTTP: `quantity` is an amount of the quote
asset, turned into base lots (rounded down) before every other check. The expected
quantities are worked out here from the book the server shows, not read from its answer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support import ALICE
from test_orders import API, TAKER, balances, book, placed, submit

pytestmark = pytest.mark.scenario("accounts")
LOT = Decimal("0.00001")


def lots_for(levels: list[list[str]], amount: Decimal, rate: Decimal) -> Decimal:
    """The most base, level by level, whose cost times (1 + rate) stays within amount."""
    left, got = amount, Decimal(0)
    for p, q in levels:
        price, size = Decimal(p), Decimal(q)
        per_lot = price * LOT * (1 + rate)
        take = min(size, int(left / per_lot) * LOT)
        got += take
        left -= take / LOT * per_lot
        if take < size:
            break
    return got


async def test_a_market_buy_spends_at_most_the_amount_walking_the_book(client: Any) -> None:
    asks = (await book(client))["asks"]
    first = Decimal(asks[0][0]) * Decimal(asks[0][1])
    amount = (first * Decimal("1.5")).quantize(Decimal("0.01"))  # into the second level
    before = await balances(client)
    order = await placed(client, orderType="MARKET", quantityType="QUOTE", quantity=str(amount))
    assert (order["status"], order["orderQuantityType"]) == ("FILLED", "QUOTE")
    expected = lots_for(asks, amount, TAKER)
    assert Decimal(order["quantity"]) == Decimal(order["executedQuantity"]) == expected
    assert len(order["executions"]) >= 2
    spent = Decimal(order["executedCost"]) + Decimal(order["fees"][0]["quantity"])
    assert spent <= amount
    after = await balances(client)
    assert after["USDT"]["free"] == before["USDT"]["free"] - spent  # the rest stays free
    assert after["BTC"]["free"] == before["BTC"]["free"] + expected


async def test_a_market_sell_receives_at_most_the_amount_before_fees(client: Any) -> None:
    bids = (await book(client))["bids"]
    amount = Decimal("1234.56")
    order = await placed(
        client, orderType="MARKET", orderSide="SELL", quantityType="QUOTE", quantity=str(amount)
    )
    assert (order["status"], order["orderQuantityType"]) == ("FILLED", "QUOTE")
    sold = Decimal(order["executedQuantity"])
    assert sold == lots_for(bids, amount, Decimal(0)) > 0
    proceeds = Decimal(order["executedCost"])
    assert proceeds <= amount < proceeds + Decimal(bids[0][0]) * LOT  # one lot more passes it


async def test_a_limit_order_divides_the_amount_by_its_limit_price(client: Any) -> None:
    order = await placed(client, quantityType="QUOTE", quantity="1000", limitPrice="30000.00")
    assert (order["status"], order["orderQuantityType"]) == ("ACCEPTED", "QUOTE")
    assert Decimal(order["quantity"]) == Decimal("0.03333")  # 1000 / 30000, down to the lot
    held = await balances(client)
    assert held["USDT"]["locked"] >= Decimal("0.03333") * 30000
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    assert (await r.json())["data"][0]["orderQuantityType"] == "QUOTE"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"orderType": "MARKET", "quantity": "0.0001"}, "less than one lot"),
        ({"quantity": "0.2", "limitPrice": "30000.00"}, "less than one lot"),
        ({"quantity": "1", "limitPrice": "60000.00"}, "minNotional"),  # one lot: 0.6 USDT
        ({"quantity": "2", "limitPrice": "100.00"}, "minNotional"),
        ({"quantity": "100000000", "limitPrice": "100.00"}, "outside"),
        ({"quantity": "-5", "limitPrice": "60000.00"}, "decimal > 0"),
        ({"quantityType": "POSITION_RATIO", "limitPrice": "60000.00"}, "BASE and QUOTE"),
        ({"quantityType": "POSITION_PERCENTAGE", "orderType": "MARKET"}, "BASE and QUOTE"),
    ],
)
async def test_a_bad_quote_amount_is_18007_naming_why_and_changes_nothing(
    client: Any, change: dict[str, Any], words: str
) -> None:
    before = await balances(client)
    status, answer = await submit(client, **{"quantityType": "QUOTE", **change})
    assert (status, answer["errno"], answer["data"]) == (400, -18007, None), answer
    assert words in answer["error"]
    assert await balances(client) == before
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    assert (await r.json())["data"] == []

"""A trading account's `venue_behavior:` over real HTTP: a venue that rejects (-18025) or
times out (504 -18015) with nothing changed, one that fills only a share of what an order
could take at once, and fee rates of the account's own; bad values refused at load."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_orders import API, SPOT, balances, submit

from cadenza_mock.engine.fills import fee
from cadenza_mock.scenario.loader import ScenarioError

ACCOUNTS = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "scenarios" / "accounts.yaml").read_text()
)


def with_behavior(behavior: Any) -> dict[str, Any]:
    scenario = copy.deepcopy(ACCOUNTS)
    spot = scenario["users"][0]["trading_accounts"][0]
    assert spot["tradingAccountId"] == SPOT
    spot["venue_behavior"] = behavior
    return scenario


async def orders(client: Any) -> list[Any]:
    r = await client.get(f"{API}/tradeOrder/list", headers={"Authorization": "Bearer alice-token"})
    found: list[Any] = (await r.json())["data"]
    return found


@pytest.mark.parametrize(
    ("behavior", "status", "errno", "text"),
    [
        ({"reject": True}, 400, -18025, "the venue rejected the order"),
        ({"timeout": True}, 504, -18015, "Request timeout"),
    ],
)
async def test_a_venue_that_refuses_changes_nothing(make_client, behavior, status, errno, text):
    client = await make_client(with_behavior(behavior))
    before = await balances(client)
    for kind in ({"orderType": "MARKET"}, {"orderType": "LIMIT", "limitPrice": "60000.00"}):
        got, answer = await submit(client, **kind)
        assert (got, answer["errno"]) == (status, errno), answer
        assert text in answer["error"]
    assert await balances(client) == before and await orders(client) == []
    # A refused order is still refused when the platform's own checks fail first.
    got, answer = await submit(client, orderType="MARKET", quantity="5000")
    assert answer["errno"] in (-18006, -18007), answer


async def test_a_partial_venue_fills_a_share_at_the_accounts_fees(make_client):
    client = await make_client(with_behavior({"partial": 0.5, "taker_fee": "0.002"}))
    before = await balances(client)
    got, answer = await submit(client, orderType="MARKET", quantity="0.01")
    assert got == 200, answer
    order = answer["data"][0]
    assert (order["status"], order["executedQuantity"]) == ("EXPIRED", "0.00500")
    cost = Decimal(order["executedCost"])
    assert Decimal(order["fees"][0]["quantity"]) == fee(cost, Decimal("0.002"))
    after = await balances(client)
    assert before["USDT"]["free"] - after["USDT"]["free"] == cost + fee(cost, Decimal("0.002"))
    assert after["BTC"]["total"] - before["BTC"]["total"] == Decimal("0.005")
    # FOK: all or nothing, and the venue gives half: nothing.
    got, answer = await submit(
        client, orderType="LIMIT", limitPrice="99999.00", timeInForce="FOK", quantity="0.01"
    )
    assert answer["data"][0]["status"] == "EXPIRED" and answer["data"][0]["executedQuantity"] == (
        "0.00000"
    )


@pytest.mark.parametrize(
    ("behavior", "text"),
    [
        ({"partial": 2}, "a fraction in (0, 1]"),
        ({"partial": 0}, "a fraction in (0, 1]"),
        ({"taker_fee": "-0.1"}, "a rate in [0, 1]"),
        ({"reject": "maybe"}, "expected true or false"),
        ({"late": 5}, "unknown venue behavior"),
        ("reject", "expected a mapping"),
    ],
)
async def test_a_bad_venue_behavior_is_refused_at_load(make_client, behavior, text):
    with pytest.raises(ScenarioError) as caught:
        await make_client(with_behavior(behavior))
    assert text in str(caught.value) and "venue_behavior" in str(caught.value)

"""Resting orders over a restart with a state file: they come back resting, holding their
lock, and still fill when the market comes to them as the mock clock moves on."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from support import ALICE

from cadenza_mock.run.server import MockServer

API = "/api/v3"
SPOT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot account (accounts.yaml)
BTC = "BINANCE:BTC/USDT"
CENT = Decimal("0.01")


def _get(mock: MockServer, path: str, **params: str) -> Any:
    r = requests.get(f"{mock.url}{API}/{path}", params=params, headers=ALICE, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _limit_buy(mock: MockServer, price: Decimal, quantity: str) -> dict[str, Any]:
    body = {
        "tradingAccountId": SPOT,
        "instrumentId": BTC,
        "orderSide": "BUY",
        "orderType": "LIMIT",
        "quantity": quantity,
        "limitPrice": format(price, "f"),
    }
    r = requests.post(f"{mock.url}{API}/tradeOrder/submit", json=body, headers=ALICE, timeout=10)
    assert r.status_code == 200, r.text
    order: dict[str, Any] = r.json()["data"][0]
    assert order["status"] == "ACCEPTED", order
    return order


def _balances(mock: MockServer) -> dict[str, dict[str, Decimal]]:
    (pf,) = _get(mock, "tradingAccount/portfolio/list", tradingAccountId=SPOT)
    return {
        b["securitySymbol"]: {k: Decimal(b[k]) for k in ("free", "locked")} for b in pf["balances"]
    }


def _statuses(mock: MockServer, *orders: dict[str, Any]) -> list[str]:
    return [
        _get(mock, "tradeOrder/list", tradeOrderId=o["tradeOrderId"])[0]["status"] for o in orders
    ]


def test_resting_limit_orders_come_back_and_fill_as_the_clock_moves(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with MockServer("accounts", state_file=path) as first:
        ask = Decimal(_get(first, "market/orderBook/get", instrumentId=BTC)["asks"][0][0])
        near_price = (ask * Decimal("0.98")).quantize(CENT)
        near = _limit_buy(first, near_price, "0.2")  # filled once the price comes down
        far = _limit_buy(first, (ask * Decimal("0.5")).quantize(CENT), "0.1")  # never here
        held = _balances(first)
        orders = first.orders()
    assert held["USDT"]["locked"] > near_price * Decimal("0.2")
    with MockServer("accounts", state_file=path) as second:
        assert second.orders() == orders  # as they were, both resting
        assert _balances(second) == held  # the lock held too
        second.market.set_price(BTC, near_price * Decimal("0.97"))
        second.advance(5)
        assert _statuses(second, near, far) == ["FILLED", "ACCEPTED"]
        (filled,) = _get(second, "tradeOrder/list", tradeOrderId=near["tradeOrderId"])
        assert {e["executedPrice"] for e in filled["executions"]} == {format(near_price, "f")}
        after = _balances(second)
        assert after["BTC"]["free"] == held["BTC"]["free"] + Decimal("0.2")
        assert 0 < after["USDT"]["locked"] < held["USDT"]["locked"]  # the far order's lock
        moved = second.orders()
    with MockServer("accounts", state_file=path) as third:  # the fill was kept as well
        assert third.orders() == moved
        assert _statuses(third, near, far) == ["FILLED", "ACCEPTED"]
        assert _balances(third) == after


def test_what_a_late_or_slow_venue_still_owes_comes_back(tmp_path: Path) -> None:
    """A late venue's fill and a slow venue's cancel still to come are kept in the state
    file (`fillDueAt`, `cancelDueAt`) and happen after a restart when they fall due."""
    from test_venue_behavior import with_behavior

    scenario = with_behavior({"fill_delay": 5, "cancel_delay": 5})
    path = tmp_path / "state.json"
    with MockServer(scenario, state_file=path) as first:
        resting = _limit_buy(first, Decimal("60000.00"), "0.01")
        first.advance(5)  # the venue has it now: it rests
        which = {"tradingAccountId": SPOT, "tradeOrderId": resting["tradeOrderId"]}
        r = requests.post(f"{first.url}{API}/tradeOrder/cancel", json=which, headers=ALICE,
                          timeout=10)  # fmt: skip
        assert r.json()["data"]["status"] == "PENDING_CANCEL"
        body = {"tradingAccountId": SPOT, "instrumentId": BTC, "orderSide": "BUY",
                "orderType": "MARKET", "quantity": "0.01"}  # fmt: skip
        r = requests.post(f"{first.url}{API}/tradeOrder/submit", json=body, headers=ALICE,
                          timeout=10)  # fmt: skip
        late = r.json()["data"][0]
        assert late["status"] == "ACCEPTED"
        now = first.now_ms
        held = _balances(first)
        orders = first.orders()
    kept = {o["tradeOrderId"]: o for o in json.loads(path.read_text())["trading"]["orders"]}
    assert (kept[late["tradeOrderId"]]["fillDueAt"], kept[late["tradeOrderId"]]["cancelDueAt"]) == (
        now + 5000, None
    )  # fmt: skip
    assert kept[resting["tradeOrderId"]]["cancelDueAt"] == now + 5000
    with MockServer(scenario, state_file=path) as second:
        assert second.orders() == orders and _balances(second) == held
        second.advance(4)
        assert _statuses(second, resting, late) == ["PENDING_CANCEL", "ACCEPTED"]
        second.advance(1)
        assert _statuses(second, resting, late) == ["CANCELLED", "FILLED"]
        (filled,) = _get(second, "tradeOrder/list", tradeOrderId=late["tradeOrderId"])
        assert filled["executions"][0]["executedAt"] == now + 5000
        assert _balances(second)["USDT"]["locked"] == 0
    again = {o["tradeOrderId"]: o for o in json.loads(path.read_text())["trading"]["orders"]}
    assert {(o["fillDueAt"], o["cancelDueAt"]) for o in again.values()} == {(None, None)}

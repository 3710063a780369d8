"""Resting orders over a restart with a state file: they come back resting, holding their
lock, and still fill when the market comes to them as the mock clock moves on."""

from __future__ import annotations

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

"""RFQ quotes over a restart with a state file: a CREATED quote comes back and a QUOTED
order then takes it at its price; an expired one stays expired, a taken one taken; a
filled QUOTED order keeps its quoteId; quotes made after the restart get the ids they would
have got without one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from support import ALICE

from cadenza_mock.run.server import MockServer

API = "/api/v3"
SPOT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot account (accounts.yaml)
BTC = "BINANCE:BTC/USDT"


def _post(mock: MockServer, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{mock.url}{API}/{path}", json=body, headers=ALICE, timeout=10)


def _quote(mock: MockServer, request_id: str, ttl: int = 60, side: str = "BUY") -> Any:
    """The quote of `request_id` (made now, or the one made before under that id)."""
    body = {
        "dealerAccountId": SPOT,
        "instrumentId": BTC,
        "orderSide": side,
        "quantity": "0.01",
        "quoteRequestId": request_id,
        "ttl": ttl,
    }
    r = _post(mock, "quote/rfq", body)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _take(mock: MockServer, quote: dict[str, Any]) -> requests.Response:
    body = {
        "tradingAccountId": SPOT,
        "instrumentId": BTC,
        "orderSide": quote["orderSide"],
        "orderType": "QUOTED",
        "quoteId": quote["quoteId"],
        "quantity": quote["quantity"],
    }
    return _post(mock, "tradeOrder/submit", body)


def _orders(mock: MockServer) -> list[dict[str, Any]]:
    r = requests.get(f"{mock.url}{API}/tradeOrder/list", headers=ALICE, timeout=10)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["data"]
    return found


def test_quotes_come_back_as_they_were_and_a_created_one_is_taken_after(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with MockServer("accounts", state_file=path) as first:
        kept = _quote(first, "kept")  # CREATED over the restart
        short = _quote(first, "short", ttl=5)  # expired before it
        taken = _quote(first, "taken")
        r = _take(first, taken)
        assert r.status_code == 200 and r.json()["data"][0]["status"] == "FILLED", r.text
        first.advance(10)
        assert _quote(first, "short")["status"] == "EXPIRED"
        before = _orders(first)
    assert [o["quoteId"] for o in before] == [taken["quoteId"]]
    with MockServer("accounts", state_file=path) as second:
        assert _orders(second) == before  # the QUOTED order kept its quoteId
        # Taken when made (the clock frozen): updated then.
        assert _quote(second, "taken") == {**taken, "status": "ACCEPTED"}
        assert _quote(second, "short") == {**short, "status": "EXPIRED", **_stamps(short)}
        portfolio = second.portfolio(SPOT)
        refused = _take(second, short)
        assert (refused.status_code, refused.json()["errno"]) == (400, -18025), refused.text
        assert second.portfolio(SPOT) == portfolio  # nothing changed
        again = _quote(second, "kept")
        assert again == kept  # the same quote, still CREATED
        r = _take(second, kept)
        assert r.status_code == 200, r.text
        (order,) = r.json()["data"]
        assert order["status"] == "FILLED" and order["quoteId"] == kept["quoteId"]
        assert {e["executedPrice"] for e in order["executions"]} == {kept["price"]}
        fresh = _quote(second, "fresh")
        after = _orders(second)
    with MockServer("accounts", state_file=path) as third:
        assert _orders(third) == after
        assert _quote(third, "kept")["status"] == "ACCEPTED"
    # Quote ids are one seeded stream: the restart went on where it was.
    with MockServer("accounts") as control:
        made = [_quote(control, name) for name in ("kept", "short", "taken", "fresh")]
    assert [q["quoteId"] for q in made] == [q["quoteId"] for q in (kept, short, taken, fresh)]


def _stamps(quote: dict[str, Any]) -> dict[str, Any]:
    """An expired quote's update instant is its expiry."""
    return {"updatedAt": quote["expireAt"], "updatedAtDateTime": quote["expireAtDateTime"]}

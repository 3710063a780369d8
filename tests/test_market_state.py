"""What was done to the market survives a state file save and load (MockServer over real
sockets), and a snapshot's rollback; a damaged market part is refused whole."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from cadenza_mock import StateFileError
from cadenza_mock.engine import persist
from cadenza_mock.engine.state import MockState
from cadenza_mock.run.server import MockServer

MARKET = "/api/v3/market"
SCENARIO: dict[str, Any] = {
    "seed": 3,
    "now": "2026-01-01T00:00:00Z",
    "profile": "sdk",
    "market": {"BINANCE": [{"symbol": "BTC/USDT"}, {"symbol": "ETH/USDT"}], "OKX": "default"},
    "users": [{"email": "alice@example.com", "tokens": ["alice-token"]}],
}
ALICE = {"Authorization": "Bearer alice-token"}
BTC, ETH = "BINANCE:BTC/USDT", "BINANCE:ETH/USDT"


def reads(mock: MockServer) -> dict[str, Any]:
    """Everything a client reads of the market, and the admin view of it."""

    def get(path: str, **params: Any) -> Any:
        r = requests.get(f"{mock.url}{MARKET}/{path}", params=params, headers=ALICE, timeout=10)
        body = r.json()
        body.pop("details", None)  # an error's request_id counts the errors answered
        return r.status_code, body

    return {
        "instruments": get("instrument/list"),
        "securities": get("security/list", limit=100),
        "venues": get("venue/list"),
        "books": [get("orderBook/get", instrumentId=i) for i in (BTC, ETH, "OKX:ETH/USDT")],
        "tickers": [get("ticker/get", instrumentId=i) for i in (BTC, ETH, "OKX:SOL/USDT")],
        "klines": get("kline/get", instrumentId=BTC, interval="1m", limit=10),
        "state": mock.market.state(),
    }


def change_everything(mock: MockServer) -> None:
    mock.market.set_price(BTC, "61000")
    mock.advance(30)
    mock.market.set_book(ETH, bids=[("3000", "2"), ("2999.5", "1")], asks=[("3001", "1")])
    mock.market.halt(BTC)
    mock.advance(120)
    mock.market.resume(BTC)
    mock.market.gap(BTC, percent="-5", at_ms=mock.now_ms + 60_000)
    mock.advance(90)
    mock.market.halt(BTC)  # still halted when written
    for method, path, body in [
        ("POST", "instrument/disable", {"instrumentId": "OKX:BTC/USDT"}),
        ("DELETE", "instrument/delete", {"instrumentId": "OKX:SOL/USDT"}),
        ("DELETE", "security/delete", {"securityId": "BINANCE:ETH"}),
    ]:
        r = requests.request(method, f"{mock.url}{MARKET}/{path}", json=body, headers=ALICE,
                             timeout=10)  # fmt: skip
        assert r.status_code == 200, r.text
    mock.market.venue_data("OKX", "stale")
    mock.advance(45)


def test_the_market_survives_a_state_file_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with MockServer(scenario=SCENARIO, state_file=path) as mock:
        pristine = reads(mock)
        change_everything(mock)
        changed = reads(mock)
        assert changed != pristine and changed["tickers"][2][0] == 404
        deadline = time.monotonic() + 10
        while not (path.exists() and "OKX:SOL/USDT" in path.read_text()):
            assert time.monotonic() < deadline, "the state file was not written"
            time.sleep(0.05)
    written = json.loads(path.read_text())
    assert written["version"] >= 2 and len(written["market"]["instruments"]) == 4
    with MockServer(scenario=SCENARIO, state_file=path) as mock:
        assert reads(mock) == changed
        mock.advance(600)  # and it goes on the same way: still halted, still stale
        assert (
            reads(mock)["tickers"][0][1]["data"]["lastPrice"]
            == (changed["tickers"][0][1]["data"]["lastPrice"])
        )
        mock.reset()
        assert reads(mock) == pristine


def test_a_snapshot_rollback_brings_the_market_back(tmp_path: Path) -> None:
    with MockServer(scenario=SCENARIO) as mock:
        change_everything(mock)
        before = reads(mock)
        snapshot = mock.snapshot()
        mock.market.resume(BTC)
        mock.market.venue_data("OKX", "live")
        mock.market.set_book(BTC, bids=[("1", "1")], asks=[("2", "1")])
        assert reads(mock) != before
        mock.rollback(snapshot)
        assert reads(mock) == before


def _document_with_changes() -> dict[str, Any]:
    state = MockState(SCENARIO)
    market = state.store.market
    from cadenza_mock.engine.market_control import apply

    apply(market, "book", {"instrumentId": ETH, "bids": [["3000", "1"]], "asks": [["3001", "1"]]})
    apply(market, "halt", {"instrumentId": BTC})
    document: dict[str, Any] = json.loads(persist.encode(persist.state_document(state)))
    return document


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda m: m["instruments"][0].update(instrumentId="BINANCE:NONE/USDT"), "not in the"),
        (lambda m: m["instruments"][0].update(status="HALTED"), "status"),
        (lambda m: m["instruments"][1]["book"]["bids"][0].__setitem__(0, 300200), "crossed"),
        (lambda m: m["instruments"][1]["book"].update(asks=[]), "crossed"),
        (lambda m: m["instruments"][0]["halts"][0].__setitem__(2, 0), "one tick"),
        (lambda m: m["instruments"][0]["halts"][0].__setitem__(0, -1), "whole number"),
        (lambda m: m["instruments"][0].update(prices=[[1, 2, 3]]), "array of 2"),
        (lambda m: m.update(venues=[["NOWHERE", "stale", 0]]), "venue"),
        (lambda m: m.update(deletedSecurities=["BTC"]), "VENUE:ASSET"),
        (lambda m: m.pop("originMs"), "market.originMs: missing"),
    ],
)
def test_a_damaged_market_part_is_refused_and_changes_nothing(damage: Any, words: str) -> None:
    document = _document_with_changes()
    damage(document["market"])
    state = MockState(SCENARIO)
    before = state.store.market.state()
    with pytest.raises(StateFileError, match="market") as refused:
        persist.restore(state, copy.deepcopy(document))
    assert words in str(refused.value)
    assert state.store.market.state() == before


def test_a_file_without_a_market_part_leaves_the_market_as_loaded() -> None:
    """What a version 1 file stands for (tests/data/state-v1-default.json reads so too)."""
    document = _document_with_changes()
    del document["market"]
    document["version"] = 1
    state = MockState(SCENARIO)
    before = state.store.market.state()
    persist.restore(state, document)
    assert state.store.market.state() == before
    document["version"] = 2  # a version 2 file must have it
    with pytest.raises(StateFileError, match=r"document\.market: missing"):
        persist.restore(MockState(SCENARIO), document)

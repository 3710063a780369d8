"""The market over HTTP (real sockets): venues, instruments, securities, order books,
tickers and klines from the scenario's `market:` (or the default catalogue), moved by
the mock clock; bad parameters answered in the envelope, naming the parameter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from support import module_mock

from cadenza_mock.run.server import MockServer

MARKET = "/api/v3/market"
NOW = "2026-01-01T00:00:00Z"
NOW_MS = 1_767_225_600_000
SCENARIO: dict[str, Any] = {
    "seed": 7,
    "now": NOW,
    "profile": "sdk",
    "market": {
        "BINANCE": [
            {"symbol": "BTC/USDT", "volatility": "0.05"},
            {"symbol": "PEPE/USDT", "price": "0.00001234", "depth": 3, "status": "INACTIVE"},
            {"generate": 3, "spread": "0.001"},
        ],
        "OKX": "default",
    },
    "users": [{"email": "alice@example.com", "tokens": ["alice-token"]}],
}
ALICE = {"Authorization": "Bearer alice-token"}


server, mock = module_mock(SCENARIO)  # a fresh clock and market for each test


def get(mock: MockServer, path: str, params: Any = None, headers: Any = ALICE) -> Any:
    answer = requests.get(f"{mock.url}{MARKET}/{path}", params=params, headers=headers, timeout=10)
    return answer.status_code, answer.json()


def test_the_scenario_market_lists_its_venues_and_instruments(mock: MockServer) -> None:
    status, venues = get(mock, "venue/list")
    assert status == 200
    assert venues["data"] == [
        {"venue": "BINANCE", "status": "ONLINE"},
        {"venue": "OKX", "status": "ONLINE"},
    ]
    _, listed = get(mock, "instrument/list", {"venue": "BINANCE"})
    symbols = [i["symbol"] for i in listed["data"]]
    assert symbols[:2] == ["BTC/USDT", "PEPE/USDT"] and len(symbols) == 5
    assert len(set(symbols)) == 5
    assert listed["pagination"] == {"offset": 0, "limit": 50, "total": 5, "hasNext": False}
    pepe = listed["data"][1]
    assert pepe["instrumentId"] == "BINANCE:PEPE/USDT" and pepe["externalSymbol"] == "PEPEUSDT"
    assert pepe["status"] == "INACTIVE"
    assert Decimal(pepe["pipSize"]) < Decimal("0.00001234")  # a tick below the price
    _, okx = get(mock, "instrument/list", {"venue": "OKX"})
    assert [i["symbol"] for i in okx["data"]] == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert okx["data"][0]["externalSymbol"] == "BTC-USDT"


def test_instrument_filters_and_pages(mock: MockServer) -> None:
    _, inactive = get(mock, "instrument/list", {"instrumentStatus": "INACTIVE"})
    assert [i["instrumentId"] for i in inactive["data"]] == ["BINANCE:PEPE/USDT"]
    both = [("symbols", "BTC/USDT"), ("symbols", "SOL/USDT")]
    _, chosen = get(mock, "instrument/list", both)
    _, every = get(mock, "instrument/list")
    wanted = [i for i in every["data"] if i["symbol"] in ("BTC/USDT", "SOL/USDT")]
    assert chosen["data"] == wanted and len(wanted) >= 3
    _, page = get(mock, "instrument/list", {"limit": 3, "offset": 3})
    assert len(page["data"]) == 3
    assert page["pagination"] == {
        "offset": 3,
        "limit": 3,
        "total": 8,
        "cursor": "6",
        "hasNext": True,
    }
    _, securities = get(mock, "security/list", {"venue": "OKX"})
    assert [s["securityId"] for s in securities["data"]] == [
        "OKX:BTC",
        "OKX:USDT",
        "OKX:ETH",
        "OKX:SOL",
    ]
    usdt = securities["data"][1]
    assert usdt["lotSize"] == "0.01" and usdt["precision"] == 2  # the finest tick quoted in it
    _, one = get(mock, "security/list", {"securityId": "OKX:ETH"})
    assert [s["symbol"] for s in one["data"]] == ["ETH"]


def test_a_book_and_its_ticker_agree_and_are_not_crossed(mock: MockServer) -> None:
    status, book = get(mock, "orderBook/get", {"instrumentId": "BINANCE:BTC/USDT", "depth": 4})
    assert status == 200
    data = book["data"]
    assert data["updateType"] == "SNAPSHOT" and data["orderBookType"] == "L2"
    assert len(data["bids"]) == len(data["asks"]) == 4 and data["timestamp"] == NOW_MS
    assert Decimal(data["bids"][0][0]) < Decimal(data["asks"][0][0])
    _, ticker = get(mock, "ticker/get", {"instrumentId": "BINANCE:BTC/USDT"})
    assert ticker["data"]["bidPrice"] == data["bids"][0][0]
    assert ticker["data"]["askQuantity"] == data["asks"][0][1]
    assert ticker["data"]["lastPrice"] == "65000.00"  # the catalogue's, at the origin
    # The instrument's own depth bounds a read's; OKX counts orders per level.
    _, small = get(mock, "orderBook/get", {"instrumentId": "BINANCE:PEPE/USDT", "depth": 50})
    assert len(small["data"]["bids"]) == 3
    _, okx = get(mock, "orderBook/list", [("instrumentIds", "OKX:ETH/USDT"), ("depth", "2")])
    assert [b["columns"] for b in okx["data"]] == [["price", "quantity", "orderCount"]]
    assert all(len(row) == 3 for row in okx["data"][0]["bids"])


def test_moving_the_clock_moves_the_market_and_makes_its_candles(mock: MockServer) -> None:
    one = {"instrumentId": "BINANCE:BTC/USDT"}
    _, before = get(mock, "ticker/get", one)
    _, first = get(mock, "kline/get", {**one, "interval": "1m", "from": NOW_MS})
    assert [c[0] for c in first["data"]["candles"]] == [NOW_MS]
    mock.advance(3600)
    _, after = get(mock, "ticker/get", one)
    assert after["data"]["timestamp"] == NOW_MS + 3_600_000
    assert after["data"]["lastPrice"] != before["data"]["lastPrice"]
    _, hour = get(mock, "kline/get", {**one, "interval": "1m", "from": NOW_MS, "limit": 1000})
    candles = hour["data"]["candles"]
    assert [c[0] for c in candles] == [NOW_MS + i * 60_000 for i in range(61)]
    assert hour["data"]["isClosed"] is False  # the last is the live bar
    assert candles[-1][4] == after["data"]["lastPrice"]
    _, closed = get(mock, "kline/get", {**one, "interval": "1m", "to": NOW_MS + 60_000 * 59})
    assert closed["data"]["isClosed"] is True and len(closed["data"]["candles"]) == 50
    assert closed["data"]["candles"] == candles[10:60]


def test_the_same_scenario_and_clock_moves_answer_the_same_bytes() -> None:
    """Two servers, the same moves: every market answer is byte-identical."""
    paths = [
        "orderBook/list?depth=20",
        "ticker/list",
        "kline/get?instrumentId=OKX:SOL/USDT&interval=5m&limit=200",
        "kline/get?instrumentId=BINANCE:BTC/USDT&interval=1d&limit=100",
    ]
    answers = []
    for _ in range(2):
        with MockServer(scenario=SCENARIO) as mock:
            seen = []
            for seconds in (0, 61, 7200, 86_400 * 2 + 5):
                mock.advance(seconds)
                for path in paths:
                    r = requests.get(f"{mock.url}{MARKET}/{path}", headers=ALICE, timeout=10)
                    assert r.status_code == 200
                    seen.append(r.content)
            answers.append(seen)
    assert answers[0] == answers[1]
    assert len(set(answers[0])) == len(answers[0])  # and the market did move


@pytest.mark.parametrize(
    ("path", "params", "names"),
    [
        ("orderBook/get", {}, "instrumentId: required"),
        ("orderBook/get", {"instrumentId": "BINANCE:BTC/USDT", "depth": "0"}, "depth"),
        ("orderBook/get", {"instrumentId": "BINANCE:BTC/USDT", "depth": "1001"}, "depth"),
        ("kline/get", {"instrumentId": "BINANCE:BTC/USDT"}, "interval: required"),
        ("kline/get", {"instrumentId": "BINANCE:BTC/USDT", "interval": "2m"}, "interval"),
        ("kline/get", {"instrumentId": "BINANCE:BTC/USDT", "interval": "1m", "from": "-1"}, "from"),
        ("instrument/list", {"venue": "BYBIT"}, "venue"),
        ("instrument/list", {"instrumentStatus": "LIVE"}, "instrumentStatus"),
        ("instrument/list", {"limit": "1001"}, "limit"),
        ("ticker/list", {"cursor": "x"}, "cursor"),
        ("security/list", {"offset": "-3"}, "offset"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    mock: MockServer, path: str, params: dict[str, str], names: str
) -> None:
    status, body = get(mock, path, params)
    assert status == 400, body
    assert body["errno"] == -22015 and names in body["error"]
    assert body["details"]["code"] == "INVALID_ARGUMENT"
    # Nothing was lost: the market answers as before.
    assert get(mock, "instrument/list", {"venue": "OKX"})[1]["pagination"]["total"] == 3


def test_an_unknown_instrument_is_a_404_and_a_missing_token_a_401(mock: MockServer) -> None:
    for path in ("orderBook/get", "ticker/get", "kline/get"):
        params = {"instrumentId": "BINANCE:DOGE/EUR", "interval": "1h"}
        status, body = get(mock, path, params)
        assert status == 404 and body["errno"] == -22016
        assert body["error"] == "Instrument not found: BINANCE:DOGE/EUR"
    status, body = get(mock, "venue/list", headers={})
    assert status == 401 and body["errno"] == -19002
    _, books = get(mock, "orderBook/list", [("instrumentIds", "NOPE:A/B")])
    assert books["data"] == []  # unknown ids match nothing in a list
    # Ids are taken as given: a blank one is unknown, a comma is part of an id.
    status, blank = get(mock, "ticker/get", {"instrumentId": " "})
    assert status == 404 and blank["error"] == "Instrument not found:  "
    status, listed = get(mock, "ticker/list", [("instrumentIds", "OKX:BTC/USDT,")])
    assert status == 200 and listed["data"] == []
    far = {"instrumentId": "OKX:BTC/USDT", "interval": "1M", "from": "999999999999999999"}
    status, later = get(mock, "kline/get", far)
    assert status == 200 and later["data"]["candles"] == []  # nothing opened yet


def test_the_default_scenario_has_the_default_catalogue() -> None:
    with MockServer() as mock:
        r = requests.get(f"{mock.url}{MARKET}/venue/list", headers=mock.auth_headers, timeout=10)
        assert [v["venue"] for v in r.json()["data"]] == [
            "BINANCE",
            "OKX",
            "BYBIT",
            "COINBASE",
            "KRAKEN",
        ]
        r = requests.get(
            f"{mock.url}{MARKET}/ticker/get",
            params={"instrumentId": "KRAKEN:BTC/USD"},
            headers=mock.auth_headers,
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["data"]["symbol"] == "BTC/USD"


def test_a_bad_market_key_is_refused_with_its_place_and_the_old_scenario_stays(
    mock: MockServer,
) -> None:
    bad = {**SCENARIO, "market": {"BINANCE": [{"symbol": "FOO/USDT"}, {"symbol": "BTCUSDT"}]}}
    r = requests.put(f"{mock.url}/__admin/scenario", json={"scenario": bad}, timeout=10)
    assert r.status_code == 400
    text = r.text
    assert "market.BINANCE[0].price: required for 'FOO'" in text
    assert "market.BINANCE[1].symbol: expected BASE/QUOTE" in text
    assert get(mock, "instrument/list", {"venue": "OKX"})[1]["pagination"]["total"] == 3


# ------------------------------------------------------------------ control: admin, handle


def test_a_set_price_moves_books_tickers_and_candles_and_a_reset_forgets_it(
    mock: MockServer,
) -> None:
    one = {"instrumentId": "BINANCE:BTC/USDT"}
    mock.advance(600)
    state = mock.market.set_price("BINANCE:BTC/USDT", "58000.004")
    btc = next(i for i in state["instruments"] if i["instrumentId"] == "BINANCE:BTC/USDT")
    assert btc["lastPrice"] == "58000.00" and btc["pricesSet"] == 1
    _, ticker = get(mock, "ticker/get", one)
    assert ticker["data"]["lastPrice"] == "58000.00"
    _, book = get(mock, "orderBook/get", {**one, "depth": 1})
    assert (
        Decimal(book["data"]["bids"][0][0])
        <= Decimal("58000")
        < Decimal(book["data"]["asks"][0][0])
    )
    mock.advance(120)
    _, bars = get(mock, "kline/get", {**one, "interval": "1h", "limit": 1})
    [(_, open_, high, low, close, _)] = bars["data"]["candles"]
    assert open_ == "65000.00" and Decimal(low) <= Decimal("58000") <= Decimal(high)
    assert Decimal(close) < Decimal("60000")  # walking on from the set price
    mock.reset()
    _, again = get(mock, "ticker/get", one)
    assert again["data"]["lastPrice"] == "65000.00"  # the clock and the walk, back
    assert mock.market.state()["instruments"][0]["pricesSet"] == 0


def test_the_admin_market_answers_per_namespace_and_refuses_bad_prices(mock: MockServer) -> None:
    admin = f"{mock.url}/__admin"
    r = requests.post(f"{admin}/namespaces?namespace=team-a&name=sdk", timeout=10)
    assert r.status_code == 200, r.text
    try:
        price = {"instrumentId": "OKX:ETH/USDT", "price": "2500"}
        r = requests.post(f"{admin}/namespaces/team-a/market/price", json=price, timeout=10)
        assert r.status_code == 200, r.text
        mine = requests.get(f"{admin}/market", timeout=10).json()["data"]
        theirs = requests.get(f"{admin}/namespaces/team-a/market", timeout=10).json()["data"]
        assert {i["pricesSet"] for i in mine["instruments"]} == {0}
        [eth] = [i for i in theirs["instruments"] if i["instrumentId"] == "OKX:ETH/USDT"]
        assert eth["lastPrice"] == "2500.00" and eth["pricesSet"] == 1
        for body, status, text in [
            ({"instrumentId": "OKX:ETH/USDT", "price": "0"}, 400, "price: expected a decimal > 0"),
            ({"instrumentId": "OKX:ETH/USDT", "price": True}, 400, "price"),
            ({"instrumentId": "OKX:NONE/USDT", "price": "1"}, 404, "Instrument not found"),
            ({"price": "1"}, 400, "instrumentId"),
        ]:
            r = requests.post(f"{admin}/market/price", json=body, timeout=10)
            assert r.status_code == status and text in r.json()["error"], r.text
        assert {i["pricesSet"] for i in mock.market.state()["instruments"]} == {0}
    finally:
        requests.delete(f"{admin}/namespaces/team-a", timeout=10)
    with pytest.raises(KeyError):
        mock.market.set_price("OKX:NONE/USDT", "1")
    with pytest.raises(ValueError, match="price"):
        mock.market.set_price("OKX:ETH/USDT", "-2")


def test_a_remote_mock_sets_prices_through_the_admin_api(mock: MockServer) -> None:
    from cadenza_mock.testing.remote import RemoteError, RemoteMock

    remote = RemoteMock(mock.url)
    state = remote.market.set_price("OKX:SOL/USDT", 151)
    [sol] = [i for i in state["instruments"] if i["instrumentId"] == "OKX:SOL/USDT"]
    assert sol["lastPrice"] == "151.00"
    assert mock.market.state() == remote.market.state()
    with pytest.raises(RemoteError, match="Instrument not found"):
        remote.market.set_price("OKX:NONE/USDT", "1")


def test_set_prices_are_bounded_per_instrument_and_the_refusal_keeps_them(
    mock: MockServer,
) -> None:
    """Every read walks the prices set, so a client setting them in a loop on a running
    clock meets a bound (a clear 400, nothing lost) instead of slowing every read."""
    from cadenza_mock.engine import market

    walk = mock.state.store.market.walk(mock.state.store.market.instrument("OKX:ETH/USDT"))
    walk.shifts = [(i * 1000, 0) for i in range(market.MAX_SET_PRICES)]  # set long ago
    kept = list(walk.shifts)
    r = requests.post(
        f"{mock.url}/__admin/market/price",
        json={"instrumentId": "OKX:ETH/USDT", "price": "2000"},
        timeout=10,
    )
    assert r.status_code == 400 and r.json()["errno"] == -22015, r.text
    assert f"at most {market.MAX_SET_PRICES} prices set" in r.json()["error"]
    assert walk.shifts == kept
    mock.reset()
    assert mock.market.set_price("OKX:ETH/USDT", "2000")

"""The market controls over real sockets: a book set outright, halts, gaps, a venue's data
stale or unavailable, through the admin API (requests), the in-process and the remote
handle, and the scenario's `halted:`; bad input is a clear 400 and changes nothing; the
reference table is the declaration's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import doc_examples
import pytest
import requests
from centrifuge import Client
from support import error_text, module_mock

from cadenza_mock.contract.market_controls import CONTROLS, controls_table
from cadenza_mock.contract.operations import OPERATIONS
from cadenza_mock.run.server import MockServer
from cadenza_mock.testing.handle import MarketControl
from cadenza_mock.testing.remote import RemoteError, RemoteMock

MARKET = "/api/v3/market"
NOW_MS = 1_767_225_600_000
SCENARIO: dict[str, Any] = {
    "seed": 5,
    "now": "2026-01-01T00:00:00Z",
    "profile": "sdk",
    "market": {
        "BINANCE": [{"symbol": "BTC/USDT"}, {"symbol": "ETH/USDT", "halted": True}],
        "OKX": "default",
    },
    "users": [{"email": "alice@example.com", "tokens": ["alice-token"]}],
}
ALICE = {"Authorization": "Bearer alice-token"}
BTC = "BINANCE:BTC/USDT"


server, mock = module_mock(SCENARIO)  # a fresh clock and market for each test


def read(mock: MockServer, path: str, **params: Any) -> Any:
    r = requests.get(f"{mock.url}{MARKET}/{path}", params=params, headers=ALICE, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def admin(mock: MockServer, control: str, body: Any) -> requests.Response:
    return requests.post(f"{mock.url}/__admin/market/{control}", json=body, timeout=10)


def ticker(mock: MockServer, instrument: str = BTC) -> dict[str, Any]:
    found: dict[str, Any] = read(mock, "ticker/get", instrumentId=instrument)
    return found


def status(mock: MockServer, instrument: str) -> str:
    rows = read(mock, "instrument/list", venue=instrument.split(":")[0])
    return str(next(r["status"] for r in rows if r["instrumentId"] == instrument))


def test_the_reference_table_route_and_handle_are_the_declarations() -> None:
    shown = doc_examples.section("Market controls").body
    assert controls_table() in shown, f"paste into docs/reference.md:\n{controls_table()}"
    routes = {op.path for op in OPERATIONS if op.method == "POST"}
    for control in CONTROLS:
        assert f"/__admin/{control.path}" in routes
        assert callable(getattr(MarketControl, control.method))


def test_a_book_set_outright_is_what_reads_answer_until_a_price_is_set(mock: MockServer) -> None:
    book = {"instrumentId": BTC, "bids": [["60000.00", "0.5"], ["59990", "1.25"]],
            "asks": [["60010", "0.001"]]}  # fmt: skip
    r = admin(mock, "book", book)
    assert r.status_code == 200, r.text
    row = next(i for i in r.json()["data"]["instruments"] if i["instrumentId"] == BTC)
    assert row["bookSet"] is True and row["lastPrice"] == "60005.00"  # the mid
    for _ in range(2):  # the clock moving does not change it
        answered = read(mock, "orderBook/get", instrumentId=BTC)
        assert answered["bids"] == [["60000.00", "0.50000"], ["59990.00", "1.25000"]]
        assert answered["asks"] == [["60010.00", "0.00100"]]
        last = ticker(mock)
        assert (last["bidPrice"], last["askPrice"]) == ("60000.00", "60010.00")
        assert Decimal("60000") <= Decimal(last["lastPrice"]) <= Decimal("60010")
        mock.advance(90)
    assert read(mock, "orderBook/get", instrumentId=BTC, depth=1)["bids"] == [
        ["60000.00", "0.50000"]
    ]
    mock.market.set_price(BTC, "61000")
    answered = read(mock, "orderBook/get", instrumentId=BTC)
    assert len(answered["bids"]) == 10 and Decimal(answered["bids"][0][0]) > 60900


@pytest.mark.parametrize(
    ("bids", "asks", "words"),
    [
        ([["60010", "1"]], [["60000", "1"]], "crossed book"),
        ([["60000", "1"]], [["60000", "1"]], "crossed book"),
        ([["60000.005", "1"]], [["60010", "1"]], "not a multiple of the tick 0.01"),
        ([["60000", "0.000001"]], [["60010", "1"]], "not a multiple of the lot 0.00001"),
        ([["59990", "1"], ["60000", "1"]], [["60010", "1"]], "high to low"),
        ([["60000", "1"]], [["60020", "1"], ["60010", "1"]], "low to high"),
        ([], [["60010", "1"]], "bids"),
        ([["60000", "1"]], "60010", "asks"),
        ([["60000", "-1"]], [["60010", "1"]], "quantity"),
        ([["0", "1"]], [["60010", "1"]], "price"),
        ([["60000"]], [["60010", "1"]], "bids[0]"),
    ],
)
def test_a_bad_book_is_a_clear_400_and_changes_nothing(
    mock: MockServer, bids: Any, asks: Any, words: str
) -> None:
    before = read(mock, "orderBook/get", instrumentId=BTC)
    r = admin(mock, "book", {"instrumentId": BTC, "bids": bids, "asks": asks})
    assert words in error_text(r, 400, -19004)
    assert read(mock, "orderBook/get", instrumentId=BTC) == before
    with pytest.raises(ValueError, match="Form validation failed"):
        mock.market.set_book(BTC, bids=[("60010", "1")], asks=[("60000", "1")])
    assert read(mock, "orderBook/get", instrumentId=BTC) == before


def test_unknown_instruments_and_controls(mock: MockServer) -> None:
    r = admin(mock, "halt", {"instrumentId": "BINANCE:NONE/USDT"})
    assert error_text(r, 404, -22016) == "Instrument not found: BINANCE:NONE/USDT"
    with pytest.raises(KeyError):
        mock.market.halt("BINANCE:NONE/USDT")
    nowhere = admin(mock, "venue", {"venue": "NOWHERE", "data": "stale"})
    assert error_text(nowhere, 404, -19003).startswith("No venue 'NOWHERE' in the market")
    with pytest.raises(KeyError):
        mock.market.venue_data("NOWHERE", "stale")
    assert "data" in error_text(admin(mock, "venue", {"venue": "OKX", "data": "later"}), 400,
                                -22015)  # fmt: skip
    assert "JSON object" in error_text(admin(mock, "halt", ["x"]), 400, -19004)
    assert mock.market.state()["venues"]["OKX"] == "live"


def test_a_halt_freezes_price_book_and_ticker_and_a_resume_walks_on(mock: MockServer) -> None:
    mock.market.halt(BTC)
    before = ticker(mock)
    book = read(mock, "orderBook/get", instrumentId=BTC)
    assert status(mock, BTC) == "INACTIVE"
    mock.advance(3 * 3600)
    after = ticker(mock)
    assert after["timestamp"] == before["timestamp"] + 3 * 3600 * 1000  # reads go on
    assert {k: v for k, v in after.items() if k != "timestamp"} == {
        k: v for k, v in before.items() if k != "timestamp"
    }
    frozen = read(mock, "orderBook/get", instrumentId=BTC)
    assert (frozen["bids"], frozen["asks"]) == (book["bids"], book["asks"])
    candles = read(mock, "kline/get", instrumentId=BTC, interval="1h", limit=3)["candles"]
    for _, o, h, lo, c, volume in candles:
        assert o == h == lo == c == before["lastPrice"] and Decimal(volume) == 0
    r = admin(mock, "price", {"instrumentId": BTC, "price": "1"})
    assert "halted: resume it first" in error_text(r, 400, -19004)
    assert ticker(mock)["lastPrice"] == before["lastPrice"]
    mock.market.resume(BTC)
    assert status(mock, BTC) == "ACTIVE"
    assert ticker(mock)["lastPrice"] == before["lastPrice"]  # walks on from the halt's price
    mock.advance(600)
    assert ticker(mock)["lastPrice"] != before["lastPrice"]


def test_a_scenario_halted_instrument_and_a_reset(mock: MockServer) -> None:
    eth = "BINANCE:ETH/USDT"
    assert status(mock, eth) == "INACTIVE"
    first = ticker(mock, eth)["lastPrice"]
    mock.advance(7200)
    assert ticker(mock, eth)["lastPrice"] == first
    mock.market.resume(eth)
    mock.market.halt(BTC)
    mock.market.venue_data("OKX", "unavailable")
    mock.reset()  # back to the scenario: ETH halted again, the rest forgotten
    assert (status(mock, eth), status(mock, BTC)) == ("INACTIVE", "ACTIVE")
    assert mock.market.state()["venues"]["OKX"] == "live"


def test_a_gap_at_a_later_instant_happens_when_the_clock_gets_there(mock: MockServer) -> None:
    at = NOW_MS + 600_000
    mock.market.gap(BTC, price="50000", at_ms=at)
    assert Decimal(ticker(mock)["lastPrice"]) > 60000
    mock.advance(600)
    assert ticker(mock)["lastPrice"] == "50000.00"
    candle = read(mock, "kline/get", instrumentId=BTC, interval="15m", limit=1)["candles"][0]
    assert Decimal(candle[3]) == 50000 and Decimal(candle[2]) > 60000  # the jump inside it
    mock.market.gap(BTC, percent="-10")
    assert ticker(mock)["lastPrice"] == "45000.00"
    for body, words in [
        ({"instrumentId": BTC}, "one of"),
        ({"instrumentId": BTC, "price": "1", "percent": "1"}, "one of"),
        ({"instrumentId": BTC, "percent": "-100"}, "more than -100"),
        ({"instrumentId": BTC, "percent": "x"}, "percent"),
        ({"instrumentId": BTC, "price": "1", "at": NOW_MS}, "from now"),
        ({"instrumentId": BTC, "price": "1", "at": NOW_MS + 400 * 86_400_000}, "a year later"),
        ({"instrumentId": BTC, "price": "1", "at": "soon"}, "at: expected"),
    ]:
        assert words in error_text(admin(mock, "gap", body), 400, -19004)
    assert ticker(mock)["lastPrice"] == "45000.00"


def test_stale_data_stops_where_it_is(mock: MockServer) -> None:
    mock.market.venue_data("BINANCE", "stale")
    before = ticker(mock)
    mock.advance(3600)
    assert ticker(mock) == before  # timestamps and prices stop
    kline = read(mock, "kline/get", instrumentId=BTC, interval="1m", limit=1)
    assert kline["timestamp"] == before["timestamp"]
    assert read(mock, "venue/list")[0] == {"venue": "BINANCE", "status": "ONLINE"}
    okx = ticker(mock, "OKX:BTC/USDT")
    assert okx["timestamp"] == before["timestamp"] + 3600 * 1000  # another venue moves on
    mock.market.venue_data("BINANCE", "live")
    assert ticker(mock)["timestamp"] == okx["timestamp"]


async def test_unavailable_data_is_the_18012_row_on_both_transports(mock: MockServer) -> None:
    mock.market.venue_data("BINANCE", "unavailable")
    for path, params in [
        ("ticker/get", {"instrumentId": BTC}),
        ("orderBook/get", {"instrumentId": BTC}),
        ("kline/get", {"instrumentId": BTC, "interval": "1m"}),
        ("orderBook/list", {"instrumentIds": BTC}),
        ("ticker/list", {}),
    ]:
        r = requests.get(f"{mock.url}{MARKET}/{path}", params=params, headers=ALICE, timeout=10)
        assert error_text(r, 503, -18012) == (
            "Exchange not available: BINANCE market data is unavailable"
        )
    assert read(mock, "venue/list")[0] == {"venue": "BINANCE", "status": "OFFLINE"}
    assert read(mock, "instrument/list", venue="BINANCE")  # reference data still answers
    client = Client(mock.url.replace("http://", "ws://") + "/connection/websocket",
                    token="alice-token")  # fmt: skip
    await client.connect()
    try:
        result = (await client.rpc("query.orderbook.get", {"instrumentId": BTC})).data
        assert result["error"]["code"] == 18012 and result["error"]["temporary"] is True
        okx = (await client.rpc("query.ticker.list", {"venue": "OKX"})).data
        assert len(okx["data"]) == 3
    finally:
        await client.disconnect()


def test_the_remote_handle_drives_the_same_controls(mock: MockServer) -> None:
    remote = RemoteMock(mock.url)
    state = remote.market.set_book(BTC, bids=[("100", "1")], asks=[("101", "1")])
    assert next(i for i in state["instruments"] if i["instrumentId"] == BTC)["bookSet"]
    remote.market.halt(BTC)
    assert status(mock, BTC) == "INACTIVE"
    remote.market.resume(BTC)
    remote.market.venue_data("OKX", "stale")
    assert remote.market.state()["venues"]["OKX"] == "stale"
    with pytest.raises(RemoteError, match="crossed"):
        remote.market.set_book(BTC, bids=[("102", "1")], asks=[("101", "1")])
    with pytest.raises(RemoteError, match="Instrument not found"):
        remote.market.gap("OKX:NONE/USDT", percent="5")

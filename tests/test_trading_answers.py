"""Kept order-list and portfolio-list answers (engine/trading_answers.py) over real
sockets: a repeated `GET /api/v3/tradeOrder/list` or `/tradingAccount/portfolio/list` is
answered by the fast path from the bytes the handler kept, and a client, the journal and
the log cannot tell it from aiohttp's answer: a server with the fast path and one without,
driven alike, give the same bytes at every step; and every change is in the next answer: a
submit, a cancel, a clock move or a set price that fills a resting LIMIT order (lazy
fills: the read catches up first), a disconnect, a reset, a namespace's own orders; for
the portfolios also the clock's next second and a set price (the positions' prices)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from support import read_answer

from cadenza_mock.engine.order_checks import OrderRequest
from cadenza_mock.engine.store import Store
from cadenza_mock.run.server import MockServer
from cadenza_mock.scenario import load_scenario

TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIST = "/api/v3/tradeOrder/list"
SUBMIT = "/api/v3/tradeOrder/submit"
PORTFOLIOS = "/api/v3/tradingAccount/portfolio/list"
SPOT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot account (accounts.yaml)
BTC = "BINANCE:BTC/USDT"
QUERY = "limit=1000"


def fast_answers(mock: MockServer) -> int:
    runner = mock._runner
    assert runner is not None and runner.server is not None
    return int(getattr(runner.server, "fast_answers"))  # noqa: B009 (our _Server's)


@pytest.fixture
def pair() -> Iterator[tuple[MockServer, MockServer]]:
    """A server with the fast path and one without, on the same (frozen-clock) scenario:
    driven alike, they hold the same orders, ids and times."""
    with (
        MockServer(scenario="accounts") as fast,
        MockServer(scenario="accounts", fast_path=False) as ordinary,
    ):
        yield fast, ordinary


def submit(mock: MockServer, **body: Any) -> dict[str, Any]:
    payload = {
        "tradingAccountId": SPOT,
        "instrumentId": BTC,
        "orderSide": "BUY",
        "orderType": "LIMIT",
        "quantity": "0.01",
        **body,
    }
    r = requests.post(mock.url_for(SUBMIT), json=payload, headers=AUTH, timeout=10)
    assert r.status_code == 200, r.text
    order: dict[str, Any] = r.json()["data"][0]
    return order


def cancel(mock: MockServer, order_id: str) -> None:
    r = requests.post(
        mock.url_for("/api/v3/tradeOrder/cancel"),
        json={"tradingAccountId": SPOT, "tradeOrderId": order_id},
        headers=AUTH,
        timeout=10,
    )
    assert r.status_code == 200, r.text


def listed(
    mock: MockServer, query: str = QUERY, prefix: str = "", times: int = 6, path: str = LIST
) -> bytes:
    """`times` reads of the list on one kept-alive connection, each a 200 with the same
    bytes (the first computes and keeps it; the fast path may answer the others)."""
    url = mock.url_for(f"{prefix}{path}?{query}")
    with requests.Session() as session:
        got = [session.get(url, headers=AUTH, timeout=10) for _ in range(times)]
    assert all(r.status_code == 200 for r in got), got[0].text
    assert all(r.content == got[0].content for r in got)
    return got[0].content


def both(
    pair: tuple[MockServer, MockServer], query: str = QUERY, prefix: str = "", path: str = LIST
) -> bytes:
    """The list as both servers answer it: the same bytes."""
    fast, ordinary = pair
    mine = listed(fast, query, prefix, path=path)
    assert mine == listed(ordinary, query, prefix, path=path)
    return mine


def statuses(body: bytes) -> list[str]:
    return re.findall(r'"status":"([A-Z_]+)"', body.decode())


def below_market(mock: MockServer) -> str:
    """A BUY limit 1 % under the best ask: it rests."""
    r = requests.get(
        mock.url_for("/api/v3/market/orderBook/get"),
        params={"instrumentId": BTC},
        headers=AUTH,
        timeout=10,
    )
    ask = Decimal(r.json()["data"]["asks"][0][0])
    return str((ask * Decimal("0.99")).quantize(Decimal("0.01")))


def journaled(mock: MockServer, path: str = LIST) -> list[tuple[Any, ...]]:
    return [
        (e.method, e.path, e.query, e.status, e.user_id, e.hints, e.response, e.fault)
        for e in mock.calls(path)
    ]


def test_every_change_is_in_the_next_answer_and_both_paths_agree(
    pair: tuple[MockServer, MockServer],
) -> None:
    fast, ordinary = pair
    seen = [both(pair)]
    assert statuses(seen[-1]) == []
    limit = below_market(fast)
    resting = [submit(m, limitPrice=limit) for m in pair]
    assert resting[0] == resting[1] and resting[0]["status"] == "ACCEPTED"
    seen.append(both(pair))
    for m in pair:
        submit(m, orderType="MARKET")
    seen.append(both(pair))
    assert statuses(seen[-1]) == ["FILLED", "ACCEPTED"]
    second = [submit(m, limitPrice=limit) for m in pair]
    seen.append(both(pair))
    for m, order in zip(pair, second, strict=True):
        cancel(m, order["tradeOrderId"])
    seen.append(both(pair))
    assert statuses(seen[-1]) == ["CANCELLED", "FILLED", "ACCEPTED"]
    # A clock move alone: the market has not come down to the resting order.
    for m in pair:
        m.advance(1)
    seen.append(both(pair))
    assert seen[-1] == seen[-2]
    # A set price under the limit: the next read fills it (lazy fills).
    for m in pair:
        m.market.set_price(BTC, str(Decimal(limit) * Decimal("0.98")))
    seen.append(both(pair))
    assert statuses(seen[-1]) == ["CANCELLED", "FILLED", "FILLED"]
    assert journaled(fast) == journaled(ordinary) and len(journaled(fast)) == 6 * len(seen)
    for m in pair:
        m.reset()  # (the journal too)
    seen.append(both(pair))
    assert seen[-1] == seen[0]
    assert len(set(seen)) == len(seen) - 2  # every change but the idle clock move showed
    assert fast_answers(fast) >= 1 and fast_answers(ordinary) == 0
    assert journaled(fast) == journaled(ordinary) and len(journaled(fast)) == 6


def test_a_clock_move_that_fills_a_resting_order_is_never_hidden(
    pair: tuple[MockServer, MockServer],
) -> None:
    fast, ordinary = pair
    for m in pair:
        limit = below_market(m)
        submit(m, limitPrice=limit, quantity="0.2")
    query = f"tradingAccountId={SPOT}"
    before = both(pair, query)
    counted = fast_answers(fast)
    assert statuses(before) == ["ACCEPTED"] and counted >= 1
    # The walk comes down to it as the clock moves, an hour at a time.
    for _ in range(40):
        for m in pair:
            m.advance(3600)
        after = both(pair, query)
        if statuses(after) != ["ACCEPTED"]:
            break
    else:
        pytest.fail("a day and a half of the walk never crossed 1 % under the ask")
    assert statuses(after)[0] in ("FILLED", "PARTIALLY_FILLED")
    assert fast_answers(fast) > counted
    assert journaled(fast) == journaled(ordinary)


def test_a_namespace_keeps_its_own_order_lists(pair: tuple[MockServer, MockServer]) -> None:
    fast = pair[0]
    for m in pair:
        r = requests.post(m.url_for("/__admin/namespaces?namespace=team-a&name=accounts"))
        assert r.status_code in (200, 201), r.text
    try:
        own = both(pair)
        for m in pair:
            submit(m, orderType="MARKET")
        mine = both(pair)
        theirs = both(pair, prefix="/__ns/team-a")
        assert mine != own and theirs == own
        headers = {**AUTH, "X-Cadenza-Mock-Namespace": "team-a"}
        with requests.Session() as session:
            by_header = [
                session.get(fast.url_for(f"{LIST}?{QUERY}"), headers=headers).content
                for _ in range(4)
            ]
        assert set(by_header) == {theirs}
    finally:
        for m in pair:
            requests.delete(m.url_for("/__admin/namespaces/team-a"), timeout=10)


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(scenario="accounts") as server:
        yield server


def test_a_kept_answer_is_never_given_to_a_caller_it_would_refuse(mock: MockServer) -> None:
    fast = mock
    submit(fast, orderType="MARKET")
    kept = listed(fast)
    bob = {"Authorization": "Bearer bob-token"}
    with requests.Session() as session:
        url = fast.url_for(f"{LIST}?{QUERY}")
        for headers in ({}, {"Authorization": "Bearer nobody"}, {"Authorization": TOKEN}):
            for _ in range(3):
                r = session.get(url, headers=headers)
                assert r.status_code == 401 and r.json()["success"] is False
        others = {session.get(url, headers=bob).content for _ in range(3)}
        assert len(others) == 1 and others != {kept} and statuses(others.pop()) == []
        for _ in range(3):  # a bad query is its 400 every time, never kept
            r = session.get(fast.url_for(f"{LIST}?limit=0"), headers=AUTH)
            assert r.status_code == 400 and r.json()["success"] is False
        assert session.post(fast.url_for("/api/v3/auth/logout"), headers=AUTH).ok
        assert session.get(url, headers=AUTH).status_code == 401


def _raw_get(mock: MockServer, target: bytes) -> bytes:
    """Four requests on one connection, one at a time: their status lines and bodies."""
    request = (
        b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + TOKEN.encode() + b"\r\n\r\n"
    )  # fmt: skip
    found = []
    with socket.create_connection(("127.0.0.1", mock.port), timeout=10) as sock:
        for _ in range(4):
            sock.sendall(request)
            found.append(read_answer(sock))
    return b"\n".join(found)


# Targets a client may send for the order and portfolio lists: escaped or not, odd or wrong.
_TARGETS = {
    "plain": f"{LIST}?{QUERY}".encode(),
    "no query": LIST.encode(),
    "instrument": f"{LIST}?instrumentId={BTC}".encode(),
    "escaped instrument": LIST.encode() + b"?instrumentId=BINANCE%3ABTC%2FUSDT",
    "escaped ampersand": LIST.encode() + b"?instrumentId=BINANCE%3ABTC%2FUSDT%26limit=1",
    "page": f"{LIST}?limit=1&offset=1&ascending=true".encode(),
    "bad escape": LIST.encode() + b"?instrumentId=BINANCE%3ZBTC",
    "bad limit": f"{LIST}?limit=100000".encode(),
    "hinted": f"{LIST}?status=FILLED".encode(),
    "portfolios": PORTFOLIOS.encode(),
    "one portfolio": f"{PORTFOLIOS}?tradingAccountId={SPOT}&currency=USDT".encode(),
    "portfolio, bad venue": f"{PORTFOLIOS}?venue=NOWHERE".encode(),
}


@pytest.mark.parametrize("name", sorted(_TARGETS))
def test_both_paths_answer_and_journal_every_target_alike(
    pair: tuple[MockServer, MockServer], name: str
) -> None:
    fast, ordinary = pair
    for m in pair:
        submit(m, orderType="MARKET")
        submit(m, orderType="MARKET", orderSide="SELL")
    target = _TARGETS[name]
    expected = _raw_get(ordinary, target)
    assert _raw_get(fast, target) == expected
    assert _raw_get(fast, target) == expected
    path = PORTFOLIOS if target.startswith(PORTFOLIOS.encode()) else LIST
    assert journaled(fast, path) == journaled(ordinary, path) * 2


def test_the_escaped_order_list_reaches_the_fast_path(mock: MockServer) -> None:
    """The comparisons above mean something: escaped and plain queries are answered from
    the keep (on a kept-alive connection the fast path mostly looks first)."""
    submit(mock, orderType="MARKET")
    for name in ("plain", "escaped instrument", "one portfolio"):
        counted = fast_answers(mock)
        for _ in range(20):
            assert _raw_get(mock, _TARGETS[name]).startswith(b"HTTP/1.1 200")
            if fast_answers(mock) > counted:
                break
        assert fast_answers(mock) > counted, name


def test_the_serve_log_has_the_same_line_either_way(serve: Any) -> None:
    outputs = []
    for args in ((), ("--no-fast-path",)):
        server = serve("--scenario", "accounts", *args)
        url, _ = server.banner()
        with requests.Session() as session:
            for _ in range(6):
                got = session.get(f"{url}{LIST}?limit=5&instrumentId={BTC}", headers=AUTH)
                assert got.status_code == 200, got.text
        code, output = server.stop()
        assert code == 0
        lines = [line for line in output.splitlines() if f" GET {LIST}?" in line]
        # The time and the duration aside, every line is the same.
        outputs.append([re.sub(r"^\S+ \S+ | \d+\.\dms", "", line) for line in lines])
    assert len(outputs[0]) == 6 and outputs[0] == outputs[1]
    assert len(set(outputs[0])) == 1 and TOKEN not in outputs[0][0]
    assert outputs[0][0].endswith(" 200 user=4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11")


def test_every_change_is_in_the_next_portfolio_list_and_both_paths_agree(
    pair: tuple[MockServer, MockServer],
) -> None:
    fast, ordinary = pair
    queries = ("", f"tradingAccountId={SPOT}", "venue=BINANCE&currency=BTC")

    def portfolios() -> tuple[bytes, ...]:
        return tuple(both(pair, q, path=PORTFOLIOS) for q in queries)

    seen = [portfolios()]
    for m in pair:
        submit(m, orderType="MARKET", quantity="0.1")  # a BTC position at its price
    seen.append(portfolios())
    for m in pair:
        m.advance(0.2)  # the same second: the same prices
    seen.append(portfolios())
    assert seen[-1] == seen[-2]
    for m in pair:
        m.advance(1)  # the next second: the ticker's last price moved
    seen.append(portfolios())
    for m in pair:
        m.market.set_price(BTC, "1000")
    seen.append(portfolios())
    resting = [submit(m, limitPrice="900.00") for m in pair]
    assert resting[0]["status"] == "ACCEPTED"
    seen.append(portfolios())
    orders = both(pair)
    for m in pair:  # a disconnect: the account leaves the list, its resting order cancels
        r = requests.post(
            m.url_for("/api/v3/tradingAccount/disconnect"),
            json={"tradingAccountId": SPOT},
            headers=AUTH,
            timeout=10,
        )
        assert r.status_code == 200, r.text
    seen.append(portfolios())
    assert SPOT not in seen[-1][0].decode() and both(pair) != orders
    assert statuses(both(pair))[0] == "CANCELLED"
    assert journaled(fast, PORTFOLIOS) == journaled(ordinary, PORTFOLIOS)
    for m in pair:
        m.reset()
    seen.append(portfolios())
    assert seen[-1] == seen[0]
    for i, q in enumerate(queries[:2]):  # (the BTC balance alone: not moved by a price)
        assert len({s[i] for s in seen}) == len(seen) - 2, q
    assert fast_answers(fast) >= 1 and fast_answers(ordinary) == 0
    assert journaled(fast, PORTFOLIOS) == journaled(ordinary, PORTFOLIOS)


# ----------------------------------------------------------------- in the engine


def _request(**given: Any) -> OrderRequest:
    return OrderRequest(
        **{
            "trading_account_id": SPOT,
            "instrument_id": BTC,
            "side": "BUY",
            "order_type": "LIMIT",
            "quantity": "0.01",
            "limit_price": None,
            "time_in_force": None,
            "expire_at": None,
            "client_order_id": None,
            "idempotency_key": None,
            "quantity_type": None,
            "quantity_rounding": None,
            "quote_id": None,
            **given,
        }
    )


def test_what_is_kept_catches_up_first_and_is_dropped_by_every_change() -> None:
    """What the fast path relies on, step by step: `kept` gives nothing never answered,
    and never an answer a due fill, an expiry, a submit or a reset made stale."""
    store = Store(load_scenario("accounts"))
    trading = store.trading
    user = store.user_for_token(AUTH["Authorization"])
    key = (user.user_id, QUERY)
    computed = []

    def compute() -> bytes:
        computed.append(1)
        return str(statuses_of(trading)).encode()

    def statuses_of(trading: Any) -> list[str]:
        return [o.status for o in trading.orders_of(user)]

    assert trading.answers.orders.kept(key) is None  # never answered: nothing, no catch-up
    order = trading.submit(user, _request(limit_price="60000.00"))
    expiring = trading.submit(
        user, _request(limit_price="50000.00", expire_at=store.clock.now_ms() + 5000)
    )
    assert trading.answers.orders.answer(key, compute) == b"['ACCEPTED', 'ACCEPTED']"
    assert trading.answers.orders.kept(key) == b"['ACCEPTED', 'ACCEPTED']" and len(computed) == 1
    spec = trading.market.instruments[BTC]
    trading.market.set_price(spec, Decimal("59000"))
    assert order.status == "ACCEPTED"  # nothing runs on its own...
    assert trading.answers.orders.kept(key) is None  # ...the look catches up: the fill drops it
    assert order.status == "FILLED"
    assert trading.answers.orders.answer(key, compute) == b"['ACCEPTED', 'FILLED']"
    store.clock.advance(6)
    assert trading.answers.orders.kept(key) is None and expiring.status == "EXPIRED"
    assert trading.answers.orders.answer(key, compute) == b"['EXPIRED', 'FILLED']"
    assert trading.answers.orders.kept((user.user_id, "limit=1")) is None  # another query
    trading.submit(user, _request(order_type="MARKET"))
    assert trading.answers.orders.kept(key) is None
    trading.answers.orders.answer(key, compute)
    trading.reset()
    assert trading.answers.orders.kept(key) is None and len(computed) == 4


def test_a_second_price_set_at_the_same_instant_fills_what_it_crosses() -> None:
    """Two prices set at one frozen instant: the second crosses the resting order, and
    the next read (the kept answer's look too) fills it, with no clock move."""
    store = Store(load_scenario("accounts"))
    trading = store.trading
    user = store.user_for_token(AUTH["Authorization"])
    key = (user.user_id, QUERY)
    order = trading.submit(user, _request(limit_price="60000.00"))
    spec = trading.market.instruments[BTC]
    trading.market.set_price(spec, Decimal("70000"))
    trading.answers.orders.answer(key, lambda: b"kept")
    assert order.status == "ACCEPTED" and trading.answers.orders.kept(key) == b"kept"
    trading.market.set_price(spec, Decimal("59000"))
    assert trading.answers.orders.kept(key) is None and order.status == "FILLED"


def test_what_is_kept_is_bounded_in_count_and_in_bytes() -> None:
    """A client sending endless distinct queries (or pages of 1 MiB) cannot grow the keep
    past LIMIT answers or MAX_BYTES: it is emptied, and answers stay right."""
    from cadenza_mock.engine import trading_answers as ta

    class Still:  # orders that never change: one epoch
        version = 0

        def catch_up(self) -> None:
            pass

    keep = ta.KeptAnswers(Still(), lambda: 0)  # type: ignore[arg-type]
    for n in range(ta.LIMIT + 10):
        assert keep.answer(("u", f"q={n}"), lambda n=n: f"{n}".encode()) == f"{n}".encode()
    assert len(keep._kept) <= ta.LIMIT and keep.kept(("u", f"q={ta.LIMIT + 9}")) is not None
    big = b"x" * (ta.MAX_BYTES // 3 + 1)
    for n in range(4):
        assert keep.answer(("u", f"big={n}"), lambda: big) is big
        assert keep._bytes <= ta.MAX_BYTES
    assert keep.kept(("u", "big=3")) is big and keep.kept(("u", "big=0")) is None

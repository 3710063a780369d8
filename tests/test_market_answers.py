"""Kept market answers (engine/market_answers.py) over real sockets: a repeated market read,
REST (through the fast path) or RPC, is the bytes a fresh server computes at the same
clock, and every change drops what was kept: a set price, the clock's next second, a
reset, a scenario load; a namespace keeps its own."""

from __future__ import annotations

import asyncio
import json
import socket as socket_module
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import requests
from support import read_answer

from cadenza_mock.run.server import MockServer

TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOOK = "/api/v3/market/orderBook/get"
TICKERS = "/api/v3/market/ticker/list"
BTC = "BINANCE:BTC/USDT"


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(scenario="default") as server:
        yield server


def fast_answers(mock: MockServer) -> int:
    runner = mock._runner
    assert runner is not None and runner.server is not None
    return int(getattr(runner.server, "fast_answers"))  # noqa: B009 (our _Server's)


def reads(mock: MockServer, path: str, times: int = 3, prefix: str = "") -> list[bytes]:
    """`times` reads of `path` on one kept-alive connection, each a 200."""
    params = {"instrumentId": BTC} if path == BOOK else None
    with requests.Session() as session:
        got = [session.get(mock.url_for(prefix + path), params=params, headers=AUTH, timeout=10)]
        got += [session.get(got[0].url, headers=AUTH, timeout=10) for _ in range(times - 1)]
    assert all(r.status_code == 200 for r in got), got[0].text
    return [r.content for r in got]


def one(mock: MockServer, path: str = BOOK, prefix: str = "") -> bytes:
    """A read, checked to be what repeating it on one connection answers too."""
    first, *again = reads(mock, path, prefix=prefix)
    assert all(a == first for a in again)
    return first


class RpcSocket:
    """A connected WebSocket client with its own event loop, for sync tests."""

    def __init__(self, mock: MockServer) -> None:
        self._loop = asyncio.new_event_loop()
        self._session = self._run(self._open())
        self._ws = self._run(self._session.ws_connect(mock.url_for("/connection/websocket")))
        self._id = 0
        reply = self._call({"connect": {"token": TOKEN}})
        assert "connect" in reply, reply

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    @staticmethod
    async def _open() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    def _call(self, command: dict[str, Any]) -> dict[str, Any]:
        self._id += 1
        self._run(self._ws.send_str(json.dumps({"id": self._id, **command})))
        message = self._run(self._ws.receive(timeout=10))
        reply: dict[str, Any] = json.loads(message.data)
        assert reply["id"] == self._id, reply
        return reply

    def rpc(self, method: str, data: dict[str, Any]) -> Any:
        result = self._call({"rpc": {"method": method, "data": data}})["rpc"]["data"]
        assert "error" not in result, result
        return result["data"]

    def close(self) -> None:
        self._run(self._ws.close())
        self._run(self._session.close())
        self._loop.close()


@pytest.fixture
def socket(mock: MockServer) -> Iterator[RpcSocket]:
    client = RpcSocket(mock)
    yield client
    client.close()


def rpc_book(socket: RpcSocket) -> Any:
    first = socket.rpc("query.orderbook.get", {"instrumentId": BTC})
    assert socket.rpc("query.orderbook.get", {"instrumentId": BTC}) == first
    return first


def test_kept_answers_are_what_a_fresh_server_computes_at_each_clock_move(
    mock: MockServer, socket: RpcSocket
) -> None:
    """Within a second only the timestamps move (stamped into the kept bytes); the next
    second is a new book. A fresh server, moved the same way, computes its one read."""
    moved = 0.0
    seen: list[dict[str, Any]] = []
    for step in (0, 0.25, 0.5, 0.25, 59, 3600):
        mock.advance(step)
        moved += step
        with MockServer(scenario="default", fast_path=False) as fresh:
            fresh.advance(moved)
            wanted = {path: one(fresh, path) for path in (BOOK, TICKERS)}
        for path in (BOOK, TICKERS):
            assert one(mock, path) == wanted[path]
        book = json.loads(wanted[BOOK])["data"]
        assert rpc_book(socket) == book
        assert socket.rpc("query.ticker.list", {}) == json.loads(wanted[TICKERS])["data"]
        seen.append(book)
    start = seen[0]["timestamp"]
    assert [b["timestamp"] - start for b in seen] == [0, 250, 750, 1000, 60000, 3660000]
    # 0.25 s and 0.75 s: the same second's book, stamped; then each move a new one.
    levels = [(b["bids"], b["asks"]) for b in seen]
    assert levels[0] == levels[1] == levels[2]
    assert len({json.dumps(x) for x in levels[2:]}) == 4
    # Repeats came through the fast path, and each was journaled as a call.
    assert fast_answers(mock) >= 1  # (how many: timing, see test_fast_path.py)
    assert len(mock.calls(BOOK)) == len(mock.calls(TICKERS)) == 6 * 3


def test_a_set_price_changes_the_next_read_rest_and_rpc(
    mock: MockServer, socket: RpcSocket
) -> None:
    before, before_rpc = one(mock), rpc_book(socket)
    best_bid = float(json.loads(before)["data"]["bids"][0][0])
    mock.market.set_price(BTC, str(round(best_bid * 2)))
    after, after_rpc = one(mock), rpc_book(socket)
    assert after != before and after_rpc != before_rpc
    assert json.loads(after)["data"] == after_rpc
    assert abs(float(after_rpc["bids"][0][0]) / (best_bid * 2) - 1) < 0.01
    # The tickers follow too, at the same clock.
    [ticker] = [t for t in socket.rpc("query.ticker.list", {}) if t["instrumentId"] == BTC]
    assert float(ticker["lastPrice"]) > best_bid * 1.9


def test_reset_and_scenario_load_drop_kept_answers(mock: MockServer, socket: RpcSocket) -> None:
    pristine, pristine_rpc = one(mock), rpc_book(socket)
    mock.market.set_price(BTC, "1000")
    assert one(mock) != pristine and rpc_book(socket) != pristine_rpc
    mock.reset()  # ends WebSocket connections: a new socket after it
    again = RpcSocket(mock)
    try:
        assert one(mock) == pristine and rpc_book(again) == pristine_rpc
        mock.market.set_price(BTC, "1000")
        assert one(mock) != pristine and rpc_book(again) != pristine_rpc
    finally:
        again.close()
    mock.load("default")
    after_load = RpcSocket(mock)
    try:
        assert one(mock) == pristine and rpc_book(after_load) == pristine_rpc
    finally:
        after_load.close()


def test_a_namespace_keeps_its_own_answers(mock: MockServer) -> None:
    admin = mock.url_for("/__admin")
    assert requests.post(f"{admin}/namespaces?namespace=team-a&name=default", timeout=10).ok
    try:
        own = one(mock)
        assert one(mock, prefix="/__ns/team-a") == own  # the same scenario and clock
        price = {"instrumentId": BTC, "price": "1000"}
        r = requests.post(f"{admin}/namespaces/team-a/market/price", json=price, timeout=10)
        assert r.status_code == 200, r.text
        theirs = one(mock, prefix="/__ns/team-a")
        assert theirs != own and one(mock) == own
        mock.market.set_price(BTC, "2000")
        mine = one(mock)
        assert mine not in (own, theirs) and one(mock, prefix="/__ns/team-a") == theirs
    finally:
        requests.delete(f"{admin}/namespaces/team-a", timeout=10)


def test_a_kept_answer_is_never_given_to_a_caller_it_would_refuse(mock: MockServer) -> None:
    [kept, *again] = reads(mock, BOOK, times=12)
    assert all(a == kept for a in again) and fast_answers(mock) >= 1
    with requests.Session() as session:
        for headers in ({}, {"Authorization": "Bearer nobody"}, {"Authorization": TOKEN}):
            for _ in range(2):
                r = session.get(mock.url_for(BOOK), params={"instrumentId": BTC}, headers=headers)
                assert r.status_code == 401 and r.content != kept
                assert r.json()["success"] is False
    # An unknown instrument is an error every time, never kept.
    with requests.Session() as session:
        for _ in range(3):
            r = session.get(mock.url_for(BOOK), params={"instrumentId": "X:Y/Z"}, headers=AUTH)
            assert r.status_code == 404 and "Instrument not found" in r.text


def _raw_get(mock: MockServer, target: bytes) -> bytes:
    """One request on a fresh connection, as sent; its answer's status line and body."""
    request = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
    with socket_module.create_connection(("127.0.0.1", mock.port), timeout=10) as sock:
        sock.sendall(request + TOKEN.encode() + b"\r\n\r\n")
        return read_answer(sock)


# Targets a client may send for a market read: escaped or not, odd or wrong.
_GET = b"/api/v3/market/orderBook/get?instrumentId="
_TARGETS = {
    "plain": _GET + b"BINANCE:BTC/USDT",
    "escaped": _GET + b"BINANCE%3ABTC%2FUSDT",
    "lower-case escapes": _GET + b"BINANCE%3aBTC%2fUSDT",
    "escaped ampersand": _GET + b"BINANCE%3ABTC%2FUSDT%26depth=2",
    "plus": _GET + b"BINANCE:BTC/USDT&depth=+2",
    "unknown instrument": _GET + b"BINANCE%3ABTC%2FUSDC",
    "bad escape": _GET + b"BINANCE%3ZBTC",
    "escaped path": b"/api/v3/market/ticker%2Flist",
    "ticker list page": b"/api/v3/market/ticker/list?limit=2&cursor=1",
}


@pytest.mark.parametrize("name", sorted(_TARGETS))
def test_both_paths_answer_and_journal_every_target_alike(mock: MockServer, name: str) -> None:
    target = _TARGETS[name]
    with MockServer(scenario="default", fast_path=False) as ordinary:
        expected = _raw_get(ordinary, target)
        journaled = [(e.path, e.query, e.status) for e in ordinary.requests]
        assert fast_answers(ordinary) == 0
    got = [_raw_get(mock, target) for _ in range(6)]  # the first keeps it, if anything
    assert all(g == expected for g in got), name
    assert [(e.path, e.query, e.status) for e in mock.requests] == journaled * 6


def test_an_escaped_query_reaches_the_fast_path(mock: MockServer) -> None:
    """The comparison above means something: an escaped read is answered from what the
    market keeps (on a fresh connection the fast path mostly looks first)."""
    first = _raw_get(mock, _TARGETS["escaped"])
    assert first.startswith(b"HTTP/1.1 200")
    for _ in range(50):
        assert _raw_get(mock, _TARGETS["escaped"]) == first
        if fast_answers(mock):
            break
    assert fast_answers(mock) >= 1

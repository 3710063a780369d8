"""The `market:*` channels over real sockets, on a frozen clock moved by the admin API:
what each publishes on subscribe and for a clock move, in order, in the REST shapes (each
compared with its REST read at the same clock), and the subscribe errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from centrifuge import Client, PublicationContext, SubscriptionEventHandler
from jsonschema import Draft202012Validator
from support import Served, run_cli, write
from ws_contract import ALICE, SCENARIO, Socket, centrifuge, journal_of, open_socket

from cadenza_mock import MockServer
from cadenza_mock.contract.options import ServerOptions
from cadenza_mock.http.ws_market import MARKET_CHANNELS

MARKET = "/api/v3/market"
BOOKS = f"{MARKET}/subscription/orderBook"
BTC, ETH = "BINANCE:BTC/USDT", "OKX:ETH/USDT"
DEPTH = 20  # a channel's book depth (engine.market_feed.CHANNEL_DEPTH)


@pytest.fixture
async def mock(make_client: Any) -> Any:
    return await make_client(SCENARIO)


async def rest(mock: Any, path: str, **params: Any) -> Any:
    r = await mock.get(f"{MARKET}/{path}", params=params, headers=ALICE)
    assert r.status == 200, await r.text()
    return (await r.json())["data"]


async def advance(mock: Any, seconds: int) -> None:
    r = await mock.post("/__admin/clock", json={"advance": seconds})
    assert r.status == 200, await r.text()


async def subscribe(socket: Socket, channel: str) -> None:
    reply = await socket.call({"subscribe": {"channel": channel}})
    assert reply["subscribe"] == {}, reply


_LINES: dict[int, list[dict[str, Any]]] = {}  # a socket's pushes read but not taken


async def push(socket: Socket) -> dict[str, Any]:
    """The next push: one catch-up's pushes come in one frame, newline-separated (the
    Centrifugo JSON protocol's batching)."""
    pending = _LINES.setdefault(id(socket), [])
    if not pending:
        message = await asyncio.wait_for(socket.ws.receive(), 5)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        pending += [json.loads(line) for line in message.data.split("\n")]
    found = pending.pop(0)
    assert "push" in found, found
    return found


async def pushes(socket: Socket, channel: str, count: int) -> list[dict[str, Any]]:
    found = []
    for _ in range(count):
        frame = await push(socket)
        assert frame["push"]["channel"] == channel, frame
        found.append(frame["push"]["pub"]["data"])
    return found


async def quiet(socket: Socket) -> None:
    """Nothing more was published: the next frame is the reply to a command sent now."""
    assert not _LINES.get(id(socket)), _LINES[id(socket)]
    reply = await socket.rpc("query.system.check", {})
    assert "rpc" in reply, reply


def applied(book: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    """A DIFF applied as the document says: per level, quantity 0 removes, else upserts."""
    assert diff["updateType"] == "DIFF" and diff["columns"] == book["columns"]
    out = dict(book, timestamp=diff["timestamp"])
    for side, best_first in (("bids", True), ("asks", False)):
        levels = {row[0]: row for row in book[side]}
        for row in diff[side]:
            if Decimal(row[1]) == 0:
                assert levels.pop(row[0], None) is not None, f"removed a level not there: {row}"
            else:
                levels[row[0]] = row
        out[side] = sorted(levels.values(), key=lambda r: Decimal(r[0]), reverse=best_first)
    return out


async def test_an_order_book_channel_is_fed_by_its_subscription(mock: Any) -> None:
    channel = f"market:orderbook:{BTC}"
    socket = await open_socket(mock)
    await subscribe(socket, channel)
    await advance(mock, 30)
    await quiet(socket)  # not fed: nothing, and the journal says why
    (entry,) = await journal_of(mock, "SUBSCRIBE")
    assert entry["path"] == channel and "order book subscription" in entry["hints"][0]
    r = await mock.post(f"{BOOKS}/subscribe", json={"instrumentId": BTC}, headers=ALICE)
    made = (await r.json())["data"]
    (snapshot,) = await pushes(socket, channel, 1)
    assert snapshot == (await rest(mock, "orderBook/get", instrumentId=BTC, depth=DEPTH))
    book = snapshot
    for seconds in (1, 45, 3600):
        await advance(mock, seconds)
        (diff,) = await pushes(socket, channel, 1)
        book = applied(book, diff)
        assert book == await rest(mock, "orderBook/get", instrumentId=BTC, depth=DEPTH)
        # Only the levels that changed: never the whole book again.
        assert len(diff["bids"]) + len(diff["asks"]) <= 4 * DEPTH
    assert any(row[1] == "0" for row in diff["bids"] + diff["asks"]), "an hour moved no level"
    await advance(mock, 0)  # no move: nothing
    await quiet(socket)
    body = {"subscriptionId": made["subscriptionId"]}
    assert (await mock.post(f"{BOOKS}/unsubscribe", json=body, headers=ALICE)).status == 200
    await advance(mock, 60)
    await quiet(socket)  # ended: the channel carries nothing


async def test_a_counted_book_and_a_second_subscriber_get_the_same_stream(mock: Any) -> None:
    channel = f"market:orderbook:{ETH}"
    first = await open_socket(mock)
    await subscribe(first, channel)
    await first.rpc("command.market.subscription.orderbook.subscribe", {"instrumentIds": [ETH]})
    (snapshot,) = await pushes(first, channel, 1)
    assert snapshot["orderBookType"] == "L2_COUNTED" and len(snapshot["bids"][0]) == 3
    await advance(mock, 90)
    (diff,) = await pushes(first, channel, 1)
    assert all(len(row) == 3 for row in diff["bids"] + diff["asks"])
    removed = [row for row in diff["bids"] + diff["asks"] if row[1] == "0"]
    assert all(row[2] == "0" for row in removed)
    # A later subscriber: the SNAPSHOT of the book the first one has now.
    second = await open_socket(mock)
    await subscribe(second, channel)
    (late,) = await pushes(second, channel, 1)
    assert late == dict(applied(snapshot, diff), updateType="SNAPSHOT")
    await advance(mock, 5)
    assert await pushes(first, channel, 1) == await pushes(second, channel, 1)


async def test_kline_bars_close_in_order_then_the_live_one(mock: Any) -> None:
    channel = f"market:kline:{BTC}:1m"
    socket = await open_socket(mock)
    await subscribe(socket, channel)
    (live,) = await pushes(socket, channel, 1)
    start = live["candles"][0][0]
    assert live["isClosed"] is False and live == await rest(
        mock, "kline/get", instrumentId=BTC, interval="1m", limit=1
    )
    await advance(mock, 150)  # two bars close, the third is live
    first, second, now = await pushes(socket, channel, 3)
    history = await rest(mock, "kline/get", instrumentId=BTC, interval="1m", **{"from": start})
    closed = history["candles"]
    assert [first["candles"], second["candles"]] == [closed[:1], closed[1:2]]
    assert (first["isClosed"], second["isClosed"], now["isClosed"]) == (True, True, False)
    assert now["candles"] == history["candles"][2:] and now["timestamp"] == start + 150_000
    await advance(mock, 10)  # within the live bar: the live bar only
    (moved,) = await pushes(socket, channel, 1)
    assert moved["isClosed"] is False and moved["candles"][0][0] == start + 120_000
    # A day in one move: the last 100 closed bars (the bound), then the live one.
    await advance(mock, 86_400)
    bars = await pushes(socket, channel, 101)
    opens = [bar["candles"][0][0] for bar in bars]
    assert [bar["isClosed"] for bar in bars] == [True] * 100 + [False]
    assert opens == [opens[-1] - (100 - i) * 60_000 for i in range(101)]
    await quiet(socket)


async def test_tickers_per_instrument_and_per_venue(mock: Any) -> None:
    one, venue = f"market:ticker:{BTC}", "market:ticker:OKX"
    socket = await open_socket(mock)
    await subscribe(socket, one)
    assert await pushes(socket, one, 1) == [await rest(mock, "ticker/get", instrumentId=BTC)]
    await subscribe(socket, venue)
    okx = [
        await rest(mock, "ticker/get", instrumentId=f"OKX:{s}")
        for s in ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    ]
    assert await pushes(socket, venue, 3) == okx
    await advance(mock, 7)
    assert await pushes(socket, one, 1) == [await rest(mock, "ticker/get", instrumentId=BTC)]
    moved = await pushes(socket, venue, 3)
    assert [t["instrumentId"] for t in moved] == [t["instrumentId"] for t in okx]
    assert {t["timestamp"] for t in moved} == {okx[0]["timestamp"] + 7000}


async def test_trades_follow_the_walk_deterministically(make_client: Any) -> None:
    channel = f"market:trade:{BTC}"
    runs = []
    for _ in range(2):  # two servers, the same seed and moves: the same trades
        mock = await make_client(SCENARIO)
        socket = await open_socket(mock)
        await subscribe(socket, channel)
        await advance(mock, 5)
        runs.append(await pushes(socket, channel, 5))
        await advance(mock, 500)  # the bound: the last 100 seconds' trades
        later = await pushes(socket, channel, 100)
        await quiet(socket)
        assert later[0]["timestamp"] == later[-1]["timestamp"] - 99_000
    trades = runs[0]
    assert runs[0] == runs[1]
    start = trades[0]["timestamp"]
    assert [t["timestamp"] for t in trades] == [start + i * 1000 for i in range(5)]
    pip = Decimal("0.01")
    for before, trade in pairwise(trades):
        assert Decimal(trade["price"]) % pip == 0 and Decimal(trade["quantity"]) > 0
        up = Decimal(trade["price"]) >= Decimal(before["price"])
        assert trade["side"] == ("BUY" if up else "SELL")


async def test_unknown_channels_are_refused_and_the_connection_stays(mock: Any) -> None:
    socket = await open_socket(mock)
    cases = [
        ("market:orderbook:BINANCE:DOGE/USDT", "instrument 'BINANCE:DOGE/USDT' not found"),
        ("market:ticker:NOWHERE", "venue 'NOWHERE' has no instruments"),
        (f"market:kline:{BTC}:2m", "interval '2m' is not one of"),
        (f"market:kline:{BTC}", "interval"),
        (f"market:candles:{BTC}", f"'market:candles:{BTC}' is not a market channel"),
        ("market:trade:", "'market:trade:' is not a market channel"),
    ]
    for channel, why in cases:
        reply = await socket.call({"subscribe": {"channel": channel}})
        assert reply["error"]["code"] == 102, reply
        assert reply["error"]["message"].startswith(f"unknown channel: {why}"), reply
    await subscribe(socket, f"market:ticker:{BTC}")
    await pushes(socket, f"market:ticker:{BTC}", 1)
    again = await socket.call({"subscribe": {"channel": f"market:ticker:{BTC}"}})
    assert again["error"]["code"] == 105  # already subscribed
    entries = await journal_of(mock, "SUBSCRIBE")
    assert [e["status"] for e in entries] == [404] * len(cases) + [200, 409]


async def test_centrifuge_python_receives_book_and_ticker(mock: Any) -> None:
    received: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def handler(channel: str) -> SubscriptionEventHandler:
        class Handler(SubscriptionEventHandler):
            async def on_publication(self, ctx: PublicationContext) -> None:
                await received.put((channel, ctx.pub.data))

        return Handler()

    r = await mock.post(f"{BOOKS}/subscribe", json={"instrumentId": BTC}, headers=ALICE)
    assert r.status == 200
    client: Client = await centrifuge(mock)
    try:
        for channel in (f"market:orderbook:{BTC}", f"market:ticker:{BTC}"):
            sub = client.new_subscription(channel, events=handler(channel))
            await sub.subscribe()
            await sub.ready(timeout=5)
        first = [await asyncio.wait_for(received.get(), 5) for _ in range(2)]
        assert [(c, d.get("updateType")) for c, d in first] == [
            (f"market:orderbook:{BTC}", "SNAPSHOT"),
            (f"market:ticker:{BTC}", None),
        ]
        await advance(mock, 60)
        moved = [await asyncio.wait_for(received.get(), 5) for _ in range(2)]
        assert moved[0][1]["updateType"] == "DIFF"
        assert moved[1][1] == await rest(mock, "ticker/get", instrumentId=BTC)
    finally:
        await client.disconnect()


async def test_the_timer_runs_only_while_a_channel_has_a_subscriber(make_client: Any) -> None:
    running = {k: v for k, v in SCENARIO.items() if k != "now"}  # a running clock
    mock = await make_client(running, market_interval=0.05)
    channels = mock.server.app[MARKET_CHANNELS]
    assert channels.task is None  # idle: no timer
    socket = await open_socket(mock)
    channel = f"market:ticker:{BTC}"
    await subscribe(socket, channel)
    assert channels.task is not None
    ticks = await pushes(socket, channel, 3)  # the first, then two from the timer
    stamps = [t["timestamp"] for t in ticks]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]
    reply = await socket.call({"unsubscribe": {"channel": channel}})
    assert reply["unsubscribe"] == {}
    for _ in range(250):  # its next tick sees nobody listening (5 s at most, a busy machine)
        if channels.task is None:
            break
        await asyncio.sleep(0.02)
    assert channels.task is None, "the timer outlived the last subscriber"


async def test_a_reset_ends_the_channels(mock: Any) -> None:
    socket = await open_socket(mock)
    await subscribe(socket, f"market:ticker:{BTC}")
    await pushes(socket, f"market:ticker:{BTC}", 1)
    assert (await mock.post("/__admin/reset")).status == 200
    assert await socket.closed_with() == 3001


async def test_the_asyncapi_document_lists_the_channels_and_their_payloads(mock: Any) -> None:
    doc = await (await mock.get("/api/v3/asyncapi.json")).json()
    addresses = {c["address"]: c for c in doc["channels"].values()}
    expected = {
        "market:orderbook:{venue}:{symbol}": "OrderBook",
        "market:ticker:{venue}:{symbol}": "Ticker",
        "market:ticker:{venue}": "Ticker",
        "market:kline:{venue}:{symbol}:{interval}": "Kline",
        "market:trade:{venue}:{symbol}": "MarketTrade",
    }
    for address, component in expected.items():
        (message,) = addresses[address]["messages"].values()
        assert message["payload"] == {"$ref": f"#/components/schemas/{component}"}

    def check(component: str, data: Any) -> None:
        schema = {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
        errors = list(Draft202012Validator(schema).iter_errors(data))
        assert not errors, (component, errors[0].message, data)

    await mock.post(f"{BOOKS}/subscribe", json={"instrumentId": ETH}, headers=ALICE)
    socket = await open_socket(mock)
    names = {  # channel: (payload, publications on subscribe)
        f"market:orderbook:{ETH}": ("OrderBook", 1),
        f"market:ticker:{ETH}": ("Ticker", 1),
        "market:ticker:OKX": ("Ticker", 3),
        f"market:kline:{ETH}:1h": ("Kline", 1),
        f"market:trade:{ETH}": ("MarketTrade", 0),
    }
    for channel, (component, first) in names.items():
        await subscribe(socket, channel)
        for data in await pushes(socket, channel, first):
            check(component, data)
    await advance(mock, 3601)
    seen: set[str] = set()
    while len(seen) < len(names):
        found = (await push(socket))["push"]
        check(names[found["channel"]][0], found["pub"]["data"])
        seen.add(found["channel"])


RUNNING = """\
seed: 24
users:
  - email: alice@example.com
    tokens: [alice-token]
"""


def test_serve_takes_the_interval_from_its_variable(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    """A running clock's ticker every 0.05 s (CADENZA_MOCK_MARKET_INTERVAL): the default
    (1.0 s) would put a second between any two of them."""
    scenario = write(tmp_path / "running.yaml", RUNNING)
    served = serve("--scenario", str(scenario), "--quiet",
                   env={"CADENZA_MOCK_MARKET_INTERVAL": "0.05"})  # fmt: skip
    url, _ = served.banner()

    async def stamps() -> list[int]:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(url + "/connection/websocket")
            socket = Socket(ws)
            await socket.send({"id": 1, "connect": {"token": "alice-token"}})
            assert "connect" in await socket.frame()
            await subscribe(socket, f"market:ticker:{BTC}")
            found = [t["timestamp"] for t in await pushes(socket, f"market:ticker:{BTC}", 6)]
            await ws.close()
            return found

    found = asyncio.run(stamps())
    gaps = [b - a for a, b in pairwise(found)]
    assert all(gap > 0 for gap in gaps) and min(gaps) < 900, gaps
    assert served.stop()[0] == 0


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--market-interval", "0"], {}, "argument --market-interval: '0': must be more than 0"),
        ([], {"CADENZA_MOCK_MARKET_INTERVAL": "often"}, "MARKET_INTERVAL='often'"),
        (["--market-interval", "7200"], {}, "at most 3600 seconds"),
    ],
)
def test_a_bad_market_interval_stops_the_start(
    args: list[str], env: dict[str, str], said: str
) -> None:
    result = run_cli("serve", "--port", "0", *args, env=env)
    assert result.returncode == 2 and said in result.stderr, result.stderr


def test_the_interval_defaults_to_a_second_and_is_checked() -> None:
    assert ServerOptions().market_interval == 1.0
    with pytest.raises(ValueError, match="market_interval: must be more than 0"):
        MockServer(market_interval=0)


async def test_a_snapshot_taken_while_channels_publish_restores(mock: Any) -> None:
    """The clock and the subscriptions hold the channels' wake-up as a plain function: a
    snapshot copies them without copying the server, and a restore closes the channels
    as a reset does; the restored clock moves the new subscribers' channels."""
    await mock.post(f"{BOOKS}/subscribe", json={"instrumentId": BTC}, headers=ALICE)
    socket = await open_socket(mock)
    await subscribe(socket, f"market:orderbook:{BTC}")
    (snapshot,) = await pushes(socket, f"market:orderbook:{BTC}", 1)
    r = await mock.post("/__admin/snapshots")
    assert r.status == 200, await r.text()
    taken = (await r.json())["data"]["id"]
    await advance(mock, 60)
    await pushes(socket, f"market:orderbook:{BTC}", 1)
    assert (await mock.post(f"/__admin/snapshots/{taken}/restore")).status == 200
    assert await socket.closed_with() == 3001
    again = await open_socket(mock)
    await subscribe(again, f"market:orderbook:{BTC}")  # the restored subscription feeds it
    assert await pushes(again, f"market:orderbook:{BTC}", 1) == [snapshot]
    await advance(mock, 60)
    (diff,) = await pushes(again, f"market:orderbook:{BTC}", 1)
    assert diff["timestamp"] == snapshot["timestamp"] + 60_000


async def test_a_namespace_has_channels_and_a_clock_of_its_own(mock: Any) -> None:
    r = await mock.post("/__admin/namespaces", params={"namespace": "mkt"})
    assert r.status == 200, await r.text()
    channel = f"market:ticker:{BTC}"
    inside = await open_socket(mock, "mkt.alice-token")  # the token selects the namespace
    outside = await open_socket(mock)
    for socket in (inside, outside):
        await subscribe(socket, channel)
    first = (await pushes(inside, channel, 1))[0]
    assert await pushes(outside, channel, 1) == [first]  # the same seed, the same clock
    r = await mock.post("/__admin/namespaces/mkt/clock", json={"advance": 30})
    assert r.status == 200, await r.text()
    (moved,) = await pushes(inside, channel, 1)
    assert moved["timestamp"] == first["timestamp"] + 30_000
    await quiet(outside)  # the server's own clock did not move


async def test_a_venue_without_data_publishes_nothing_until_it_is_back(mock: Any) -> None:
    one = f"market:ticker:{BTC}"
    socket = await open_socket(mock)
    await subscribe(socket, one)
    await pushes(socket, one, 1)
    for data in ("unavailable", "stale"):
        r = await mock.post("/__admin/market/venue", json={"venue": "BINANCE", "data": data})
        assert r.status == 200, await r.text()
        await advance(mock, 30)
        await quiet(socket)  # nothing moved the REST reads would not show either
    r = await mock.post("/__admin/market/venue", json={"venue": "BINANCE", "data": "live"})
    assert r.status == 200, await r.text()
    await advance(mock, 5)
    assert await pushes(socket, one, 1) == [await rest(mock, "ticker/get", instrumentId=BTC)]

"""The market model (engine/market.py, market_walk.py), property-tested without a server:
books never crossed and on the tick and lot grids, candles consistent with the walk and
with each other, the same seed and clock moves giving the same bytes in any interpreter."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cadenza_mock.contract import market_wire, query_params
from cadenza_mock.contract.market_catalogue import (
    MARKET_VENUES,
    InstrumentSpec,
    default_catalogue,
    generated,
)
from cadenza_mock.contract.wire import dumps
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.market import KLINE_INTERVALS, Market, bucket_start, next_start

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)

seeds = st.integers(min_value=0, max_value=2**32)
moves = st.lists(st.integers(min_value=0, max_value=3 * 86400), min_size=1, max_size=4)


@st.composite
def instruments(draw: st.DrawFn) -> InstrumentSpec:
    venue = draw(st.sampled_from(MARKET_VENUES))
    seed = draw(seeds)
    spec = generated(venue, draw(st.integers(1, 25)), seed)[-1]
    vol = draw(st.sampled_from(["0", "0.001", "0.02", "0.5"]))
    spread = draw(st.sampled_from(["0", "0.0001", "0.01", "0.2"]))
    depth = draw(st.integers(1, 60))
    return InstrumentSpec(
        venue=spec.venue,
        base=spec.base,
        quote=spec.quote,
        pip_size=spec.pip_size,
        lot_size=spec.lot_size,
        price=spec.price,
        volatility=Decimal(vol),
        spread=Decimal(spread),
        depth=depth,
    )


def market(seed: int, spec: InstrumentSpec) -> tuple[Market, Clock]:
    clock = Clock(NOW)
    return Market(seed, clock, [spec], ()), clock


def on_grid(text: str, step: Decimal) -> bool:
    value = Decimal(text)
    return value > 0 and value % step == 0


@PROPERTY
@given(instruments(), seeds, moves, st.integers(1, 1000))
def test_a_book_is_never_crossed_and_sits_on_the_tick_and_lot_grids(
    spec: InstrumentSpec, seed: int, steps: list[int], depth: int
) -> None:
    mock, clock = market(seed, spec)
    for seconds in steps:
        clock.advance(seconds)
        book = market_wire.order_book(mock.book(spec, depth))
        bids = [Decimal(row[0]) for row in book["bids"]]
        asks = [Decimal(row[0]) for row in book["asks"]]
        assert asks and len(asks) == min(depth, spec.depth)
        assert 0 < len(bids) <= min(depth, spec.depth)
        assert bids[0] < asks[0]
        assert bids == sorted(bids, reverse=True) and len(set(bids)) == len(bids)
        assert asks == sorted(asks) and len(set(asks)) == len(asks)
        for row in book["bids"] + book["asks"]:
            assert len(row) == len(book["columns"])
            assert on_grid(row[0], spec.pip_size), row
            assert on_grid(row[1], spec.lot_size), row
        ticker = market_wire.ticker(mock.ticker(spec))
        assert Decimal(ticker["bidPrice"]) <= Decimal(ticker["lastPrice"])
        assert Decimal(ticker["lastPrice"]) <= Decimal(ticker["askPrice"])
        assert ticker["bidPrice"] == book["bids"][0][0]
        assert ticker["askPrice"] == book["asks"][0][0]
        assert on_grid(ticker["lastQuantity"], spec.lot_size)


@PROPERTY
@given(instruments(), seeds, moves, st.sampled_from(KLINE_INTERVALS), st.integers(1, 30))
def test_candles_hold_their_open_and_close_and_follow_each_other(
    spec: InstrumentSpec, seed: int, steps: list[int], interval: str, limit: int
) -> None:
    mock, clock = market(seed, spec)
    for seconds in steps:
        clock.advance(seconds)
    answer = market_wire.kline(mock.candles(spec, interval, None, None, limit))
    rows = answer["candles"]
    assert 1 <= len(rows) <= limit
    assert rows[-1][0] <= clock.now_ms() < next_start(rows[-1][0], interval)
    assert answer["isClosed"] is False  # the last one is the live bar
    for row in rows:
        opened, o, h, lo, c, volume = row[0], *map(Decimal, row[1:])
        assert bucket_start(opened, interval) == opened
        closes = next_start(opened, interval)  # the next bar's open: after this bar's
        assert closes > opened and bucket_start(closes - 1, interval) == opened
        assert bucket_start(closes, interval) == closes
        assert h >= max(o, c) and min(o, c) >= lo > 0
        assert all(on_grid(str(v), spec.pip_size) for v in (o, h, lo, c))
        assert volume >= 0 and volume % spec.lot_size == 0
    for before, after in itertools.pairwise(rows):
        assert after[0] == next_start(before[0], interval)
        assert after[1] == before[4]  # a bar opens where the one before closed


@PROPERTY
@given(instruments(), seeds, st.integers(1, 40), st.integers(0, 3600))
def test_an_hour_bar_aggregates_its_minute_bars(
    spec: InstrumentSpec, seed: int, hours: int, extra: int
) -> None:
    mock, clock = market(seed, spec)
    clock.advance(hours * 3600 + extra)
    hour = market_wire.kline(mock.candles(spec, "1h", None, None, 3))["candles"][0]
    minutes = market_wire.kline(mock.candles(spec, "1m", hour[0], hour[0] + 3599_999, 60))
    bars = minutes["candles"]
    assert len(bars) == 60 and minutes["isClosed"] is True
    assert hour[1] == bars[0][1] and hour[4] == bars[-1][4]
    assert Decimal(hour[2]) == max(Decimal(b[2]) for b in bars)
    assert Decimal(hour[3]) == min(Decimal(b[3]) for b in bars)
    assert Decimal(hour[5]) == sum(Decimal(b[5]) for b in bars)


def test_a_market_sees_only_what_the_clock_shows() -> None:
    """Candles stop at the clock, and moving it makes the hour's bars, in order."""
    spec = default_catalogue(["BINANCE"])[0]
    mock, clock = market(3, spec)
    first = mock.candles(spec, "1m", None, None, 1000)
    assert [row[0] for row in first.rows][-1] == NOW and not first.closed
    clock.advance(3600)
    later = mock.candles(spec, "1m", NOW, None, 1000)
    assert [row[0] for row in later.rows] == [NOW + i * 60_000 for i in range(61)]
    assert later.rows[-1][0] == clock.now_ms()
    # History ends at the listing: a read from the epoch starts there, not in 1970.
    old = mock.candles(spec, "1d", 0, None, 1000)
    assert len(old.rows) == 91 and old.rows[0][0] == NOW - 90 * 86_400_000


_SCRIPT = """
from cadenza_mock.contract import market_wire, query_params
from cadenza_mock.contract.market_catalogue import default_catalogue, generated
from cadenza_mock.contract.wire import dumps
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.market import Market
clock = Clock(1767225600000)
specs = [*default_catalogue(["OKX"])[:2], *generated("KRAKEN", 5, 11)[3:]]
m = Market(11, clock, specs, ())
out = []
for seconds in (0, 59, 3600, 86400 * 3 + 7):
    clock.advance(seconds)
    for spec in specs:
        out.append(dumps(market_wire.order_book(m.book(spec, 50))))
        out.append(dumps(market_wire.ticker(m.ticker(spec))))
        for interval in ("1s", "1m", "1h", "1d"):
            out.append(dumps(market_wire.kline(m.candles(spec, interval, None, None, 30))))
import hashlib, sys
sys.stdout.write(hashlib.sha256(b"".join(out)).hexdigest())
"""


def test_the_same_seed_and_clock_moves_give_the_same_bytes_in_any_interpreter() -> None:
    """Fresh interpreters with different hash seeds agree byte for byte: nothing depends
    on hash order, floats or the process."""
    digests = set()
    for hash_seed in ("0", "random"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run(
            [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        digests.add(run.stdout)
    assert len(digests) == 1


def test_reading_in_another_order_or_twice_changes_nothing() -> None:
    specs = default_catalogue(["BINANCE"])
    one = Market(5, Clock(NOW), specs, ())
    two = Market(5, Clock(NOW), specs, ())
    for m in (one, two):
        m.clock.advance(7200)
    spec = specs[0]
    forward = dumps(market_wire.kline(one.candles(spec, "5m", None, None, 24)))
    two.candles(spec, "1d", None, None, 5)  # other reads first fill other caches
    two.book(spec, 5)
    assert dumps(market_wire.kline(two.candles(spec, "5m", None, None, 24))) == forward
    assert forward == dumps(market_wire.kline(one.candles(spec, "5m", None, None, 24)))


def test_the_model_knows_the_intervals_the_rows_declare() -> None:
    assert KLINE_INTERVALS == query_params.KLINE_INTERVALS


def test_generated_instruments_have_distinct_realistic_symbols() -> None:
    specs = generated("BINANCE", 40, 9)
    assert len({s.symbol for s in specs}) == 40
    assert {s.quote for s in specs} == {"USDT"}
    assert specs[0].external_symbol == specs[0].base + "USDT"
    for spec in specs:
        assert spec.price > 0 and spec.price % spec.pip_size == 0
        assert spec.lot_size * spec.price < 10  # a lot is worth little of the quote


@PROPERTY
@given(
    instruments(),
    seeds,
    st.lists(
        st.tuples(st.integers(0, 4 * 3600), st.sampled_from(["0.5", "1", "1.5", "3"])),
        min_size=1,
        max_size=4,
    ),
)
def test_a_set_price_holds_now_and_the_candles_stay_consistent(
    spec: InstrumentSpec, seed: int, moves: list[tuple[int, str]]
) -> None:
    mock, clock = market(seed, spec)
    for seconds, factor in moves:
        clock.advance(seconds)
        wanted = (spec.price * Decimal(factor)).quantize(spec.pip_size)
        mock.set_price(spec, wanted)
        assert Decimal(market_wire.ticker(mock.ticker(spec))["lastPrice"]) == wanted
    clock.advance(1)
    hours = market_wire.kline(mock.candles(spec, "1h", None, None, 6))["candles"]
    for hour in hours:
        bars = market_wire.kline(mock.candles(spec, "1m", hour[0], hour[0] + 3599_999, 60))
        candles = bars["candles"]
        assert hour[1] == candles[0][1] and hour[4] == candles[-1][4]
        assert Decimal(hour[2]) == max(Decimal(b[2]) for b in candles)
        assert Decimal(hour[3]) == min(Decimal(b[3]) for b in candles)
        for _, o, h, lo, c, _ in candles:
            assert Decimal(h) >= max(Decimal(o), Decimal(c)) >= min(Decimal(o), Decimal(c))
            assert min(Decimal(o), Decimal(c)) >= Decimal(lo) > 0
    seconds_bars = market_wire.kline(mock.candles(spec, "1s", None, None, 120))["candles"]
    minute = market_wire.kline(mock.candles(spec, "1m", None, None, 2))["candles"]
    inside = [b for b in seconds_bars if b[0] >= minute[-2][0] and b[0] < minute[-1][0]]
    if len(inside) == 60:
        assert Decimal(minute[-2][2]) == max(Decimal(b[2]) for b in inside)
        assert Decimal(minute[-2][3]) == min(Decimal(b[3]) for b in inside)
    mock.reset()
    assert mock.walk(spec).shifts == []

"""The market controls, property-tested without a server (engine/market_control.py): a
book set outright is never crossed and sits on the grids, or is refused and changes
nothing; through any run of halts, resumes, prices, gaps, books and clock moves, books stay
uncrossed and on the grids, a halted instrument's book and ticker stay frozen, and candles
stay consistent with each other (an hour aggregates its minutes, halted spans included)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_market_model import NOW, instruments, on_grid, seeds

from cadenza_mock.contract import market_wire
from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.market import Market
from cadenza_mock.engine.market_control import apply

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


def market(seed: int, spec: InstrumentSpec) -> tuple[Market, Clock]:
    clock = Clock(NOW)
    return Market(seed, clock, [spec], ()), clock


def check_book(mock: Market, spec: InstrumentSpec) -> dict[str, Any]:
    book = market_wire.order_book(mock.book(spec, 1000))
    bids = [Decimal(row[0]) for row in book["bids"]]
    asks = [Decimal(row[0]) for row in book["asks"]]
    assert bids and asks and bids[0] < asks[0], book
    assert bids == sorted(set(bids), reverse=True) and asks == sorted(set(asks))
    for row in book["bids"] + book["asks"]:
        assert on_grid(row[0], spec.pip_size) and on_grid(row[1], spec.lot_size), row
    ticker = market_wire.ticker(mock.ticker(spec))
    assert (
        Decimal(ticker["bidPrice"]) <= Decimal(ticker["lastPrice"]) <= Decimal(ticker["askPrice"])
    )
    return {"book": (book["bids"], book["asks"]), "ticker": {**ticker, "timestamp": 0}}


# A level as a test might send it: a price a few ticks around 1,000 ticks (sometimes off
# the grid), a quantity of a few lots (sometimes off it, or none).
@st.composite
def levels(draw: st.DrawFn, spec: InstrumentSpec) -> list[list[str]]:
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        ticks = Decimal(draw(st.integers(990, 1010)))
        lots = Decimal(draw(st.integers(0, 5)))
        off_price = draw(st.sampled_from([Decimal(0)] * 4 + [spec.pip_size / 2]))
        off_lot = draw(st.sampled_from([Decimal(0)] * 4 + [spec.lot_size / 3]))
        rows.append([str(ticks * spec.pip_size + off_price), str(lots * spec.lot_size + off_lot)])
    return rows


@PROPERTY
@given(st.data(), instruments(), seeds)
def test_a_set_book_is_never_crossed_and_on_the_grids_or_changes_nothing(
    data: st.DataObject, spec: InstrumentSpec, seed: int
) -> None:
    mock, clock = market(seed, spec)
    for _ in range(3):
        before = (check_book(mock, spec), mock.state())
        bids, asks = data.draw(levels(spec)), data.draw(levels(spec))
        try:
            apply(mock, "book", {"instrumentId": spec.instrument_id, "bids": bids, "asks": asks})
        except ApiError as refused:
            assert refused.status == 400 and refused.errno == -19004
            assert (check_book(mock, spec), mock.state()) == before
            continue
        answered = check_book(mock, spec)
        assert [Decimal(r[0]) for r in answered["book"][0]] == [Decimal(p) for p, _ in bids]
        assert [Decimal(r[1]) for r in answered["book"][1]] == [Decimal(q) for _, q in asks]
        clock.advance(data.draw(st.integers(0, 7200)))
        assert check_book(mock, spec)["book"] == answered["book"]  # it stays as set


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("halt")),
        st.tuples(st.just("resume")),
        st.tuples(st.just("advance"), st.integers(1, 4 * 3600)),
        st.tuples(st.just("price"), st.integers(1, 3000)),
        st.tuples(st.just("gap"), st.integers(-90, 200), st.integers(0, 3600)),
        st.tuples(st.just("book"), st.integers(2, 3000)),
    ),
    min_size=1,
    max_size=12,
)


def act(mock: Market, clock: Clock, spec: InstrumentSpec, step: tuple[Any, ...]) -> None:
    key = {"instrumentId": spec.instrument_id}
    name = step[0]
    if name == "advance":
        clock.advance(step[1])
    elif name == "price":
        apply(mock, "price", {**key, "price": str(spec.pip_size * step[1])})
    elif name == "gap":
        apply(mock, "gap", {**key, "percent": str(step[1]), "at": clock.now_ms() + step[2] * 1000})
    elif name == "book":
        bid, ask = spec.pip_size * step[1], spec.pip_size * (step[1] + 1)
        apply(mock, "book", {**key, "bids": [[str(bid), str(spec.lot_size)]],
                             "asks": [[str(ask), str(spec.lot_size)]]})  # fmt: skip
    else:
        apply(mock, name, key)


@PROPERTY
@given(instruments(), seeds, OPERATIONS)
def test_halts_freeze_and_books_and_candles_stay_consistent(
    spec: InstrumentSpec, seed: int, steps: list[tuple[Any, ...]]
) -> None:
    mock, clock = market(seed, spec)
    spans: list[list[int]] = []  # [from, until] of each halt, as the test made them
    for step in steps:
        halted = spec.instrument_id in mock.halts
        second = clock.now_ms() - clock.now_ms() % 1000
        if step[0] == "halt" and not halted:
            spans.append([second, 1 << 62])
        elif step[0] == "resume" and halted:
            spans[-1][1] = second
        before = check_book(mock, spec)
        try:
            act(mock, clock, spec, step)
        except ApiError as refused:  # a control on a halted instrument
            assert halted and refused.status == 400 and "halted" in refused.message
        after = check_book(mock, spec)
        if halted and step[0] != "resume":
            assert after == before  # frozen: the same book and ticker, whatever happened
        assert mock.status(spec) == ("INACTIVE" if spec.instrument_id in mock.halts else "ACTIVE")
    clock.advance(1)
    hour = market_wire.kline(mock.candles(spec, "1h", None, None, 1))["candles"][0]
    bars = market_wire.kline(mock.candles(spec, "1m", hour[0], None, 60))["candles"]
    assert hour[1] == bars[0][1] and hour[4] == bars[-1][4]
    assert Decimal(hour[2]) == max(Decimal(b[2]) for b in bars)
    assert Decimal(hour[3]) == min(Decimal(b[3]) for b in bars)
    assert Decimal(hour[5]) == sum(Decimal(b[5]) for b in bars)
    for before_bar, after_bar in itertools.pairwise(bars):
        assert after_bar[1] == before_bar[4]
    for bar in bars:
        if any(start <= bar[0] and bar[0] + 60_000 <= until for start, until in spans):
            assert len(set(bar[1:5])) == 1 and Decimal(bar[5]) == 0, bar  # flat, no trade
        o, h, lo, c = map(Decimal, bar[1:5])
        assert h >= max(o, c) and min(o, c) >= lo > 0
        assert all(on_grid(v, spec.pip_size) for v in bar[1:5])

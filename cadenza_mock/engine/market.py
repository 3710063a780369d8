"""The market of one store (namespace): instruments per venue, and their order books,
tickers and candles read off each instrument's seeded walk (market_walk.py) at the mock
clock's time.

Nothing here runs on its own: a read computes what it answers from (seed, instrument,
clock), so an idle server costs nothing, and the same seed and the same clock moves give
the same books, tickers and candles on every machine. Prices and quantities are whole
ticks and lots inside, Decimal at the edge (contract/market_wire.py makes the strings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cadenza_mock.contract.errors import INSTRUMENT_NOT_FOUND, VALIDATION_FAILED, invalid_argument
from cadenza_mock.contract.market_catalogue import InstrumentSpec, default_catalogue
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.market_answers import MarketAnswers
from cadenza_mock.engine.market_walk import Walk
from cadenza_mock.seeded import reseed, rng_for, seed_text

# The document's klineInterval, with each one's length (months and weeks are calendar
# ones: months from the 1st, weeks from Monday, both UTC).
_S = 1000
INTERVAL_MS: dict[str, int] = {
    "1s": _S,
    "1m": 60 * _S,
    "3m": 180 * _S,
    "5m": 300 * _S,
    "15m": 900 * _S,
    "30m": 1800 * _S,
    "1h": 3600 * _S,
    "2h": 7200 * _S,
    "4h": 14400 * _S,
    "6h": 21600 * _S,
    "8h": 28800 * _S,
    "12h": 43200 * _S,
    "1d": 86400 * _S,
    "3d": 259200 * _S,
    "1w": 604800 * _S,
    "1M": 0,  # calendar months
}
KLINE_INTERVALS = tuple(INTERVAL_MS)
_MONDAY_OFFSET_MS = 4 * 86400 * _S  # 1970-01-01 was a Thursday
# How far before the market's origin its history goes (its instruments' listing): the
# first candle is the one holding that instant. Bounds what a kline read may compute.
HISTORY_MS = 90 * 86400 * _S
# Prices set per instrument until the next reset: every read walks them, so a client that
# sets prices in a loop on a running clock must not make every read slower without end.
MAX_SET_PRICES = 1000


Levels = tuple[tuple[int, int, int], ...]  # (price ticks, lots, orders), best first


@dataclass(frozen=True, slots=True)
class Book:
    """An order book at one instant: levels of (price ticks, lots, orders), best first."""

    spec: InstrumentSpec
    bids: tuple[tuple[int, int, int], ...]
    asks: tuple[tuple[int, int, int], ...]
    timestamp: int


@dataclass(frozen=True, slots=True)
class Ticker:
    spec: InstrumentSpec
    last: int  # ticks
    last_lots: int
    bid: tuple[int, int, int]
    ask: tuple[int, int, int]
    timestamp: int


@dataclass(frozen=True, slots=True)
class Candles:
    spec: InstrumentSpec
    interval: str
    # (open time ms, open, high, low, close ticks, volume lots)
    rows: tuple[tuple[int, int, int, int, int, int], ...]
    closed: bool  # the last row is finalized
    timestamp: int


def bucket_start(ms: int, interval: str) -> int:
    """The open time of the candle of `interval` that holds `ms`."""
    if interval == "1M":
        moment = datetime.fromtimestamp(ms / 1000, UTC)
        return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp() * 1000)
    size = INTERVAL_MS[interval]
    offset = _MONDAY_OFFSET_MS if interval == "1w" else 0
    return ms - (ms - offset) % size


def next_start(start: int, interval: str) -> int:
    if interval == "1M":
        moment = datetime.fromtimestamp(start / 1000, UTC)
        year, month0 = divmod(moment.year * 12 + moment.month, 12)  # the month after
        month = month0 + 1
        return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)
    return start + INTERVAL_MS[interval]


def previous_start(start: int, interval: str) -> int:
    if interval == "1M":
        return bucket_start(start - 1, interval)
    return start - INTERVAL_MS[interval]


def parse_price(value: object) -> Decimal:
    """A price as the admin API and the handle take it: a decimal string (or number) > 0."""
    try:
        price = Decimal(str(value)) if isinstance(value, str | int | float) else None
    except InvalidOperation:
        price = None
    if isinstance(value, bool) or price is None or not price.is_finite() or price <= 0:
        raise VALIDATION_FAILED.error('price: expected a decimal > 0 such as "65000.00"')
    return price


class Market:
    """Instruments by id, each with its walk from the store's creation (`origin_ms`)."""

    def __init__(
        self,
        seed: int,
        clock: Clock,
        instruments: Iterable[InstrumentSpec] | None,
        venues: Iterable[str],
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.origin_ms = clock.now_ms()
        specs = tuple(instruments) if instruments is not None else default_catalogue(venues)
        # The scenario's instruments: a reset and `instrument/sync` bring them back.
        self.declared: dict[str, InstrumentSpec] = {s.instrument_id: s for s in specs}
        self.instruments: dict[str, InstrumentSpec] = dict(self.declared)
        self._walks: dict[str, Walk] = {}
        self._book_rng = rng_for(seed, "book")
        self._books: dict[str, Book] = {}  # the latest book read, per instrument
        # The encoded answers kept per (generation, second): engine/market_answers.py.
        self.answers = MarketAnswers(self)
        # What the write operations and the controls changed (engine/market_control.py):
        # books set outright (ticks, lots, orders), halts (instant), venues' data
        # (("stale" or "unavailable", since ms)), securities deleted ("VENUE:ASSET").
        self.set_books: dict[str, tuple[Levels, Levels]] = {}
        self.halts: dict[str, int] = {}
        self.feeds: dict[str, tuple[str, int]] = {}
        self.deleted_securities: set[str] = set()
        self.version = 0  # bumped by every change (the state file's writer compares it)
        # Told after a control changed prices (`moved`): the orders engine's catch-up.
        self.on_price: Callable[[], None] | None = None
        for spec in specs:
            if spec.halted:
                self.halt(spec)

    # --------------------------------------------------------------- lookups

    def venues(self) -> list[str]:
        """Venues with instruments, in catalogue order."""
        return list(dict.fromkeys(s.venue for s in self.instruments.values()))

    def instrument(self, instrument_id: str | None) -> InstrumentSpec:
        if instrument_id is None:
            raise invalid_argument(
                "instrumentId",
                "required",
                (f"an instrument id such as {next(iter(self.instruments), 'BINANCE:BTC/USDT')}",),
            )
        spec = self.instruments.get(instrument_id)
        if spec is None:
            raise INSTRUMENT_NOT_FOUND.error(instrument_id)
        return spec

    @property
    def walks(self) -> dict[str, Walk]:
        """The walks made so far (at an instrument's first read), by instrument id."""
        return self._walks

    def walk(self, spec: InstrumentSpec) -> Walk:
        found = self._walks.get(spec.instrument_id)
        if found is None:
            found = self._walks[spec.instrument_id] = Walk(self.seed, spec, self.origin_ms)
        return found

    # --------------------------------------------------------------- reads

    def book(self, spec: InstrumentSpec, depth: int, at_ms: int | None = None) -> Book:
        """The book at `at_ms` (default: now), at most `depth` levels a side (and at most the
        instrument's own depth). Never crossed; a second's book is the same whenever read."""
        now, content_at = self.instants(spec, self.clock.now_ms() if at_ms is None else at_ms)
        chosen = self.set_books.get(spec.instrument_id)
        if chosen is not None:
            return Book(spec, chosen[0][:depth], chosen[1][:depth], now)
        cached = self._books.get(spec.instrument_id)
        second = content_at // 1000
        if cached is None or cached.timestamp // 1000 != second:
            cached = self._build_book(spec, second)
            self._books[spec.instrument_id] = cached
        levels = min(depth, spec.depth)
        return Book(spec, cached.bids[:levels], cached.asks[:levels], now)

    def instants(self, spec: InstrumentSpec, now: int) -> tuple[int, int]:
        """(the timestamp a read answers, the instant its prices are of): a stale venue's
        stop at the instant it went stale, a halted instrument's prices at its halt."""
        feed = self.feeds.get(spec.venue)
        if feed is not None and feed[0] == "stale":
            now = min(now, feed[1])
        halted = self.halts.get(spec.instrument_id)
        return now, now if halted is None else min(now, halted)

    def _build_book(self, spec: InstrumentSpec, second: int) -> Book:
        walk = self.walk(spec)
        mid = walk.price(second * 1000)
        spread = max(1, int(mid * spec.spread))
        best_bid = max(1, mid - spread // 2)
        best_ask = best_bid + spread
        n = spec.depth
        rng = reseed(self._book_rng, seed_text(self.seed, "book", spec.instrument_id, second))
        lots_width = 2 * walk.level_lots
        counted = spec.book_type == "L2_COUNTED"

        def side(best: int, direction: int) -> tuple[tuple[int, int, int], ...]:
            levels = []
            price = best
            for i in range(n):
                if i:
                    price += direction * (1 + rng.getrandbits(2) % 3)
                if price < 1:
                    break
                lots = 1 + rng.getrandbits(32) % lots_width
                orders = 1 + rng.getrandbits(5) % min(lots, 30) if counted else 0
                levels.append((price, lots, orders))
            return tuple(levels)

        return Book(spec, side(best_bid, -1), side(best_ask, 1), second * 1000)

    def ticker(self, spec: InstrumentSpec) -> Ticker:
        now, content_at = self.instants(spec, self.clock.now_ms())
        book = self.book(spec, 1, now)
        walk = self.walk(spec)
        bid, ask = book.bids[0], book.asks[0]
        last = min(max(walk.price(content_at), bid[0]), ask[0])
        second = content_at // 1000
        rng = reseed(self._book_rng, seed_text(self.seed, "last", spec.instrument_id, second))
        last_lots = 1 + rng.getrandbits(32) % max(1, walk.level_lots // 10)
        return Ticker(spec, last, last_lots, bid, ask, now)

    def candles(
        self,
        spec: InstrumentSpec,
        interval: str,
        start: int | None,
        end: int | None,
        limit: int,
    ) -> Candles:
        """Candles whose open time is in [start, end] (both optional), oldest first, none
        after now: from `start` forward when it is given, else the `limit` ending at `end`
        (default: the live one); none before the instruments' listing (HISTORY_MS before
        the market's origin). A stale venue's end at the instant it went stale."""
        now = self.instants(spec, self.clock.now_ms())[0]
        last_open = bucket_start(now if end is None else min(end, now), interval)
        first_open = bucket_start(self.origin_ms - HISTORY_MS, interval)
        opens: list[int] = []
        if start is not None and start > now:
            pass  # nothing has opened yet (and a far `from` never reaches the calendar)
        elif start is not None:
            t = bucket_start(start, interval)
            if t < start:
                t = next_start(t, interval)
            t = max(t, first_open)
            while t <= last_open and len(opens) < limit:
                opens.append(t)
                t = next_start(t, interval)
        else:
            t = last_open
            while t >= first_open and len(opens) < limit:
                opens.append(t)
                t = previous_start(t, interval)
            opens.reverse()
        walk = self.walk(spec)
        rows = []
        closed = True
        for t in opens:
            close_at = next_start(t, interval)
            if close_at > now:
                close_at, closed = now, False
            o, h, lo, c, v = walk.candle(t, close_at)
            rows.append((t, o, h, lo, c, v))
        return Candles(spec, interval, tuple(rows), closed, now)

    # --------------------------------------------------------------- control

    def set_price(self, spec: InstrumentSpec, price: Decimal) -> int:
        """Set an instrument's price now (rounded to its tick, at least one tick): the walk
        goes on from there, books and tickers follow at once, candles show the jump.
        Answers the price in ticks."""
        if not price.is_finite() or price <= 0:
            raise invalid_argument("price", f"{price} is not a positive decimal")
        ticks = max(1, int((price / spec.pip_size).to_integral_value()))
        walk = self.walk(spec)
        if len(walk.shifts) >= MAX_SET_PRICES:
            raise invalid_argument(
                "price", f"at most {MAX_SET_PRICES} prices set per instrument until a reset"
            )
        self.refuse_halted(spec)
        walk.set_price(self.clock.now_ms(), ticks)
        self.changed(spec)
        return ticks

    def moved(self) -> None:
        """A control (a price, a book, a gap...) is done: resting orders it crossed fill, and
        their events go out, at once."""
        if self.on_price is not None:
            self.on_price()

    def changed(self, spec: InstrumentSpec | None = None) -> None:
        """After a change of prices (of `spec`, or of any): books read again, a set book
        is forgotten, and the state file's writer sees it."""
        if spec is None:
            self._books.clear()
        else:
            self._books.pop(spec.instrument_id, None)
            self.set_books.pop(spec.instrument_id, None)
        self.version += 1

    @property
    def generation(self) -> int:
        """What kept answers are keyed on: `version`, bumped by every change of what a
        read answers (`changed()`, the controls, the writes, a reset)."""
        return self.version

    def refuse_halted(self, spec: InstrumentSpec) -> None:
        if spec.instrument_id in self.halts:
            raise VALIDATION_FAILED.error(
                f"{spec.instrument_id} is halted: resume it first (its price is frozen)"
            )

    def halt(self, spec: InstrumentSpec) -> None:
        """Freeze the instrument's price, book and ticker from now (a whole second) until
        `resume`; its status reads INACTIVE meanwhile."""
        if spec.instrument_id in self.halts:
            return
        now = self.clock.now_ms()
        at = now - now % 1000
        walk = self.walk(spec)
        walk.freezes.append((at, None, walk.price(at)))
        self.halts[spec.instrument_id] = at
        self.version += 1

    def resume(self, spec: InstrumentSpec) -> None:
        """End a halt: the walk goes on from the halted price."""
        at = self.halts.pop(spec.instrument_id, None)
        if at is None:
            return
        now = self.clock.now_ms()
        until = max(at, now - now % 1000)
        walk = self.walk(spec)
        start, _, ticks = walk.freezes.pop()
        if until > start:
            walk.freezes.append((start, until, ticks))
        walk.set_price(until, ticks)
        self._books.pop(spec.instrument_id, None)
        self.version += 1

    def status(self, spec: InstrumentSpec) -> str:
        """The instrument's status as reads show it: a halted ACTIVE one is INACTIVE."""
        if spec.status == "ACTIVE" and spec.instrument_id in self.halts:
            return "INACTIVE"
        return spec.status

    def reset(self) -> None:
        """Back to the scenario's market: prices, books, halts, statuses, deletions and
        venues' data set since the load are forgotten."""
        for walk in self._walks.values():
            walk.shifts = []
            walk.freezes = []
        self._books.clear()
        self.instruments = dict(self.declared)
        self.set_books.clear()
        self.halts.clear()
        self.feeds.clear()
        self.deleted_securities.clear()
        self.version += 1
        for spec in self.declared.values():
            if spec.halted:
                self.halt(spec)

    def state(self) -> dict[str, Any]:
        """What the admin API shows: the origin, the clock, and each instrument's walk
        parameters and price now (strings, like the API's decimals)."""
        now = self.clock.now_ms()
        instruments = []
        for spec in self.instruments.values():
            ticker = self.ticker(spec)
            walk = self.walk(spec)
            instruments.append(
                {
                    "instrumentId": spec.instrument_id,
                    "status": self.status(spec),
                    "startPrice": format(spec.price, "f"),
                    "spread": format(spec.spread, "f"),
                    "depth": spec.depth,
                    "volatility": format(spec.volatility, "f"),
                    "lastPrice": format(spec.pip_size * ticker.last, "f"),
                    "bidPrice": format(spec.pip_size * ticker.bid[0], "f"),
                    "askPrice": format(spec.pip_size * ticker.ask[0], "f"),
                    "pricesSet": len(walk.shifts),
                    "halted": spec.instrument_id in self.halts,
                    "bookSet": spec.instrument_id in self.set_books,
                }
            )
        venues = {v: self.feeds.get(v, ("live", now))[0] for v in self.venues()}
        return {"origin": self.origin_ms, "now": now, "instruments": instruments, "venues": venues}

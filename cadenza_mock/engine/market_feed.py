"""What the `market:*` channels carry: publications computed from the market model
(engine/market.py) between the instant a channel last published and the clock's now.

A channel remembers only where it stands (the last instant it published, and for an order
book the levels it last sent, for its DIFFs); `catch_up()` gives what happened since, in
order, so a clock moved an hour produces that hour's closed bars and the book and ticker of
the new instant at once, and the same seed and the same clock moves give the same
publications. No timer here (the WebSocket layer decides when to catch up) and no aiohttp.

Channels (the platform document's table), and what feeds them:

- `market:orderbook:{venue}:{symbol}`: a SNAPSHOT (CHANNEL_DEPTH levels a side), then
  DIFFs (changed levels; quantity "0" removes one), only while an order book subscription
  feeds it (engine/market_subscriptions.py): the document's server-side subscription.
- `market:ticker:{venue}:{symbol}`, `market:ticker:{venue}` (each instrument's ticker),
  `market:kline:{venue}:{symbol}:{interval}` (the bars closed since, `isClosed` true, at
  most MAX_CLOSED_BARS of them, then the live bar, `isClosed` false) and
  `market:trade:{venue}:{symbol}` (one trade a second of the clock, at the walk's price,
  at most MAX_TRADES): fed as soon as subscribed, since the document gives them no
  server-side subscription the mock emulates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cadenza_mock.contract import market_wire
from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.contract.market_records import Trade
from cadenza_mock.engine.market import (
    KLINE_INTERVALS,
    Book,
    Candles,
    Market,
    bucket_start,
    next_start,
    previous_start,
)
from cadenza_mock.engine.market_subscriptions import MarketSubscriptions
from cadenza_mock.seeded import reseed, rng_for, seed_text

PREFIX = "market:"
CHANNEL_DEPTH = 20  # book levels a side on a channel (the document's ws subscribe default)
MAX_CLOSED_BARS = 100  # closed bars one catch-up publishes per kline channel (the latest)
MAX_TRADES = 100  # trades one catch-up publishes per trade channel (the latest)
KINDS = ("orderbook", "ticker", "kline", "trade")

Levels = dict[int, tuple[int, int]]  # price ticks -> (lots, orders)


class ChannelError(ValueError):
    """A channel name that names nothing this market has: why, for the subscribe error."""


@dataclass(eq=False)
class FeedChannel:
    """One channel's place in the stream: what it last published."""

    name: str
    kind: str
    specs: tuple[InstrumentSpec, ...]  # one instrument, or a venue's (market:ticker:{venue})
    interval: str | None = None
    last_ms: int | None = None  # the instant it last published (None: nothing yet)
    fed: bool = False  # an order book channel: fed when it last published
    bids: Levels = field(default_factory=dict)
    asks: Levels = field(default_factory=dict)
    last: dict[str, Any] = field(default_factory=dict)  # last ticker / live bar, by id


def parse(market: Market, name: str) -> FeedChannel:
    """The channel a name means; ChannelError saying what is unknown."""
    kind, _, rest = name.removeprefix(PREFIX).partition(":")
    if not name.startswith(PREFIX) or kind not in KINDS or not rest:
        raise ChannelError(
            f"{name!r} is not a market channel (market:orderbook|ticker|trade:VENUE:BASE/QUOTE, "
            "market:ticker:VENUE, market:kline:VENUE:BASE/QUOTE:INTERVAL)"
        )
    interval = None
    if kind == "kline":
        rest, _, interval = rest.rpartition(":")
        if interval not in KLINE_INTERVALS:
            raise ChannelError(f"interval {interval!r} is not one of {', '.join(KLINE_INTERVALS)}")
    if kind == "ticker" and ":" not in rest:
        specs = tuple(s for s in market.instruments.values() if s.venue == rest)
        if not specs:
            known = ", ".join(market.venues())
            raise ChannelError(f"venue {rest!r} has no instruments (venues: {known})")
        return FeedChannel(name, "venue_ticker", specs)
    spec = market.instruments.get(rest)
    if spec is None:
        raise ChannelError(f"instrument {rest!r} not found")
    return FeedChannel(name, kind, (spec,), interval)


class MarketFeed:
    """The channels of one state that have subscribers, and what each publishes next."""

    def __init__(self, market: Market, subscriptions: MarketSubscriptions, seed: int) -> None:
        self.market = market
        self.subscriptions = subscriptions
        self.seed = seed
        self.channels: dict[str, FeedChannel] = {}
        self._rng = rng_for(seed, "trade")

    def open(self, name: str) -> FeedChannel:
        """The channel, from now on if it is new (ChannelError for a name of nothing)."""
        found = self.channels.get(name)
        if found is None:
            found = parse(self.market, name)
            self.catch_up(found)  # its baseline: publications nobody receives
            self.channels[name] = found
        return found

    def fed(self, channel: FeedChannel) -> bool:
        if channel.kind != "orderbook":
            return True
        return self.subscriptions.feeds(channel.specs[0].instrument_id)

    def snapshot(self, channel: FeedChannel) -> list[dict[str, Any]]:
        """What a new subscriber gets first, at the channel's instant (caught up): the
        book (SNAPSHOT, if fed), the ticker(s), the live bar; a trade channel nothing."""
        if channel.kind == "orderbook":
            if not channel.fed:
                return []
            spec = channel.specs[0]
            book = _book(spec, channel.bids, channel.asks, channel.last_ms or 0)
            return [market_wire.order_book(book)]
        if channel.kind == "trade":
            return []
        return list(channel.last.values())

    def catch_up(self, channel: FeedChannel) -> list[dict[str, Any]]:
        """The channel's publications from its last instant to now, in order (none when
        nothing it carries changed, or its venue's data is stale or unavailable)."""
        now = self.market.clock.now_ms()
        since = channel.last_ms
        channel.last_ms = now
        feed = self.market.feeds.get(channel.specs[0].venue) if channel.specs else None
        if feed is not None and feed[0] != "live":
            return []  # a stale or unavailable venue sends nothing; back live, from then on
        if channel.kind == "orderbook":
            return self._book_updates(channel, now)
        if channel.kind == "trade":
            return [] if since is None else self._trades(channel.specs[0], since, now)
        if channel.kind == "kline":
            return self._bars(channel, since, now)
        found = []
        for spec in channel.specs:
            tick = market_wire.ticker(self.market.ticker(spec))
            if channel.last.get(spec.instrument_id) != tick:
                channel.last[spec.instrument_id] = tick
                found.append(tick)
        return found

    # ------------------------------------------------------------------ order books

    def _book_updates(self, channel: FeedChannel, now: int) -> list[dict[str, Any]]:
        spec = channel.specs[0]
        was_fed, channel.fed = channel.fed, self.fed(channel)
        if not channel.fed:
            channel.bids, channel.asks = {}, {}
            return []
        book = self.market.book(spec, CHANNEL_DEPTH, now)
        bids = {p: (lots, n) for p, lots, n in book.bids}
        asks = {p: (lots, n) for p, lots, n in book.asks}
        if not was_fed:
            channel.bids, channel.asks = bids, asks
            return [market_wire.order_book(book)]
        changed_bids = _changed(channel.bids, bids)
        changed_asks = _changed(channel.asks, asks)
        channel.bids, channel.asks = bids, asks
        if not changed_bids and not changed_asks:
            return []
        diff = _book(spec, changed_bids, changed_asks, now)
        return [market_wire.order_book(diff, "DIFF")]

    # ------------------------------------------------------------------ klines

    def _bars(self, channel: FeedChannel, since: int | None, now: int) -> list[dict[str, Any]]:
        spec, interval = channel.specs[0], channel.interval
        assert interval is not None
        found = []
        live_open = bucket_start(now, interval)
        if since is not None:
            first = bucket_start(since, interval)
            # The latest MAX_CLOSED_BARS bars that closed since: from the newest back.
            opens: list[int] = []
            t = live_open
            while len(opens) < MAX_CLOSED_BARS:
                t = previous_start(t, interval)
                if t < first:
                    break
                opens.append(t)
            if opens:
                closed = self.market.candles(spec, interval, opens[-1], opens[0], len(opens))
                for row in closed.rows:
                    bar = Candles(spec, interval, (row,), True, next_start(row[0], interval))
                    found.append(market_wire.kline(bar))
        live = market_wire.kline(self.market.candles(spec, interval, None, None, 1))
        if found or channel.last.get(spec.instrument_id) != live:
            channel.last[spec.instrument_id] = live
            found.append(live)
        return found

    # ------------------------------------------------------------------ trades

    def _trades(self, spec: InstrumentSpec, since: int, now: int) -> list[dict[str, Any]]:
        """One trade a second of (since, now]: at the walk's price that second, a seeded
        quantity, BUY when the price went up or stayed, SELL when it went down."""
        first, last = since // 1000 + 1, now // 1000
        first = max(first, last - MAX_TRADES + 1)
        walk = self.market.walk(spec)
        lots_width = max(1, walk.level_lots // 10)
        found = []
        before = walk.price((first - 1) * 1000)
        for second in range(first, last + 1):
            price = walk.price(second * 1000)
            rng = reseed(self._rng, seed_text(self.seed, "trade", spec.instrument_id, second))
            side = "BUY" if price >= before else "SELL"
            lots = 1 + rng.getrandbits(32) % lots_width
            found.append(
                market_wire.trade(Trade(spec, str(second), price, lots, side, second * 1000))
            )
            before = price
        return found


def _book(spec: InstrumentSpec, bids: Levels, asks: Levels, timestamp: int) -> Book:
    """Levels as a Book: bids high to low, asks low to high (the document's order)."""

    def side(levels: Levels, best_first: bool) -> tuple[tuple[int, int, int], ...]:
        rows = sorted(levels.items(), reverse=best_first)
        return tuple((p, lots, orders) for p, (lots, orders) in rows)

    return Book(spec, side(bids, True), side(asks, False), timestamp)


def _changed(old: Levels, new: Levels) -> Levels:
    """The levels of `new` that differ from `old`, and `old`'s gone ones at 0 lots."""
    found = {p: v for p, v in new.items() if old.get(p) != v}
    found.update((p, (0, 0)) for p in old if p not in new)
    return found

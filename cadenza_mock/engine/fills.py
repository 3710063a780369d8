"""Where an order meets the emulated market: the venues' fees, a walk of the book's levels
(an order that takes liquidity), and whether the price path crossed a resting limit
between two instants (an order that waits).

Pure functions of the market's reads (engine/market.py): nothing here keeps state. The
book is not consumed by the client's fills (each second's book is a fresh draw of the
market model, which is far larger than one client), so the same order placed twice in
one second fills the same way twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.engine.market import Book, Market

BUY, SELL = "BUY", "SELL"
# Money is kept to this many decimals at most: fees are rounded down to it, locks up.
STEP = Decimal("0.00000001")

# (maker, taker) fee rates per venue (of the quote amount, charged in the quote asset):
# the venues' published base tiers, rounded. A venue not listed pays DEFAULT_FEES.
DEFAULT_FEES = (Decimal("0.001"), Decimal("0.001"))
VENUE_FEES: dict[str, tuple[Decimal, Decimal]] = {
    "BINANCE": (Decimal("0.001"), Decimal("0.001")),
    "OKX": (Decimal("0.0008"), Decimal("0.001")),
    "BYBIT": (Decimal("0.001"), Decimal("0.001")),
    "COINBASE": (Decimal("0.004"), Decimal("0.006")),
    "KRAKEN": (Decimal("0.0025"), Decimal("0.004")),
    "BITFINEX": (Decimal("0.001"), Decimal("0.002")),
    "DERIBIT": (Decimal("0"), Decimal("0.0005")),
}


def fees_of(venue: str) -> tuple[Decimal, Decimal]:
    """(maker, taker) of a venue (its UAT or sandbox twin pays the same)."""
    return VENUE_FEES.get(venue.removesuffix("_UAT").removesuffix("_SANDBOX"), DEFAULT_FEES)


def fee(amount: Decimal, rate: Decimal) -> Decimal:
    """The fee on a quote amount: rounded down to STEP (never more than the rate says)."""
    return (amount * rate).quantize(STEP, rounding=ROUND_FLOOR)


def ceil(amount: Decimal) -> Decimal:
    """An amount to lock: rounded up to STEP (never less than what it may pay)."""
    return amount.quantize(STEP, rounding=ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class Take:
    """One level an order took: its price (ticks) and how many lots it took there."""

    price: int
    lots: int


def walk_book(book: Book, side: str, lots: int, limit: int | None) -> list[Take]:
    """What an order of `lots` takes from the book now: the asks from the best up for a
    BUY, the bids from the best down for a SELL, stopping at `limit` (ticks; None: no
    limit, a MARKET order) or when it is done. Fewer lots than asked when the book is
    thinner than the order (its levels are the instrument's depth)."""
    levels = book.asks if side == BUY else book.bids
    taken: list[Take] = []
    left = lots
    for price, size, _ in levels:
        if left <= 0:
            break
        if limit is not None and (price > limit if side == BUY else price < limit):
            break
        got = min(size, left)
        taken.append(Take(price, got))
        left -= got
    return taken


def _quotes(spec: InstrumentSpec, mid: int) -> tuple[int, int]:
    """(best bid, best ask) around a mid price, as engine/market.py builds its books."""
    spread = max(1, int(mid * spec.spread))
    bid = max(1, mid - spread // 2)
    return bid, bid + spread


def crossed(
    market: Market, spec: InstrumentSpec, side: str, limit: int, start_ms: int, end_ms: int
) -> bool:
    """Whether the market reached a resting limit in (start_ms, end_ms]: the best ask at
    or under a BUY's limit, the best bid at or over a SELL's, anywhere on the price path
    (its candle's low or high over the span: nothing is walked minute by minute)."""
    if end_ms <= start_ms:
        return False
    _, high, low, _, _ = market.walk(spec).candle(start_ms + 1, end_ms)
    if side == BUY:
        return _quotes(spec, low)[1] <= limit
    return _quotes(spec, high)[0] >= limit

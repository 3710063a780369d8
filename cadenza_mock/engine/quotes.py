"""RFQ quotes of one store: a firm price for a side and quantity, priced from the emulated
book (what the side's walk through the book for that quantity would pay, on the tick grid
in the dealer's favour), valid until its expiry on the mock clock. A QUOTED order on the
quote fills whole at its price until then (engine/quoted.py).

Quotes live a few seconds of mock time (10 by default, 300 at most), and their ids are
their own seeded stream (reset with everything else). A state file keeps them (format
version 4, engine/persist_trading.py), the stream going on after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.seeded import rng_for, uuid4_from

# The document's quoteStatus, and its ttl bounds (quoteTtl: seconds, 10 by default).
QUOTE_CREATED, QUOTE_ACCEPTED, QUOTE_EXPIRED = "CREATED", "ACCEPTED", "EXPIRED"
DEFAULT_TTL_S, MAX_TTL_S = 10, 300


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """A quoteRfqRequest as both transports give it, in the engine's words."""

    dealer_account_id: str
    side: str
    trader_account_id: str | None = None
    instrument_id: str | None = None
    base_asset: str | None = None
    quote_asset: str | None = None
    quantity: str | None = None
    quote_quantity: str | None = None
    request_id: str | None = None
    ttl: int | None = None
    expire_at: int | None = None
    pricing_profile_id: str | None = None


@dataclass(slots=True)
class Quote:
    quote_id: str
    trading_account_id: str  # the trader's account (it pays and receives)
    dealer_account_id: str
    user_id: str
    spec: InstrumentSpec
    side: str
    quantity: Decimal
    price: Decimal
    created_at: int
    expire_at: int
    request_id: str | None = None
    pricing_profile_id: str | None = None
    accepted_at: int | None = None

    def status(self, now: int) -> str:
        """CREATED until taken (ACCEPTED) or until its expiry passes (EXPIRED)."""
        if self.accepted_at is not None:
            return QUOTE_ACCEPTED
        return QUOTE_EXPIRED if now >= self.expire_at else QUOTE_CREATED

    def updated_at(self, now: int) -> int:
        if self.accepted_at is not None:
            return self.accepted_at
        return self.expire_at if now >= self.expire_at else self.created_at


def quote_price(spec: InstrumentSpec, side: str, cost: Decimal, qty: Decimal) -> Decimal:
    """The walk's average price on the tick grid, rounded in the dealer's favour (up for
    the trader's BUY, down for a SELL): the quote never beats the book."""
    ticks = (cost / qty / spec.pip_size).to_integral_value(
        ROUND_CEILING if side == "BUY" else ROUND_FLOOR
    )
    return ticks * spec.pip_size


class Quotes:
    """The quotes made so far (none until asked for), by id and by quoteRequestId."""

    def __init__(self, seed: int) -> None:
        self._stream = rng_for(seed, "trading", "quote")
        self.by_id: dict[str, Quote] = {}
        self.by_request: dict[tuple[str, str], Quote] = {}  # (account, quoteRequestId)

    def new_id(self) -> str:
        return uuid4_from(self._stream)

    def add(self, quote: Quote) -> None:
        self.by_id[quote.quote_id.lower()] = quote
        if quote.request_id is not None:
            self.by_request[(quote.trading_account_id.lower(), quote.request_id)] = quote

    def find(self, quote_id: str) -> Quote | None:
        return self.by_id.get(quote_id.lower())

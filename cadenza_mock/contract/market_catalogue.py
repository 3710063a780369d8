"""The market's instruments as plain data: what an instrument is (its document fields and
the parameters of its seeded walk), the default catalogue of majors per venue, and
generated instruments with realistic symbols, tick and lot sizes.

On the contract tier because both the scenario reader (`market:`) and the engine's
market model (engine/market.py) build on it; it knows nothing of HTTP or YAML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cadenza_mock.seeded import rng_for

# Every instrument lists the stop and take-profit kinds too (engine/triggers.py), as
# Binance's spot instruments do (under both of the document's names for each).
ORDER_TYPES = (
    "MARKET", "LIMIT", "LIMIT_MAKER", "STOP", "STOP_LIMIT", "STOP_LOSS", "STOP_LOSS_LIMIT",
    "TAKE_PROFIT", "TAKE_PROFIT_LIMIT",
)  # fmt: skip
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "GTD")  # GTD: expireAt on the mock clock
# The document's instrumentStatus and instrumentType.
INSTRUMENT_STATUSES = ("ACTIVE", "INACTIVE", "DISABLED", "DELISTED")
INSTRUMENT_TYPES = ("SPOT", "CONTRACT")
SECURITY_TYPES = (
    "STOCK",
    "CRYPTO",
    "CURRENCY",
    "COMMODITY",
    "INDEX",
    "BOND",
    "OPTION",
    "FUTURES",
    "PERPETUAL",
)
# Assets that are currencies rather than crypto assets (securityType).
_FIAT = frozenset({"USD", "EUR", "GBP", "JPY"})

# Book encoding per venue (the document's orderBookType): OKX counts orders per level.
COUNTED_BOOK_VENUES = frozenset({"OKX", "OKX_UAT"})

# Defaults of the walk's parameters: half a basis point of spread... per instrument.
DEFAULT_SPREAD = Decimal("0.0002")  # of the price, between best bid and best ask
DEFAULT_DEPTH = 20  # levels per side
DEFAULT_VOLATILITY = Decimal("0.02")  # a day's standard deviation, of the starting price
MAX_DEPTH = 1000  # the document's bound on a book read's `depth`


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """One instrument of a venue: the document's fields and its walk's parameters."""

    venue: str
    base: str
    quote: str
    pip_size: Decimal  # the tick: every price is a multiple of it
    lot_size: Decimal  # every quantity is a multiple of it
    price: Decimal  # where the walk starts
    min_notional: Decimal = Decimal("5")
    spread: Decimal = DEFAULT_SPREAD
    depth: int = DEFAULT_DEPTH
    volatility: Decimal = DEFAULT_VOLATILITY
    status: str = "ACTIVE"
    halted: bool = False  # from the load on (a scenario's `halted: true`)
    instrument_type: str = "SPOT"
    # Document fields a scenario gave explicitly (any of the document's instrument keys):
    # they win over the derived ones on the wire.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def symbol(self) -> str:
        return f"{self.base}/{self.quote}"

    @property
    def instrument_id(self) -> str:
        return f"{self.venue}:{self.symbol}"

    @property
    def external_symbol(self) -> str:
        """The symbol as the venue itself spells it."""
        venue = self.venue.removesuffix("_UAT").removesuffix("_SANDBOX")
        if venue in ("OKX", "COINBASE"):
            return f"{self.base}-{self.quote}"
        if venue == "BITFINEX":
            return f"t{self.base}{self.quote}"
        if venue == "DERIBIT":
            return f"{self.base}_{self.quote}"
        if venue == "KRAKEN":
            return f"{'XBT' if self.base == 'BTC' else self.base}/{self.quote}"
        return f"{self.base}{self.quote}"

    @property
    def min_quantity(self) -> Decimal:
        return self.lot_size

    @property
    def max_quantity(self) -> Decimal:
        return self.lot_size * 10**8

    @property
    def base_precision(self) -> int:
        return decimals(self.lot_size)

    @property
    def quote_precision(self) -> int:
        return decimals(self.pip_size)

    @property
    def book_type(self) -> str:
        return "L2_COUNTED" if self.venue in COUNTED_BOOK_VENUES else "L2"


def decimals(value: Decimal) -> int:
    """Digits after the point of a step such as 0.001 (3) or 10 (0)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def security_type(asset: str) -> str:
    return "CURRENCY" if asset in _FIAT else "CRYPTO"


def sizes_for(price: Decimal) -> tuple[Decimal, Decimal]:
    """(tick, lot) that look like an exchange's for an asset at `price`: about six
    significant digits of price, a lot worth a few tenths of the quote."""
    magnitude = price.adjusted()  # floor(log10(price))
    tick = Decimal("0.01") if magnitude >= 1 else Decimal(1).scaleb(magnitude - 4)
    lot = Decimal(1).scaleb(min(8, max(-8, -(magnitude + 1))))
    return tick, lot


# Majors: (base, starting price in USD). The default catalogue takes the first three.
MAJORS: tuple[tuple[str, str], ...] = (
    ("BTC", "65000.00"),
    ("ETH", "3200.00"),
    ("SOL", "150.00"),
    ("XRP", "0.6000"),
    ("DOGE", "0.15000"),
    ("ADA", "0.4500"),
    ("AVAX", "35.00"),
    ("LINK", "15.00"),
    ("DOT", "7.00"),
    ("LTC", "80.00"),
    ("TRX", "0.12000"),
    ("ATOM", "8.00"),
    ("UNI", "9.00"),
    ("BCH", "450.00"),
    ("NEAR", "5.50"),
    ("APT", "9.00"),
    ("ARB", "1.1000"),
    ("OP", "2.2000"),
    ("FIL", "5.00"),
    ("ETC", "25.00"),
)
# The quote each venue lists its majors against.
VENUE_QUOTES: dict[str, str] = {
    "BINANCE": "USDT",
    "OKX": "USDT",
    "BYBIT": "USDT",
    "COINBASE": "USD",
    "KRAKEN": "USD",
    "BITFINEX": "USD",
    "DERIBIT": "USDC",
}
# Venues with a public order book market: the default catalogue's (and a UAT twin of one
# is a separate venue with the same instruments).
MARKET_VENUES = tuple(VENUE_QUOTES)
_DEFAULT_COUNT = 3


def quote_of(venue: str) -> str:
    return VENUE_QUOTES.get(venue.removesuffix("_UAT").removesuffix("_SANDBOX"), "USDT")


def has_market(venue: str) -> bool:
    return venue.removesuffix("_UAT").removesuffix("_SANDBOX") in VENUE_QUOTES


def spec_for(venue: str, base: str, price: Decimal, quote: str | None = None) -> InstrumentSpec:
    tick, lot = sizes_for(price)
    return InstrumentSpec(
        venue=venue,
        base=base,
        quote=quote or quote_of(venue),
        pip_size=tick,
        lot_size=lot,
        price=price.quantize(tick),
        min_notional=Decimal("1") if venue.startswith("OKX") else Decimal("5"),
    )


def default_catalogue(venues: Iterable[str]) -> tuple[InstrumentSpec, ...]:
    """A few majors on every venue of `venues` that has a market (the profile's)."""
    return tuple(
        spec_for(venue, base, Decimal(price))
        for venue in venues
        if has_market(venue)
        for base, price in MAJORS[:_DEFAULT_COUNT]
    )


def generated(venue: str, count: int, seed: int, taken: Iterable[str] = ()) -> list[InstrumentSpec]:
    """`count` instruments of `venue` drawn from the seed: majors not `taken` first (in a
    seeded order), then made-up symbols; prices moved off the majors' by up to 10%."""
    rng = rng_for(seed, "market", venue)
    used = set(taken)
    pool = [(b, p) for b, p in MAJORS if b not in used]
    rng.shuffle(pool)
    found: list[InstrumentSpec] = []
    for index in range(count):
        if index < len(pool):
            base, price = pool[index]
            start = Decimal(price) * (1 + Decimal(rng.randint(-1000, 1000)) / 10_000)
        else:
            base = ""
            while not base or base in used:
                base = "X" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3))
            used.add(base)
            start = Decimal(rng.randint(1, 99_999)).scaleb(-rng.randint(0, 4))
        found.append(spec_for(venue, base, start))
    return found

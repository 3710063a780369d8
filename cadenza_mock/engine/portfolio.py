"""One trading account's portfolio: balances (free and locked, per asset) and positions
(per instrument: quantity, average entry, realized PnL), moved by the order engine's
locks and fills (engine/orders.py) and priced against the ticker when read.

An account's portfolio is created the first time anything reads or trades it: from the
scenario's starting balances when it gives them, else the seeded default (`default_holdings`):
cash in the venue's quote asset and a little of the venue's first instruments' bases, so
the bundled scenarios can trade with no configuration. Spot only: a position is what the
account holds of an instrument's base, LONG, CLOSED once sold to nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.engine.fills import STEP

# The seeded default: this much of the quote asset, and of each of the venue's first
# DEFAULT_BASES instruments' base assets what DEFAULT_BASE_VALUE of the quote buys at the
# instrument's starting price (rounded down to its lot).
DEFAULT_CASH = Decimal("1000000")
DEFAULT_BASE_VALUE = Decimal("10000")
DEFAULT_BASES = 3
PRICE_STEP = Decimal("0.0000000001")  # entry prices are averages: kept to 10 decimals


@dataclass(slots=True)
class Balance:
    """An asset's balance: `free` can be spent, `locked` is held by open orders."""

    asset: str
    free: Decimal
    locked: Decimal = Decimal(0)
    updated_at: int = 0

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass(slots=True)
class Position:
    """What the account holds of an instrument's base, at its average entry price."""

    position_id: str
    spec: InstrumentSpec
    quantity: Decimal
    entry_price: Decimal
    realized: Decimal = Decimal(0)
    created_at: int = 0
    updated_at: int = 0
    exit_price: Decimal | None = None
    closed_at: int | None = None

    @property
    def status(self) -> str:
        return "OPEN" if self.quantity > 0 else "CLOSED"


@dataclass(slots=True)
class Portfolio:
    """The balances and positions of one trading account."""

    trading_account_id: str
    venue: str
    balances: dict[str, Balance] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)  # by instrument id
    updated_at: int = 0

    def balance(self, asset: str) -> Balance:
        found = self.balances.get(asset)
        if found is None:
            found = self.balances[asset] = Balance(asset, Decimal(0), updated_at=self.updated_at)
        return found

    def free(self, asset: str) -> Decimal:
        found = self.balances.get(asset)
        return found.free if found is not None else Decimal(0)

    # ------------------------------------------------------------- locks

    def lock(self, asset: str, amount: Decimal, at: int) -> None:
        """Hold `amount` of the free balance for an order (checked by the caller)."""
        b = self.balance(asset)
        b.free -= amount
        b.locked += amount
        self._touch(b, at)

    def release(self, asset: str, amount: Decimal, at: int) -> None:
        """Give back what an order held and no longer needs."""
        b = self.balance(asset)
        b.locked -= amount
        b.free += amount
        self._touch(b, at)

    def spend_locked(self, asset: str, amount: Decimal, at: int) -> None:
        """Pay out of what an order held (a fill)."""
        b = self.balance(asset)
        b.locked -= amount
        self._touch(b, at)

    def spend(self, asset: str, amount: Decimal, at: int) -> None:
        b = self.balance(asset)
        b.free -= amount
        self._touch(b, at)

    def receive(self, asset: str, amount: Decimal, at: int) -> None:
        b = self.balance(asset)
        b.free += amount
        self._touch(b, at)

    def _touch(self, b: Balance, at: int) -> None:
        b.updated_at = at
        self.updated_at = max(self.updated_at, at)

    # ------------------------------------------------------------- positions

    def bought(
        self, spec: InstrumentSpec, qty: Decimal, price: Decimal, at: int, new_id: Callable[[], str]
    ) -> None:
        """A BUY fill: the position grows at the fill's price (average entry)."""
        pos = self.positions.get(spec.instrument_id)
        if pos is None or pos.quantity <= 0:
            realized = pos.realized if pos is not None else Decimal(0)
            created = pos.created_at if pos is not None else at
            pid = pos.position_id if pos is not None else new_id()
            pos = Position(pid, spec, Decimal(0), price, realized, created, at)
            self.positions[spec.instrument_id] = pos
        held = pos.quantity + qty
        pos.entry_price = ((pos.quantity * pos.entry_price + qty * price) / held).quantize(
            PRICE_STEP, rounding=ROUND_FLOOR
        )
        pos.quantity = held
        pos.updated_at = at
        pos.exit_price = None
        pos.closed_at = None

    def sold(
        self, spec: InstrumentSpec, qty: Decimal, price: Decimal, fee: Decimal, at: int
    ) -> None:
        """A SELL fill: the position shrinks; the gain over the entry, less the fee, is
        realized. Base held without a position (a scenario's balance) opens none."""
        pos = self.positions.get(spec.instrument_id)
        if pos is None:
            return
        part = min(qty, pos.quantity)
        pos.realized += ((price - pos.entry_price) * part - fee).quantize(STEP)
        pos.quantity -= part
        pos.updated_at = at
        if pos.quantity <= 0:
            pos.exit_price = price
            pos.closed_at = at


def default_holdings(venue: str, specs: Iterable[InstrumentSpec]) -> dict[str, Decimal]:
    """The seeded default portfolio of an account on `venue`: DEFAULT_CASH of the venue's
    quote asset and DEFAULT_BASE_VALUE worth of each of its first DEFAULT_BASES bases."""
    mine = [s for s in specs if s.venue == venue]
    if not mine:
        return {}
    holdings = {mine[0].quote: DEFAULT_CASH}
    for spec in mine[:DEFAULT_BASES]:
        lots = (DEFAULT_BASE_VALUE / spec.price / spec.lot_size).to_integral_value(ROUND_FLOOR)
        holdings.setdefault(spec.base, lots * spec.lot_size)
    return holdings


def seeded(
    trading_account_id: str,
    venue: str,
    holdings: Mapping[str, Decimal],
    specs: Mapping[str, InstrumentSpec],
    at: int,
    new_id: Callable[[], str],
) -> Portfolio:
    """A portfolio holding `holdings`; a base held opens a position on the venue's
    instrument of it, at that instrument's starting price."""
    found = Portfolio(trading_account_id, venue, updated_at=at)
    for asset, amount in holdings.items():
        found.balances[asset] = Balance(asset, amount, updated_at=at)
        spec = next(
            (s for s in specs.values() if s.venue == venue and s.base == asset and amount > 0),
            None,
        )
        if spec is not None:
            found.positions[spec.instrument_id] = Position(
                new_id(), spec, amount, spec.price, created_at=at, updated_at=at
            )
    return found

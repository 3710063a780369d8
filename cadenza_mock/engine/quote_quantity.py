"""An order's base quantity when its `quantityType` is QUOTE (the document's
orderQuantityType): `quantity` is then an amount of the quote asset, and the engine turns it
into base lots before every other check (engine/orders.py), so min and max quantity and
minNotional apply to the base quantity and notional that result.

The rules (docs/trading.md "Quantities in the quote asset"): an amount is a ceiling, never
passed. A MARKET BUY walks the asks from the best and buys the most lots whose cost with
the taker fee fits in the amount (what is left of it stays free); a MARKET SELL walks the
bids and sells the most lots whose proceeds before fees do not pass the amount; a LIMIT
(or LIMIT_MAKER) order's quantity is the amount divided by its limit price; a stop order's
by its limit price, or by its stop price when it triggers a MARKET order. Each is rounded
down to the lot. Position quantity types stay refused (18007).
"""

from __future__ import annotations

from decimal import Decimal

from cadenza_mock.contract.errors import INVALID_ORDER
from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.engine.fills import BUY
from cadenza_mock.engine.market import Book
from cadenza_mock.engine.order_checks import OrderRequest, check_quantity, decimal_of

BASE, QUOTE = "BASE", "QUOTE"


def _lots_for(spec: InstrumentSpec, levels: tuple[tuple[int, int, int], ...],
              amount: Decimal, rate: Decimal) -> int:  # fmt: skip
    """The most lots of the levels (best first) whose cost times (1 + rate) fits in amount."""
    left, lots = amount, 0
    for price, size, _ in levels:
        per_lot = spec.pip_size * price * spec.lot_size * (1 + rate)
        got = min(size, int(left / per_lot))
        lots += got
        left -= got * per_lot
        if got < size:
            break
    return lots


def order_quantity(
    spec: InstrumentSpec,
    req: OrderRequest,
    side: str,
    price: Decimal | None,
    book: Book,
    taker: Decimal,
) -> Decimal:
    """The order's base quantity: `quantity` itself (BASE), or what the QUOTE amount buys
    or sells. `price` is what the amount is divided by (the limit price, or a stop's stop
    price); None: a MARKET order, converted at the book's prices now."""
    if req.quantity_type in (None, BASE):
        return check_quantity(spec, req)
    if req.quantity_type != QUOTE:
        raise INVALID_ORDER.error(
            f"quantityType {req.quantity_type}: the mock takes BASE and QUOTE quantities"
        )
    amount = decimal_of(req.quantity, "quantity")
    if price is not None:
        lots = int(amount / (price * spec.lot_size))
        at = f"at {price.normalize():f}"
    elif side == BUY:
        lots = _lots_for(spec, book.asks, amount, taker)
        at = "at the book's asks with the taker fee"
    else:
        lots = _lots_for(spec, book.bids, amount, Decimal(0))
        at = "at the book's bids"
    qty = spec.lot_size * lots
    shown = f"quantityType QUOTE: {amount.normalize():f} {spec.quote} {at}"
    if lots == 0:
        raise INVALID_ORDER.error(f"{shown} is less than one lot ({spec.lot_size} {spec.base})")
    if not spec.min_quantity <= qty <= spec.max_quantity:
        raise INVALID_ORDER.error(
            f"{shown} is {qty} {spec.base}, outside [{spec.min_quantity}, {spec.max_quantity}]"
        )
    return qty

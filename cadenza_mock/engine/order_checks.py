"""The checks a submit makes before anything changes (engine/orders.py calls them in
turn): the order's kind and time in force against the instrument, its quantity and price
on the lot and tick grids, and how much free balance it needs. Each refusal is the error
codes page's row; none of them changes anything."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
)

from cadenza_mock.contract.errors import (
    INVALID_ORDER,
    ORDER_SIDE_NOT_SUPPORTED,
    ORDER_TYPE_NOT_SUPPORTED,
    TIME_IN_FORCE_NOT_SUPPORTED,
)
from cadenza_mock.contract.market_catalogue import ORDER_TYPES, TIME_IN_FORCE, InstrumentSpec
from cadenza_mock.engine.fills import BUY, SELL, Take, ceil, fee
from cadenza_mock.engine.market import Market

_ROUNDING = {
    "DOWN": ROUND_FLOOR,
    "FLOOR": ROUND_FLOOR,
    "UP": ROUND_CEILING,
    "CEIL": ROUND_CEILING,
    "NEAREST": ROUND_HALF_EVEN,
    "HALF_EVEN": ROUND_HALF_EVEN,
    "HALF_UP": ROUND_HALF_UP,
    "HALF_DOWN": ROUND_HALF_DOWN,
}


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A submit as both transports give it, in the engine's words (strings as sent)."""

    trading_account_id: str
    instrument_id: str | None
    side: str
    order_type: str
    quantity: str
    limit_price: str | None = None
    time_in_force: str | None = None
    expire_at: int | None = None
    client_order_id: str | None = None
    idempotency_key: str | None = None
    quantity_type: str | None = None
    quantity_rounding: str | None = None
    quote_id: str | None = None
    stop_price: str | None = None
    take_profit_price: str | None = None  # attached exits (engine/order_lists.py)
    take_profit_limit_price: str | None = None
    take_profit_time_in_force: str | None = None
    stop_loss_price: str | None = None
    stop_loss_limit_price: str | None = None
    stop_loss_time_in_force: str | None = None


def _decimal(value: str | None, what: str) -> Decimal:
    try:
        found = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        found = None
    if found is None or not found.is_finite() or found <= 0:
        raise INVALID_ORDER.error(f'{what}: expected a decimal > 0 such as "0.01"')
    return found


# The stop and take-profit kinds (engine/triggers.py): whether each is a stop (else a
# take-profit), and whether it places a MARKET order when triggered (else a LIMIT one).
STOP_KINDS: dict[str, tuple[bool, bool]] = {
    "STOP": (True, True),
    "STOP_LOSS": (True, True),
    "STOP_LIMIT": (True, False),
    "STOP_LOSS_LIMIT": (True, False),
    "TAKE_PROFIT": (False, True),
    "TAKE_PROFIT_LIMIT": (False, False),
}
MARKET_KINDS = frozenset(k for k, (_, market) in STOP_KINDS.items() if market) | {"MARKET"}
decimal_of = _decimal  # (engine/quote_quantity.py, engine/triggers.py)


def _allowed(spec: InstrumentSpec, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    given = spec.extra.get(key)
    return tuple(given) if isinstance(given, list | tuple) else default


allowed = _allowed  # (engine/order_lists.py)


def instrument_status(market: Market, spec: InstrumentSpec) -> str:
    """An instrument's status now, as the market reads it (enable, disable and halt are
    the market's own business)."""
    return market.status(market.instruments.get(spec.instrument_id, spec))


def check_kind(spec: InstrumentSpec, req: OrderRequest) -> tuple[str, str, str]:
    if req.side not in (BUY, SELL):
        raise ORDER_SIDE_NOT_SUPPORTED.error(f"{req.side} (allowed: BUY, SELL)")
    types = _allowed(spec, "orderTypes", ORDER_TYPES)
    if req.order_type not in types:
        raise ORDER_TYPE_NOT_SUPPORTED.error(
            f"{req.order_type} on {spec.instrument_id} (allowed: {', '.join(types)})"
        )
    tif = req.time_in_force
    if tif is None:
        tif = "GTD" if req.expire_at is not None else "GTC"
        if req.order_type == "MARKET":
            tif = "IOC"
    if req.order_type in STOP_KINDS and tif not in ("GTC", "GTD"):
        raise TIME_IN_FORCE_NOT_SUPPORTED.error(
            f"{tif} on a {req.order_type} order (allowed: GTC, GTD)"
        )
    allowed = _allowed(spec, "timeInForceOptions", TIME_IN_FORCE)
    if tif not in allowed and not (req.order_type == "MARKET" and tif == "IOC"):
        raise TIME_IN_FORCE_NOT_SUPPORTED.error(
            f"{tif} on {spec.instrument_id} (allowed: {', '.join(allowed)})"
        )
    if (tif == "GTD") != (req.expire_at is not None):
        raise INVALID_ORDER.error("expireAt goes with timeInForce GTD, and GTD needs it")
    return req.order_type, req.side, tif


def check_quantity(spec: InstrumentSpec, req: OrderRequest) -> Decimal:
    if req.quantity_type not in (None, "BASE"):
        raise INVALID_ORDER.error(
            f"quantityType {req.quantity_type}: the mock takes BASE quantities"
        )
    qty = _decimal(req.quantity, "quantity")
    lots = qty / spec.lot_size
    rounding = _ROUNDING.get(req.quantity_rounding or "")
    if rounding is not None:
        lots = lots.to_integral_value(rounding)
    if lots != lots.to_integral_value():
        raise INVALID_ORDER.error(f"quantity {qty} is not a multiple of lotSize {spec.lot_size}")
    qty = lots * spec.lot_size
    if not spec.min_quantity <= qty <= spec.max_quantity:
        raise INVALID_ORDER.error(
            f"quantity {qty} is outside [{spec.min_quantity}, {spec.max_quantity}]"
        )
    return qty


def check_limit(spec: InstrumentSpec, req: OrderRequest, order_type: str) -> Decimal | None:
    if order_type in MARKET_KINDS:
        return None
    if req.limit_price is None:
        raise INVALID_ORDER.error(f"limitPrice is required for a {order_type} order")
    price = _decimal(req.limit_price, "limitPrice")
    if price % spec.pip_size:
        raise INVALID_ORDER.error(
            f"limitPrice {price} is not a multiple of pipSize {spec.pip_size}"
        )
    return price


def need(
    spec: InstrumentSpec,
    side: str,
    qty: Decimal,
    limit: Decimal | None,
    takes: list[Take],
    taker: Decimal,
) -> tuple[Decimal, str]:
    """(how much of which asset the order needs free): a LIMIT's lock, or what a
    MARKET order pays for what it takes now."""
    if side == SELL:
        return qty, spec.base
    if limit is not None:
        return ceil(qty * limit * (1 + taker)), spec.quote
    total = Decimal(0)
    for take in takes:
        cost = spec.pip_size * take.price * spec.lot_size * take.lots
        total += cost + fee(cost, taker)
    # What the book cannot fill now is priced at its last level: a MARKET order larger
    # than the account can pay is refused, not filled as far as the book goes.
    short = qty - spec.lot_size * sum(t.lots for t in takes)
    if short > 0 and takes:
        total += ceil(short * spec.pip_size * takes[-1].price * (1 + taker))
    return total, spec.quote

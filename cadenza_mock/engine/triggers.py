"""Stop and take-profit orders: the check of `stopPrice` at submit, and the trigger found on
the mock clock's price path, as resting LIMIT orders are crossed (engine/orders.py
`catch_up`: lazily, and at once by a clock move or a price set).

The platform's document names the types and `stopPrice` and says nothing of when they
trigger; this is what the venues do (docs/trading.md "Stop and take-profit orders"): a
stop (STOP, STOP_LOSS, STOP_LIMIT, STOP_LOSS_LIMIT) triggers a SELL when the last price
falls to `stopPrice` and a BUY when it rises to it; a take-profit (TAKE_PROFIT,
TAKE_PROFIT_LIMIT) the other way. A stop already on the wrong side of the last price is
refused (400 -18025, as venues answer "would trigger immediately").

Until triggered the order rests ACCEPTED and locks what it may need (a SELL its base, a
BUY its quantity at the limit price, or at the stop price for the market kinds, with the
taker fee). When triggered, at the first instant of the path at or past the stop: the
market kinds (STOP, STOP_LOSS, TAKE_PROFIT) give the lock back and walk that instant's
book as a MARKET order (what the free balance cannot pay, or the book cannot fill,
EXPIRED); the limit kinds take what crosses that book (taker fee) and rest at their limit
as a LIMIT order from then on. Every status change goes through the one table
(engine/orders.py TRANSITIONS).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cadenza_mock.contract.errors import INVALID_ORDER, ORDER_REJECTED
from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.engine.fills import BUY, Take, walk_book
from cadenza_mock.engine.market import Market
from cadenza_mock.engine.order_checks import MARKET_KINDS, STOP_KINDS, OrderRequest, decimal_of
from cadenza_mock.engine.portfolio import Portfolio

FILLED, EXPIRED = "FILLED", "EXPIRED"  # (engine/orders.py's, which imports this module)

if TYPE_CHECKING:
    from cadenza_mock.engine.orders import Order, Trading


def rises(order_type: str, side: str) -> bool:
    """Whether the order triggers when the price rises to its stop (else when it falls)."""
    return STOP_KINDS[order_type][0] == (side == BUY)


def check_stop(
    market: Market, spec: InstrumentSpec, req: OrderRequest, order_type: str, side: str
) -> Decimal | None:
    """A stop kind's stopPrice (on the tick grid, on the side of the last price it waits
    for); None for every other kind (which ignore it)."""
    if order_type not in STOP_KINDS:
        return None
    if req.stop_price is None:
        raise INVALID_ORDER.error(f"stopPrice is required for a {order_type} order")
    stop = decimal_of(req.stop_price, "stopPrice")
    if stop % spec.pip_size:
        raise INVALID_ORDER.error(f"stopPrice {stop} is not a multiple of pipSize {spec.pip_size}")
    last = spec.pip_size * market.ticker(spec).last
    up = rises(order_type, side)
    if (stop <= last) if up else (stop >= last):
        raise ORDER_REJECTED.error(
            f"a {side} {order_type} at stopPrice {stop} would trigger immediately: the last "
            f"price is {last} (it waits for the price to {'rise' if up else 'fall'} to it)"
        )
    return stop


def _reached(market: Market, order: Order, start: int, end: int) -> bool:
    """Whether the price path reached the order's stop in (start, end]."""
    if end <= start:
        return False
    assert order.stop_price is not None
    stop = int(order.stop_price / order.spec.pip_size)
    _, high, low, _, _ = market.walk(order.spec).candle(start + 1, end)
    return bool(high >= stop) if rises(order.order_type, order.side) else bool(low <= stop)


def trigger_at(market: Market, order: Order, start: int, end: int) -> int | None:
    """The first instant (ms) in (start, end] at which the path reached the stop, or None:
    a bisection of the span (a few dozen candles, only when it was reached)."""
    if not _reached(market, order, start, end):
        return None
    lo, hi = start, end
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _reached(market, order, start, mid):
            hi = mid
        else:
            lo = mid
    return hi


def fire(trading: Trading, order: Order, pf: Portfolio, at: int) -> None:
    """The order triggered at `at`: a MARKET walk of that instant's book, or a LIMIT order
    that takes what crosses it and rests with the rest."""
    spec = order.spec
    order.triggered_at = at
    order.checked_ms = at
    book = trading.market.book(spec, spec.depth, at)
    taker = trading.fees(order.trading_account_id, spec.venue)[1]
    lots = int(order.remaining / spec.lot_size)
    market = order.order_type in MARKET_KINDS
    if market and order.locked:  # a MARKET walk pays out of free
        pf.release(spec.quote if order.side == BUY else spec.base, order.locked, at)
        order.locked = Decimal(0)
    limit = order.limit_ticks
    takes = walk_book(book, order.side, lots, limit)
    if market and order.side == BUY:
        takes = _affordable(spec, takes, pf.free(spec.quote), taker)
    for take in takes:
        price, got = spec.pip_size * take.price, spec.lot_size * take.lots
        trading._fill(order, pf, price, got, taker, at)
    if market and order.status != FILLED:
        trading._close(order, pf, EXPIRED, at)
    trading._move(order, order.status, at)  # updatedAt: the trigger's instant


def _affordable(
    spec: InstrumentSpec, takes: list[Take], free: Decimal, rate: Decimal
) -> list[Take]:
    """The takes a free balance pays for, with the fee (the rest expires)."""
    paid: list[Take] = []
    for take in takes:
        per_lot = spec.pip_size * take.price * spec.lot_size * (1 + rate)
        lots = min(take.lots, int(free / per_lot))
        if lots:
            paid.append(Take(take.price, lots))
            free -= lots * per_lot
        if lots < take.lots:
            break
    return paid

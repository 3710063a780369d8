"""Order lists: a submit with `takeProfitPrice` and/or `stopLossPrice` is an entry order
plus attached exit orders (the platform's `orderListId` and `contingencyType`).

The document names the fields and the contingency types (OCO / OTO / OTOCO, "present on
all orders in a list") and says nothing of when the exits exist; this is what venues do
(Binance OTOCO, docs/trading.md "Order lists"): the exits are placed, ACCEPTED, when the
entry closes having filled (FILLED, or EXPIRED after partial fills), on the opposite side
for the entry's executed quantity, as stop kinds of engine/triggers.py (TAKE_PROFIT(_LIMIT),
STOP_LOSS(_LIMIT)); the two exits are one-cancels-the-other: when one triggers (starts
filling) or is cancelled, the other is CANCELLED. A cancelled entry ends the list.

The two exits of a pair hold one lock (they sell the same base, or buy with the same
quote): the take-profit locks, the stop-loss holds nothing until it triggers, when the
sibling is cancelled first and its lock moves over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cadenza_mock.contract.errors import (
    INVALID_ORDER,
    ORDER_REJECTED,
    ORDER_TYPE_NOT_SUPPORTED,
    TIME_IN_FORCE_NOT_SUPPORTED,
)
from cadenza_mock.contract.market_catalogue import ORDER_TYPES, InstrumentSpec
from cadenza_mock.engine.fills import BUY, SELL
from cadenza_mock.engine.market import Market
from cadenza_mock.engine.order_checks import OrderRequest, allowed, decimal_of, need
from cadenza_mock.engine.portfolio import Portfolio
from cadenza_mock.engine.triggers import fire, trigger_at

if TYPE_CHECKING:
    from cadenza_mock.engine.orders import Order, Trading

OCO, OTO, OTOCO = "OCO", "OTO", "OTOCO"
TAKE_PROFIT, STOP_LOSS = "takeProfit", "stopLoss"
_KINDS = {
    TAKE_PROFIT: ("TAKE_PROFIT", "TAKE_PROFIT_LIMIT"),
    STOP_LOSS: ("STOP_LOSS", "STOP_LOSS_LIMIT"),
}


@dataclass(frozen=True, slots=True)
class Exit:
    """One attached exit, as submitted: placed when the entry has filled."""

    kind: str  # TAKE_PROFIT or STOP_LOSS (the request's field prefix)
    trigger: Decimal
    limit: Decimal | None
    time_in_force: str

    @property
    def order_type(self) -> str:
        return _KINDS[self.kind][self.limit is not None]


def _price(spec: InstrumentSpec, value: str | None, field: str) -> Decimal | None:
    if value is None:
        return None
    found = decimal_of(value, field)
    if found % spec.pip_size:
        raise INVALID_ORDER.error(f"{field} {found} is not a multiple of pipSize {spec.pip_size}")
    return found


def check_exits(
    market: Market, spec: InstrumentSpec, req: OrderRequest, side: str, limit: Decimal | None
) -> tuple[Exit, ...]:
    """The request's exits, checked (grid, side of the entry's price, limit only with its
    trigger); () for an order without any. Every refusal changes nothing."""
    if not any(getattr(req, name) is not None for name in _EXIT_FIELDS):
        return ()  # nearly every order: no ticker read (a submit's hot path)
    exits: list[Exit] = []
    reference: Decimal | None = None  # the entry's price, read once an exit needs it
    for kind in (TAKE_PROFIT, STOP_LOSS):
        trigger = _price(spec, getattr(req, f"{_snake(kind)}_price"), f"{kind}Price")
        limit_price = _price(spec, getattr(req, f"{_snake(kind)}_limit_price"), f"{kind}LimitPrice")
        tif = getattr(req, f"{_snake(kind)}_time_in_force")
        if trigger is None:
            if limit_price is not None or tif is not None:
                raise INVALID_ORDER.error(
                    f"{kind}LimitPrice and {kind}TimeInForce need {kind}Price"
                )
            continue
        if tif is not None and tif != "GTC":  # GTD would need an expireAt of its own
            raise TIME_IN_FORCE_NOT_SUPPORTED.error(
                f"{kind}TimeInForce {tif} (allowed: GTC: an exit rests until it triggers)"
            )
        if reference is None:
            reference = limit if limit is not None else spec.pip_size * market.ticker(spec).last
        above = (kind == TAKE_PROFIT) == (side == BUY)  # a BUY's take-profit: above
        if (trigger <= reference) if above else (trigger >= reference):
            raise ORDER_REJECTED.error(
                f"{kind}Price {trigger} of a {side} entry must be "
                f"{'above' if above else 'below'} its price {reference}"
            )
        found = Exit(kind, trigger, limit_price, tif or "GTC")
        if found.order_type not in allowed(spec, "orderTypes", ORDER_TYPES):
            raise ORDER_TYPE_NOT_SUPPORTED.error(
                f"{kind}Price makes a {found.order_type} exit, not on {spec.instrument_id}"
            )
        exits.append(found)
    return tuple(exits)


# The request's fields of the exits (OrderRequest attributes).
_EXIT_FIELDS = tuple(
    f"{part}{suffix}"
    for part in ("take_profit", "stop_loss")
    for suffix in ("_price", "_limit_price", "_time_in_force")
)


def _snake(kind: str) -> str:
    return "take_profit" if kind == TAKE_PROFIT else "stop_loss"


def contingency(exits: tuple[Exit, ...]) -> str:
    return OTOCO if len(exits) == 2 else OTO


def list_id(order_id: str) -> str:
    """A list's id: a number string, as venues give it, drawn from the entry's seeded id."""
    return str(int(order_id.replace("-", ""), 16) % 10**10)


def members(trading: Trading, order: Order) -> list[Order]:
    assert order.order_list_id is not None
    return trading.lists.get(order.order_list_id, [])


def link(trading: Trading, order: Order) -> None:
    """Keep the order among its list's (a submit, a placement, a restore)."""
    if order.order_list_id is not None:
        found = trading.lists.setdefault(order.order_list_id, [])
        if order not in found:
            found.append(order)


def after_change(trading: Trading, order: Order, pf: Portfolio) -> None:
    """What an order's change does to its list: an entry that closed having filled places
    the exits; an exit that filled or was cancelled cancels its sibling."""
    from cadenza_mock.engine.orders import CANCELLED, FINAL, OPEN

    if order.exits:  # the entry
        if order.status in FINAL:
            exits, order.exits = order.exits, ()
            if order.executed > 0 and order.status != CANCELLED:
                _place(trading, order, exits, pf)
        return
    if (order.cancel_reason or "").startswith("order list"):
        return  # cancelled for its sibling: that one goes on
    if order.status not in OPEN or order.executed > 0:
        for sibling in members(trading, order):
            if sibling is not order and sibling.exit_of and sibling.status in OPEN:
                why = f"order list {order.order_list_id}: sibling {order.order_id} {order.status}"
                trading._close(sibling, pf, CANCELLED, order.updated_at, why)
                trading._changed(sibling, pf)


def triggering(trading: Trading, order: Order, pf: Portfolio, at: int) -> bool:
    """An exit is about to trigger at `at`: its sibling is cancelled (giving its lock back)
    and the exit locks what it needs. False when the sibling reached its own stop first
    (one clock move may pass both): that one triggers, this one is cancelled."""
    from cadenza_mock.engine.orders import CANCELLED, OPEN

    if order.order_list_id is None or not order.exit_of:
        return True
    for sibling in members(trading, order):
        if sibling is order or not sibling.exit_of or sibling.status not in OPEN:
            continue
        first = None
        if sibling.triggered_at is None and sibling.checked_ms < at:
            first = trigger_at(trading.market, sibling, sibling.checked_ms - 1, at - 1)
        won, lost, when = (sibling, order, first) if first is not None else (order, sibling, at)
        why = f"order list {order.order_list_id}: sibling {won.order_id} triggered"
        trading._close(lost, pf, CANCELLED, when, why)
        trading._changed(lost, pf)
        if first is not None:
            if not sibling.locked:
                _lock(trading, sibling, pf, first)
            fire(trading, sibling, pf, first)
            trading._changed(sibling, pf)
            return False
    if not order.locked:
        _lock(trading, order, pf, at)
    return True


def _lock(trading: Trading, order: Order, pf: Portfolio, at: int) -> bool:
    spec = order.spec
    taker = trading.fees(order.trading_account_id, spec.venue)[1]
    needed, asset = need(
        spec, order.side, order.quantity, order.limit_price or order.stop_price, [], taker
    )
    if pf.free(asset) < needed:
        return False
    order.locked = needed
    pf.lock(asset, needed, at)
    return True


def _place(trading: Trading, entry: Order, exits: tuple[Exit, ...], pf: Portfolio) -> None:
    """The exits, ACCEPTED on the other side for what the entry got; REJECTED when the
    account cannot hold their lock (a SELL entry's buy-back above what it received)."""
    from cadenza_mock.engine.orders import ACCEPTED, REJECTED, SUBMITTED, Order

    at = entry.updated_at
    trading.orders.setdefault(entry.order_id.lower(), entry)  # the entry first, then its exits
    placed: list[Order] = []
    for ex in exits:
        order = Order(
            trading._new_id("order"),
            entry.trading_account_id,
            entry.user_id,
            entry.spec,
            SELL if entry.side == BUY else BUY,
            ex.order_type,
            ex.time_in_force,
            entry.executed,
            ex.limit,
            at,
            updated_at=at,
            checked_ms=at,
            stop_price=ex.trigger,
            order_list_id=entry.order_list_id,
            contingency=entry.contingency,
            exit_of=entry.order_id,
        )
        trading._move(order, SUBMITTED, at)
        placed.append(order)
    # One lock for the pair: the first exit's (the take-profit's when there are two).
    ok = _lock(trading, placed[0], pf, at)
    for order in placed:
        trading._move(order, ACCEPTED if ok else REJECTED, at)
        trading.orders[order.order_id.lower()] = order
        link(trading, order)
        if ok:
            trading.register_open(order)
        trading._changed(order, pf)


def placed(trading: Trading, entry: Order) -> list[Order]:
    """The entry and the exits placed so far (what submit answers)."""
    if entry.order_list_id is None:
        return [entry]
    return [entry] + [o for o in members(trading, entry) if o.exit_of == entry.order_id]


# ---------------------------------------------------------------- the state file's words


def exit_record(ex: Exit) -> dict[str, Any]:
    """An entry's exit not placed yet, as the state file keeps it (persist_trading.py)."""
    return {
        "kind": ex.kind,
        "price": str(ex.trigger),
        "limitPrice": None if ex.limit is None else str(ex.limit),
        "timeInForce": ex.time_in_force,
    }


def exits_of(found: Any, place: str, fail: Callable[[str, str], Exception]) -> tuple[Exit, ...]:
    """The exits of a state file's entry (each checked as the file's other records)."""
    exits: list[Exit] = []
    for i, rec in enumerate(found):
        at = f"{place}[{i}]"
        if not isinstance(rec, dict) or rec.get("kind") not in _KINDS:
            raise fail(f"{at}.kind", f"expected one of {', '.join(_KINDS)}")
        try:
            limit = rec.get("limitPrice")
            trigger = Decimal(rec["price"])
            exits.append(
                Exit(
                    rec["kind"],
                    trigger,
                    None if limit is None else Decimal(limit),
                    str(rec["timeInForce"]),
                )
            )
        except (KeyError, TypeError, ArithmeticError) as e:
            raise fail(at, f"expected price, limitPrice and timeInForce ({e})") from None
    return tuple(exits)

"""Orders and portfolios in the state file: the document's `trading` part, written from
the order engine (engine/orders.py) and read back into it.

Its keys are declared in persist_format.py with the other records' (since format version
3; RFQ quotes, a QUOTED order's quoteId and what a late or slow venue still owes an
order since 4, which older files stand without); decimals are strings, as on the
wire. The part is optional: a file without it (every version 1 file, most version 2
files) restores none. A bad value is an error naming its
place, found before anything changes. Nothing secret is in it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from cadenza_mock.contract.trading_enums import ORDER_STATUSES
from cadenza_mock.engine import persist_format as fmt
from cadenza_mock.engine.order_lists import exit_record, exits_of
from cadenza_mock.engine.orders import OPEN, Execution, Order, Trading
from cadenza_mock.engine.portfolio import Balance, Portfolio, Position
from cadenza_mock.engine.quotes import Quote, Quotes

# Each record's keys, as declared in persist_format.py: what the writer writes (in this
# order) and the reader checks (a key newer than the file reads its default).
TRADING_KEYS = fmt.TRADING
ORDER_KEYS = fmt.TRADE_ORDER
EXECUTION_KEYS = fmt.EXECUTION
PORTFOLIO_KEYS = fmt.PORTFOLIO
BALANCE_KEYS = fmt.BALANCE
POSITION_KEYS = fmt.POSITION
QUOTE_KEYS = fmt.QUOTE
SIDES = ("BUY", "SELL")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def trading_json(trading: Trading) -> dict[str, Any]:
    """The `trading` part for the engine as it is now (call between requests)."""
    orders = [
        {
            "tradeOrderId": o.order_id,
            "tradingAccountId": o.trading_account_id,
            "userId": o.user_id,
            "instrumentId": o.spec.instrument_id,
            "orderSide": o.side,
            "orderType": o.order_type,
            "timeInForce": o.time_in_force,
            "quantity": _text(o.quantity),
            "limitPrice": _text(o.limit_price),
            "createdAt": o.created_at,
            "expireAt": o.expire_at,
            "clientOrderId": o.client_order_id,
            "idempotencyKey": o.idempotency_key,
            "status": o.status,
            "updatedAt": o.updated_at,
            "checkedMs": o.checked_ms,
            "executed": _text(o.executed),
            "cost": _text(o.cost),
            "fees": _text(o.fees),
            "locked": _text(o.locked),
            "executions": [
                {
                    "executionId": e.execution_id,
                    "price": _text(e.price),
                    "quantity": _text(e.quantity),
                    "cost": _text(e.cost),
                    "fee": _text(e.fee),
                    "at": e.at,
                }
                for e in o.executions
            ],
            "canceledAt": o.canceled_at,
            "cancelReason": o.cancel_reason,
            "quoteId": o.quote_id,
            **_owed(trading, o),
            "quantityType": o.quantity_type,
            "stopPrice": _text(o.stop_price),
            "triggeredAt": o.triggered_at,
            "orderListId": o.order_list_id,
            "contingencyType": o.contingency,
            "exitOf": o.exit_of,
            "exits": [exit_record(x) for x in o.exits],
        }
        for o in trading.orders.values()
    ]
    portfolios = [
        {
            "tradingAccountId": pf.trading_account_id,
            "venue": pf.venue,
            "updatedAt": pf.updated_at,
            "balances": [
                {
                    "asset": b.asset,
                    "free": _text(b.free),
                    "locked": _text(b.locked),
                    "updatedAt": b.updated_at,
                }
                for b in pf.balances.values()
            ],
            "positions": [
                {
                    "positionId": p.position_id,
                    "instrumentId": p.spec.instrument_id,
                    "quantity": _text(p.quantity),
                    "entryPrice": _text(p.entry_price),
                    "realizedPnl": _text(p.realized),
                    "createdAt": p.created_at,
                    "updatedAt": p.updated_at,
                    "exitPrice": _text(p.exit_price),
                    "closedAt": p.closed_at,
                }
                for p in pf.positions.values()
            ],
        }
        for pf in trading.portfolios.values()
    ]
    return {
        "made": dict(trading.made),
        "orders": orders,
        "portfolios": portfolios,
        "quotes": quotes_json(trading.quotes),
    }


def quotes_json(quotes: Quotes) -> list[dict[str, Any]]:
    """The part's `quotes`: every RFQ quote made since the load, in creation order."""
    return [
        {
            "quoteId": q.quote_id,
            "tradingAccountId": q.trading_account_id,
            "dealerAccountId": q.dealer_account_id,
            "userId": q.user_id,
            "instrumentId": q.spec.instrument_id,
            "orderSide": q.side,
            "quantity": _text(q.quantity),
            "price": _text(q.price),
            "createdAt": q.created_at,
            "expireAt": q.expire_at,
            "quoteRequestId": q.request_id,
            "pricingProfileId": q.pricing_profile_id,
            "acceptedAt": q.accepted_at,
        }
        for q in quotes.by_id.values()
    ]


def _owed(trading: Trading, order: Order) -> dict[str, int | None]:
    due = trading.due.orders.get(order.order_id.lower()) if order.status in OPEN else None
    return {
        "fillDueAt": None if due is None else due.fill_ms,
        "cancelDueAt": None if due is None else due.cancel_ms,
    }


Fail = Callable[[str, str], Exception]


def _values(
    keys: tuple[fmt.Key, ...], obj: Any, place: str, fail: Fail, version: int = fmt.VERSION
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise fail(place, "expected an object")
    found: dict[str, Any] = {}
    for key in keys:
        name, kinds = key.name, key.kinds
        if name not in obj and version < key.since and not key.required:
            found[name] = key.default
            continue
        if name not in obj:
            raise fail(f"{place}.{name}", "missing")
        value = obj[name]
        if not isinstance(value, kinds) or isinstance(value, bool):
            shown = " or ".join("null" if k is fmt.NULL else k.__name__ for k in kinds)
            raise fail(f"{place}.{name}", f"expected {shown}")
        if type(value) is int and value < 0:  # every number here is an instant or a count
            raise fail(f"{place}.{name}", "expected a whole number from 0")
        found[name] = value
    return found


def _decimal(value: str | None, place: str, fail: Fail) -> Decimal | None:
    if value is None:
        return None
    try:
        found = Decimal(value)
    except InvalidOperation:
        raise fail(place, "expected a decimal") from None
    if not found.is_finite():
        raise fail(place, "expected a decimal")
    return found


def _money(value: str, place: str, fail: Fail) -> Decimal:
    found = _decimal(value, place, fail)
    assert found is not None
    return found


def read_trading(
    part: Any, trading: Trading, fail: Fail, version: int = fmt.VERSION
) -> Callable[[], None] | None:
    """Check a `trading` part (None: the file has none) of a file of `version` against the
    scenario's market and accounts; answer what puts it into `trading`, to run once
    everything else is checked."""
    if part is None:
        return None
    top = _values(TRADING_KEYS, part, "trading", fail, version)
    made = top["made"]
    if set(made) != set(trading.made):
        raise fail("trading.made", f"expected counts of {', '.join(trading.made)}")
    if not all(type(v) is int and v >= 0 for v in made.values()):
        raise fail("trading.made", "expected whole numbers")
    instruments = trading.market.instruments
    orders: list[Order] = []
    owed: dict[str, tuple[int | None, int | None]] = {}
    for i, obj in enumerate(top["orders"]):
        place = f"trading.orders[{i}]"
        v = _values(ORDER_KEYS, obj, place, fail, version)
        spec = instruments.get(v["instrumentId"])
        if spec is None:
            raise fail(f"{place}.instrumentId", "not an instrument of the scenario's market")
        if v["status"] not in ORDER_STATUSES:
            raise fail(f"{place}.status", f"expected one of {', '.join(ORDER_STATUSES)}")
        if v["orderSide"] not in SIDES:
            raise fail(f"{place}.orderSide", "expected BUY or SELL")
        if v["quantityType"] not in ("BASE", "QUOTE"):
            raise fail(f"{place}.quantityType", "expected BASE or QUOTE")
        executions = []
        for j, e in enumerate(v["executions"]):
            at = f"{place}.executions[{j}]"
            ev = _values(EXECUTION_KEYS, e, at, fail)
            price, qty, cost, paid = (
                _money(ev[k], f"{at}.{k}", fail) for k in ("price", "quantity", "cost", "fee")
            )
            executions.append(Execution(ev["executionId"], price, qty, cost, paid, ev["at"]))
        d = {k: _money(v[k], f"{place}.{k}", fail)
             for k in ("quantity", "executed", "cost", "fees", "locked")}  # fmt: skip
        order = Order(
            v["tradeOrderId"], v["tradingAccountId"], v["userId"], spec, v["orderSide"],
            v["orderType"], v["timeInForce"], d["quantity"],
            _decimal(v["limitPrice"], f"{place}.limitPrice", fail), v["createdAt"],
            v["expireAt"], v["clientOrderId"], v["idempotencyKey"], v["status"],
            v["updatedAt"], v["checkedMs"], d["executed"], d["cost"], d["fees"], d["locked"],
            executions, v["canceledAt"], v["cancelReason"], v["quoteId"],
            quantity_type=v["quantityType"],
            stop_price=_decimal(v["stopPrice"], f"{place}.stopPrice", fail),
            triggered_at=v["triggeredAt"],
            order_list_id=v["orderListId"], contingency=v["contingencyType"],
            exit_of=v["exitOf"], exits=exits_of(v["exits"], f"{place}.exits", fail),
        )  # fmt: skip
        orders.append(order)
        if v["fillDueAt"] is not None or v["cancelDueAt"] is not None:
            if order.status not in OPEN:
                raise fail(f"{place}.status", "only an open order awaits a venue's fill or cancel")
            owed[order.order_id.lower()] = (v["fillDueAt"], v["cancelDueAt"])
    portfolios: list[Portfolio] = []
    for i, obj in enumerate(top["portfolios"]):
        place = f"trading.portfolios[{i}]"
        head = _values(PORTFOLIO_KEYS, obj, place, fail)
        pf = Portfolio(head["tradingAccountId"], head["venue"], updated_at=head["updatedAt"])
        for j, b in enumerate(head["balances"]):
            at = f"{place}.balances[{j}]"
            bv = _values(BALANCE_KEYS, b, at, fail)
            pf.balances[bv["asset"]] = Balance(
                bv["asset"], _money(bv["free"], f"{at}.free", fail),
                _money(bv["locked"], f"{at}.locked", fail), bv["updatedAt"],
            )  # fmt: skip
        for j, p in enumerate(head["positions"]):
            at = f"{place}.positions[{j}]"
            pv = _values(POSITION_KEYS, p, at, fail)
            spec = instruments.get(pv["instrumentId"])
            if spec is None:
                raise fail(f"{at}.instrumentId", "not in the market")
            pf.positions[spec.instrument_id] = Position(
                pv["positionId"], spec, _money(pv["quantity"], f"{at}.quantity", fail),
                _money(pv["entryPrice"], f"{at}.entryPrice", fail),
                _money(pv["realizedPnl"], f"{at}.realizedPnl", fail),
                pv["createdAt"], pv["updatedAt"],
                _decimal(pv["exitPrice"], f"{at}.exitPrice", fail), pv["closedAt"],
            )  # fmt: skip
        portfolios.append(pf)
    quotes = read_quotes(top["quotes"], trading, fail)
    for i, order in enumerate(orders):
        if order.quote_id is not None and order.quote_id.lower() not in quotes.by_id:
            raise fail(f"trading.orders[{i}].quoteId", "no quote of trading.quotes has this id")

    def apply() -> None:
        trading.reset()
        trading.made.update(made)
        trading.restart_ids()
        for order in orders:
            trading.orders[order.order_id.lower()] = order
            fill_ms, cancel_ms = owed.get(order.order_id.lower(), (None, None))
            if fill_ms is not None or cancel_ms is not None:
                trading.due.owe(order, fill_ms=fill_ms, cancel_ms=cancel_ms)
            if order.status in OPEN and fill_ms is None:  # (not on the book until then)
                trading.register_open(order)
            trading.register_keys(order)
        for pf in portfolios:
            trading.portfolios[pf.trading_account_id.lower()] = pf
        trading.quotes = quotes
        trading.changed = bool(orders or portfolios or quotes.by_id)

    return apply


def read_quotes(found: Any, trading: Trading, fail: Fail) -> Quotes:
    """The part's `quotes` checked, as a store whose id stream goes on after them (a quote
    made after the restart gets the id it would have got without one)."""
    quotes = Quotes(trading._seed)
    for i, obj in enumerate(found):
        place = f"trading.quotes[{i}]"
        v = _values(QUOTE_KEYS, obj, place, fail)
        spec = trading.market.instruments.get(v["instrumentId"])
        if spec is None:
            raise fail(f"{place}.instrumentId", "not an instrument of the scenario's market")
        if v["orderSide"] not in SIDES:
            raise fail(f"{place}.orderSide", "expected BUY or SELL")
        if v["quoteId"].lower() in quotes.by_id:
            raise fail(f"{place}.quoteId", "a quote of this id comes earlier")
        quantity, price = (_money(v[k], f"{place}.{k}", fail) for k in ("quantity", "price"))
        for name, value in (("quantity", quantity), ("price", price)):
            if value <= 0:
                raise fail(f"{place}.{name}", "expected a decimal > 0")
        if v["expireAt"] <= v["createdAt"]:
            raise fail(f"{place}.expireAt", "expected an instant after createdAt")
        quote = Quote(
            v["quoteId"], v["tradingAccountId"], v["dealerAccountId"], v["userId"], spec,
            v["orderSide"], quantity, price, v["createdAt"], v["expireAt"],
            v["quoteRequestId"], v["pricingProfileId"], v["acceptedAt"],
        )  # fmt: skip
        quotes.new_id()  # the stream as it was after this quote
        quotes.add(quote)
    return quotes

"""Orders and portfolios in the state file: the document's `trading` part, written from
the order engine (engine/orders.py) and read back into it.

Its keys are declared here as the other records' are in persist_format.py (the file's own
names, JSON types); decimals are strings, as on the wire. The part is optional: a file
written before orders were kept (or with none) restores none, so files of format version
1 stay readable both ways. Nothing secret is in it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from cadenza_mock.engine.orders import OPEN, Execution, Order, Trading
from cadenza_mock.engine.portfolio import Balance, Portfolio, Position

NULL = type(None)
# (file key, JSON types) of each record: what the writer writes and the reader checks.
ORDER_KEYS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("tradeOrderId", (str,)),
    ("tradingAccountId", (str,)),
    ("userId", (str,)),
    ("instrumentId", (str,)),
    ("orderSide", (str,)),
    ("orderType", (str,)),
    ("timeInForce", (str,)),
    ("quantity", (str,)),
    ("limitPrice", (str, NULL)),
    ("createdAt", (int,)),
    ("expireAt", (int, NULL)),
    ("clientOrderId", (str, NULL)),
    ("idempotencyKey", (str, NULL)),
    ("status", (str,)),
    ("updatedAt", (int,)),
    ("checkedMs", (int,)),
    ("executed", (str,)),
    ("cost", (str,)),
    ("fees", (str,)),
    ("locked", (str,)),
    ("executions", (list,)),
    ("canceledAt", (int, NULL)),
    ("cancelReason", (str, NULL)),
)
EXECUTION_KEYS = (
    ("executionId", (str,)),
    ("price", (str,)),
    ("quantity", (str,)),
    ("cost", (str,)),
    ("fee", (str,)),
    ("at", (int,)),
)
BALANCE_KEYS = (("asset", (str,)), ("free", (str,)), ("locked", (str,)), ("updatedAt", (int,)))
POSITION_KEYS = (
    ("positionId", (str,)),
    ("instrumentId", (str,)),
    ("quantity", (str,)),
    ("entryPrice", (str,)),
    ("realizedPnl", (str,)),
    ("createdAt", (int,)),
    ("updatedAt", (int,)),
    ("exitPrice", (str, NULL)),
    ("closedAt", (int, NULL)),
)


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
    return {"made": dict(trading.made), "orders": orders, "portfolios": portfolios}


Fail = Callable[[str, str], Exception]


def _values(
    keys: tuple[tuple[str, tuple[type, ...]], ...], obj: Any, place: str, fail: Fail
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise fail(place, "expected an object")
    found: dict[str, Any] = {}
    for name, kinds in keys:
        if name not in obj:
            raise fail(f"{place}.{name}", "missing")
        value = obj[name]
        if not isinstance(value, kinds) or isinstance(value, bool):
            shown = " or ".join("null" if k is NULL else k.__name__ for k in kinds)
            raise fail(f"{place}.{name}", f"expected {shown}")
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


def read_trading(part: Any, trading: Trading, fail: Fail) -> Callable[[], None] | None:
    """Check a `trading` part (None: the file has none) against the scenario's market and
    accounts; answer what puts it into `trading`, to run once everything else is checked."""
    if part is None:
        return None
    if not isinstance(part, dict):
        raise fail("trading", "expected an object")
    made = part.get("made")
    if not isinstance(made, dict) or set(made) != set(trading.made):
        raise fail("trading.made", f"expected counts of {', '.join(trading.made)}")
    if not all(type(v) is int and v >= 0 for v in made.values()):
        raise fail("trading.made", "expected whole numbers")
    instruments = trading.market.instruments
    orders: list[Order] = []
    given = part.get("orders")
    for i, obj in enumerate(given if isinstance(given, list) else []):
        place = f"trading.orders[{i}]"
        v = _values(ORDER_KEYS, obj, place, fail)
        spec = instruments.get(v["instrumentId"])
        if spec is None:
            raise fail(f"{place}.instrumentId", "not an instrument of the scenario's market")
        executions = []
        for j, e in enumerate(v["executions"]):
            ev = _values(EXECUTION_KEYS, e, f"{place}.executions[{j}]", fail)
            at = f"{place}.executions[{j}]"
            price, qty, cost, paid = (
                _money(ev[k], f"{at}.{k}", fail) for k in ("price", "quantity", "cost", "fee")
            )
            executions.append(Execution(ev["executionId"], price, qty, cost, paid, ev["at"]))
        order = Order(
            v["tradeOrderId"], v["tradingAccountId"], v["userId"], spec, v["orderSide"],
            v["orderType"], v["timeInForce"], _money(v["quantity"], place, fail),
            _decimal(v["limitPrice"], place, fail), v["createdAt"], v["expireAt"],
            v["clientOrderId"], v["idempotencyKey"], v["status"], v["updatedAt"],
            v["checkedMs"], _money(v["executed"], place, fail), _money(v["cost"], place, fail),
            _money(v["fees"], place, fail), _money(v["locked"], place, fail), executions,
            v["canceledAt"], v["cancelReason"],
        )  # fmt: skip
        orders.append(order)
    portfolios: list[Portfolio] = []
    listed = part.get("portfolios")
    for i, obj in enumerate(listed if isinstance(listed, list) else []):
        place = f"trading.portfolios[{i}]"
        head = _values(
            (("tradingAccountId", (str,)), ("venue", (str,)), ("updatedAt", (int,)),
             ("balances", (list,)), ("positions", (list,))), obj, place, fail,
        )  # fmt: skip
        pf = Portfolio(head["tradingAccountId"], head["venue"], updated_at=head["updatedAt"])
        for j, b in enumerate(head["balances"]):
            bv = _values(BALANCE_KEYS, b, f"{place}.balances[{j}]", fail)
            pf.balances[bv["asset"]] = Balance(
                bv["asset"], _money(bv["free"], place, fail), _money(bv["locked"], place, fail),
                bv["updatedAt"],
            )  # fmt: skip
        for j, p in enumerate(head["positions"]):
            pv = _values(POSITION_KEYS, p, f"{place}.positions[{j}]", fail)
            spec = instruments.get(pv["instrumentId"])
            if spec is None:
                raise fail(f"{place}.positions[{j}].instrumentId", "not in the market")
            pf.positions[spec.instrument_id] = Position(
                pv["positionId"], spec, _money(pv["quantity"], place, fail),
                _money(pv["entryPrice"], place, fail), _money(pv["realizedPnl"], place, fail),
                pv["createdAt"], pv["updatedAt"], _decimal(pv["exitPrice"], place, fail),
                pv["closedAt"],
            )  # fmt: skip
        portfolios.append(pf)

    def apply() -> None:
        trading.reset()
        trading.made.update(made)
        trading.restart_ids()
        for order in orders:
            trading.orders[order.order_id.lower()] = order
            if order.status in OPEN:
                trading.register_open(order)
            trading.register_keys(order)
        for pf in portfolios:
            trading.portfolios[pf.trading_account_id.lower()] = pf
        trading.changed = bool(orders or portfolios)

    return apply

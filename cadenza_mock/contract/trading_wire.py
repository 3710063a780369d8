"""The JSON shapes of orders and portfolios: the platform document's tradeOrder,
tradeExecution, portfolio (balanceEntry, positionEntry, portfolioSummary) for REST, and
its rpcTradeOrder and rpcPortfolio for the WebSocket API (ISO date-times there). Decimals
become strings here and nowhere else. One vocabulary in both wire profiles."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cadenza_mock.contract.market_catalogue import InstrumentSpec, security_type
from cadenza_mock.contract.wire import iso_ms

if TYPE_CHECKING:  # the engine's records; the wire tier only reads their fields
    from cadenza_mock.engine.orders import Execution, Order
    from cadenza_mock.engine.portfolio import Balance, Portfolio, Position

ZERO = "0"


def text(value: Decimal) -> str:
    """A decimal as the document's pattern wants it: plain digits, no exponent."""
    found = format(value.normalize(), "f") if value else ZERO
    return found


def price(spec: InstrumentSpec, value: Decimal) -> str:
    """A price on the instrument's tick, as the market data writes it ("65006.50")."""
    return format(value.quantize(spec.pip_size), "f")


def quantity(spec: InstrumentSpec, value: Decimal) -> str:
    """A quantity on the instrument's lot ("0.01000")."""
    return format(value.quantize(spec.lot_size), "f")


def _fees(order: Order, amount: Decimal) -> list[dict[str, Any]]:
    spec = order.spec
    return [
        {
            "security": f"{spec.venue}:{spec.quote}",
            "asset": spec.quote,
            "venue": spec.venue,
            "quantity": text(amount),
        }
    ]


def execution(order: Order, e: Execution) -> dict[str, Any]:
    spec = order.spec
    return {
        "executionId": e.execution_id,
        "venue": spec.venue,
        "instrumentId": spec.instrument_id,
        "orderSide": order.side,
        "executedQuantity": quantity(spec, e.quantity),
        "executedPrice": price(spec, e.price),
        "executedCost": text(e.cost),
        "fees": _fees(order, e.fee),
        "executedAt": e.at,
        "executedAtDateTime": iso_ms(e.at),
    }


def trade_order(order: Order) -> dict[str, Any]:
    """The REST tradeOrder (with the document's required `cost` and `filled` too)."""
    spec = order.spec
    average = order.average_price
    found: dict[str, Any] = {
        "tradeOrderId": order.order_id,
        "tradingAccountId": order.trading_account_id,
        "venue": spec.venue,
        "instrumentId": spec.instrument_id,
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "orderSide": order.side,
        "orderType": order.order_type,
        "timeInForce": order.time_in_force,
        "status": order.status,
        "quantity": quantity(spec, order.quantity),
        "orderQuantityType": order.quantity_type,
        "executedPrice": text(average) if average is not None else ZERO,
        "executedQuantity": quantity(spec, order.executed),
        "executedCost": text(order.cost),
        "cost": text(order.cost),
        "filled": quantity(spec, order.executed),
        "fees": _fees(order, order.fees),
        "executions": [execution(order, e) for e in order.executions],
        "createdAt": order.created_at,
        "createdAtDateTime": iso_ms(order.created_at),
        "updatedAt": order.updated_at,
        "updatedAtDateTime": iso_ms(order.updated_at),
    }
    if order.limit_price is not None:
        found["limitPrice"] = price(spec, order.limit_price)
    if order.stop_price is not None:
        found["stopPrice"] = price(spec, order.stop_price)
    if order.expire_at is not None:
        found["expireAt"] = order.expire_at
        found["expireAtDateTime"] = iso_ms(order.expire_at)
    if order.canceled_at is not None:
        found["canceledAt"] = order.canceled_at
        found["canceledAtDateTime"] = iso_ms(order.canceled_at)
    if order.cancel_reason is not None:
        found["cancelReason"] = order.cancel_reason
    if order.quote_id is not None:
        found["quoteId"] = order.quote_id
    if order.order_list_id is not None:
        found["orderListId"] = order.order_list_id
        found["contingencyType"] = order.contingency
    return found


def rpc_trade_order(order: Order) -> dict[str, Any]:
    """The WebSocket API's rpcTradeOrder: its own keys, ISO date-times."""
    spec = order.spec
    average = order.average_price
    found: dict[str, Any] = {
        "tradeOrderId": order.order_id,
        "venue": spec.venue,
        "tradingAccountId": order.trading_account_id,
        "instrumentId": spec.instrument_id,
        "externalSymbol": spec.external_symbol,
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "orderType": order.order_type,
        "orderSide": order.side,
        "quantityType": order.quantity_type,
        "quantity": quantity(spec, order.quantity),
        "timeInForce": order.time_in_force,
        "status": order.status,
        "executedPrice": text(average) if average is not None else ZERO,
        "executedQuantity": quantity(spec, order.executed),
        "executedCost": text(order.cost),
        "fees": [{"asset": spec.quote, "quantity": text(order.fees)}],  # rpcSecurityQuantity
        "createdAt": iso_ms(order.created_at),
        "updatedAt": iso_ms(order.updated_at),
    }
    optional = {
        "clientOrderId": order.client_order_id,
        "idempotencyKey": order.idempotency_key,
        "limitPrice": price(spec, order.limit_price) if order.limit_price is not None else None,
        "stopPrice": price(spec, order.stop_price) if order.stop_price is not None else None,
        "expireAt": iso_ms(order.expire_at),
        "lastExecutionAt": iso_ms(order.executions[-1].at) if order.executions else None,
        "canceledAt": iso_ms(order.canceled_at),
        "cancelReason": order.cancel_reason,
        "quoteId": order.quote_id,
    }
    found.update((k, v) for k, v in optional.items() if v is not None)
    return found


def _balance(pf: Portfolio, b: Balance, iso: bool) -> dict[str, Any]:
    return {
        "securitySymbol": b.asset,
        "securityType": security_type(b.asset),
        "tradingAccountId": pf.trading_account_id,
        "status": "ACTIVE",
        "free": text(b.free),
        "locked": text(b.locked),
        "borrowed": ZERO,
        "total": text(b.total),
        "net": text(b.total),
        **(
            {"updatedAt": iso_ms(b.updated_at)}
            if iso
            else {"updatedAt": b.updated_at, "updatedAtDateTime": iso_ms(b.updated_at)}
        ),
    }


def _position(pf: Portfolio, p: Position, price: Decimal | None, iso: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "positionId": p.position_id,
        "securitySymbol": p.spec.base,
        "tradingAccountId": pf.trading_account_id,
        "instrumentId": p.spec.instrument_id,
        "securityType": security_type(p.spec.base),
        "status": p.status,
        "positionSide": "LONG",
        "quantity": text(p.quantity),
        "entryPrice": text(p.entry_price),
        "realizedPnl": text(p.realized),
    }
    if price is not None:
        found["currentPrice"] = text(price)
        gain = (price - p.entry_price) * p.quantity
        found["unrealizedPnl"] = text(gain.quantize(Decimal("0.00000001")))
    if p.exit_price is not None:
        found["exitPrice"] = text(p.exit_price)
    if iso:
        found["createdAt"] = iso_ms(p.created_at)
        found["updatedAt"] = iso_ms(p.updated_at)
    else:
        found["createdAt"] = p.created_at
        found["createdAtDateTime"] = iso_ms(p.created_at)
        found["updatedAt"] = p.updated_at
        found["updatedAtDateTime"] = iso_ms(p.updated_at)
        if p.closed_at is not None:
            found["closedAt"] = p.closed_at
            found["closedAtDateTime"] = iso_ms(p.closed_at)
    return found


def equity(pf: Portfolio, prices: Mapping[str, Decimal]) -> Decimal:
    """The portfolio's worth in its venue's quote asset: cash, and each position's base
    at its instrument's last price (a base without an instrument is not counted)."""
    worth = Decimal(0)
    priced = {p.spec.base: (p.spec.quote, prices.get(i)) for i, p in pf.positions.items()}
    quotes = {q for q, _ in priced.values()}
    for asset, b in pf.balances.items():
        if asset in quotes or asset not in priced:
            worth += b.total if asset in quotes else Decimal(0)
            continue
        price = priced[asset][1]
        if price is not None:
            worth += b.total * price
    return worth


def portfolio(
    pf: Portfolio, prices: Mapping[str, Decimal], quote: str, rpc: bool = False
) -> dict[str, Any]:
    """The document's portfolio (rpcPortfolio with `rpc`): balances, positions at the
    ticker's last price, and a spot summary (leverage 1, no margin)."""
    worth = equity(pf, prices)
    exposure = worth - pf.balances[quote].total if quote in pf.balances else worth
    summary = {
        "tradingAccountId": pf.trading_account_id,
        "currency": quote,
        "leverage": 1,
        "equity": text(worth),
        "margin": ZERO,
        "marginLoan": ZERO,
        "marginUsage": ZERO,
        "marginRequirement": ZERO,
        "marginLevel": ZERO,
        "credit": ZERO,
        "riskExposure": text(exposure),
    }
    found: dict[str, Any] = {
        "tradingAccountId": pf.trading_account_id,
        "balances": [_balance(pf, b, rpc) for b in pf.balances.values()],
        "positions": [_position(pf, p, prices.get(i), rpc) for i, p in pf.positions.items()],
        "summary": summary,
    }
    if rpc:
        found["updatedAt"] = iso_ms(pf.updated_at)
    else:
        found["venue"] = pf.venue
        found["updatedAt"] = pf.updated_at
        found["updatedAtDateTime"] = iso_ms(pf.updated_at)
    return found

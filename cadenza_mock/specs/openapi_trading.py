"""The trading components (the platform document's tradeOrder, tradeExecution,
securityQuantity, portfolio, balanceEntry, positionEntry and portfolioSummary), strict:
what the order engine answers is exactly these keys (contract/trading_wire.py), in both
wire profiles."""

from __future__ import annotations

from typing import Any

from cadenza_mock.contract.json_schema import EPOCH_MS, ISO_MS, UUID, ref, strict
from cadenza_mock.contract.market_catalogue import SECURITY_TYPES
from cadenza_mock.contract.trading_enums import (
    ORDER_SIDES,
    ORDER_STATUSES,
    ORDER_TYPES_ALL,
    QUANTITY_TYPES,
    TIME_IN_FORCE_ALL,
)

DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "a decimal"}
_TEXT = {"type": "string"}


def _enum(values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _stamps(*names: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in names:
        found[name] = EPOCH_MS
        found[f"{name}DateTime"] = ISO_MS
    return found


def trading_schemas() -> dict[str, Any]:
    fee = strict({"security": _TEXT, "asset": _TEXT, "venue": ref("Venue"), "quantity": DECIMAL})
    execution = strict(
        {
            "executionId": UUID,
            "venue": ref("Venue"),
            "instrumentId": _TEXT,
            "orderSide": _enum(ORDER_SIDES),
            "executedQuantity": DECIMAL,
            "executedPrice": DECIMAL,
            "executedCost": DECIMAL,
            "fees": {"type": "array", "items": ref("SecurityQuantity")},
            **_stamps("executedAt"),
        }
    )
    order_required = [
        "tradeOrderId", "tradingAccountId", "venue", "instrumentId", "baseAsset", "quoteAsset",
        "orderSide", "orderType", "timeInForce", "status", "quantity", "orderQuantityType",
        "executedPrice", "executedQuantity", "executedCost", "cost", "filled", "fees",
        "executions", "createdAt", "createdAtDateTime", "updatedAt", "updatedAtDateTime",
    ]  # fmt: skip
    order = strict(
        {
            "tradeOrderId": UUID,
            "tradingAccountId": UUID,
            "venue": ref("Venue"),
            "instrumentId": _TEXT,
            "baseAsset": _TEXT,
            "quoteAsset": _TEXT,
            "orderSide": _enum(ORDER_SIDES),
            "orderType": _enum(ORDER_TYPES_ALL),
            "timeInForce": _enum(TIME_IN_FORCE_ALL),
            "status": _enum(ORDER_STATUSES),
            "quantity": DECIMAL,
            "orderQuantityType": _enum(QUANTITY_TYPES),
            "limitPrice": DECIMAL,
            "stopPrice": DECIMAL,
            "orderListId": _TEXT,  # an order list's orders (engine/order_lists.py)
            "contingencyType": _enum(("OCO", "OTO", "OTOCO")),
            "executedPrice": DECIMAL,
            "executedQuantity": DECIMAL,
            "executedCost": DECIMAL,
            "cost": DECIMAL,
            "filled": DECIMAL,
            "fees": {"type": "array", "items": ref("SecurityQuantity")},
            "executions": {"type": "array", "items": ref("TradeExecution")},
            "cancelReason": _TEXT,
            "quoteId": UUID,
            **_stamps("createdAt", "updatedAt", "expireAt", "canceledAt"),
        },
        order_required,
    )
    security = _enum(SECURITY_TYPES)
    balance = strict(
        {
            "securitySymbol": _TEXT,
            "securityType": security,
            "tradingAccountId": UUID,
            "status": _enum(("ACTIVE", "LOCKED")),
            "free": DECIMAL,
            "locked": DECIMAL,
            "borrowed": DECIMAL,
            "total": DECIMAL,
            "net": DECIMAL,
            **_stamps("updatedAt"),
        }
    )
    position_required = [
        "positionId", "securitySymbol", "tradingAccountId", "securityType", "status",
        "positionSide", "quantity", "createdAt", "updatedAt",
    ]  # fmt: skip
    position = strict(
        {
            "positionId": UUID,
            "securitySymbol": _TEXT,
            "tradingAccountId": UUID,
            "instrumentId": _TEXT,
            "securityType": security,
            "status": _enum(("OPEN", "CLOSED")),
            "positionSide": _enum(("LONG", "SHORT")),
            "quantity": DECIMAL,
            "entryPrice": DECIMAL,
            "exitPrice": DECIMAL,
            "currentPrice": DECIMAL,
            "unrealizedPnl": DECIMAL,
            "realizedPnl": DECIMAL,
            **_stamps("createdAt", "updatedAt", "closedAt"),
        },
        position_required,
    )
    summary = strict(
        {
            "tradingAccountId": UUID,
            "currency": _TEXT,
            "leverage": {"type": "integer"},
            "equity": DECIMAL,
            "margin": DECIMAL,
            "marginLoan": DECIMAL,
            "marginUsage": DECIMAL,
            "marginRequirement": DECIMAL,
            "marginLevel": DECIMAL,
            "credit": DECIMAL,
            "riskExposure": DECIMAL,
        }
    )
    portfolio = strict(
        {
            "tradingAccountId": UUID,
            "venue": ref("Venue"),
            "balances": {"type": "array", "items": ref("BalanceEntry")},
            "positions": {"type": "array", "items": ref("PositionEntry")},
            "summary": ref("PortfolioSummary"),
            **_stamps("updatedAt"),
        }
    )
    quote = strict(
        {
            "quoteId": UUID,
            "quoteRequestId": _TEXT,
            "venue": ref("Venue"),
            "instrumentId": _TEXT,
            "dealerAccountId": UUID,
            "traderAccountId": UUID,
            "baseAsset": _TEXT,
            "quoteAsset": _TEXT,
            "orderSide": _enum(ORDER_SIDES),
            "quantityType": _enum(("BASE", "QUOTE")),
            "quantity": DECIMAL,
            "quoteQuantity": DECIMAL,
            "price": DECIMAL,
            "status": _enum(("CREATED", "ACCEPTED", "REJECTED", "EXPIRED", "REPLACED")),
            "pricingProfileId": UUID,
            **_stamps("createdAt", "updatedAt", "expireAt"),
        },
        [
            "baseAsset", "createdAt", "dealerAccountId", "expireAt", "orderSide", "price",
            "quantity", "quoteAsset", "quoteId", "quoteQuantity", "status",
        ],
    )  # fmt: skip
    return {
        "Quote": quote,
        "SecurityQuantity": fee,
        "TradeExecution": execution,
        "TradeOrder": order,
        "BalanceEntry": balance,
        "PositionEntry": position,
        "PortfolioSummary": summary,
        "Portfolio": portfolio,
    }

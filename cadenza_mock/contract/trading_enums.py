"""The platform document's trading enums, whole (orderType, timeInForce, orderSide,
orderQuantityType, quantityRounding): request bodies accept them, the mock's own document
states them; the order engine answers the values it does not emulate with an 18xxx error."""

from __future__ import annotations

ORDER_TYPES_ALL = (
    "MARKET", "LIMIT", "LIMIT_MAKER", "STOP", "STOP_LIMIT", "STOP_LOSS", "STOP_LOSS_LIMIT",
    "TAKE_PROFIT", "TAKE_PROFIT_LIMIT", "TRAILING_STOP", "QUOTED", "UNKNOWN",
)  # fmt: skip
TIME_IN_FORCE_ALL = (
    "GTC", "IOC", "FOK", "GTD", "DAY", "GTX", "OPG", "CLS", "GFA", "GFS", "GTM", "MOO",
    "MOC", "EXT", "UNKNOWN",
)  # fmt: skip
ORDER_SIDES = ("BUY", "SELL", "UNKNOWN")
QUANTITY_TYPES = ("BASE", "QUOTE", "POSITION_RATIO", "POSITION_PERCENTAGE")
QUANTITY_ROUNDINGS = (
    "", "UP", "DOWN", "NEAREST", "CEIL", "FLOOR", "HALF_UP", "HALF_DOWN", "HALF_EVEN",
)  # fmt: skip
# The document's orderStatus (engine/orders.py's TRANSITIONS has a row for each).
ORDER_STATUSES = (
    "CREATED", "SUBMITTED", "ACCEPTED", "PARTIALLY_FILLED", "FILLED", "CANCELLED",
    "PENDING_CANCEL", "REPLACED", "PENDING_REPLACE", "REJECTED", "EXPIRED", "REVOKED", "UNKNOWN",
)  # fmt: skip

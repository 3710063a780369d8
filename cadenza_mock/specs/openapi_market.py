"""The market's component schemas (the platform document's marketVenue, instrument,
financialSecurity, orderBook, ticker and kline), strict: what the market answers is
exactly these keys, in both wire profiles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cadenza_mock.contract.json_schema import EPOCH_MS, ISO_MS, UUID, loose, ref, strict
from cadenza_mock.contract.market_catalogue import (
    INSTRUMENT_STATUSES,
    INSTRUMENT_TYPES,
    ORDER_TYPES,
    SECURITY_TYPES,
    TIME_IN_FORCE,
)
from cadenza_mock.contract.market_records import ORDERBOOK
from cadenza_mock.contract.query_params import KLINE_INTERVALS
from cadenza_mock.engine.subscriptions import SUBSCRIPTION_STATUSES

DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "a decimal"}
_INT = {"type": "integer", "minimum": 0}
_TEXT = {"type": "string"}
_HEAD = {
    "instrumentId": {"type": "string", "description": "VENUE:BASE/QUOTE"},
    "venue": ref("Venue"),
    "symbol": {"type": "string", "description": "BASE/QUOTE"},
}
_PAGINATION = strict(
    {
        "offset": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 0},
        "total": {"type": "integer", "minimum": 0},
        "cursor": {"type": "string", "description": "the next page's offset; absent on the last"},
        "hasNext": {"type": "boolean"},
    },
    required=(),
)


def _enum(values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def market_schemas(existing: Mapping[str, Any]) -> dict[str, Any]:
    """The market's components; `Pagination` too where the profile has none (docs)."""
    instrument = {
        **_HEAD,
        "externalSymbol": _TEXT,
        "description": _TEXT,
        "instrumentType": _enum(INSTRUMENT_TYPES),
        "status": _enum(INSTRUMENT_STATUSES),
        "baseAsset": _TEXT,
        "quoteAsset": _TEXT,
        "baseSecurityType": ref("SecurityType"),
        "quoteSecurityType": ref("SecurityType"),
        "basePrecision": _INT,
        "quotePrecision": _INT,
        "baseMaxSignificant": {"type": ["integer", "null"]},
        "quoteMaxSignificant": {"type": ["integer", "null"]},
        "lotSize": DECIMAL,
        "pipSize": DECIMAL,
        "baseScale": _INT,
        "quoteScale": _INT,
        "minQuantity": DECIMAL,
        "maxQuantity": DECIMAL,
        "minNotional": DECIMAL,
        "orderTypes": {"type": "array", "items": _enum(ORDER_TYPES)},
        "timeInForceOptions": {"type": "array", "items": _enum(TIME_IN_FORCE)},
        "isIcebergAllowed": {"type": "boolean"},
    }
    level = {
        "type": "array",
        "items": DECIMAL,
        "minItems": 2,
        "maxItems": 3,
        "description": "price, quantity (and orderCount for L2_COUNTED), as `columns` says",
    }
    candle = {
        "type": "array",
        "prefixItems": [EPOCH_MS, DECIMAL, DECIMAL, DECIMAL, DECIMAL, DECIMAL],
        "items": False,
        "minItems": 6,
        "description": "openTime (ms), open, high, low, close, volume (base asset)",
    }
    found: dict[str, Any] = {
        "SecurityType": _enum(SECURITY_TYPES),
        "MarketVenue": strict(
            {"venue": ref("Venue"), "status": _enum(("ONLINE", "OFFLINE", "MAINTENANCE"))}
        ),
        "Instrument": strict(instrument),
        "FinancialSecurity": strict(
            {
                "securityId": {"type": "string", "description": "VENUE:ASSET"},
                "symbol": _TEXT,
                "venue": ref("Venue"),
                "securityType": ref("SecurityType"),
                "precision": _INT,
                "scale": _INT,
                "minQuantity": DECIMAL,
                "lotSize": DECIMAL,
            }
        ),
        "OrderBook": strict(
            {
                "updateType": _enum(("SNAPSHOT", "DIFF", "DELTA")),
                **_HEAD,
                "orderBookType": _enum(("L2", "L2_COUNTED")),
                "columns": {"type": "array", "items": _TEXT},
                "bids": {"type": "array", "items": level, "description": "best (highest) first"},
                "asks": {"type": "array", "items": level, "description": "best (lowest) first"},
                "timestamp": EPOCH_MS,
            }
        ),
        "Ticker": strict(
            {
                **_HEAD,
                "lastPrice": DECIMAL,
                "lastQuantity": DECIMAL,
                "bidPrice": DECIMAL,
                "bidQuantity": DECIMAL,
                "askPrice": DECIMAL,
                "askQuantity": DECIMAL,
                "timestamp": EPOCH_MS,
            }
        ),
        "Kline": strict(
            {
                **_HEAD,
                "interval": _enum(KLINE_INTERVALS),
                "candles": {"type": "array", "items": candle},
                "isClosed": {
                    "type": "boolean",
                    "description": "the last candle is finalized (false: the live bar)",
                },
                "timestamp": EPOCH_MS,
            }
        ),
    }
    found["AdminMarket"] = loose(
        {
            "origin": EPOCH_MS,
            "now": EPOCH_MS,
            "instruments": {
                "type": "array",
                "items": loose(
                    {
                        "instrumentId": _TEXT,
                        "status": _enum(INSTRUMENT_STATUSES),
                        "startPrice": DECIMAL,
                        "spread": DECIMAL,
                        "depth": _INT,
                        "volatility": DECIMAL,
                        "lastPrice": DECIMAL,
                        "bidPrice": DECIMAL,
                        "askPrice": DECIMAL,
                        "pricesSet": _INT,
                        "halted": {"type": "boolean"},
                        "bookSet": {"type": "boolean"},
                    }
                ),
            },
            "venues": {
                "type": "object",
                "description": "each venue's market data: live, stale or unavailable",
                "additionalProperties": {
                    "type": "string",
                    "enum": ["live", "stale", "unavailable"],
                },
            },
        }
    )
    found["MarketSubscription"] = strict(
        {
            "subscriptionId": UUID,
            "venue": ref("Venue"),
            "instrumentId": _HEAD["instrumentId"],
            "subscriptionType": _enum((ORDERBOOK,)),
            "status": _enum(SUBSCRIPTION_STATUSES),
            "createdAt": EPOCH_MS,
            "createdAtDateTime": ISO_MS,
            "updatedAt": EPOCH_MS,
            "updatedAtDateTime": ISO_MS,
        }
    )
    if "Pagination" not in existing:
        found["Pagination"] = _PAGINATION
    return found

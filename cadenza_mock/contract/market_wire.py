"""The market's JSON shapes (the platform document's instrument, financialSecurity,
marketVenue, orderBook, ticker and kline): ticks and lots become decimal strings here,
and nowhere else."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cadenza_mock.contract.market_catalogue import (
    ORDER_TYPES,
    TIME_IN_FORCE,
    InstrumentSpec,
    security_type,
)
from cadenza_mock.contract.market_records import MarketSubscription, Trade
from cadenza_mock.contract.wire import iso_ms

if TYPE_CHECKING:  # the engine's read results; the wire tier only reads their fields
    from cadenza_mock.engine.market import Book, Candles, Ticker


def text(value: Decimal) -> str:
    """A decimal as the document's pattern wants it: no exponent, no trailing zeros past
    the step it is on."""
    return format(value, "f")


def instrument(spec: InstrumentSpec, status: str | None = None) -> dict[str, Any]:
    """The document's instrument; `status` as reads show it (a halted one is INACTIVE)."""
    found: dict[str, Any] = {
        "instrumentId": spec.instrument_id,
        "venue": spec.venue,
        "symbol": spec.symbol,
        "externalSymbol": spec.external_symbol,
        "description": f"{spec.base} against {spec.quote} on {spec.venue}",
        "instrumentType": spec.instrument_type,
        "status": spec.status if status is None else status,
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "baseSecurityType": security_type(spec.base),
        "quoteSecurityType": security_type(spec.quote),
        "basePrecision": spec.base_precision,
        "quotePrecision": spec.quote_precision,
        "baseMaxSignificant": None,
        "quoteMaxSignificant": None,
        "lotSize": text(spec.lot_size),
        "pipSize": text(spec.pip_size),
        "baseScale": spec.base_precision,
        "quoteScale": spec.quote_precision,
        "minQuantity": text(spec.min_quantity),
        "maxQuantity": text(spec.max_quantity),
        "minNotional": text(spec.min_notional),
        "orderTypes": list(ORDER_TYPES),
        "timeInForceOptions": list(TIME_IN_FORCE),
        "isIcebergAllowed": False,
    }
    found.update(spec.extra)
    return found


def security(venue: str, asset: str, lot: Decimal) -> dict[str, Any]:
    """A financialSecurity: an asset of a venue, at the finest lot its instruments use."""
    digits = max(0, -int(lot.normalize().as_tuple().exponent))
    return {
        "securityId": f"{venue}:{asset}",
        "symbol": asset,
        "venue": venue,
        "securityType": security_type(asset),
        "precision": digits,
        "scale": digits,
        "minQuantity": text(lot),
        "lotSize": text(lot),
    }


def _price(spec: InstrumentSpec, ticks: int) -> str:
    return text(spec.pip_size * ticks)


def _quantity(spec: InstrumentSpec, lots: int) -> str:
    return text(spec.lot_size * lots)


def _level(spec: InstrumentSpec, lots: int) -> str:
    """A book level's quantity; 0 lots is a DIFF's removal: "0", as the document's DIFF says."""
    return _quantity(spec, lots) if lots else "0"


def _head(spec: InstrumentSpec) -> dict[str, Any]:
    return {"instrumentId": spec.instrument_id, "venue": spec.venue, "symbol": spec.symbol}


def order_book(book: Book, update_type: str = "SNAPSHOT") -> dict[str, Any]:
    spec = book.spec
    counted = spec.book_type == "L2_COUNTED"

    def rows(levels: tuple[tuple[int, int, int], ...]) -> list[list[str]]:
        if counted:
            return [[_price(spec, p), _level(spec, q), str(n)] for p, q, n in levels]
        return [[_price(spec, p), _level(spec, q)] for p, q, _ in levels]

    return {
        "updateType": update_type,
        **_head(spec),
        "orderBookType": spec.book_type,
        "columns": ["price", "quantity", "orderCount"] if counted else ["price", "quantity"],
        "bids": rows(book.bids),
        "asks": rows(book.asks),
        "timestamp": book.timestamp,
    }


def ticker(tick: Ticker) -> dict[str, Any]:
    spec = tick.spec
    return {
        **_head(spec),
        "lastPrice": _price(spec, tick.last),
        "lastQuantity": _quantity(spec, tick.last_lots),
        "bidPrice": _price(spec, tick.bid[0]),
        "bidQuantity": _quantity(spec, tick.bid[1]),
        "askPrice": _price(spec, tick.ask[0]),
        "askQuantity": _quantity(spec, tick.ask[1]),
        "timestamp": tick.timestamp,
    }


def kline(candles: Candles) -> dict[str, Any]:
    spec = candles.spec
    return {
        **_head(spec),
        "interval": candles.interval,
        "candles": [
            [t, *(_price(spec, p) for p in (o, h, lo, c)), _quantity(spec, v)]
            for t, o, h, lo, c, v in candles.rows
        ],
        "isClosed": candles.closed,
        "timestamp": candles.timestamp,
    }


# The WebSocket API's shapes (the document's rpcInstrument and rpcSecurity), narrower than
# REST's: the same values, only the keys those schemas name.
_RPC_INSTRUMENT_DROPS = ("baseMaxSignificant", "quoteMaxSignificant", "baseScale", "quoteScale")


def rpc_instrument(rest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rest.items() if k not in _RPC_INSTRUMENT_DROPS}


def rpc_security(rest: dict[str, Any]) -> dict[str, Any]:
    return {
        "securityId": rest["securityId"],
        "symbol": rest["symbol"],
        "venue": rest["venue"],
        "externalSymbol": rest["symbol"],
    }


# ------------------------------------------------------------------ channels, subscriptions


def trade(found: Trade) -> dict[str, Any]:
    """A `market:trade:{venue}:{symbol}` publication: the document names no schema for it,
    so this is the mock's (the ticker's head, one trade at the walk's price)."""
    spec = found.spec
    return {
        **_head(spec),
        "tradeId": found.trade_id,
        "price": _price(spec, found.price),
        "quantity": _quantity(spec, found.lots),
        "side": found.side,
        "timestamp": found.timestamp,
    }


def market_subscription(sub: MarketSubscription) -> dict[str, Any]:
    """An order book subscription (the document's `subscription`, no trading account)."""
    return {
        "subscriptionId": sub.subscription_id,
        "venue": sub.venue,
        "instrumentId": sub.instrument_id,
        "subscriptionType": sub.subscription_type,
        "status": sub.status,
        "createdAt": sub.created_at,
        "createdAtDateTime": iso_ms(sub.created_at),
        "updatedAt": sub.updated_at,
        "updatedAtDateTime": iso_ms(sub.updated_at),
    }


def rpc_market_subscription(sub: MarketSubscription) -> dict[str, Any]:
    """rpcSubscription: ISO times, as the trading account subscriptions' RPC shape."""
    return {
        "subscriptionId": sub.subscription_id,
        "instrumentId": sub.instrument_id,
        "venue": sub.venue,
        "subscriptionType": sub.subscription_type,
        "status": sub.status,
        "createdAt": iso_ms(sub.created_at),
        "updatedAt": iso_ms(sub.updated_at),
    }

"""The records the market channels and order book subscriptions carry (the engine makes
them, contract/market_wire.py serializes them): in the contract tier so the wire shapes
name them without reaching up into the engine."""

from __future__ import annotations

from dataclasses import dataclass

from cadenza_mock.contract.market_catalogue import InstrumentSpec

ORDERBOOK = "MARKET.SUBSCRIPTION.ORDERBOOK"


@dataclass(frozen=True, slots=True)
class MarketSubscription:
    """One user's order book subscription on one instrument."""

    subscription_id: str
    user_id: str
    instrument_id: str
    venue: str
    subscription_type: str
    status: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Trade:
    """One trade of the walk: a second's price, seeded lots and the side that took it."""

    spec: InstrumentSpec
    trade_id: str
    price: int  # ticks
    lots: int
    side: str  # BUY (the price went up or stayed) or SELL
    timestamp: int

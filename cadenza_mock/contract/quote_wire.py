"""The JSON shape of an RFQ quote (the platform document's `quote`), the same over REST
and the WebSocket API (the document has no rpc twin of it). Decimals become strings here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadenza_mock.contract.trading_wire import price, quantity, text
from cadenza_mock.contract.wire import iso_ms

if TYPE_CHECKING:  # the engine's record; the wire tier only reads its fields
    from cadenza_mock.engine.quotes import Quote


def quote(q: Quote, now: int) -> dict[str, Any]:
    """The quote as it stands at `now` (its status follows the mock clock)."""
    spec = q.spec
    updated = q.updated_at(now)
    found: dict[str, Any] = {
        "quoteId": q.quote_id,
        "venue": spec.venue,
        "instrumentId": spec.instrument_id,
        "dealerAccountId": q.dealer_account_id,
        "traderAccountId": q.trading_account_id,
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "orderSide": q.side,
        "quantityType": "BASE",
        "quantity": quantity(spec, q.quantity),
        "quoteQuantity": text(q.quantity * q.price),
        "price": price(spec, q.price),
        "status": q.status(now),
        "createdAt": q.created_at,
        "createdAtDateTime": iso_ms(q.created_at),
        "updatedAt": updated,
        "updatedAtDateTime": iso_ms(updated),
        "expireAt": q.expire_at,
        "expireAtDateTime": iso_ms(q.expire_at),
    }
    if q.request_id is not None:
        found["quoteRequestId"] = q.request_id
    if q.pricing_profile_id is not None:
        found["pricingProfileId"] = q.pricing_profile_id
    return found

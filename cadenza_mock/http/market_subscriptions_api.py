"""Handlers of the order book subscription endpoints: parse, ask the engine's
`MarketSubscriptions` (the same rules the WebSocket RPC twins call), serialize with
`market_wire`. A handler awaits only to read its body, authenticates first, and never
builds an error answer."""

from __future__ import annotations

from aiohttp import web

from cadenza_mock.contract import market_wire
from cadenza_mock.engine.query import _text, pairs_by_name
from cadenza_mock.http.api import authed_body, caller
from cadenza_mock.http.keys import state_of
from cadenza_mock.http.middleware import ok


async def subscribe_order_book(request: web.Request) -> web.Response:
    store, user, body = await authed_body(request, "market_subscribe")
    (made,) = store.market_subscriptions.subscribe(user, [body["instrumentId"]])
    return ok(market_wire.market_subscription(made))


async def unsubscribe_order_book(request: web.Request) -> web.Response:
    store, user, body = await authed_body(request, "market_unsubscribe")
    ended = store.market_subscriptions.unsubscribe(
        user, subscription_id=body.get("subscriptionId"), instrument_id=body.get("instrumentId")
    )
    return ok(market_wire.market_subscription(ended))


async def list_order_book_subscriptions(request: web.Request) -> web.Response:
    """The caller's ACTIVE order book subscriptions (the document: "List active order book
    subscriptions"), of one instrument with `instrumentId`."""
    store = state_of(request).store
    user = caller(request, store)
    wanted = _text(pairs_by_name(request.query.items()), "instrumentId")
    found = store.market_subscriptions.listed(user, None if wanted is None else (wanted,))
    return ok([market_wire.market_subscription(s) for s in found])

"""Handlers of the trading account subscription endpoints: parse, ask the engine's
`Subscriptions` (the same rules the WebSocket RPC twins call), serialize with `wire`.

Apart from `api.py` so that module stays within its size; the same conventions: a handler
awaits only to read its body, authenticates first, and never builds an error answer.
"""

from __future__ import annotations

from aiohttp import web

from cadenza_mock.contract import wire
from cadenza_mock.contract.schemas import parse_body
from cadenza_mock.engine.query import parse_subscription_query
from cadenza_mock.engine.subscriptions import ACTIVE
from cadenza_mock.http.api import caller
from cadenza_mock.http.keys import state_of
from cadenza_mock.http.middleware import ok, read_body


async def subscribe_trading_account(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = state_of(request).store
    user = caller(request, store)
    body = parse_body(raw, store.profile, "subscribe")
    made = store.subscriptions.subscribe(user, body["tradingAccountId"])
    return ok(wire.subscription(made))


async def unsubscribe_trading_account(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = state_of(request).store
    user = caller(request, store)
    body = parse_body(raw, store.profile, "unsubscribe")
    ended = store.subscriptions.unsubscribe(
        user,
        subscription_id=body.get("subscriptionId"),
        trading_account_id=body.get("tradingAccountId"),
    )
    return ok(wire.subscription(ended))


async def list_trading_account_subscriptions(request: web.Request) -> web.Response:
    """The caller's ACTIVE subscriptions (the document: "List active trading account
    subscriptions"), createdAt then id order, paged like the other lists."""
    store = state_of(request).store
    user = caller(request, store)
    account, page = parse_subscription_query(request.query.items())
    found = store.subscriptions.listed(user, account, statuses=(ACTIVE,), page=page)
    return ok([wire.subscription(s) for s in found])

"""Handlers of the trading rows: authenticate, read the body or query, call the order
engine (engine/orders.py, engine/trading_query.py) and answer in the document's shapes.
Nothing awaits after the body is read: one request is one step of the engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cadenza_mock.contract import quote_wire, trading_wire, wire
from cadenza_mock.contract.errors import ACCOUNT_NOT_FOUND, INVALID_ARGUMENT
from cadenza_mock.contract.model import User
from cadenza_mock.contract.operation_rows_trading import MAX_ADMIN_LATEST, TRADING_OPERATIONS
from cadenza_mock.contract.schemas import load_json
from cadenza_mock.engine import trading_query, venue_control
from cadenza_mock.engine.order_checks import OrderRequest
from cadenza_mock.engine.order_lists import placed
from cadenza_mock.engine.orders import FINAL, Order, Trading
from cadenza_mock.engine.quoted import rfq
from cadenza_mock.engine.quotes import QuoteRequest
from cadenza_mock.engine.store import Store
from cadenza_mock.engine.trading_answers import KeptAnswers, TradingAnswers
from cadenza_mock.engine.trading_query import Pairs
from cadenza_mock.http.admin import admin
from cadenza_mock.http.api import authed_body, caller
from cadenza_mock.http.keys import state_of
from cadenza_mock.http.middleware import json_response, ok, read_body
from cadenza_mock.http.rpc_trading import iso_to_ms

# The lists whose answers are kept (engine/trading_answers.py): the fast path answers
# their repeats (http/fast_path.py).
_PATHS = {o.handler: o.path for o in TRADING_OPERATIONS}
ORDER_LIST_PATH = _PATHS["trading_api.list_orders"]
PORTFOLIO_LIST_PATH = _PATHS["trading_api.list_portfolios"]


def order_request(body: dict[str, Any]) -> OrderRequest:
    """A submit body (REST's submitTradeOrderRequest, RPC's tradeOrder) in the engine's words."""
    return OrderRequest(
        trading_account_id=body["tradingAccountId"],
        instrument_id=body.get("instrumentId"),
        side=body["orderSide"],
        order_type=body["orderType"],
        quantity=body["quantity"],
        limit_price=body.get("limitPrice"),
        time_in_force=body.get("timeInForce"),
        expire_at=body.get("expireAt"),
        client_order_id=body.get("clientOrderId"),
        idempotency_key=body.get("idempotencyKey"),
        quantity_type=body.get("quantityType"),
        quantity_rounding=body.get("quantityRounding"),
        quote_id=body.get("quoteId"),
        stop_price=body.get("stopPrice"),
        take_profit_price=body.get("takeProfitPrice"),
        take_profit_limit_price=body.get("takeProfitLimitPrice"),
        take_profit_time_in_force=body.get("takeProfitTimeInForce"),
        stop_loss_price=body.get("stopLossPrice"),
        stop_loss_limit_price=body.get("stopLossLimitPrice"),
        stop_loss_time_in_force=body.get("stopLossTimeInForce"),
    )


async def submit_order(request: web.Request) -> web.Response:
    store, user, body = await authed_body(request, "submit_order")
    order = store.trading.submit(user, order_request(body))
    if body.get("awaitClosed") is True and order.status not in FINAL:
        await closed(store.trading, order)
    # An order list answers its entry and the exits placed so far (engine/order_lists.py).
    return ok([trading_wire.trade_order(o) for o in placed(store.trading, order)])


# awaitClosed: the document's "up to 1 second" for a final status, real time, looking at
# the orders every AWAIT_STEP_S (what a clock move, a price set or an expiry brings).
AWAIT_CLOSED_S, AWAIT_STEP_S = 1.0, 0.05


async def closed(trading: Trading, order: Order) -> None:
    """Wait for the order's final status, at most AWAIT_CLOSED_S: then it is as it is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + AWAIT_CLOSED_S
    while order.status not in FINAL and loop.time() < deadline:
        await asyncio.sleep(AWAIT_STEP_S)
        trading.catch_up()


async def cancel_order(request: web.Request) -> web.Response:
    store, user, body = await authed_body(request, "cancel_order")
    order = store.trading.cancel(user, body["tradingAccountId"], body["tradeOrderId"])
    return ok(trading_wire.trade_order(order))


async def list_orders(request: web.Request) -> web.Response:
    return _kept_list(
        request,
        lambda answers: answers.orders,
        lambda store, user, pairs: trading_query.order_list(store.trading, user, pairs),
    )


async def list_portfolios(request: web.Request) -> web.Response:
    return _kept_list(
        request,
        lambda answers: answers.portfolios,
        lambda store, user, pairs: trading_query.portfolio_list(
            store.trading, user, pairs, store.enums
        ),
    )


def _kept_list(
    request: web.Request,
    keep: Callable[[TradingAnswers], KeptAnswers],
    build: Callable[[Store, User, Pairs], dict[str, Any]],
) -> web.Response:
    """A trading list's answer, kept per (caller, raw query) after the fills due now
    (engine/trading_answers.py); the fast path answers repeats from the same keep."""
    store = state_of(request).store
    user = caller(request, store)
    key = (user.user_id, request.rel_url.raw_query_string)
    pairs = request.query.items()
    found = keep(store.trading.answers).answer(key, lambda: wire.dumps(build(store, user, pairs)))
    return json_response(found)


def quote_request(body: dict[str, Any], expire_at: int | None) -> QuoteRequest:
    """A quoteRfqRequest (REST body or RPC params) in the engine's words."""
    return QuoteRequest(
        dealer_account_id=body["dealerAccountId"],
        side=body["orderSide"],
        trader_account_id=body.get("traderAccountId"),
        instrument_id=body.get("instrumentId"),
        base_asset=body.get("baseAsset"),
        quote_asset=body.get("quoteAsset"),
        quantity=body.get("quantity"),
        quote_quantity=body.get("quoteQuantity"),
        request_id=body.get("quoteRequestId"),
        ttl=body.get("ttl"),
        expire_at=expire_at,
        pricing_profile_id=body.get("pricingProfileId"),
    )


async def quote_rfq(request: web.Request) -> web.Response:
    store, user, body = await authed_body(request, "quote_rfq")
    expire_at = iso_to_ms(body.get("expireAt"), "expireAt")
    quote = rfq(store.trading, user, quote_request(body, expire_at))
    return ok(quote_wire.quote(quote, store.clock.now_ms()))


@admin
async def admin_orders(request: web.Request) -> web.Response:
    query = request.query
    trading = state_of(request).store.trading
    open_only = {None: None, "true": True, "false": False}.get(query.get("open"), ...)
    if open_only is ...:
        raise INVALID_ARGUMENT.error("open: expected true or false")
    latest = query.get("latest")
    plain = latest is not None and latest.isascii() and latest.isdigit() and len(latest) < 6
    if latest is not None and not (plain and 1 <= int(latest) <= MAX_ADMIN_LATEST):
        raise INVALID_ARGUMENT.error(
            f"latest: expected a whole number from 1 to {MAX_ADMIN_LATEST}"
        )
    found = trading_query.inspect_orders(
        trading,
        query.get("user"),
        query.get("tradingAccountId"),
        open_only=open_only,
        latest=int(latest) if latest is not None else None,
    )
    return ok(found)


@admin
async def admin_portfolio(request: web.Request) -> web.Response:
    trading = state_of(request).store.trading
    found = trading_query.inspect_portfolio(trading, request.match_info["tradingAccountId"])
    if found is None:
        raise ACCOUNT_NOT_FOUND.error()
    return ok(found)


@admin
async def admin_venue_behaviors(request: web.Request) -> web.Response:
    """GET /__admin/venue-behavior (contract/venue_controls.py): what is in effect."""
    trading = state_of(request).store.trading
    return ok(venue_control.listed(trading, request.query.get("tradingAccountId")))


@admin
async def admin_set_venue_behavior(request: web.Request) -> web.Response:
    """POST /__admin/venue-behavior: set or clear one account's behaviour; answer it."""
    raw = await read_body(request, fenced=False)  # the admin API is not fenced: it resets
    body = load_json(raw) if raw.strip() else None
    return ok(venue_control.apply(state_of(request).store.trading, body))

"""Handlers of the market reads: authenticate, read the query, answer from the store's
market (engine/market_query.py). Nothing here awaits: one request sees one clock."""

from __future__ import annotations

from aiohttp import web

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import VALIDATION_FAILED
from cadenza_mock.contract.schemas import load_json
from cadenza_mock.engine import market_query
from cadenza_mock.engine.market import parse_price
from cadenza_mock.http.admin import admin
from cadenza_mock.http.api import caller
from cadenza_mock.http.keys import state_of
from cadenza_mock.http.middleware import json_response, ok, read_body


async def list_venues(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    return ok(market_query.venue_list(store.market))


async def list_instruments(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    body = market_query.instrument_list(store.market, request.query.items(), store.enums)
    return json_response(wire.dumps(body))


async def list_securities(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    body = market_query.security_list(store.market, request.query.items(), store.enums)
    return json_response(wire.dumps(body))


async def get_order_book(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    return ok(market_query.order_book(store.market, request.query.items()))


async def list_order_books(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    return ok(market_query.order_book_list(store.market, request.query.items()))


async def get_ticker(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    return ok(market_query.ticker(store.market, request.query.items()))


async def list_tickers(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    return json_response(wire.dumps(market_query.ticker_list(store.market, request.query.items())))


async def get_kline(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    return ok(market_query.kline(store.market, request.query.items()))


@admin
async def admin_market(request: web.Request) -> web.Response:
    return ok(state_of(request).store.market.state())


@admin
async def admin_set_price(request: web.Request) -> web.Response:
    raw = await read_body(request, fenced=False)  # the admin API is not fenced: it resets
    body = load_json(raw) if raw.strip() else None
    if not isinstance(body, dict) or not isinstance(body.get("instrumentId"), str):
        raise VALIDATION_FAILED.error(
            'expected {"instrumentId": "VENUE:BASE/QUOTE", "price": "65000.00"}'
        )
    market = state_of(request).store.market
    spec = market.instrument(body["instrumentId"])
    market.set_price(spec, parse_price(body.get("price")))
    return ok(market.state())

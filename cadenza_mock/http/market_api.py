"""Handlers of the market reads: authenticate, read the query, answer from the store's
market (engine/market_query.py). Nothing here awaits: one request sees one clock."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from cadenza_mock.contract import market_wire, wire
from cadenza_mock.contract.operation_rows_market import MARKET_OPERATIONS
from cadenza_mock.contract.schemas import load_json
from cadenza_mock.engine import market_control, market_query
from cadenza_mock.engine.store import Store
from cadenza_mock.http.admin import admin
from cadenza_mock.http.api import authed_body, caller
from cadenza_mock.http.keys import state_of
from cadenza_mock.http.middleware import json_response, ok, read_body

_PATHS = {op.handler: op.path for op in MARKET_OPERATIONS}
VENUES = _PATHS["market_api.list_venues"]
INSTRUMENTS = _PATHS["market_api.list_instruments"]
SECURITIES = _PATHS["market_api.list_securities"]
ORDER_BOOK = _PATHS["market_api.get_order_book"]
ORDER_BOOKS = _PATHS["market_api.list_order_books"]
TICKER = _PATHS["market_api.get_ticker"]
TICKERS = _PATHS["market_api.list_tickers"]
# The reads whose answers are kept by (path, raw query): the fast path answers repeats.
KEPT_PATHS = frozenset((VENUES, INSTRUMENTS, SECURITIES, ORDER_BOOK, ORDER_BOOKS, TICKER, TICKERS))


def _kept(request: web.Request, path: str, compute: Callable[[Store], bytes]) -> web.Response:
    """A market read's answer, kept per (path, raw query) while the market and the clock's
    second stay the same (engine/market_answers.py); the fast path answers from it too."""
    store = state_of(request).store
    caller(request, store)
    key = (path, request.rel_url.raw_query_string)
    return json_response(store.market.answers.answer(key, lambda: compute(store)))


async def list_venues(request: web.Request) -> web.Response:
    return _kept(request, VENUES, lambda s: wire.success_body(market_query.venue_list(s.market)))


async def list_instruments(request: web.Request) -> web.Response:
    pairs = request.query.items()
    return _kept(
        request,
        INSTRUMENTS,
        lambda s: wire.dumps(market_query.instrument_list(s.market, pairs, s.enums)),
    )


async def list_securities(request: web.Request) -> web.Response:
    pairs = request.query.items()
    return _kept(
        request,
        SECURITIES,
        lambda s: wire.dumps(market_query.security_list(s.market, pairs, s.enums)),
    )


async def get_order_book(request: web.Request) -> web.Response:
    pairs = request.query.items()
    return _kept(
        request, ORDER_BOOK, lambda s: wire.success_body(market_query.order_book(s.market, pairs))
    )


async def list_order_books(request: web.Request) -> web.Response:
    pairs = request.query.items()
    return _kept(
        request,
        ORDER_BOOKS,
        lambda s: wire.success_body(market_query.order_book_list(s.market, pairs)),
    )


async def get_ticker(request: web.Request) -> web.Response:
    pairs = request.query.items()
    return _kept(request, TICKER, lambda s: wire.success_body(market_query.ticker(s.market, pairs)))


async def list_tickers(request: web.Request) -> web.Response:
    pairs = request.query.items()
    return _kept(request, TICKERS, lambda s: wire.dumps(market_query.ticker_list(s.market, pairs)))


async def get_kline(request: web.Request) -> web.Response:
    store = state_of(request).store
    caller(request, store)
    return ok(market_query.kline(store.market, request.query.items()))


@admin
async def admin_market(request: web.Request) -> web.Response:
    return ok(state_of(request).store.market.state())


@admin
async def admin_market_control(request: web.Request) -> web.Response:
    """POST /__admin/market/<control> (contract/market_controls.py): apply, answer the state."""
    raw = await read_body(request, fenced=False)  # the admin API is not fenced: it resets
    body = load_json(raw) if raw.strip() else None
    market = state_of(request).store.market
    market_control.apply(market, request.path.rpartition("/")[2], body)
    return ok(market.state())


# ----------------------------------------------------------------- write operations


async def sync_instruments(request: web.Request) -> web.Response:
    store, _, body = await authed_body(request, "market_sync")
    return ok(
        {"total": market_control.sync_instruments(store.market, body["venue"], body["symbols"])}
    )


async def _status(request: web.Request, status: str) -> web.Response:
    store, _, body = await authed_body(request, "market_instrument")
    spec = market_control.set_status(store.market, body["instrumentId"], status)
    return ok(market_wire.instrument(spec, store.market.status(spec)))


async def enable_instrument(request: web.Request) -> web.Response:
    return await _status(request, "ACTIVE")


async def disable_instrument(request: web.Request) -> web.Response:
    return await _status(request, "DISABLED")


async def delete_instrument(request: web.Request) -> web.Response:
    store, _, body = await authed_body(request, "market_instrument")
    market_control.delete_instrument(store.market, body["instrumentId"])
    return ok("ok")


async def sync_securities(request: web.Request) -> web.Response:
    store, _, body = await authed_body(request, "security_sync")
    market_control.sync_securities(store.market, body["venue"])
    return ok("ok")


async def delete_security(request: web.Request) -> web.Response:
    store, _, body = await authed_body(request, "security_delete")
    (found,) = market_control.delete_securities(store.market, [body["securityId"]])
    return ok(market_wire.security(*found))

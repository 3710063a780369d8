"""The market reads' parameters -> filters, and the answers they give, in the platform
document's vocabulary. The names and bounds are the rows' (contract/query_params.py);
unknown parameters are ignored, as by the real service (near-miss hints name them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cadenza_mock.contract import market_wire
from cadenza_mock.contract.errors import invalid_argument
from cadenza_mock.contract.market_catalogue import (
    INSTRUMENT_STATUSES,
    SECURITY_TYPES,
    InstrumentSpec,
    security_type,
)
from cadenza_mock.contract.model import ProfileEnums
from cadenza_mock.contract.query_params import (
    BOOK_DEPTH,
    KLINE_INTERVALS,
    MARKET_PAGE,
    MAX_LIMIT,
    MAX_OFFSET,
)
from cadenza_mock.engine.market import Market
from cadenza_mock.engine.market_control import readable, securities, venue_status
from cadenza_mock.engine.query import Page, _number, _one, _text, pairs_by_name

Pairs = Iterable[tuple[str, str]]


def _page(params: dict[str, list[str]], cursor: bool = False) -> Page:
    default, most = MARKET_PAGE
    offset = _number(params, "offset", 0, MAX_OFFSET)
    if offset is None and cursor:
        offset = _number(params, "cursor", 0, MAX_OFFSET)
    limit = _number(params, "limit", 1, most)
    return Page(offset or 0, default if limit is None else limit)


def _many(params: dict[str, list[str]], name: str) -> list[str] | None:
    """A repeated parameter's values, as given (an id never holds a comma to split on)."""
    values = params.get(name)
    if values is None:
        return None
    if not all(values):
        raise invalid_argument(name, "empty value")
    return values


def _paged(rows: list[dict[str, Any]], page: Page) -> dict[str, Any]:
    start, end = page.cut(len(rows))
    return {
        "data": rows[start:end],
        "success": True,
        "errno": 0,
        "error": None,
        "pagination": page.pagination(len(rows)),
    }


def _instrument_id(params: dict[str, list[str]]) -> str:
    found = _text(params, "instrumentId")
    if found is None:
        raise invalid_argument("instrumentId", "required (VENUE:BASE/QUOTE)")
    return found


def venue_list(market: Market) -> list[dict[str, Any]]:
    return [{"venue": venue, "status": venue_status(market, venue)} for venue in market.venues()]


def instrument_list(market: Market, pairs: Pairs, enums: ProfileEnums) -> dict[str, Any]:
    params = pairs_by_name(pairs)
    venue = _one(params, "venue", enums.venues)
    symbols = _many(params, "symbols")
    kind = _one(params, "securityType", SECURITY_TYPES)
    status = _one(params, "instrumentStatus", INSTRUMENT_STATUSES)
    page = _page(params)
    rows = [
        market_wire.instrument(spec, market.status(spec))
        for spec in market.instruments.values()
        if (venue is None or spec.venue == venue)
        and (symbols is None or spec.symbol in symbols)
        and (kind is None or security_type(spec.base) == kind)
        and (status is None or market.status(spec) == status)
    ]
    return _paged(rows, page)


def security_list(market: Market, pairs: Pairs, enums: ProfileEnums) -> dict[str, Any]:
    params = pairs_by_name(pairs)
    venue = _one(params, "venue", enums.venues)
    wanted = _text(params, "securityId")
    page = _page(params)
    rows = [
        market_wire.security(v, asset, step)
        for (v, asset), step in securities(market).items()
        if (venue is None or v == venue) and (wanted is None or f"{v}:{asset}" == wanted)
    ]
    return _paged(rows, page)


def _depth(params: dict[str, list[str]]) -> int:
    depth = _number(params, "depth", 1, MAX_LIMIT)
    return BOOK_DEPTH if depth is None else depth


def order_book(market: Market, pairs: Pairs) -> dict[str, Any]:
    params = pairs_by_name(pairs)
    spec = readable(market, market.instrument(_instrument_id(params)))
    return market_wire.order_book(market.book(spec, _depth(params)))


def _chosen(market: Market, params: dict[str, list[str]]) -> list[InstrumentSpec]:
    ids = _many(params, "instrumentIds")
    if ids is None:
        chosen = list(market.instruments.values())
    else:
        chosen = [market.instruments[i] for i in dict.fromkeys(ids) if i in market.instruments]
    return [readable(market, spec) for spec in chosen]


def order_book_list(market: Market, pairs: Pairs) -> list[dict[str, Any]]:
    params = pairs_by_name(pairs)
    depth = _depth(params)
    return [market_wire.order_book(market.book(s, depth)) for s in _chosen(market, params)]


def ticker(market: Market, pairs: Pairs) -> dict[str, Any]:
    params = pairs_by_name(pairs)
    spec = readable(market, market.instrument(_instrument_id(params)))
    return market_wire.ticker(market.ticker(spec))


def ticker_list(market: Market, pairs: Pairs) -> dict[str, Any]:
    params = pairs_by_name(pairs)
    page = _page(params, cursor=True)
    chosen = _chosen(market, params)
    start, end = page.cut(len(chosen))
    body = _paged([], page)
    body["data"] = [market_wire.ticker(market.ticker(s)) for s in chosen[start:end]]
    body["pagination"] = page.pagination(len(chosen))
    return body


def kline(market: Market, pairs: Pairs) -> dict[str, Any]:
    params = pairs_by_name(pairs)
    interval = _one(params, "interval", KLINE_INTERVALS)
    spec = readable(market, market.instrument(_instrument_id(params)))
    if interval is None:
        raise invalid_argument("interval", "required", KLINE_INTERVALS)
    start = _number(params, "from", 0, MAX_OFFSET)
    end = _number(params, "to", 0, MAX_OFFSET)
    limit = _number(params, "limit", 1, MAX_LIMIT)
    candles = market.candles(spec, interval, start, end, MARKET_PAGE[0] if limit is None else limit)
    return market_wire.kline(candles)

"""The market's rows of the route table (the platform document's tag Market): venues,
instruments, securities, order books, tickers and klines, read off the market model
(engine/market.py). One vocabulary in both wire profiles: the platform document's.

Each row is the operation's one declaration, as in operation_rows_api.py."""

from __future__ import annotations

from cadenza_mock.contract.errors import (
    INSTRUMENT_NOT_FOUND,
    INVALID_ARGUMENT,
    INVALID_BODY,
    VALIDATION_FAILED,
)
from cadenza_mock.contract.json_schema import ref
from cadenza_mock.contract.operation_type import ADMIN_PREFIX, API_PREFIX, Answer, Operation
from cadenza_mock.contract.query_params import (
    INSTRUMENT_LIST,
    KLINE_GET,
    ORDER_BOOK_GET,
    ORDER_BOOK_LIST,
    SECURITY_LIST,
    TICKER_GET,
    TICKER_LIST,
)

_MARKET = f"{API_PREFIX}/market"
_PAGED = {"pagination": ref("Pagination")}


def _array(name: str) -> dict[str, object]:
    return {"type": "array", "items": ref(name)}


MARKET_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        f"{_MARKET}/venue/list",
        "market_api.list_venues",
        "listMarketVenues",
        "The venues with a market, in catalogue order",
        "market",
        answer=Answer(_array("MarketVenue")),
        rpc="query.venue.list",
    ),
    Operation(
        "GET",
        f"{_MARKET}/instrument/list",
        "market_api.list_instruments",
        "listMarketInstruments",
        "The market's instruments, venue then symbol order as the scenario lists them",
        "market",
        (INVALID_ARGUMENT,),
        answer=Answer(_array("Instrument"), _PAGED),
        params=INSTRUMENT_LIST,
        rpc="query.instrument.list",
    ),
    Operation(
        "GET",
        f"{_MARKET}/security/list",
        "market_api.list_securities",
        "listMarketSecurities",
        "The assets the instruments trade, per venue",
        "market",
        (INVALID_ARGUMENT,),
        answer=Answer(_array("FinancialSecurity"), _PAGED),
        params=SECURITY_LIST,
        rpc="query.security.list",
    ),
    Operation(
        "GET",
        f"{_MARKET}/orderBook/get",
        "market_api.get_order_book",
        "getMarketOrderBook",
        "An instrument's order book now (a SNAPSHOT): bids high to low, asks low to high",
        "market",
        (INVALID_ARGUMENT, INSTRUMENT_NOT_FOUND),
        answer=Answer(ref("OrderBook")),
        params=ORDER_BOOK_GET,
        rpc="query.orderbook.get",
    ),
    Operation(
        "GET",
        f"{_MARKET}/orderBook/list",
        "market_api.list_order_books",
        "listMarketOrderBooks",
        "Order books of several instruments (every instrument's without instrumentIds)",
        "market",
        (INVALID_ARGUMENT,),
        answer=Answer(_array("OrderBook")),
        params=ORDER_BOOK_LIST,
        rpc="query.orderbook.list",
    ),
    Operation(
        "GET",
        f"{_MARKET}/ticker/get",
        "market_api.get_ticker",
        "getMarketTicker",
        "An instrument's ticker now: last trade, best bid and best ask",
        "market",
        (INVALID_ARGUMENT, INSTRUMENT_NOT_FOUND),
        answer=Answer(ref("Ticker")),
        params=TICKER_GET,
    ),
    Operation(
        "GET",
        f"{_MARKET}/ticker/list",
        "market_api.list_tickers",
        "listMarketTickers",
        "Tickers of several instruments (every instrument's without instrumentIds)",
        "market",
        (INVALID_ARGUMENT,),
        answer=Answer(_array("Ticker"), _PAGED),
        params=TICKER_LIST,
        rpc="query.ticker.list",
    ),
    Operation(
        "GET",
        f"{_MARKET}/kline/get",
        "market_api.get_kline",
        "getMarketKline",
        "An instrument's candles of one interval, oldest first, up to the live one",
        "market",
        (INVALID_ARGUMENT, INSTRUMENT_NOT_FOUND),
        answer=Answer(ref("Kline")),
        params=KLINE_GET,
        rpc="query.kline.list",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/market",
        "market_api.admin_market",
        "adminGetMarket",
        "The market: its origin, the clock, each instrument's walk parameters and prices now",
        "admin",
        auth="admin",
        answer=Answer(ref("AdminMarket")),
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/market/price",
        "market_api.admin_set_price",
        "adminSetMarketPrice",
        "Set an instrument's price now ({instrumentId, price}): the walk goes on from it",
        "admin",
        (VALIDATION_FAILED, INVALID_BODY, INSTRUMENT_NOT_FOUND),
        reads_body=True,
        auth="admin",
        answer=Answer(ref("AdminMarket")),
        body_doc={
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["instrumentId", "price"],
                        "properties": {
                            "instrumentId": {"type": "string"},
                            "price": {"type": "string", "pattern": r"^\d+(\.\d+)?$"},
                        },
                    }
                }
            },
        },
    ),
)

"""The market's rows of the route table (the platform document's tag Market): venues,
instruments, securities, order books, tickers and klines, read off the market model
(engine/market.py). One vocabulary in both wire profiles: the platform document's.

Each row is the operation's one declaration, as in operation_rows_api.py."""

from __future__ import annotations

from cadenza_mock.contract.errors import (
    INSTRUMENT_NOT_FOUND,
    INVALID_ARGUMENT,
    INVALID_BODY,
    SECURITY_NOT_FOUND,
    VALIDATION_FAILED,
    VENUE_NOT_FOUND,
    VENUE_UNAVAILABLE,
)
from cadenza_mock.contract.json_schema import ref
from cadenza_mock.contract.market_controls import CONTROLS
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
_SYNCED = {
    "type": "object",
    "required": ["total"],
    "properties": {"total": {"type": "integer", "description": "instruments synced"}},
}


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
        "POST",
        f"{_MARKET}/instrument/sync",
        "market_api.sync_instruments",
        "syncMarketInstruments",
        "Sync a venue's instruments from its listing (the scenario's market): deleted ones "
        "come back, statuses are the declared ones; `symbols` empty: all of the venue's",
        "market",
        body="SyncMarketInstrumentsRequest",
        answer=Answer(_SYNCED),
        rpc="command.instrument.sync",
    ),
    Operation(
        "POST",
        f"{_MARKET}/instrument/enable",
        "market_api.enable_instrument",
        "enableMarketInstrument",
        "Enable an instrument: its status is ACTIVE",
        "market",
        (INSTRUMENT_NOT_FOUND,),
        body="MarketInstrumentIdRequest",
        answer=Answer(ref("Instrument")),
        rpc="command.instrument.enable",
    ),
    Operation(
        "POST",
        f"{_MARKET}/instrument/disable",
        "market_api.disable_instrument",
        "disableMarketInstrument",
        "Disable an instrument: still listed and read, its status is DISABLED",
        "market",
        (INSTRUMENT_NOT_FOUND,),
        body="MarketInstrumentIdRequest",
        answer=Answer(ref("Instrument")),
        rpc="command.instrument.disable",
    ),
    Operation(
        "DELETE",
        f"{_MARKET}/instrument/delete",
        "market_api.delete_instrument",
        "deleteMarketInstrument",
        "Delete an instrument: its reads are INSTRUMENT_NOT_FOUND until a sync or reset",
        "market",
        (INSTRUMENT_NOT_FOUND,),
        body="MarketInstrumentIdRequest",
        answer=Answer({"const": "ok"}),
        rpc="command.instrument.delete",
    ),
    Operation(
        "POST",
        f"{_MARKET}/security/sync",
        "market_api.sync_securities",
        "syncMarketSecurities",
        "Sync a venue's securities from its instruments: deleted ones come back",
        "market",
        body="SyncMarketSecuritiesRequest",
        answer=Answer({"const": "ok"}),
        rpc="command.security.sync",
    ),
    Operation(
        "DELETE",
        f"{_MARKET}/security/delete",
        "market_api.delete_security",
        "deleteMarketSecurity",
        "Delete a security from the security list (its instruments stay)",
        "market",
        (SECURITY_NOT_FOUND,),
        body="DeleteMarketSecurityRequest",
        answer=Answer(ref("FinancialSecurity")),
        rpc="command.security.delete",
    ),
    Operation(
        "GET",
        f"{_MARKET}/orderBook/get",
        "market_api.get_order_book",
        "getMarketOrderBook",
        "An instrument's order book now (a SNAPSHOT): bids high to low, asks low to high",
        "market",
        (INVALID_ARGUMENT, INSTRUMENT_NOT_FOUND, VENUE_UNAVAILABLE),
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
        (INVALID_ARGUMENT, VENUE_UNAVAILABLE),
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
        (INVALID_ARGUMENT, INSTRUMENT_NOT_FOUND, VENUE_UNAVAILABLE),
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
        (INVALID_ARGUMENT, VENUE_UNAVAILABLE),
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
        (INVALID_ARGUMENT, INSTRUMENT_NOT_FOUND, VENUE_UNAVAILABLE),
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
    *(
        Operation(
            "POST",
            f"{ADMIN_PREFIX}/{control.path}",
            "market_api.admin_market_control",
            f"adminMarket{control.name.capitalize()}",
            control.summary,
            "admin",
            (
                VALIDATION_FAILED,
                INVALID_BODY,
                INVALID_ARGUMENT,
                INSTRUMENT_NOT_FOUND,
                VENUE_NOT_FOUND,
            ),
            reads_body=True,
            auth="admin",
            answer=Answer(ref("AdminMarket")),
            body_doc={
                "required": True,
                "content": {"application/json": {"schema": control.body_schema()}},
            },
        )
        for control in CONTROLS
    ),
)

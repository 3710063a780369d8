"""The trading rows of the route table (the platform document's tags Trading and Trading
Account Portfolio): submit, cancel and list trade orders, list portfolios, answered by the
order engine (engine/orders.py). One vocabulary in both wire profiles: the document's.

Each row is the operation's one declaration, as in operation_rows_api.py."""

from __future__ import annotations

from cadenza_mock.contract.errors import (
    ACCOUNT_NOT_FOUND,
    INSUFFICIENT_FUNDS,
    INVALID_ARGUMENT,
    INVALID_BODY,
    INVALID_ORDER,
    INVALID_STATE,
    ORDER_NOT_FOUND,
    ORDER_REJECTED,
    ORDER_SIDE_NOT_SUPPORTED,
    ORDER_TYPE_NOT_SUPPORTED,
    PERMISSION_DENIED,
    QUOTE_EXPIRED,
    QUOTE_NOT_FOUND,
    SYMBOL_NOT_FOUND,
    TIME_IN_FORCE_NOT_SUPPORTED,
    VALIDATION_FAILED,
    VENUE_TIMEOUT,
)
from cadenza_mock.contract.json_schema import UUID, ref
from cadenza_mock.contract.operation_type import ADMIN_PREFIX, API_PREFIX, Answer, Operation, Param
from cadenza_mock.contract.query_params import MAX_LIMIT, MAX_OFFSET
from cadenza_mock.contract.trading_enums import ORDER_STATUSES
from cadenza_mock.contract.venue_controls import VENUE_BEHAVIOR_PATH
from cadenza_mock.contract.venue_controls import body_schema as venue_body_schema

_PAGED = {"pagination": ref("Pagination")}
_OWNED = (ACCOUNT_NOT_FOUND, PERMISSION_DENIED)
# Page size of the order and portfolio lists: the document's (50, at most 1000).
TRADING_PAGE = (50, MAX_LIMIT)
_MS = {"type": "integer", "minimum": 0}
_TEXT = {"type": "string", "minLength": 1}
_BEHAVIOR_ENTRY = {
    "type": "object",
    "required": ["tradingAccountId", "venueBehavior", "source"],
    "properties": {
        "tradingAccountId": {"type": "string"},
        "venueBehavior": {"type": "object", "description": "the keys in effect; {}: normal"},
        "source": {"type": "string", "enum": ["scenario", "admin", "normal"]},
    },
}
_PAGE = (
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
          "page size"),
    Param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
          "records to skip"),
)  # fmt: skip
ORDER_LIST = (
    Param("tradeOrderId", UUID, "only this order"),
    Param("orderStatus", {"type": "string", "enum": list(ORDER_STATUSES)}, "only this status",
          domain=ORDER_STATUSES),
    Param("tradingAccountId", UUID, "only this account's orders"),
    Param("instrumentId", _TEXT, "only this instrument (VENUE:BASE/QUOTE)"),
    Param("orderListId", _TEXT, "only the orders of this order list (take-profit / stop-loss)"),
    Param("startTime", _MS, "created at or after (ms)"),
    Param("endTime", _MS, "created at or before (ms)"),
    *_PAGE,
    Param("cursor", {"type": "string", "pattern": "^[0-9]{1,18}$"},
          "the next page's offset, as pagination.cursor gives it"),
    Param("ascending", {"type": "boolean", "default": False},
          "oldest first (default: newest first)", domain=("true", "false")),
)  # fmt: skip
PORTFOLIO_LIST = (
    Param("tradingAccountId", UUID, "only this account's portfolio"),
    Param("venue", ref("Venue"), "only accounts on this venue", domain="venues"),
    Param("currency", _TEXT, "only balances of this asset"),
    *_PAGE,
)
_TRADING = f"{API_PREFIX}/tradeOrder"
_SUBMIT_ERRORS = (
    *_OWNED,
    INVALID_STATE,
    ORDER_TYPE_NOT_SUPPORTED,
    ORDER_SIDE_NOT_SUPPORTED,
    TIME_IN_FORCE_NOT_SUPPORTED,
    INSUFFICIENT_FUNDS,
    INVALID_ORDER,
    SYMBOL_NOT_FOUND,
    ORDER_REJECTED,
    QUOTE_EXPIRED,
    QUOTE_NOT_FOUND,
    VENUE_TIMEOUT,
)
_RFQ_ERRORS = (
    *_OWNED,
    INVALID_STATE,
    ORDER_SIDE_NOT_SUPPORTED,
    INVALID_ORDER,
    SYMBOL_NOT_FOUND,
    ORDER_REJECTED,
)

TRADING_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{_TRADING}/submit",
        "trading_api.submit_order",
        "submitTradeOrder",
        "Submit trade order",
        "trading",
        _SUBMIT_ERRORS,
        body="SubmitTradeOrderRequest",
        answer=Answer({"type": "array", "items": ref("TradeOrder")}),
        rpc="command.trade_order.submit",
    ),
    Operation(
        "POST",
        f"{_TRADING}/cancel",
        "trading_api.cancel_order",
        "cancelTradeOrder",
        "Cancel trade order",
        "trading",
        (*_OWNED, ORDER_NOT_FOUND, INVALID_ORDER),
        body="CancelTradeOrderRequest",
        answer=Answer(ref("TradeOrder")),
        rpc="command.trade_order.cancel",
    ),
    Operation(
        "GET",
        f"{_TRADING}/list",
        "trading_api.list_orders",
        "listTradeOrders",
        "List trade orders",
        "trading",
        (INVALID_ARGUMENT,),
        answer=Answer({"type": "array", "items": ref("TradeOrder")}, _PAGED),
        params=ORDER_LIST,
        rpc="query.trade_order.list",
    ),
    Operation(
        "GET",
        f"{API_PREFIX}/tradingAccount/portfolio/list",
        "trading_api.list_portfolios",
        "listTradingAccountPortfolios",
        "List trading account portfolios",
        "trading",
        (INVALID_ARGUMENT,),
        answer=Answer({"type": "array", "items": ref("Portfolio")}, _PAGED),
        params=PORTFOLIO_LIST,
        rpc="query.portfolio.list",
    ),
    Operation(
        "POST",
        f"{API_PREFIX}/quote/rfq",
        "trading_api.quote_rfq",
        "quoteRfq",
        "Request for Quote",
        "trading",
        (
            *_OWNED,
            INVALID_STATE,
            ORDER_SIDE_NOT_SUPPORTED,
            INVALID_ORDER,
            SYMBOL_NOT_FOUND,
            ORDER_REJECTED,
        ),
        body="QuoteRfqRequest",
        answer=Answer(ref("Quote")),
        rpc="command.quote.rfq",
    ),
)

# The admin API's views, for tests to assert on (the handle's orders() and portfolio()).
MAX_ADMIN_LATEST = 1000  # GET /__admin/orders?latest=: the dashboard asks for a few
ADMIN_TRADING_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/orders",
        "trading_api.admin_orders",
        "adminListOrders",
        "Every trade order, oldest first (of one user, id or email, or one account; open or "
        "final ones; the newest few)",
        "admin",
        (INVALID_ARGUMENT,),
        auth="admin",
        answer=Answer({"type": "array", "items": ref("TradeOrder")}),
        params=(
            Param("user", {"type": "string"}, "only this user's (id or email)"),
            Param("tradingAccountId", {"type": "string"}, "only this account's"),
            Param("open", {"type": "boolean"}, "only open orders (true) or only final ones"),
            Param(
                "latest",
                {"type": "integer", "minimum": 1, "maximum": MAX_ADMIN_LATEST},
                "only the newest this many (still oldest first)",
            ),
        ),
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/portfolios/{{tradingAccountId}}",
        "trading_api.admin_portfolio",
        "adminGetPortfolio",
        "One trading account's portfolio (seeded when first asked for)",
        "admin",
        (ACCOUNT_NOT_FOUND,),
        auth="admin",
        answer=Answer(ref("Portfolio")),
        params=(Param("tradingAccountId", UUID, where="path"),),
    ),
    # The venue behaviour controls, declared in contract/venue_controls.py.
    Operation(
        "GET",
        VENUE_BEHAVIOR_PATH,
        "trading_api.admin_venue_behaviors",
        "adminListVenueBehaviors",
        "Every trading account's venue behaviour in effect (of one account)",
        "admin",
        (ACCOUNT_NOT_FOUND,),
        auth="admin",
        answer=Answer({"type": "array", "items": _BEHAVIOR_ENTRY}),
        params=(Param("tradingAccountId", {"type": "string"}, "only this account's"),),
    ),
    Operation(
        "POST",
        VENUE_BEHAVIOR_PATH,
        "trading_api.admin_set_venue_behavior",
        "adminSetVenueBehavior",
        "Set a trading account's venue behaviour (the scenario's `venue_behavior:` keys), or "
        "`clear: true` for the normal venue; until a reset or load",
        "admin",
        (VALIDATION_FAILED, INVALID_BODY, ACCOUNT_NOT_FOUND),
        reads_body=True,
        auth="admin",
        answer=Answer(_BEHAVIOR_ENTRY),
        body_doc={
            "required": True,
            "content": {"application/json": {"schema": venue_body_schema()}},
        },
    ),
)

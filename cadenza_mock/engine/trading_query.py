"""The trading reads' parameters -> filters, and the answers they give (REST and RPC):
the order list and the portfolio list, in the platform document's vocabulary. The names
and bounds are the rows' (contract/operation_rows_trading.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cadenza_mock.contract import trading_wire
from cadenza_mock.contract.market_catalogue import quote_of
from cadenza_mock.contract.model import ProfileEnums, User
from cadenza_mock.contract.operation_rows_trading import TRADING_PAGE
from cadenza_mock.contract.query_params import MAX_OFFSET
from cadenza_mock.contract.trading_enums import ORDER_STATUSES
from cadenza_mock.engine.orders import FINAL, Order, Trading
from cadenza_mock.engine.portfolio import Portfolio
from cadenza_mock.engine.query import Page, _account_id, _number, _one, _text, pairs_by_name
from cadenza_mock.engine.subscriptions import PORTFOLIO_UPDATED, TRADE_ORDER_UPDATED, ChannelEvent

Pairs = Iterable[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class OrderFilter:
    order_id: str | None = None
    status: str | None = None
    trading_account_id: str | None = None
    instrument_id: str | None = None
    start: int | None = None
    end: int | None = None
    order_list_id: str | None = None  # only the orders of this list (engine/order_lists.py)
    ascending: bool = False  # oldest first
    page: Page = field(default_factory=lambda: Page(0, TRADING_PAGE[0]))

    def matches(self, order: Order) -> bool:
        return (
            (self.order_list_id is None or order.order_list_id == self.order_list_id)
            and (self.order_id is None or order.order_id.lower() == self.order_id)
            and (self.status is None or order.status == self.status)
            and (
                self.trading_account_id is None
                or order.trading_account_id.lower() == self.trading_account_id
            )
            and (self.instrument_id is None or order.spec.instrument_id == self.instrument_id)
            and (self.start is None or order.created_at >= self.start)
            and (self.end is None or order.created_at <= self.end)
        )


def _page(params: dict[str, list[str]], cursor: bool) -> Page:
    default, most = TRADING_PAGE
    offset = _number(params, "offset", 0, MAX_OFFSET)
    if offset is None and cursor:
        offset = _number(params, "cursor", 0, MAX_OFFSET)
    limit = _number(params, "limit", 1, most)
    return Page(offset or 0, default if limit is None else limit)


def _single(found: frozenset[str] | None) -> str | None:
    return next(iter(found)) if found else None


def parse_order_query(pairs: Pairs) -> OrderFilter:
    params = pairs_by_name(pairs)
    return OrderFilter(
        order_id=_single(_account_id(params, "tradeOrderId")),
        status=_one(params, "orderStatus", ORDER_STATUSES),
        trading_account_id=_single(_account_id(params)),
        instrument_id=_text(params, "instrumentId"),
        start=_number(params, "startTime", 0, MAX_OFFSET),
        end=_number(params, "endTime", 0, MAX_OFFSET),
        order_list_id=_text(params, "orderListId"),
        page=_page(params, cursor=True),
        ascending=_one(params, "ascending", ("true", "false")) == "true",
    )


def orders(trading: Trading, user: User, where: OrderFilter) -> tuple[list[Order], int]:
    """The page of the caller's orders that match, newest first, and how many match."""
    found = [o for o in trading.orders_of(user) if where.matches(o)]
    if where.ascending:
        found.reverse()
    start, end = where.page.cut(len(found))
    return found[start:end], len(found)


def order_list(trading: Trading, user: User, pairs: Pairs) -> dict[str, Any]:
    where = parse_order_query(pairs)
    page, total = orders(trading, user, where)
    return {
        "data": [trading_wire.trade_order(o) for o in page],
        "success": True,
        "errno": 0,
        "error": None,
        "pagination": where.page.pagination(total),
    }


def portfolio_json(
    trading: Trading, pf: Portfolio, currency: str | None = None, rpc: bool = False
) -> dict[str, Any]:
    found = trading_wire.portfolio(pf, trading.prices(pf), quote_of(pf.venue), rpc)
    if currency is not None:
        found["balances"] = [b for b in found["balances"] if b["securitySymbol"] == currency]
    return found


def portfolios(
    trading: Trading,
    user: User,
    *,
    trading_account_id: str | None = None,
    venue: str | None = None,
) -> list[Portfolio]:
    wanted = trading_account_id.lower() if trading_account_id else None
    return [
        pf
        for pf in trading.portfolios_of(user)
        if (wanted is None or pf.trading_account_id.lower() == wanted)
        and (venue is None or pf.venue == venue)
    ]


def portfolio_list(
    trading: Trading, user: User, pairs: Pairs, enums: ProfileEnums
) -> dict[str, Any]:
    params = pairs_by_name(pairs)
    account = _single(_account_id(params))
    venue = _one(params, "venue", enums.venues)
    currency = _text(params, "currency")
    page = _page(params, cursor=False)
    found = portfolios(trading, user, trading_account_id=account, venue=venue)
    start, end = page.cut(len(found))
    return {
        "data": [portfolio_json(trading, pf, currency) for pf in found[start:end]],
        "success": True,
        "errno": 0,
        "error": None,
        "pagination": page.pagination(len(found)),
    }


def inspect_orders(
    trading: Trading,
    user: str | None = None,
    trading_account_id: str | None = None,
    *,
    open_only: bool | None = None,
    latest: int | None = None,
) -> list[dict[str, Any]]:
    """Every order, oldest first, for tests to assert on (`GET /__admin/orders`, the
    handle's `orders()`): of one user (id or email) and one account when given, only the
    open (or only the final) ones, only the newest `latest`. The dashboard asks for a few
    per account: the whole list of a loaded server is megabytes, and it refreshes often."""
    trading.catch_up()
    users = trading.users
    wanted = trading_account_id.lower() if trading_account_id else None
    found: list[Order] = []
    for o in reversed(trading.orders.values()):  # newest first, to stop at `latest`
        if latest is not None and len(found) >= latest:
            break
        if (
            (user is None or user in (o.user_id, users(o.user_id)))
            and (wanted is None or o.trading_account_id.lower() == wanted)
            and (open_only is None or (o.status not in FINAL) == open_only)
        ):
            found.append(o)
    return [trading_wire.trade_order(o) for o in reversed(found)]


def inspect_portfolio(trading: Trading, trading_account_id: str) -> dict[str, Any] | None:
    """One account's portfolio as `GET /__admin/portfolios/{id}` shows it (seeded when
    first asked for); None when there is no such account."""
    account = trading.account(trading_account_id)
    if account is None:
        return None
    trading.catch_up()
    return portfolio_json(trading, trading.portfolio(account))


def trading_events(trading: Trading, order: Order | None, pf: Portfolio) -> list[ChannelEvent]:
    """What a fed `tradingAccount:{id}` channel carries when an order or a portfolio moved:
    `event.trade_order.updated` (the rpcTradeOrder), then `event.portfolio.updated` (the
    rpcPortfolio as it is after the change)."""
    account = trading.account(pf.trading_account_id)
    if account is None:
        return []
    aid = account.trading_account_id
    found = []
    if order is not None:
        found.append(
            ChannelEvent(aid, TRADE_ORDER_UPDATED, account, trading_wire.rpc_trade_order(order))
        )
    data = portfolio_json(trading, pf, rpc=True)
    found.append(ChannelEvent(aid, PORTFOLIO_UPDATED, account, data))
    return found

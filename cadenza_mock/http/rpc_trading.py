"""The trading RPC methods: each translates its params (the document's rpc*TradeOrder*
and rpc*Portfolio* params) into the engine's words and calls the same engine as its REST
twin (engine/orders.py, engine/trading_query.py), so the rules and errors are the twin's.
None is cached: resting orders fill as the clock moves, not with the state version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cadenza_mock.contract import quote_wire, trading_wire
from cadenza_mock.contract.errors import VALIDATION_FAILED
from cadenza_mock.contract.model import User
from cadenza_mock.engine import trading_query
from cadenza_mock.engine.order_checks import OrderRequest
from cadenza_mock.engine.orders import FINAL, Order
from cadenza_mock.engine.query import Page
from cadenza_mock.engine.quoted import rfq
from cadenza_mock.engine.store import Store


def _ms(value: Any, name: str) -> int | None:
    """An ISO-8601 date-time (the WebSocket API's timestamps) as ms since the epoch."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).upper().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise VALIDATION_FAILED.error(f"{name}: the date-time needs its offset (Z)")
        return int(moment.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise VALIDATION_FAILED.error(f"{name}: expected an ISO-8601 date-time") from None


iso_to_ms = _ms  # the REST twin reads quoteRfqRequest.expireAt with it too


def _page(p: dict[str, Any]) -> Page:
    given = p.get("pagination") or {}
    return Page(given.get("offset", 0), given.get("limit", 50))


class AwaitClosed(Exception):
    """An awaitClosed submit whose order is still open: the transport answers it once the
    order is final, or as it is after the REST twin's wait (http/ws_orders.py)."""

    def __init__(self, order: Order) -> None:
        super().__init__(order.order_id)
        self.order = order


def submit(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    order = p["tradeOrder"]
    req = OrderRequest(
        trading_account_id=p["tradingAccountId"],
        instrument_id=order.get("instrumentId"),
        side=order["orderSide"],
        order_type=order["orderType"],
        quantity=order["quantity"],
        limit_price=order.get("limitPrice"),
        time_in_force=order.get("timeInForce"),
        expire_at=_ms(order.get("expireAt"), "tradeOrder.expireAt"),
        client_order_id=order.get("clientOrderId"),
        idempotency_key=p.get("idempotencyKey", order.get("idempotencyKey")),
        quantity_type=order.get("quantityType"),
        quantity_rounding=order.get("quantityRounding"),
        quote_id=order.get("quoteId"),
        stop_price=order.get("stopPrice"),
    )
    placed = store.trading.submit(user, req)
    if p.get("awaitClosed") is True and placed.status not in FINAL:
        raise AwaitClosed(placed)
    return {"data": trading_wire.rpc_trade_order(placed)}


def quote_rfq(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    """command.quote.rfq: the REST twin's quote (the document's `quote`, epoch-ms stamps
    with their ISO twins: it has no rpc shape of its own)."""
    from cadenza_mock.http.trading_api import quote_request  # (it imports this module)

    quote = rfq(store.trading, user, quote_request(p, _ms(p.get("expireAt"), "expireAt")))
    return {"data": quote_wire.quote(quote, store.clock.now_ms())}


def cancel(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    order = store.trading.cancel(
        user, p["tradingAccountId"], p.get("tradeOrderId"), p.get("clientOrderId")
    )
    return {"data": trading_wire.rpc_trade_order(order)}


def get(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    store.trading.catch_up()
    order = store.trading.find(
        user, p.get("tradeOrderId"), p.get("clientOrderId"), p.get("tradingAccountId")
    )
    return {"data": trading_wire.rpc_trade_order(order)}


def get_by_id(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    store.trading.catch_up()
    return {"data": trading_wire.rpc_trade_order(store.trading.find(user, p["tradeOrderId"]))}


def order_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    where = trading_query.OrderFilter(
        order_id=p["tradeOrderId"].lower() if "tradeOrderId" in p else None,
        status=p.get("status"),
        trading_account_id=p["tradingAccountId"].lower() if "tradingAccountId" in p else None,
        instrument_id=p.get("instrumentId"),
        start=_ms(p.get("startTime"), "startTime"),
        end=_ms(p.get("endTime"), "endTime"),
        page=_page(p),
    )
    side, kind = p.get("side"), p.get("orderType")
    found = [
        o
        for o in store.trading.orders_of(user)
        if where.matches(o)
        and (side is None or o.side == side)
        and (kind is None or o.order_type == kind)
    ]
    start, end = where.page.cut(len(found))
    return {
        "data": [trading_wire.rpc_trade_order(o) for o in found[start:end]],
        "pagination": where.page.pagination(len(found)),
    }


def portfolio_get(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    account = store.accounts.owned(user, p["tradingAccountId"])
    store.trading.catch_up()
    pf = store.trading.portfolio(account)
    return {"data": trading_query.portfolio_json(store.trading, pf, rpc=True)}


def portfolio_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    found = trading_query.portfolios(
        store.trading, user, trading_account_id=p.get("tradingAccountId"), venue=p.get("venue")
    )
    page = _page(p)
    start, end = page.cut(len(found))
    currency = p.get("currency")
    return {
        "data": [
            trading_query.portfolio_json(store.trading, pf, currency, rpc=True)
            for pf in found[start:end]
        ],
        "pagination": page.pagination(len(found)),
    }

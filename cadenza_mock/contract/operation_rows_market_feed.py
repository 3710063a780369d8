"""The order book subscriptions' rows (the platform document's tag Market Subscription):
what feeds the `market:orderbook:{venue}:{symbol}` channels (engine/market_subscriptions.py).

Apart from operation_rows_market.py (the market's reads and control) so each table stays
readable; each row is the operation's one declaration, as in operation_rows_api.py."""

from __future__ import annotations

from cadenza_mock.contract.errors import (
    INSTRUMENT_NOT_FOUND,
    INVALID_ARGUMENT,
    SUBSCRIPTION_NOT_FOUND,
)
from cadenza_mock.contract.json_schema import ref
from cadenza_mock.contract.operation_type import API_PREFIX, Answer, Operation
from cadenza_mock.contract.query_params import ORDER_BOOK_SUBSCRIPTION_LIST

_SUBSCRIPTION = f"{API_PREFIX}/market/subscription/orderBook"

MARKET_FEED_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{_SUBSCRIPTION}/subscribe",
        "market_subscriptions_api.subscribe_order_book",
        "subscribeMarketOrderBook",
        "Stream an instrument's book: its market:orderbook channel carries a SNAPSHOT, "
        "then DIFFs, while this is ACTIVE",
        "market",
        (INVALID_ARGUMENT, INSTRUMENT_NOT_FOUND),
        body="SubscribeMarketOrderBookRequest",
        answer=Answer(ref("MarketSubscription")),
        rpc="command.market.subscription.orderbook.subscribe",
    ),
    Operation(
        "POST",
        f"{_SUBSCRIPTION}/unsubscribe",
        "market_subscriptions_api.unsubscribe_order_book",
        "unsubscribeMarketOrderBook",
        "End an order book subscription (by id, or the active one on an instrument): TERMINATED",
        "market",
        (SUBSCRIPTION_NOT_FOUND,),
        body="UnsubscribeMarketOrderBookRequest",
        answer=Answer(ref("MarketSubscription")),
        rpc="command.market.subscription.orderbook.unsubscribe",
    ),
    Operation(
        "GET",
        f"{_SUBSCRIPTION}/list",
        "market_subscriptions_api.list_order_book_subscriptions",
        "listMarketOrderBookSubscriptions",
        "The caller's active order book subscriptions, createdAt then id order",
        "market",
        (INVALID_ARGUMENT,),
        answer=Answer({"type": "array", "items": ref("MarketSubscription")}),
        params=ORDER_BOOK_SUBSCRIPTION_LIST,
        rpc="query.market.subscription.orderbook.list",
    ),
)

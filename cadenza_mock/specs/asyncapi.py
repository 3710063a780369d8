"""The AsyncAPI 3.0 document of the WebSocket API, derived from the RPC table.

OpenAPI describes REST; this describes `/connection/websocket`: one channel for the
commands (Centrifugo's `rpc` frames, one operation per RPC method with its params
schema; `connect`, `subscribe`, `ping`), the `tradingAccount:{tradingAccountId}`
channels that carry the platform document's events once a trading account subscription
feeds them, and the `market:*` channels, whose publications are the REST market shapes
(the OpenAPI document's components, copied under `components.schemas`). Built from
`rpc.METHODS`, so a method added there is documented here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cadenza_mock.contract import wire
from cadenza_mock.contract.json_schema import EPOCH_MS, ref, strict
from cadenza_mock.engine.market_feed import CHANNEL_DEPTH, MAX_CLOSED_BARS, MAX_TRADES
from cadenza_mock.engine.subscriptions import (
    ACCOUNT_UPDATED,
    CHANNEL_PREFIX,
    CREDENTIAL_UPDATED,
    PORTFOLIO_UPDATED,
    SUBSCRIPTION_UPDATED,
    TRADE_ORDER_UPDATED,
)
from cadenza_mock.http.rpc import METHODS
from cadenza_mock.specs.openapi_market import DECIMAL, market_schemas
from cadenza_mock.version import __version__

ASYNCAPI_VERSION = "3.0.0"
_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {
            "type": "integer",
            "description": "the REST errno made positive, or a protocol code",
        },
        "message": {"type": "string"},
        "temporary": {"type": "boolean"},
    },
}


# An RPC's result (the reply's `rpc.data`): the platform document's Rpc*Result, `{data}`
# (lists of trading accounts add `pagination`) or, for a Cadenza error, `{error}`.
_RESULT = {
    "type": "object",
    "oneOf": [
        {"required": ["data"], "not": {"required": ["error"]}},
        {
            "required": ["error"],
            "properties": {"error": _ERROR},
            "not": {"required": ["data"]},
        },
    ],
}
# The events a trading account's channel carries: the document's rpc*UpdatedEvent shapes,
# `{data: <record>}` and nothing else (the record's own ids tell them apart).
_EVENTS = {
    "credential_updated": (
        CREDENTIAL_UPDATED,
        "rpcCredentialUpdatedEvent: a credential backing the account changed",
    ),
    "trading_account_updated": (
        ACCOUNT_UPDATED,
        "rpcTradingAccountUpdatedEvent: the account changed (connect, enable, disable, "
        "update, disconnect, or a rotate or revoke of its credentials)",
    ),
    "subscription_updated": (
        SUBSCRIPTION_UPDATED,
        "rpcTradingAccountSubscriptionUpdatedEvent: its subscription began (ACTIVE) or "
        "ended (TERMINATED: the channel's last event)",
    ),
    "trade_order_updated": (
        TRADE_ORDER_UPDATED,
        "rpcTradeOrderUpdatedEvent: one of the account's orders changed (placed, filled, "
        "cancelled, expired)",
    ),
    "portfolio_updated": (
        PORTFOLIO_UPDATED,
        "rpcPortfolioUpdatedEvent: the account's balances or positions moved (after each "
        "order change)",
    ),
}


_INSTRUMENT = {
    "venue": {"description": "a venue of the scenario's market, such as BINANCE"},
    "symbol": {"description": "BASE/QUOTE, such as BTC/USDT"},
}
# The market channels: (key, address, payload component, parameters, what it carries).
_MARKET = (
    (
        "marketOrderBook",
        "market:orderbook:{venue}:{symbol}",
        "OrderBook",
        _INSTRUMENT,
        f"A SNAPSHOT ({CHANNEL_DEPTH} levels a side), then DIFFs: the levels that changed, "
        'quantity "0" removing one. Only while an order book subscription feeds it (POST '
        "/api/v3/market/subscription/orderBook/subscribe or "
        "command.market.subscription.orderbook.subscribe).",
    ),
    (
        "marketTicker",
        "market:ticker:{venue}:{symbol}",
        "Ticker",
        _INSTRUMENT,
        "The instrument's ticker on subscribe and after each clock move.",
    ),
    (
        "marketVenueTicker",
        "market:ticker:{venue}",
        "Ticker",
        {"venue": _INSTRUMENT["venue"]},
        "Each of the venue's instruments' tickers, on subscribe and after each clock move.",
    ),
    (
        "marketKline",
        "market:kline:{venue}:{symbol}:{interval}",
        "Kline",
        {**_INSTRUMENT, "interval": {"description": "a klineInterval, such as 1m"}},
        "One candle a publication: the bars closed since the last one (isClosed true, "
        f"once each, at most the latest {MAX_CLOSED_BARS} per move), then the live bar "
        "(isClosed false).",
    ),
    (
        "marketTrade",
        "market:trade:{venue}:{symbol}",
        "MarketTrade",
        _INSTRUMENT,
        "One trade a second of the mock clock at the walk's price (the platform document "
        f"names no schema: this is the mock's), at most the latest {MAX_TRADES} per move.",
    ),
)


def _market_components() -> dict[str, Any]:
    found = market_schemas({})
    schemas = {name: found[name] for name in ("OrderBook", "Ticker", "Kline")}
    schemas["Venue"] = {"type": "string", "description": "a venue of the scenario's market"}
    schemas["MarketTrade"] = strict(
        {
            "instrumentId": {"type": "string", "description": "VENUE:BASE/QUOTE"},
            "venue": ref("Venue"),
            "symbol": {"type": "string"},
            "tradeId": {"type": "string", "description": "the trade's second (ms / 1000)"},
            "price": DECIMAL,
            "quantity": DECIMAL,
            "side": {"type": "string", "enum": ["BUY", "SELL"]},
            "timestamp": EPOCH_MS,
        }
    )
    return schemas


def _key(method: str) -> str:
    return method.replace(".", "_")


def _command(name: str, summary: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "summary": summary,
        "payload": {
            "type": "object",
            "required": ["id", name],
            "properties": {"id": {"type": "integer", "minimum": 1}, name: body},
        },
    }


def _build() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for method, spec in METHODS.items():
        key = _key(method)
        messages[f"{key}_call"] = {
            "name": method,
            "summary": f"rpc {method}",
            "payload": {
                "type": "object",
                "required": ["id", "rpc"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "rpc": {
                        "type": "object",
                        "required": ["method"],
                        "properties": {"method": {"const": method}, "data": spec.params},
                    },
                },
            },
        }
        messages[f"{key}_reply"] = {
            "name": f"{method} reply",
            "payload": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "integer"},
                    "rpc": {"type": "object", "properties": {"data": _RESULT}},
                    "error": {**_ERROR, "description": "a protocol error (104, 109, ...)"},
                },
            },
        }
        operations[key] = {
            "action": "send",
            "channel": {"$ref": "#/channels/connection"},
            "summary": method,
            "messages": [{"$ref": f"#/channels/connection/messages/{key}_call"}],
            "reply": {
                "channel": {"$ref": "#/channels/connection"},
                "messages": [{"$ref": f"#/channels/connection/messages/{key}_reply"}],
            },
        }
    messages["connect"] = _command(
        "connect",
        "the first command: a REST access token (the reply says expires and ttl)",
        {
            "type": "object",
            "required": ["token"],
            "properties": {"token": {"type": "string"}, "name": {"type": "string"}},
        },
    )
    messages["subscribe"] = _command(
        "subscribe",
        f"listen to {CHANNEL_PREFIX}{{tradingAccountId}} (one of yours) or a market:* "
        "channel (error 102 for an unknown instrument, venue or interval); journaled as "
        "SUBSCRIBE, with a hint when no subscription feeds it yet",
        {"type": "object", "required": ["channel"], "properties": {"channel": {"type": "string"}}},
    )
    messages["ping"] = _command(
        "ping", "the document's ping command: answered {id, ping: {}}", {"type": "object"}
    )
    for name in ("connect", "subscribe", "ping"):
        operations[name] = {
            "action": "send",
            "channel": {"$ref": "#/channels/connection"},
            "messages": [{"$ref": f"#/channels/connection/messages/{name}"}],
        }
    events: dict[str, Any] = {}
    for key, (name, summary) in _EVENTS.items():
        events[key] = {
            "name": name,
            "summary": summary,
            "payload": {
                "type": "object",
                "required": ["data"],
                "properties": {"data": {"type": "object"}},
                "additionalProperties": False,
            },
        }
        operations[key] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/tradingAccount"},
            "summary": summary,
            "messages": [{"$ref": f"#/channels/tradingAccount/messages/{key}"}],
        }
    channels: dict[str, Any] = {}
    for key, address, component, parameters, summary in _MARKET:
        channels[key] = {
            "address": address,
            "description": summary,
            "parameters": parameters,
            "messages": {
                "publication": {
                    "name": component,
                    "summary": f"a push whose pub.data is a {component}",
                    "payload": ref(component),
                }
            },
        }
        operations[key] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": summary,
            "messages": [{"$ref": f"#/channels/{key}/messages/publication"}],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Cadenza WebSocket API (cadenza-mock)",
            "version": __version__,
            "description": "The Centrifugo client protocol (JSON) at /connection/websocket, "
            "on the same state as the REST API; see the README's WebSocket API section.",
        },
        "servers": {
            "mock": {
                "host": "127.0.0.1:8080",
                "protocol": "ws",
                "pathname": "/connection/websocket",
            }
        },
        "channels": {
            "connection": {"address": "/connection/websocket", "messages": messages},
            "tradingAccount": {
                "address": f"{CHANNEL_PREFIX}{{tradingAccountId}}",
                "description": "Carries the account's events while it has an ACTIVE "
                "trading account subscription (POST /api/v3/tradingAccount/subscription/"
                "subscribe or command.trading_account.subscribe): Cadenza's channels page "
                "puts a server-side subscription before any data.",
                "parameters": {"tradingAccountId": {"description": "one of your accounts"}},
                "messages": events,
            },
            **channels,
        },
        "operations": operations,
        "components": {"schemas": _market_components()},
    }


@cache
def asyncapi_json() -> bytes:
    """The document, serialized once: what GET /api/v3/asyncapi.json serves."""
    return wire.dumps(_build())

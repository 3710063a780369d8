"""The params schemas of the WebSocket API's RPC methods, after the document's `Rpc*Params`.

JSON Schema, validated like REST bodies (fastjsonschema) and published in the AsyncAPI
document. The required fields and enums are the document's (sdk vocabulary, whatever the
scenario's REST profile): a value outside an enum is a 19004 error, as a bad REST filter
is an error. Fields the mock reads beyond the document's (`credentials[].credentialId`
for verify) are named; other unknown fields are ignored, as by the real service.
"""

from __future__ import annotations

from typing import Any

from cadenza_mock.contract.model import ACCOUNT_STATUSES, PROFILES
from cadenza_mock.contract.schemas import UUID_PATTERN
from cadenza_mock.contract.trading_enums import (
    ORDER_SIDES,
    ORDER_STATUSES,
    ORDER_TYPES_ALL,
    QUANTITY_ROUNDINGS,
    QUANTITY_TYPES,
    TIME_IN_FORCE_ALL,
)
from cadenza_mock.engine.subscriptions import SUBSCRIPTION_STATUSES, SUBSCRIPTION_TYPES

_SDK = PROFILES["sdk"]
UUID = {"type": "string", "pattern": UUID_PATTERN}
TEXT = {"type": "string", "minLength": 1}
VENUE = {"type": "string", "enum": list(_SDK.venues)}
CREDENTIAL_TYPE = {"type": "string", "enum": list(_SDK.types)}
CREDENTIAL_STATUS = {"type": "string", "enum": list(_SDK.statuses)}
ACCOUNT_STATUS = {"type": "string", "enum": list(ACCOUNT_STATUSES)}
SUBSCRIPTION_TYPE = {"type": "string", "enum": list(SUBSCRIPTION_TYPES)}
SUBSCRIPTION_STATUS = {"type": "string", "enum": list(SUBSCRIPTION_STATUSES)}
PAGE = {
    "type": "object",
    "properties": {
        "offset": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
}
SECRETS = {"apiKey": TEXT, "secretKey": TEXT, "secretPassphrase": TEXT}


def obj(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


ACCOUNT_ID = obj({"tradingAccountId": UUID}, ["tradingAccountId"])
CREDENTIAL_REF = obj({"credentialId": UUID}, ["credentialId"])
# rpcTradingAccount as params carry it: the fields the mock reads.
_ACCOUNT = {
    "tradingAccountId": UUID,
    "venue": VENUE,
    "nickname": {"type": "string"},
    "externalAccountId": TEXT,
    "credentials": {"type": "array", "items": CREDENTIAL_REF, "minItems": 1},
}
NONE = obj({}, [])
# The market's queries (rpcList*Params, rpcGetOrderBookParams): the venue is checked
# against the scenario's market by the REST twin's parser, as REST checks it.
_TEXTS = {"type": "array", "items": TEXT}
_DEPTH = {"type": "integer", "minimum": 1, "maximum": 1000}
_CHOICE = {"instrumentIds": _TEXTS, "symbols": _TEXTS, "venue": TEXT}
MARKET_PARAMS: dict[str, dict[str, Any]] = {
    "query.venue.list": NONE,
    "query.instrument.list": obj(
        {
            "venue": TEXT,
            "symbols": _TEXTS,
            "securityType": TEXT,
            "instrumentStatus": TEXT,
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "offset": {"type": "integer", "minimum": 0},
        },
        [],
    ),
    "query.security.list": obj({"venue": TEXT, "securities": _TEXTS}, []),
    # The market's commands (rpcSyncInstrumentsParams...): securityIds are the mock's
    # "VENUE:ASSET" ids, which the document types as uuids.
    "command.instrument.sync": obj({"venue": TEXT, "symbols": _TEXTS}, ["venue"]),
    "command.instrument.enable": obj({"instrumentId": TEXT}, ["instrumentId"]),
    "command.instrument.disable": obj({"instrumentId": TEXT}, ["instrumentId"]),
    "command.instrument.delete": obj({"instrumentId": TEXT}, ["instrumentId"]),
    "command.security.sync": obj({"venue": TEXT, "securities": _TEXTS}, ["venue"]),
    "command.security.delete": obj({"securityIds": {**_TEXTS, "minItems": 1}}, ["securityIds"]),
    "query.orderbook.get": obj({"instrumentId": TEXT, "depth": _DEPTH}, ["instrumentId"]),
    "query.orderbook.list": obj({**_CHOICE, "depth": _DEPTH}, []),
    "query.ticker.list": obj(_CHOICE, []),
    "query.kline.list": obj(
        {
            **_CHOICE,
            "interval": {"type": "string", "minLength": 1},
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        },
        [],
    ),
    # Order book subscriptions (rpcSubscribeOrderBookParams and its kin).
    "command.market.subscription.orderbook.subscribe": obj(_CHOICE, []),
    "command.market.subscription.orderbook.unsubscribe": {
        **obj({"subscriptionId": UUID, "instrumentId": TEXT}, []),
        "anyOf": [{"required": ["subscriptionId"]}, {"required": ["instrumentId"]}],
    },
    "query.market.subscription.orderbook.list": obj(_CHOICE, []),
}

# Trade orders and portfolios (rpc*TradeOrder*Params, rpc*Portfolio*Params): the enums
# are the document's, whole; the engine answers what it does not emulate (18xxx).
_ORDER = obj(
    {
        "instrumentId": TEXT,
        "orderType": {"type": "string", "enum": list(ORDER_TYPES_ALL)},
        "orderSide": {"type": "string", "enum": list(ORDER_SIDES)},
        "quantityType": {"type": "string", "enum": list(QUANTITY_TYPES)},
        "quantity": TEXT,
        "quantityRounding": {"type": "string", "enum": list(QUANTITY_ROUNDINGS)},
        "limitPrice": TEXT,
        "stopPrice": TEXT,
        "timeInForce": {"type": "string", "enum": list(TIME_IN_FORCE_ALL)},
        "expireAt": TEXT,
        "clientOrderId": TEXT,
        "idempotencyKey": TEXT,
        "quoteId": UUID,
    },
    ["orderSide", "orderType", "quantity"],
)
_ORDER_REF = {"tradeOrderId": UUID, "tradingAccountId": UUID, "clientOrderId": TEXT}
TRADING_PARAMS: dict[str, dict[str, Any]] = {
    "command.trade_order.submit": obj(
        {
            "tradeOrder": _ORDER,
            "tradingAccountId": UUID,
            "idempotencyKey": TEXT,
            "awaitClosed": {"type": "boolean"},
        },
        ["tradeOrder", "tradingAccountId"],
    ),
    "command.trade_order.cancel": {
        **obj({**_ORDER_REF, "externalOrderId": TEXT}, ["tradingAccountId"]),
        "anyOf": [{"required": ["tradeOrderId"]}, {"required": ["clientOrderId"]}],
    },
    "query.trade_order.get": {
        **obj(_ORDER_REF, []),
        "anyOf": [
            {"required": ["tradeOrderId"]},
            {"required": ["clientOrderId", "tradingAccountId"]},
        ],
    },
    "query.trade_order.get_by_id": obj({"tradeOrderId": UUID}, ["tradeOrderId"]),
    "query.trade_order.list": obj(
        {
            "tradeOrderId": UUID,
            "tradingAccountId": UUID,
            "instrumentId": TEXT,
            "side": {"type": "string", "enum": list(ORDER_SIDES)},
            "orderType": {"type": "string", "enum": list(ORDER_TYPES_ALL)},
            "status": {"type": "string", "enum": list(ORDER_STATUSES)},
            "startTime": TEXT,
            "endTime": TEXT,
            "pagination": PAGE,
        },
        [],
    ),
    # quoteRfqRequest (the document has no rpc twin of it): expireAt an ISO date-time.
    "command.quote.rfq": obj(
        {
            "dealerAccountId": UUID,
            "traderAccountId": UUID,
            "instrumentId": TEXT,
            "baseAsset": TEXT,
            "quoteAsset": TEXT,
            "orderSide": {"type": "string", "enum": list(ORDER_SIDES)},
            "quantity": TEXT,
            "quoteQuantity": TEXT,
            "quoteRequestId": TEXT,
            "ttl": {"type": "integer", "minimum": 1, "maximum": 300},
            "expireAt": TEXT,
            "pricingProfileId": UUID,
        },
        ["dealerAccountId", "orderSide"],
    ),
    "query.portfolio.get": ACCOUNT_ID,
    "query.portfolio.list": obj(
        {"tradingAccountId": UUID, "venue": VENUE, "currency": TEXT, "pagination": PAGE}, []
    ),
}

PARAMS: dict[str, dict[str, Any]] = {
    "command.credential.create": obj(
        {
            "tradingAccountId": UUID,
            "venue": VENUE,
            "credentialType": CREDENTIAL_TYPE,
            "nickname": {"type": "string"},
            **SECRETS,
        },
        ["credentialType", "tradingAccountId", "venue"],
    ),
    "command.credential.rotate": obj(
        {"credentialId": UUID, "credentialType": CREDENTIAL_TYPE, **SECRETS},
        ["credentialId", "credentialType"],
    ),
    "command.credential.revoke": CREDENTIAL_REF,
    "command.credential.verify": obj(
        {
            "credentialIds": {"type": "array", "items": UUID, "minItems": 1},
            "credentials": {"type": "array", "items": CREDENTIAL_REF},
        },
        [],
    ),
    "query.credential.list": obj(
        {
            "credentialIds": {"type": "array", "items": UUID},
            "venue": VENUE,
            "credentialType": CREDENTIAL_TYPE,
            "status": CREDENTIAL_STATUS,
            "pagination": PAGE,
        },
        [],
    ),
    "command.trading_account.connect": obj(
        {
            "tradingAccount": obj(_ACCOUNT, ["credentials", "externalAccountId"]),
        },
        ["tradingAccount"],
    ),
    "command.trading_account.disconnect": ACCOUNT_ID,
    "command.trading_account.enable": ACCOUNT_ID,
    "command.trading_account.disable": ACCOUNT_ID,
    "command.trading_account.update": obj(
        {"tradingAccount": obj(_ACCOUNT, ["tradingAccountId"])}, ["tradingAccount"]
    ),
    "query.trading_account.list": obj(
        {"tradingAccountId": UUID, "venue": VENUE, "status": ACCOUNT_STATUS, "pagination": PAGE},
        [],
    ),
    "query.trading_account.operation.list": obj(
        {"tradingAccountId": UUID, "pagination": PAGE}, ["tradingAccountId"]
    ),
    "command.trading_account.subscribe": obj(
        {
            "tradingAccount": obj({"tradingAccountId": UUID}, ["tradingAccountId"]),
            "subscriptionType": SUBSCRIPTION_TYPE,
        },
        ["subscriptionType", "tradingAccount"],
    ),
    "command.trading_account.unsubscribe": obj(
        {"subscriptionId": UUID, "tradingAccountId": UUID}, ["tradingAccountId"]
    ),
    "query.trading_account.subscription.list": obj(
        {
            "tradingAccountId": UUID,
            "subscriptionType": SUBSCRIPTION_TYPE,
            "status": SUBSCRIPTION_STATUS,
            "pagination": PAGE,
        },
        ["tradingAccountId"],
    ),
    "query.system.info": NONE,
    "query.system.check": NONE,
    **MARKET_PARAMS,
    **TRADING_PARAMS,
}

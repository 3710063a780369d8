"""The WebSocket API's RPC methods: params checked, then the same engine calls as REST.

No business rule lives here: each method validates its params (JSON Schema, as REST
bodies are; `rpc_params`), translates the WebSocket vocabulary (`secretKey`,
`externalAccountId`, sdk enum values, see `rpc_wire`) to the engine's, calls the `Store`,
and shapes the result with `rpc_wire`. No aiohttp: the transport is `cadenza_mock.http.ws`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

import fastjsonschema

from cadenza_mock.contract import rpc_wire, wire
from cadenza_mock.contract.errors import NOT_EMULATED, VALIDATION_FAILED
from cadenza_mock.contract.model import TradingAccount, User
from cadenza_mock.contract.operation_rows_documented import NOT_EMULATED_RPC
from cadenza_mock.contract.rpc_params import PARAMS
from cadenza_mock.contract.schemas import explain
from cadenza_mock.contract.wire import iso_ms, root_json
from cadenza_mock.engine.query import AccountFilter, ListFilter, Page
from cadenza_mock.engine.store import Store
from cadenza_mock.http import rpc_market, rpc_market_feed, rpc_trading
from cadenza_mock.version import API_VERSION


class MethodNotFound(Exception):
    """No such RPC method: the protocol's own error (104), not a Cadenza one."""


Call = Callable[[Store, User, dict[str, Any], str | None], Any]


@dataclass(frozen=True, slots=True)
class Method:
    """One RPC method: its params schema, what it does, and the stem of its schemas in
    the platform's document (`ListCredentials`: rpcListCredentialsParams/Result). Its
    REST twin is the operation row whose `rpc` names it (contract/operation_rows_api.py)."""

    params: dict[str, Any]
    call: Call
    schema: str = ""
    # A query whose serialized answer is kept until the state changes (`call`).
    cached: bool = False
    # A market query: its answer is kept by the market while it and the clock's second
    # stay the same (engine/market_answers.py).
    market: bool = False


class _Row(NamedTuple):
    """A method's line in the table below: its params schema is PARAMS[name]."""

    call: Call
    schema: str
    cached: bool = False
    market: bool = False


def _credential_type(store: Store, wanted: str) -> str:
    """The scenario's credential type the WebSocket API calls `wanted`."""
    types = rpc_wire.named(wanted, store.enums.types, rpc_wire.CREDENTIAL_TYPES)
    if not types:
        raise VALIDATION_FAILED.error(
            f"credentialType {wanted}: this scenario's credentials ({store.profile} profile) "
            f"are {', '.join(sorted({rpc_wire.credential_type(t) for t in store.enums.types}))}"
        )
    return store.enums.default_type if store.enums.default_type in types else min(types)


def _credential_create(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    account = store.accounts.find(p["tradingAccountId"])
    venue = p["venue"]
    if account is not None and rpc_wire.venue(account.venue) == venue:
        venue = account.venue  # the scenario's spelling of it
    cred = store.create_for_account(
        user,
        p["tradingAccountId"],
        venue=venue,
        ctype=_credential_type(store, p["credentialType"]),
        name=p.get("nickname"),
        api_key=p.get("apiKey"),
        api_secret=p.get("secretKey"),
        api_passphrase=p.get("secretPassphrase"),
    )
    return {"data": rpc_wire.credential(cred)}


def _credential_rotate(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    cred = store.owned(user, p["credentialId"])
    if rpc_wire.credential_type(cred.type) != p["credentialType"]:
        raise VALIDATION_FAILED.error(
            f"credentialType {p['credentialType']} is not the credential's type "
            f"({rpc_wire.credential_type(cred.type)})"
        )
    rotated = store.rotate(
        user,
        p["credentialId"],
        api_key=p.get("apiKey"),
        api_secret=p.get("secretKey"),
        api_passphrase=p.get("secretPassphrase"),
    )
    return {"data": rpc_wire.credential(rotated)}


def _credential_revoke(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    return {"data": rpc_wire.credential(store.revoke(user, p["credentialId"]))}


def _credential_verify(store: Store, user: User, p: dict[str, Any], outcome: str | None) -> Any:
    ids = list(p.get("credentialIds") or [c["credentialId"] for c in p.get("credentials", [])])
    if not ids:
        raise VALIDATION_FAILED.error("credentialIds is required")
    results = store.verify(user, ids, outcome)
    reached = [a for r in results for a in store.accounts_reached(user, r)]
    return {"data": {"tradingAccounts": [_account(store, a) for a in reached]}}


def _credential_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    ids = p.get("credentialIds")
    wanted_type = p.get("credentialType")
    where = ListFilter(  # the REST list's filter and indexes; venue is the RPC's extra
        types=rpc_wire.named(wanted_type, store.enums.types, rpc_wire.CREDENTIAL_TYPES)
        if wanted_type
        else None,
        statuses=frozenset((p["status"],)) if "status" in p else None,
        credential_ids=frozenset(i.lower() for i in ids) if ids else None,
    )
    venue = p.get("venue")
    found = [
        c
        for c in store.credentials_of(user.user_id, where)  # in list order
        if venue is None or rpc_wire.venue(c.venue) == venue
    ]
    start, end = _page(p).cut(len(found))
    # rpcListCredentialsResult has no pagination: the page is cut, not described.
    return {"data": [rpc_wire.credential(c) for c in found[start:end]]}


def _page(p: dict[str, Any]) -> Page:
    given = p.get("pagination") or {}
    return Page(given.get("offset", 0), given.get("limit"))


def _account(store: Store, account: TradingAccount) -> dict[str, Any]:
    return rpc_wire.trading_account(account, store.accounts.credentials_of(account))


def _account_connect(store: Store, user: User, p: dict[str, Any], outcome: str | None) -> Any:
    wanted = p["tradingAccount"]
    ids = [c["credentialId"] for c in wanted["credentials"]]
    venue = wanted.get("venue")
    first = store.find(ids[0])
    if venue is not None and first is not None and rpc_wire.venue(first.venue) == venue:
        venue = first.venue  # the scenario's spelling of it
    account = store.connect(
        user,
        ids,
        external_id=wanted["externalAccountId"],
        venue=venue,
        nickname=wanted.get("nickname"),
        outcome=outcome,
    )
    return {"data": _account(store, account)}


def _account_change(action: str) -> Call:
    def call(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
        return {"data": _account(store, store.change_account(user, p["tradingAccountId"], action))}

    return call


def _account_update(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    wanted = p["tradingAccount"]
    account = store.update_account(user, wanted["tradingAccountId"], wanted.get("nickname"))
    return {"data": _account(store, account)}


def _account_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    venue = p.get("venue")
    where = AccountFilter(
        trading_account_ids=frozenset((p["tradingAccountId"].lower(),))
        if "tradingAccountId" in p
        else None,
        venues=rpc_wire.named(venue, store.enums.venues, rpc_wire.VENUES) if venue else None,
        statuses=frozenset((p["status"],)) if "status" in p else None,  # the engine's names
        page=_page(p),
    )
    accounts, total = store.accounts_page(user, where)
    return {
        "data": [_account(store, a) for a in accounts],
        "pagination": rpc_wire.pagination(where.page.pagination(total)),
    }


def _operation_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    wanted = p["tradingAccountId"].lower()
    found = [
        op
        for op in store.accounts.operations_of(user.user_id)  # newest first
        if op.trading_account_id.lower() == wanted
    ]
    start, end = _page(p).cut(len(found))
    return {"data": [rpc_wire.operation(op) for op in found[start:end]]}


def _subscribe(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    made = store.subscriptions.subscribe(
        user, p["tradingAccount"]["tradingAccountId"], p["subscriptionType"]
    )
    return {"data": rpc_wire.subscription(made)}


def _unsubscribe(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    ended = store.subscriptions.unsubscribe(
        user, subscription_id=p.get("subscriptionId"), trading_account_id=p["tradingAccountId"]
    )
    return {"data": rpc_wire.subscription(ended)}


def _subscription_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    found = store.subscriptions.listed(
        user,
        p["tradingAccountId"],
        types=(p["subscriptionType"],) if "subscriptionType" in p else None,
        statuses=(p["status"],) if "status" in p else None,
        page=_page(p),
    )
    return {"data": [rpc_wire.subscription(s) for s in found]}


def _system_info(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    return {"data": root_json(API_VERSION)}


def _system_check(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    health = store.health()
    return {
        "data": {
            "status": health["status"],
            "timestamp": iso_ms(health["timestamp"]),
            "version": API_VERSION,
            "checks": health["checks"],
        }
    }


# One line per method (its params: contract/rpc_params.py's PARAMS, by name); a query is
# `cached` when its answer depends only on the state and the params.
_CALLS: dict[str, _Row] = {
    "command.credential.create": _Row(_credential_create, "CreateCredential"),
    "command.credential.rotate": _Row(_credential_rotate, "RotateCredential"),
    "command.credential.revoke": _Row(_credential_revoke, "RevokeCredential"),
    "command.credential.verify": _Row(_credential_verify, "VerifyCredential"),
    "query.credential.list": _Row(_credential_list, "ListCredentials", cached=True),
    "command.trading_account.connect": _Row(_account_connect, "ConnectTradingAccount"),
    "command.trading_account.disconnect": _Row(
        _account_change("disconnect"), "DisconnectTradingAccount"
    ),
    "command.trading_account.enable": _Row(_account_change("enable"), "EnableTradingAccount"),
    "command.trading_account.disable": _Row(_account_change("disable"), "DisableTradingAccount"),
    "command.trading_account.update": _Row(_account_update, "UpdateTradingAccount"),
    "query.trading_account.list": _Row(_account_list, "ListTradingAccounts", cached=True),
    "query.trading_account.operation.list": _Row(
        _operation_list, "ListTradingAccountOperations", cached=True
    ),
    "command.trading_account.subscribe": _Row(_subscribe, "SubscribeTradingAccountStream"),
    "command.trading_account.unsubscribe": _Row(_unsubscribe, "UnsubscribeTradingAccountStream"),
    "query.trading_account.subscription.list": _Row(
        _subscription_list, "ListTradingAccountSubscriptions", cached=True
    ),
    "query.system.info": _Row(_system_info, "GetSystemInfo", cached=True),
    "query.system.check": _Row(_system_check, "HealthCheck"),
    "query.venue.list": _Row(rpc_market.venue_list, "ListVenues", market=True),
    "query.instrument.list": _Row(rpc_market.instrument_list, "ListInstruments", market=True),
    "query.security.list": _Row(rpc_market.security_list, "ListSecurities", market=True),
    "query.orderbook.get": _Row(rpc_market.order_book, "GetOrderBook", market=True),
    "query.orderbook.list": _Row(rpc_market.order_book_list, "ListOrderBooks", market=True),
    "query.ticker.list": _Row(rpc_market.ticker_list, "ListTickers", market=True),
    "query.kline.list": _Row(rpc_market.kline_list, "ListKlines"),
    "command.market.subscription.orderbook.subscribe": _Row(
        rpc_market_feed.subscribe, "SubscribeOrderBook"
    ),
    "command.market.subscription.orderbook.unsubscribe": _Row(
        rpc_market_feed.unsubscribe, "UnsubscribeOrderBook"
    ),
    "query.market.subscription.orderbook.list": _Row(
        rpc_market_feed.subscription_list, "ListOrderBookSubscriptions"
    ),
    "command.trade_order.submit": _Row(rpc_trading.submit, "SubmitTradeOrder"),
    "command.trade_order.cancel": _Row(rpc_trading.cancel, "CancelTradeOrder"),
    "query.trade_order.get": _Row(rpc_trading.get, "GetTradeOrder"),
    "query.trade_order.get_by_id": _Row(rpc_trading.get_by_id, "GetTradeOrderById"),
    "query.trade_order.list": _Row(rpc_trading.order_list, "ListTradeOrders"),
    "command.quote.rfq": _Row(rpc_trading.quote_rfq, "QuoteRfq"),
    "query.portfolio.get": _Row(rpc_trading.portfolio_get, "GetPortfolio"),
    "query.portfolio.list": _Row(rpc_trading.portfolio_list, "ListPortfolios"),
    "command.instrument.sync": _Row(rpc_market.instrument_sync, "SyncInstruments"),
    "command.instrument.enable": _Row(rpc_market.instrument_enable, "EnableInstrument"),
    "command.instrument.disable": _Row(rpc_market.instrument_disable, "DisableInstrument"),
    "command.instrument.delete": _Row(rpc_market.instrument_delete, "DeleteInstrument"),
    "command.security.sync": _Row(rpc_market.security_sync, "SyncSecurities"),
    "command.security.delete": _Row(rpc_market.security_delete, "DeleteSecurities"),
}
METHODS: dict[str, Method] = {
    name: Method(PARAMS[name], row.call, row.schema, row.cached, row.market)
    for name, row in _CALLS.items()
}


@cache
def _validator(name: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(METHODS[name].params)


_CACHE_LIMIT = 4096
_dumps = wire.dumps_text


def call(
    store: Store,
    user: User,
    name: str,
    data: Any,
    outcome: str | None = None,
    params_text: str | None = None,
) -> str:
    """Run RPC `name` for `user`: its result as JSON text, or the ApiError REST would give
    (the transport sends it as the result's `error`).

    A query's answer is remembered per (state version, user, params), a market query's
    per (market generation, clock second, params) by the market (timestamps stamped in),
    so a client polling costs a dict lookup, as a repeated REST call does. `params_text`:
    the params as `wire.dumps_text` gives them, when the caller has them already."""
    method = METHODS.get(name)
    if method is None:
        if name in NOT_EMULATED_RPC:
            raise NOT_EMULATED.error(f"{name} (RPC)")
        raise MethodNotFound(name)
    params = {} if data is None else data
    if method.market and isinstance(params, dict):
        kept = ("rpc", name, params_text or _dumps(params))
        return store.market.answers.answer(
            kept, lambda: _answer(method, store, user, name, params, outcome)
        )
    key: tuple[object, ...] | None = None
    if method.cached and isinstance(params, dict):
        key = (store.version, user.user_id, name, params_text or _dumps(params))
        hit = store.answer_cache.get(key)
        if hit is not None:
            return hit
    answer = _answer(method, store, user, name, params, outcome)
    if key is not None:
        if len(store.answer_cache) >= _CACHE_LIMIT:
            store.answer_cache.clear()
        store.answer_cache[key] = answer
    return answer


def _answer(
    method: Method, store: Store, user: User, name: str, params: Any, outcome: str | None
) -> str:
    """Validate the params and run the method: its result as JSON text."""
    if not isinstance(params, dict):
        raise VALIDATION_FAILED.error("data must be a JSON object")
    try:
        _validator(name)(params)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise VALIDATION_FAILED.error(explain(exc, params, method.params)) from None
    return _dumps(method.call(store, user, params, outcome))

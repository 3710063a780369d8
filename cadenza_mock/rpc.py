"""The WebSocket API's RPC methods: params checked, then the same engine calls as REST.

No business rule lives here: each method validates its params (JSON Schema, as REST
bodies are), translates the WebSocket field names (`secretKey`, `externalAccountId`) to
the engine's, calls the `Store`, and shapes the result with `rpc_wire`. No aiohttp: the
transport is `cadenza_mock.http.ws`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastjsonschema

from cadenza_mock import rpc_wire
from cadenza_mock.engine.query import AccountFilter, ListFilter, Page
from cadenza_mock.engine.store import Store
from cadenza_mock.errors import VALIDATION_FAILED
from cadenza_mock.model import User
from cadenza_mock.schemas import UUID_PATTERN, explain
from cadenza_mock.version import __version__
from cadenza_mock.wire import iso_ms, root_json

_UUID = {"type": "string", "pattern": UUID_PATTERN}
_TEXT = {"type": "string", "minLength": 1}
_PAGE = {
    "type": "object",
    "properties": {
        "offset": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
}
_SECRETS = {"apiKey": _TEXT, "secretKey": _TEXT, "secretPassphrase": _TEXT}


class MethodNotFound(Exception):
    """No such RPC method: the protocol's own error (104), not a Cadenza one."""


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


@dataclass(frozen=True, slots=True)
class Method:
    """One RPC method: its params schema and what it does."""

    params: dict[str, Any]
    call: Callable[[Store, User, dict[str, Any], str | None], Any]


def _credential_create(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    cred = store.create_for_account(
        user,
        p["tradingAccountId"],
        venue=p["venue"],
        ctype=p.get("credentialType"),
        name=p.get("nickname"),
        api_key=p.get("apiKey"),
        api_secret=p.get("secretKey"),
        api_passphrase=p.get("secretPassphrase"),
    )
    return {"data": rpc_wire.credential(cred)}


def _credential_rotate(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    cred = store.rotate(
        user,
        p["credentialId"],
        api_key=p["apiKey"],
        api_secret=p["secretKey"],
        api_passphrase=p.get("secretPassphrase"),
    )
    return {"data": rpc_wire.credential(cred)}


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
    def one(name: str) -> frozenset[str] | None:
        return frozenset((p[name],)) if name in p else None

    ids = p.get("credentialIds")
    where = ListFilter(  # the REST list's filter and indexes; venue is the RPC's extra
        types=one("credentialType"),
        statuses=one("status"),
        credential_ids=frozenset(i.lower() for i in ids) if ids else None,
    )
    found = [
        c
        for c in store.credentials_of(user.user_id, where)  # in list order
        if p.get("venue") in (None, c.venue)
    ]
    page = _page(p)
    start, end = page.cut(len(found))
    return {
        "data": [rpc_wire.credential(c) for c in found[start:end]],
        "pagination": page.pagination(len(found)),
    }


def _page(p: dict[str, Any]) -> Page:
    given = p.get("pagination") or {}
    return Page(given.get("offset", 0), given.get("limit"))


def _account(store: Store, account: Any) -> dict[str, Any]:
    return rpc_wire.trading_account(account, store.accounts.credentials_of(account), store.enums)


def _account_connect(store: Store, user: User, p: dict[str, Any], outcome: str | None) -> Any:
    wanted = p["tradingAccount"]
    account = store.connect(
        user,
        [c["credentialId"] for c in wanted["credentials"]],
        external_id=wanted["externalAccountId"],
        venue=wanted.get("venue"),
        nickname=wanted.get("nickname"),
        outcome=outcome,
    )
    return {"data": _account(store, account)}


def _account_change(action: str) -> Callable[[Store, User, dict[str, Any], str | None], Any]:
    def call(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
        return {"data": _account(store, store.change_account(user, p["tradingAccountId"], action))}

    return call


def _account_update(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    wanted = p["tradingAccount"]
    account = store.update_account(user, wanted["tradingAccountId"], wanted.get("nickname"))
    return {"data": _account(store, account)}


def _account_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    status = p.get("status")
    where = AccountFilter(
        trading_account_ids=frozenset((p["tradingAccountId"].lower(),))
        if "tradingAccountId" in p
        else None,
        venues=frozenset((p["venue"],)) if "venue" in p else None,
        statuses=frozenset((store.enums.account_status_in(status),)) if status else None,
        page=_page(p),
    )
    accounts, total = store.accounts_page(user, where)
    return {
        "data": [_account(store, a) for a in accounts],
        "pagination": where.page.pagination(total),
    }


def _system_info(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    return {"data": root_json(__version__)}


def _system_check(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    health = store.health()
    return {
        "data": {
            "status": health["status"],
            "timestamp": iso_ms(health["timestamp"]),
            "version": __version__,
            "checks": health["checks"],
        }
    }


def _methods() -> dict[str, Method]:
    account_id = _object({"tradingAccountId": _UUID}, ["tradingAccountId"])
    credential_ref = _object({"credentialId": _UUID}, ["credentialId"])
    account = {
        "type": "object",
        "properties": {
            "tradingAccountId": _UUID,
            "venue": {"type": "string"},
            "nickname": {"type": "string"},
            "externalAccountId": _TEXT,
            "credentials": {"type": "array", "items": credential_ref, "minItems": 1},
        },
    }
    connect_account = {**account, "required": ["credentials", "externalAccountId"]}
    update_account = {**account, "required": ["tradingAccountId"]}
    return {
        "command.credential.create": Method(
            _object(
                {
                    "tradingAccountId": _UUID,
                    "venue": {"type": "string"},
                    "credentialType": {"type": "string"},
                    "nickname": {"type": "string"},
                    **_SECRETS,
                },
                ["tradingAccountId", "venue"],
            ),
            _credential_create,
        ),
        "command.credential.rotate": Method(
            _object(
                {"credentialId": _UUID, "credentialType": {"type": "string"}, **_SECRETS},
                ["credentialId", "apiKey", "secretKey"],
            ),
            _credential_rotate,
        ),
        "command.credential.revoke": Method(credential_ref, _credential_revoke),
        "command.credential.verify": Method(
            _object(
                {
                    "credentialIds": {"type": "array", "items": _UUID, "minItems": 1},
                    "credentials": {"type": "array", "items": credential_ref},
                },
                [],
            ),
            _credential_verify,
        ),
        "query.credential.list": Method(
            _object(
                {
                    "credentialIds": {"type": "array", "items": _UUID},
                    "venue": {"type": "string"},
                    "credentialType": {"type": "string"},
                    "status": {"type": "string"},
                    "pagination": _PAGE,
                },
                [],
            ),
            _credential_list,
        ),
        "command.trading_account.connect": Method(
            _object({"tradingAccount": connect_account}, ["tradingAccount"]), _account_connect
        ),
        "command.trading_account.disconnect": Method(account_id, _account_change("disconnect")),
        "command.trading_account.enable": Method(account_id, _account_change("enable")),
        "command.trading_account.disable": Method(account_id, _account_change("disable")),
        "command.trading_account.update": Method(
            _object({"tradingAccount": update_account}, ["tradingAccount"]), _account_update
        ),
        "query.trading_account.list": Method(
            _object(
                {
                    "tradingAccountId": _UUID,
                    "venue": {"type": "string"},
                    "status": {"type": "string"},
                    "pagination": _PAGE,
                },
                [],
            ),
            _account_list,
        ),
        "query.system.info": Method(_object({}, []), _system_info),
        "query.system.check": Method(_object({}, []), _system_check),
    }


METHODS: dict[str, Method] = _methods()


@cache
def _validator(name: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(METHODS[name].params)


# Queries change nothing: their serialized answers are kept until the state changes.
_CACHED = frozenset({"query.credential.list", "query.trading_account.list", "query.system.info"})
_CACHE_LIMIT = 4096
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def call(store: Store, user: User, name: str, data: Any, outcome: str | None = None) -> str:
    """Run RPC `name` for `user`: its result as JSON text, or the ApiError REST would give.

    A query's answer is remembered per (state version, user, params), so a client polling
    a list costs a dict lookup, as a repeated REST list does."""
    method = METHODS.get(name)
    if method is None:
        raise MethodNotFound(name)
    params = {} if data is None else data
    key: tuple[object, ...] | None = None
    if name in _CACHED and isinstance(params, dict):
        key = (store.version, user.user_id, name, _dumps(params))
        hit = store.answer_cache.get(key)
        if hit is not None:
            return hit
    if not isinstance(params, dict):
        raise VALIDATION_FAILED.error("data must be a JSON object")
    try:
        _validator(name)(params)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise VALIDATION_FAILED.error(explain(exc, params, method.params)) from None
    answer: str = _dumps(method.call(store, user, params, outcome))
    if key is not None:
        if len(store.answer_cache) >= _CACHE_LIMIT:
            store.answer_cache.clear()
        store.answer_cache[key] = answer
    return answer

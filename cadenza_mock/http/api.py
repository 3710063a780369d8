"""Handlers of the emulated Cadenza API: parse, ask the engine, serialize.

Handlers stay thin: bodies are validated by the declared schemas (cadenza_mock.contract.schemas),
state changes happen in the engine's Store, shapes come from cadenza_mock.contract.wire. A handler
awaits only to read its body, before it looks at any state: a scenario load or reset
between two requests can never split one request across two stores. (A large list is
encoded in a worker thread from records taken first; a reset meanwhile drops it.)
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from cadenza_mock.contract import wire
from cadenza_mock.contract.model import OPERATION_TYPES, User
from cadenza_mock.contract.schemas import parse_body
from cadenza_mock.engine.auth import ACCESS_TTL_SECONDS, bearer_token
from cadenza_mock.engine.query import parse_account_query, parse_operation_query
from cadenza_mock.engine.store import PendingList, Store
from cadenza_mock.http.keys import GENERATION, USER_ID, VENUE_OUTCOME, state_of
from cadenza_mock.http.middleware import Stale, json_response, ok, read_body
from cadenza_mock.version import API_VERSION, __version__


def _store(request: web.Request) -> Store:
    return state_of(request).store


def caller(request: web.Request, store: Store) -> User:
    """Authenticate first, like the real API: a bad token is a 401 whatever the body."""
    user = store.user_for_token(request.headers.get("Authorization"))
    request[USER_ID] = user.user_id
    return user


async def authed_body(request: web.Request, schema: str) -> tuple[Store, User, dict[str, Any]]:
    """A JSON operation's (store, caller, body): the body read (the only await: then the
    store cannot change), the caller authenticated (a bad token is a 401 whatever the
    body), then the body checked against its schema (schemas.py)."""
    raw = await read_body(request)
    store = state_of(request).store
    user = caller(request, store)
    return store, user, parse_body(raw, store.profile, schema)


def _credential(store: Store, cred: Any) -> dict[str, Any]:
    return wire.credential(cred, store.profile, store.scenario.mask_keep)


async def list_credentials(request: web.Request) -> web.Response:
    store = _store(request)
    answer = store.pending_list(
        request.headers.get("Authorization"), request.query_string, request.query.items
    )
    if isinstance(answer, PendingList):  # large and new: encoded while others are served
        request[USER_ID] = answer.user_id
        body = await asyncio.to_thread(answer.encode)
        if state_of(request).generation != request[GENERATION]:
            raise Stale  # reset or reloaded meanwhile: the test after it must not see this
        store.remember_list(answer, body)
        return json_response(body)
    request[USER_ID] = answer[0]
    return json_response(answer[1])


async def create_credential(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = _store(request)
    user = caller(request, store)
    body = parse_body(raw, store.profile, "create")
    sdk = store.profile == "sdk"
    cred = store.create(
        user,
        venue=body["venue"],
        ctype=body.get("credentialType" if sdk else "type"),
        name=body.get("nickname" if sdk else "name"),
        api_key=body.get("apiKey"),
        api_secret=body.get("apiSecret"),
        api_passphrase=body.get("apiPassphrase"),
    )
    return ok(_credential(store, cred))


async def verify_credentials(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = _store(request)
    user = caller(request, store)
    body = parse_body(raw, store.profile, "verify")
    many = "credentialIds" in body
    ids = body["credentialIds"] if many else [body["credentialId"]]
    results = store.verify(user, ids, request.get(VENUE_OUTCOME))
    if store.profile == "sdk":
        reached = [a for r in results for a in store.accounts_reached(user, r)]
        return ok([store.account_json(a) for a in reached])
    docs = [
        wire.verify_docs(
            r.credential.credential_id, r.credential.venue, r.verified, list(r.identities)
        )
        for r in results
    ]
    return ok(docs if many else docs[0])


async def rotate_credential(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = _store(request)
    user = caller(request, store)
    body = parse_body(raw, store.profile, "rotate")
    cred = store.rotate(
        user,
        body["credentialId"],
        api_key=body["apiKey"],
        api_secret=body["apiSecret"],
        api_passphrase=body.get("apiPassphrase"),
    )
    return ok(_credential(store, cred))


async def revoke_credential(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = _store(request)
    user = caller(request, store)
    body = parse_body(raw, store.profile, "revoke")
    cred = store.revoke(user, body["credentialId"])
    return ok(wire.revoked(cred, store.profile, store.scenario.mask_keep))


async def connect_trading_account(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = _store(request)
    user = caller(request, store)
    body = parse_body(raw, store.profile, "connect")
    outcome = request.get(VENUE_OUTCOME)
    nickname = body.get("nickname", body.get("name") if store.profile == "docs" else None)
    if "credentialIds" in body and "externalTradingAccountId" in body:
        account = store.connect(
            user,
            body["credentialIds"],
            external_id=body["externalTradingAccountId"],
            venue=body.get("venue"),
            nickname=nickname,
            outcome=outcome,
        )
    elif store.profile == "sdk":  # else the schema let only `venue: FERMATA` through
        account = store.connect_fermata(user, nickname=nickname, outcome=outcome)
    else:  # the docs reference page's form: venue keys in the body
        account = store.connect_with_keys(
            user,
            venue=body["venue"],
            api_key=body["apiKey"],
            api_secret=body["apiSecret"],
            api_passphrase=body.get("apiPassphrase"),
            name=nickname,
            kind=body.get("accountType"),
            outcome=outcome,
        )
    return ok(store.account_json(account))


async def _account_action(request: web.Request, action: str) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = _store(request)
    user = caller(request, store)
    body = parse_body(raw, store.profile, "account")
    account = store.change_account(user, body["tradingAccountId"], action)
    answer = store.account_json(account)
    if action == "disconnect":
        answer = wire.disconnected(answer, account.disconnected_at, store.profile)
    return ok(answer)


async def disconnect_trading_account(request: web.Request) -> web.Response:
    return await _account_action(request, "disconnect")


async def enable_trading_account(request: web.Request) -> web.Response:
    return await _account_action(request, "enable")


async def disable_trading_account(request: web.Request) -> web.Response:
    return await _account_action(request, "disable")


async def update_trading_account(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = _store(request)
    user = caller(request, store)
    body = parse_body(raw, store.profile, "update")
    nickname = body.get("nickname", body.get("name") if store.profile == "docs" else None)
    account = store.update_account(user, body["tradingAccountId"], nickname)
    return ok(store.account_json(account))


async def list_trading_accounts(request: web.Request) -> web.Response:
    store = _store(request)
    user = caller(request, store)
    where = parse_account_query(request.query.items(), store.profile, store.enums)
    return json_response(store.account_list(user, where))


async def list_account_operations(request: web.Request) -> web.Response:
    store = _store(request)
    user = caller(request, store)
    where = parse_operation_query(request.query.items(), store.profile, OPERATION_TYPES)
    return json_response(store.operation_list(user, where))


async def login(request: web.Request) -> web.Response:
    raw = await read_body(request)
    store = _store(request)
    body = parse_body(raw, store.profile, "login")
    session = store.sessions.login(body["email"], body["password"])
    request[USER_ID] = session.user.user_id
    return ok(wire.session_json(session, ACCESS_TTL_SECONDS))


async def refresh_token(request: web.Request) -> web.Response:
    raw = await read_body(request)
    store = _store(request)
    body = parse_body(raw, store.profile, "refresh")
    session = store.sessions.refresh(body["refreshToken"])
    request[USER_ID] = session.user.user_id
    return ok(wire.session_json(session, ACCESS_TTL_SECONDS))


async def signup(request: web.Request) -> web.Response:
    raw = await read_body(request)
    store = _store(request)
    body = parse_body(raw, store.profile, "signup")
    session = store.sessions.signup(body["email"], body["password"], body.get("metadata", {}))
    request[USER_ID] = session.user.user_id
    return ok(wire.session_json(session, ACCESS_TTL_SECONDS))


async def recover(request: web.Request) -> web.Response:
    raw = await read_body(request)
    store = _store(request)
    body = parse_body(raw, store.profile, "recover")
    store.users.recover(body["email"])
    return ok("ok")


async def update_user(request: web.Request) -> web.Response:
    raw = await read_body(request)  # the only await: then the store cannot change
    store = _store(request)
    user = caller(request, store)
    body = parse_body(raw, store.profile, "user_update")
    updated = store.users.update(
        user,
        email=body.get("email"),
        password=body.get("password"),
        metadata=body.get("metadata"),
    )
    return ok(wire.user_json(updated))


async def logout(request: web.Request) -> web.Response:
    store = _store(request)
    header = request.headers.get("Authorization")
    user = store.logout(header)
    request[USER_ID] = user.user_id
    state_of(request).logged_out(bearer_token(header) or "")
    return ok("ok")


# The mock's own release beside the API version it emulates (which the bodies report).
_VERSION_HEADER = {"X-Cadenza-Mock-Version": __version__}


async def health(request: web.Request) -> web.Response:
    answer = json_response(wire.dumps(wire.health_json(_store(request).health(), API_VERSION)))
    answer.headers.update(_VERSION_HEADER)
    return answer


async def root(request: web.Request) -> web.Response:
    caller(request, _store(request))  # the document secures it like the rest
    answer = ok(wire.root_json(API_VERSION))
    answer.headers.update(_VERSION_HEADER)
    return answer


async def current_user(request: web.Request) -> web.Response:
    store = _store(request)
    return ok(wire.user_json(caller(request, store)))

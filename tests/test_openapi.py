"""The OpenAPI document: valid, served, true to the server, and able to catch a drift.

Every response of the whole suite is also checked against it (tests/openapi_conformance.py);
here each documented operation and each documented error status is provoked on purpose,
so the document never lists something the server does not do.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from typing import Any

import pytest
from openapi_checker import ResponseChecker
from openapi_spec_validator import validate
from support import ALICE, LIST

import cadenza_mock
from cadenza_mock.contract.errors import ADMIN_DISABLED
from cadenza_mock.contract.model import PROFILES
from cadenza_mock.contract.operation_rows_market import MARKET_OPERATIONS
from cadenza_mock.contract.operations import OPENAPI_PATH, OPERATIONS
from cadenza_mock.http.app import make_app
from cadenza_mock.http.observer import ObservedResponse
from cadenza_mock.specs.openapi import ENVELOPE_KEYS, openapi_document

PROFILE_NAMES = ("docs", "sdk")
BOB = {"Authorization": "Bearer bob-token"}
ACCOUNT = "/api/v3/tradingAccount"
ACCOUNT_VERBS = ("disconnect", "enable", "disable", "update")
BINANCE_KEY = "k3yBINANCEabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR"
SECRET = "never-served-secret-9f8e7d"
MARKET_IDS = {op.operation_id for op in MARKET_OPERATIONS if op.tag == "market"}
MARKET_READS = {op.operation_id for op in MARKET_OPERATIONS if op.method == "GET"}
MARKET_SUBSCRIPTION = "/api/v3/market/subscription/orderBook"

# Two users on a venue both profiles know, so 403 is reachable in both.
TWO_USERS: dict[str, Any] = {
    "description": "alice and bob, one Binance key each",
    "seed": 3,
    "now": "2026-01-15T12:00:00Z",
    "users": [
        {
            "email": "alice@example.com",
            "password": "correct-horse",
            "tokens": ["alice-token"],
            "credentials": [{"venue": "BINANCE", "apiKey": BINANCE_KEY, "apiSecret": SECRET}],
        },
        {
            "email": "bob@example.com",
            "password": "battery-staple",
            "tokens": ["bob-token"],
            "credentials": [{"generate": 1, "venue": "BINANCE"}],
        },
    ],
}


@pytest.fixture(scope="module")
def checker() -> ResponseChecker:
    return ResponseChecker()


async def observed(response: Any, profile: str, fault: str | None = None) -> ObservedResponse:
    """A live aiohttp client response as the server's observer hook would report it."""
    return ObservedResponse(
        method=response.method,
        path=response.url.path,
        status=response.status,
        body=await response.read(),
        content_type=response.content_type,
        profile=profile,
        fault=fault,
        headers=tuple(response.headers.items()),
    )


def operations(profile: str) -> list[tuple[str, str, dict[str, Any]]]:
    doc = openapi_document(profile)
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "put", "post", "delete")
    ]


# ------------------------------------------------------------------------- the document


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_document_is_valid_openapi_3_1(profile):
    doc = openapi_document(profile)
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    assert doc["openapi"].startswith("3.1")


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_document_carries_the_profile_enums(profile):
    """Enums come from the table the server validates with (the API reference's enums)."""
    schemas = openapi_document(profile)["components"]["schemas"]
    enums = PROFILES[profile]
    assert schemas["Venue"]["enum"] == list(enums.venues)
    assert schemas["CredentialType"]["enum"] == list(enums.types)
    assert schemas["CredentialStatus"]["enum"] == list(enums.statuses)


def test_docs_credential_is_exactly_the_nine_fields():
    cred = openapi_document("docs")["components"]["schemas"]["Credential"]
    nine = ["credentialId", "userId", "venue", "name", "type", "apiKey", "status"]
    assert list(cred["properties"]) == [*nine, "createdAt", "updatedAt"]
    # `name` only when the credential has one (create invents none)
    assert cred["required"] == [p for p in cred["properties"] if p != "name"]
    assert cred["additionalProperties"] is False
    revoked = openapi_document("docs")["components"]["schemas"]["RevokedCredential"]
    assert "apiKey" not in revoked["properties"] and "revokedAt" in revoked["properties"]


def test_sdk_credential_has_no_key_and_has_the_datetime_twins():
    cred = openapi_document("sdk")["components"]["schemas"]["Credential"]
    assert "apiKey" not in cred["properties"] and "userId" not in cred["properties"]
    for stamp in ("createdAt", "updatedAt", "revokedAt"):
        assert f"{stamp}DateTime" in cred["properties"]
    # revokedAt is absent until revoked, never null (the official document's type)
    assert cred["properties"]["revokedAt"]["type"] == "integer"
    assert "revokedAt" not in cred["required"] and "nickname" not in cred["required"]
    assert cred["additionalProperties"] is False


@pytest.mark.parametrize(
    ("profile", "names"),
    [
        ("docs", ["type", "status", "credentialIds"]),
        ("sdk", ["credentialType", "credentialStatus"]),
    ],
)
def test_list_parameters_are_the_profiles_names(profile, names):
    doc = openapi_document(profile)
    params = [p["name"] for p in doc["paths"][LIST]["get"]["parameters"] if "name" in p]
    assert params[: len(names)] == names


def test_request_bodies_are_the_servers_own_schemas():
    """The document reuses cadenza_mock.contract.schemas, so request validation and docs agree."""
    from cadenza_mock.contract.schemas import REQUEST_SCHEMAS

    for profile in PROFILE_NAMES:
        schemas = openapi_document(profile)["components"]["schemas"]
        assert schemas["CreateCredentialRequest"] == REQUEST_SCHEMAS[profile]["create"]
        assert schemas["LoginRequest"] == REQUEST_SCHEMAS[profile]["login"]


# ------------------------------------------------------------------------- served


@pytest.mark.parametrize("profile", PROFILE_NAMES)
async def test_served_without_a_token_for_the_running_profile(make_client, profile):
    client = await make_client("default", profile=profile)
    r = await client.get(OPENAPI_PATH)  # no Authorization header on purpose
    assert r.status == 200
    assert r.content_type == "application/json"
    assert await r.json() == openapi_document(profile)


async def test_profile_query_asks_for_the_other_profile(make_client):
    client = await make_client("default")  # docs
    r = await client.get(OPENAPI_PATH, params={"profile": "sdk"})
    assert r.status == 200
    assert await r.json() == openapi_document("sdk")


@pytest.mark.parametrize("query", ["profile=xml", "profile=", "profile=docs&profile=sdk"])
async def test_bad_profile_query_is_a_400_naming_it(make_client, query):
    client = await make_client("default")
    r = await client.get(f"{OPENAPI_PATH}?{query}")
    assert r.status == 400
    body = await r.json()
    assert body["errno"] == -22015
    assert "profile" in body["error"] and "docs, sdk" in body["error"]


# ------------------------------------------------------------------------- true to the server


@pytest.mark.parametrize("profile", PROFILE_NAMES)
async def test_every_documented_operation_is_routed(make_client, profile, checker):
    """No documented path answers the routing 404 (Page not found) or a 405."""
    client = await make_client(TWO_USERS, profile=profile)
    for path, method, op in operations(profile):
        url = _filled(path)
        r = await client.request(method.upper(), url, headers=ALICE, json={})
        if r.content_type != "application/json":  # the dashboard's files, the journal stream
            assert r.status == 200, (method, path)
            assert r.content_type in op["responses"]["200"]["content"], (method, path)
            r.close()  # a stream does not end by itself
            continue
        body = await r.json()
        assert r.status != 405, (method, path, body)
        assert not (r.status == 404 and body["error"].startswith("Page not found")), (method, path)
        assert checker.problems(await observed(r, profile)) == [], (method, path)


def _arm(status: int, errno: int, path: str, method: str) -> dict[str, Any]:
    error = {429: "Rate limit exceeded", 500: "Unknown error"}[status]
    respond: dict[str, Any] = {"status": status, "errno": errno, "error": error}
    if status == 429:
        respond["headers"] = {"Retry-After": "1"}
    return {"match": {"method": method, "path": path}, "times": 1, "respond": respond}


# Operations whose 403 also means "another user's record" (provoked that way here).
_OWNERSHIP_403 = ("verifyCredential", "rotateCredential", "revokeCredential")


async def _provoke(client: Any, profile: str, op_id: str, status: int) -> Any:
    """A request that makes `op_id` answer `status` the way a real client would meet it."""
    sdk = profile == "sdk"
    bob_cred = (await (await client.get(LIST, headers=BOB)).json())["data"][0]["credentialId"]
    alice_cred = (await (await client.get(LIST, headers=ALICE)).json())["data"][0]["credentialId"]
    missing = str(uuid.uuid4())
    key_body = {"apiKey": "n3wKEYabcdefghij0123456789", "apiSecret": "n3w-secret"}
    create = {"venue": "BINANCE", "apiKey": BINANCE_KEY, "apiSecret": "s"}
    if sdk:
        create["credentialType"] = "API_KEY"
    verify_one = (
        (lambda cid: {"credentialIds": [cid]}) if sdk else (lambda cid: {"credentialId": cid})
    )
    post = {
        "createCredential": "/api/v3/credential/create",
        "verifyCredential": "/api/v3/credential/verify",
        "rotateCredential": "/api/v3/credential/rotate",
        "revokeCredential": "/api/v3/credential/revoke",
        "login": "/api/v3/auth/login",
        "signup": "/api/v3/auth/signup",
        "recoverPassword": "/api/v3/auth/recover",
        "refreshToken": "/api/v3/auth/token/refresh",
        "logout": "/api/v3/auth/logout",
        "connectTradingAccount": f"{ACCOUNT}/connect",
        **{f"{verb}TradingAccount": f"{ACCOUNT}/{verb}" for verb in ACCOUNT_VERBS},
        "subscribeTradingAccount": f"{ACCOUNT}/subscription/subscribe",
        "unsubscribeTradingAccount": f"{ACCOUNT}/subscription/unsubscribe",
        "subscribeMarketOrderBook": f"{MARKET_SUBSCRIPTION}/subscribe",
        "unsubscribeMarketOrderBook": f"{MARKET_SUBSCRIPTION}/unsubscribe",
        "submitTradeOrder": "/api/v3/tradeOrder/submit",
        "cancelTradeOrder": "/api/v3/tradeOrder/cancel",
        "quoteRfq": "/api/v3/quote/rfq",
        **{op.operation_id: op.path for op in MARKET_OPERATIONS if op.method == "POST"},
    }
    delete = {op.operation_id: op.path for op in MARKET_OPERATIONS if op.method == "DELETE"}
    get = {
        "listTradingAccounts": f"{ACCOUNT}/list",
        "listTradingAccountOperations": f"{ACCOUNT}/operation/list",
        "listTradingAccountSubscriptions": f"{ACCOUNT}/subscription/list",
        "listCredentials": LIST,
        "getUser": "/api/v3/auth/user",
        "getOpenApiDocument": OPENAPI_PATH,
        "getAsyncApiDocument": "/api/v3/asyncapi.json",
        "getHealth": "/api/v3/health",
        "getRoot": "/api/v3",
        **{op.operation_id: op.path for op in MARKET_OPERATIONS if op.method == "GET"},
        "listMarketOrderBookSubscriptions": f"{MARKET_SUBSCRIPTION}/list",
        "listTradeOrders": "/api/v3/tradeOrder/list",
        "listTradingAccountPortfolios": f"{ACCOUNT}/portfolio/list",
    }
    put = {"updateUser": "/api/v3/auth/user"}
    path = post.get(op_id) or put.get(op_id) or delete.get(op_id) or get[op_id]
    method = "POST" if op_id in post else "PUT" if op_id in put else "GET"
    method = "DELETE" if op_id in delete else method

    def send(body: Any = None, headers: dict[str, str] | None = ALICE, **kw: Any) -> Any:
        return client.request(method, path, json=body, headers=headers, **kw)

    def connect_body(cid: str) -> dict[str, Any]:
        return {"credentialIds": [cid], "externalTradingAccountId": "spot"}

    async def connected(cid: str, headers: dict[str, str]) -> str:
        r = await client.post(
            post["connectTradingAccount"], json=connect_body(cid), headers=headers
        )
        answer = await r.json()
        assert answer["success"], answer
        return str(answer["data"]["tradingAccountId"])

    account_op = op_id.removesuffix("TradingAccount") in ACCOUNT_VERBS
    if op_id in MARKET_READS and status == 503:  # the venue's market data is unavailable
        body = {"venue": "BINANCE", "data": "unavailable"}
        assert (await client.post("/__admin/market/venue", json=body)).status == 200
        return await send(None, params={"instrumentId": "BINANCE:BTC/USDT", "interval": "1m"})
    if op_id in MARKET_IDS - MARKET_READS and "sync" not in op_id and status == 404:
        missing_id = {"securityId": "BINANCE:NONE"}
        return await send({"instrumentId": "BINANCE:NONE/USDT", **missing_id})
    if op_id == "submitTradeOrder" and status == 504:  # a venue_behavior's timeout
        respond = {"status": 504, "errno": -18015, "error": "Request timeout"}
        fault = {"match": {"method": method, "path": path}, "times": 1, "respond": respond}
        assert (await client.post("/__admin/faults", json=fault)).status == 200
        return await send({}, ALICE)
    if status in (502, 503, 504):  # what the venue answers when the call reaches it
        outcome = {502: "network_error", 503: "maintenance", 504: "timeout"}[status]
        fault = {"match": {"method": "POST", "path": path}, "times": 1, "venue": outcome}
        assert (await client.post("/__admin/faults", json=fault)).status == 200
        body = verify_one(alice_cred) if op_id == "verifyCredential" else connect_body(alice_cred)
        return await send(body)
    if op_id == "connectTradingAccount" and status in (403, 404, 409):
        if status == 409:
            await connected(alice_cred, ALICE)
        return await send(connect_body({403: bob_cred, 404: missing, 409: alice_cred}[status]))
    if (account_op or op_id == "subscribeTradingAccount") and status in (403, 404):
        target = await connected(bob_cred, BOB) if status == 403 else missing
        return await send({"tradingAccountId": target})
    if op_id == "unsubscribeTradingAccount" and status == 400:  # no such subscription
        return await send({"subscriptionId": missing})
    if op_id == "listMarketOrderBookSubscriptions" and status == 400:  # given twice
        return await send(None, params=[("instrumentId", "A:B/C"), ("instrumentId", "A:D/C")])
    if op_id.startswith(("listTradingAccount", "listTradeOrders")) and status == 400:
        return await send(None, params={"tradingAccountId": "not-a-uuid"})

    if status in (429, 500):
        errno = (
            -100002 if (status == 429 and op_id == "login") else {429: -18011, 500: -22000}[status]
        )
        r = await client.post("/__admin/faults", json=_arm(status, errno, path, method))
        assert r.status == 200, await r.text()
        return await send({}, ALICE)
    if status == 401:
        if op_id == "login":
            return await send({"email": "alice@example.com", "password": "wrong"})
        if op_id == "refreshToken":
            return await send({"refreshToken": "not-issued"})
        return await send({}, {"Authorization": "Bearer no-such-token"})
    if status == 400:
        if op_id == "listCredentials":
            return await client.get(LIST, params={"credentialIds": "not-a-uuid"}, headers=ALICE)
        if op_id == "getOpenApiDocument":
            return await client.get(OPENAPI_PATH, params={"profile": "xml"})
        if op_id in MARKET_READS - {"listMarketVenues"}:  # a bad bound, or no instrumentId
            return await send(None, params={"limit": "0", "depth": "0"})
        if op_id in ("logout", "getUser", "getHealth", "getRoot", "getAsyncApiDocument",
                     "listMarketVenues"):  # fmt: skip
            # no body: unmet Expect
            return await send(None, {**ALICE, "Expect": "nothing"})
        return await client.request(method, path, data=b"{not json", headers=ALICE)
    if status == 403 and op_id not in _OWNERSHIP_403:  # any call can come from a web page
        return await send({}, {**ALICE, "Origin": "https://evil.example"})
    if status == 403:
        body = verify_one(bob_cred) if op_id == "verifyCredential" else {"credentialId": bob_cred}
        return await send({**body, **key_body})
    if status == 404 and op_id in ("verifyCredential", "rotateCredential", "revokeCredential"):
        body = verify_one(missing) if op_id == "verifyCredential" else {"credentialId": missing}
        return await send({**body, **key_body})
    if status == 404:  # any call can name a namespace that does not exist
        return await send({}, {**ALICE, "X-Cadenza-Mock-Namespace": "no-such-namespace"})
    if status == 409:
        if op_id == "createCredential":
            return await send(create)
        # rotate onto a key alice already has on the venue: create one, rotate the other to it
        other = dict(create, apiKey="s3condKEYabcdefghij0123456789")
        created = await (
            await client.post(post["createCredential"], json=other, headers=ALICE)
        ).json()
        assert created["success"], created
        return await send({"credentialId": alice_cred, "apiKey": other["apiKey"], "apiSecret": "x"})
    if status == 413:
        # one byte over aiohttp's default client_max_size (1 MiB)
        return await client.request(method, path, data=b"x" * (1024 * 1024 + 1), headers=ALICE)
    raise AssertionError(f"no way to provoke {status} on {op_id}")


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILE_NAMES)
async def test_every_documented_error_status_is_reachable(make_client, profile, checker):
    """Each (operation, error status) of the document is provoked and conforms, errno too."""
    doc = openapi_document(profile)
    for _path, _method, op in operations(profile):
        if op["tags"] in (["admin"], ["not emulated"]):
            continue  # below; test_not_emulated.py
        for status in sorted(int(s) for s in op["responses"] if s not in ("200", "default")):
            client = await make_client(TWO_USERS, profile=profile)
            r = await _provoke(client, profile, op["operationId"], status)
            assert r.status == status, (op["operationId"], status, await r.text())
            assert checker.problems(await observed(r, profile)) == [], (op["operationId"], status)
    assert doc["paths"][LIST]["get"]["responses"]["401"]


async def test_admin_error_statuses_are_reachable(make_client, checker):
    client = await make_client("default", admin_token="admin-secret-123")
    for path, method, op in operations("docs"):
        if op["tags"] != ["admin"] or "401" not in op["responses"]:
            continue  # health stays open for probes
        url = _filled(path)
        r = await client.request(method.upper(), url)  # no X-Admin-Token
        assert r.status == 401, (method, path)
        assert checker.problems(await observed(r, "docs")) == []
        assert "admin-secret-123" not in await r.text()
    admin = {"X-Admin-Token": "admin-secret-123"}
    bad = [
        ("PUT", "/__admin/scenario", {"data": b"users: [", "headers": {**admin, **YAML}}, 400),
        ("PUT", "/__admin/scenario", {"data": b"users: []", "headers": admin}, 415),
        ("POST", "/__admin/faults", {"data": "{}", "headers": admin}, 415),
        ("POST", "/__admin/faults", {"data": b"{", "headers": {**admin, **JSON}}, 400),
        ("POST", "/__admin/clock", {"json": {"advance": -1}, "headers": admin}, 400),
        ("GET", f"/__admin/credentials/{uuid.uuid4()}", {"headers": admin}, 404),
        ("GET", f"/__admin/trading-accounts/{uuid.uuid4()}", {"headers": admin}, 404),
        ("DELETE", "/__admin/faults/nope", {"headers": admin}, 404),
    ]
    for method, url, kwargs, status in bad:
        r = await client.request(method, url, **kwargs)
        assert r.status == status, (method, url, await r.text())
        assert checker.problems(await observed(r, "docs")) == [], (method, url)
    # The admin API turned off (a server beyond loopback without a token): 403 everywhere
    # the document says so, health excepted.
    locked = await make_client("default", admin_locked=True)
    for path, method, op in operations("docs"):
        if op["tags"] != ["admin"]:
            continue
        url = _filled(path)
        r = await locked.request(method.upper(), url)
        locked_off = ADMIN_DISABLED in _operation(op["operationId"]).answers
        assert r.status == (403 if locked_off else 200), (method, path)
        assert checker.problems(await observed(r, "docs")) == []


JSON = {"Content-Type": "application/json"}


def _operation(operation_id: str) -> Any:
    return next(op for op in OPERATIONS if op.operation_id == operation_id)


YAML = {"Content-Type": "application/yaml"}


def _filled(path: str) -> str:
    """A documented path with its parameters filled by ids that name nothing stored."""
    for name in ("credentialId", "tradingAccountId"):
        path = path.replace(f"{{{name}}}", str(uuid.uuid4()))
    for name in ("faultId", "stubId", "snapshotId", "namespace", "name"):
        path = path.replace(f"{{{name}}}", "nope")
    return path.replace("{asset}", "nope.js")


# ------------------------------------------------------------------------- live samples


@pytest.mark.parametrize("profile", PROFILE_NAMES)
async def test_a_full_session_of_live_responses_conforms(make_client, profile, checker):
    """Login, list, create, verify, rotate, revoke, refresh, user, logout, admin: all conform."""
    sdk = profile == "sdk"
    client = await make_client(TWO_USERS, profile=profile)
    seen = []

    async def call(method: str, path: str, **kwargs: Any) -> Any:
        r = await client.request(method, path, **kwargs)
        seen.append(await observed(r, profile))
        return await r.json() if r.content_type == "application/json" else None

    session = (
        await call(
            "POST",
            "/api/v3/auth/login",
            json={"email": "alice@example.com", "password": "correct-horse"},
        )
    )["data"]
    auth = {"Authorization": f"Bearer {session['accessToken']}"}
    await call("GET", LIST, headers=auth)
    await call(
        "GET",
        LIST,
        params={"credentialType" if sdk else "type": "API_KEY" if sdk else "EXCHANGE"},
        headers=auth,
    )
    create = {
        "venue": "OKX",
        "apiKey": "0kxKEYabcdefghij0123456789",
        "apiSecret": SECRET,
        "apiPassphrase": "pp",
    }
    create.update({"credentialType": "HMAC", "nickname": "desk"} if sdk else {"name": "desk"})
    cred = (await call("POST", "/api/v3/credential/create", json=create, headers=auth))["data"]
    cid = cred["credentialId"]
    await call("POST", "/api/v3/credential/verify", json={"credentialIds": [cid]}, headers=auth)
    if not sdk:
        await call("POST", "/api/v3/credential/verify", json={"credentialId": cid}, headers=auth)
    rotate = {
        "credentialId": cid,
        "apiKey": "r0tatedKEYabcdefghij012345",
        "apiSecret": SECRET,
        "apiPassphrase": "pp",
    }
    await call("POST", "/api/v3/credential/rotate", json=rotate, headers=auth)
    revoked = (
        await call("POST", "/api/v3/credential/revoke", json={"credentialId": cid}, headers=auth)
    )["data"]
    assert revoked["status"] == "REVOKED"
    await call("POST", "/api/v3/credential/verify", json={"credentialIds": [cid]}, headers=auth)
    if sdk:
        await call("GET", LIST, params={"limit": "1", "offset": "1"}, headers=auth)
    await call("GET", "/api/v3/auth/user", headers=auth)
    await call("POST", "/api/v3/auth/token/refresh", json={"refreshToken": session["refreshToken"]})
    await call("POST", "/api/v3/auth/logout", headers=auth)
    for method, path in [
        ("GET", "/__admin/health"),
        ("GET", "/__admin/scenario"),
        ("GET", "/__admin/requests"),
        ("GET", "/__admin/clock"),
        ("GET", "/__admin/credentials"),
        ("GET", f"/__admin/credentials/{cid}"),
        ("GET", "/__admin/faults"),
        ("DELETE", "/__admin/faults"),
        ("DELETE", "/__admin/requests"),
        ("POST", "/__admin/reset"),
    ]:
        await call(method, path)
    await call("POST", "/__admin/clock", json={"advance": 5})
    await call("PUT", "/__admin/scenario", params={"name": "default"})
    await call("GET", "/api/v3/nowhere", headers=ALICE)  # routing 404
    await call("DELETE", LIST, headers=ALICE)  # routing 405
    assert len(seen) >= 25
    problems = {f"{s.method} {s.path} {s.status}": checker.problems(s) for s in seen}
    assert {k: v for k, v in problems.items() if v} == {}
    for s in seen:
        assert SECRET.encode() not in (s.body or b"")


async def test_faulted_responses_are_exempt_only_when_broken_on_purpose(make_client, checker):
    client = await make_client("default")
    fault = {"match": {"path": LIST}, "times": 1, "malformed": True}
    assert (await client.post("/__admin/faults", json=fault)).status == 200
    r = await client.get(LIST, headers=ALICE)
    broken = await observed(r, "docs", fault="malformed")
    with pytest.raises(ValueError):
        json.loads(broken.body)
    assert checker.problems(broken) == []  # marked: exempt
    unmarked = ObservedResponse(**{**_fields(broken), "fault": None})
    assert any("not JSON" in p for p in checker.problems(unmarked))


# ------------------------------------------------------------------------- the checker can fail


def _fields(seen: ObservedResponse) -> dict[str, Any]:
    return {name: getattr(seen, name) for name in ObservedResponse.__slots__}


def _with_body(seen: ObservedResponse, body: Any, **changes: Any) -> ObservedResponse:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return ObservedResponse(**{**_fields(seen), "body": raw, **changes})


@pytest.mark.parametrize("profile", PROFILE_NAMES)
async def test_checker_flags_what_the_document_forbids(make_client, profile, checker):
    client = await make_client("default", profile=profile)
    r = await client.get(LIST, headers=ALICE)
    good = await observed(r, profile)
    assert checker.problems(good) == []
    body = json.loads(good.body)

    leaked = json.loads(good.body)
    leaked["data"][0]["apiSecret"] = "s3cr3t"  # a secret on the wire
    assert any("apiSecret" in p for p in checker.problems(_with_body(good, leaked)))

    if profile == "sdk":
        keyed = json.loads(good.body)
        keyed["data"][0]["apiKey"] = "abc123***"  # sdk never serves apiKey
        assert any("apiKey" in p for p in checker.problems(_with_body(good, keyed)))
    else:
        unmasked = json.loads(good.body)
        unmasked["data"][0]["apiKey"] = BINANCE_KEY  # docs serves it masked only
        assert any("apiKey" in p for p in checker.problems(_with_body(good, unmasked)))

    reordered = {key: body[key] for key in reversed(ENVELOPE_KEYS)}
    assert any("order" in p for p in checker.problems(_with_body(good, reordered)))

    bad_enum = json.loads(good.body)
    bad_enum["data"][0]["status"] = "PENDING"
    assert any("PENDING" in p for p in checker.problems(_with_body(good, bad_enum)))

    assert checker.problems(_with_body(good, body, status=418))  # undocumented status


async def test_checker_flags_a_wrong_errno_and_a_429_without_retry_after(make_client, checker):
    client = await make_client("default")
    r = await client.get(LIST, params={"status": "NOPE"}, headers=ALICE)
    good = await observed(r, "docs")
    assert good.status == 400 and checker.problems(good) == []
    body = json.loads(good.body)
    # -19004 is a body error: the list endpoint documents only -22015 for its 400
    assert checker.problems(_with_body(good, {**body, "errno": -19004}))
    rate_limited = _with_body(good, {**body, "errno": -18011}, status=429, headers=())
    assert any("retry-after" in p for p in checker.problems(rate_limited))


# ------------------------------------------------------------------------- the session plugin

INNER_TESTS = """
    from aiohttp import web

    from cadenza_mock.http.app import make_app
    from cadenza_mock.http.middleware import enveloped

    AUTH = {"Authorization": "Bearer alice-token"}


    async def test_conforming(aiohttp_client):
        client = await aiohttp_client(make_app("default"))
        assert (await client.get("/api/v3/credential/list", headers=AUTH)).status == 200
        assert (await client.get("/api/v3/credential/list")).status == 401


    async def test_drifting(aiohttp_client):
        app = make_app("default")

        async def undocumented(request):
            return web.json_response({"data": 1})

        # Routes reach the journal and the observer through the envelope.
        app.router.add_get("/api/v3/undocumented", enveloped(undocumented))
        client = await aiohttp_client(app)
        assert (await client.get("/api/v3/undocumented")).status == 200
"""


def test_session_plugin_fails_the_run_naming_the_test_and_the_response(pytester):
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_inner=textwrap.dedent(INNER_TESTS))
    result = pytester.runpytest("-p", "openapi_conformance", "-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*1 of 3 distinct responses do not conform to the OpenAPI document*",
            "*test_inner.py::test_drifting: GET /api/v3/undocumented -> 200 (docs profile)*",
            "*is not documented*",
        ]
    )


def test_session_plugin_passes_a_conforming_run_and_restores_the_observer(pytester):
    from cadenza_mock.http.observer import default_observer

    before = default_observer()
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    conforming = textwrap.dedent(INNER_TESTS).split("async def test_drifting")[0]
    pytester.makepyfile(test_inner=conforming)
    result = pytester.runpytest("-p", "openapi_conformance", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert default_observer() is before


def test_make_app_without_observer_installs_none():
    from cadenza_mock.http.observer import set_default_observer

    previous = set_default_observer(None)
    try:
        # Nothing on the response path: no observer, not even an empty signal receiver.
        assert len(make_app("empty").on_response_prepare) == 0
        seen: list[Any] = []
        assert len(make_app("empty", response_observer=seen.append).on_response_prepare) == 1
    finally:
        set_default_observer(previous)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
async def test_health_answers_without_a_token_on_the_mock_clock(make_client, profile, checker):
    """As the official client's Health200Response: not enveloped, healthy, on the mock clock."""
    client = await make_client("default", profile=profile)
    r = await client.get("/api/v3/health")
    health = await r.json()
    assert r.status == 200
    assert list(health) == ["status", "timestamp", "isoDateTime", "version", "checks"]
    clock = (await (await client.get("/__admin/clock")).json())["data"]
    assert (health["status"], health["timestamp"]) == ("healthy", clock["now"])
    assert health["isoDateTime"] == clock["nowDateTime"]
    assert health["version"] == "3.0.1"  # the API emulated; the mock's release is a header
    assert r.headers["X-Cadenza-Mock-Version"] == cadenza_mock.__version__
    assert set(health["checks"]) == {"database", "temporal", "redis"}
    assert checker.problems(await observed(r, profile)) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
async def test_root_says_what_answers(make_client, profile, checker):
    """The emulated API's version (the platform document's 3.0.1) in the body, the mock's
    own release in a header; a token is needed, as the document secures it."""
    client = await make_client("default", profile=profile)
    r = await client.get("/api/v3", headers=ALICE)
    body = await r.json()
    assert r.status == 200 and list(body) == list(ENVELOPE_KEYS)
    assert set(body["data"]) == {"name", "version", "description", "documentation"}
    assert body["data"]["version"] == "3.0.1"
    assert r.headers["X-Cadenza-Mock-Version"] == cadenza_mock.__version__ != "3.0.1"
    assert checker.problems(await observed(r, profile)) == []
    for headers in ({}, {"Authorization": "Bearer no-such-token"}):
        r = await client.get("/api/v3", headers=headers)
        assert r.status == 401 and (await r.json())["errno"] == -19002
        assert checker.problems(await observed(r, profile)) == []

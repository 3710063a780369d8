"""The platform's own contract: schemathesis with Cadenza's OpenAPI document (the one the
official clients are generated from) over every REST operation the mock serves.

The document is not ours and is never copied into this repository: it is read from
`../shared/cadenza-openapi.yaml` beside the checkout (CI has it there); elsewhere these
tests skip and say so. Its operations are filtered to the ones the mock's route table
(cadenza_mock/contract/operations.py) serves, so an operation served later is checked the day it
is added. The mock serves the `sdk` profile (the official clients' vocabulary) and is
reset before each case: a logout or revoke in one case cannot change the next.

Every answer, to valid calls and to invalid ones, must conform: response schema, status
code, content type and headers as the document declares them; invalid data rejected;
an operation that needs a token refuses a call without one; undeclared methods refused.
Bounded and deterministic: a fixed seed, a few fuzzed cases per operation on top of
schemathesis' example and coverage cases. A longer local run:

    CADENZA_OFFICIAL_EXAMPLES=200 python -m pytest tests/test_official_contract.py -p no:randomly
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from support import REPO

from cadenza_mock.contract.operations import API_PREFIX, OPERATIONS
from cadenza_mock.run.server import MockServer

OFFICIAL = REPO.parent / "shared" / "cadenza-openapi.yaml"
EXAMPLES = int(os.environ.get("CADENZA_OFFICIAL_EXAMPLES", "8"))
SEED = 20260115
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "unsupported_method",
]
HYPOTHESIS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# The mock's own operations of the emulated API (its documents and the asyncapi are the
# mock's; the official document does not have them).
SERVED = {
    (op.method, op.path) for op in OPERATIONS if op.path.startswith(API_PREFIX) and op.emulated
}
# Documented by the platform, answered 501 by the mock until emulated (one line each in
# contract/operation_rows_documented.py); not fuzzed: the platform documents no 501.
NOT_EMULATED = {(op.method, op.path): op for op in OPERATIONS if not op.emulated}
# The platform documents its WebSocket handshake as an operation; the mock serves it as
# the WebSocket API (GET upgrade at /connection/websocket, test_websocket*.py).
WEBSOCKET = ("POST", "/connection/websocket")

pytestmark = pytest.mark.skipif(
    not OFFICIAL.is_file(),
    reason=f"the platform's OpenAPI document is not at {OFFICIAL} (it is read from "
    "../shared beside the checkout, never copied into it)",
)


def official_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }


@pytest.fixture(autouse=True)
def _schemathesis_node_id(request: pytest.FixtureRequest) -> None:
    # As in test_schemathesis.py: pytest 9.2 has no `Node._nodeid`, schemathesis reads it.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture(scope="module")
def mock() -> Any:
    with MockServer(scenario="sdk") as server:
        yield server
        server.check_handler_errors()


@pytest.fixture(scope="module")
def official(mock: MockServer) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": mock.url,
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "generation": {"max-examples": EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
            "auth": {"openapi": {"SupabaseOAuth2BearerAuth": {"bearer": mock.token}}},
        }
    )
    return schemathesis.openapi.from_path(OFFICIAL, config=config)


def served(ctx: Any) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in SERVED


# The filter goes on the lazy schema: schemathesis drops one set on the fixture's.
schema = schemathesis.pytest.from_fixture("official").include(served)


def test_every_served_operation_is_in_the_official_document() -> None:
    """The filter above checks what both have: the mock serves nothing the platform's
    document lacks (else that operation would escape this module)."""
    document = yaml.safe_load(Path(OFFICIAL).read_text(encoding="utf-8"))
    mine = {(m, p) for m, p in SERVED if not p.endswith((".json",))}
    assert mine - official_operations(document) == set()
    assert len(mine) >= 21  # credentials, auth and accounts, with signup, recover, user update


def test_every_official_operation_is_emulated_or_declared_not_emulated() -> None:
    """The platform's document is covered: each of its operations is served or declared
    (once) as documented-but-not-emulated, with the platform's own operationId and summary."""
    document = yaml.safe_load(Path(OFFICIAL).read_text(encoding="utf-8"))
    official = official_operations(document)
    mine = {(m, p) for m, p in SERVED if not p.endswith(".json")}
    assert official - mine - set(NOT_EMULATED) == {WEBSOCKET}
    assert mine & set(NOT_EMULATED) == set()
    assert set(NOT_EMULATED) <= official  # nothing declared that the platform lacks
    for (method, path), op in NOT_EMULATED.items():
        theirs = document["paths"][path][method.lower()]
        assert (op.operation_id, op.summary) == (theirs["operationId"], theirs["summary"])


@pytest.mark.slow
@schema.parametrize()
@HYPOTHESIS
def test_every_answer_conforms_to_the_official_document(case: Any, mock: MockServer) -> None:
    mock.reset()
    with requests.Session() as session:
        case.call_and_validate(session=session)


# Two users holding the same Binance key (so verify has an UNAVAILABLE account to report).
SHARED = "sharedKEYabcdefghijklmnop0123456789"
TWO_USERS: dict[str, Any] = {
    "profile": "sdk",
    "seed": 8,
    "now": "2026-02-01T00:00:00Z",
    "users": [
        {
            "email": f"{name}@example.com",
            "password": f"{name}-password-1",
            "tokens": [f"{name}-token"],
            "credentials": [
                {
                    "venue": "BINANCE",
                    "credentialType": "API_KEY",
                    "status": "ACTIVE",
                    "apiKey": SHARED,
                    "apiSecret": f"{name}-secret",
                }
            ],
        }
        for name in ("alice", "bob")
    ],
}


def test_a_session_of_valid_calls_conforms_to_the_official_document() -> None:
    """Answers to valid calls (which random ids rarely are): every served operation, each
    answer's status documented by the platform's document and its body valid there."""
    official_schema = schemathesis.openapi.from_path(OFFICIAL)
    seen: set[tuple[str, str]] = set()
    with MockServer(scenario=TWO_USERS) as mock, requests.Session() as http:

        def call(method: str, path: str, token: str | None = "alice-token", **kw: Any) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = http.request(method, mock.url + path, headers=headers, timeout=10, **kw)
            operation = official_schema[path][method]
            documented = operation.definition.raw["responses"]
            assert str(response.status_code) in documented, (method, path, response.text)
            operation.validate_response(response)  # raises, naming the violation
            seen.add((method, path))
            return response.json()

        api = "/api/v3"
        ids = lambda answer: [a["tradingAccountId"] for a in answer["data"]]  # noqa: E731
        call("GET", api)
        call("GET", f"{api}/health", None)
        mine = call("GET", f"{api}/credential/list")["data"][0]["credentialId"]
        bobs = call("GET", f"{api}/credential/list", "bob-token")["data"][0]["credentialId"]
        created = call(
            "POST",
            f"{api}/credential/create",
            json={"venue": "OKX", "credentialType": "HMAC", "apiKey": "okx0123456789abcd",
                  "apiSecret": "s", "apiPassphrase": "p"},
        )["data"]  # fmt: skip
        call("POST", f"{api}/credential/verify", json={"credentialIds": [created["credentialId"]]})
        call("POST", f"{api}/credential/rotate", json={"credentialId": created["credentialId"],
             "apiKey": "okxROTATED0123456", "apiSecret": "t", "apiPassphrase": "q"})  # fmt: skip
        call("POST", f"{api}/credential/revoke", json={"credentialId": created["credentialId"]})
        call("POST", f"{api}/credential/verify", json={"credentialIds": [created["credentialId"]]})
        connect = f"{api}/tradingAccount/connect"
        call("POST", connect, "bob-token",
             json={"credentialIds": [bobs], "externalTradingAccountId": "spot"})  # fmt: skip
        reached = call("POST", f"{api}/credential/verify", json={"credentialIds": [mine]})
        assert {a["status"] for a in reached["data"]} == {"UNAVAILABLE", "NEW"}
        account = call("POST", connect, json={"credentialIds": [mine],
                       "externalTradingAccountId": "margin", "nickname": "m"})["data"]  # fmt: skip
        target = {"tradingAccountId": account["tradingAccountId"]}
        subscription = f"{api}/tradingAccount/subscription"
        call("POST", f"{subscription}/subscribe", json=target)
        assert call("GET", f"{subscription}/list")["data"]
        call("POST", f"{subscription}/unsubscribe", json=target)
        for verb in ("disable", "enable", "update", "disconnect"):
            call("POST", f"{api}/tradingAccount/{verb}", json=target)
        call("POST", connect, json={"venue": "FERMATA"})
        assert ids(call("GET", f"{api}/tradingAccount/list", params={"limit": 1}))
        page = call("GET", f"{api}/tradingAccount/operation/list", params={"limit": 2})
        assert page["pagination"]["cursor"]
        body = {"email": "carol@example.com", "password": "carol-password"}
        session = call("POST", f"{api}/auth/signup", None, json=body)["data"]
        session = call("POST", f"{api}/auth/login", None, json=body)["data"]
        refresh = {"refreshToken": session["refreshToken"]}
        session = call("POST", f"{api}/auth/token/refresh", None, json=refresh)["data"]
        call("GET", f"{api}/auth/user", session["accessToken"])
        call("PUT", f"{api}/auth/user", session["accessToken"], json={"metadata": {"a": 1}})
        call("POST", f"{api}/auth/recover", None, json={"email": "carol@example.com"})
        # The market (the default catalogue of the sdk profile's exchanges).
        market = f"{api}/market"
        venues = call("GET", f"{market}/venue/list")["data"]
        instruments = call("GET", f"{market}/instrument/list", params={"venue": "OKX"})
        one = instruments["data"][0]["instrumentId"]
        assert {v["venue"] for v in venues} >= {"BINANCE", "OKX"} and one.startswith("OKX:")
        call("GET", f"{market}/security/list", params={"securityId": "OKX:BTC"})
        call("GET", f"{market}/orderBook/get", params={"instrumentId": one, "depth": 3})
        call("GET", f"{market}/orderBook/list", params=[("instrumentIds", one)] * 2)
        call("GET", f"{market}/ticker/get", params={"instrumentId": one})
        call("GET", f"{market}/ticker/list", params={"limit": 2})
        kline = {"instrumentId": one, "interval": "1h", "limit": 5}
        assert len(call("GET", f"{market}/kline/get", params=kline)["data"]["candles"]) == 5
        call("GET", f"{market}/ticker/get", params={"instrumentId": "OKX:NONE/USDT"})
        books = f"{market}/subscription/orderBook"
        sub = call("POST", f"{books}/subscribe", json={"instrumentId": one})["data"]
        assert call("GET", f"{books}/list", params={"instrumentId": one})["data"] == [sub]
        call("POST", f"{books}/unsubscribe", json={"subscriptionId": sub["subscriptionId"]})
        call("POST", f"{books}/subscribe", json={"instrumentId": "OKX:NONE/USDT"})
        # Orders and portfolios: an account of alice's, its seeded default portfolio.
        trader = call("POST", connect, json={"credentialIds": [mine],
                      "externalTradingAccountId": "futures"})["data"]  # fmt: skip
        account_id = trader["tradingAccountId"]
        order = {"tradingAccountId": account_id, "orderSide": "BUY", "quantity": "0.001",
                 "instrumentId": "BINANCE:BTC/USDT", "orderType": "MARKET"}  # fmt: skip
        trade = f"{api}/tradeOrder"
        assert call("POST", f"{trade}/submit", json=order)["data"][0]["status"] == "FILLED"
        limit = {**order, "orderType": "LIMIT", "limitPrice": "10000.00"}
        resting = call("POST", f"{trade}/submit", json=limit)["data"][0]
        assert resting["status"] == "ACCEPTED"
        cancel = {"tradingAccountId": account_id, "tradeOrderId": resting["tradeOrderId"]}
        assert call("POST", f"{trade}/cancel", json=cancel)["data"]["status"] == "CANCELLED"
        assert call("POST", f"{trade}/cancel", json=cancel)["errno"] == -18007
        assert len(call("GET", f"{trade}/list", params={"limit": 5})["data"]) == 2
        assert call("GET", f"{api}/tradingAccount/portfolio/list")["data"][0]["balances"]
        assert (
            call("POST", f"{trade}/submit", json={**limit, "quantity": "1000"})["errno"] == -18006
        )
        # RFQ: a quote priced from the book, a QUOTED order on it, then the quote is used.
        asked = {"dealerAccountId": account_id, "orderSide": "BUY", "quantity": "0.001",
                 "instrumentId": "BINANCE:BTC/USDT", "quoteRequestId": "q-1", "ttl": 5}  # fmt: skip
        quote = call("POST", f"{api}/quote/rfq", json=asked)["data"]
        assert quote["status"] == "CREATED"
        quoted = {**order, "orderType": "QUOTED", "quoteId": quote["quoteId"]}
        taken = call("POST", f"{trade}/submit", json=quoted)["data"][0]
        assert (taken["status"], taken["quoteId"]) == ("FILLED", quote["quoteId"])
        assert call("POST", f"{trade}/submit", json=quoted)["errno"] == -18025
        again = call("POST", f"{api}/quote/rfq", json={**asked, "orderSide": "SELL"})["data"]
        assert again["quoteId"] == quote["quoteId"]  # the same quoteRequestId: the same quote
        unknown = {**asked, "orderSide": "UNKNOWN", "quoteRequestId": "q-2"}
        assert call("POST", f"{api}/quote/rfq", json=unknown)["errno"] == -18002
        # The market's write operations, then a sync that brings the instrument back.
        target = {"instrumentId": one}
        assert call("POST", f"{market}/instrument/disable", json=target)["data"]["status"] == (
            "DISABLED"
        )
        assert call("POST", f"{market}/instrument/enable", json=target)["data"]["status"] == (
            "ACTIVE"
        )
        assert call("DELETE", f"{market}/instrument/delete", json=target)["data"] == "ok"
        synced = call("POST", f"{market}/instrument/sync", json={"venue": "OKX", "symbols": []})
        assert synced["data"]["total"] == len(instruments["data"])
        gone = call("DELETE", f"{market}/security/delete", json={"securityId": "OKX:BTC"})
        assert gone["data"]["securityId"] == "OKX:BTC"
        assert call("POST", f"{market}/security/sync", json={"venue": "OKX"})["data"] == "ok"
        call("DELETE", f"{market}/security/delete", json={"securityId": "OKX:NONE"})
        # Errors, in the document's shapes too.
        call("GET", f"{api}/credential/list", "no-such-token")
        call("POST", f"{api}/credential/revoke", json={"credentialId": created["credentialId"]})
        call("POST", f"{api}/credential/create", json={"venue": "BINANCE"})
        call("POST", f"{api}/auth/signup", None, json=body)
        call("POST", f"{api}/auth/logout", session["accessToken"])
        mock.check_handler_errors()
    missing = {(m, p) for m, p in SERVED if not p.endswith(".json")} - seen
    assert not missing, f"served but not in this session: add a valid call for {missing}"

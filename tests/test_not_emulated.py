"""Operations Cadenza documents that the mock does not emulate: routed, documented, known
to strict mode, answering 501 in the envelope naming the operation (after the bearer
check), the usual 405 for a wrong method. Over real sockets (MockServer and requests, the
aiohttp test client); the platform's own document is compared in test_official_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openapi_checker import ResponseChecker
from support import ALICE, LIST

from cadenza_mock.contract.errors import NOT_EMULATED
from cadenza_mock.contract.model import PROFILE_NAMES
from cadenza_mock.contract.operation_rows_documented import (
    DOCUMENTED_OPERATIONS,
    NOT_EMULATED_TAG,
)
from cadenza_mock.contract.operations import OPERATIONS
from cadenza_mock.http.observer import ObservedResponse
from cadenza_mock.run.server import MockServer
from cadenza_mock.specs.openapi import openapi_document

SUBMIT = "/api/v3/fermata/wallet/transfer"
WALLETS = "/api/v3/fermata/wallet/list"


@pytest.fixture(scope="module", params=PROFILE_NAMES)
def mock(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    with MockServer("default", profile=request.param) as server:
        yield server


@pytest.fixture(autouse=True)
def _pristine(request: pytest.FixtureRequest) -> None:
    if "mock" in request.fixturenames:
        request.getfixturevalue("mock").reset()


def _call(mock: MockServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    body = {"json": {}} if method in ("POST", "PUT", "DELETE") else {}
    return requests.request(method, mock.url + path, timeout=10, **{**body, **kwargs})


def test_the_brief_example_reads_as_promised(mock: MockServer) -> None:
    r = _call(mock, "POST", SUBMIT, headers=ALICE, json={"side": "BUY"})
    assert r.status_code == 501
    assert r.json()["error"] == (
        "Not emulated: fermataTransferWallet (POST /api/v3/fermata/wallet/transfer)"
    )


def test_every_documented_only_operation_answers_501_naming_it(mock: MockServer) -> None:
    assert len(DOCUMENTED_OPERATIONS) >= 15  # Fermata: the market, orders and RFQ are emulated
    for op in DOCUMENTED_OPERATIONS:
        r = _call(mock, op.method, op.path, headers=ALICE)
        assert r.status_code == 501, (op.operation_id, r.text)
        body = r.json()
        assert list(body)[:4] == ["data", "success", "errno", "error"]
        assert (body["data"], body["success"], body["errno"]) == (None, False, NOT_EMULATED.errno)
        assert body["error"] == f"Not emulated: {op.operation_id} ({op.method} {op.path})"
        if mock.profile == "sdk":
            assert body["details"]["code"] == "NOT_IMPLEMENTED"
    # Journaled as the calls they were, with the caller.
    entries = mock.requests
    assert [e.status for e in entries] == [501] * len(DOCUMENTED_OPERATIONS)
    assert {e.user_id for e in entries} == {mock.users[0].user_id}


def test_the_bearer_is_checked_first(mock: MockServer) -> None:
    assert _call(mock, "POST", SUBMIT).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert _call(mock, "GET", WALLETS, headers=bad).status_code == 401


def test_a_wrong_method_is_the_usual_405(mock: MockServer) -> None:
    r = _call(mock, "GET", SUBMIT, headers=ALICE)
    assert (r.status_code, r.headers["Allow"]) == (405, "POST")
    assert r.json()["error"] == f"Method not allowed: GET {SUBMIT} (allowed: POST)"
    r = _call(mock, "DELETE", WALLETS, headers=ALICE)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    # A path nobody documents stays the routing 404.
    assert _call(mock, "GET", "/api/v3/fermata/nope", headers=ALICE).status_code == 404


def test_head_of_a_documented_get_is_a_501_without_body(mock: MockServer) -> None:
    r = requests.head(mock.url + WALLETS, headers=ALICE, timeout=10)
    assert r.status_code == 501 and r.content == b""


def test_strict_mode_does_not_call_them_unknown(mock: MockServer) -> None:
    """No near-miss hints (their vocabulary is not declared, so nothing is 'unknown'), no
    unknown route; the same check still flags a path nobody documents."""
    _call(mock, "GET", WALLETS + "?venue=BINANCE&limit=5", headers=ALICE)
    _call(mock, "POST", SUBMIT, headers=ALICE, json={"side": "BUY", "quantity": "1"})
    entries = mock.requests
    assert [e.hints for e in entries] == [(), ()]
    assert "X-Cadenza-Mock-Hint" not in _call(mock, "GET", WALLETS + "?x=1", headers=ALICE).headers
    assert mock.unknown_requests() == []
    mock.assert_no_unknown_requests()
    _call(mock, "GET", "/api/v3/market/nowhere", headers=ALICE)
    assert [e.path for e in mock.unknown_requests()] == ["/api/v3/market/nowhere"]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_openapi_document_lists_them_with_their_501(profile: str) -> None:
    paths = openapi_document(profile)["paths"]
    for op in DOCUMENTED_OPERATIONS:
        documented = paths[op.path][op.method.lower()]
        assert documented["operationId"] == op.operation_id
        assert documented["tags"] == [NOT_EMULATED_TAG]
        assert "200" not in documented["responses"]
        errnos = documented["responses"]["501"]["content"]["application/json"]["schema"]
        assert errnos["properties"]["errno"]["enum"] == [NOT_EMULATED.errno]
    # Emulated operations never answer it.
    assert all("501" not in item.get("get", {}).get("responses", {}) for item in [paths[LIST]])


def test_rows_declare_one_operation_each() -> None:
    keys = [(op.method, op.path) for op in OPERATIONS]
    assert len(keys) == len(set(keys))
    ids = [op.operation_id for op in OPERATIONS]
    assert len(ids) == len(set(ids))
    for op in DOCUMENTED_OPERATIONS:
        assert not op.emulated and op.auth == "bearer" and op.rpc is None and not op.venue
        assert NOT_EMULATED in op.answers
    assert all(NOT_EMULATED not in op.answers for op in OPERATIONS if op.emulated)


def _observed(status: int, body: bytes, content_type: str, method: str, path: str,
              profile: str, headers: Any) -> ObservedResponse:  # fmt: skip
    return ObservedResponse(
        method, path, status, body, content_type, profile, None, tuple(headers.items())
    )


@pytest.mark.parametrize("profile", PROFILE_NAMES)
async def test_every_documented_error_status_is_reachable_and_conforms(
    make_client: Any, profile: str
) -> None:
    """What test_openapi.py does for the emulated operations: each status the document
    lists for a not-emulated operation is provoked, and the answer conforms."""
    checker = ResponseChecker()
    doc = openapi_document(profile)
    client = await make_client("default", profile=profile)
    for op in DOCUMENTED_OPERATIONS:
        statuses = sorted(
            int(s) for s in doc["paths"][op.path][op.method.lower()]["responses"] if s.isdigit()
        )
        assert statuses == [400, 401, 403, 404, 429, 500, 501], op.operation_id
        for status in statuses:
            headers = dict(ALICE)
            if status in (429, 500):
                respond: dict[str, Any] = {"status": status}
                if status == 429:
                    respond["headers"] = {"Retry-After": "1"}
                fault = {"match": {"path": op.path}, "times": 1, "respond": respond}
                assert (await client.post("/__admin/faults", json=fault)).status == 200
            elif status == 400:
                headers["Expect"] = "nothing"
            elif status == 401:
                headers["Authorization"] = "Bearer nobody"
            elif status == 403:
                headers["Origin"] = "https://evil.example"
            elif status == 404:
                headers["X-Cadenza-Mock-Namespace"] = "no-such-namespace"
            r = await client.request(op.method, op.path, headers=headers)
            body = await r.read()
            assert r.status == status, (op.operation_id, status, body)
            seen = _observed(r.status, body, r.content_type, op.method, op.path, profile, r.headers)
            assert checker.problems(seen) == [], (op.operation_id, status)


# --------------------------------------------------------------------------- the RPC side


def test_not_emulated_rpc_methods_are_none_the_mock_answers() -> None:
    from cadenza_mock.contract.operation_rows_documented import NOT_EMULATED_RPC
    from cadenza_mock.http.rpc import METHODS

    assert NOT_EMULATED_RPC.isdisjoint(METHODS)


async def test_a_documented_rpc_method_not_emulated_says_so_in_its_result(
    mock: MockServer,
) -> None:
    from centrifuge import Client, ReplyError

    client = Client(mock.url.replace("http://", "ws://") + "/connection/websocket",
                    token="alice-token")  # fmt: skip
    await client.connect()
    try:
        await client.ready(timeout=5)
        result = (await client.rpc("command.kline.save", {})).data
        assert result == {
            "error": {
                "code": 19003,
                "message": "Not emulated: command.kline.save (RPC)",
                "temporary": False,
            }
        }
        with pytest.raises(ReplyError) as made_up:  # a name Cadenza has not: the protocol's
            await client.rpc("command.kline.saev", {})
        assert made_up.value.code == 104
    finally:
        await client.disconnect()
    (entry,) = [e for e in mock.requests if e.path == "command.kline.save"]
    assert entry.method == "RPC" and entry.status == 501
    # strict mode: the typo is unknown, the documented method is not
    assert [(e.method, e.path) for e in mock.unknown_requests()] == [("RPC", "command.kline.saev")]

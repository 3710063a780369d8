"""The market's write operations over real sockets: instrument sync, enable, disable and
delete, security sync and delete, over REST (requests) and their RPC twins
(centrifuge-python), with the same rules and errors; bad input changes nothing; a reset
and each namespace have their own market."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from centrifuge import Client
from platform_ws import assert_rpc_result, assert_shape, require_document, rpc_schema
from support import error_text, module_mock

from cadenza_mock.run.server import MockServer

MARKET = "/api/v3/market"
SCENARIO: dict[str, Any] = {
    "seed": 11,
    "now": "2026-01-01T00:00:00Z",
    "profile": "sdk",
    "market": {
        "BINANCE": [{"symbol": "BTC/USDT"}, {"symbol": "ETH/USDT"}, {"symbol": "SOL/USDT"}],
        "OKX": "default",
    },
    "users": [{"email": "alice@example.com", "tokens": ["alice-token"]}],
}
ALICE = {"Authorization": "Bearer alice-token"}
BTC = "BINANCE:BTC/USDT"


server, mock = module_mock(SCENARIO)  # a fresh clock and market for each test


def call(mock: MockServer, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {**ALICE, **kw.pop("headers", {})}
    return requests.request(method, f"{mock.url}{MARKET}/{path}", headers=headers, timeout=10, **kw)


def data(response: requests.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["data"]


def listed(mock: MockServer, venue: str = "BINANCE") -> dict[str, str]:
    rows = data(call(mock, "GET", "instrument/list", params={"venue": venue}))
    return {row["instrumentId"]: row["status"] for row in rows}


def securities(mock: MockServer, venue: str = "BINANCE") -> list[str]:
    rows = data(call(mock, "GET", "security/list", params={"venue": venue}))
    return [row["securityId"] for row in rows]


def test_disable_enable_delete_and_sync_an_instrument(mock: MockServer) -> None:
    disabled = data(call(mock, "POST", "instrument/disable", json={"instrumentId": BTC}))
    assert disabled["instrumentId"] == BTC and disabled["status"] == "DISABLED"
    assert listed(mock)[BTC] == "DISABLED"  # still listed
    inactive = call(mock, "GET", "instrument/list", params={"instrumentStatus": "DISABLED"})
    assert [i["instrumentId"] for i in data(inactive)] == [BTC]
    assert data(call(mock, "GET", "ticker/get", params={"instrumentId": BTC}))["lastPrice"]
    assert (
        data(call(mock, "POST", "instrument/enable", json={"instrumentId": BTC}))["status"]
        == "ACTIVE"
    )

    assert data(call(mock, "DELETE", "instrument/delete", json={"instrumentId": BTC})) == "ok"
    assert BTC not in listed(mock)
    for path in ("ticker/get", "orderBook/get"):
        gone = call(mock, "GET", path, params={"instrumentId": BTC})
        assert error_text(gone, 404, -22016) == f"Instrument not found: {BTC}"
    again = call(mock, "DELETE", "instrument/delete", json={"instrumentId": BTC})
    assert error_text(again, 404, -22016) == f"Instrument not found: {BTC}"

    synced = call(
        mock, "POST", "instrument/sync", json={"venue": "BINANCE", "symbols": ["BTC/USDT"]}
    )
    assert data(synced) == {"total": 1}
    assert list(listed(mock)) == [BTC, "BINANCE:ETH/USDT", "BINANCE:SOL/USDT"]  # declared order


def test_sync_restores_the_venues_declared_statuses(mock: MockServer) -> None:
    for instrument in (BTC, "BINANCE:ETH/USDT"):
        call(mock, "POST", "instrument/disable", json={"instrumentId": instrument})
    call(mock, "DELETE", "instrument/delete", json={"instrumentId": "BINANCE:SOL/USDT"})
    okx_before = listed(mock, "OKX")
    body = {"venue": "BINANCE", "symbols": []}  # none named: all of the venue's
    assert data(call(mock, "POST", "instrument/sync", json=body)) == {"total": 3}
    assert set(listed(mock).values()) == {"ACTIVE"} and len(listed(mock)) == 3
    assert listed(mock, "OKX") == okx_before
    unknown = {"venue": "BINANCE", "symbols": ["NONE/USDT"]}  # the venue lists no such one
    assert data(call(mock, "POST", "instrument/sync", json=unknown)) == {"total": 0}


def test_delete_and_sync_securities(mock: MockServer) -> None:
    assert "BINANCE:SOL" in securities(mock)
    gone = data(call(mock, "DELETE", "security/delete", json={"securityId": "BINANCE:SOL"}))
    assert gone["securityId"] == "BINANCE:SOL" and gone["symbol"] == "SOL"
    assert "BINANCE:SOL" not in securities(mock)
    assert "BINANCE:SOL/USDT" in listed(mock)  # its instrument stays
    assert "OKX:SOL" in securities(mock, "OKX")
    again = call(mock, "DELETE", "security/delete", json={"securityId": "BINANCE:SOL"})
    assert error_text(again, 404, -22016) == "Security not found: BINANCE:SOL"
    assert data(call(mock, "POST", "security/sync", json={"venue": "BINANCE"})) == "ok"
    assert "BINANCE:SOL" in securities(mock)


@pytest.mark.parametrize(
    ("method", "path", "body", "words"),
    [
        ("POST", "instrument/disable", {}, "instrumentId"),
        ("POST", "instrument/enable", {"instrumentId": 7}, "instrumentId"),
        ("DELETE", "instrument/delete", {"instrumentId": ""}, "instrumentId"),
        ("POST", "instrument/sync", {"venue": "BINANCE"}, "symbols"),
        ("POST", "instrument/sync", {"venue": "NOWHERE", "symbols": []}, "venue"),
        ("POST", "security/sync", {}, "venue"),
        ("DELETE", "security/delete", {"securityId": ["BINANCE:BTC"]}, "securityId"),
    ],
)
def test_bad_bodies_are_a_clear_400_and_change_nothing(
    mock: MockServer, method: str, path: str, body: Any, words: str
) -> None:
    before = (listed(mock), securities(mock))
    answer = call(mock, method, path, json=body)
    assert words in error_text(answer, 400, -19004)
    assert (listed(mock), securities(mock)) == before


def test_writes_need_a_bearer_and_a_reset_forgets_them(mock: MockServer) -> None:
    anonymous = call(mock, "POST", "instrument/disable", json={"instrumentId": BTC},
                     headers={"Authorization": "Bearer nope"})  # fmt: skip
    error_text(anonymous, 401, -19002)
    assert listed(mock)[BTC] == "ACTIVE"
    call(mock, "DELETE", "instrument/delete", json={"instrumentId": BTC})
    call(mock, "DELETE", "security/delete", json={"securityId": "BINANCE:ETH"})
    mock.reset()
    assert BTC in listed(mock) and "BINANCE:ETH" in securities(mock)


def test_each_namespace_has_its_own_market(mock: MockServer) -> None:
    made = requests.post(f"{mock.url}/__admin/namespaces", params={"namespace": "other"},
                         json={"scenario": SCENARIO}, timeout=10)  # fmt: skip
    assert made.status_code == 200, made.text
    try:
        other = {"X-Cadenza-Mock-Namespace": "other"}
        call(mock, "DELETE", "instrument/delete", json={"instrumentId": BTC}, headers=other)
        assert BTC in listed(mock)
        gone = call(mock, "GET", "ticker/get", params={"instrumentId": BTC}, headers=other)
        error_text(gone, 404, -22016)
    finally:
        requests.delete(f"{mock.url}/__admin/namespaces/other", timeout=10)


# ----------------------------------------------------------------- the RPC twins


@pytest.fixture
async def ws(mock: MockServer) -> Any:
    require_document()
    client = Client(mock.url.replace("http://", "ws://") + "/connection/websocket",
                    token="alice-token")  # fmt: skip
    await client.connect()
    await client.ready(timeout=5)
    yield client
    await client.disconnect()


async def rpc(client: Client, method: str, params: dict[str, Any]) -> Any:
    if method != "command.security.delete":  # the document types securityIds as uuids
        assert_shape(rpc_schema(method, "Params"), params)
    result = (await client.rpc(method, params)).data
    assert_rpc_result(method, {"id": 1, "rpc": {"data": result}})
    return result


async def test_the_rpc_commands_do_what_their_rest_twins_do(mock: MockServer, ws: Any) -> None:
    disabled = await rpc(ws, "command.instrument.disable", {"instrumentId": BTC})
    assert disabled["data"]["status"] == "DISABLED" and listed(mock)[BTC] == "DISABLED"
    enabled = await rpc(ws, "command.instrument.enable", {"instrumentId": BTC})
    assert enabled["data"]["status"] == "ACTIVE"
    deleted = await rpc(ws, "command.instrument.delete", {"instrumentId": BTC})
    assert deleted["data"]["instrumentId"] == BTC and BTC not in listed(mock)
    synced = await rpc(ws, "command.instrument.sync", {"venue": "BINANCE"})
    assert synced["data"] == {"total": 3} and BTC in listed(mock)
    assert await rpc(ws, "command.security.delete", {"securityIds": ["BINANCE:SOL"]}) == {}
    assert "BINANCE:SOL" not in securities(mock)
    back = await rpc(ws, "command.security.sync", {"venue": "BINANCE", "securities": ["SOL"]})
    assert [s["securityId"] for s in back["data"]] == ["BINANCE:SOL"]
    assert "BINANCE:SOL" in securities(mock)


async def test_the_rpc_commands_errors_are_their_twins_in_the_result(
    mock: MockServer, ws: Any
) -> None:
    cases = [
        ("command.instrument.enable", {"instrumentId": "BINANCE:NONE/USDT"}, 22016, "Instrument"),
        ("command.instrument.delete", {}, 19004, "instrumentId"),
        ("command.instrument.sync", {"venue": "NOWHERE"}, 22015, "venue"),
        ("command.security.delete", {"securityIds": ["BINANCE:BTC", "BINANCE:NONE"]}, 22016,
         "Security not found: BINANCE:NONE"),
    ]  # fmt: skip
    before = (listed(mock), securities(mock))
    for method, params, code, words in cases:
        result = (await ws.rpc(method, params)).data
        assert set(result) == {"error"} and result["error"]["code"] == code, result
        assert words in result["error"]["message"]
    assert (listed(mock), securities(mock)) == before  # all or nothing

"""Every README "Use in your tests" example as a downstream project writes it with type
annotations: it runs in the suite (the plugin's own fixtures, nothing from our conftest),
and tests/test_typed_api.py runs `mypy --strict` on it, so the public API stays typed.

Kept in step with the README by tests/test_typed_api.py (every README test name is here).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import httpx
import pytest
import requests
from aiohttp import web

# centrifuge-python ships no type information: a downstream project silences it the same way.
from centrifuge import (  # type: ignore[import-untyped]
    Client,
    PublicationContext,
    SubscriptionEventHandler,
)
from pytest_aiohttp import AiohttpClient

from cadenza_mock import JournalEntry, MockHandle, MockServer, Scenario

LIST = "/api/v3/credential/list"
BASE = "/api/v3"


# ------------------------------------------------------------------ test_typed.py


def test_annotated(cadenza_mock: MockHandle) -> None:
    assert cadenza_mock.url_for("api/v3/health") == cadenza_mock.url + "/api/v3/health"
    calls: list[JournalEntry] = cadenza_mock.calls()
    assert calls == []


# ------------------------------------------------------------------ test_with_requests.py


def test_lists_alices_credentials(cadenza_mock: MockHandle) -> None:
    r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    assert r.status_code == 200
    assert len(r.json()["data"]) == 4  # the bundled `default` scenario
    [call] = cadenza_mock.assert_called(LIST, times=1)
    assert call.headers["Authorization"] == "<redacted>"


# ------------------------------------------------------------------ test_with_httpx.py


def test_sync(cadenza_mock: MockHandle) -> None:
    with httpx.Client(base_url=cadenza_mock.url, headers=cadenza_mock.auth_headers) as client:
        assert client.get(LIST).status_code == 200


@pytest.mark.asyncio
async def test_async(cadenza_mock: MockHandle) -> None:
    async with httpx.AsyncClient(base_url=cadenza_mock.url) as client:
        r = await client.get(LIST)  # no token
    assert r.status_code == 401
    assert r.json()["errno"] < 0


# ------------------------------------------------------------------ test_with_aiohttp.py


@pytest.mark.asyncio
async def test_client_session(cadenza_mock: MockHandle) -> None:
    async with aiohttp.ClientSession(headers=cadenza_mock.auth_headers) as session:
        url = cadenza_mock.url + LIST
        async with session.get(url, params={"status": "REVOKED"}) as r:
            assert r.status == 200
            assert [c["status"] for c in (await r.json())["data"]] == ["REVOKED"]


@pytest.mark.asyncio
async def test_app_in_my_loop(
    aiohttp_client: AiohttpClient,
    cadenza_mock_app: web.Application,
    cadenza_mock_scenario: Scenario,
) -> None:
    client = await aiohttp_client(cadenza_mock_app)
    headers = {"Authorization": f"Bearer {cadenza_mock_scenario.token}"}
    r = await client.get(LIST, headers=headers)
    assert r.status == 200


# ------------------------------------------------------------------ test_with_websocket.py


@pytest.mark.asyncio
@pytest.mark.cadenza_scenario("sdk")
async def test_rpc_and_events(cadenza_mock: MockHandle) -> None:
    client = Client(cadenza_mock.ws_url, token=cadenza_mock.token)
    await client.connect()
    try:
        listed = await client.rpc("query.credential.list", {"status": "ACTIVE"})
        cred = listed.data["data"][0]
        connect = {"credentialIds": [cred["credentialId"]], "externalTradingAccountId": "spot"}
        url = cadenza_mock.url + "/api/v3/tradingAccount/connect"
        account = requests.post(url, json=connect, headers=cadenza_mock.auth_headers).json()
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        class Events(SubscriptionEventHandler):  # type: ignore[misc]  # untyped base class
            async def on_publication(self, ctx: PublicationContext) -> None:
                await events.put(ctx.pub.data)

        # The channels page's order: the server-side subscription, then the channel.
        account_id = account["data"]["tradingAccountId"]
        subscribed = await client.rpc(
            "command.trading_account.subscribe",
            {
                "tradingAccount": {"tradingAccountId": account_id},
                "subscriptionType": "TRADING_ACCOUNT.SUBSCRIPTION.USER_DATA",
            },
        )
        assert subscribed.data["data"]["status"] == "ACTIVE"
        sub = client.new_subscription("tradingAccount:" + account_id, events=Events())
        await sub.subscribe()
        await sub.ready(timeout=5)
        revoke = {"credentialId": cred["credentialId"]}
        await client.rpc("command.credential.revoke", revoke)
        event = await asyncio.wait_for(events.get(), 5)  # {"data": the credential}
        assert event["data"]["status"] == "REVOKED"
        # A Cadenza error is the RPC's result: nothing is raised.
        again = await client.rpc("command.credential.revoke", revoke)
        assert again.data["error"]["code"] == 130001
    finally:
        await client.disconnect()
    calls = cadenza_mock.calls("command.credential.revoke")
    assert [(c.method, c.status) for c in calls] == [("RPC", 200), ("RPC", 400)]


# ------------------------------------------------------------------ test_scenarios.py


@pytest.mark.cadenza_scenario("empty")
def test_no_credentials(cadenza_mock: MockHandle) -> None:
    r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    assert r.json()["data"] == []


@pytest.mark.cadenza_scenario(
    {
        "users": [
            {
                "email": "bob@example.com",
                "tokens": ["bob-token"],
                "credentials": [{"generate": 2, "venue": "OKX"}],
            }
        ]
    }
)
class TestInlineScenario:
    def test_bob_sees_two_okx_keys(self, cadenza_mock: MockHandle) -> None:
        assert cadenza_mock.token == "bob-token"
        r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
        assert [c["venue"] for c in r.json()["data"]] == ["OKX", "OKX"]

    @pytest.mark.cadenza_scenario("revoked")
    def test_closest_marker_wins(self, cadenza_mock: MockHandle) -> None:
        assert cadenza_mock.scenario.name == "revoked"


def test_switch_mid_test(cadenza_mock: MockHandle) -> None:
    cadenza_mock.load("empty")  # only for this test
    r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    assert r.json()["data"] == []


# ------------------------------------------------------------------ test_time_state_faults.py


def test_token_expiry_without_sleeping(cadenza_mock: MockHandle) -> None:
    login = requests.post(
        cadenza_mock.url + BASE + "/auth/login",
        json={"email": "alice@example.com", "password": "correct-horse"},
    ).json()["data"]
    headers = {"Authorization": f"Bearer {login['accessToken']}"}
    assert requests.get(cadenza_mock.url + BASE + "/auth/user", headers=headers).ok
    cadenza_mock.advance(3600)  # access tokens live one hour
    expired = requests.get(cadenza_mock.url + BASE + "/auth/user", headers=headers)
    assert expired.status_code == 401
    refreshed = requests.post(
        cadenza_mock.url + BASE + "/auth/token/refresh",
        json={"refreshToken": login["refreshToken"]},
    )
    assert refreshed.ok


def test_revoke_and_inspect(cadenza_mock: MockHandle) -> None:
    created: dict[str, Any] = requests.post(
        cadenza_mock.url + BASE + "/credential/create",
        headers=cadenza_mock.auth_headers,
        json={"venue": "BYBIT", "apiKey": "bybitKEY1234567890", "apiSecret": "s3cret"},
    ).json()["data"]
    assert created["createdAt"] == cadenza_mock.now_ms
    requests.post(
        cadenza_mock.url + BASE + "/credential/revoke",
        headers=cadenza_mock.auth_headers,
        json={"credentialId": created["credentialId"]},
    )
    stored: dict[str, Any] = cadenza_mock.credential(created["credentialId"])
    assert stored["status"] == "REVOKED" and stored["revokedAt"] == cadenza_mock.now_ms


def test_a_retry_after_a_timeout(cadenza_mock: MockHandle) -> None:
    url = cadenza_mock.url + BASE + "/credential/list"
    cadenza_mock.delay_next(3, path=BASE + "/credential/list")
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=cadenza_mock.auth_headers, timeout=0.1)
    assert requests.get(url, headers=cadenza_mock.auth_headers).status_code == 200
    calls: list[JournalEntry] = cadenza_mock.calls(BASE + "/credential/list", wait=True)
    assert [call.status for call in calls] == [0, 200]


def test_the_client_retries_a_503(cadenza_mock: MockHandle) -> None:
    cadenza_mock.fail_next(503, path=BASE + "/credential/list")
    url = cadenza_mock.url + BASE + "/credential/list"
    assert requests.get(url, headers=cadenza_mock.auth_headers).status_code == 503
    assert requests.get(url, headers=cadenza_mock.auth_headers).status_code == 200


# ------------------------------------------------------------------ test_rollback.py


def test_try_something_then_roll_back(cadenza_mock: MockHandle) -> None:
    before: list[dict[str, Any]] = cadenza_mock.credentials()
    saved: str = cadenza_mock.snapshot()
    created = requests.post(
        cadenza_mock.url_for("/api/v3/credential/create"),
        headers=cadenza_mock.auth_headers,
        json={"venue": "BINANCE", "name": "tmp", "apiKey": "k" * 64, "apiSecret": "s"},
    )
    assert created.status_code == 200
    assert len(cadenza_mock.credentials()) == len(before) + 1
    cadenza_mock.rollback(saved)
    assert cadenza_mock.credentials() == before


# ------------------------------------------------------------------ test_journal.py


def test_find_calls_by_glob_query_and_body(cadenza_mock: MockHandle) -> None:
    headers = {"authorization": f"Bearer {cadenza_mock.token}"}  # any spelling works
    requests.get(cadenza_mock.url_for(LIST), params={"limit": 1}, headers=headers)
    created = requests.post(
        cadenza_mock.url_for("api/v3/credential/create"),  # the leading slash is added
        json={"venue": "BYBIT", "name": "bot", "apiKey": "bybitKEY1234567890", "apiSecret": "s"},
        headers=headers,
    )
    assert created.ok
    cadenza_mock.assert_called("/api/v3/credential/*", method="GET", query={"limit": "1"})
    [call] = cadenza_mock.assert_called(method="POST", json={"venue": "BYBIT"}, times=1)
    assert call.headers["Authorization"] == "<redacted>"
    assert call.body["apiSecret"] == "<redacted>"
    last: JournalEntry = cadenza_mock.last_call
    assert last.seq == 2 and last.path == "/api/v3/credential/create"
    cadenza_mock.assert_not_called("/api/v3/credential/revoke")


def test_the_client_backs_off_and_reconnects(cadenza_mock: MockHandle) -> None:
    cadenza_mock.rate_limit_next(retry_after=30, path=LIST)
    r = requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
    assert r.status_code == 429 and r.headers["Retry-After"] == "30"
    cadenza_mock.drop_next(path=LIST)
    with pytest.raises(requests.ConnectionError):
        requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
    assert cadenza_mock.last_call.status == 0  # the connection closed, nothing answered
    assert requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers).ok


@pytest.mark.cadenza_mock(strict=True)
def test_strict_mode_lets_known_requests_pass(cadenza_mock: MockHandle) -> None:
    r = requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
    assert r.ok  # an unknown route or method here would fail the test at teardown


# ------------------------------------------------------------------ test_faults_fire.py


@pytest.mark.cadenza_mock(unfired_faults="fail")
def test_the_client_survives_a_cut_answer(cadenza_mock: MockHandle) -> None:
    cadenza_mock.malformed_next(path=LIST)
    cut = requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
    with pytest.raises(requests.JSONDecodeError):
        cut.json()
    assert cadenza_mock.faults[0]["fired"] == 1  # the check at teardown passes


# ------------------------------------------------------------------ test_profile_marker.py


@pytest.mark.cadenza_mock(profile="sdk")
def test_the_sdk_names(cadenza_mock: MockHandle) -> None:
    assert cadenza_mock.profile == "sdk"
    r = requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
    assert {"nickname", "credentialType"} <= set(r.json()["data"][0])


def test_the_docs_names(cadenza_mock: MockHandle) -> None:
    r = requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
    assert {"name", "type"} <= set(r.json()["data"][0])


# ------------------------------------------------------------------ script.py


def test_mock_server_without_pytest() -> None:
    with MockServer(scenario="revoked") as mock:
        r = requests.get(mock.url + LIST, headers=mock.auth_headers)
        assert {c["status"] for c in r.json()["data"]} == {"REVOKED"}
        mock.assert_called(LIST, times=1)
        mock.load({"users": [{"email": "eve@example.com", "tokens": ["eve-token"]}]})
        assert mock.token == "eve-token"
        mock.reset()  # pristine again, journal empty
        handle: MockHandle = mock  # what the fixture is, locally and in remote mode
        assert handle.requests == []

"""Stored trading accounts as tests inspect them, over real sockets: the admin API
(`/__admin/trading-accounts`, one by id, the `?user=` filter, the 404) and the handle's
`trading_accounts()` / `trading_account()`, in-process and remote, in both profiles.
The records follow connect, revoke and reset, and never carry a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from _api import assert_error

from cadenza_mock import MockServer
from cadenza_mock.testing.remote import RemoteMock

STORED = "/__admin/trading-accounts"
CONNECT = "/api/v3/tradingAccount/connect"
REVOKE = "/api/v3/credential/revoke"
ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}
ALICE_ID = "aaaaaaaa-1111-4111-8111-111111111111"
BOB_ID = "bbbbbbbb-2222-4222-8222-222222222222"
ALICE_CRED = "11111111-1111-4111-8111-111111111111"
BOB_CRED = "22222222-2222-4222-8222-222222222222"
ALICE_KEY = "aliceKEYabcdefghijklmnop0123456789"
BOB_KEY = "bobKEYabcdefghijklmnopqrs0123456789"
SECRETS = ("alice-admin-secret-41", "bob-admin-secret-42", ALICE_KEY, BOB_KEY)
UNKNOWN = "00000000-0000-4000-8000-000000000000"
RECORD_KEYS = [
    "tradingAccountId",
    "userId",
    "venue",
    "externalTradingAccountId",
    "nickname",
    "accountType",
    "externalAccountType",
    "credentialIds",
    "status",
    "createdAt",
    "updatedAt",
    "disconnectedAt",
]
NOW_MS = 1_769_904_000_000  # 2026-02-01T00:00:00Z, the scenario's frozen clock


def _scenario(profile: str) -> dict[str, Any]:
    def user(uid: str, name: str, cid: str, key: str, secret: str) -> dict[str, Any]:
        return {
            "id": uid,
            "email": f"{name}@example.com",
            "tokens": [f"{name}-token"],
            "credentials": [
                {
                    "credentialId": cid,
                    "venue": "BINANCE",
                    "name": f"{name} binance",
                    "status": "ACTIVE",
                    "apiKey": key,
                    "apiSecret": secret,
                }
            ],
        }

    return {
        "profile": profile,
        "seed": 3,
        "now": "2026-02-01T00:00:00Z",
        "users": [
            user(ALICE_ID, "alice", ALICE_CRED, ALICE_KEY, SECRETS[0]),
            user(BOB_ID, "bob", BOB_CRED, BOB_KEY, SECRETS[1]),
        ],
    }


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# --------------------------------------------------------------------------- admin API


class Admin:
    """A TestClient spoken to as a test's admin helper would, keeping every admin answer."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.answers: list[str] = []

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        r = await self.client.get(path, params=params or None)
        text = await r.text()
        self.answers.append(text)
        return r.status, json.loads(text)

    async def ok(self, path: str, **params: str) -> Any:
        status, payload = await self.get(path, **params)
        assert status == 200 and payload["success"] is True, payload
        return payload["data"]

    async def connect(self, cid: str, headers: dict[str, str]) -> dict[str, Any]:
        body = {"credentialIds": [cid], "externalTradingAccountId": "spot"}
        r = await self.client.post(CONNECT, json=body, headers=headers)
        payload = await r.json()
        assert r.status == 200, payload
        account: dict[str, Any] = payload["data"]
        return account


@pytest.fixture(params=["docs", "sdk"])
async def admin(request: pytest.FixtureRequest, make_client: Any) -> Admin:
    return Admin(await make_client(_scenario(request.param)))


async def test_list_one_and_user_filter(admin: Admin) -> None:
    assert await admin.ok(STORED) == []
    alice = await admin.connect(ALICE_CRED, ALICE)
    bob = await admin.connect(BOB_CRED, BOB)
    listed = await admin.ok(STORED)
    # Same createdAt (the clock is frozen): the id decides.
    ids = sorted([alice["tradingAccountId"], bob["tradingAccountId"]])
    assert [r["tradingAccountId"] for r in listed] == ids
    by_id = {r["tradingAccountId"]: r for r in listed}
    record = by_id[alice["tradingAccountId"]]
    assert list(record) == RECORD_KEYS
    assert record == {
        "tradingAccountId": alice["tradingAccountId"],
        "userId": ALICE_ID,
        "venue": "BINANCE",
        "externalTradingAccountId": "spot",
        "nickname": record["nickname"],
        "accountType": "SPOT",
        "externalAccountType": "SPOT",
        "credentialIds": [ALICE_CRED],
        "status": "ACTIVE",
        "createdAt": NOW_MS,
        "updatedAt": NOW_MS,
        "disconnectedAt": None,
    }
    # One by id, matched case-insensitively.
    assert await admin.ok(f"{STORED}/{alice['tradingAccountId'].upper()}") == record
    # ?user= by id or by email; an unknown user has none.
    assert await admin.ok(STORED, user=ALICE_ID) == [record]
    assert await admin.ok(STORED, user="alice@example.com") == [record]
    assert await admin.ok(STORED, user="bob@example.com") == [by_id[bob["tradingAccountId"]]]
    assert await admin.ok(STORED, user="nobody@example.com") == []
    _assert_no_secret("\n".join(admin.answers))


async def test_unknown_id_is_the_account_404(admin: Admin) -> None:
    await admin.connect(ALICE_CRED, ALICE)
    for wrong in (UNKNOWN, "not-an-id"):
        status, payload = await admin.get(f"{STORED}/{wrong}")
        assert assert_error(status, payload, 404, -22016) == "Trading account not found"


async def test_revoke_disconnects_the_record_and_reset_removes_it(admin: Admin) -> None:
    account = await admin.connect(ALICE_CRED, ALICE)
    one = f"{STORED}/{account['tradingAccountId']}"
    r = await admin.client.post("/__admin/clock", json={"advance": 60})
    assert r.status == 200
    r = await admin.client.post(REVOKE, json={"credentialId": ALICE_CRED}, headers=ALICE)
    assert r.status == 200, await r.text()
    record = await admin.ok(one)
    assert record["status"] == "DISCONNECTED"
    assert record["disconnectedAt"] == record["updatedAt"] == NOW_MS + 60_000
    assert record["createdAt"] == NOW_MS and record["credentialIds"] == [ALICE_CRED]
    assert await admin.ok(STORED) == [record]
    # What else an admin dump holds of these calls: still no secret.
    await admin.ok("/__admin/credentials")
    await admin.ok("/__admin/requests")
    _assert_no_secret("\n".join(admin.answers))
    r = await admin.client.post("/__admin/reset")
    assert r.status == 200
    assert await admin.ok(STORED) == []
    status, payload = await admin.get(one)
    assert_error(status, payload, 404, -22016)


# --------------------------------------------------------------------------- the handle


@pytest.fixture(params=["docs", "sdk"])
def server(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    with MockServer(_scenario(request.param)) as mock:
        yield mock


@pytest.fixture(params=["local", "remote"])
def handle(request: pytest.FixtureRequest, server: MockServer) -> MockServer | RemoteMock:
    """The same handle API in-process and over the admin API (`--cadenza-url` mode)."""
    return server if request.param == "local" else RemoteMock(server.url).start()


def _post(handle: MockServer | RemoteMock, path: str, body: Any, user: str) -> Any:
    r = requests.post(handle.url + path, json=body, headers=handle.headers_for(user), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _connect(handle: MockServer | RemoteMock, cid: str, user: str) -> str:
    body = {"credentialIds": [cid], "externalTradingAccountId": "spot"}
    account_id: str = _post(handle, CONNECT, body, user)["tradingAccountId"]
    return account_id


def test_handle_agrees_with_the_admin_api(handle: MockServer | RemoteMock) -> None:
    assert handle.trading_accounts() == []
    alice = _connect(handle, ALICE_CRED, "alice@example.com")
    bob = _connect(handle, BOB_CRED, BOB_ID)
    admin = requests.get(handle.url + STORED, timeout=10).json()["data"]
    assert handle.trading_accounts() == admin
    assert [r["tradingAccountId"] for r in admin] == sorted([alice, bob])
    record = handle.trading_account(alice.upper())
    assert record == requests.get(f"{handle.url}{STORED}/{alice}", timeout=10).json()["data"]
    assert record["userId"] == ALICE_ID and record["status"] == "ACTIVE"
    assert handle.trading_accounts("alice@example.com") == [record]
    assert handle.trading_accounts(ALICE_ID) == [record]
    assert [r["tradingAccountId"] for r in handle.trading_accounts(BOB_ID)] == [bob]
    assert handle.trading_accounts("nobody@example.com") == []
    with pytest.raises(KeyError, match=rf"no trading account '{UNKNOWN}' among the 2 stored"):
        handle.trading_account(UNKNOWN)
    _assert_no_secret(repr(handle.trading_accounts()))


def test_handle_follows_revoke_and_reset(handle: MockServer | RemoteMock) -> None:
    account_id = _connect(handle, ALICE_CRED, ALICE_ID)
    handle.advance(30)
    _post(handle, REVOKE, {"credentialId": ALICE_CRED}, ALICE_ID)
    record = handle.trading_account(account_id)
    assert record["status"] == "DISCONNECTED"
    assert record["disconnectedAt"] == record["updatedAt"] == NOW_MS + 30_000
    handle.reset()
    assert handle.trading_accounts() == []
    with pytest.raises(KeyError, match="among the 0 stored"):
        handle.trading_account(account_id)

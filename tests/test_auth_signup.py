"""Signup, password recovery and user updates (the official document's authSignup,
authRecover and authUpdateUser), over real sockets; root and health versions.

Shapes come from the platform's document (authSession, authUser and its appMetadata
{tenantId, environments}); a password never comes back, in an answer, the journal or a
state file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from _api import JOURNAL, LOGIN, USER, Api, assert_error
from support import ALICE, bearer

from cadenza_mock.run.server import MockServer

SIGNUP = "/api/v3/auth/signup"
RECOVER = "/api/v3/auth/recover"
ACCOUNTS = "/api/v3/tradingAccount/list"
PASSWORD = "n3w-user-pa55word"
USER_KEYS = ["id", "email", "role", "createdAt", "updatedAt", "appMetadata", "userMetadata"]
SESSION_KEYS = ["accessToken", "refreshToken", "tokenType", "expiresIn", "expiresAt", "user"]
TENANT = {
    "seed": 4,
    "now": "2026-01-15T12:00:00Z",
    "users": [
        {
            "email": "alice@example.com",
            "password": "correct-horse",
            "tokens": ["alice-token"],
            "tenant_id": "tenant-7",
            "environments": ["UAT", "PROD"],
            "credentials": [{"venue": "BINANCE", "name": "main"}],
            "trading_accounts": [{"credentials": ["main"], "externalTradingAccountId": "spot"}],
        },
        {"email": "bob@example.com", "password": "battery-staple", "tokens": ["bob-token"]},
    ],
}


@pytest.fixture(params=["docs", "sdk"])
async def api(request: pytest.FixtureRequest, make_client: Any) -> Api:
    return Api(await make_client("default", profile=request.param), request.param)


async def signup(api: Api, email: str = "new@example.com", **extra: Any) -> dict[str, Any]:
    return await api.ok(SIGNUP, {"email": email, "password": PASSWORD, **extra}, headers=None)


def no_password_in(api: Api, *texts: bytes | str) -> None:
    for text in (*api.responses, *texts):
        assert PASSWORD not in (text.decode() if isinstance(text, bytes) else text)


# --------------------------------------------------------------------------- signup


async def test_signup_answers_a_session_that_works(api: Api) -> None:
    session = await signup(api, "New.User@example.com", metadata={"desk": "fx", "n": 1})
    assert list(session) == SESSION_KEYS and session["tokenType"] == "bearer"
    user = session["user"]
    assert list(user) == USER_KEYS
    assert (user["email"], user["role"]) == ("New.User@example.com", "authenticated")
    assert user["appMetadata"] == {"tenantId": None, "environments": []}
    assert user["userMetadata"] == {"desk": "fx", "n": 1}
    # The access token is a bearer like any other; the password logs in (any case of
    # the address).
    token = bearer(session["accessToken"])
    assert (await api.call("GET", USER, headers=token))[1]["data"] == user
    status, payload = await api.call("GET", "/api/v3/credential/list", headers=token)
    assert status == 200 and payload["data"] == []
    again = await api.ok(LOGIN, {"email": "new.user@EXAMPLE.com", "password": PASSWORD})
    assert again["user"]["id"] == user["id"]
    journal = await (await api.client.get(JOURNAL)).text()
    assert "<redacted>" in journal
    no_password_in(api, journal)


async def test_signup_ids_are_seeded_and_a_reset_forgets_them(make_client: Any) -> None:
    ids = []
    for _ in range(2):
        api = Api(await make_client("default", profile="sdk"), "sdk")
        ids.append((await signup(api))["user"]["id"])
    assert ids[0] == ids[1]  # the same scenario and seed sign up the same id
    assert (await api.client.post("/__admin/reset")).status == 200
    status, payload = await api.post(LOGIN, {"email": "new@example.com", "password": PASSWORD})
    assert_error(status, payload, 401, -100001)
    await signup(api)  # the address is free again


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "alice@example.com", "password": PASSWORD}, "email is already registered"),
        ({"email": "ALICE@Example.COM", "password": PASSWORD}, "email is already registered"),
        ({"email": "new@example.com", "password": "short"}, "password must be at least 8"),
        ({"email": "not-an-address", "password": PASSWORD}, "email must be an email address"),
        ({"email": "new@example.com"}, "password is required"),
        ({"password": PASSWORD}, "email is required"),
        ({"email": "new@example.com", "password": PASSWORD, "metadata": [1]}, "metadata"),
        ({"email": "new@example.com", "password": 12345678}, "password must be of type"),
    ],
)
async def test_a_bad_signup_is_a_400_and_changes_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    before = await (await api.client.get("/__admin/scenario")).json()
    status, payload = await api.post(SIGNUP, body, headers=None)
    assert field in assert_error(status, payload, 400, -19004)
    if api.sdk:
        code = "USER_ALREADY_EXISTS" if "registered" in field else "VALIDATION_ERROR"
        assert payload["details"]["code"] == code
    assert await (await api.client.get("/__admin/scenario")).json() == before
    # alice is as she was, and no user was added under the address
    assert await api.ok(LOGIN, {"email": "alice@example.com", "password": "correct-horse"})
    status, _ = await api.post(LOGIN, {"email": "new@example.com", "password": PASSWORD})
    assert status == 401
    no_password_in(api)


async def test_signup_that_is_not_json_is_a_400(api: Api) -> None:
    status, payload = await api.call("POST", SIGNUP, raw=b'{"email": "a@b.c", "password": ')
    assert_error(status, payload, 400, -19005)


# --------------------------------------------------------------------------- recover


async def test_recover_answers_alike_for_any_address(api: Api) -> None:
    known = await api.ok(RECOVER, {"email": "alice@example.com"}, headers=None)
    unknown = await api.ok(RECOVER, {"email": "nobody@example.com"}, headers=None)
    assert known == unknown == "ok"  # no account enumeration
    # nothing changed: alice still logs in with her password
    assert await api.ok(LOGIN, {"email": "alice@example.com", "password": "correct-horse"})
    entries = (await (await api.client.get(JOURNAL)).json())["data"]
    assert [e["body"] for e in entries if e["path"] == RECOVER][-1] == {
        "email": "nobody@example.com"
    }
    for body in ({}, {"email": "no-at-sign"}, {"email": 3}):
        status, payload = await api.post(RECOVER, body, headers=None)
        assert "email" in assert_error(status, payload, 400, -19004)


# --------------------------------------------------------------------------- PUT user


async def test_update_user_changes_what_it_names(api: Api) -> None:
    first = (await api.call("GET", USER))[1]["data"]
    status, payload = await api.call("PUT", USER, {"metadata": {"team": "desk"}})
    assert status == 200
    user = payload["data"]
    assert user["userMetadata"] == {**first["userMetadata"], "team": "desk"}
    assert user["updatedAt"] > first["updatedAt"] and user["createdAt"] == first["createdAt"]
    status, payload = await api.call("PUT", USER, {"metadata": {"floor": 3}})
    assert payload["data"]["userMetadata"] == {"team": "desk", "floor": 3}  # merged
    # A new password and address: the old pair stops working, the new one logs in;
    # the static token keeps working (sessions stay valid).
    body = {"email": "alice.new@example.com", "password": PASSWORD}
    status, payload = await api.call("PUT", USER, body)
    assert status == 200 and payload["data"]["email"] == "alice.new@example.com"
    status, _ = await api.post(LOGIN, {"email": "alice@example.com", "password": "correct-horse"})
    assert status == 401
    assert await api.ok(LOGIN, {"email": "alice.new@example.com", "password": PASSWORD})
    assert (await api.call("GET", USER))[1]["data"]["email"] == "alice.new@example.com"
    await signup(api, "alice@example.com")  # her old address is free
    no_password_in(api)


@pytest.mark.parametrize(
    ("body", "status", "errno", "words"),
    [
        ({"email": "bob@example.com"}, 400, -19004, "email is already registered"),
        ({"password": "short"}, 400, -19004, "password must be at least 8"),
        ({"email": "nope"}, 400, -19004, "email must be an email address"),
        ({"metadata": "x"}, 400, -19004, "metadata must be of type object"),
    ],
)
async def test_a_bad_user_update_is_refused_and_changes_nothing(
    make_client: Any, body: dict[str, Any], status: int, errno: int, words: str
) -> None:
    api = Api(await make_client(TENANT), "docs")
    before = (await api.call("GET", USER))[1]["data"]
    got, payload = await api.call("PUT", USER, body)
    assert words in assert_error(got, payload, status, errno)
    assert (await api.call("GET", USER))[1]["data"] == before
    assert await api.ok(LOGIN, {"email": "alice@example.com", "password": "correct-horse"})


async def test_update_user_needs_a_token(api: Api) -> None:
    for headers in (None, bearer("no-such-token")):
        status, payload = await api.call("PUT", USER, {"metadata": {}}, headers=headers)
        assert_error(status, payload, 401, -19002)


# --------------------------------------------------------------------------- appMetadata


async def test_app_metadata_and_the_account_list_filters(make_client: Any) -> None:
    api = Api(await make_client(TENANT, profile="sdk"), "sdk")
    alice = (await api.call("GET", USER))[1]["data"]
    assert alice["appMetadata"] == {"tenantId": "tenant-7", "environments": ["UAT", "PROD"]}
    bob = (await api.call("GET", USER, headers=bearer("bob-token")))[1]["data"]
    assert bob["appMetadata"] == {"tenantId": None, "environments": []}
    everything = (await api.call("GET", ACCOUNTS))[1]["data"]
    assert len(everything) == 1

    async def listed(**params: str) -> list[dict[str, Any]]:
        response = await api.client.get(ACCOUNTS, params=params, headers=ALICE)
        assert response.status == 200
        assert "X-Cadenza-Mock-Hint" not in response.headers  # known parameters
        return list((await response.json())["data"])

    assert await listed(userId=alice["id"]) == everything
    assert await listed(userId=alice["id"].upper()) == everything
    assert await listed(userId=bob["id"]) == []  # a caller sees only their own
    assert await listed(tenantId="tenant-7") == everything
    assert await listed(tenantId="tenant-8") == []
    for params, name in (({"userId": "not-a-uuid"}, "userId"), ({"tenantId": ""}, "tenantId")):
        status, payload = await api.call("GET", ACCOUNTS, params=params)
        assert name in assert_error(status, payload, 400, -22015)


# --------------------------------------------------------------------------- state file


def test_signed_up_and_changed_users_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with MockServer(state_file=path) as mock:
        made = requests.post(
            mock.url + SIGNUP, json={"email": "kept@example.com", "password": PASSWORD}, timeout=10
        ).json()["data"]
        changed = requests.put(
            mock.url + USER, json={"password": PASSWORD + "!"}, headers=ALICE, timeout=10
        )
        assert changed.status_code == 200
    text = path.read_text(encoding="utf-8")
    assert PASSWORD not in text and "correct-horse" not in text
    with MockServer(state_file=path) as mock:

        def login(email: str, password: str) -> Any:
            body = {"email": email, "password": password}
            return requests.post(mock.url + LOGIN, json=body, timeout=10)

        again = login("kept@example.com", PASSWORD)
        assert again.status_code == 200 and again.json()["data"]["user"] == made["user"]
        assert login("alice@example.com", PASSWORD + "!").status_code == 200
        assert login("alice@example.com", "correct-horse").status_code == 401
        mock.reset()
        assert login("alice@example.com", "correct-horse").status_code == 200
    assert json.loads(path.read_text(encoding="utf-8"))["users"]["records"] == []


def test_a_snapshot_takes_the_users_back_as_they_were() -> None:
    with MockServer("default") as mock:

        def signup_as(email: str) -> int:
            body = {"email": email, "password": PASSWORD}
            return requests.post(mock.url + SIGNUP, json=body, timeout=10).status_code

        def logs_in(email: str) -> bool:
            body = {"email": email, "password": PASSWORD}
            return requests.post(mock.url + LOGIN, json=body, timeout=10).status_code == 200

        assert signup_as("first@example.com") == 200
        taken = mock.snapshot()
        assert signup_as("second@example.com") == 200
        mock.rollback(taken)
        assert logs_in("first@example.com") and not logs_in("second@example.com")
        assert signup_as("first@example.com") == 400  # still registered

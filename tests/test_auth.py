"""Auth sessions over real HTTP: login, refresh, logout, user, and expiry by the mock clock.

Expected values come from the scenario (users, `now`) and from the Cadenza API reference
(session shape, 1 h access and 7 d refresh lifetimes), never from a previous run's output.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import datetime

import pytest
from _api import (
    ALICE_ID,
    CLOCK,
    DEFAULT_NOW_MS,
    JOURNAL,
    LOGIN,
    LOGOUT,
    REFRESH,
    USER,
    Api,
    assert_error,
)
from support import ALICE, LIST, bearer

PROFILES = ["docs", "sdk"]
ALICE_LOGIN = {"email": "alice@example.com", "password": "correct-horse"}
HOUR = 3600
WEEK = 7 * 24 * HOUR
NO_PASSWORD = {
    "seed": 5,
    "now": "2026-01-15T12:00:00Z",
    "users": [
        {"email": "alice@example.com", "password": "correct-horse", "tokens": ["alice-token"]},
        {"email": "nopass@example.com", "tokens": ["nopass-token"]},
    ],
}

JSON_TYPE = {"Content-Type": "application/json"}  # admin bodies say what they are


@pytest.fixture(params=PROFILES)
async def api(request, make_client) -> Api:
    return Api(await make_client("default", profile=request.param), request.param)


def b64url_json(part: str) -> dict:
    assert set(part) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def login(api: Api, body: dict = ALICE_LOGIN) -> dict:
    return await api.ok(LOGIN, body, headers=None)


async def advance(api: Api, seconds: float) -> dict:
    return await api.ok(CLOCK, {"advance": seconds}, headers=None)


async def list_status(api: Api, token: str) -> tuple[int, dict]:
    return await api.call("GET", LIST, headers=bearer(token))


# --------------------------------------------------------------------------- login


async def test_login_session_shape(api):
    before = int(time.time())
    session = await login(api)
    after = int(time.time())
    assert list(session) == [
        "accessToken",
        "refreshToken",
        "tokenType",
        "expiresIn",
        "expiresAt",
        "user",
    ]
    assert session["tokenType"] == "bearer"
    assert session["expiresIn"] == HOUR
    # Unix seconds, one hour after the wall clock's now (the scenario's frozen `now` is
    # far behind it): a client that checks `exp` against its own clock trusts the token.
    assert before + HOUR <= session["expiresAt"] <= after + HOUR
    assert await api.now_ms() == DEFAULT_NOW_MS  # the data clock stays frozen
    parts = session["accessToken"].split(".")
    assert len(parts) == 3 and session["accessToken"].startswith("eyJ")
    assert b64url_json(parts[0]) == {"alg": "HS256", "typ": "JWT"}
    claims = b64url_json(parts[1])
    assert claims["sub"] == ALICE_ID and claims["exp"] == session["expiresAt"]
    assert claims["iat"] == claims["exp"] - HOUR and before <= claims["iat"] <= after
    assert isinstance(session["refreshToken"], str) and session["refreshToken"]
    assert session["refreshToken"] != session["accessToken"]
    user = session["user"]
    assert list(user) == [
        "id",
        "email",
        "role",
        "createdAt",
        "updatedAt",
        "appMetadata",
        "userMetadata",
    ]
    assert user["id"] == ALICE_ID and str(uuid.UUID(user["id"])) == ALICE_ID
    assert user["email"] == "alice@example.com"
    assert user["role"] == "authenticated"
    for stamp in ("createdAt", "updatedAt"):
        assert user[stamp].endswith("Z")
        parsed = datetime.fromisoformat(user[stamp].replace("Z", "+00:00"))
        assert parsed.timestamp() * 1000 <= DEFAULT_NOW_MS  # the user existed before now
    assert isinstance(user["appMetadata"], dict) and isinstance(user["userMetadata"], dict)


async def test_issued_token_sees_the_same_list_as_the_static_one(api):
    session = await login(api)
    status, payload = await list_status(api, session["accessToken"])
    assert status == 200
    assert payload == json.loads(await api.list_bytes(ALICE))
    # Both kinds of token work side by side.
    assert (await list_status(api, "alice-token"))[0] == 200


async def test_login_email_is_case_insensitive(api):
    session = await login(api, {"email": " Alice@Example.COM", "password": "correct-horse"})
    assert session["user"]["email"] == "alice@example.com"


async def test_every_login_is_a_new_session(api):
    first, second = await login(api), await login(api)
    assert first["accessToken"] != second["accessToken"]
    assert first["refreshToken"] != second["refreshToken"]
    for session in (first, second):
        assert (await list_status(api, session["accessToken"]))[0] == 200


@pytest.mark.parametrize(
    "body",
    [
        {"email": "alice@example.com", "password": "wrong"},
        {"email": "alice@example.com", "password": "Correct-horse"},
        {"email": "mallory@example.com", "password": "correct-horse"},
        {"email": "nopass@example.com", "password": "anything"},
    ],
    ids=["wrong password", "password case", "unknown email", "user without password"],
)
async def test_bad_login_is_401_and_says_the_same_for_all(make_client, body):
    api = Api(await make_client(NO_PASSWORD), "docs")
    status, payload = await api.post(LOGIN, body, headers=None)
    # One message for all: the API does not tell which half was wrong.
    assert assert_error(status, payload, 401, -100001) == "Invalid login credentials"
    assert body["password"].encode() not in b"".join(api.responses)


async def test_login_bad_bodies(api):
    for body, field in [
        ({"email": "alice@example.com"}, "password"),
        ({"password": "x"}, "email"),
        ({"email": 1, "password": "x"}, "email"),
        ({"email": "alice@example.com", "password": ""}, "password"),
    ]:
        status, payload = await api.post(LOGIN, body, headers=None)
        assert field in assert_error(status, payload, 400, -19004)
    status, payload = await api.post(LOGIN, raw=b"email=alice", headers=None)
    assert_error(status, payload, 400, -19005)


# --------------------------------------------------------------------------- refresh


async def test_refresh_rotates_the_pair_and_uses_up_the_old_refresh_token(api):
    first = await login(api)
    second = await api.ok(REFRESH, {"refreshToken": first["refreshToken"]}, headers=None)
    assert second["accessToken"] != first["accessToken"]
    assert second["refreshToken"] != first["refreshToken"]
    assert second["user"] == first["user"]
    assert (await list_status(api, second["accessToken"]))[0] == 200
    status, payload = await api.post(REFRESH, {"refreshToken": first["refreshToken"]}, headers=None)
    assert assert_error(status, payload, 401, -100003) == "Invalid refresh token"
    # The new one works (once).
    await api.ok(REFRESH, {"refreshToken": second["refreshToken"]}, headers=None)


async def test_refresh_bad_tokens(api):
    session = await login(api)
    # An access token is not a refresh token, nor is a static token.
    for token in ("rt_unknown", session["accessToken"], "alice-token"):
        status, payload = await api.post(REFRESH, {"refreshToken": token}, headers=None)
        assert_error(status, payload, 401, -100003)
    status, payload = await api.post(REFRESH, {}, headers=None)
    assert "refreshToken" in assert_error(status, payload, 400, -19004)
    status, payload = await api.post(REFRESH, raw=b"{", headers=None)
    assert_error(status, payload, 400, -19005)


# --------------------------------------------------------------------------- logout, user


async def test_logout_ends_the_access_and_refresh_token(api):
    session = await login(api)
    other = await login(api)
    headers = bearer(session["accessToken"])
    assert await api.ok(LOGOUT, headers=headers) == "ok"
    status, payload = await list_status(api, session["accessToken"])
    assert_error(status, payload, 401, -19002)
    status, payload = await api.post(
        REFRESH, {"refreshToken": session["refreshToken"]}, headers=None
    )
    assert_error(status, payload, 401, -100003)
    status, payload = await api.post(LOGOUT, headers=headers)
    assert_error(status, payload, 401, -19002)
    # Another session of the same user is untouched.
    assert (await list_status(api, other["accessToken"]))[0] == 200


async def test_logout_ends_a_refreshed_pair_too(api):
    first = await login(api)
    second = await api.ok(REFRESH, {"refreshToken": first["refreshToken"]}, headers=None)
    await api.ok(LOGOUT, headers=bearer(second["accessToken"]))
    status, payload = await api.post(
        REFRESH, {"refreshToken": second["refreshToken"]}, headers=None
    )
    assert_error(status, payload, 401, -100003)


async def test_logout_of_a_static_token_lasts_until_reset(api):
    assert await api.ok(LOGOUT, headers=ALICE) == "ok"
    status, payload = await list_status(api, "alice-token")
    assert_error(status, payload, 401, -19002)
    await api.ok("/__admin/reset", headers=None)
    assert (await list_status(api, "alice-token"))[0] == 200


async def test_logout_needs_a_valid_token(api):
    for headers in (None, bearer("nope"), bearer("alice-expired-token")):
        status, payload = await api.post(LOGOUT, headers=headers)
        assert_error(status, payload, 401, -19002)


async def test_current_user(api):
    session = await login(api)
    by_static = (await api.call("GET", USER, headers=ALICE))[1]["data"]
    by_issued = (await api.call("GET", USER, headers=bearer(session["accessToken"])))[1]["data"]
    assert by_static == by_issued == session["user"]
    status, payload = await api.call("GET", USER, headers=None)
    assert_error(status, payload, 401, -19002)


async def test_tokens_never_appear_in_the_journal(api):
    session = await login(api)
    await api.ok(REFRESH, {"refreshToken": session["refreshToken"]}, headers=None)
    await api.call("GET", USER, headers=bearer(session["accessToken"]))
    journal = await (await api.client.get(JOURNAL)).read()
    assert b"/api/v3/auth/user" in journal
    for value in ("correct-horse", session["accessToken"], session["refreshToken"]):
        assert value.encode() not in journal


# --------------------------------------------------------------------------- time


async def test_access_token_expires_after_an_hour_and_refresh_renews_it(api):
    session = await login(api)
    # Tokens follow the wall clock (plus the advances): a minute's margin for the real
    # time this test takes.
    await advance(api, HOUR - 60)
    assert (await list_status(api, session["accessToken"]))[0] == 200
    await advance(api, 60)  # past expiresAt: expired
    status, payload = await list_status(api, session["accessToken"])
    assert "token expired" in assert_error(status, payload, 401, -19002)
    renewed = await api.ok(REFRESH, {"refreshToken": session["refreshToken"]}, headers=None)
    assert session["expiresAt"] + HOUR <= renewed["expiresAt"] <= session["expiresAt"] + HOUR + 60
    assert (await list_status(api, renewed["accessToken"]))[0] == 200


async def test_refresh_token_expires_after_seven_days(api):
    session = await login(api)
    await advance(api, WEEK)
    status, payload = await api.post(
        REFRESH, {"refreshToken": session["refreshToken"]}, headers=None
    )
    assert_error(status, payload, 401, -100003)


async def test_refresh_token_still_works_just_before_seven_days(api):
    session = await login(api)
    await advance(api, WEEK - 60)
    await api.ok(REFRESH, {"refreshToken": session["refreshToken"]}, headers=None)


async def test_static_tokens_do_not_expire_with_the_clock(api):
    await advance(api, 365 * 24 * HOUR)
    assert (await list_status(api, "alice-token"))[0] == 200


async def test_clock_get_advance_and_reset(api):
    clock = (await api.call("GET", CLOCK, headers=None))[1]["data"]
    assert clock == {
        "now": DEFAULT_NOW_MS,
        "nowDateTime": "2026-01-15T12:00:00.000Z",
        "frozen": True,
        "offsetMs": 0,
    }
    moved = await advance(api, 1.5)
    assert moved["now"] == DEFAULT_NOW_MS + 1500 and moved["offsetMs"] == 1500
    moved = await api.ok(CLOCK + "?advance=2", headers=None)
    assert moved["now"] == DEFAULT_NOW_MS + 3500
    await api.ok("/__admin/reset", headers=None)
    assert await api.now_ms() == DEFAULT_NOW_MS


async def test_clock_rejects_bad_input(api):
    for raw in (
        b'{"advance": -1}',
        b'{"advance": "soon"}',
        b'{"advance": null}',
        b'{"advance": NaN}',
        b'{"advance": 3153600001}',  # over 100 years in one call
        b"[5]",
        b"null",
    ):
        status, payload = await api.post(CLOCK, raw=raw, headers=JSON_TYPE)
        assert "advance" in assert_error(status, payload, 400, -19004), raw
    status, payload = await api.post(CLOCK, raw=b"soon", headers=JSON_TYPE)
    assert_error(status, payload, 400, -19005)
    status, payload = await api.post(CLOCK + "?advance=-5", headers=None)
    assert_error(status, payload, 400, -19004)
    # The query wins, but a body sent with it must be valid too.
    status, payload = await api.post(
        CLOCK + "?advance=0", raw=b'{"advance": -1}', headers=JSON_TYPE
    )
    assert_error(status, payload, 400, -19004)
    assert await api.now_ms() == DEFAULT_NOW_MS  # nothing moved


async def test_clock_without_an_advance_moves_nothing(api):
    for raw in (b"", b"{}", b'{"other": 1}'):
        status, payload = await api.post(CLOCK, raw=raw, headers=JSON_TYPE)
        assert status == 200 and payload["data"]["now"] == DEFAULT_NOW_MS, raw
    status, payload = await api.post(
        CLOCK + "?advance=60", raw=b'{"advance": 1}', headers=JSON_TYPE
    )
    assert status == 200 and payload["data"]["now"] == DEFAULT_NOW_MS + 60_000


@pytest.mark.parametrize(
    "raw", [b'{"advance": 1e400}', b'{"advance": Infinity}', b'{"advance": 1e300}']
)
async def test_clock_rejects_advances_it_cannot_represent(api, raw):
    status, payload = await api.post(CLOCK, raw=raw, headers=JSON_TYPE)
    assert "advance" in assert_error(status, payload, 400, -19004)
    # The clock still works and still renders as ISO (sdk twins, nowDateTime).
    assert (await api.call("GET", CLOCK, headers=None))[0] == 200
    assert (await api.call("GET", LIST, headers=ALICE))[0] == 200


def test_issued_sessions_are_bounded_and_used_refresh_tokens_dropped(monkeypatch):
    """Logins in a long-running server keep at most MAX_SESSIONS sessions."""
    from cadenza_mock.contract.model import User
    from cadenza_mock.engine import auth
    from cadenza_mock.engine.clock import Clock
    from cadenza_mock.engine.users import Users

    monkeypatch.setattr(auth, "MAX_SESSIONS", 5)
    user = User("4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11", "a@example.com", password="pw")
    clock = Clock(1_768_478_400_000)
    sessions = auth.Sessions(Users({user.user_id: user}, clock, seed=1), clock, seed=1)
    issued = [sessions.login("a@example.com", "pw") for _ in range(12)]
    assert len(sessions._access) == 5 and len(sessions._refresh) == 5
    assert sessions.lookup(issued[0].access_token) is None  # the oldest: forgotten
    assert sessions.lookup(issued[-1].access_token) == (user, False)
    renewed = sessions.refresh(issued[-1].refresh_token)
    assert len(sessions._refresh) == 5  # the used one is gone, the new one kept
    sessions.logout(renewed.access_token)
    assert sessions.lookup(renewed.access_token) is None
    assert sessions.lookup(issued[-1].access_token) is None  # same session: ended too
    assert sessions.lookup(issued[-2].access_token) == (user, False)

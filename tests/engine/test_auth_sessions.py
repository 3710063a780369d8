"""Auth sessions and users as the engine keeps them (no server): login, expiry on the
mock clock, one-use refresh tokens, logout ending a whole session, tokens unique per
namespace, fingerprints that survive a restore, and sign-up's taken addresses."""

from __future__ import annotations

import pytest

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import User
from cadenza_mock.engine.auth import (
    ACCESS_TTL_SECONDS,
    REFRESH_TTL_SECONDS,
    Sessions,
    bearer_token,
)
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.users import Users

NOW = 1_768_478_400_000
ALICE = User(
    "4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11",
    "alice@example.com",
    password="pw-alice",
    created_at=NOW,
    updated_at=NOW,
)
BOB = User("9d3c2b1a-0f4e-4a5b-8c7d-6e5f4a3b2c1d", "bob@example.com", password="pw-bob")


def sessions(seed: int = 1, namespace: str = "") -> Sessions:
    clock = Clock(NOW)
    users = Users({u.user_id: u for u in (ALICE, BOB)}, clock, seed=seed)
    return Sessions(users, clock, seed=seed, namespace=namespace)


def error_of(call, *args) -> tuple[int, int]:
    with pytest.raises(ApiError) as caught:
        call(*args)
    return caught.value.status, caught.value.errno


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer ", None),
        ("Basic abc", None),
        ("abc", None),
        (None, None),
    ],
)
def test_only_a_bearer_header_carries_a_token(header, token):
    assert bearer_token(header) == token


def test_login_needs_the_users_password_and_any_case_of_the_address():
    auth = sessions()
    assert error_of(auth.login, "alice@example.com", "pw-bob") == (401, -100001)
    assert error_of(auth.login, "nobody@example.com", "pw-alice") == (401, -100001)
    session = auth.login(" Alice@Example.COM ", "pw-alice")
    assert session.user is ALICE
    assert auth.lookup(session.access_token) == (ALICE, False)


def test_an_access_token_expires_on_the_token_clock():
    """Tokens follow the wall clock moved by the mock clock's advances (a client checks
    them against its own clock), so only the distance from issue to expiry is fixed."""
    auth = sessions()
    before = auth._clock.token_ms()
    session = auth.login("alice@example.com", "pw-alice")
    after = auth._clock.token_ms()
    ttl_ms = ACCESS_TTL_SECONDS * 1000
    assert before + ttl_ms <= session.expires_at_ms <= after + ttl_ms
    assert session.expires_at_ms > NOW + ttl_ms  # not the frozen data clock's
    assert auth.expiry_ms(session.access_token) == session.expires_at_ms
    auth._clock.advance(ACCESS_TTL_SECONDS - 30)  # a margin for the wall clock's own move
    assert auth.lookup(session.access_token) == (ALICE, False)
    auth._clock.advance(30)
    assert auth.lookup(session.access_token) == (ALICE, True)  # known, but expired


def test_a_refresh_token_works_once_and_keeps_the_session():
    auth = sessions()
    first = auth.login("alice@example.com", "pw-alice")
    renewed = auth.refresh(first.refresh_token)
    assert renewed.session_id == first.session_id
    assert renewed.access_token != first.access_token
    assert not auth.knows_refresh_token(first.refresh_token)
    assert error_of(auth.refresh, first.refresh_token) == (401, -100003)
    assert auth.lookup(first.access_token) == (ALICE, False)  # the old access token lives on


def test_a_refresh_token_expires_after_a_week():
    auth = sessions()
    session = auth.login("alice@example.com", "pw-alice")
    auth._clock.advance(REFRESH_TTL_SECONDS)
    assert error_of(auth.refresh, session.refresh_token) == (401, -100003)


def test_logout_ends_every_token_of_its_session_and_no_other():
    auth = sessions()
    one = auth.login("alice@example.com", "pw-alice")
    renewed = auth.refresh(one.refresh_token)
    other = auth.login("alice@example.com", "pw-alice")
    auth.logout(renewed.access_token)
    assert auth.lookup(one.access_token) is None
    assert auth.lookup(renewed.access_token) is None
    assert error_of(auth.refresh, renewed.refresh_token) == (401, -100003)
    assert auth.lookup(other.access_token) == (ALICE, False)
    version = auth.version
    auth.logout("never-issued")  # an unknown token changes nothing
    assert auth.version == version


def test_tokens_are_unique_under_a_frozen_clock_and_per_namespace():
    auth = sessions()
    tokens = [auth.login("alice@example.com", "pw-alice").access_token for _ in range(20)]
    assert len(set(tokens)) == 20
    again = sessions()  # same seed, same order: the same tokens (seeded)
    assert [again.login("alice@example.com", "pw-alice").access_token for _ in range(20)] == tokens
    spaced = sessions(namespace="team-a")
    assert spaced.login("alice@example.com", "pw-alice").access_token not in tokens


def test_issued_tokens_are_kept_by_fingerprint_and_restored_under_their_salt():
    auth = sessions()
    session = auth.login("bob@example.com", "pw-bob")
    auth.logout(auth.login("alice@example.com", "pw-alice").access_token)
    issued, kept = auth.issued_tokens()
    assert issued == 2 and len(kept) == 4
    held = repr(kept)
    assert session.access_token not in held and session.refresh_token not in held
    assert [t.ended for t in kept] == [False, False, True, True]
    restored = sessions()
    restored.restore(auth.salt, issued, kept)
    assert restored.lookup(session.access_token) == (BOB, False)
    assert restored.issued_tokens() == (issued, kept)
    stranger = Sessions(Users({}, Clock(NOW), seed=1), Clock(NOW), seed=1)
    with pytest.raises(ValueError, match="not in the scenario"):
        stranger.restore(auth.salt, issued, kept)


def test_a_reset_forgets_every_issued_token():
    auth = sessions()
    session = auth.login("alice@example.com", "pw-alice")
    assert auth.changed
    auth.reset()
    assert not auth.changed and auth.lookup(session.access_token) is None


# --------------------------------------------------------------------------- users


def test_signup_refuses_a_taken_address_in_any_case_and_logs_the_new_user_in():
    auth = sessions()
    assert error_of(auth.signup, " ALICE@example.com", "x", {}) == (400, -19004)
    session = auth.signup("carol@example.com", "pw-carol", {"team": "a"})
    assert session.user.email == "carol@example.com"
    assert session.user.created_at == NOW and session.user.user_metadata == {"team": "a"}
    assert auth.login("carol@example.com", "pw-carol").user == session.user


def test_a_user_update_moves_the_address_and_a_reset_brings_the_scenario_back():
    clock = Clock(NOW)
    users = Users({ALICE.user_id: ALICE, BOB.user_id: BOB}, clock, seed=1)
    with pytest.raises(ApiError):
        users.update(ALICE, email="bob@example.com")
    updated = users.update(ALICE, email="alice2@example.com", metadata={"k": 1})
    assert updated.updated_at == NOW + 1  # a frozen clock still moves updatedAt on
    assert updated.user_metadata == {"k": 1}
    assert users.by_email("alice@example.com") is None
    assert users.by_email("ALICE2@example.com") == updated
    assert users.update(updated) is updated  # nothing to change: the same record
    users.reset()
    assert users.by_email("alice@example.com") == ALICE and users[ALICE.user_id] is ALICE

"""The lifecycle's transition tables and venue outcomes as plain functions (no server):
the rules the HTTP tests of test_lifecycle.py and test_trading_accounts.py reach through
the API, checked here one cell at a time."""

from __future__ import annotations

import dataclasses

import pytest

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import IDENTITIES, Credential, TradingAccount
from cadenza_mock.engine.lifecycle import (
    ACCOUNT_TRANSITIONS,
    TRANSITIONS,
    next_account_status,
    next_status,
    venue_error,
    verify,
)

NOW = 1_768_478_400_000
CREDENTIAL = Credential(
    credential_id="660e8400-e29b-41d4-a716-446655440000",
    user_id="4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11",
    venue="OKX",
    name="desk",
    type="EXCHANGE",
    api_key="okxKey0123456789abcdef",
    status="ACTIVE",
    created_at=NOW,
    updated_at=NOW,
)
ACCOUNT = TradingAccount(
    trading_account_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",
    user_id=CREDENTIAL.user_id,
    venue="OKX",
    external_id="trading",
    venue_account="va",
    nickname="main",
    account_type="SPOT",
    external_account_type="trading",
    credential_ids=(CREDENTIAL.credential_id,),
    status="ACTIVE",
    created_at=NOW,
    updated_at=NOW,
)
CREDENTIAL_STATUSES = ("CREATED", "ACTIVE", "EXPIRED", "REVOKED")
LIVE_ACCOUNT = ("NEW", "CREATED", "ACTIVE", "INACTIVE", "LOCKED", "UNAVAILABLE")


def credential(status: str, **changes: object) -> Credential:
    return dataclasses.replace(CREDENTIAL, status=status, **changes)


def account(status: str) -> TradingAccount:
    return dataclasses.replace(ACCOUNT, status=status)


# --------------------------------------------------------------------------- credentials

# (action, from) -> to, or the error (status, errno) it answers. Every cell of the table.
CREDENTIAL_MOVES = {
    ("verify", "CREATED"): "ACTIVE",
    ("verify", "ACTIVE"): "ACTIVE",
    ("verify", "EXPIRED"): (400, -22015),
    ("rotate", "CREATED"): "CREATED",
    ("rotate", "ACTIVE"): "ACTIVE",
    ("rotate", "EXPIRED"): "ACTIVE",
    ("revoke", "CREATED"): "REVOKED",
    ("revoke", "ACTIVE"): "REVOKED",
    ("revoke", "EXPIRED"): "REVOKED",
}


@pytest.mark.parametrize(("action", "status"), sorted(CREDENTIAL_MOVES))
def test_each_credential_move_lands_where_the_table_says(action, status):
    expected = CREDENTIAL_MOVES[action, status]
    if isinstance(expected, str):
        assert next_status(action, credential(status)) == expected
    else:
        with pytest.raises(ApiError) as caught:
            next_status(action, credential(status))
        assert (caught.value.status, caught.value.errno) == expected
        assert f"cannot {action} a credential in status {status}" in caught.value.message


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_revoked_is_terminal_for_every_action(action):
    with pytest.raises(ApiError) as caught:
        next_status(action, credential("REVOKED"))
    assert (caught.value.status, caught.value.errno) == (400, -130001)
    assert caught.value.message == "Credential is already revoked"
    assert all("REVOKED" not in moves for moves in TRANSITIONS.values())


def test_the_table_covers_every_action_and_live_status():
    assert {action for action, _ in CREDENTIAL_MOVES} == set(TRANSITIONS)
    for action, moves in TRANSITIONS.items():
        for status in CREDENTIAL_STATUSES[:-1]:
            assert moves.get(status) == (
                CREDENTIAL_MOVES[action, status]
                if isinstance(CREDENTIAL_MOVES[action, status], str)
                else None
            )


def test_verify_reaches_the_venues_identities_only_with_valid_usable_keys():
    ok = verify(credential("ACTIVE"))
    assert ok.verified and ok.identities == IDENTITIES["OKX"] == ("trading", "funding")
    assert verify(credential("CREATED")).verified
    for refused in (
        verify(credential("ACTIVE", keys_valid=False)),
        verify(credential("ACTIVE"), outcome="invalid_keys"),
        verify(credential("EXPIRED")),
        verify(credential("REVOKED")),
    ):
        assert not refused.verified and refused.identities == ()
    # Other outcomes are errors the caller raises (venue_error); verify itself says ok.
    assert verify(credential("ACTIVE"), outcome="maintenance").verified


# --------------------------------------------------------------------------- accounts


@pytest.mark.parametrize("status", LIVE_ACCOUNT)
def test_enable_and_disable_move_live_accounts_except_locked_and_unavailable(status):
    for action, target in (("enable", "ACTIVE"), ("disable", "INACTIVE")):
        if status in ("LOCKED", "UNAVAILABLE"):
            with pytest.raises(ApiError) as caught:
                next_account_status(action, account(status), status)
            assert (caught.value.status, caught.value.errno) == (400, -22015)
            assert f"cannot {action} a trading account that is {status}" in caught.value.message
        else:
            assert next_account_status(action, account(status), status) == target


@pytest.mark.parametrize("status", LIVE_ACCOUNT)
def test_update_and_a_rotate_keep_the_status_a_disconnect_and_a_revoke_end_it(status):
    assert next_account_status("update", account(status), status) == status
    assert next_account_status("credential_rotate", account(status), status) == status
    assert next_account_status("disconnect", account(status), status) == "DISCONNECTED"
    assert next_account_status("credential_revoke", account(status), status) == "DISCONNECTED"


@pytest.mark.parametrize("action", sorted(ACCOUNT_TRANSITIONS))
def test_a_disconnected_account_is_archived_for_every_action(action):
    with pytest.raises(ApiError) as caught:
        next_account_status(action, account("DISCONNECTED"), "shown-name")
    assert caught.value.status == 400
    assert "disconnected (archived); connect it again" in caught.value.message
    assert "shown-name" not in caught.value.message


def test_the_error_names_the_status_as_the_profile_spells_it():
    with pytest.raises(ApiError, match=r"that is Locked$"):
        next_account_status("enable", account("LOCKED"), "Locked")


# --------------------------------------------------------------------------- venue outcomes

OUTCOMES = {
    "invalid_keys": (401, -18022),
    "maintenance": (503, -18013),
    "timeout": (504, -18015),
    "network_error": (502, -18009),
    "rate_limited": (429, -18011),
    "lock_not_acquired": (503, -22014),
    "unavailable": (503, -18012),
    "exchange_error": (502, -18004),
}


@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
def test_each_venue_outcome_answers_its_error_naming_the_venue(outcome):
    error = venue_error(outcome, "KRAKEN")
    assert error is not None
    status, errno = OUTCOMES[outcome]
    assert (error.status, error.errno) == (status, errno)
    assert error.message.endswith(": KRAKEN")
    assert error.headers == ({"Retry-After": "1"} if outcome == "rate_limited" else {})


def test_ok_and_unknown_outcomes_let_the_call_through():
    assert venue_error("ok", "OKX") is None
    assert venue_error("no-such-outcome", "OKX") is None

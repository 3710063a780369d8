"""The state machines: which action may move a credential (`TRANSITIONS`) or a trading
account (`ACCOUNT_TRANSITIONS`) from which status, and what the venue answers.

The store asks `next_status()` / `next_account_status()` before it changes anything, so an
illegal action fails before any state is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from cadenza_mock.contract.errors import (
    ALREADY_REVOKED,
    EXCHANGE_ERROR,
    INVALID_API_KEY,
    INVALID_STATE,
    LOCK_NOT_ACQUIRED,
    MAINTENANCE,
    NETWORK_ERROR,
    NOT_REVOCABLE,
    RATE_LIMITED,
    VENUE_TIMEOUT,
    VENUE_UNAVAILABLE,
    ApiError,
    ErrorKind,
)

# IDENTITIES and identities (what valid keys reach per venue) are defined on the ground
# floor, since scenario files use them too; re-exported here for the engine and the tests.
from cadenza_mock.contract.model import IDENTITIES as IDENTITIES
from cadenza_mock.contract.model import Credential, TradingAccount
from cadenza_mock.contract.model import identities as identities

# action -> {from status: to status}. REVOKED is terminal: it appears in no "from".
# docs profile statuses are ACTIVE and REVOKED; the sdk adds CREATED (until the first
# successful verify) and EXPIRED (keys the venue no longer accepts; a rotate renews them).
TRANSITIONS: dict[str, dict[str, str]] = {
    "verify": {"CREATED": "ACTIVE", "ACTIVE": "ACTIVE"},
    "rotate": {"CREATED": "CREATED", "ACTIVE": "ACTIVE", "EXPIRED": "ACTIVE"},
    "revoke": {"CREATED": "REVOKED", "ACTIVE": "REVOKED", "EXPIRED": "REVOKED"},
}


def next_status(action: str, cred: Credential) -> str:
    """The status after `action`, or the API's error when the action is not allowed."""
    if cred.status == "REVOKED":
        raise ALREADY_REVOKED.error()
    target = TRANSITIONS[action].get(cred.status)
    if target is None:
        kind = NOT_REVOCABLE if action == "revoke" else INVALID_STATE
        raise kind.error(f"cannot {action} a credential in status {cred.status}")
    return target


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What the emulated venue said about one credential's keys."""

    credential: Credential
    verified: bool
    identities: tuple[str, ...]


def verify(cred: Credential, outcome: str = "ok") -> VerifyResult:
    """Keys verify when the scenario says they are valid, the venue does not reject them
    (`outcome`) and the credential is usable."""
    usable = cred.status in TRANSITIONS["verify"] and cred.keys_valid and outcome != "invalid_keys"
    if not usable:
        return VerifyResult(cred, False, ())
    return VerifyResult(cred, True, identities(cred.venue))


# action -> {from status: to status}, in the engine's (sdk) status names. DISCONNECTED is
# terminal: a disconnected account is archived, and connecting again makes a new one.
# enable/disable of an account already there answer it unchanged (no operation logged).
_LIVE = ("NEW", "CREATED", "ACTIVE", "INACTIVE", "LOCKED", "UNAVAILABLE")
ACCOUNT_TRANSITIONS: dict[str, dict[str, str]] = {
    "enable": {"NEW": "ACTIVE", "CREATED": "ACTIVE", "ACTIVE": "ACTIVE", "INACTIVE": "ACTIVE"},
    "disable": {
        "NEW": "INACTIVE",
        "CREATED": "INACTIVE",
        "ACTIVE": "INACTIVE",
        "INACTIVE": "INACTIVE",
    },
    "update": {status: status for status in _LIVE},
    "disconnect": {status: "DISCONNECTED" for status in _LIVE},
    # A revoke takes away an account's last usable credential.
    "credential_revoke": {status: "DISCONNECTED" for status in _LIVE},
    # A rotate keeps every account connected, in the status it had.
    "credential_rotate": {status: status for status in _LIVE},
}


def next_account_status(action: str, account: TradingAccount, shown: str) -> str:
    """The account's status after `action`, or the 400 that says why not (`shown` is its
    status as the profile spells it)."""
    target = ACCOUNT_TRANSITIONS[action].get(account.status)
    if target is None:
        why = (
            "disconnected (archived); connect it again"
            if account.status == "DISCONNECTED"
            else shown
        )
        raise INVALID_STATE.error(f"cannot {action} a trading account that is {why}")
    return target


# What each venue outcome answers when verify or connect reaches the venue. invalid_keys
# makes verify report FAILED (it is an answer, not an error) and connect a 401.
_OUTCOME_ERRORS: dict[str, ErrorKind] = {
    "invalid_keys": INVALID_API_KEY,
    "maintenance": MAINTENANCE,
    "timeout": VENUE_TIMEOUT,
    "network_error": NETWORK_ERROR,
    "rate_limited": RATE_LIMITED,
    "lock_not_acquired": LOCK_NOT_ACQUIRED,
    "unavailable": VENUE_UNAVAILABLE,
    "exchange_error": EXCHANGE_ERROR,
}


def venue_error(outcome: str, venue: str) -> ApiError | None:
    """The error the venue's `outcome` answers, or None when it lets the call through."""
    kind = _OUTCOME_ERRORS.get(outcome)
    if kind is None:
        return None
    headers = {"Retry-After": "1"} if kind is RATE_LIMITED else None
    return kind.error(venue, headers=headers)

"""The credential state machine: which action may move a credential from which status.

All allowed transitions are in `TRANSITIONS`; the store asks `next_status()` before it
changes anything, so an illegal action fails before any state is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from cadenza_mock.errors import ALREADY_REVOKED, INVALID_STATE, NOT_REVOCABLE
from cadenza_mock.model import Credential
from cadenza_mock.scenario.generate import base_venue

# action -> {from status: to status}. REVOKED is terminal: it appears in no "from".
# docs profile statuses are ACTIVE and REVOKED; the sdk adds CREATED (until the first
# successful verify) and EXPIRED (keys the venue no longer accepts; a rotate renews them).
TRANSITIONS: dict[str, dict[str, str]] = {
    "verify": {"CREATED": "ACTIVE", "ACTIVE": "ACTIVE"},
    "rotate": {"CREATED": "CREATED", "ACTIVE": "ACTIVE", "EXPIRED": "ACTIVE"},
    "revoke": {"CREATED": "REVOKED", "ACTIVE": "REVOKED", "EXPIRED": "REVOKED"},
}

# Accounts that valid keys reach on each venue (the verify result's `identities`).
IDENTITIES: dict[str, tuple[str, ...]] = {
    "BINANCE": ("spot", "margin", "isolated_margin", "futures", "coin_futures"),
    "OKX": ("trading", "funding"),
    "BYBIT": ("unified", "contract", "spot", "fund"),
    "COINBASE": ("default",),
    "KRAKEN": ("spot", "futures"),
    "DERIBIT": ("futures", "options"),
    "HYPERLIQUID": ("perps", "spot"),
    "B2C2": ("credit",),
    "WINTERMUTE": ("credit",),
    "CUMBERLAND": ("credit",),
    "IBKR": ("cash", "margin"),
}
_DEFAULT_IDENTITIES = ("spot",)


def identities(venue: str) -> tuple[str, ...]:
    return IDENTITIES.get(base_venue(venue), _DEFAULT_IDENTITIES)


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


def verify(cred: Credential) -> VerifyResult:
    """Keys verify when the scenario says they are valid and the credential is usable."""
    usable = cred.status in TRANSITIONS["verify"] and cred.keys_valid
    if not usable:
        return VerifyResult(cred, False, ())
    return VerifyResult(cred, True, identities(cred.venue))

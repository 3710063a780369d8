"""Records the mock keeps, and the enums each wire profile allows.

Records are frozen: the store changes state by replacing a record, which makes reset a
dict copy and lets a serialized response stay valid until the store says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ProfileName = Literal["docs", "sdk"]
PROFILE_NAMES: tuple[ProfileName, ...] = ("docs", "sdk")

_SDK_BASE_VENUES = (
    "BINANCE",
    "B2C2",
    "WINTERMUTE",
    "BLOCKFILLS",
    "STONEX",
    "CUMBERLAND",
    "IBKR",
    "DERIBIT",
    "BITFINEX",
    "OKX",
    "HYPERLIQUID",
)


def is_bundled_name(source: str) -> bool:
    """`"revoked"` names a bundled scenario; anything with a slash or a YAML suffix is a path.

    Here, on the ground floor, because the pytest plugin applies the rule at import time
    and must not pull in the YAML loader to do so.
    """
    return "/" not in source and "\\" not in source and not source.endswith((".yaml", ".yml"))


@dataclass(frozen=True, slots=True)
class ProfileEnums:
    """What one wire profile accepts; anything else is a scenario or request error."""

    venues: tuple[str, ...]
    types: tuple[str, ...]
    statuses: tuple[str, ...]
    default_type: str
    created_status: str  # status of a credential the client creates
    revoked_status: str = "REVOKED"
    # Venues whose keys need a passphrase besides key and secret.
    passphrase_venues: frozenset[str] = frozenset({"OKX"})


PROFILES: dict[str, ProfileEnums] = {
    "docs": ProfileEnums(
        venues=("BINANCE", "OKX", "BYBIT", "COINBASE", "KRAKEN"),
        types=("EXCHANGE", "BROKER"),
        statuses=("ACTIVE", "REVOKED"),
        default_type="EXCHANGE",
        created_status="ACTIVE",
    ),
    "sdk": ProfileEnums(
        venues=(
            *_SDK_BASE_VENUES,
            *(f"{venue}_UAT" for venue in _SDK_BASE_VENUES),
            "BINANCE_SANDBOX",
            "B2C2_SANDBOX",
            "IBKR_PAPER",
            "FERMATA",
            "MOCK",
            "PAPER",
        ),
        types=("API_KEY", "TOKEN", "HMAC", "OAUTH", "RSA", "ED25519"),
        statuses=("CREATED", "ACTIVE", "EXPIRED", "REVOKED"),
        default_type="API_KEY",
        created_status="CREATED",
        passphrase_venues=frozenset({"OKX", "OKX_UAT"}),
    ),
}


@dataclass(frozen=True, slots=True)
class Credential:
    """One stored credential. Secrets live here and nowhere else."""

    credential_id: str
    user_id: str
    venue: str
    name: str
    type: str
    api_key: str = field(repr=False)  # the full key is a secret too; the wire masks it
    status: str
    created_at: int  # ms since the epoch
    updated_at: int
    revoked_at: int | None = None
    # repr=False: a record printed in a traceback or log must not leak its secrets.
    api_secret: str | None = field(default=None, repr=False)
    api_passphrase: str | None = field(default=None, repr=False)
    keys_valid: bool = True
    # A key pasted already masked from a real response (`abc123***`) is served exactly as
    # given; keys the mock knows in full are always masked by the wire layer.
    pasted_masked_key: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    """A scenario user: who a bearer token or a login resolves to."""

    user_id: str
    email: str
    password: str | None = field(default=None, repr=False)
    tokens: tuple[str, ...] = field(default=(), repr=False)
    expired_tokens: tuple[str, ...] = field(default=(), repr=False)
    role: str = "authenticated"
    created_at: int = 0  # ms since the epoch


@dataclass(frozen=True, slots=True)
class Session:
    """One login: what the session JSON is built from (tokens never in a repr)."""

    user: User
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at_ms: int
    session_id: str

"""Records the mock keeps, and the enums each wire profile allows.

Records are frozen: the store changes state by replacing a record, which makes reset a
dict copy and lets a serialized response stay valid until the store says otherwise.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

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
)


def is_bundled_name(source: str) -> bool:
    """`"revoked"` names a bundled scenario; anything with a slash or a YAML suffix is a path.

    Here, on the ground floor, because the pytest plugin applies the rule at import time
    and must not pull in the YAML loader to do so.
    """
    return "/" not in source and "\\" not in source and not source.endswith((".yaml", ".yml"))


# The sdk's TradingAccountStatus; the docs pages know ACTIVE, DISABLED and DISCONNECTED.
ACCOUNT_STATUSES = ("NEW", "CREATED", "ACTIVE", "INACTIVE", "LOCKED", "DISCONNECTED", "UNAVAILABLE")
OPERATION_TYPES = (
    "CONNECT",
    "DISCONNECT",
    "ENABLE",
    "DISABLE",
    "UPDATE",
    "CREDENTIAL_REVOKE",
    "CREDENTIAL_ROTATE",
)
# What the venue behind Cadenza does when verify or connect reaches it (scenario
# `venue_outcome:`/`venues:`, fault `venue:`); the engine maps each to its answer.
VENUE_OUTCOMES = (
    "ok",
    "invalid_keys",
    "maintenance",
    "timeout",
    "network_error",
    "rate_limited",
    "lock_not_acquired",
    "unavailable",
    "exchange_error",
)


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
    # Trading accounts: types and statuses as this profile spells them. The engine keeps
    # the sdk's status names; `account_status_names` renames them on the wire.
    account_types: tuple[str, ...] = ("SPOT", "MARGIN", "CREDIT")
    account_statuses: tuple[str, ...] = ACCOUNT_STATUSES
    account_status_names: tuple[tuple[str, str], ...] = ()

    def account_status_out(self, status: str) -> str:
        """An engine account status as this profile spells it."""
        return dict(self.account_status_names).get(status, status)

    def account_status_in(self, status: str) -> str:
        """A status this profile spells (a filter, a scenario value) as the engine's."""
        return {wire: engine for engine, wire in self.account_status_names}.get(status, status)


PROFILES: dict[str, ProfileEnums] = {
    "docs": ProfileEnums(
        venues=("BINANCE", "OKX", "BYBIT", "COINBASE", "KRAKEN"),
        types=("EXCHANGE", "BROKER"),
        statuses=("ACTIVE", "REVOKED"),
        default_type="EXCHANGE",
        created_status="ACTIVE",
        account_types=("SPOT", "MARGIN", "FUTURES"),
        account_statuses=("ACTIVE", "DISABLED", "DISCONNECTED"),
        account_status_names=(("INACTIVE", "DISABLED"),),
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
    # Which account at the venue the keys open (never on the wire): two users holding the
    # same keys reach the same external accounts, and a rotate keeps reaching them.
    venue_account: str = field(default="", repr=False)
    venue_outcome: str = "ok"  # what the venue answers when verify or connect reaches it


@dataclass(frozen=True, slots=True)
class TradingAccount:
    """An account at a venue, connected through one or more of its owner's credentials."""

    trading_account_id: str
    user_id: str
    venue: str
    external_id: str  # externalTradingAccountId: the identity verify reported ("spot")
    venue_account: str = field(repr=False)  # with venue and external_id: the external account
    nickname: str
    account_type: str  # as the profile spells it (SPOT, MARGIN, CREDIT or FUTURES)
    external_account_type: str
    credential_ids: tuple[str, ...]
    status: str  # the engine's names (ACTIVE, INACTIVE, DISCONNECTED, ...)
    created_at: int
    updated_at: int
    disconnected_at: int | None = None


# Accounts that valid keys reach on each venue (the verify result's `identities`). Here, on
# the ground floor, because the engine (verify, connect) and scenario files (accounts the
# scenario connects) must agree on them.
IDENTITIES: dict[str, tuple[str, ...]] = {
    "BINANCE": ("spot", "margin", "isolated_margin", "futures", "coin_futures"),
    "OKX": ("trading", "funding"),
    "BYBIT": ("unified", "contract", "spot", "fund"),
    "COINBASE": ("default",),
    "KRAKEN": ("spot", "futures"),
    "DERIBIT": ("futures", "options"),
    "B2C2": ("credit",),
    "WINTERMUTE": ("credit",),
    "CUMBERLAND": ("credit",),
    "IBKR": ("cash", "margin"),
}
_DEFAULT_IDENTITIES = ("spot",)
# Words in a venue identity that make its account a margin (sdk) or futures (docs) one.
_MARGIN_WORDS = ("margin", "futures", "contract", "unified", "perps", "options")
_FUTURES_WORDS = ("futures", "contract", "perps", "options")


def base_venue(venue: str) -> str:
    """`BINANCE_UAT` and `BINANCE_SANDBOX` behave like BINANCE (key shapes, identities)."""
    for suffix in ("_UAT", "_SANDBOX", "_PAPER"):
        if venue.endswith(suffix):
            return venue.removesuffix(suffix)
    return venue


def identities(venue: str) -> tuple[str, ...]:
    """The external accounts ("spot", "margin", ...) a venue's valid keys reach."""
    return IDENTITIES.get(base_venue(venue), _DEFAULT_IDENTITIES)


def account_type(identity: str, types: tuple[str, ...]) -> str:
    """The accountType of a venue identity, in the profile's vocabulary."""
    if identity == "credit" and "CREDIT" in types:
        return "CREDIT"
    if "FUTURES" in types and any(word in identity for word in _FUTURES_WORDS):
        return "FUTURES"
    return "MARGIN" if any(word in identity for word in _MARGIN_WORDS) else "SPOT"


def reached_account(
    creds: Sequence[Credential],
    identity: str,
    account_types: tuple[str, ...],
    *,
    trading_account_id: str,
    status: str,
    created_at: int,
    updated_at: int,
    disconnected_at: int | None = None,
    nickname: str | None = None,
    given_type: str | None = None,
    external_type: str | None = None,
) -> TradingAccount:
    """The account the credentials' keys open at their venue as `identity`: owner, venue,
    the venue account, nickname and account types follow from them unless given. One
    place for connect, verify's accounts and scenario files alike."""
    first = creds[0]
    return TradingAccount(
        trading_account_id=trading_account_id,
        user_id=first.user_id,
        venue=first.venue,
        external_id=identity,
        venue_account=venue_account(first),
        nickname=nickname or (f"{first.name} {identity}" if first.name else identity),
        account_type=given_type or account_type(identity, account_types),
        external_account_type=external_type or identity.upper(),
        credential_ids=tuple(dict.fromkeys(c.credential_id for c in creds)),
        status=status,
        created_at=created_at,
        updated_at=updated_at,
        disconnected_at=disconnected_at,
    )


def venue_account(cred: Credential) -> str:
    """Which account at the venue a credential's keys open: kept through rotations; for
    keys never rotated, a fingerprint of venue and key (so equal keys open one account)."""
    if cred.venue_account:
        return cred.venue_account
    digest = hashlib.sha256(f"{cred.venue}\0{cred.api_key}".encode("utf-8", "backslashreplace"))
    return digest.hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class AccountOperation:
    """One entry of a trading account's operation history."""

    operation_id: str
    trading_account_id: str
    user_id: str
    operation_type: str
    status: str  # PENDING, SUCCESS, FAILED
    created_at: int


@dataclass(frozen=True, slots=True)
class Subscription:
    """One trading account subscription (engine.subscriptions): what a trading account's
    channel streams while it is ACTIVE."""

    subscription_id: str
    trading_account_id: str
    user_id: str
    venue: str
    subscription_type: str
    status: str
    created_at: int
    updated_at: int


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
    updated_at: int | None = None  # None: never changed since created_at
    # appMetadata (the official document's authUser_appMetadata) and userMetadata
    tenant_id: str | None = None
    environments: tuple[str, ...] = ()
    user_metadata: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Session:
    """One login: what the session JSON is built from (tokens never in a repr)."""

    user: User
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at_ms: int
    session_id: str


@contextmanager
def building_records() -> Iterator[None]:
    """Pause the cyclic garbage collector while many records are built at once.

    Records hold no cycles, but allocating 100,000 of them triggers collections that each
    walk every object built so far: paused, a large scenario loads in about half the time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

"""The state file's records, declared: each kind's keys in the file, their JSON types, and
which record attribute each holds.

The file has its own format, written and read from these rows only. It used to be the
docs profile's wire shape of a credential plus extras, and each model dataclass's fields
camelCased, so a new wire field or a new model field silently changed the file (and a
file written before could no longer be read). Now a model field reaches the file only
through a row here (`tests/engine/test_state_format.py` fails until every field is kept
here or listed in `NOT_KEPT` with the reason), and a row added later names the format
version that added it (`since`) and the value older files stand for (`default`).

Versions: `VERSION` is written; every version from 1 to it is read, a key missing from an
older file taking its row's default. A change older code could not read correctly (a key
renamed or dropped, a meaning changed) bumps VERSION and adds a step to `UPGRADES` that
rewrites a document of the version before into this one's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

FORMAT = "cadenza-mock-state"
# 2: the market's changes (`market`, below); a version 1 file stands for none.
# 3: orders and portfolios (`trading`, below). A file without the part stands for none;
# version 2 files written before it was declared may hold it in the same shape (read).
# 4: RFQ quotes (`trading.quotes`) and a QUOTED order's `quoteId`; what a late or
# slow venue still owes an order (`fillDueAt`, `cancelDueAt`). An older file stands
# for no quote, no quoteId and nothing owed.
# 5: an order's `quantityType` (QUOTE: given in the quote asset), a stop order's
# `stopPrice` and when it triggered (`triggeredAt`). An older file stands for BASE orders.
# 6: order lists (engine/order_lists.py): an order's `orderListId`, `contingencyType`, an
# exit's entry (`exitOf`) and an entry's exits not placed yet (`exits`). An older file
# stands for no lists.
VERSION = 6
FIRST_VERSION = 1

_REQUIRED: Any = object()
NULL = type(None)


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a record in the file."""

    name: str  # in the file (camelCase, like the API's, but the file's own)
    kinds: tuple[type, ...]  # the JSON types it may hold (a list: of strings)
    attr: str | None = None  # the record attribute it holds as is; None: made by the writer
    since: int = FIRST_VERSION  # the format version that added it
    default: Any = _REQUIRED  # what a file older than `since` stands for

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


def _key(
    name: str, attr: str | None, *kinds: type, since: int = FIRST_VERSION, default: Any = _REQUIRED
) -> Key:
    return Key(name, kinds, attr, since, default)


# A credential: the API's own fields (the key masked), then what compares a key or secret
# given later: fingerprints, never the values.
CREDENTIAL: tuple[Key, ...] = (
    _key("credentialId", "credential_id", str),
    _key("userId", "user_id", str),
    _key("venue", "venue", str),
    _key("name", "name", str),
    _key("type", "type", str),
    _key("apiKey", None, str),  # the masked key, as first shown
    _key("status", "status", str),
    _key("createdAt", "created_at", int),
    _key("updatedAt", "updated_at", int),
    _key("revokedAt", "revoked_at", int, NULL),
    _key("keyFingerprint", None, str, NULL),
    _key("secretFingerprint", None, str, NULL),
    _key("passphraseFingerprint", None, str, NULL),
    _key("keysValid", "keys_valid", bool),
    _key("venueAccount", None, str, NULL),  # a created credential's, as a fingerprint
    _key("venueOutcome", "venue_outcome", str),
)
TRADING_ACCOUNT: tuple[Key, ...] = (
    _key("tradingAccountId", "trading_account_id", str),
    _key("userId", "user_id", str),
    _key("venue", "venue", str),
    _key("externalId", "external_id", str),
    _key("venueAccount", None, str),  # a fingerprint
    _key("nickname", "nickname", str),
    _key("accountType", "account_type", str),
    _key("externalAccountType", "external_account_type", str),
    _key("credentialIds", "credential_ids", list),
    _key("status", "status", str),
    _key("createdAt", "created_at", int),
    _key("updatedAt", "updated_at", int),
    _key("disconnectedAt", "disconnected_at", int, NULL),
)
ACCOUNT_OPERATION: tuple[Key, ...] = (
    _key("operationId", "operation_id", str),
    _key("tradingAccountId", "trading_account_id", str),
    _key("userId", "user_id", str),
    _key("operationType", "operation_type", str),
    _key("status", "status", str),
    _key("createdAt", "created_at", int),
)
ISSUED_TOKEN: tuple[Key, ...] = (
    _key("fingerprint", "fingerprint", str),
    _key("refresh", "refresh", bool),
    _key("userId", "user_id", str),
    _key("sessionId", "session_id", str),
    _key("expiresAtMs", "expires_at_ms", int),
    _key("ended", "ended", bool),
)
USER: tuple[Key, ...] = (
    _key("id", "user_id", str),
    _key("email", "email", str),
    _key("passwordFingerprint", None, str, NULL),
    _key("role", "role", str),
    _key("createdAt", "created_at", int),
    _key("updatedAt", "updated_at", int, NULL),
    _key("tenantId", "tenant_id", str, NULL),
    _key("environments", "environments", list),
    _key("userMetadata", "user_metadata", dict),
)

# The market's changes (engine/market_persist.py writes and reads them; since version 2,
# a file without them stands for a market as loaded). Prices are whole ticks of the
# instrument, quantities whole lots, instants ms; the walk itself is drawn again from the
# seed and the origin.
MARKET: tuple[Key, ...] = (
    _key("originMs", None, int, since=2),  # the walks' origin: the same walks after a restart
    _key("instruments", None, list, since=2),  # MARKET_INSTRUMENT records, changed ones only
    _key("deletedSecurities", None, list, since=2),  # "VENUE:ASSET"
    _key("venues", None, list, since=2),  # [venue, "stale" or "unavailable", since ms]
)
MARKET_INSTRUMENT: tuple[Key, ...] = (
    _key("instrumentId", None, str, since=2),
    _key("status", None, str, since=2),
    _key("deleted", None, bool, since=2),
    _key("prices", None, list, since=2),  # [at ms, ticks] set (set_price, gap, book, resume)
    _key("halts", None, list, since=2),  # [from ms, until ms or null (halted now), ticks]
    _key("book", None, dict, NULL, since=2),  # {bids, asks: [[ticks, lots, orders]]} or null
)

# Orders and portfolios (engine/persist_trading.py writes and reads them; since version 3,
# a file without them stands for none). Decimals are strings, as on the wire; instants ms.
TRADING: tuple[Key, ...] = (
    _key("made", None, dict, since=3),  # ids drawn so far per kind: {order, execution, position}
    _key("orders", None, list, since=3),  # TRADE_ORDER records, in creation order
    _key("portfolios", None, list, since=3),  # PORTFOLIO records
    _key("quotes", None, list, since=4, default=()),  # QUOTE records, in creation order
)
TRADE_ORDER: tuple[Key, ...] = (
    _key("tradeOrderId", "order_id", str, since=3),
    _key("tradingAccountId", "trading_account_id", str, since=3),
    _key("userId", "user_id", str, since=3),
    _key("instrumentId", None, str, since=3),  # its spec, from the scenario's market
    _key("orderSide", "side", str, since=3),
    _key("orderType", "order_type", str, since=3),
    _key("timeInForce", "time_in_force", str, since=3),
    _key("quantity", "quantity", str, since=3),
    _key("limitPrice", "limit_price", str, NULL, since=3),
    _key("createdAt", "created_at", int, since=3),
    _key("expireAt", "expire_at", int, NULL, since=3),
    _key("clientOrderId", "client_order_id", str, NULL, since=3),
    _key("idempotencyKey", "idempotency_key", str, NULL, since=3),
    _key("status", "status", str, since=3),
    _key("updatedAt", "updated_at", int, since=3),
    _key("checkedMs", "checked_ms", int, since=3),
    _key("executed", "executed", str, since=3),
    _key("cost", "cost", str, since=3),
    _key("fees", "fees", str, since=3),
    _key("locked", "locked", str, since=3),
    _key("executions", "executions", list, since=3),  # EXECUTION records
    _key("canceledAt", "canceled_at", int, NULL, since=3),
    _key("cancelReason", "cancel_reason", str, NULL, since=3),
    _key("quoteId", "quote_id", str, NULL, since=4, default=None),  # a QUOTED order's
    # A late venue's fill and a slow venue's cancel still to come (engine/venue_timing.py).
    _key("fillDueAt", None, int, NULL, since=4, default=None),
    _key("cancelDueAt", None, int, NULL, since=4, default=None),
    _key("quantityType", "quantity_type", str, since=5, default="BASE"),
    _key("stopPrice", "stop_price", str, NULL, since=5, default=None),  # a stop's
    _key("triggeredAt", "triggered_at", int, NULL, since=5, default=None),  # and when it fired
    _key("orderListId", "order_list_id", str, NULL, since=6, default=None),  # its list's
    _key("contingencyType", "contingency", str, NULL, since=6, default=None),
    _key("exitOf", "exit_of", str, NULL, since=6, default=None),  # an exit's entry
    _key("exits", "exits", list, since=6, default=()),  # an entry's exits, until placed
)
EXECUTION: tuple[Key, ...] = (
    _key("executionId", "execution_id", str, since=3),
    _key("price", "price", str, since=3),
    _key("quantity", "quantity", str, since=3),
    _key("cost", "cost", str, since=3),
    _key("fee", "fee", str, since=3),
    _key("at", "at", int, since=3),
)
PORTFOLIO: tuple[Key, ...] = (
    _key("tradingAccountId", "trading_account_id", str, since=3),
    _key("venue", "venue", str, since=3),
    _key("updatedAt", "updated_at", int, since=3),
    _key("balances", None, list, since=3),  # BALANCE records
    _key("positions", None, list, since=3),  # POSITION records
)
BALANCE: tuple[Key, ...] = (
    _key("asset", "asset", str, since=3),
    _key("free", "free", str, since=3),
    _key("locked", "locked", str, since=3),
    _key("updatedAt", "updated_at", int, since=3),
)
POSITION: tuple[Key, ...] = (
    _key("positionId", "position_id", str, since=3),
    _key("instrumentId", None, str, since=3),
    _key("quantity", "quantity", str, since=3),
    _key("entryPrice", "entry_price", str, since=3),
    _key("realizedPnl", "realized", str, since=3),
    _key("createdAt", "created_at", int, since=3),
    _key("updatedAt", "updated_at", int, since=3),
    _key("exitPrice", "exit_price", str, NULL, since=3),
    _key("closedAt", "closed_at", int, NULL, since=3),
)

# An RFQ quote (engine/quotes.py; since version 4): its status is derived from the mock
# clock and `acceptedAt`, its price and quantity decimals as strings.
QUOTE: tuple[Key, ...] = (
    _key("quoteId", "quote_id", str, since=4),
    _key("tradingAccountId", "trading_account_id", str, since=4),  # the trader's
    _key("dealerAccountId", "dealer_account_id", str, since=4),
    _key("userId", "user_id", str, since=4),
    _key("instrumentId", None, str, since=4),  # its spec, from the scenario's market
    _key("orderSide", "side", str, since=4),
    _key("quantity", "quantity", str, since=4),
    _key("price", "price", str, since=4),
    _key("createdAt", "created_at", int, since=4),
    _key("expireAt", "expire_at", int, since=4),
    _key("quoteRequestId", "request_id", str, NULL, since=4),
    _key("pricingProfileId", "pricing_profile_id", str, NULL, since=4),
    _key("acceptedAt", "accepted_at", int, NULL, since=4),
)

# Model fields no row holds as they are, and why (the test above reads this): secrets are
# kept as the fingerprints a row makes, derived values are derived again.
NOT_KEPT: Mapping[str, Mapping[str, str]] = {
    "Credential": {
        "api_key": "a secret: the masked form (apiKey) and keyFingerprint",
        "api_secret": "a secret: secretFingerprint",
        "api_passphrase": "a secret: passphraseFingerprint",
        "pasted_masked_key": "read back from apiKey",
        "venue_account": "venueAccount, a fingerprint (none for a scenario record)",
    },
    "TradingAccount": {"venue_account": "venueAccount, a fingerprint"},
    "User": {
        "password": "a secret: passwordFingerprint",
        "tokens": "the scenario's static tokens, never in the file",
        "expired_tokens": "the scenario's static tokens, never in the file",
    },
    "Order": {"spec": "instrumentId, its instrument in the scenario's market"},
    "Quote": {"spec": "instrumentId, its instrument in the scenario's market"},
    "Position": {"spec": "instrumentId, its instrument in the scenario's market"},
    "Portfolio": {"balances": "BALANCE records", "positions": "POSITION records"},
}

# Version N-1 document -> version N document, by N (none yet: version 1 is the first).
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def record_json(keys: tuple[Key, ...], record: Any, **made: Any) -> dict[str, Any]:
    """A record's object in the file: each key from its attribute (a tuple as a list, a
    mapping as a dict) or, for keys without one, from `made`."""
    out: dict[str, Any] = {}
    for key in keys:
        held = made[key.name] if key.attr is None else getattr(record, key.attr)
        if isinstance(held, tuple):
            held = list(held)
        elif isinstance(held, Mapping):
            held = dict(held)
        out[key.name] = held
    return out


def upgrade(document: dict[str, Any], version: int) -> dict[str, Any]:
    """A document of `version` in the shape of `VERSION` (the steps in UPGRADES, in turn)."""
    for step in range(version + 1, VERSION + 1):
        if step in UPGRADES:  # a version that only added keys needs no step
            document = UPGRADES[step](document)
    return document


def readable() -> str:
    """The versions this code reads, for the message that refuses another."""
    if VERSION == FIRST_VERSION:
        return f"version {VERSION} only"
    return f"versions {FIRST_VERSION} to {VERSION}"

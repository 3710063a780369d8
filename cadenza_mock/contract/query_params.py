"""The query parameters of the emulated API's lists, declared once: the parsers
(engine/query.py) read these names and bounds, near-miss hints (engine/hints.py) know
exactly these, and the OpenAPI document states them; the rows (operation_rows_api.py)
carry them. Per wire profile where the profiles name or bound them differently."""

from __future__ import annotations

from collections.abc import Callable

from cadenza_mock.contract.json_schema import UUID, UUID_LIST, ref
from cadenza_mock.contract.market_catalogue import INSTRUMENT_STATUSES, SECURITY_TYPES
from cadenza_mock.contract.model import OPERATION_TYPES, PROFILE_NAMES
from cadenza_mock.contract.operation_type import Param

MAX_LIMIT = 1000
MAX_OFFSET = 10**18 - 1  # 18 digits: what is read of `offset` (the document states it)
# Page sizes of the trading account lists: the docs pages say 10 (at most 100), the
# official client 50.
ACCOUNT_PAGE = {"docs": (10, 100), "sdk": (50, MAX_LIMIT)}
# The credential list's filters per profile: (type, status, ids).
CREDENTIAL_FILTERS = {
    "docs": ("type", "status", "credentialIds"),
    "sdk": ("credentialType", "credentialStatus", "credentialIds"),
}
ACCOUNT_STATUS_NAME = {"docs": "status", "sdk": "accountStatus"}

_CURSOR = {"type": "string", "pattern": "^[0-9]{1,18}$"}


def _credential_filters(profile: str) -> tuple[Param, ...]:
    type_name, status_name, ids_name = CREDENTIAL_FILTERS[profile]
    kinds = (
        Param(type_name, ref("CredentialType"), "only credentials of this type", domain="types"),
        Param(
            status_name,
            ref("CredentialStatus"),
            "only credentials in this status",
            domain="statuses",
        ),
    )
    if profile == "sdk":
        ids = Param(
            ids_name,
            {"type": "array", "items": UUID, "minItems": 1},
            "only these ids, the parameter repeated; unknown ids match nothing (a "
            "comma-separated value is accepted too)",
            form=True,
        )
    else:
        ids = Param(
            ids_name,
            {"type": "string", "pattern": UUID_LIST},
            "comma-separated UUIDs; unknown ids match nothing (the parameter repeated is "
            "accepted too)",
            example="660e8400-e29b-41d4-a716-446655440000",
        )
    return (*kinds, ids)


def _page(default: int, most: int) -> tuple[Param, ...]:
    return (
        Param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": most, "default": default},
            "page size",
        ),
        Param(
            "offset",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            "records to skip",
        ),
    )


def _account_filters(profile: str) -> tuple[Param, ...]:
    return (
        Param("tradingAccountId", UUID, "only this account"),
        Param("venue", ref("Venue"), "only this venue", domain="venues"),
        Param(
            ACCOUNT_STATUS_NAME[profile],
            ref("TradingAccountStatus"),
            "only accounts in this status",
            domain="account_statuses",
        ),
        Param(
            "userId",
            UUID,
            "only this user's (the caller sees only their own: another user's id matches nothing)",
        ),
        Param(
            "tenantId",
            {"type": "string", "minLength": 1},
            "only accounts of users in this tenant (the caller's is appMetadata.tenantId of "
            "GET /auth/user)",
        ),
        *_page(*ACCOUNT_PAGE[profile]),
    )


def _operation_filters(profile: str) -> tuple[Param, ...]:
    stamp = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
    return (
        Param("tradingAccountId", UUID, "only this account's operations"),
        Param(
            "operationType",
            {"type": "string", "enum": list(OPERATION_TYPES)},
            "only operations of this type",
            domain=OPERATION_TYPES,
        ),
        Param("startTime", stamp, "from (ms)"),
        Param("endTime", stamp, "until (ms)"),
        *_page(*ACCOUNT_PAGE[profile]),
        # Read in both profiles, documented for the sdk's.
        Param(
            "cursor",
            _CURSOR,
            "where the previous page ended (its pagination.cursor)",
            documented=profile == "sdk",
        ),
    )


def _per_profile(build: Callable[[str], tuple[Param, ...]]) -> dict[str, tuple[Param, ...]]:
    return {profile: build(profile) for profile in PROFILE_NAMES}


CREDENTIAL_LIST = _per_profile(_credential_filters)
ACCOUNT_LIST = _per_profile(_account_filters)
OPERATION_LIST = _per_profile(_operation_filters)
# The platform document's, one vocabulary in both profiles.
SUBSCRIPTION_LIST = (
    Param("tradingAccountId", UUID, "only this account's subscriptions"),
    *_page(*ACCOUNT_PAGE["sdk"]),
    Param("cursor", _CURSOR, "the offset to go on from (offset wins when both are given)"),
)
# GET /openapi.json (read by its handler, http/meta.py).
DOCUMENT_PROFILE = (
    Param(
        "profile",
        {"type": "string", "enum": list(PROFILE_NAMES)},
        "the wire profile to describe (default: the served one)",
        domain=PROFILE_NAMES,
    ),
)
# The credential list does not page in either profile: a hint says so.
UNPAGED = {
    name: "the credential list does not page: it answers every match (the official "
    "document gives it no limit or offset)"
    for name in ("limit", "offset", "cursor")
}

# The market reads (the platform document's parameters; one vocabulary in both profiles).
MARKET_PAGE = (50, MAX_LIMIT)
BOOK_DEPTH = 10  # a book read's default depth (at most MAX_LIMIT levels a side)
_INSTRUMENT_ID = {"type": "string", "minLength": 1, "description": "VENUE:BASE/QUOTE"}
_MS = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
_DEPTH = Param(
    "depth",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": BOOK_DEPTH},
    "levels a side (at most the instrument's own depth)",
)
_IDS = Param(
    "instrumentIds",
    {"type": "array", "items": _INSTRUMENT_ID, "minItems": 1},
    "only these instruments, the parameter repeated; unknown ids match nothing",
    form=True,
)
_ONE = Param(
    "instrumentId", _INSTRUMENT_ID, "the instrument", example="BINANCE:BTC/USDT", required=True
)
_MARKET_VENUE = Param("venue", ref("Venue"), "only this venue's", domain="venues")
INSTRUMENT_LIST = (
    _MARKET_VENUE,
    Param(
        "symbols",
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "only these BASE/QUOTE symbols, the parameter repeated",
        form=True,
    ),
    Param(
        "securityType",
        {"type": "string", "enum": list(SECURITY_TYPES)},
        "only instruments whose base asset is of this type",
        domain=SECURITY_TYPES,
    ),
    Param(
        "instrumentStatus",
        {"type": "string", "enum": list(INSTRUMENT_STATUSES)},
        "only instruments in this status",
        domain=INSTRUMENT_STATUSES,
    ),
    *_page(*MARKET_PAGE),
)
SECURITY_LIST = (
    _MARKET_VENUE,
    Param("securityId", {"type": "string", "minLength": 1}, "only this VENUE:ASSET"),
    *_page(*MARKET_PAGE),
)
ORDER_BOOK_GET = (_ONE, _DEPTH)
ORDER_BOOK_LIST = (_IDS, _DEPTH)
TICKER_GET = (_ONE,)
TICKER_LIST = (
    _IDS,
    *_page(*MARKET_PAGE),
    Param("cursor", _CURSOR, "where the previous page ended (its pagination.cursor)"),
)
KLINE_INTERVALS = (
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1M",
)  # fmt: skip
KLINE_GET = (
    _ONE,
    Param(
        "interval",
        {"type": "string", "enum": list(KLINE_INTERVALS)},
        "the candle length",
        domain=KLINE_INTERVALS,
        required=True,
    ),
    Param("from", _MS, "open times from (ms, included)"),
    Param("to", _MS, "open times until (ms, included)"),
    Param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": MARKET_PAGE[0]},
        "at most this many candles",
    ),
)
# GET /market/subscription/orderBook/list: the document's one parameter.
ORDER_BOOK_SUBSCRIPTION_LIST = (
    Param(
        "instrumentId", _INSTRUMENT_ID, "only this instrument's (an unknown one matches nothing)"
    ),
)

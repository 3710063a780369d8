"""The query parameters of the emulated API's lists, declared once: the parsers
(engine/query.py) read these names and bounds, near-miss hints (engine/hints.py) know
exactly these, and the OpenAPI document states them; the rows (operation_rows_api.py)
carry them. Per wire profile where the profiles name or bound them differently."""

from __future__ import annotations

from collections.abc import Callable

from cadenza_mock.contract.json_schema import UUID, UUID_LIST, ref
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

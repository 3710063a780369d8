"""JSON shapes on the wire, per profile: the one place that knows field names and order.

Kept free of aiohttp so the store can prebuild response bytes and tests can check shapes
without a server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import (
    AccountOperation,
    Credential,
    ProfileEnums,
    Subscription,
    TradingAccount,
    User,
)

if TYPE_CHECKING:
    from cadenza_mock.contract.model import Session

DEFAULT_MASK_KEEP = 6
MASK_SUFFIX = "***"

# The one JSON encoder of everything the mock sends (HTTP bodies, WebSocket frames, the
# OpenAPI/AsyncAPI documents, journal stream events): compact, UTF-8 as it is, keys in
# the order the shapes below build them. (The state file's readable layout and JWTs, whose
# bytes are a format of their own, are not answers.)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Its C encoder, made once (`encode` makes it again on every call: a tenth of a small
# answer's encoding), without the circular check (`markers`): no shape the mock builds
# refers to itself. Where the C encoder is missing, `encode` itself.
_C_MAKE = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE: Callable[[Any, int], Any] | None = (
    None
    if _C_MAKE is None
    else _C_MAKE(None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",",
                 False, False, True)
)  # fmt: skip


def dumps_text(value: Any) -> str:
    """`value` as compact JSON text: `_ENCODER.encode(value)`, the same characters."""
    if _C_ENCODE is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def dumps(value: Any) -> bytes:
    """Compact, deterministic JSON: the same state always gives the same bytes.

    A lone surrogate (which JSON input may carry as `\\ud800`) goes back out escaped the
    same way instead of failing the whole response.
    """
    return dumps_text(value).encode("utf-8", "backslashreplace")


def health_json(health: dict[str, Any], version: str) -> dict[str, Any]:
    """The health answer (not enveloped, as the official client's Health200Response has
    it) with its ISO twin and the server's version."""
    return {
        "status": health["status"],
        "timestamp": health["timestamp"],
        "isoDateTime": iso_ms(health["timestamp"]),
        "version": version,
        "checks": health["checks"],
    }


def mask_api_key(api_key: str, keep: int = DEFAULT_MASK_KEEP) -> str:
    """The key's first `keep` characters (never more than half the key), then `***`.

    The prefix is kept as it is, whatever its characters (whitespace and control characters
    included): the real API masks the first six characters of whatever was registered, and
    the OpenAPI document's `MaskedApiKey` accepts any prefix.
    """
    return api_key[: min(keep, len(api_key) // 2)] + MASK_SUFFIX


@lru_cache(maxsize=65536)
def iso_ms(ms: int | None) -> str | None:
    """Milliseconds since the epoch as the sdk profile's ISO-8601 UTC twin (remembered:
    the same stamps are formatted on every list and every RPC reply)."""
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"


def credential_docs(cred: Credential, mask_keep: int = DEFAULT_MASK_KEEP) -> dict[str, Any]:
    """The nine fields of the HTTP reference pages, in their documented order; `name`
    omitted when the credential has none (created without one)."""
    body = {
        "credentialId": cred.credential_id,
        "userId": cred.user_id,
        "venue": cred.venue,
        "name": cred.name,
        "type": cred.type,
        "apiKey": cred.pasted_masked_key or mask_api_key(cred.api_key, mask_keep),
        "status": cred.status,
        "createdAt": cred.created_at,
        "updatedAt": cred.updated_at,
    }
    if not cred.name:
        del body["name"]
    return body


def credential_sdk(cred: Credential) -> dict[str, Any]:
    """The generated client's Credential model: no apiKey, no userId, ISO twins. What is
    absent is omitted, never null (the official document types none of it nullable, and
    the Go shapes behind it omit empty fields): `nickname` when none was given,
    `revokedAt` and its twin until revoked."""
    body: dict[str, Any] = {
        "credentialId": cred.credential_id,
        "venue": cred.venue,
        "credentialType": cred.type,
        "nickname": cred.name,
        "status": cred.status,
        "createdAt": cred.created_at,
        "createdAtDateTime": iso_ms(cred.created_at),
        "updatedAt": cred.updated_at,
        "updatedAtDateTime": iso_ms(cred.updated_at),
    }
    if not cred.name:
        del body["nickname"]
    if cred.revoked_at is not None:
        body["revokedAt"] = cred.revoked_at
        body["revokedAtDateTime"] = iso_ms(cred.revoked_at)
    return body


def credential(
    cred: Credential, profile: str, mask_keep: int = DEFAULT_MASK_KEEP
) -> dict[str, Any]:
    if profile == "sdk":
        return credential_sdk(cred)
    return credential_docs(cred, mask_keep)


def root_json(version: str) -> dict[str, Any]:
    """GET /api/v3: what answers here (the official document's root data): the emulated
    API's name and `version`; the mock's own release is in a header."""
    return {
        "name": "Cadenza API (cadenza-mock)",
        "version": version,
        "description": "An offline emulator of the Cadenza API, driven by YAML scenarios",
        "documentation": "/api/v3/openapi.json",
    }


def revoked(cred: Credential, profile: str, mask_keep: int = DEFAULT_MASK_KEEP) -> dict[str, Any]:
    """The revoke answer: in the docs profile the record without its (masked) `apiKey`
    and with `revokedAt`, as the revoke reference page's example shows (the list keeps
    its nine)."""
    if profile == "sdk":
        return credential_sdk(cred)
    body = credential_docs(cred, mask_keep)
    del body["apiKey"]
    return {**body, "revokedAt": cred.revoked_at}


def success(data: Any) -> dict[str, Any]:
    return {"data": data, "success": True, "errno": 0, "error": None}


def success_body(data: Any) -> bytes:
    return dumps(success(data))


def error(err: ApiError, profile: str, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "data": None,
        "success": False,
        "errno": err.errno,
        "error": err.message,
    }
    if profile == "sdk" and err.code:
        # Only what the mock knows: the document types every member as non-null and the
        # Go shape omits empty ones (resource, action, required, provided, tenant_id,
        # metadata).
        details: dict[str, Any] = {"code": err.code}
        if request_id is not None:
            details["request_id"] = request_id
        body["details"] = details
    return body


def error_body(err: ApiError, profile: str, request_id: str | None = None) -> bytes:
    return dumps(error(err, profile, request_id))


def list_body(
    data: list[dict[str, Any]], profile: str, page: dict[str, Any] | None = None
) -> bytes:
    """The list envelope; the sdk profile adds `pagination` after the envelope keys."""
    body = success(data)
    if profile == "sdk" and page is not None:
        body["pagination"] = page
    return dumps(body)


# Records serialized at a time by credential_list_body.
_CHUNK = 2000
_OPENING = b'{"data":['


def credential_list_body(
    creds: Sequence[Credential],
    profile: str,
    mask_keep: int = DEFAULT_MASK_KEEP,
    page: dict[str, Any] | None = None,
) -> bytes:
    """`list_body` of the credentials' wire form, built a chunk of records at a time: the
    same bytes, but a 100,000-record answer never holds 100,000 dicts at once."""
    envelope = list_body([], profile, page)
    parts = [
        dumps([credential(c, profile, mask_keep) for c in creds[at : at + _CHUNK]])[1:-1]
        for at in range(0, len(creds), _CHUNK)
    ]
    return _OPENING + b",".join(parts) + envelope[len(_OPENING) :]


def verify_docs(
    credential_id: str, venue: str, verified: bool, identities: list[str]
) -> dict[str, Any]:
    return {
        "credentialId": credential_id,
        "venue": venue,
        "status": "VERIFIED" if verified else "FAILED",
        "identities": identities,
    }


def trading_account(
    account: TradingAccount, creds: list[Credential], profile: str, enums: ProfileEnums
) -> dict[str, Any]:
    """A trading account: the official client's TradingAccount (credentials inside, ISO
    twins) in the sdk profile; the eight fields of the HTTP reference pages in docs."""
    status = enums.account_status_out(account.status)
    if profile != "sdk":
        return {
            "tradingAccountId": account.trading_account_id,
            "userId": account.user_id,
            "venue": account.venue,
            "name": account.nickname,
            "accountType": account.account_type,
            "status": status,
            "createdAt": account.created_at,
            "updatedAt": account.updated_at,
        }
    return {
        "tradingAccountId": account.trading_account_id,
        "externalTradingAccountId": account.external_id,
        "venue": account.venue,
        "nickname": account.nickname,
        "accountType": account.account_type,
        "externalAccountType": account.external_account_type,
        "credentials": [credential_sdk(c) for c in creds],
        "status": status,
        "createdAt": account.created_at,
        "createdAtDateTime": iso_ms(account.created_at),
        "updatedAt": account.updated_at,
        "updatedAtDateTime": iso_ms(account.updated_at),
    }


def disconnected(
    account: dict[str, Any], disconnected_at: int | None, profile: str
) -> dict[str, Any]:
    """The disconnect answer: the docs reference page adds `disconnectedAt`."""
    if profile == "sdk":
        return account
    return {**account, "disconnectedAt": disconnected_at}


def operation(op: AccountOperation, profile: str) -> dict[str, Any]:
    """One entry of the operation history (the official client's AccountOperation)."""
    body: dict[str, Any] = {
        "operationId": op.operation_id,
        "tradingAccountId": op.trading_account_id,
        "operationType": op.operation_type,
        "status": op.status,
        "createdAt": op.created_at,
    }
    if profile == "sdk":
        body["createdAtDateTime"] = iso_ms(op.created_at)
    return body


def subscription(sub: Subscription) -> dict[str, Any]:
    """A trading account subscription (the platform document's `subscription`), the same
    in both profiles: the docs pages have no such shape."""
    return {
        "subscriptionId": sub.subscription_id,
        "venue": sub.venue,
        "tradingAccountId": sub.trading_account_id,
        "subscriptionType": sub.subscription_type,
        "status": sub.status,
        "createdAt": sub.created_at,
        "createdAtDateTime": iso_ms(sub.created_at),
        "updatedAt": sub.updated_at,
        "updatedAtDateTime": iso_ms(sub.updated_at),
    }


def account_inspect(account: TradingAccount, enums: ProfileEnums) -> dict[str, Any]:
    """A stored trading account for test assertions and admin dumps (no secrets to hide:
    credentials are named by id)."""
    return {
        "tradingAccountId": account.trading_account_id,
        "userId": account.user_id,
        "venue": account.venue,
        "externalTradingAccountId": account.external_id,
        "nickname": account.nickname,
        "accountType": account.account_type,
        "externalAccountType": account.external_account_type,
        "credentialIds": list(account.credential_ids),
        "status": enums.account_status_out(account.status),
        "createdAt": account.created_at,
        "updatedAt": account.updated_at,
        "disconnectedAt": account.disconnected_at,
    }


def user_json(user: User) -> dict[str, Any]:
    """The auth user (the official document's authUser): ISO timestamps, `appMetadata` as
    the document shapes it (tenantId, environments), `userMetadata` as set."""
    return {
        "id": user.user_id,
        "email": user.email,
        "role": user.role,
        "createdAt": iso_ms(user.created_at),
        "updatedAt": iso_ms(user.updated_at if user.updated_at is not None else user.created_at),
        "appMetadata": {"tenantId": user.tenant_id, "environments": list(user.environments)},
        "userMetadata": dict(user.user_metadata),
    }


def session_json(session: Session, expires_in: int) -> dict[str, Any]:
    return {
        "accessToken": session.access_token,
        "refreshToken": session.refresh_token,
        "tokenType": "bearer",
        "expiresIn": expires_in,
        "expiresAt": session.expires_at_ms // 1000,
        "user": user_json(session.user),
    }


def credential_inspect(cred: Credential, mask_keep: int = DEFAULT_MASK_KEEP) -> dict[str, Any]:
    """A stored record for test assertions and admin dumps: every field but the secrets
    (`name` even when empty, which the API's answers omit)."""
    shown = credential_docs(cred, mask_keep)
    shown.setdefault("name", cred.name)
    return {
        **shown,
        "revokedAt": cred.revoked_at,
        "keysValid": cred.keys_valid,
        "venueOutcome": cred.venue_outcome,
        "hasApiSecret": cred.api_secret is not None,
        "hasApiPassphrase": cred.api_passphrase is not None,
    }

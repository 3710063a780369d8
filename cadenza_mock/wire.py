"""JSON shapes on the wire, per profile: the one place that knows field names and order.

Kept free of aiohttp so the store can prebuild response bytes and tests can check shapes
without a server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cadenza_mock.errors import ApiError
from cadenza_mock.model import Credential

DEFAULT_MASK_KEEP = 6
MASK_SUFFIX = "***"

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(value: Any) -> bytes:
    """Compact, deterministic JSON: the same state always gives the same bytes."""
    return _dumps(value).encode()


def mask_api_key(api_key: str, keep: int = DEFAULT_MASK_KEEP) -> str:
    """Keep a short prefix (never more than half the key) and append `***`.

    A key that already ends in `***` was pasted from a real response and is served as is.
    """
    if api_key.endswith(MASK_SUFFIX):
        return api_key
    return api_key[: min(keep, len(api_key) // 2)] + MASK_SUFFIX


def iso_ms(ms: int | None) -> str | None:
    """Milliseconds since the epoch as the sdk profile's ISO-8601 UTC twin."""
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"


def credential_docs(cred: Credential, mask_keep: int = DEFAULT_MASK_KEEP) -> dict[str, Any]:
    """The nine fields of the HTTP reference pages, in their documented order."""
    return {
        "credentialId": cred.credential_id,
        "userId": cred.user_id,
        "venue": cred.venue,
        "name": cred.name,
        "type": cred.type,
        "apiKey": mask_api_key(cred.api_key, mask_keep),
        "status": cred.status,
        "createdAt": cred.created_at,
        "updatedAt": cred.updated_at,
    }


def credential_sdk(cred: Credential) -> dict[str, Any]:
    """The generated client's Credential model: no apiKey, no userId, ISO twins."""
    return {
        "credentialId": cred.credential_id,
        "venue": cred.venue,
        "credentialType": cred.type,
        "nickname": cred.name,
        "status": cred.status,
        "createdAt": cred.created_at,
        "createdAtDateTime": iso_ms(cred.created_at),
        "updatedAt": cred.updated_at,
        "updatedAtDateTime": iso_ms(cred.updated_at),
        "revokedAt": cred.revoked_at,
        "revokedAtDateTime": iso_ms(cred.revoked_at),
    }


def credential(
    cred: Credential, profile: str, mask_keep: int = DEFAULT_MASK_KEEP
) -> dict[str, Any]:
    if profile == "sdk":
        return credential_sdk(cred)
    return credential_docs(cred, mask_keep)


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
        body["details"] = {
            "code": err.code,
            "resource": None,
            "action": None,
            "required": None,
            "provided": None,
            "tenant_id": None,
            "request_id": request_id,
            "metadata": None,
        }
    return body


def error_body(err: ApiError, profile: str, request_id: str | None = None) -> bytes:
    return dumps(error(err, profile, request_id))

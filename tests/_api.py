"""A thin client over the mock's HTTP API for the lifecycle, auth and sdk-profile tests.

It speaks both wire profiles, so one test body can run against either: the helpers pick
the profile's field names (name/nickname, type/credentialType) and verify body shape.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from support import ALICE, LIST

CREATE = "/api/v3/credential/create"
VERIFY = "/api/v3/credential/verify"
ROTATE = "/api/v3/credential/rotate"
REVOKE = "/api/v3/credential/revoke"
LOGIN = "/api/v3/auth/login"
REFRESH = "/api/v3/auth/token/refresh"
LOGOUT = "/api/v3/auth/logout"
USER = "/api/v3/auth/user"
CLOCK = "/__admin/clock"
STORED = "/__admin/credentials"
JOURNAL = "/__admin/requests"

ENVELOPE_KEYS = ["data", "success", "errno", "error"]
DOCS_FIELDS = [
    "credentialId",
    "userId",
    "venue",
    "name",
    "type",
    "apiKey",
    "status",
    "createdAt",
    "updatedAt",
]
SDK_FIELDS = [
    "credentialId",
    "venue",
    "credentialType",
    "nickname",
    "status",
    "createdAt",
    "createdAtDateTime",
    "updatedAt",
    "updatedAtDateTime",
]
# What a revoked sdk credential adds (absent, never null, before: the official document).
SDK_REVOKED_FIELDS = [*SDK_FIELDS, "revokedAt", "revokedAtDateTime"]
# The official client's TradingAccount, in the order the sdk profile serves it.
SDK_ACCOUNT_KEYS = [
    "tradingAccountId",
    "externalTradingAccountId",
    "venue",
    "nickname",
    "accountType",
    "externalAccountType",
    "credentials",
    "status",
    "createdAt",
    "createdAtDateTime",
    "updatedAt",
    "updatedAtDateTime",
]
# The sdk error's `details`: what the mock knows; the document's other members (resource,
# action, required, provided, tenant_id, metadata) are omitted, never null.
DETAILS_KEYS = ["code", "request_id"]
# From scenarios/default.yaml: alice, her documented BINANCE record and its full key.
ALICE_ID = "4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11"
DOCUMENTED_ID = "660e8400-e29b-41d4-a716-446655440000"
DOCUMENTED_KEY = "abc123def456ghi789jkl012mno345pqr678stu901vwx234yz567ABC890DEFG"
OKX_ID = "82eb2374-634d-418a-9a46-01745e724b71"  # the "OKX trading desk" record
REVOKED_ID = "fe6a2a17-543f-463b-8143-5abb327fa110"  # the generated REVOKED record
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
# The default scenario's `now: "2026-01-15T12:00:00Z"` in ms.
DEFAULT_NOW_MS = int(datetime(2026, 1, 15, 12, tzinfo=UTC).timestamp()) * 1000
# The Cadenza API reference, verify: the identities valid keys reach per venue.
DOCUMENTED_IDENTITIES = {
    "BINANCE": ["spot", "margin", "isolated_margin", "futures", "coin_futures"],
    "OKX": ["trading", "funding"],
    "BYBIT": ["unified", "contract", "spot", "fund"],
    "COINBASE": ["default"],
    "KRAKEN": ["spot", "futures"],
}


def iso_from_ms(ms: int) -> str:
    """The sdk's ISO twin of a ms timestamp, computed apart from contract/wire.py."""
    stamp = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class Api:
    """One mock (a TestClient) spoken to in one profile."""

    def __init__(self, client: TestClient, profile: str) -> None:
        self.client = client
        self.profile = profile
        self.sdk = profile == "sdk"
        self.name_field = "nickname" if self.sdk else "name"
        self.type_field = "credentialType" if self.sdk else "type"
        self.fields = SDK_FIELDS if self.sdk else DOCS_FIELDS
        self.created_status = "CREATED" if self.sdk else "ACTIVE"
        self.responses: list[bytes] = []  # every body received, for the secrets checks

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = ALICE,
        params: Any = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        if body is not None and raw is None:  # labelled, as admin bodies must be
            headers = {"Content-Type": "application/json", **(headers or {})}
        response = await self.client.request(
            method, path, data=data, headers=headers, params=params
        )
        payload = await response.read()
        self.responses.append(payload)
        return response.status, json.loads(payload)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("POST", path, body, **kwargs)

    async def ok(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        """POST expecting success; the envelope checked, `data` returned."""
        status, payload = await self.post(path, body, **kwargs)
        assert status == 200, payload
        assert list(payload)[:4] == ENVELOPE_KEYS
        assert payload["success"] is True and payload["errno"] == 0 and payload["error"] is None
        return payload["data"]

    async def list_bytes(self, headers: dict[str, str] = ALICE) -> bytes:
        response = await self.client.get(LIST, headers=headers)
        assert response.status == 200
        payload = await response.read()
        self.responses.append(payload)
        return payload

    async def items(self, headers: dict[str, str] = ALICE) -> dict[str, dict[str, Any]]:
        return {i["credentialId"]: i for i in json.loads(await self.list_bytes(headers))["data"]}

    async def snapshot(self) -> tuple[bytes, bytes]:
        """The list as alice sees it and every stored record: what an error must not change."""
        stored = await (await self.client.get(STORED)).read()
        return await self.list_bytes(), stored

    async def stored(self, credential_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{STORED}/{credential_id}")
        assert response.status == 200
        return (await response.json())["data"]

    async def now_ms(self) -> int:
        return (await (await self.client.get(CLOCK)).json())["data"]["now"]

    def create_body(
        self,
        *,
        venue: str = "BINANCE",
        api_key: str = "newKey0123456789abcdef",
        api_secret: str = "new-secret-0123456789",
        name: str = "created by a test",
        **extra: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "venue": venue,
            self.name_field: name,
            "apiKey": api_key,
            "apiSecret": api_secret,
        }
        if self.sdk:
            body["credentialType"] = "API_KEY"
        return {**body, **extra}

    async def create(self, **kwargs: Any) -> dict[str, Any]:
        return await self.ok(CREATE, self.create_body(**kwargs))

    def verify_body(self, *ids: str) -> dict[str, Any]:
        if not self.sdk and len(ids) == 1:
            return {"credentialId": ids[0]}
        return {"credentialIds": list(ids)}


def assert_error(status: int, payload: Any, want_status: int, errno: int) -> str:
    """The Cadenza error envelope with this status and errno; returns the message."""
    assert status == want_status, payload
    assert list(payload)[:4] == ENVELOPE_KEYS
    assert payload["data"] is None and payload["success"] is False
    assert payload["errno"] == errno, payload
    assert isinstance(payload["error"], str) and payload["error"]
    return payload["error"]

"""What the OpenAPI document says of each emulated-API operation beyond its row in the
route table (answers, parameters, links), apart from the assembler in openapi.py."""

from __future__ import annotations

from typing import Any

from cadenza_mock.contract.model import OPERATION_TYPES, PROFILE_NAMES
from cadenza_mock.engine.query import ACCOUNT_PAGE, MAX_OFFSET
from cadenza_mock.specs.openapi_schemas import EPOCH_MS, ISO_MS, UUID, UUID_LIST, ref, strict


def _list_parameters(profile: str) -> list[dict[str, Any]]:
    if profile == "sdk":
        return [
            {
                "name": "credentialType",
                "in": "query",
                "schema": ref("CredentialType"),
                "description": "only credentials of this type",
            },
            {
                "name": "credentialStatus",
                "in": "query",
                "schema": ref("CredentialStatus"),
                "description": "only credentials in this status",
            },
            {
                "name": "credentialIds",
                "in": "query",
                "style": "form",
                "explode": True,
                "schema": {"type": "array", "items": UUID, "minItems": 1},
                "description": "only these ids, the parameter repeated; unknown ids match "
                "nothing (a comma-separated value is accepted too)",
            },
        ]
    return [
        {
            "name": "type",
            "in": "query",
            "schema": ref("CredentialType"),
            "description": "only credentials of this type",
        },
        {
            "name": "status",
            "in": "query",
            "schema": ref("CredentialStatus"),
            "description": "only credentials in this status",
        },
        {
            "name": "credentialIds",
            "in": "query",
            "schema": {"type": "string", "pattern": UUID_LIST},
            "description": "comma-separated UUIDs; unknown ids match nothing (the parameter "
            "repeated is accepted too)",
            "example": "660e8400-e29b-41d4-a716-446655440000",
        },
    ]


_CREDENTIAL_ID = "$response.body#/data/credentialId"


def _credential_links(profile: str) -> dict[str, Any]:
    """What can be done next with the credential a call answered (OpenAPI links).

    A `requestBody` names only the field the answer provides, a runtime expression embedded
    in the body; the caller (or a fuzzer such as schemathesis) supplies the rest.
    """
    ids: Any = [_CREDENTIAL_ID] if profile == "sdk" else _CREDENTIAL_ID
    verify_field = "credentialIds" if profile == "sdk" else "credentialId"

    def link(operation_id: str, description: str, **target: Any) -> dict[str, Any]:
        return {"operationId": operation_id, "description": description, **target}

    return {
        "verify": link("verifyCredential", "Verify its keys", requestBody={verify_field: ids}),
        "rotate": link(
            "rotateCredential",
            "Replace its secrets (apiKey, apiSecret from the caller)",
            requestBody={"credentialId": _CREDENTIAL_ID},
        ),
        "revoke": link(
            "revokeCredential", "Revoke it", requestBody={"credentialId": _CREDENTIAL_ID}
        ),
        "inspect": link(
            "adminGetCredential",
            "The stored record (admin API)",
            parameters={"path.credentialId": _CREDENTIAL_ID},
        ),
    }


# Health and root report the API version emulated; the mock's own release is here.
_MOCK_VERSION = {
    "X-Cadenza-Mock-Version": {
        "description": "cadenza-mock's own release (the body's version is the emulated API's)",
        "schema": {"type": "string"},
    }
}


def api_details(profile: str) -> dict[str, dict[str, Any]]:
    """What the document says of each API operation beyond its row in the table."""
    credential = ref("Credential")
    links = _credential_links(profile)
    if profile == "sdk":
        verify_data: dict[str, Any] = {"type": "array", "items": ref("TradingAccount")}
        revoked: dict[str, Any] = credential
        list_extra: dict[str, Any] = {"pagination": ref("Pagination")}
    else:
        verify_data = {
            "oneOf": [
                ref("VerifyResult"),
                {"type": "array", "items": ref("VerifyResult")},
            ],
            "description": "one result for {credentialId}, a list for {credentialIds}",
        }
        revoked = ref("RevokedCredential")
        list_extra = {}
    return {
        "listCredentials": {
            "data": {"type": "array", "items": credential},
            "parameters": _list_parameters(profile),
            "envelope_extra": list_extra,
        },
        "createCredential": {"data": credential, "links": links},
        "verifyCredential": {
            "data": verify_data,
            "summary_extra": ": the trading accounts they reach" if profile == "sdk" else "",
        },
        "rotateCredential": {"data": credential, "links": links},
        "revokeCredential": {"data": revoked},
        **_account_details(profile, list_extra),
        **_subscription_details(),
        "login": {"data": ref("Session")},
        "signup": {"data": ref("Session")},
        "recoverPassword": {"data": {"const": "ok"}},
        "refreshToken": {"data": ref("Session")},
        "logout": {"data": {"type": "string"}},
        "getUser": {"data": ref("User")},
        "updateUser": {"data": ref("User")},
        "getHealth": {
            "data": {},
            "headers": _MOCK_VERSION,
            "success_schema": strict(
                {
                    "status": {"enum": ["healthy", "degraded", "unhealthy"]},
                    "timestamp": EPOCH_MS,
                    "isoDateTime": ISO_MS,
                    "version": {"type": "string"},
                    "checks": {
                        "type": "object",
                        "additionalProperties": strict(
                            {"status": {"enum": ["healthy", "degraded", "unhealthy"]}}
                        ),
                    },
                }
            ),
        },
        "getRoot": {
            "headers": _MOCK_VERSION,
            "data": strict(
                {
                    "name": {"type": "string"},
                    "version": {"type": "string"},
                    "description": {"type": "string"},
                    "documentation": {"type": "string"},
                }
            ),
        },
        "getAsyncApiDocument": {
            "data": {},
            "success_schema": {"type": "object", "required": ["asyncapi", "channels"]},
        },
        "getOpenApiDocument": {
            "data": {},
            "parameters": [
                {
                    "name": "profile",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(PROFILE_NAMES)},
                    "description": "the wire profile to describe (default: the served one)",
                }
            ],
            "success_schema": {"type": "object", "required": ["openapi", "paths"]},
        },
    }


def _account_parameters(profile: str) -> list[dict[str, Any]]:
    default, most = ACCOUNT_PAGE[profile]
    return [
        {
            "name": "tradingAccountId",
            "in": "query",
            "schema": UUID,
            "description": "only this account",
        },
        {"name": "venue", "in": "query", "schema": ref("Venue"), "description": "only this venue"},
        {
            "name": "accountStatus" if profile == "sdk" else "status",
            "in": "query",
            "schema": ref("TradingAccountStatus"),
            "description": "only accounts in this status",
        },
        {
            "name": "userId",
            "in": "query",
            "schema": UUID,
            "description": "only this user's (the caller sees only their own: another "
            "user's id matches nothing)",
        },
        {
            "name": "tenantId",
            "in": "query",
            "schema": {"type": "string", "minLength": 1},
            "description": "only accounts of users in this tenant (the caller's is "
            "appMetadata.tenantId of GET /auth/user)",
        },
        *_page_parameters(default, most),
    ]


def _page_parameters(default: int, most: int) -> list[dict[str, Any]]:
    return [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": most, "default": default},
            "description": "page size",
        },
        {
            "name": "offset",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            "description": "records to skip",
        },
    ]


def _operation_parameters(profile: str) -> list[dict[str, Any]]:
    default, most = ACCOUNT_PAGE[profile]
    stamp = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
    found: list[dict[str, Any]] = [
        {
            "name": "tradingAccountId",
            "in": "query",
            "schema": UUID,
            "description": "only this account's operations",
        },
        {
            "name": "operationType",
            "in": "query",
            "schema": {"type": "string", "enum": list(OPERATION_TYPES)},
            "description": "only operations of this type",
        },
        {"name": "startTime", "in": "query", "schema": stamp, "description": "from (ms)"},
        {"name": "endTime", "in": "query", "schema": stamp, "description": "until (ms)"},
        *_page_parameters(default, most),
    ]
    if profile == "sdk":
        found.append(
            {
                "name": "cursor",
                "in": "query",
                "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                "description": "where the previous page ended (its pagination.cursor)",
            }
        )
    return found


def _account_details(profile: str, list_extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The trading account operations: the account answers, the two lists."""
    account = {"data": ref("TradingAccount")}
    disconnected = ref("TradingAccount" if profile == "sdk" else "DisconnectedTradingAccount")
    return {
        "connectTradingAccount": account,
        "disconnectTradingAccount": {"data": disconnected},
        "enableTradingAccount": account,
        "disableTradingAccount": account,
        "updateTradingAccount": account,
        "listTradingAccounts": {
            "data": {"type": "array", "items": ref("TradingAccount")},
            "parameters": _account_parameters(profile),
            "envelope_extra": list_extra,
        },
        "listTradingAccountOperations": {
            "data": {"type": "array", "items": ref("AccountOperation")},
            "parameters": _operation_parameters(profile),
            "envelope_extra": list_extra,
        },
    }


def _subscription_details() -> dict[str, dict[str, Any]]:
    """The trading account subscription operations (the platform document's, one shape in
    both profiles)."""
    subscription = {"data": ref("TradingAccountSubscription")}
    parameters = [
        {
            "name": "tradingAccountId",
            "in": "query",
            "schema": UUID,
            "description": "only this account's subscriptions",
        },
        *_page_parameters(*ACCOUNT_PAGE["sdk"]),
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
            "description": "the offset to go on from (offset wins when both are given)",
        },
    ]
    return {
        "subscribeTradingAccount": subscription,
        "unsubscribeTradingAccount": subscription,
        "listTradingAccountSubscriptions": {
            "data": {"type": "array", "items": ref("TradingAccountSubscription")},
            "parameters": parameters,
        },
    }

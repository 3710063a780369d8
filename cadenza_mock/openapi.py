"""The OpenAPI 3.1 document of the emulated API, one per wire profile.

The document is plain data built from the same declarations the server uses (profile enums,
errno catalogue, request body schemas), so it cannot drift from them silently; the test
suite checks every response the server sends against it (`ResponseChecker`). No aiohttp
here: the document is importable, printable and checkable without a server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from cadenza_mock.engine.clock import MAX_ADVANCE_SECONDS
from cadenza_mock.engine.hints import HINT_HEADER, MAX_HINT_HEADER
from cadenza_mock.engine.namespaces import DEFAULT_NAMESPACE, NAME_PATTERN
from cadenza_mock.engine.query import ACCOUNT_PAGE, MAX_OFFSET
from cadenza_mock.errors import CATALOGUE, ErrorKind
from cadenza_mock.model import OPERATION_TYPES, PROFILE_NAMES, PROFILES
from cadenza_mock.openapi_schemas import (
    EPOCH_MS,
    ISO_MS,
    UUID,
    UUID_LIST,
    component_schemas,
    loose,
    ref,
    strict,
)
from cadenza_mock.operations import DASHBOARD_ASSETS, OPERATIONS, SSE_EVENTS, Operation
from cadenza_mock.version import __version__

OPENAPI_VERSION = "3.1.0"
ENVELOPE_KEYS = ("data", "success", "errno", "error")

_ADVANCE = {"type": "number", "minimum": 0, "maximum": MAX_ADVANCE_SECONDS, "default": 0}

# ------------------------------------------------------------------------------ errors


@cache
def _meaning(errno: int) -> str:
    """Why an errno is sent: the meanings of the catalogue rows that carry it."""
    return "; ".join(dict.fromkeys(k.meaning for k in CATALOGUE if k.errno == errno))


def _by_status(kinds: Iterable[ErrorKind]) -> dict[int, tuple[int, ...]]:
    """{status: errnos} of the catalogue rows an operation can answer."""
    found: dict[int, dict[int, None]] = {}
    for kind in kinds:
        found.setdefault(kind.status, {})[kind.errno] = None
    return {status: tuple(errnos) for status, errnos in sorted(found.items())}


def _error_envelope(profile: str, errnos: Iterable[int] | None) -> dict[str, Any]:
    """The error envelope; `errnos` pins the errno values one response may carry."""
    errno: dict[str, Any] = {"type": "integer"}
    if errnos is not None:
        errno["enum"] = sorted(set(errnos), reverse=True)
    properties: dict[str, Any] = {
        "data": {"type": "null"},
        "success": {"const": False},
        "errno": errno,
        "error": {"type": "string", "minLength": 1},
    }
    if profile == "sdk":
        properties["details"] = ref("ErrorDetails")
    return strict(properties, ENVELOPE_KEYS)


def _error_response(profile: str, status: int, errnos: tuple[int, ...]) -> dict[str, Any]:
    reasons = "; ".join(f"{n}: {_meaning(n)}" for n in errnos)
    response: dict[str, Any] = {
        "description": f"Error envelope ({reasons})",
        "content": {"application/json": {"schema": _error_envelope(profile, errnos)}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
    if status == 405:
        response["headers"] = {"Allow": {"schema": {"type": "string"}}}
    return response


# ------------------------------------------------------------------------------ schemas


def _success(data: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The success envelope around `data`; `extra` adds optional keys after the four."""
    schema = strict(
        {
            "data": dict(data),
            "success": {"const": True},
            "errno": {"const": 0},
            "error": {"type": "null"},
            **extra,
        },
        ENVELOPE_KEYS,
    )
    return schema


# ------------------------------------------------------------------------------ paths


def _operation(profile: str, op: Operation, detail: Mapping[str, Any]) -> dict[str, Any]:
    """One operation of the document: the table's row, plus what only the document says
    (the answer's shape, parameters, links, a body of the operation's own)."""
    summary = op.summary + detail.get("summary_extra", "")
    content = detail.get("content")  # an answer that is not JSON (the dashboard, a stream)
    if content is None:
        schema = detail.get("success_schema") or _success(
            detail["data"], **detail.get("envelope_extra", {})
        )
        content = {"application/json": {"schema": schema}}
    responses: dict[str, Any] = {"200": {"description": summary, "content": dict(content)}}
    if "links" in detail:
        responses["200"]["links"] = dict(detail["links"])
    if "headers" in detail:
        responses["200"]["headers"] = dict(detail["headers"])
    for status, errnos in _by_status(op.answers).items():
        responses[str(status)] = _error_response(profile, status, errnos)
    if op.tag != "admin":  # near-miss hints: never on the admin API
        for response in responses.values():
            response.setdefault("headers", {})[HINT_HEADER] = {
                "$ref": "#/components/headers/NearMissHint"
            }
    responses["default"] = {"$ref": "#/components/responses/InjectedError"}
    result: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": summary,
        "tags": [op.tag],
        "responses": responses,
    }
    parameters = [*detail.get("parameters", ()), *([_NAMESPACE_PARAMETER] * op.namespaced)]
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(op.body)}},
        }
    elif "request_body" in detail:
        result["requestBody"] = detail["request_body"]
    if op.auth in ("public", "probe", "page"):
        result["security"] = []
    elif op.auth == "admin":
        result["security"] = [{"adminToken": []}, {}]
    return result


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


def _api_details(profile: str) -> dict[str, dict[str, Any]]:
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


_NAMESPACE_PARAMETER = {"$ref": "#/components/parameters/Namespace"}
_NAMESPACE_NAME = {"type": "string", "pattern": f"^{NAME_PATTERN.pattern}$"}
_ANY_NAMESPACE = f"{DEFAULT_NAMESPACE}|{NAME_PATTERN.pattern}"
_BY_USER = {
    "name": "user",
    "in": "query",
    "schema": {"type": "string"},
    "description": "only this user's (id or email)",
}


def _path_parameter(name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": dict(schema)}


# A scenario sent to the admin API: by name, as JSON, or as a YAML document.
_SCENARIO_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    strict({"name": {"type": "string", "minLength": 1}}),
                    strict({"scenario": ref("AdminScenarioFile")}),
                ]
            }
        },
        "application/yaml": {"schema": ref("AdminScenarioFile")},
    },
}


def _admin_details() -> dict[str, dict[str, Any]]:
    """What the document says of each admin operation beyond its row in the table."""
    journal = {"type": "array", "items": ref("AdminJournalEntry")}
    snapshot = strict({"id": {"type": "string"}, "scenario": {"type": "string"}})
    return {
        "adminHealth": {"data": ref("AdminHealth")},
        "adminReset": {"data": loose({"scenario": {"type": "string"}})},
        "adminGetScenario": {"data": ref("AdminScenario")},
        "adminPutScenario": {
            "data": ref("AdminScenario"),
            "parameters": [
                {
                    "name": "name",
                    "in": "query",
                    "schema": {"type": "string", "minLength": 1},
                    "description": "a bundled scenario's name, or a file in the "
                    "server's scenario folder(s); the body is then not read",
                },
            ],
            "request_body": _SCENARIO_BODY,
        },
        "adminGetRequests": {"data": journal},
        "adminStreamRequests": {
            "content": {
                "text/event-stream": {
                    # One event, as SSE tools (schemathesis) read it: fields as strings.
                    "schema": {
                        "type": "object",
                        "description": "`event: request` with `id:` the entry's seq and "
                        "`data:` one AdminJournalEntry as JSON, per entry, oldest first; "
                        "`event: cleared` when the journal is emptied; `event: reset` "
                        "(`data: {scenario}`) before the stream ends on a reset or load; "
                        "`: keep-alive` comments on a quiet stream",
                        "required": ["event", "data"],
                        "properties": {
                            "event": {"enum": list(SSE_EVENTS)},
                            "id": {"type": "string", "pattern": "^[1-9][0-9]*$"},
                            "data": {
                                "type": "string",
                                "contentMediaType": "application/json",
                            },
                        },
                    }
                }
            }
        },
        "adminReloadScenario": {"data": ref("AdminScenario")},
        "adminDashboard": {"content": {"text/html": {"schema": {"type": "string"}}}},
        "adminDashboardAsset": {
            "content": {kind: {"schema": {"type": "string"}} for kind in DASHBOARD_ASSETS.values()},
            "parameters": [
                _path_parameter("asset", {"type": "string", "enum": list(DASHBOARD_ASSETS)})
            ],
        },
        "adminDeleteRequests": {"data": loose({"cleared": {"const": True}})},
        "adminArmFault": {
            "data": ref("AdminArmedFault"),
            "request_body": {
                "required": True,
                "content": {
                    "application/json": {"schema": ref("AdminFault")},
                    "application/yaml": {"schema": ref("AdminFault")},
                },
            },
        },
        "adminListFaults": {"data": {"type": "array", "items": ref("AdminArmedFault")}},
        "adminClearFaults": {"data": loose({"cleared": {"type": "integer", "minimum": 0}})},
        "adminDeleteFault": {
            "data": loose({"cleared": {"type": "integer"}, "id": {"type": "string"}}),
            "parameters": [_path_parameter("faultId", {"type": "string"})],
        },
        "adminTakeSnapshot": {"data": snapshot},
        "adminRestoreSnapshot": {
            "data": snapshot,
            "parameters": [_path_parameter("snapshotId", {"type": "string"})],
        },
        "adminCreateNamespace": {
            "data": ref("AdminCreatedNamespace"),
            "parameters": [
                {
                    "name": "namespace",
                    "in": "query",
                    "schema": _NAMESPACE_NAME,
                    "description": "its name (default: a fresh one)",
                },
                {
                    "name": "name",
                    "in": "query",
                    "schema": {"type": "string", "minLength": 1},
                    "description": "a bundled scenario's name, or a file in the server's "
                    "scenario folder(s); with no body either, the server's own scenario",
                },
            ],
            "request_body": _SCENARIO_BODY,
        },
        "adminListNamespaces": {"data": {"type": "array", "items": ref("AdminNamespace")}},
        "adminDeleteNamespace": {
            "data": strict({"deleted": {"type": "string"}}),
            "parameters": [_path_parameter("name", _NAMESPACE_NAME)],
        },
        "adminGetClock": {"data": ref("AdminClock")},
        "adminAdvanceClock": {
            "data": ref("AdminClock"),
            "parameters": [{"name": "advance", "in": "query", "schema": _ADVANCE}],
            "request_body": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"advance": _ADVANCE}}
                    }
                },
            },
        },
        "adminListCredentials": {
            "data": {"type": "array", "items": ref("AdminCredential")},
            "parameters": [_BY_USER],
        },
        "adminGetCredential": {
            "data": ref("AdminCredential"),
            "parameters": [_path_parameter("credentialId", UUID)],
        },
        "adminListTradingAccounts": {
            "data": {"type": "array", "items": ref("AdminTradingAccount")},
            "parameters": [_BY_USER],
        },
        "adminGetTradingAccount": {
            "data": ref("AdminTradingAccount"),
            "parameters": [_path_parameter("tradingAccountId", UUID)],
        },
    }


def _paths(profile: str) -> dict[str, Any]:
    """Every operation of the table, with its details, by path and method."""
    details = {**_api_details(profile), **_admin_details()}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(
            profile, op, details[op.operation_id]
        )
    return paths


def _build(profile: str) -> dict[str, Any]:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (allowed: {', '.join(PROFILE_NAMES)})")
    other = "sdk" if profile == "docs" else "docs"
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"Cadenza credential API (cadenza-mock, {profile} profile)",
            "version": __version__,
            "description": (
                "The Cadenza credential API as cadenza-mock emulates it, in the "
                f"`{profile}` wire profile (`?profile={other}` gives the other one). Every "
                "answer is the envelope `{data, success, errno, error}`, keys in that order. "
                "Statuses 429 and 500 come only from injected faults; an armed fault may "
                "also answer any status (the `default` response)."
            ),
        },
        "servers": [{"url": "/", "description": "the mock serving this document"}],
        "tags": [
            {"name": "credentials", "description": "venue API keys of the calling user"},
            {
                "name": "trading accounts",
                "description": "venue accounts connected through the caller's credentials",
            },
            {"name": "auth", "description": "Supabase-style sessions"},
            {"name": "meta", "description": "this document"},
            {
                "name": "admin",
                "description": "cadenza-mock's own control API (not part of Cadenza). "
                "Every admin path but /__admin/namespaces is also served under "
                "/__admin/namespaces/{namespace}/..., for that namespace",
            },
        ],
        "security": [{"bearerAuth": []}],
        "paths": _paths(profile),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "adminToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Admin-Token",
                    "description": "needed only when the mock runs with --admin-token",
                },
            },
            "parameters": {
                "Namespace": {
                    "name": "X-Cadenza-Mock-Namespace",
                    "in": "header",
                    "required": False,
                    # Empty (or blank) names none: an unset variable in a client's config.
                    "schema": {
                        "type": "string",
                        "pattern": rf"^[ \t]*(?:{_ANY_NAMESPACE})?[ \t]*$",
                    },
                    "description": "the namespace this call is for (see the admin API's "
                    "/__admin/namespaces); without it a bearer token selects its own "
                    "namespace, else the server's default one. The real API has no such "
                    "header",
                },
            },
            "headers": {
                "RetryAfter": {
                    "description": "seconds to wait before retrying",
                    "schema": {"type": "integer", "minimum": 0},
                },
                "NearMissHint": {
                    "description": "the mock's near-miss hints for this request ('; '-"
                    "joined): another profile's names, near spellings, unknown "
                    "parameters or fields; absent when there are none or with --no-hints. "
                    "The real API sends no such header",
                    "schema": {"type": "string", "maxLength": MAX_HINT_HEADER},
                },
            },
            "responses": {
                "InjectedError": {
                    "description": "An error an armed fault injected (any status and errno)",
                    "content": {"application/json": {"schema": _error_envelope(profile, None)}},
                },
            },
            "schemas": component_schemas(profile),
        },
    }


@cache
def _document_json(profile: str) -> bytes:
    return json.dumps(_build(profile), separators=(",", ":")).encode()


def openapi_document(profile: str = "docs") -> dict[str, Any]:
    """The OpenAPI 3.1 document for one wire profile, as fresh (mutable) Python data."""
    document: dict[str, Any] = json.loads(_document_json(profile))
    return document


def openapi_json(profile: str = "docs") -> bytes:
    """The document serialized once per profile: what GET /api/v3/openapi.json serves."""
    return _document_json(profile)

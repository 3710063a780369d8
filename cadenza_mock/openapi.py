"""The OpenAPI 3.1 document of the emulated API, one per wire profile.

The document is plain data built from the same declarations the server uses (profile enums,
errno catalogue, request body schemas), so it cannot drift from them silently; the test
suite checks every response the server sends against it (`ResponseChecker`). No aiohttp
here: the document is importable, printable and checkable without a server.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from cadenza_mock.engine.clock import MAX_ADVANCE_SECONDS
from cadenza_mock.engine.lifecycle import IDENTITIES
from cadenza_mock.engine.query import MAX_LIMIT, MAX_OFFSET
from cadenza_mock.errors import CATALOGUE, ErrorKind
from cadenza_mock.model import PROFILE_NAMES, PROFILES
from cadenza_mock.operations import OPERATIONS, Operation
from cadenza_mock.scenario.build import TOP_KEYS
from cadenza_mock.scenario.faults import FAULT_KEYS, TERMINAL_ACTIONS
from cadenza_mock.schemas import REQUEST_SCHEMAS, UUID_PATTERN
from cadenza_mock.version import __version__

OPENAPI_VERSION = "3.1.0"
ENVELOPE_KEYS = ("data", "success", "errno", "error")

TRADING_ACCOUNT_TYPES = ("SPOT", "MARGIN", "CREDIT")
TRADING_ACCOUNT_STATUSES = (
    "NEW",
    "CREATED",
    "ACTIVE",
    "INACTIVE",
    "LOCKED",
    "DISCONNECTED",
    "UNAVAILABLE",
)

# Seconds one POST /__admin/clock moves the clock; none given is 0 (the clock as is).
_ADVANCE = {"type": "number", "minimum": 0, "maximum": MAX_ADVANCE_SECONDS, "default": 0}

_EPOCH_MS = {"type": "integer", "minimum": 0, "description": "milliseconds since the epoch"}
_ISO_MS = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
    "description": "ISO-8601 UTC with milliseconds, the twin of the integer field",
}
_UUID = {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
_UUID_BARE = UUID_PATTERN.removeprefix("^").removesuffix("$")
_UUID_LIST = f"^{_UUID_BARE}(,{_UUID_BARE})*$"
_JWT = {"type": "string", "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"anyOf": [dict(schema), {"type": "null"}]}


def _strict(properties: dict[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    """An object with exactly these keys: a leaked field (a secret!) fails validation."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
    }


def _open(properties: dict[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    """An object that may grow (admin answers are ours and gain fields over time)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
    }


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
        properties["details"] = _ref("ErrorDetails")
    return _strict(properties, ENVELOPE_KEYS)


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
    schema = _strict(
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


def _component_schemas(profile: str) -> dict[str, Any]:
    enums = PROFILES[profile]
    schemas: dict[str, Any] = {
        "Venue": {"type": "string", "enum": list(enums.venues)},
        "CredentialType": {"type": "string", "enum": list(enums.types)},
        "CredentialStatus": {"type": "string", "enum": list(enums.statuses)},
        "MaskedApiKey": {
            "type": "string",
            # [\s\S], not `.`: the prefix is the key's own first characters, whatever they
            # are (a key may start with a newline or other control character).
            "pattern": r"^[\s\S]*\*\*\*$",
            "description": "the key's first characters (6 unless the scenario sets "
            "mask_keep; never more than half the key) followed by ***; the key itself never",
            "examples": ["abc123***"],
        },
    }
    if profile == "sdk":
        schemas["Credential"] = _strict(
            {
                "credentialId": _UUID,
                "venue": _ref("Venue"),
                "credentialType": _ref("CredentialType"),
                "nickname": {"type": "string"},
                "status": _ref("CredentialStatus"),
                "createdAt": _EPOCH_MS,
                "createdAtDateTime": _ISO_MS,
                "updatedAt": _EPOCH_MS,
                "updatedAtDateTime": _ISO_MS,
                "revokedAt": _nullable(_EPOCH_MS),
                "revokedAtDateTime": _nullable(_ISO_MS),
            }
        )
        schemas["TradingAccount"] = _strict(
            {
                "tradingAccountId": _UUID,
                "externalTradingAccountId": _nullable({"type": "string"}),
                "venue": _ref("Venue"),
                "nickname": _nullable({"type": "string"}),
                "accountType": {"type": "string", "enum": list(TRADING_ACCOUNT_TYPES)},
                "externalAccountType": _nullable({"type": "string"}),
                "credentials": {"type": "array", "items": _ref("Credential")},
                "status": {"type": "string", "enum": list(TRADING_ACCOUNT_STATUSES)},
                "createdAt": _EPOCH_MS,
                "updatedAt": _EPOCH_MS,
            }
        )
        schemas["Pagination"] = _strict(
            {
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 0},
                "total": {"type": "integer", "minimum": 0},
                "cursor": _nullable({"type": "string"}),
                "hasNext": {"type": "boolean"},
            },
            required=(),
        )
        schemas["ErrorDetails"] = _strict(
            {
                "code": {"type": "string"},
                "resource": _nullable({"type": "string"}),
                "action": _nullable({"type": "string"}),
                "required": {"description": "what the call needed (free form)"},
                "provided": {"description": "what the call gave (free form)"},
                "tenant_id": _nullable({"type": "string"}),
                "request_id": _nullable({"type": "string"}),
                "metadata": _nullable({"type": "object"}),
            },
            required=("code",),
        )
    else:
        nine = {
            "credentialId": _UUID,
            "userId": _UUID,
            "venue": _ref("Venue"),
            "name": {"type": "string"},
            "type": _ref("CredentialType"),
            "apiKey": _ref("MaskedApiKey"),
            "status": _ref("CredentialStatus"),
            "createdAt": _EPOCH_MS,
            "updatedAt": _EPOCH_MS,
        }
        schemas["Credential"] = _strict(nine)
        # The revoke page documents revokedAt (= updatedAt) on the revoked record.
        schemas["RevokedCredential"] = _strict(
            {**nine, "revokedAt": _EPOCH_MS}, required=list(nine)
        )
        reached = {v: IDENTITIES[v] for v in enums.venues if v in IDENTITIES}
        schemas["Identity"] = {
            "type": "string",
            "enum": sorted({i for ids in reached.values() for i in ids}),
            "description": "an account the key reaches; per venue: "
            + "; ".join(f"{v}: {', '.join(ids)}" for v, ids in reached.items()),
        }
        schemas["VerifyResult"] = _strict(
            {
                "credentialId": _UUID,
                "venue": _ref("Venue"),
                "status": {"type": "string", "enum": ["VERIFIED", "FAILED"]},
                "identities": {"type": "array", "items": _ref("Identity")},
            }
        )
    schemas["User"] = _strict(
        {
            "id": _UUID,
            "email": {"type": "string"},
            "role": {"type": "string"},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
            "appMetadata": {"type": "object"},
            "userMetadata": {"type": "object"},
        }
    )
    schemas["Session"] = _strict(
        {
            "accessToken": _JWT,
            "refreshToken": {"type": "string", "minLength": 1},
            "tokenType": {"const": "bearer"},
            "expiresIn": {"type": "integer", "minimum": 1, "examples": [3600]},
            "expiresAt": {"type": "integer", "description": "Unix seconds"},
            "user": _ref("User"),
        }
    )
    names = {
        "create": "CreateCredentialRequest",
        "verify": "VerifyCredentialRequest",
        "rotate": "RotateCredentialRequest",
        "revoke": "RevokeCredentialRequest",
        "login": "LoginRequest",
        "refresh": "RefreshTokenRequest",
    }
    for operation, name in names.items():
        schemas[name] = copy.deepcopy(REQUEST_SCHEMAS[profile][operation])
    schemas.update(_admin_schemas())
    return schemas


def _admin_schemas() -> dict[str, Any]:
    string_list = {"type": "array", "items": {"type": "string"}}
    return {
        "AdminHealth": _open(
            {
                "status": {"const": "ok"},
                "version": {"type": "string"},
                "scenario": {"type": "string"},
                "profile": {"type": "string", "enum": list(PROFILE_NAMES)},
                "uptimeSeconds": {"type": "number", "minimum": 0},
            }
        ),
        "AdminScenario": _open(
            {
                "name": {"type": "string"},
                "description": {"type": "string"},
                "source": _nullable({"type": "string"}),
                "extends": string_list,
                "profile": {"type": "string", "enum": list(PROFILE_NAMES)},
                "seed": {"type": "integer"},
                "now": _nullable(_EPOCH_MS),
                "users": {
                    "type": "array",
                    "items": _open(
                        {
                            "id": {"type": "string"},
                            "email": {"type": "string"},
                            "tokens": string_list,
                            "expiredTokens": string_list,
                            "credentialCount": {"type": "integer", "minimum": 0},
                        }
                    ),
                },
            }
        ),
        "AdminJournalEntry": _open(
            {
                "seq": {"type": "integer"},
                "time": _EPOCH_MS,
                "method": {"type": "string"},
                "path": {"type": "string"},
                "query": {"type": "object", "additionalProperties": string_list},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "body": {"description": "the JSON body with secrets redacted, or a note"},
                "status": {"type": "integer"},
                "durationMs": {"type": "number", "minimum": 0},
                "userId": _nullable({"type": "string"}),
                "fault": {"description": "the injected fault that answered, if any"},
            }
        ),
        "AdminClock": _open(
            {
                "now": _EPOCH_MS,
                "nowDateTime": _ISO_MS,
                "frozen": {"type": "boolean"},
                "offsetMs": {"type": "number"},
            }
        ),
        # Every stored field but the secrets, whatever the profile: strict, so a secret
        # that slipped into the dump fails the check.
        "AdminCredential": _strict(
            {
                "credentialId": _UUID,
                "userId": _UUID,
                "venue": {"type": "string"},
                "name": {"type": "string"},
                "type": {"type": "string"},
                "apiKey": _ref("MaskedApiKey"),
                "status": {"type": "string"},
                "createdAt": _EPOCH_MS,
                "updatedAt": _EPOCH_MS,
                "revokedAt": _nullable(_EPOCH_MS),
                "keysValid": {"type": "boolean"},
                "hasApiSecret": {"type": "boolean"},
                "hasApiPassphrase": {"type": "boolean"},
            }
        ),
        "AdminArmedFault": _open(
            {
                "id": {"type": "string"},
                "origin": {"type": "string"},
                "armed": {"type": "boolean"},
                "remaining": _nullable({"type": "integer"}),
                "matched": {"type": "integer", "minimum": 0},
                "fired": {"type": "integer", "minimum": 0},
                "fault": _ref("AdminFault"),
            }
        ),
        # What JSON Schema can say of the fault and scenario vocabularies: their keys. The
        # values are checked by the scenario loader (a bad one is a 400 naming it), with rules
        # (known users, ranges, one action) a schema would only repeat and drift from.
        "AdminFault": {
            "type": "object",
            "propertyNames": {"enum": list(FAULT_KEYS)},
            "anyOf": [{"required": [action]} for action in (*TERMINAL_ACTIONS, "delay")],
            "description": "one entry of a scenario's faults: list: an optional match, one "
            "action (respond, rate_limit, drop, malformed or slow_body, optionally after a "
            "delay; or a delay alone) and an optional schedule (times, after, probability)",
        },
        "AdminScenarioFile": {
            "type": "object",
            "propertyNames": {"enum": list(TOP_KEYS)},
            "description": "a scenario file's content, as in scenarios/*.yaml",
        },
    }


# ------------------------------------------------------------------------------ paths


def _operation(profile: str, op: Operation, detail: Mapping[str, Any]) -> dict[str, Any]:
    """One operation of the document: the table's row, plus what only the document says
    (the answer's shape, parameters, links, a body of the operation's own)."""
    summary = op.summary + detail.get("summary_extra", "")
    schema = detail.get("success_schema") or _success(
        detail["data"], **detail.get("envelope_extra", {})
    )
    responses: dict[str, Any] = {
        "200": {"description": summary, "content": {"application/json": {"schema": schema}}}
    }
    if "links" in detail:
        responses["200"]["links"] = dict(detail["links"])
    for status, errnos in _by_status(op.answers).items():
        responses[str(status)] = _error_response(profile, status, errnos)
    responses["default"] = {"$ref": "#/components/responses/InjectedError"}
    result: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": summary,
        "tags": [op.tag],
        "responses": responses,
    }
    if "parameters" in detail:
        result["parameters"] = detail["parameters"]
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    elif "request_body" in detail:
        result["requestBody"] = detail["request_body"]
    if op.auth in ("public", "probe"):
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
                "schema": _ref("CredentialType"),
                "description": "only credentials of this type",
            },
            {
                "name": "credentialStatus",
                "in": "query",
                "schema": _ref("CredentialStatus"),
                "description": "only credentials in this status",
            },
            {
                "name": "credentialIds",
                "in": "query",
                "style": "form",
                "explode": True,
                "schema": {"type": "array", "items": _UUID, "minItems": 1},
                "description": "only these ids, the parameter repeated; unknown ids match "
                "nothing (a comma-separated value is accepted too)",
            },
            {
                "name": "offset",
                "in": "query",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                "description": "records to skip (see `pagination` in the answer)",
            },
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                "description": "page size (default: everything)",
            },
        ]
    return [
        {
            "name": "type",
            "in": "query",
            "schema": _ref("CredentialType"),
            "description": "only credentials of this type",
        },
        {
            "name": "status",
            "in": "query",
            "schema": _ref("CredentialStatus"),
            "description": "only credentials in this status",
        },
        {
            "name": "credentialIds",
            "in": "query",
            "schema": {"type": "string", "pattern": _UUID_LIST},
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


def _api_details(profile: str) -> dict[str, dict[str, Any]]:
    """What the document says of each API operation beyond its row in the table."""
    credential = _ref("Credential")
    links = _credential_links(profile)
    if profile == "sdk":
        verify_data: dict[str, Any] = {"type": "array", "items": _ref("TradingAccount")}
        revoked: dict[str, Any] = credential
        list_extra: dict[str, Any] = {"pagination": _ref("Pagination")}
    else:
        verify_data = {
            "oneOf": [
                _ref("VerifyResult"),
                {"type": "array", "items": _ref("VerifyResult")},
            ],
            "description": "one result for {credentialId}, a list for {credentialIds}",
        }
        revoked = _ref("RevokedCredential")
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
        "login": {"data": _ref("Session")},
        "refreshToken": {"data": _ref("Session")},
        "logout": {"data": {"type": "string"}},
        "getUser": {"data": _ref("User")},
        "getHealth": {
            "data": _strict(
                {
                    "status": {"const": "ok"},
                    "timestamp": _EPOCH_MS,
                    "isoDateTime": _ISO_MS,
                    "version": {"type": "string"},
                    "checks": {"type": "object"},
                }
            )
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


def _admin_details() -> dict[str, dict[str, Any]]:
    """What the document says of each admin operation beyond its row in the table."""
    journal = {"type": "array", "items": _ref("AdminJournalEntry")}
    return {
        "adminHealth": {"data": _ref("AdminHealth")},
        "adminReset": {"data": _open({"scenario": {"type": "string"}})},
        "adminGetScenario": {"data": _ref("AdminScenario")},
        "adminPutScenario": {
            "data": _ref("AdminScenario"),
            "parameters": [
                {
                    "name": "name",
                    "in": "query",
                    "schema": {"type": "string", "minLength": 1},
                    "description": "a bundled scenario's name, or a file in the "
                    "server's scenario folder(s); the body is then not read",
                },
            ],
            "request_body": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                _strict({"name": {"type": "string", "minLength": 1}}),
                                _strict({"scenario": _ref("AdminScenarioFile")}),
                            ]
                        }
                    },
                    "application/yaml": {"schema": _ref("AdminScenarioFile")},
                },
            },
        },
        "adminGetRequests": {"data": journal},
        "adminDeleteRequests": {"data": _open({"cleared": {"const": True}})},
        "adminArmFault": {
            "data": _ref("AdminArmedFault"),
            "request_body": {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref("AdminFault")},
                    "application/yaml": {"schema": _ref("AdminFault")},
                },
            },
        },
        "adminListFaults": {"data": {"type": "array", "items": _ref("AdminArmedFault")}},
        "adminClearFaults": {"data": _open({"cleared": {"type": "integer", "minimum": 0}})},
        "adminDeleteFault": {
            "data": _open({"cleared": {"type": "integer"}, "id": {"type": "string"}}),
            "parameters": [
                {"name": "faultId", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
        },
        "adminGetClock": {"data": _ref("AdminClock")},
        "adminAdvanceClock": {
            "data": _ref("AdminClock"),
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
            "data": {"type": "array", "items": _ref("AdminCredential")},
            "parameters": [
                {
                    "name": "user",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "only this user's (id or email)",
                }
            ],
        },
        "adminGetCredential": {
            "data": _ref("AdminCredential"),
            "parameters": [
                {"name": "credentialId", "in": "path", "required": True, "schema": _UUID}
            ],
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
            {"name": "auth", "description": "Supabase-style sessions"},
            {"name": "meta", "description": "this document"},
            {
                "name": "admin",
                "description": "cadenza-mock's own control API (not part of Cadenza)",
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
            "headers": {
                "RetryAfter": {
                    "description": "seconds to wait before retrying",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            "responses": {
                "InjectedError": {
                    "description": "An error an armed fault injected (any status and errno)",
                    "content": {"application/json": {"schema": _error_envelope(profile, None)}},
                },
            },
            "schemas": _component_schemas(profile),
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

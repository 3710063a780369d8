"""The OpenAPI 3.1 document of the emulated API, one per wire profile.

The document is plain data assembled from the same declarations the server uses (the
operation rows, profile enums, errno catalogue, request body schemas), so it cannot drift
from them silently; the test
suite checks every response the server sends against it (`ResponseChecker`). No aiohttp
here: the document is importable, printable and checkable without a server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import CATALOGUE, ErrorKind
from cadenza_mock.contract.model import PROFILE_NAMES, PROFILES
from cadenza_mock.contract.operation_rows_documented import NOT_EMULATED_TAG
from cadenza_mock.contract.operation_type import Answer
from cadenza_mock.contract.operations import OPERATIONS, Operation
from cadenza_mock.engine.hints import HINT_HEADER, MAX_HINT_HEADER
from cadenza_mock.engine.namespaces import DEFAULT_NAMESPACE, NAME_PATTERN
from cadenza_mock.specs.openapi_schemas import component_schemas, ref, strict
from cadenza_mock.version import __version__

OPENAPI_VERSION = "3.1.0"
ENVELOPE_KEYS = ("data", "success", "errno", "error")

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


def _ok_response(op: Operation, answer: Answer, summary: str) -> dict[str, Any]:
    """The 200 of an operation: the envelope around its data, or a body of its own."""
    content = answer.content  # an answer that is not JSON (the dashboard, a stream)
    if content is None:
        schema = answer.whole
        if schema is None:
            assert answer.data is not None, f"{op.operation_id}: no answer declared"
            schema = _success(answer.data, **answer.envelope_extra)
        content = {"application/json": {"schema": schema}}
    response: dict[str, Any] = {"description": summary, "content": dict(content)}
    if answer.links is not None:
        response["links"] = dict(answer.links)
    if answer.headers is not None:
        response["headers"] = dict(answer.headers)
    return response


def _operation(profile: str, op: Operation) -> dict[str, Any]:
    """One operation of the document, assembled from its row: the answer's shape,
    parameters, links, a body, the errors it can answer."""
    answer = op.answer_in(profile)
    summary = op.summary + answer.summary_extra
    responses: dict[str, Any] = {}
    if op.emulated:  # one Cadenza documents but the mock does not emulate answers 501
        responses["200"] = _ok_response(op, answer, summary)
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
    parameters = [p.openapi() for p in op.params_in(profile) if p.documented]
    parameters += [_NAMESPACE_PARAMETER] * op.namespaced
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(op.body)}},
        }
    elif op.body_doc is not None:
        result["requestBody"] = dict(op.body_doc)
    if op.auth in ("public", "probe", "page"):
        result["security"] = []
    elif op.auth == "admin":
        result["security"] = [{"adminToken": []}, {}]
    return result


_NAMESPACE_PARAMETER = {"$ref": "#/components/parameters/Namespace"}
_ANY_NAMESPACE = f"{DEFAULT_NAMESPACE}|{NAME_PATTERN.pattern}"


def _paths(profile: str) -> dict[str, Any]:
    """Every operation of the table by path and method: the document is its rows."""
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(profile, op)
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
            {"name": "market", "description": "the seeded market: instruments, books, candles"},
            {"name": "meta", "description": "this document"},
            {
                "name": NOT_EMULATED_TAG,
                "description": "operations Cadenza documents that the mock does not emulate "
                "yet: they answer 501, unless a test stubs them (/__admin/stubs)",
            },
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
    return wire.dumps(_build(profile))


def openapi_document(profile: str = "docs") -> dict[str, Any]:
    """The OpenAPI 3.1 document for one wire profile, as fresh (mutable) Python data."""
    document: dict[str, Any] = json.loads(_document_json(profile))
    return document


def openapi_json(profile: str = "docs") -> bytes:
    """The document serialized once per profile: what GET /api/v3/openapi.json serves."""
    return _document_json(profile)

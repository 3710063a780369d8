"""What the OpenAPI document says of each admin operation beyond its row in the route
table (answers, parameters, bodies), apart from the assembler in openapi.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cadenza_mock.contract.operations import DASHBOARD_ASSETS, SSE_EVENTS
from cadenza_mock.engine.clock import MAX_ADVANCE_SECONDS
from cadenza_mock.engine.journal import MAX_IDLE_WAIT
from cadenza_mock.engine.namespaces import NAME_PATTERN
from cadenza_mock.specs.openapi_schemas import EPOCH_MS, UUID, loose, ref, strict

_ADVANCE = {"type": "number", "minimum": 0, "maximum": MAX_ADVANCE_SECONDS, "default": 0}
_NAMESPACE_NAME = {"type": "string", "pattern": f"^{NAME_PATTERN.pattern}$"}
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


def admin_details() -> dict[str, dict[str, Any]]:
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
        "adminWaitIdle": {
            "data": strict(
                {
                    "idle": {"type": "boolean"},
                    "inFlight": {"type": "integer", "minimum": 0},
                    "journalSize": {"type": "integer", "minimum": 0},
                }
            ),
            "parameters": [
                {
                    "name": "timeout",
                    "in": "query",
                    "schema": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": MAX_IDLE_WAIT,
                        "default": 5,
                    },
                    "description": "seconds to wait at most",
                }
            ],
        },
        "adminGetClock": {"data": ref("AdminClock")},
        "adminAdvanceClock": {
            "data": ref("AdminClock"),
            "parameters": [{"name": "advance", "in": "query", "schema": _ADVANCE}],
            "request_body": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "advance": _ADVANCE,
                                "now": {
                                    "oneOf": [EPOCH_MS, {"type": "string"}],
                                    "description": "put the clock here first (ms or ISO-8601)",
                                },
                                "frozen": {
                                    "type": "boolean",
                                    "description": "stop the clock (true) or let it run",
                                },
                            },
                        }
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

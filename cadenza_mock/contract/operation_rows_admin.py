"""The admin API's rows of the route table (cadenza-mock's own control API), apart from
the emulated API's to keep each table readable. Each row is the operation's one
declaration: route, handler, errors, what a 200 carries, its parameters and body."""

from __future__ import annotations

from cadenza_mock.contract.bounds import (
    FRAMING,
    HEADER_NAME,
    HEADER_VALUE,
    LAST_MS,
    MAX_ADVANCE_SECONDS,
    MAX_HEADER_VALUE,
    MAX_IDLE_WAIT,
    MAX_PATH,
    MAX_STUB_HEADERS,
    MAX_STUBS,
    METHODS,
    NAME_PATTERN,
    NO_BODY_STATUSES,
    PATH_PATTERN,
)
from cadenza_mock.contract.errors import (
    ACCOUNT_NOT_FOUND,
    CREDENTIAL_NOT_FOUND,
    FAULT_NOT_FOUND,
    INVALID_ARGUMENT,
    INVALID_BODY,
    INVALID_FAULT,
    INVALID_SCENARIO,
    INVALID_STUB,
    NAMESPACE_EXISTS,
    PAGE_NOT_FOUND,
    RECORD_BUDGET,
    SNAPSHOT_NOT_FOUND,
    STUB_NOT_FOUND,
    TOO_MANY_NAMESPACES,
    TOO_MANY_STREAMS,
    TOO_MANY_STUBS,
    VALIDATION_FAILED,
)
from cadenza_mock.contract.json_schema import EPOCH_MS, UUID, loose, ref, strict
from cadenza_mock.contract.operation_type import (
    ADMIN_PREFIX,
    DASHBOARD_ASSETS,
    NAMESPACES_PATH,
    SSE_EVENTS,
    Answer,
    Operation,
    Param,
    Schema,
)

_ADVANCE = {"type": "number", "minimum": 0, "maximum": MAX_ADVANCE_SECONDS, "default": 0}
_NAMESPACE_NAME = {"type": "string", "pattern": f"^{NAME_PATTERN.pattern}$"}
_BY_USER = (Param("user", {"type": "string"}, "only this user's (id or email)"),)
_SCENARIO_NAME = {"type": "string", "minLength": 1}


def _path(name: str, schema: Schema) -> tuple[Param, ...]:
    return (Param(name, schema, where="path"),)


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
_JOURNAL = Answer({"type": "array", "items": ref("AdminJournalEntry")})
_SNAPSHOT = Answer(strict({"id": {"type": "string"}, "scenario": {"type": "string"}}))
# One event of the journal stream, as SSE tools (schemathesis) read it: fields as strings.
_SSE_EVENT = {
    "type": "object",
    "description": "`event: request` with `id:` the entry's seq and `data:` one "
    "AdminJournalEntry as JSON, per entry, oldest first; `event: cleared` when the journal "
    "is emptied; `event: reset` (`data: {scenario}`) before the stream ends on a reset or "
    "load; `: keep-alive` comments on a quiet stream",
    "required": ["event", "data"],
    "properties": {
        "event": {"enum": list(SSE_EVENTS)},
        "id": {"type": "string", "pattern": "^[1-9][0-9]*$"},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}


def _any_case(word: str) -> str:
    """`ab-` -> `[aA][bB]-`: a case-insensitive match in a JSON Schema pattern."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


# A stub (engine/stubs.py) as it is sent, and as it is listed (secret-named json fields
# and headers shown as "<redacted>").
_STUB_FIELDS: dict[str, Schema] = {
    "method": {"enum": list(METHODS)},
    "path": {"type": "string", "pattern": PATH_PATTERN, "maxLength": MAX_PATH},
    "status": {"type": "integer", "minimum": 200, "maximum": 599, "default": 200},
    "json": {"description": "the answer's JSON body (absent or null: no body)"},
    "headers": {
        "type": ["object", "null"],
        "propertyNames": {
            "pattern": HEADER_NAME,
            # Set by the server (any case): never a stub's.
            "not": {"pattern": "^(" + "|".join(_any_case(n) for n in FRAMING) + ")$"},
        },
        "additionalProperties": {
            "type": "string",
            "pattern": HEADER_VALUE,
            "maxLength": MAX_HEADER_VALUE,
        },
        "maxProperties": MAX_STUB_HEADERS,
    },
    "times": {"type": ["integer", "null"], "minimum": 1, "description": "null: every call"},
    "proxy": {
        "type": "boolean",
        "default": False,
        "description": "forward the request to `serve --upstream` and send its answer",
    },
}
_STUB_REQUEST = {
    **strict(_STUB_FIELDS, ["method", "path"]),
    # 204 and 304 carry no body.
    "if": {"required": ["status"], "properties": {"status": {"enum": list(NO_BODY_STATUSES)}}},
    "then": {"properties": {"json": {"type": "null"}}},
    # A proxy stub sends the upstream's answer: no status, body or headers of its own.
    "allOf": [
        {
            "if": {"required": ["proxy"], "properties": {"proxy": {"const": True}}},
            "then": {
                "properties": {
                    "status": {"const": 200},
                    "json": {"type": "null"},
                    "headers": {"maxProperties": 0},
                }
            },
        }
    ],
    "description": "answered, before the emulation, to requests of this method (GET also "
    "answers HEAD) and path ('*' matches any characters); the newest matching stub wins; "
    f"at most {MAX_STUBS} per namespace; cleared by reset and load",
}
_STUB = loose(
    {
        "id": {"type": "string"},
        **_STUB_FIELDS,
        "remaining": {"type": ["integer", "null"], "minimum": 0},
        "hits": {"type": "integer", "minimum": 0},
    }
)

ADMIN_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/health",
        "admin.health",
        "adminHealth",
        "Liveness, version, scenario, uptime",
        "admin",
        auth="probe",
        answer=Answer(ref("AdminHealth")),
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/reset",
        "admin.reset",
        "adminReset",
        "Back to the loaded scenario's pristine state (data, clock, journal)",
        "admin",
        auth="admin",
        answer=Answer(loose({"scenario": {"type": "string"}})),
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/scenario",
        "admin.get_scenario",
        "adminGetScenario",
        "The loaded scenario",
        "admin",
        auth="admin",
        answer=Answer(ref("AdminScenario")),
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/scenario/reload",
        "admin.reload_scenario",
        "adminReloadScenario",
        "Read the loaded scenario's file again (state reset); a bad edit is a 400 and the "
        "old one keeps serving; one loaded from a body has no file (400)",
        "admin",
        (INVALID_SCENARIO, RECORD_BUDGET),
        auth="admin",
        answer=Answer(ref("AdminScenario")),
    ),
    Operation(
        "PUT",
        f"{ADMIN_PREFIX}/scenario",
        "admin.put_scenario",
        "adminPutScenario",
        "Load a scenario: ?name=, JSON {name} or {scenario}, or a YAML body; "
        "a bad one is a 400 naming file:line and the old one keeps serving",
        "admin",
        (INVALID_SCENARIO, INVALID_BODY, RECORD_BUDGET),
        reads_body=True,
        auth="admin",
        answer=Answer(ref("AdminScenario")),
        params=(
            Param(
                "name",
                _SCENARIO_NAME,
                "a bundled scenario's name, or a file in the server's scenario folder(s); "
                "the body is then not read",
            ),
        ),
        body_doc=_SCENARIO_BODY,
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/requests",
        "admin.get_requests",
        "adminGetRequests",
        "The journal, newest last, secrets redacted",
        "admin",
        auth="admin",
        answer=_JOURNAL,
    ),
    Operation(
        "DELETE",
        f"{ADMIN_PREFIX}/requests",
        "admin.delete_requests",
        "adminDeleteRequests",
        "Empty the journal",
        "admin",
        auth="admin",
        answer=Answer(loose({"cleared": {"const": True}})),
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/requests/stream",
        "journal_stream.stream_requests",
        "adminStreamRequests",
        "The journal live, as server-sent events: the kept entries, then each new one; "
        "ends on a reset, a load or the server stopping; at most --max-streams at once",
        "admin",
        (TOO_MANY_STREAMS,),
        auth="admin",
        answer=Answer(content={"text/event-stream": {"schema": _SSE_EVENT}}),
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/requests/idle",
        "admin.wait_idle",
        "adminWaitIdle",
        "Wait until no API request is in flight (at most ?timeout= seconds, default 5, "
        "at most 30): the journal then holds every request sent so far",
        "admin",
        (VALIDATION_FAILED,),
        auth="admin",
        answer=Answer(
            strict(
                {
                    "idle": {"type": "boolean"},
                    "inFlight": {"type": "integer", "minimum": 0},
                    "journalSize": {"type": "integer", "minimum": 0},
                }
            )
        ),
        params=(
            Param(
                "timeout",
                {"type": "number", "minimum": 0, "maximum": MAX_IDLE_WAIT, "default": 5},
                "seconds to wait at most",
            ),
        ),
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/clock",
        "admin.get_clock",
        "adminGetClock",
        "The mock's clock",
        "admin",
        auth="admin",
        answer=Answer(ref("AdminClock")),
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/clock",
        "admin.advance_clock",
        "adminAdvanceClock",
        "Move the clock forward: {advance: seconds} or ?advance=seconds",
        "admin",
        (VALIDATION_FAILED, INVALID_BODY),
        reads_body=True,
        auth="admin",
        answer=Answer(ref("AdminClock")),
        params=(Param("advance", _ADVANCE),),
        body_doc={
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "advance": _ADVANCE,
                            "now": {
                                "oneOf": [
                                    {**EPOCH_MS, "maximum": LAST_MS},
                                    {"type": "string", "format": "date-time"},
                                ],
                                "description": "put the clock here first: ms, or an "
                                "ISO-8601 time from 1970 to 9999 (else a 400)",
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
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/credentials",
        "admin.get_credentials",
        "adminListCredentials",
        "Stored credentials for assertions, secrets excluded",
        "admin",
        auth="admin",
        answer=Answer({"type": "array", "items": ref("AdminCredential")}),
        params=_BY_USER,
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/credentials/{{credentialId}}",
        "admin.get_credential",
        "adminGetCredential",
        "One stored credential, secrets excluded",
        "admin",
        (CREDENTIAL_NOT_FOUND,),
        auth="admin",
        answer=Answer(ref("AdminCredential")),
        params=_path("credentialId", UUID),
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/trading-accounts",
        "admin.get_trading_accounts",
        "adminListTradingAccounts",
        "Stored trading accounts for assertions, createdAt then id order",
        "admin",
        auth="admin",
        answer=Answer({"type": "array", "items": ref("AdminTradingAccount")}),
        params=_BY_USER,
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/trading-accounts/{{tradingAccountId}}",
        "admin.get_trading_account",
        "adminGetTradingAccount",
        "One stored trading account",
        "admin",
        (ACCOUNT_NOT_FOUND,),
        auth="admin",
        answer=Answer(ref("AdminTradingAccount")),
        params=_path("tradingAccountId", UUID),
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/faults",
        "admin.post_fault",
        "adminArmFault",
        "Arm one fault (written like a scenario faults: entry); a bad one is a 400",
        "admin",
        (INVALID_FAULT, INVALID_BODY),
        reads_body=True,
        auth="admin",
        answer=Answer(ref("AdminArmedFault")),
        body_doc={
            "required": True,
            "content": {
                "application/json": {"schema": ref("AdminFault")},
                "application/yaml": {"schema": ref("AdminFault")},
            },
        },
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/faults",
        "admin.get_faults",
        "adminListFaults",
        "Every fault, armed or used up, in evaluation order, with its counters",
        "admin",
        auth="admin",
        answer=Answer({"type": "array", "items": ref("AdminArmedFault")}),
    ),
    Operation(
        "DELETE",
        f"{ADMIN_PREFIX}/faults",
        "admin.delete_faults",
        "adminClearFaults",
        "Disarm every fault (the scenario's own come back on reset)",
        "admin",
        auth="admin",
        answer=Answer(loose({"cleared": {"type": "integer", "minimum": 0}})),
    ),
    Operation(
        "DELETE",
        f"{ADMIN_PREFIX}/faults/{{faultId}}",
        "admin.delete_fault",
        "adminDeleteFault",
        "Disarm one fault by id",
        "admin",
        (FAULT_NOT_FOUND,),
        auth="admin",
        answer=Answer(loose({"cleared": {"type": "integer"}, "id": {"type": "string"}})),
        params=_path("faultId", {"type": "string"}),
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/stubs",
        "stubs_api.post_stub",
        "adminAddStub",
        "Stub an answer of the emulated API (before the emulation); a bad one is a 400",
        "admin",
        (INVALID_STUB, INVALID_BODY, TOO_MANY_STUBS),
        reads_body=True,
        auth="admin",
        answer=Answer(_STUB),
        body_doc={
            "required": True,
            "content": {"application/json": {"schema": _STUB_REQUEST}},
        },
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/stubs",
        "stubs_api.get_stubs",
        "adminListStubs",
        "Every stub, armed or used up, in the order added, with its counters",
        "admin",
        auth="admin",
        answer=Answer({"type": "array", "items": _STUB}),
    ),
    Operation(
        "DELETE",
        f"{ADMIN_PREFIX}/stubs",
        "stubs_api.delete_stubs",
        "adminClearStubs",
        "Remove every stub",
        "admin",
        auth="admin",
        answer=Answer(loose({"cleared": {"type": "integer", "minimum": 0}})),
    ),
    Operation(
        "DELETE",
        f"{ADMIN_PREFIX}/stubs/{{stubId}}",
        "stubs_api.delete_stub",
        "adminDeleteStub",
        "Remove one stub by id",
        "admin",
        (STUB_NOT_FOUND,),
        auth="admin",
        answer=Answer(loose({"cleared": {"type": "integer"}, "id": {"type": "string"}})),
        params=_path("stubId", {"type": "string"}),
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/snapshots",
        "admin.post_snapshot",
        "adminTakeSnapshot",
        "Remember data, clock and faults (not the journal); answers the snapshot's id",
        "admin",
        auth="admin",
        answer=_SNAPSHOT,
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/snapshots/{{snapshotId}}/restore",
        "admin.restore_snapshot",
        "adminRestoreSnapshot",
        "Back to a snapshot taken since the scenario was loaded (it stays usable)",
        "admin",
        (SNAPSHOT_NOT_FOUND,),
        auth="admin",
        answer=_SNAPSHOT,
        params=_path("snapshotId", {"type": "string"}),
    ),
    Operation(
        "POST",
        f"{NAMESPACES_PATH}",
        "admin.post_namespace",
        "adminCreateNamespace",
        "A new isolated namespace on a scenario; answers its name and its users' tokens",
        "admin",
        (INVALID_SCENARIO, INVALID_BODY, INVALID_ARGUMENT, NAMESPACE_EXISTS, TOO_MANY_NAMESPACES),
        reads_body=True,
        auth="admin",
        answer=Answer(ref("AdminCreatedNamespace")),
        params=(
            Param("namespace", _NAMESPACE_NAME, "its name (default: a fresh one)"),
            Param(
                "name",
                _SCENARIO_NAME,
                "a bundled scenario's name, or a file in the server's scenario folder(s); "
                "with no body either, the server's own scenario",
            ),
        ),
        body_doc=_SCENARIO_BODY,
    ),
    Operation(
        "GET",
        f"{NAMESPACES_PATH}",
        "admin.get_namespaces",
        "adminListNamespaces",
        "The namespaces besides the server's own (no tokens)",
        "admin",
        auth="admin",
        answer=Answer({"type": "array", "items": ref("AdminNamespace")}),
    ),
    Operation(
        "DELETE",
        f"{NAMESPACES_PATH}/{{name}}",  # the one to drop, not the one the call is for
        "admin.delete_namespace",
        "adminDeleteNamespace",
        "Drop a namespace: its data, journal and connections end",
        "admin",
        (INVALID_ARGUMENT,),
        auth="admin",
        answer=Answer(strict({"deleted": {"type": "string"}})),
        params=_path("name", _NAMESPACE_NAME),
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/ui",
        "ui.page",
        "adminDashboard",
        "The dashboard (HTML); its data comes from the admin API, which needs the token",
        "admin",
        auth="page",
        namespaced=False,
        answer=Answer(content={"text/html": {"schema": {"type": "string"}}}),
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/ui/{{asset}}",
        "ui.asset",
        "adminDashboardAsset",
        "A file of the dashboard: app.js, style.css, favicon.svg, index.html (the page again)",
        "admin",
        (PAGE_NOT_FOUND,),
        auth="page",
        namespaced=False,
        answer=Answer(
            content={kind: {"schema": {"type": "string"}} for kind in DASHBOARD_ASSETS.values()}
        ),
        params=_path("asset", {"type": "string", "enum": list(DASHBOARD_ASSETS)}),
    ),
)

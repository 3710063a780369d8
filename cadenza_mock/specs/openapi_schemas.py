"""The data shapes of the OpenAPI document: component schemas per wire profile and the
admin API's, built from the same enums and request schemas the server uses.

Apart from openapi.py, which assembles paths and operations: these are the nouns, that
module the verbs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from cadenza_mock.contract.json_schema import EPOCH_MS as EPOCH_MS
from cadenza_mock.contract.json_schema import ISO_MS as ISO_MS
from cadenza_mock.contract.json_schema import UUID as UUID
from cadenza_mock.contract.json_schema import UUID_LIST as UUID_LIST
from cadenza_mock.contract.json_schema import loose as loose
from cadenza_mock.contract.json_schema import ref as ref
from cadenza_mock.contract.json_schema import strict as strict
from cadenza_mock.contract.model import OPERATION_TYPES, PROFILE_NAMES, PROFILES, VENUE_OUTCOMES
from cadenza_mock.contract.schemas import COMPONENT_NAMES, REQUEST_SCHEMAS
from cadenza_mock.engine.lifecycle import IDENTITIES
from cadenza_mock.engine.namespaces import NAME_PATTERN
from cadenza_mock.engine.subscriptions import ACCOUNT_TYPES as ACCOUNT_SUBSCRIPTION_TYPES
from cadenza_mock.engine.subscriptions import SUBSCRIPTION_STATUSES
from cadenza_mock.scenario.fault_actions import ACTIONS
from cadenza_mock.scenario.faults import FAULT_KEYS, TERMINAL_ACTIONS
from cadenza_mock.specs.openapi_market import market_schemas
from cadenza_mock.specs.openapi_scenario import scenario_file_schema
from cadenza_mock.specs.openapi_trading import trading_schemas

# Seconds one POST /__admin/clock moves the clock; none given is 0 (the clock as is).

# A namespace's issued tokens start "<name>." (a balancer routes them by it: docs/team.md).
JWT = {
    "type": "string",
    "pattern": r"^(?:[a-z0-9-]+\.)?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
}


def nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"anyOf": [dict(schema), {"type": "null"}]}


# A namespace as listings show it: never a token.
_NAMESPACE: dict[str, Any] = {
    "name": {"type": "string", "pattern": f"^{NAME_PATTERN.pattern}$"},
    "scenario": {"type": "string"},
    "profile": {"type": "string", "enum": list(PROFILE_NAMES)},
    "createdAt": {"type": "string", "format": "date-time"},
    "requests": {"type": "integer", "minimum": 0},
    "records": {"type": "integer", "minimum": 0, "description": "counted by --max-records"},
    "idleExpirySeconds": {"type": "number", "exclusiveMinimum": 0},
    "admin": {"type": "string", "description": "its admin API's path prefix"},
}
# Only on a server started with --replica-id (one of several behind a balancer).
_REPLICA: dict[str, Any] = {
    "replica": {"type": "string", "description": "the answering server's --replica-id"}
}


def component_schemas(profile: str) -> dict[str, Any]:
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
        schemas["Credential"] = strict(
            {
                "credentialId": UUID,
                "venue": ref("Venue"),
                "credentialType": ref("CredentialType"),
                "nickname": {"type": "string"},
                "status": ref("CredentialStatus"),
                "createdAt": EPOCH_MS,
                "createdAtDateTime": ISO_MS,
                "updatedAt": EPOCH_MS,
                "updatedAtDateTime": ISO_MS,
                # Absent until revoked (never null, as in the official document).
                "revokedAt": EPOCH_MS,
                "revokedAtDateTime": ISO_MS,
            },
            # nickname only when one was given
            required=(
                *("credentialId", "venue", "credentialType", "status", "createdAt"),
                *("createdAtDateTime", "updatedAt", "updatedAtDateTime"),
            ),
        )
        schemas["TradingAccount"] = strict(
            {
                "tradingAccountId": UUID,
                "externalTradingAccountId": {"type": "string"},
                "venue": ref("Venue"),
                "nickname": {"type": "string"},
                "accountType": ref("AccountType"),
                "externalAccountType": {"type": "string"},
                "credentials": {"type": "array", "items": ref("Credential")},
                "status": ref("TradingAccountStatus"),
                "createdAt": EPOCH_MS,
                "createdAtDateTime": ISO_MS,
                "updatedAt": EPOCH_MS,
                "updatedAtDateTime": ISO_MS,
            }
        )
        schemas["Pagination"] = strict(
            {
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 0},
                "total": {"type": "integer", "minimum": 0},
                "cursor": {
                    "type": "string",
                    "description": "the next page's offset; absent on the last page",
                },
                "hasNext": {"type": "boolean"},
            },
            required=(),
        )
        # The official document's members, each omitted when the mock has nothing to say
        # (it knows the code and its own request id), never null.
        strings = {"type": "array", "items": {"type": "string"}}
        schemas["ErrorDetails"] = strict(
            {
                "code": {"type": "string"},
                "resource": {"type": "string"},
                "action": {"type": "string"},
                "required": strings,
                "provided": strings,
                "tenant_id": {"type": "string"},
                "request_id": {"type": "string"},
                "metadata": {"type": "object"},
            },
            required=("code",),
        )
    else:
        nine = {
            "credentialId": UUID,
            "userId": UUID,
            "venue": ref("Venue"),
            "name": {"type": "string"},
            "type": ref("CredentialType"),
            "apiKey": ref("MaskedApiKey"),
            "status": ref("CredentialStatus"),
            "createdAt": EPOCH_MS,
            "updatedAt": EPOCH_MS,
        }
        # `name` only when one was given (create does not invent one).
        schemas["Credential"] = strict(nine, required=[k for k in nine if k != "name"])
        # The revoke page's example: the record without its key, with revokedAt
        # (= updatedAt).
        revoked = {k: v for k, v in nine.items() if k != "apiKey"}
        schemas["RevokedCredential"] = strict(
            {**revoked, "revokedAt": EPOCH_MS}, required=[k for k in revoked if k != "name"]
        )
        reached = {v: IDENTITIES[v] for v in enums.venues if v in IDENTITIES}
        schemas["Identity"] = {
            "type": "string",
            "enum": sorted({i for ids in reached.values() for i in ids}),
            "description": "an account the key reaches; per venue: "
            + "; ".join(f"{v}: {', '.join(ids)}" for v, ids in reached.items()),
        }
        account = {
            "tradingAccountId": UUID,
            "userId": UUID,
            "venue": ref("Venue"),
            "name": {"type": "string"},
            "accountType": ref("AccountType"),
            "status": ref("TradingAccountStatus"),
            "createdAt": EPOCH_MS,
            "updatedAt": EPOCH_MS,
        }
        schemas["TradingAccount"] = strict(account)
        # The disconnect page documents disconnectedAt on the disconnected account.
        schemas["DisconnectedTradingAccount"] = strict(
            {**account, "disconnectedAt": EPOCH_MS}, required=list(account)
        )
        schemas["VerifyResult"] = strict(
            {
                "credentialId": UUID,
                "venue": ref("Venue"),
                "status": {"type": "string", "enum": ["VERIFIED", "FAILED"]},
                "identities": {"type": "array", "items": ref("Identity")},
            }
        )
    schemas["AccountType"] = {"type": "string", "enum": list(enums.account_types)}
    schemas["TradingAccountStatus"] = {"type": "string", "enum": list(enums.account_statuses)}
    operation: dict[str, Any] = {
        "operationId": UUID,
        "tradingAccountId": UUID,
        "operationType": {"type": "string", "enum": list(OPERATION_TYPES)},
        "status": {"type": "string", "enum": ["PENDING", "SUCCESS", "FAILED"]},
        "createdAt": EPOCH_MS,
    }
    if profile == "sdk":
        operation["createdAtDateTime"] = ISO_MS
    schemas["AccountOperation"] = strict(operation)
    schemas["TradingAccountSubscription"] = strict(
        {
            "subscriptionId": UUID,
            "venue": ref("Venue"),
            "tradingAccountId": UUID,
            "subscriptionType": {"type": "string", "enum": list(ACCOUNT_SUBSCRIPTION_TYPES)},
            "status": {"type": "string", "enum": list(SUBSCRIPTION_STATUSES)},
            "createdAt": EPOCH_MS,
            "createdAtDateTime": ISO_MS,
            "updatedAt": EPOCH_MS,
            "updatedAtDateTime": ISO_MS,
        }
    )
    schemas["User"] = strict(
        {
            "id": UUID,
            "email": {"type": "string"},
            "role": {"type": "string"},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
            "appMetadata": strict(
                {
                    "tenantId": nullable({"type": "string"}),
                    "environments": {"type": "array", "items": {"type": "string"}},
                }
            ),
            "userMetadata": {"type": "object"},
        }
    )
    schemas["Session"] = strict(
        {
            "accessToken": JWT,
            "refreshToken": {"type": "string", "minLength": 1},
            "tokenType": {"const": "bearer"},
            "expiresIn": {"type": "integer", "minimum": 1, "examples": [3600]},
            "expiresAt": {"type": "integer", "description": "Unix seconds"},
            "user": ref("User"),
        }
    )
    for body_name, name in COMPONENT_NAMES.items():
        schemas[name] = copy.deepcopy(REQUEST_SCHEMAS[profile][body_name])
    schemas.update(admin_schemas())
    schemas.update(market_schemas(schemas))
    schemas.update(trading_schemas())
    return schemas


def admin_schemas() -> dict[str, Any]:
    string_list = {"type": "array", "items": {"type": "string"}}

    def users(**extra: Any) -> dict[str, Any]:
        """A scenario's users with their tokens, as the admin API lists them."""
        user = {
            "id": {"type": "string"},
            "email": {"type": "string"},
            "tokens": string_list,
            "expiredTokens": string_list,
            **extra,
        }
        return {"type": "array", "items": loose(user)}

    return {
        "AdminHealth": loose(
            {
                "status": {"const": "ok"},
                "version": {"type": "string"},
                "scenario": {"type": "string"},
                "profile": {"type": "string", "enum": list(PROFILE_NAMES)},
                "uptimeSeconds": {"type": "number", "minimum": 0},
                **_REPLICA,
            },
            required=("status", "version", "scenario", "profile", "uptimeSeconds"),
        ),
        "AdminScenario": loose(
            {
                "name": {"type": "string"},
                "description": {"type": "string"},
                "source": nullable({"type": "string"}),
                "extends": string_list,
                "profile": {"type": "string", "enum": list(PROFILE_NAMES)},
                "seed": {"type": "integer"},
                "now": nullable(EPOCH_MS),
                "users": users(credentialCount={"type": "integer", "minimum": 0}),
            }
        ),
        "AdminNamespace": strict({**_NAMESPACE, **_REPLICA}, required=_NAMESPACE),
        "AdminCreatedNamespace": strict(
            {
                **_NAMESPACE,
                **_REPLICA,
                "header": strict({"X-Cadenza-Mock-Namespace": {"type": "string"}}),
                "users": users(),
            },
            required=(*_NAMESPACE, "header", "users"),
        ),
        "AdminJournalEntry": loose(
            {
                "seq": {"type": "integer"},
                "time": EPOCH_MS,
                "method": {"type": "string"},
                "path": {"type": "string"},
                "query": {"type": "object", "additionalProperties": string_list},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "body": {"description": "the JSON body with secrets redacted, or a note"},
                "status": {"type": "integer"},
                "durationMs": {"type": "number", "minimum": 0},
                "userId": nullable({"type": "string"}),
                "fault": {"description": "the injected fault that answered, if any"},
                "response": {
                    "description": "the answer's JSON body with tokens redacted, a note "
                    "for one over 8 KiB or not JSON, null when nothing was sent"
                },
            }
        ),
        "AdminClock": loose(
            {
                "now": EPOCH_MS,
                "nowDateTime": ISO_MS,
                "frozen": {"type": "boolean"},
                "offsetMs": {"type": "number"},
            }
        ),
        # Every stored field but the secrets, whatever the profile: strict, so a secret
        # that slipped into the dump fails the check.
        "AdminCredential": strict(
            {
                "credentialId": UUID,
                "userId": UUID,
                "venue": {"type": "string"},
                "name": {"type": "string"},
                "type": {"type": "string"},
                "apiKey": ref("MaskedApiKey"),
                "status": {"type": "string"},
                "createdAt": EPOCH_MS,
                "updatedAt": EPOCH_MS,
                "revokedAt": nullable(EPOCH_MS),
                "keysValid": {"type": "boolean"},
                "venueOutcome": {"type": "string", "enum": list(VENUE_OUTCOMES)},
                "hasApiSecret": {"type": "boolean"},
                "hasApiPassphrase": {"type": "boolean"},
            }
        ),
        "AdminTradingAccount": strict(
            {
                "tradingAccountId": UUID,
                "userId": UUID,
                "venue": {"type": "string"},
                "externalTradingAccountId": {"type": "string"},
                "nickname": {"type": "string"},
                "accountType": {"type": "string"},
                "externalAccountType": {"type": "string"},
                "credentialIds": {"type": "array", "items": UUID},
                "status": {"type": "string"},
                "createdAt": EPOCH_MS,
                "updatedAt": EPOCH_MS,
                "disconnectedAt": nullable(EPOCH_MS),
            }
        ),
        "AdminArmedFault": loose(
            {
                "id": {"type": "string"},
                "origin": {"type": "string"},
                "armed": {"type": "boolean"},
                "remaining": nullable({"type": "integer"}),
                "matched": {"type": "integer", "minimum": 0},
                "fired": {"type": "integer", "minimum": 0},
                "fault": ref("AdminFault"),
            }
        ),
        # What JSON Schema can say of the fault and scenario vocabularies: their keys, and
        # each fault action's value as its registered class declares it. The rest is checked
        # by the scenario loader (a bad value is a 400 naming it), with rules (known users,
        # one action, where an action means something) a schema would only repeat.
        "AdminFault": {
            "type": "object",
            "propertyNames": {"enum": list(FAULT_KEYS)},
            "properties": {action.key: copy.deepcopy(dict(action.schema)) for action in ACTIONS},
            "anyOf": [{"required": [action]} for action in (*TERMINAL_ACTIONS, "delay")],
            "description": "one entry of a scenario's faults: list: an optional match, one "
            f"action ({', '.join(TERMINAL_ACTIONS[:-1])} or {TERMINAL_ACTIONS[-1]}, "
            "optionally after a delay; or a delay alone) and an optional schedule (times, "
            "after, probability)",
        },
        "AdminScenarioFile": scenario_file_schema(),
    }

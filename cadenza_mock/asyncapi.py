"""The AsyncAPI 3.0 document of the WebSocket API, derived from the RPC table.

OpenAPI describes REST; this describes `/connection/websocket`: one channel for the
commands (Centrifugo's `rpc` frames, one operation per RPC method with its params
schema) and the `tradingAccount:{tradingAccountId}` channels that carry events. Built
from `rpc.METHODS`, so a method added there is documented here.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cadenza_mock.rpc import METHODS
from cadenza_mock.version import __version__

ASYNCAPI_VERSION = "3.0.0"
_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {
            "type": "integer",
            "description": "the REST errno made positive, or a protocol code",
        },
        "message": {"type": "string"},
        "temporary": {"type": "boolean"},
    },
}


def _key(method: str) -> str:
    return method.replace(".", "_")


def _build() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for method, spec in METHODS.items():
        key = _key(method)
        messages[f"{key}_call"] = {
            "name": method,
            "summary": f"rpc {method}",
            "payload": {
                "type": "object",
                "required": ["id", "rpc"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "rpc": {
                        "type": "object",
                        "required": ["method"],
                        "properties": {"method": {"const": method}, "data": spec.params},
                    },
                },
            },
        }
        messages[f"{key}_reply"] = {
            "name": f"{method} reply",
            "payload": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "integer"},
                    "rpc": {"type": "object", "properties": {"data": {"type": "object"}}},
                    "error": _ERROR,
                },
            },
        }
        operations[key] = {
            "action": "send",
            "channel": {"$ref": "#/channels/connection"},
            "summary": method,
            "messages": [{"$ref": f"#/channels/connection/messages/{key}_call"}],
            "reply": {
                "channel": {"$ref": "#/channels/connection"},
                "messages": [{"$ref": f"#/channels/connection/messages/{key}_reply"}],
            },
        }
    messages["connect"] = {
        "name": "connect",
        "summary": "the first command: a REST access token",
        "payload": {
            "type": "object",
            "required": ["id", "connect"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "connect": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {"token": {"type": "string"}, "name": {"type": "string"}},
                },
            },
        },
    }
    operations["connect"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/connection"},
        "messages": [{"$ref": "#/channels/connection/messages/connect"}],
    }
    operations["credential_updated"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/tradingAccount"},
        "summary": "a credential backing the account changed (by REST or WebSocket)",
        "messages": [{"$ref": "#/channels/tradingAccount/messages/credential_updated"}],
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Cadenza WebSocket API (cadenza-mock)",
            "version": __version__,
            "description": "The Centrifugo client protocol (JSON) at /connection/websocket, "
            "on the same state as the REST API; see the README's WebSocket API section.",
        },
        "servers": {
            "mock": {
                "host": "127.0.0.1:8080",
                "protocol": "ws",
                "pathname": "/connection/websocket",
            }
        },
        "channels": {
            "connection": {"address": "/connection/websocket", "messages": messages},
            "tradingAccount": {
                "address": "tradingAccount:{tradingAccountId}",
                "parameters": {"tradingAccountId": {"description": "one of your accounts"}},
                "messages": {
                    "credential_updated": {
                        "name": "event.credential.updated",
                        "payload": {
                            "type": "object",
                            "required": ["method", "data"],
                            "properties": {
                                "method": {"const": "event.credential.updated"},
                                "data": {"type": "object"},
                            },
                        },
                    }
                },
            },
        },
        "operations": operations,
    }


@cache
def asyncapi_json() -> bytes:
    """The document, serialized once: what GET /api/v3/asyncapi.json serves."""
    return json.dumps(_build(), separators=(",", ":")).encode()

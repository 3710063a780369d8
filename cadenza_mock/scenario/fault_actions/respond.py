"""`respond`: an error envelope instead of the real answer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from cadenza_mock.contract import errors as e
from cadenza_mock.contract.errors import ApiError
from cadenza_mock.scenario.fault_actions.base import (
    Call,
    FaultAction,
    fields_with,
    given,
)
from cadenza_mock.scenario.nodes import Problems, describe, join, scalar, value

RESPOND_KEYS = ("status", "errno", "error", "code", "headers")
HEADER_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Headers that describe the body or the connection: a fault setting them would make the
# answer unparseable in ways no real server produces.
FRAMING_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding", "connection"})


def free_mapping(node: yaml.Node, path: str, problems: Problems) -> dict[str, yaml.Node]:
    """A mapping whose keys are the user's (query parameters, header names)."""
    if not isinstance(node, yaml.MappingNode):
        problems.add(node, path, f"expected a mapping, got {describe(node)}")
        return {}
    result: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or not key:
            problems.add(key_node, path, "keys must be non-empty strings")
        elif key in result:
            problems.add(key_node, join(path, key), "key given twice")
        else:
            result[key] = value_node
    return result


@dataclass(frozen=True, slots=True)
class Respond(FaultAction, key="respond"):
    """An error envelope to answer with (errno, message and code default per status)."""

    status: int
    errno: int
    error: str
    code: str | None
    headers: tuple[tuple[str, str], ...] | None = None

    usage = "`respond: {status, errno?, error?, code?, headers?}`"
    effect = (
        "error envelope with this status (400-599). Defaults per status: 400 -22015 "
        "`Invalid argument`, 401 -19002, 403 -22018, 404 -22016, 409 -22017, 429 -18011 "
        "(plus `Retry-After: 1`), 5xx -22000 `Unknown error`, other 4xx -19004"
    )
    client_sees = "the status and envelope"
    on_rpc = (
        "the error inside the RPC's result (`code` the errno made positive; "
        "`temporary` for 5xx and 429); on the upgrade, the error answers it"
    )
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "errno": {"type": "integer"},
            "error": {"type": "string"},
            "code": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "headers": {"type": "object"},
        },
        "additionalProperties": False,
    }

    @classmethod
    def parse(cls, node: yaml.Node, path: str, problems: Problems) -> Respond | None:
        fields = fields_with(
            node, path, RESPOND_KEYS, "status", "needs a status (400 to 599)", problems
        )
        if fields is None:
            return None
        status = scalar(fields["status"], join(path, "status"), int, problems)
        if status is None:
            return None
        if not 400 <= status <= 599:
            problems.add(
                fields["status"],
                join(path, "status"),
                f"expected an error status 400 to 599, got {status} "
                "(the error envelope is only sent with an error status)",
            )
            return None
        errno, message, code = e.fault_default(status)
        if "errno" in fields:
            errno = scalar(fields["errno"], join(path, "errno"), int, problems)
            if errno == 0:
                problems.add(fields["errno"], join(path, "errno"), "errno 0 means success")
            row = e.kind_of(status, errno) if errno is not None else None
            if row is not None:  # a catalogue error named by its errno: its message and code
                message, code = row.message, row.code
        if "error" in fields:
            message = scalar(fields["error"], join(path, "error"), str, problems)
        if "code" in fields:
            code = scalar(fields["code"], join(path, "code"), str, problems)
        # Clients honour Retry-After on a 429; the real service sends it (cadenza-api.md).
        headers: dict[str, str] | None = {"Retry-After": "1"} if status == 429 else None
        if "headers" in fields:
            headers = {**(headers or {}), **_headers(fields["headers"], path, problems)}
        return cls(
            status, errno, message, code, tuple(headers.items()) if headers is not None else None
        )

    def to_json(self) -> dict[str, Any]:
        result = {"status": self.status, "errno": self.errno, "error": self.error}
        result["code"] = self.code  # shown even when None: the envelope then has no code
        headers = dict(self.headers) if self.headers is not None else None
        return {**result, **given(headers=headers)}

    def perform(self, call: Call, retry_seconds: float) -> None:
        call.fail(
            ApiError(
                self.status,
                self.errno,
                self.error,
                code=self.code,
                headers=dict(self.headers or ()),
            )
        )


def _headers(node: yaml.Node, path: str, problems: Problems) -> dict[str, str]:
    found: dict[str, str] = {}
    hpath = join(path, "headers")
    for key, raw in free_mapping(node, hpath, problems).items():
        got = value(raw) if isinstance(raw, yaml.ScalarNode) else None
        if not HEADER_RE.match(key):
            problems.add(raw, join(hpath, key), f"not a header name: {key!r}")
        elif key.lower() in FRAMING_HEADERS:
            problems.add(
                raw,
                join(hpath, key),
                f"{key} is set by the server itself (the body is the Cadenza envelope); "
                "use `malformed` or `slow_body` to break the body",
            )
        elif isinstance(got, bool) or not isinstance(got, str | int | float):
            problems.add(raw, join(hpath, key), f"expected a string, got {describe(raw)}")
        else:
            found[key] = str(got)
    return found

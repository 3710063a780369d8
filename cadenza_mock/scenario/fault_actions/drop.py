"""`drop`: no answer, the connection goes. On a WebSocket RPC the connection is cut as a
network failure cuts it (no close frame: Centrifugo clients reconnect), or closed with
the `close_code` the fault gives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from cadenza_mock.scenario.fault_actions.base import (
    EVERY_TRANSPORT,
    RPC,
    Call,
    FaultAction,
    fields_with,
    flag,
)
from cadenza_mock.scenario.nodes import Problems, join, scalar

DROP_KEYS = ("close_code", "reason")
# Close codes a Centrifugo server sends: 3000-3499 and 4000-4499 tell its clients to
# reconnect, 3500-3999 and 4500-4999 not to (centrifugal/centrifuge, disconnect.go).
CLOSE_CODES = (3000, 4999)
DEFAULT_REASON = "fault drop"
MAX_REASON_BYTES = 123  # what a close frame holds (RFC 6455 5.5)


@dataclass(frozen=True, slots=True)
class Drop(FaultAction, key="drop"):
    """Close the connection without an answer; `close_code`: a WebSocket close frame."""

    close_code: int | None = None
    reason: str | None = None

    usage = "`drop: true` or `drop: {close_code: C, reason?: R}`"
    effect = "close the connection without an answer (the handler does not run)"
    client_sees = (
        "`aiohttp.ServerDisconnectedError`, `requests.exceptions.ConnectionError`, "
        "`httpx.RemoteProtocolError`; curl exit 52"
    )
    on_rpc = (
        "`true`: the connection is cut without a close frame, as a network failure cuts it "
        "(Centrifugo clients reconnect); `close_code` (3000-4999): a close frame with it "
        "(3000-3499 and 4000-4499 reconnect, 3500-3999 and 4500-4999 do not: 3503 is "
        "`force disconnect`), on RPCs only; on the upgrade, no answer"
    )
    schema: ClassVar[Mapping[str, Any]] = {
        "anyOf": [
            {"const": True},
            {
                "type": "object",
                "required": ["close_code"],
                "properties": {
                    "close_code": {
                        "type": "integer",
                        "minimum": CLOSE_CODES[0],
                        "maximum": CLOSE_CODES[1],
                    },
                    "reason": {"type": "string", "maxLength": MAX_REASON_BYTES},
                },
                "additionalProperties": False,
            },
        ]
    }
    refusals: ClassVar[Mapping[str, str]] = {
        "http": "an HTTP call is dropped by closing its connection, with no close code: "
        "use `drop: true`",
        "upgrade": "the upgrade is dropped before any WebSocket exists, with no close code: "
        "use `drop: true`",
    }

    @classmethod
    def parse(cls, node: yaml.Node, path: str, problems: Problems) -> Drop | None:
        if not isinstance(node, yaml.MappingNode):
            return cls() if flag(node, path, cls.key, problems) else None
        why = "needs close_code (a WebSocket close code, 3000 to 4999); or write `drop: true`"
        fields = fields_with(node, path, DROP_KEYS, "close_code", why, problems)
        if fields is None:
            return None
        code = scalar(fields["close_code"], join(path, "close_code"), int, problems)
        if code is not None and not CLOSE_CODES[0] <= code <= CLOSE_CODES[1]:
            problems.add(
                fields["close_code"],
                join(path, "close_code"),
                f"expected a close code 3000 to 4999, got {code} (Centrifugo clients "
                "reconnect after 3000-3499 and 4000-4499, not after 3500-3999 and 4500-4999)",
            )
            code = None
        reason: str | None = DEFAULT_REASON
        if "reason" in fields:
            reason = scalar(fields["reason"], join(path, "reason"), str, problems)
            if reason is not None and len(reason.encode()) > MAX_REASON_BYTES:
                problems.add(
                    fields["reason"],
                    join(path, "reason"),
                    f"a close reason holds at most {MAX_REASON_BYTES} bytes (UTF-8)",
                )
                reason = None
        return cls(code, reason) if code is not None and reason is not None else None

    def to_json(self) -> bool | dict[str, Any]:
        if self.close_code is None:
            return True
        return {"close_code": self.close_code, "reason": self.reason}

    def supported(self) -> frozenset[str]:
        # A close code is a WebSocket's: such a drop acts on RPCs only.
        return EVERY_TRANSPORT if self.close_code is None else frozenset({RPC})

    def perform(self, call: Call, retry_seconds: float) -> None:
        close = None
        if self.close_code is not None:
            close = (self.close_code, self.reason or DEFAULT_REASON)
        call.drop(close)

"""`slow_body`: the real answer trickled out in pieces (HTTP only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import yaml

from cadenza_mock.scenario.fault_actions.base import (
    HTTP,
    MAX_DELAY_SECONDS,
    Call,
    FaultAction,
    count,
    fields_with,
    seconds,
)
from cadenza_mock.scenario.nodes import Problems, join

SLOW_BODY_KEYS = ("chunk_delay", "chunks")
DEFAULT_SLOW_CHUNKS = 10


@dataclass(frozen=True, slots=True)
class SlowBody(FaultAction, key="slow_body"):
    """Send the real answer in `chunks` pieces, `chunk_delay` seconds apart."""

    chunk_delay: float
    chunks: int

    usage = "`slow_body: {chunk_delay: S, chunks: N}`"
    effect = (
        f"the real answer sent in N pieces (default {DEFAULT_SLOW_CHUNKS}), S seconds apart, "
        "`Content-Length` set"
    )
    client_sees = "a complete body that arrives slowly, or a read timeout"
    on_rpc = (
        "refused at load when its `match.path` names only RPCs or the upgrade (a reply is one "
        "frame: hold it back with `delay`); without one, it acts on HTTP calls only"
    )
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["chunk_delay"],
        "properties": {
            "chunk_delay": {"type": "number", "minimum": 0, "maximum": MAX_DELAY_SECONDS},
            "chunks": {"type": "integer", "minimum": 2},
        },
        "additionalProperties": False,
    }
    transports = frozenset({HTTP})
    refusals: ClassVar[Mapping[str, str]] = {
        "rpc": "a reply is one frame, nothing can trickle; hold it back with `delay`",
        "upgrade": "the upgrade's answer has no body; hold it back with `delay`",
    }

    @classmethod
    def parse(cls, node: yaml.Node, path: str, problems: Problems) -> SlowBody | None:
        why = "needs chunk_delay (seconds between chunks)"
        fields = fields_with(node, path, SLOW_BODY_KEYS, "chunk_delay", why, problems)
        if fields is None:
            return None
        pause = seconds(fields["chunk_delay"], join(path, "chunk_delay"), problems)
        chunks = DEFAULT_SLOW_CHUNKS
        if "chunks" in fields:
            chunks = count(fields["chunks"], join(path, "chunks"), 2, problems) or chunks
        return cls(pause, chunks) if pause is not None else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # the field names are the YAML keys

    def perform(self, call: Call, retry_seconds: float) -> None:
        call.trickle(self.chunk_delay, self.chunks)

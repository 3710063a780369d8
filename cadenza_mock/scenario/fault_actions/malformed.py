"""`malformed`: the real answer with its body cut in half."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from cadenza_mock.scenario.fault_actions.base import HTTP, RPC, Call, FaultAction, flag
from cadenza_mock.scenario.nodes import Problems


@dataclass(frozen=True, slots=True)
class Malformed(FaultAction, key="malformed"):
    """The real answer (same status), its body cut in half: a JSON parser fails on it."""

    usage = "`malformed: true`"
    effect = "the real answer (same status) with its body cut in half"
    client_sees = (
        "a JSON decode error (`json.JSONDecodeError`, `requests.exceptions.JSONDecodeError`)"
    )
    on_rpc = "half the reply frame; refused on the upgrade (its answer has no body)"
    schema: ClassVar[Mapping[str, Any]] = {"const": True}
    transports = frozenset({HTTP, RPC})
    refusals: ClassVar[Mapping[str, str]] = {
        "upgrade": "the upgrade's answer has no body to cut; `drop` or `respond` refuse it"
    }

    @classmethod
    def parse(cls, node: yaml.Node, path: str, problems: Problems) -> Malformed | None:
        return cls() if flag(node, path, cls.key, problems) else None

    def to_json(self) -> bool:
        return True

    def perform(self, call: Call, retry_seconds: float) -> None:
        call.cut()

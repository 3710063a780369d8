"""`venue`: what the venue behind Cadenza answers a verify or connect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import yaml

from cadenza_mock.contract.model import VENUE_OUTCOMES
from cadenza_mock.scenario.fault_actions.base import HTTP, RPC, Call, FaultAction
from cadenza_mock.scenario.nodes import Problems, enum

# The calls that reach the venue behind Cadenza (REST and their RPC twins): where a
# `venue:` fault without a path acts.


@cache
def venue_calls() -> frozenset[str]:
    """The calls that reach the venue behind Cadenza, from the rows' `venue` flag: where a
    `venue:` fault without a path acts, their paths and their RPC twins' method names.
    Read at first use: the admin rows import the engine, which imports this layer."""
    from cadenza_mock.contract.operations import OPERATIONS

    paths = {op.path for op in OPERATIONS if op.venue}
    return frozenset(paths | {op.rpc for op in OPERATIONS if op.venue and op.rpc})


@dataclass(frozen=True, slots=True)
class VenueOutcome(FaultAction, key="venue"):
    """What the venue behind Cadenza answers when the request's verify or connect reaches
    it (one of model.VENUE_OUTCOMES); other requests pass untouched."""

    outcome: str

    usage = "`venue: <outcome>`"
    effect = (
        "what the venue behind Cadenza does when this request's verify or connect reaches it "
        f"({', '.join(f'`{o}`' for o in VENUE_OUTCOMES if o != 'ok')}; "
        "see [Venue outcomes](trading-accounts.md#venue-outcomes)); "
        "without a `match.path` it acts on verify and connect calls only, so an unrelated call "
        "never uses up its `times`"
    )
    client_sees = "the venue's answer: verify `FAILED` or the venue's error"
    on_rpc = (
        "the same for `command.credential.verify` and `command.trading_account.connect`; "
        "refused on the upgrade (it reaches no venue)"
    )
    schema: ClassVar[Mapping[str, Any]] = {"type": "string", "enum": list(VENUE_OUTCOMES)}
    transports = frozenset({HTTP, RPC})
    refusals: ClassVar[Mapping[str, str]] = {
        "upgrade": "the upgrade reaches no venue; name a verify or connect call"
    }

    @classmethod
    def parse(cls, node: yaml.Node, path: str, problems: Problems) -> VenueOutcome | None:
        outcome = enum(node, path, VENUE_OUTCOMES, problems, "venue outcome")
        return cls(outcome) if outcome is not None else None

    def to_json(self) -> str:
        return self.outcome

    def applies(self, transport: str, path: str, path_given: bool) -> bool:
        if transport not in self.transports:
            return False
        # Without a path, only calls that reach the venue use it up.
        return path_given or path in venue_calls()

    def perform(self, call: Call, retry_seconds: float) -> None:
        call.venue(self.outcome)

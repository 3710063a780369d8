"""A validated fault as typed data: what `scenario/faults.py` produces from YAML or JSON and
`engine/faults.py` acts on. Its action is one of the registered `FaultAction` classes
(`scenario/fault_actions/`). `to_json()` gives back the normalized form that the admin API
lists and that can be posted again to arm the same fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cadenza_mock.scenario.fault_actions import FaultAction


def _one_or_many(values: tuple[str, ...]) -> str | list[str] | None:
    """`GET` for one value, a list for several, None (left out) for none."""
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that were given (not None), in order: the normalized JSON form."""
    return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Match:
    """Which requests a fault applies to; a field left None (or empty) matches any."""

    methods: tuple[str, ...] = ()
    path: str | None = None
    query: tuple[tuple[str, str], ...] | None = None
    user: str | None = None  # user id or email
    token: str | None = None  # bearer token
    headers: tuple[str, ...] = ()  # header names that must be present

    def to_json(self) -> dict[str, Any]:
        return _given(
            method=_one_or_many(self.methods),
            path=self.path,
            query=dict(self.query) if self.query is not None else None,
            user=self.user,
            token=self.token,
            header=_one_or_many(self.headers),
        )


@dataclass(frozen=True, slots=True)
class DelayRange:
    """A delay drawn per request from the fault's seeded generator, in seconds."""

    low: float
    high: float

    def to_json(self) -> dict[str, float]:
        return {"min": self.low, "max": self.high}


# One registered action (`cadenza_mock.scenario.fault_actions`), as its own class.
Action = FaultAction


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault: what it matches, its delay, its one action, and when it fires."""

    id: str | None = None
    match: Match | None = None
    delay: float | DelayRange | None = None
    action: FaultAction | None = None  # None: a delay-only fault
    times: int | None = None  # fires this many times, then disarms; None: always
    after: int | None = None  # skips this many matching calls first
    probability: float | None = None  # seeded chance per matching call

    @property
    def action_name(self) -> str | None:
        """The action's key (`respond`, `drop`, ...), or None for a delay-only fault."""
        return self.action.key if self.action is not None else None

    def to_json(self) -> dict[str, Any]:
        delay = self.delay.to_json() if isinstance(self.delay, DelayRange) else self.delay
        fields: dict[str, Any] = {"id": self.id, "match": self.match and self.match.to_json()}
        fields["delay"] = delay
        if self.action is not None:
            fields[self.action.key] = self.action.to_json()
        fields |= {"times": self.times, "after": self.after, "probability": self.probability}
        return _given(**fields)

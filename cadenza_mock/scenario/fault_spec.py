"""A validated fault as typed data: what `scenario/faults.py` produces from YAML or JSON and
`engine/faults.py` acts on. `to_json()` gives back the normalized form that the admin API
lists and that can be posted again to arm the same fault.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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
class Respond:
    """An error envelope to answer with (errno, message and code default per status)."""

    status: int
    errno: int
    error: str
    code: str | None
    headers: tuple[tuple[str, str], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        result = {"status": self.status, "errno": self.errno, "error": self.error}
        result["code"] = self.code  # shown even when None: the envelope then has no code
        headers = dict(self.headers) if self.headers is not None else None
        return {**result, **_given(headers=headers)}


@dataclass(frozen=True, slots=True)
class DelayRange:
    """A delay drawn per request from the fault's seeded generator, in seconds."""

    low: float
    high: float

    def to_json(self) -> dict[str, float]:
        return {"min": self.low, "max": self.high}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """429 with Retry-After: always (`requests` None) or past a per-user token bucket."""

    requests: int | None = None
    window: float | None = None  # seconds in which `requests` calls are allowed
    retry_after: int | None = None  # fixed Retry-After; else the time until a token is back

    def to_json(self) -> str | dict[str, Any]:
        given = _given(requests=self.requests, window=self.window, retry_after=self.retry_after)
        return given or "always"


@dataclass(frozen=True, slots=True)
class SlowBody:
    """Send the real answer in `chunks` pieces, `chunk_delay` seconds apart."""

    chunk_delay: float
    chunks: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # the field names are the YAML keys


@dataclass(frozen=True, slots=True)
class VenueOutcome:
    """What the venue behind Cadenza answers when the request's verify or connect reaches
    it (one of model.VENUE_OUTCOMES); other requests pass untouched."""

    outcome: str

    def to_json(self) -> str:
        return self.outcome


Action = Respond | RateLimit | SlowBody | VenueOutcome | str  # str: "drop" or "malformed"


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault: what it matches, its delay, its one action, and when it fires."""

    id: str | None = None
    match: Match | None = None
    delay: float | DelayRange | None = None
    action: Action | None = None  # None: a delay-only fault
    times: int | None = None  # fires this many times, then disarms; None: always
    after: int | None = None  # skips this many matching calls first
    probability: float | None = None  # seeded chance per matching call

    @property
    def action_name(self) -> str | None:
        """respond, rate_limit, slow_body, venue, drop, malformed, or None (delay only)."""
        if self.action is None or isinstance(self.action, str):
            return self.action
        names = {Respond: "respond", RateLimit: "rate_limit", SlowBody: "slow_body"}
        return names.get(type(self.action), "venue")

    def to_json(self) -> dict[str, Any]:
        delay = self.delay.to_json() if isinstance(self.delay, DelayRange) else self.delay
        action: Any = self.action
        fields: dict[str, Any] = {"id": self.id, "match": self.match and self.match.to_json()}
        fields["delay"] = delay
        if self.action_name is not None:  # `drop: true`, or the action's own fields
            fields[self.action_name] = True if isinstance(action, str) else action.to_json()
        fields |= {"times": self.times, "after": self.after, "probability": self.probability}
        return _given(**fields)

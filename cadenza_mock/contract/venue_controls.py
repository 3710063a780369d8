"""A trading account's venue behaviour, declared once: its keys (what a scenario's
`venue_behavior:` and the admin API's body both say, checked by the one validator,
scenario/trading_keys.py) and its run-time controls (set, clear, show).

Each control is one declaration, as the market's are (contract/market_controls.py): its
admin route (the rows in contract/operation_rows_trading.py take the path and the body
from here), its handle method (`mock.<method>`, testing/venue_handle.py, in-process and
remote), and its line in the Venue behaviour controls table of docs/reference.md (a test
compares the two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cadenza_mock.contract.operation_type import ADMIN_PREFIX


@dataclass(frozen=True, slots=True)
class BehaviorKey:
    """One key of `venue_behavior:`; `kind` says how the validator reads its value."""

    name: str
    kind: str  # "flag" (true/false), "share" (0 < x <= 1), "rate" (0..1), "delay" (seconds)
    schema: dict[str, Any]  # its JSON Schema in the admin API's body


_NUMBER = {"type": ["number", "string"], "pattern": r"^\d+(\.\d+)?$"}
BEHAVIOR_KEYS: tuple[BehaviorKey, ...] = (
    BehaviorKey("reject", "flag", {"type": "boolean"}),
    BehaviorKey("timeout", "flag", {"type": "boolean"}),
    BehaviorKey("partial", "share", _NUMBER),
    BehaviorKey("maker_fee", "rate", _NUMBER),
    BehaviorKey("taker_fee", "rate", _NUMBER),
    BehaviorKey("fill_delay", "delay", _NUMBER),
    BehaviorKey("cancel_delay", "delay", _NUMBER),
)
BEHAVIOR_KINDS = {k.name: k.kind for k in BEHAVIOR_KEYS}

VENUE_BEHAVIOR_PATH = f"{ADMIN_PREFIX}/venue-behavior"
_ID = {"tradingAccountId": {"type": "string", "minLength": 1}}


@dataclass(frozen=True, slots=True)
class VenueControl:
    """One control: its admin call, its handle method and what the table says it does."""

    name: str
    http_method: str
    method: str  # mock.<method>
    summary: str
    fields: tuple[str, ...]  # the body's (POST) or the query's (GET) names; `?`: optional

    @property
    def route(self) -> str:
        return f"{self.http_method} {VENUE_BEHAVIOR_PATH}"


def body_schema() -> dict[str, Any]:
    """The POST body: the account, then the behaviour's keys or `clear: true`."""
    return {
        "type": "object",
        "required": ["tradingAccountId"],
        "properties": {
            **_ID,
            **{k.name: k.schema for k in BEHAVIOR_KEYS},
            "clear": {"type": "boolean"},
        },
    }


_KEYS = tuple(f"{k.name}?" for k in BEHAVIOR_KEYS)
CONTROLS: tuple[VenueControl, ...] = (
    VenueControl(
        "set",
        "POST",
        "venue_behavior",
        "Set the account's whole venue behaviour (keys not given are normal), checked as the "
        "scenario's `venue_behavior:` is; a bad value is a 400 naming the key, nothing changed",
        ("tradingAccountId", *_KEYS),
    ),
    VenueControl(
        "clear",
        "POST",
        "clear_venue_behavior",
        "Back to the normal venue (fills at once, at its fees); an empty behaviour does the "
        "same; a reset or load restores the scenario's",
        ("tradingAccountId", "clear"),
    ),
    VenueControl(
        "show",
        "GET",
        "venue_behaviors",
        "Every behaviour in effect (`source`: `scenario` or `admin`), of one account with "
        "`tradingAccountId`",
        ("tradingAccountId?",),
    ),
)


def controls_table() -> str:
    """The Venue behaviour controls table of docs/reference.md, as the rows say it."""
    lines = [
        "| control | admin route | handle | body or query | does |",
        "|---|---|---|---|---|",
    ]
    for c in CONTROLS:
        fields = ", ".join(
            f"`{f.rstrip('?')}`" + ("?" if f.endswith("?") else "") for f in c.fields
        )
        lines.append(
            f"| `{c.name}` | `{c.route}` | `mock.{c.method}(...)` | {fields} | {c.summary} |"
        )
    return "\n".join(lines)

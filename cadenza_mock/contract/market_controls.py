"""The market's controls, declared once: what a test does to the market outright (set a
price or a book, halt, resume, gap a price, make a venue's data stale or unavailable).

Each row is one control's one declaration: its admin route (`POST /__admin/market/<name>`,
contract/operation_rows_market.py makes the rows), its handle method (`mock.market.<method>`,
testing/handle.py), its body (validated by engine/market_control.py), and its line in the
Market controls table of docs/reference.md (a test compares the two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_TEXT = {"type": "string", "minLength": 1}
# A decimal above 0 (a digit other than 0 before or after the point), as the controls read it.
_DECIMAL = {"type": "string", "pattern": r"^(\d*[1-9]\d*(\.\d+)?|\d+\.\d*[1-9]\d*)$"}
_SIGNED = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
_LEVEL = {"type": "array", "items": _DECIMAL, "minItems": 2, "maxItems": 2}
_LEVELS = {"type": "array", "items": _LEVEL, "minItems": 1}
VENUE_DATA = ("live", "stale", "unavailable")


@dataclass(frozen=True, slots=True)
class MarketControl:
    """One control: `name` is its admin route's last segment and the key of its body."""

    name: str
    method: str  # mock.market.<method>
    summary: str  # the admin operation's summary and the docs table's "does" column
    properties: dict[str, Any]  # the JSON body's properties (JSON Schema)
    required: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"market/{self.name}"

    def body_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "required": list(self.required),
            "properties": self.properties,
        }


_ID = {"instrumentId": _TEXT}
CONTROLS: tuple[MarketControl, ...] = (
    MarketControl(
        "price",
        "set_price",
        "Set an instrument's price now (rounded to its tick); the walk goes on from it",
        {**_ID, "price": _DECIMAL},
        ("instrumentId", "price"),
    ),
    MarketControl(
        "book",
        "set_book",
        "Set an instrument's whole book ([price, quantity] levels, best first, on the tick "
        "and lot grid, not crossed); it stays until a price is set or a reset",
        {**_ID, "bids": _LEVELS, "asks": _LEVELS},
        ("instrumentId", "bids", "asks"),
    ),
    MarketControl(
        "halt",
        "halt",
        "Halt an instrument: its price, book and ticker freeze, its status reads INACTIVE",
        dict(_ID),
        ("instrumentId",),
    ),
    MarketControl(
        "resume",
        "resume",
        "Resume a halted instrument: the walk goes on from the halted price",
        dict(_ID),
        ("instrumentId",),
    ),
    MarketControl(
        "gap",
        "gap",
        "Gap an instrument's price at an instant (now, or a later `at` ms): to `price`, or "
        "by `percent`; the walk goes on from there",
        {**_ID, "price": _DECIMAL, "percent": _SIGNED, "at": {"type": "integer"}},
        ("instrumentId",),
    ),
    MarketControl(
        "venue",
        "venue_data",
        "Make a venue's market data `stale` (timestamps and prices stop), `unavailable` "
        "(reads answer 503 -18012) or `live` again",
        {"venue": _TEXT, "data": {"type": "string", "enum": list(VENUE_DATA)}},
        ("venue", "data"),
    ),
)
CONTROL_NAMES = tuple(c.name for c in CONTROLS)


def controls_table() -> str:
    """The Market controls table of docs/reference.md, as the rows say it."""
    lines = [
        "| control | admin route | handle | body | does |",
        "|---|---|---|---|---|",
    ]
    for c in CONTROLS:
        body = ", ".join(f"`{name}`" + ("" if name in c.required else "?") for name in c.properties)
        lines.append(
            f"| `{c.name}` | `POST /__admin/{c.path}` | `mock.market.{c.method}(...)` | {body} "
            f"| {c.summary} |"
        )
    return "\n".join(lines)

"""A trading account's trading keys in a scenario: `balances:` (its portfolio's starting
amounts) and `venue_behavior:` (how its venue answers orders). Apart from the account
records (accounts.py) because they feed the orders engine, not the account's own fields;
each value is checked where it stands and kept as text (Decimal made by the engine).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import yaml

from cadenza_mock.contract.venue_controls import BEHAVIOR_KINDS
from cadenza_mock.scenario.nodes import Problems, join


def balances(
    node: yaml.Node | None, path: str, problems: Problems
) -> tuple[tuple[str, str], ...] | None:
    """`balances: {ASSET: "decimal", ...}`: each amount a decimal >= 0 (as text, or a
    number); None when one is wrong (the problem is reported), () when absent."""
    if node is None:
        return ()
    if not isinstance(node, yaml.MappingNode):
        problems.add(node, path, 'expected a mapping of asset to amount, like USDT: "5000"')
        return None
    found: list[tuple[str, str]] = []
    for key, value in node.value:
        where = join(path, str(key.value))
        text = value.value if isinstance(value, yaml.ScalarNode) else None
        try:
            amount = Decimal(str(text)) if text not in (None, "") else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or not str(key.value):
            problems.add(value, where, 'expected a decimal >= 0 such as "5000"')
            return None
        found.append((str(key.value), format(amount, "f")))
    return tuple(found)


# Each key's kind, declared once (contract/venue_controls.py): the admin API's
# `POST /__admin/venue-behavior` is checked by this same reader.
_BEHAVIORS = BEHAVIOR_KINDS
# A venue's delays (seconds on the mock clock) go up to a day.
MAX_DELAY_SECONDS = 86_400


def venue_behavior(
    node: yaml.Node | None, path: str, problems: Problems
) -> tuple[tuple[str, str], ...] | None:
    """`venue_behavior: {reject: true, partial: 0.5, taker_fee: "0.002", ...}`, as text
    pairs; None when one is wrong (the problem is reported), () when absent."""
    if node is None:
        return ()
    if not isinstance(node, yaml.MappingNode):
        problems.add(node, path, f"expected a mapping of {', '.join(_BEHAVIORS)}")
        return None
    found: list[tuple[str, str]] = []
    for key, value in node.value:
        name, where = str(key.value), join(path, str(key.value))
        kind = _BEHAVIORS.get(name)
        text = str(value.value).lower() if isinstance(value, yaml.ScalarNode) else ""
        if kind is None:
            problems.add(key, where, f"unknown venue behavior (allowed: {', '.join(_BEHAVIORS)})")
            return None
        if kind == "flag":
            if text not in ("true", "false"):
                problems.add(value, where, "expected true or false")
                return None
            found.append((name, text))
            continue
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = Decimal(-1)
        if kind == "delay":
            if not amount.is_finite() or not 0 <= amount <= MAX_DELAY_SECONDS:
                problems.add(
                    value,
                    where,
                    f"expected a number of seconds from 0 to {MAX_DELAY_SECONDS} such as 2",
                )
                return None
            found.append((name, format(amount, "f")))
            continue
        low_ok = amount > 0 if kind == "share" else amount >= 0
        if not amount.is_finite() or not low_ok or amount > 1:
            wanted = "a fraction in (0, 1]" if kind == "share" else "a rate in [0, 1]"
            problems.add(value, where, f'expected {wanted} such as "0.5"')
            return None
        found.append((name, format(amount, "f")))
    return tuple(found)

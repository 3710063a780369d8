"""Typed reads of PyYAML nodes that remember where each value came from.

Validating nodes rather than plain dicts is what lets every problem be reported as
`file:line:column`, and lets one pass collect all problems instead of stopping at the first.
Parsing the text into nodes (and checking the tree) is `scenario.yaml_text`'s.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

import yaml

from cadenza_mock.contract.errors import ScenarioIssue, allowed
from cadenza_mock.scenario.yaml_text import MAX_DEPTH as MAX_DEPTH
from cadenza_mock.scenario.yaml_text import _compose_fast as _compose_fast
from cadenza_mock.scenario.yaml_text import compose as compose
from cadenza_mock.scenario.yaml_text import from_data as from_data
from cadenza_mock.scenario.yaml_text import value as value


class Problems:
    """Collects scenario problems; checks return None on failure and keep going."""

    def __init__(self, name: str = "<scenario>") -> None:
        self.issues: list[ScenarioIssue] = []
        self.name = name  # where a problem is, for nodes without marks (built from data)

    def add(self, node: yaml.Node | None, path: str, message: str) -> None:
        mark = node.start_mark if node is not None else None
        where = f"{path}: " if path else ""
        if mark is None:
            self.issues.append(ScenarioIssue(self.name, 0, 0, where + message))
        else:
            self.issues.append(
                ScenarioIssue(mark.name, mark.line + 1, mark.column + 1, where + message)
            )


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{type(value(node)).__name__} {node.value!r}"


def mapping(
    node: yaml.Node, path: str, allowed_keys: Iterable[str], problems: Problems
) -> dict[str, yaml.Node] | None:
    """A mapping's value nodes by key; unknown and repeated keys are problems.

    A misspelled key whose value is a list or mapping (`usres:`, `credentails:`) is read
    as the key it is close to, so the problems inside it are reported in the same pass
    instead of after the typo is fixed; the load fails on the typo either way.
    """
    if not isinstance(node, yaml.MappingNode):
        if not path:
            # The top of a file: never quote it. The admin API loads paths it is given, and
            # a file that is not a scenario must not have its content sent back.
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
            problems.add(node, path, f"not a scenario: expected a mapping of keys, got {kind}")
        else:
            problems.add(node, path, f"expected a mapping, got {describe(node)}")
        return None
    known = list(allowed_keys)
    given = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    result: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            problems.add(key_node, path, "keys must be strings")
            continue
        if key in result:
            problems.add(key_node, join(path, key), "key given twice")
            continue
        if key not in known:
            problems.add(key_node, join(path, key), f"unknown key {key!r}{suggest(key, known)}")
            meant = close_match(key, known, MEANT_CUTOFF)
            if (
                meant is not None
                and meant not in given
                and meant not in result
                and isinstance(value_node, yaml.MappingNode | yaml.SequenceNode)
            ):
                result[meant] = value_node
            continue
        result[key] = value_node
    return result


# How alike a word must be to a choice (difflib's ratio) to be suggested, and to be taken
# for it (a misspelled key read as the key it is close to): the second asks for more.
SUGGEST_CUTOFF = 0.6
MEANT_CUTOFF = 0.75


def read_aliases(
    fields: dict[str, yaml.Node], path: str, aliases: dict[str, str], problems: Problems
) -> bool:
    """Read the other profile's key names (`nickname` for `name`) as this one's, in place;
    False (with a problem) where an entry gives both spellings of one field."""
    ok = True
    for alias, canonical in aliases.items():
        if alias in fields and canonical in fields:
            problems.add(
                fields[alias], join(path, alias), f"give {alias!r} or {canonical!r}, not both"
            )
            ok = False
        elif alias in fields:
            fields[canonical] = fields.pop(alias)
    return ok


def close_match(word: str, choices: Iterable[str], cutoff: float = SUGGEST_CUTOFF) -> str | None:
    """The choice `word` most likely means: the same word in another case (`binance` for
    BINANCE), else the closest spelling at least `cutoff` alike, case aside (`Limt` for
    limit); None if nothing is. Scenario files and request hints both ask this."""
    by_folded: dict[str, str] = {}
    for option in choices:
        by_folded.setdefault(option.casefold(), option)  # the first spelling of each wins
    folded = word.casefold()
    if folded in by_folded:
        return by_folded[folded]
    close = difflib.get_close_matches(folded, by_folded, n=1, cutoff=cutoff)
    return by_folded[close[0]] if close else None


def suggest(word: str, choices: Iterable[str]) -> str:
    """A `did you mean` hint plus the allowed list, for unknown keys and values."""
    options = list(choices)
    close = close_match(word, options)
    hint = f"; did you mean {close!r}?" if close is not None else ""
    return f" (allowed: {allowed(options)}){hint}"


def items(node: yaml.Node, path: str, problems: Problems) -> Iterator[tuple[int, yaml.Node]]:
    if not isinstance(node, yaml.SequenceNode):
        problems.add(node, path, f"expected a list, got {describe(node)}")
        return
    yield from enumerate(node.value)


def scalar(node: yaml.Node, path: str, kind: type | tuple[type, ...], problems: Problems) -> Any:
    """A scalar of the given Python type, or None (and a problem) if it is not one."""
    if isinstance(node, yaml.ScalarNode):
        result = value(node)
        # bool is an int in Python, but `seed: true` is a mistake, not a seed.
        if isinstance(result, kind) and not (isinstance(result, bool) and bool not in _kinds(kind)):
            return result
    names = " or ".join(k.__name__ for k in _kinds(kind))
    problems.add(node, path, f"expected {names}, got {describe(node)}")
    return None


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def string_list(node: yaml.Node, path: str, problems: Problems) -> list[tuple[str, yaml.Node]]:
    result = []
    for index, item in items(node, path, problems):
        text = scalar(item, join(path, index), str, problems)
        if text is not None:
            result.append((text, item))
    return result


def enum(
    node: yaml.Node,
    path: str,
    choices: Iterable[str],
    problems: Problems,
    what: str,
    elsewhere: Mapping[str, Iterable[str]] | None = None,
) -> str | None:
    """One of `choices`, or None and a problem naming the allowed values and the likely fix.

    `elsewhere` holds the values of the other wire profiles by profile name: a value valid
    only there says which `profile:` the file needs, not merely that it is unknown.
    """
    text = scalar(node, path, str, problems)
    if text is None:
        return None
    options = list(choices)
    if text not in options:
        message = f"unknown {what} {text!r}{suggest(text, options)}"
        for profile, values in (elsewhere or {}).items():
            if text in values:
                article = "an" if profile[:1] in "aeios" else "a"
                message = (
                    f"{what} {text!r} is {article} {profile}-profile value: set "
                    f"`profile: {profile}` (allowed in this profile: {allowed(options)})"
                )
                break
        problems.add(node, path, message)
        return None
    return str(text)


# Timestamps must stay renderable as ISO-8601 (the sdk twins) with room for the clock to
# move: from 1971 (generated data reaches 400 days back from `now`) to the year 9000.
FIRST_MS = 400 * 86_400_000
LAST_MS = 221_845_392_000_000  # 9000-01-01T00:00:00Z


def timestamp_ms(node: yaml.Node, path: str, problems: Problems) -> int | None:
    """Integer ms, or an ISO-8601 string / YAML timestamp (UTC unless it says otherwise)."""
    raw = value(node) if isinstance(node, yaml.ScalarNode) else None
    result: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        result = raw
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raw = None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        raw = datetime(raw.year, raw.month, raw.day)
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raw = raw.replace(tzinfo=UTC)
        result = int(raw.timestamp() * 1000)
    if result is None:
        problems.add(
            node,
            path,
            "expected milliseconds since the epoch or an ISO-8601 time like 2026-01-15T12:00:00Z",
        )
        return None
    if not FIRST_MS <= result <= LAST_MS:
        problems.add(node, path, "out of range: give a time between 1971 and 9000")
        return None
    return result


def secret(node: yaml.Node, path: str, problems: Problems) -> str | None:
    """A secret string (apiKey, apiSecret, apiPassphrase, password): like `scalar`, but a
    wrong value is never quoted back, since error messages reach logs and HTTP clients."""
    if isinstance(node, yaml.ScalarNode):
        result = value(node)
        if isinstance(result, str):
            return result
        problems.add(
            node, path, f"expected str, got {type(result).__name__} (value not shown: a secret)"
        )
        return None
    problems.add(node, path, f"expected str, got {describe(node)}")
    return None

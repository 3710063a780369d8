"""Typed reads of PyYAML nodes that remember where each value came from.

Validating nodes rather than plain dicts is what lets every problem be reported as
`file:line:column`, and lets one pass collect all problems instead of stopping at the first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from cadenza_mock.errors import ScenarioIssue, allowed

_constructor = yaml.constructor.SafeConstructor()


class Problems:
    """Collects scenario problems; checks return None on failure and keep going."""

    def __init__(self) -> None:
        self.issues: list[ScenarioIssue] = []

    def add(self, node: yaml.Node | None, path: str, message: str) -> None:
        mark = node.start_mark if node is not None else None
        where = f"{path}: " if path else ""
        if mark is None:
            self.issues.append(ScenarioIssue("<scenario>", 0, 0, where + message))
        else:
            self.issues.append(
                ScenarioIssue(mark.name, mark.line + 1, mark.column + 1, where + message)
            )


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def value(node: yaml.Node) -> Any:
    """The plain Python value of a node (scalars, lists, dicts)."""
    return _constructor.construct_object(node, deep=True)


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{type(value(node)).__name__} {node.value!r}"


def mapping(
    node: yaml.Node, path: str, allowed_keys: Iterable[str], problems: Problems
) -> dict[str, yaml.Node] | None:
    """A mapping's value nodes by key; unknown and repeated keys are problems."""
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
            continue
        result[key] = value_node
    return result


def suggest(word: str, choices: Iterable[str]) -> str:
    """A `did you mean` hint plus the allowed list, for unknown keys and values."""
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
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
    node: yaml.Node, path: str, choices: Iterable[str], problems: Problems, what: str
) -> str | None:
    text = scalar(node, path, str, problems)
    if text is None:
        return None
    options = list(choices)
    if text not in options:
        problems.add(node, path, f"unknown {what} {text!r}{suggest(text, options)}")
        return None
    return text

"""How many records a scenario asks for: read from its source before anything is built,
and counted exactly once it is.

A `generate: 200000` line costs a few bytes to send and hundreds of megabytes to build,
so a budget (the namespaces' `--max-records`) is checked against what a source declares
first, where refusing is instant, and against what was built after.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.scenario.build import Scenario
from cadenza_mock.scenario.nodes import value
from cadenza_mock.scenario.sources import Confinement, SourceText, document

# The `users` keys whose entries are records (a `generate: N` entry is N of them).
_RECORD_KEYS = ("credentials", "trading_accounts")


def built_records(scenario: Scenario) -> int:
    """The records a built scenario holds: credentials, trading accounts and the
    accounts' history entries."""
    return (
        len(scenario.credentials)
        + len(scenario.trading_accounts)
        + len(scenario.account_operations)
    )


def declared_records(
    source: str | Path | Mapping[str, Any] | Scenario,
    *,
    text: bool = False,
    confined: Confinement | None = None,
) -> int:
    """The credentials and trading accounts a source's users declare, `extends` included:
    N for a `generate: N` entry, 1 for any other. A lower bound of `built_records` (history
    entries are not declared); 0 for a source that cannot be read (its build says why).

    `text`: a str source is YAML text (a request body), not a name or path.
    """
    if isinstance(source, Scenario):
        return built_records(source)
    given: str | Path | Mapping[str, Any] | SourceText = source
    if text and isinstance(source, str):
        given = SourceText(source, "<request body>")
    try:
        root = document(given, None, [], confined)[0]
    except (ScenarioError, ValueError, OSError):
        return 0
    total = 0
    for user in _children(_field(root, "users")):
        for key in _RECORD_KEYS:
            for entry in _children(_field(user, key)):
                total += _count(entry)
    return total


def _field(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if getattr(k, "value", None) == key), None)


def _children(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _count(entry: yaml.Node) -> int:
    """What one entry builds: its `generate` count, else one record (a bad count: none,
    the build refuses it)."""
    node = _field(entry, "generate")
    if not isinstance(node, yaml.ScalarNode):
        return 1
    try:
        count = value(node)
    except yaml.YAMLError:
        return 0
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0

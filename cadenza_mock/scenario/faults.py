"""The `faults:` vocabulary of scenario files (validated here, evaluated by the engine)."""

from __future__ import annotations

from typing import Any

import yaml

from cadenza_mock.scenario.nodes import Problems, describe, value


def parse_fault(node: yaml.Node, path: str, problems: Problems) -> dict[str, Any] | None:
    if not isinstance(node, yaml.MappingNode):
        problems.add(node, path, f"expected a mapping, got {describe(node)}")
        return None
    return value(node)

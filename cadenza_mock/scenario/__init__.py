"""Scenario files: YAML in, validated `Scenario` out. Never imports aiohttp."""

from cadenza_mock.scenario.loader import (
    Scenario,
    bundled_descriptions,
    bundled_dir,
    bundled_names,
    is_uuid,
    load_scenario,
    load_scenario_text,
    validate_file,
)

__all__ = [
    "Scenario",
    "bundled_descriptions",
    "bundled_dir",
    "bundled_names",
    "is_uuid",
    "load_scenario",
    "load_scenario_text",
    "validate_file",
]

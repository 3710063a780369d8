"""Scenario files: YAML in, validated `Scenario` out. Never imports aiohttp."""

from cadenza_mock.scenario.loader import (
    NOT_ALLOWED,
    Confinement,
    Scenario,
    bundled_descriptions,
    bundled_dir,
    bundled_names,
    is_bundled_name,
    is_uuid,
    load_scenario,
    load_scenario_text,
    validate_file,
)

__all__ = [
    "NOT_ALLOWED",
    "Confinement",
    "Scenario",
    "bundled_descriptions",
    "bundled_dir",
    "bundled_names",
    "is_bundled_name",
    "is_uuid",
    "load_scenario",
    "load_scenario_text",
    "validate_file",
]

"""Scenario files: YAML in, validated `Scenario` out. Never imports aiohttp."""

from cadenza_mock.contract.model import is_bundled_name
from cadenza_mock.scenario.build import MAX_CREDENTIALS, Scenario
from cadenza_mock.scenario.loader import load_scenario, load_scenario_text, validate_file
from cadenza_mock.scenario.records import is_uuid
from cadenza_mock.scenario.sources import (
    NOT_ALLOWED,
    Confinement,
    bundled_descriptions,
    bundled_dir,
    bundled_names,
    bundled_path,
)

__all__ = [
    "MAX_CREDENTIALS",
    "NOT_ALLOWED",
    "Confinement",
    "Scenario",
    "bundled_descriptions",
    "bundled_dir",
    "bundled_names",
    "bundled_path",
    "is_bundled_name",
    "is_uuid",
    "load_scenario",
    "load_scenario_text",
    "validate_file",
]

"""cadenza-mock: an offline emulator of the Cadenza credential API.

Point a Cadenza client at it in tests, in a container, or by hand with curl; it answers
with fake, schema-faithful credentials from YAML scenarios.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadenza_mock.version import __version__

__all__ = [
    "ApiError",
    "MockServer",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "make_app",
]

if TYPE_CHECKING:
    from cadenza_mock.errors import ApiError, ScenarioError
    from cadenza_mock.http.app import make_app
    from cadenza_mock.scenario import Scenario, load_scenario
    from cadenza_mock.server import MockServer

# Lazy attributes keep `import cadenza_mock` cheap: the pytest plugin is imported by every
# pytest run in a project that installs us, whether or not a test uses the mock.
_LAZY = {
    "ApiError": "cadenza_mock.errors",
    "ScenarioError": "cadenza_mock.errors",
    "make_app": "cadenza_mock.http.app",
    "Scenario": "cadenza_mock.scenario",
    "load_scenario": "cadenza_mock.scenario",
    "MockServer": "cadenza_mock.server",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'cadenza_mock' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)

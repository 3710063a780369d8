"""cadenza-mock: an offline emulator of the Cadenza credential API.

Point a Cadenza client at it in tests, in a container, or by hand with curl; it answers
with fake, schema-faithful credentials from YAML scenarios.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadenza_mock.version import __version__

__all__ = [
    "ApiError",
    "FaultSpec",
    "HandlerError",
    "Headers",
    "JournalEntry",
    "MockHandle",
    "MockServer",
    "RemoteError",
    "RemoteMock",
    "Scenario",
    "ScenarioError",
    "StateFileError",
    "User",
    "__version__",
    "load_scenario",
    "make_app",
    "openapi_document",
]

if TYPE_CHECKING:
    from cadenza_mock.contract.errors import ApiError, ScenarioError
    from cadenza_mock.contract.model import User
    from cadenza_mock.engine.journal import Headers, JournalEntry
    from cadenza_mock.engine.persist import StateFileError
    from cadenza_mock.http.app import make_app
    from cadenza_mock.run.server import HandlerError, MockServer
    from cadenza_mock.scenario import Scenario, load_scenario
    from cadenza_mock.scenario.fault_spec import FaultSpec
    from cadenza_mock.specs.openapi import openapi_document
    from cadenza_mock.testing.handle import MockHandle
    from cadenza_mock.testing.remote import RemoteError, RemoteMock

# Lazy attributes keep `import cadenza_mock` cheap: the pytest plugin is imported by every
# pytest run in a project that installs us, whether or not a test uses the mock.
# The fixture is a `MockHandle` (a `MockServer`, or a `RemoteMock` with --cadenza-url):
# annotate tests with that; the rest are what its methods take, return and raise.
_LAZY = {
    "ApiError": "cadenza_mock.contract.errors",
    "ScenarioError": "cadenza_mock.contract.errors",
    "make_app": "cadenza_mock.http.app",
    "Scenario": "cadenza_mock.scenario",
    "load_scenario": "cadenza_mock.scenario",
    "MockServer": "cadenza_mock.run.server",
    "HandlerError": "cadenza_mock.run.server",
    "MockHandle": "cadenza_mock.testing.handle",
    "RemoteMock": "cadenza_mock.testing.remote",
    "RemoteError": "cadenza_mock.testing.remote",
    "JournalEntry": "cadenza_mock.engine.journal",
    "Headers": "cadenza_mock.engine.journal",
    "FaultSpec": "cadenza_mock.scenario.fault_spec",
    "User": "cadenza_mock.contract.model",
    "StateFileError": "cadenza_mock.engine.persist",
    "openapi_document": "cadenza_mock.specs.openapi",
}


def __dir__() -> list[str]:
    return sorted(__all__)


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'cadenza_mock' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)

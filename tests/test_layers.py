"""The layering rules of design.md, checked in fresh interpreters."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import cadenza_mock.contract
import cadenza_mock.engine
import cadenza_mock.scenario

LOWER_LAYERS = [
    module.name
    for package in (cadenza_mock.contract, cadenza_mock.scenario, cadenza_mock.engine)
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
]


def imported_after(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def test_scenario_and_engine_never_import_aiohttp():
    assert "cadenza_mock.scenario.loader" in LOWER_LAYERS
    assert "cadenza_mock.engine.store" in LOWER_LAYERS
    loaded = imported_after(LOWER_LAYERS)
    assert set(LOWER_LAYERS) <= loaded
    assert not {m for m in loaded if m == "aiohttp" or m.startswith("aiohttp.")}
    assert not {m for m in loaded if m.startswith("cadenza_mock.http")}


def test_loading_a_scenario_without_generation_does_not_import_faker():
    code = (
        "import sys\n"
        "from cadenza_mock.scenario import load_scenario\n"
        "load_scenario({'users': [{'email': 'a@example.com', 'tokens': ['t'],"
        " 'credentials': [{'venue': 'OKX', 'name': 'n'}]}]})\n"
        "print('faker' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False"


def test_the_aiohttp_sentinel_works():
    """The check above could pass vacuously if sys.modules were read wrongly."""
    assert "aiohttp" in imported_after(["cadenza_mock.http.app"])

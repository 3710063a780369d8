"""The layering rules (README "Development": each tier depends only on the ones below it):
the import graph read from the source, and the lower tiers checked in fresh interpreters."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

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


# Bottom first: a module may import its own tier and the tiers before it in this list. The
# top (the package's face, `python -m`, the pytest plugin) may import anything.
TIERS = ["seeded", "version", "contract", "scenario", "engine", "specs", "http", "testing", "run"]
TOP = {"__init__", "__main__", "pytest_plugin", "pytest_markers", "testcontainers"}
# Imports that still reach up a tier, each (importing module, imported module). Keep the
# list exact: a new one fails below, and so does an entry whose import has gone.
KNOWN_UPWARD = {
    ("cadenza_mock.contract.rpc_params", "cadenza_mock.engine.subscriptions"),
    ("cadenza_mock.contract.rpc_wire", "cadenza_mock.engine.subscriptions"),
    ("cadenza_mock.specs.asyncapi", "cadenza_mock.http.rpc"),
    # Only under TYPE_CHECKING: the wire shapes name the engine's read results' types.
    ("cadenza_mock.contract.market_wire", "cadenza_mock.engine.market"),
    ("cadenza_mock.contract.trading_wire", "cadenza_mock.engine.orders"),
    ("cadenza_mock.contract.trading_wire", "cadenza_mock.engine.portfolio"),
    ("cadenza_mock.contract.quote_wire", "cadenza_mock.engine.quotes"),
}
PACKAGE = Path(cadenza_mock.contract.__file__).resolve().parent.parent


def _tier(module: str) -> str:
    return module.split(".")[1]


def package_imports() -> set[tuple[str, str]]:
    """(importer, imported) for every import of a cadenza_mock module in the package, at
    any depth (imports inside functions and TYPE_CHECKING blocks count)."""
    found: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        importer = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found |= {(importer, n) for n in names if n.startswith("cadenza_mock.")}
    return found


def test_each_tier_imports_only_its_own_and_the_ones_below():
    imports = package_imports()
    assert ("cadenza_mock.http.app", "cadenza_mock.engine.state") in imports  # read right
    upward = set()
    for importer, imported in imports:
        if importer.count(".") == 0 or _tier(importer) in TOP:
            continue
        low, high = _tier(importer), _tier(imported)
        assert low in TIERS and high in TIERS + list(TOP), (importer, imported)
        if high in TOP or TIERS.index(high) > TIERS.index(low):
            upward.add((importer, imported))
    assert upward - KNOWN_UPWARD == set(), "a lower tier imports a higher one"
    assert KNOWN_UPWARD - upward == set(), "gone: remove it from KNOWN_UPWARD"


@pytest.mark.parametrize(
    "first",
    [
        "cadenza_mock.contract.operations",
        "cadenza_mock.contract.errors",
        "cadenza_mock.scenario",
        "cadenza_mock.scenario.fault_actions",
        "cadenza_mock.engine.faults",
        "cadenza_mock.engine.stubs",
        "cadenza_mock.engine.store",
        "cadenza_mock.specs.openapi",
        "cadenza_mock.http.app",
        "cadenza_mock.run.cli",
        "cadenza_mock.testing.remote",
    ],
)
def test_each_tier_imports_first_without_a_cycle(first: str) -> None:
    """The suite imports the app first, which hides an import cycle that only shows when
    another tier is imported first (as a user's script or a tool may)."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {first}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]

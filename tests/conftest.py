"""Shared fixtures: an app or a client over real HTTP, built the one way apps are built.

`client` serves the bundled `default` scenario unless a test sets
`@pytest.mark.scenario("name" | path | dict)`; `make_client(source)` builds more clients
(e.g. two scenarios in one test). Other test modules reuse these by name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cadenza_mock.http.app import make_app

REPO = Path(__file__).resolve().parent.parent
LIST = "/api/v3/credential/list"
# Users of the bundled scenarios (see scenarios/*.yaml).
ALICE_TOKEN = "alice-token"
ALICE = {"Authorization": f"Bearer {ALICE_TOKEN}"}

MakeClient = Callable[..., Awaitable[TestClient]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "scenario(source): scenario the `client` fixture serves (name, path or dict)"
    )


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a token: `headers=bearer("bob-token")`."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_client(aiohttp_client: Any) -> MakeClient:
    """`await make_client(scenario, **make_app_options)` -> aiohttp TestClient on a real socket."""

    async def build(scenario: Any = "default", **options: Any) -> TestClient:
        return await aiohttp_client(make_app(scenario, **options))

    return build


@pytest.fixture
async def client(request: pytest.FixtureRequest, make_client: MakeClient) -> TestClient:
    """`client.get(LIST, headers=ALICE)`: the mock serving the marked (or default) scenario."""
    marker = request.node.get_closest_marker("scenario")
    return await make_client(marker.args[0] if marker else "default")


@pytest.fixture(scope="session")
def many_scenario() -> Any:
    """The bundled 10,000-record `many` scenario, loaded once per session (it is slow-ish)."""
    from cadenza_mock.scenario import load_scenario

    return load_scenario("many")


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`cadenza-mock ARGS` in a fresh interpreter (`python -m cadenza_mock`), text output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cadenza_mock", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    """Write a scenario file (dedented by the caller) and return its path."""
    path.write_text(text, encoding="utf-8")
    return path

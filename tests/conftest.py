"""Shared fixtures: an app or a client over real HTTP, built the one way apps are built.

`client` serves the bundled `default` scenario unless a test sets
`@pytest.mark.scenario("name" | path | dict)`; `make_client(source)` builds more clients
(e.g. two scenarios in one test). Other test modules reuse these by name.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
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

# Every response any test gets must conform to the OpenAPI document (see that module).
pytest_plugins = ["openapi_conformance"]


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


class Served:
    """A `cadenza-mock serve` subprocess: its printed banner, URL and token, and its output."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        # Port 0 unless the test chooses one (by flag or CADENZA_MOCK_PORT).
        if "--port" not in args and "CADENZA_MOCK_PORT" not in (env or {}):
            args = ["--port", "0", *args]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cadenza_mock", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, needle: str, timeout: float = 30) -> str:
        """Output lines up to and including the first containing `needle` (or the end)."""
        seen = []
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                return "".join(seen)
            self.output.append(line)
            seen.append(line)
            if needle in line:
                return "".join(seen)

    def banner(self) -> tuple[str, str]:
        """(url, token) parsed from the banner's curl line."""
        text = self.read_until("curl ")
        match = re.search(r"Bearer ([^']+)' (http://[^/\s]+)/api/v3/credential/list", text)
        assert match, f"no curl line in:\n{text}"
        return match.group(2), match.group(1)

    def stop(self, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM, wait, and return (exit code, all output)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.read_until("\0never\0", timeout=timeout)
        return code, "".join(self.output)


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """`serve("--scenario", "empty", env={...})` -> a started `Served`; killed at teardown."""
    started: list[Served] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Served:
        served = Served(list(args), env)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(timeout=30)


@pytest.fixture(scope="session", autouse=True)
def _client_libraries_fully_imported() -> None:
    """Exercise every HTTP client once before any test runs.

    pytester's in-process runs (plugin and README tests) drop the modules first imported
    inside them. Client libraries import parts lazily (httpx's transport, h11, anyio
    backends), and a second copy of those parts raises exception classes the already
    imported ones do not know: a dropped connection then surfaces as a raw
    `httpcore.RemoteProtocolError` instead of `httpx.RemoteProtocolError`, depending on
    test order. Importing everything up front keeps one copy for the whole session.
    """
    import asyncio

    import aiohttp
    import httpx
    import requests

    from cadenza_mock import MockServer

    with MockServer("empty") as mock:
        url = mock.url + LIST
        assert requests.get(url, headers=ALICE, timeout=10).ok
        assert httpx.get(url, headers=ALICE, timeout=10).is_success

        async def both_async_clients() -> None:
            async with httpx.AsyncClient(timeout=10) as client:
                assert (await client.get(url, headers=ALICE)).is_success
            async with aiohttp.ClientSession() as session, session.get(url, headers=ALICE) as r:
                assert r.ok

        asyncio.run(both_async_clients())

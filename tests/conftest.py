"""Shared fixtures: an app or a client over real HTTP, built the one way apps are built.

`client` serves the bundled `default` scenario unless a test sets
`@pytest.mark.scenario("name" | path | dict)`; `make_client(source)` builds more clients
(e.g. two scenarios in one test). Other test modules reuse these by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from support import ALICE, LIST, MakeClient, Served

from cadenza_mock.http.app import make_app

# Every response any test gets must conform to the OpenAPI document (see that module).
pytest_plugins = ["openapi_conformance"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "scenario(source): scenario the `client` fixture serves (name, path or dict)"
    )


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


@pytest.fixture(scope="session")
def official_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The folder holding the generated official client (`cadenza_client`, see
    tests/official_client.py), generated once and cached; skips saying why where it cannot
    be (fails instead under CI, CADENZA_MOCK_REQUIRE_CLIENT=1, when only Java or a
    package is missing)."""
    import official_client as oc

    why = oc.missing()
    if why:
        if oc.REQUIRED and oc.DOCUMENT.is_file():
            pytest.fail(f"the official client cannot be generated: {why}")
        pytest.skip(why)
    cache = getattr(request.config, "cache", None)
    where = cache.mkdir("official-client") if cache else tmp_path_factory.mktemp("client")
    return oc.generate(where)

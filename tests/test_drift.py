"""`cadenza-mock drift` against upstreams started here: a second mock (no drift, in its own
profile; everything, in the other), and a small aiohttp app answering doctored shapes, one
kind of difference each, which the report must name. Nothing but GETs and WebSocket
queries reach the upstream; the token is never printed."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiohttp import WSMsgType, web
from support import run_cli

from cadenza_mock import MockServer

TOKEN = "Zq8canary-drift-token-never-printed-52"
PATHS = (
    "/api/v3/credential/list",
    "/api/v3/tradingAccount/list",
    "/api/v3/tradingAccount/operation/list",
    "/api/v3/health",
    "/api/v3",
)


@pytest.mark.parametrize("profile", ["docs", "sdk"])
def test_a_mock_of_the_same_profile_shows_no_drift(profile):
    with MockServer("accounts", profile=profile) as upstream:
        done = run_cli("drift", "--against", upstream.url, "--token", "alice-token")
        other = run_cli(
            "drift",
            "--against",
            upstream.url,
            "--profile",
            "sdk" if profile == "docs" else "docs",
            "--json",
            env={"CADENZA_MOCK_TOKEN": "alice-token"},
        )
        journal = requests.get(upstream.url + "/__admin/requests", timeout=10).json()
    if profile == "docs":
        assert done.returncode == 0, done.stdout
        assert "no difference in 8 answers" in done.stdout
    else:  # the default --profile is docs: an sdk service drifts from it
        assert done.returncode == 1
    report = json.loads(other.stdout)
    assert other.returncode == 1 and report["drift"] is True
    kinds = {d["kind"] for d in report["differences"]}
    assert {"missing field", "unknown field"} <= kinds
    assert len(report["checked"]) == 8
    methods = {entry["method"] for entry in journal["data"]}
    assert methods <= {"GET", "RPC"} and "RPC" in methods  # nothing written upstream


# A doctored upstream: the docs profile's answers, each bent one way.
CREDENTIAL = {
    "credentialId": "660e8400-e29b-41d4-a716-446655440000",
    "userId": "4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11",
    "venue": "BINANCE",
    "name": "main",
    "type": "EXCHANGE",
    "apiKey": "abc123***",
    "status": "ACTIVE",
    "createdAt": 1703052635110,
    "updatedAt": 1703052635110,
}


def _ok(data: Any) -> dict[str, Any]:
    return {"data": data, "success": True, "errno": 0, "error": None}


DOCTORED: dict[str, tuple[int, Any]] = {
    # an unknown field (carrying the token: its value must not be printed), a missing one,
    # an enum value the document does not have
    "/api/v3/credential/list": (
        200,
        _ok(
            [
                {**CREDENTIAL, "secretThing": TOKEN},
                {k: v for k, v in CREDENTIAL.items() if k != "apiKey"},
                {**CREDENTIAL, "status": "SUSPENDED"},
            ]
        ),
    ),
    # a type difference: createdAt as a string
    "/api/v3/tradingAccount/list": (
        200,
        _ok(
            [
                {
                    "tradingAccountId": "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11",
                    "userId": CREDENTIAL["userId"],
                    "venue": "BINANCE",
                    "name": "Main spot",
                    "accountType": "SPOT",
                    "status": "ACTIVE",
                    "createdAt": "2025-10-01T09:00:00Z",
                    "updatedAt": 1759309200000,
                }
            ]
        ),
    ),
    # an envelope difference: the keys in another order
    "/api/v3/tradingAccount/operation/list": (
        200,
        {"success": True, "data": [], "errno": 0, "error": None},
    ),
    # a status the document does not list
    "/api/v3/health": (418, {"status": "teapot"}),
}


class Doctored:
    """The doctored upstream on a real socket, in a thread; `seen` lists its requests."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _app(self) -> web.Application:
        async def rest(request: web.Request) -> web.StreamResponse:
            self.seen.append(f"{request.method} {request.path}")
            if request.path == "/api/v3":  # not JSON at all
                return web.Response(text="<html>hello</html>", content_type="text/html")
            status, body = DOCTORED[request.path]
            return web.json_response(body, status=status)

        async def ws(request: web.Request) -> web.StreamResponse:
            self.seen.append("WS")
            socket_ = web.WebSocketResponse()
            await socket_.prepare(request)
            async for message in socket_:
                if message.type != WSMsgType.TEXT:
                    break
                command = json.loads(message.data)
                if "connect" in command:
                    reply = {"id": command["id"], "connect": {"client": "x", "version": "1"}}
                else:
                    self.seen.append("RPC " + command["rpc"]["method"])
                    # `data` and `error` both: the reply's result is neither shape
                    data = {"data": [], "error": {"code": 1, "message": "?"}}
                    reply = {"id": command["id"], "rpc": {"data": data}}
                await socket_.send_str(json.dumps(reply))
            return socket_

        app = web.Application()
        app.router.add_get("/connection/websocket", ws)
        app.router.add_route("*", "/{tail:.*}", rest)
        return app

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            runner = web.AppRunner(self._app())
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

        self._loop.run_until_complete(main())

    def __enter__(self) -> Doctored:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def doctored() -> Iterator[Doctored]:
    with Doctored() as upstream:
        yield upstream


def test_each_kind_of_difference_is_named(doctored):
    done = run_cli("drift", "--against", doctored.url, "--token", TOKEN, "--json")
    assert done.returncode == 1, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    found = {
        (d["operation"], d["kind"], d["where"]) for d in json.loads(done.stdout)["differences"]
    }
    listed = "GET /api/v3/credential/list"
    assert (listed, "unknown field", "/data/*/secretThing") in found
    assert (listed, "missing field", "/data/*/apiKey") in found
    assert (listed, "enum", "/data/*/status") in found
    assert ("GET /api/v3/tradingAccount/list", "type", "/data/*/createdAt") in found
    assert ("GET /api/v3/tradingAccount/operation/list", "envelope", "") in found
    assert ("GET /api/v3/health", "status", "") in found
    assert ("GET /api/v3", "envelope", "") in found  # not JSON
    assert any(op == "RPC query.credential.list" for op, _, _ in found)
    # Only reads reached it: GETs and WebSocket queries.
    assert doctored.seen and all(
        s.startswith(("GET ", "WS", "RPC query.")) for s in doctored.seen
    ), doctored.seen


def test_the_readable_report_names_places_not_values(doctored):
    done = run_cli("drift", "--against", doctored.url, "--token", TOKEN)
    assert done.returncode == 1
    text = done.stdout
    assert "against the mock's docs profile:" in text and "of 8 answers" in text
    assert "unknown field /data/*/secretThing: expected no such field, found string" in text
    assert "enum          /data/*/status: expected one of 'ACTIVE', 'REVOKED', found" in text
    assert "status        (the answer): expected one of 200, 400, 403, 404, found 418" in text
    assert TOKEN not in text and "SUSPENDED" in text  # a short enum value is shown


def test_an_unreachable_service_is_drift_and_usage_errors_are_2():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{free.getsockname()[1]}"
    done = run_cli("drift", "--against", url, "--token", TOKEN)
    assert done.returncode == 1 and "found none (ClientConnectorError)" in done.stdout
    assert TOKEN not in done.stdout
    assert run_cli("drift", "--against", "nowhere", "--token", "t").returncode == 2
    empty = run_cli("drift", "--against", url, env={"CADENZA_MOCK_TOKEN": ""})
    assert empty.returncode == 2 and "--token is empty" in empty.stderr

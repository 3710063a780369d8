"""What the tests share: the bundled scenarios' users, small request helpers, and a
`cadenza-mock serve` subprocess wrapper. Fixtures live in conftest.py; this is imported."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
LIST = "/api/v3/credential/list"
# Users of the bundled scenarios (see scenarios/*.yaml).
ALICE_TOKEN = "alice-token"
ALICE = {"Authorization": f"Bearer {ALICE_TOKEN}"}

MakeClient = Callable[..., Awaitable[TestClient]]


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a token: `headers=bearer("bob-token")`."""
    return {"Authorization": f"Bearer {token}"}


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


# The fuzz tests' base settings: the same inputs on every run (no example database), no
# deadline on a shared CI machine, and module-scoped servers reset between examples.
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the suite's autouse fixtures; state is reset
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


def error_text(response: requests.Response, status: int, errno: int) -> str:
    """The error message of an envelope answer, after checking its status, type and errno."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False and body["errno"] == errno, body
    return str(body["error"])


def module_mock(scenario: object) -> tuple[Any, Any]:
    """Fixtures `server` (one MockServer on `scenario` for the module) and `mock` (that
    server with the scenario loaded afresh: a fresh clock and market for each test).

    Use: `server, mock = module_mock(SCENARIO)` at a test module's top."""
    from cadenza_mock.run.server import MockServer

    @pytest.fixture(scope="module")
    def server() -> Any:
        with MockServer(scenario=scenario) as started:
            yield started
            started.check_handler_errors()

    @pytest.fixture
    def mock(server: MockServer) -> MockServer:
        server.load(scenario)
        return server

    return server, mock


def read_answer(sock: socket.socket) -> bytes:
    """One HTTP answer read off a raw socket, as `status line\nbody` (its Content-Length
    body whole; the headers, which hold the date, left out)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        more = sock.recv(65536)
        if not more:
            break
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0] + b"\n" + body


def _length(data: bytes) -> int:
    head = data.partition(b"\r\n\r\n")[0].lower()
    found = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
    return int(found.group(1)) if found else 0

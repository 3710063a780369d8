"""A team deployment on one machine: HAProxy (deploy/haproxy.cfg, as shipped) in front of
three `cadenza-mock serve` processes, each with its --replica-id. Imported by the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.support import REPO, Served

CONFIG = REPO / "deploy" / "haproxy.cfg"
# The server names of deploy/haproxy.cfg: the StatefulSet's pod names.
REPLICAS = ("cadenza-mock-0", "cadenza-mock-1", "cadenza-mock-2")
# Debian installs it in /usr/sbin, which is not on every user's PATH.
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
requires_haproxy = pytest.mark.skipif(
    HAPROXY is None,
    reason="haproxy is not installed (Debian: apt-get install haproxy; .ci/run installs it)",
)


def free_port() -> int:
    """A port free right now on 127.0.0.1 (HAProxy's own; the replicas bind port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Team:
    """Three replicas and the balancer; `url` is the balancer's."""

    def __init__(self, serve: Callable[..., Served], *args: str) -> None:
        self._serve = serve
        self._args = args
        self.replicas: dict[str, Served] = {}
        self.replica_urls: dict[str, str] = {}
        for name in REPLICAS:
            self.start_replica(name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "CADENZA_LB_BIND": f"127.0.0.1:{self.port}",
            **{
                f"CADENZA_MOCK_REPLICA_{i}": self.replica_urls[name].removeprefix("http://")
                for i, name in enumerate(REPLICAS)
            },
        }
        assert HAPROXY is not None
        # Its log (servers going down and up) in a file: a pipe nobody reads could fill.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop)
        self.haproxy = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(CONFIG)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.wait_until(lambda: self.get("/__lb/health").status_code == 200, "HAProxy to start")

    def start_replica(self, name: str, port: int = 0) -> Served:
        served = self._serve("--quiet", "--replica-id", name, "--port", str(port), *self._args)
        url, _token = served.banner()
        self.replicas[name], self.replica_urls[name] = served, url
        return served

    def kill(self, name: str) -> int:
        """SIGKILL one replica (no goodbye, as a crashed pod); its port."""
        served = self.replicas[name]
        served.process.kill()
        served.process.wait(timeout=30)
        return int(self.replica_urls[name].rsplit(":", 1)[1])

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=30, **kwargs)

    def create(self, name: str | None = None, scenario: str = "default") -> dict[str, Any]:
        """POST /__admin/namespaces through the balancer; the created namespace's answer."""
        query = f"?name={scenario}" + (f"&namespace={name}" if name else "")
        answer = self.post(f"/__admin/namespaces{query}")
        assert answer.status_code == 200, answer.text
        created: dict[str, Any] = answer.json()["data"]
        return created

    def holder(self, name: str) -> str:
        """The replica whose own listing (asked directly, not through HAProxy) has `name`."""
        holders = [
            replica
            for replica, url in self.replica_urls.items()
            if self.replicas[replica].process.poll() is None
            and name
            in {
                space["name"]
                for space in requests.get(f"{url}/__admin/namespaces", timeout=10).json()["data"]
            }
        ]
        assert len(holders) == 1, (name, holders)
        return holders[0]

    def wait_until(self, done: Callable[[], bool], what: str, timeout: float = 20) -> None:
        end = time.monotonic() + timeout
        while True:
            try:
                if done():
                    return
            except requests.RequestException:
                pass
            if self.haproxy.poll() is not None:
                self.log.seek(0)
                raise AssertionError(f"haproxy exited: {self.log.read()}")
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.haproxy.poll() is None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait(timeout=10)
        self.log.close()

"""cadenza_mock.testcontainers: how it configures the container (no Docker needed), and,
where podman and the local base image exist, the image built from our Dockerfile started
through podman's Docker-compatible socket, steered with the RemoteMock it hands out.
Without them the container tests skip and say why (docs/container.md)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import LIST, REPO, bearer

pytest.importorskip("testcontainers", reason="the testcontainers extra is not installed")

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.testcontainers import SCENARIO_DIR, CadenzaMockContainer

BASE = "localhost/cadenza-base:bookworm"  # scripts/container-smoke.sh makes it
IMAGE = "localhost/cadenza-mock:testcontainers"


def test_a_bundled_scenario_is_passed_by_name_with_an_admin_token() -> None:
    mock = CadenzaMockContainer("some/image:tag", scenario="multi-user")
    assert mock.env["CADENZA_MOCK_SCENARIO"] == "multi-user" and mock.volumes == []
    token = mock.env["CADENZA_MOCK_ADMIN_TOKEN"]
    assert len(token) >= 32 and token == mock.admin_token
    assert CadenzaMockContainer(scenario="multi-user").admin_token != token  # made up each time
    assert token not in repr(mock) and "some/image:tag" in repr(mock)


def test_a_scenario_file_is_mounted_read_only_with_its_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("description: mine\nextends: default\n", encoding="utf-8")
    mock = CadenzaMockContainer(
        scenario=tmp_path / "mine.yaml", admin_token="given", env={"CADENZA_MOCK_SEED": "7"}
    )
    assert mock.volumes == [(str(tmp_path.resolve()), SCENARIO_DIR)]
    assert mock.env == {
        "CADENZA_MOCK_ADMIN_TOKEN": "given",
        "CADENZA_MOCK_SCENARIO": f"{SCENARIO_DIR}/mine.yaml",
        "CADENZA_MOCK_SEED": "7",
    }


def test_a_scenario_that_is_neither_bundled_nor_a_file_fails_before_docker(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError, match="neither a bundled scenario nor a file"):
        CadenzaMockContainer(scenario=str(tmp_path / "missing.yaml"))
    with pytest.raises(ScenarioError, match="no-such-bundled-name"):
        CadenzaMockContainer(scenario="no-such-bundled-name")
    (tmp_path / "bad.yaml").write_text("description: bad\nusers: 7\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:2"):
        CadenzaMockContainer(scenario=tmp_path / "bad.yaml")


# --------------------------------------------------------------------------- with podman


def _why_no_podman() -> str | None:
    if shutil.which("podman") is None:
        return "podman is not installed (Debian: apt-get install podman runc)"
    exists = subprocess.run(["podman", "image", "exists", BASE], check=False, timeout=60)
    if exists.returncode != 0:
        return f"no local base image {BASE}: run scripts/container-smoke.sh once to make it"
    return None


@pytest.fixture(scope="module")
def podman_socket() -> Iterator[None]:
    """The image built from our Dockerfile and podman's Docker API for testcontainers."""
    why = _why_no_podman()
    if why is not None:
        pytest.skip(why)
    work = Path(tempfile.mkdtemp(prefix="cadenza-tc."))
    conf = work / "containers.conf"
    # Root here cannot raise rlimits and crun refuses hybrid cgroups: lower limits, runc.
    conf.write_text(
        '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'
        '[engine]\nruntime = "runc"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "CONTAINERS_CONF": str(conf)}
    ca = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    build = subprocess.run(
        [
            "podman", "build", "--pull=never", "--isolation", "chroot", "--format", "docker",
            "-v", f"{ca}:/etc/ssl/certs/ca-certificates.crt:ro",
            "--build-arg", f"BASE_IMAGE={BASE}", "-t", IMAGE, str(REPO),
        ],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if build.returncode != 0:
        pytest.fail(f"podman build failed:\n{build.stdout[-2000:]}\n{build.stderr[-2000:]}")
    sock = work / "podman.sock"
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{sock}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    patch = pytest.MonkeyPatch()
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.1)
        patch.setenv("DOCKER_HOST", f"unix://{sock}")
        patch.setenv("CONTAINERS_CONF", str(conf))
        # testcontainers read its settings when imported: set them on its config too. No
        # reaper image can be pulled here, and it must not think it runs in a container.
        from testcontainers.core.config import ConnectionMode, testcontainers_config

        patch.setattr(testcontainers_config, "_ryuk_disabled", True)
        patch.setattr(testcontainers_config, "tc_host_override", "127.0.0.1")
        patch.setattr(testcontainers_config, "connection_mode_override", ConnectionMode.docker_host)
        for key, value in _TC_ENV.items():
            patch.setenv(key, value)  # for the docs example's own interpreter
        yield
    finally:
        patch.undo()
        service.terminate()
        service.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


# The same, for another interpreter (the docs example).
_TC_ENV = {
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
}


@pytest.mark.slow
@pytest.mark.usefixtures("podman_socket")
def test_the_container_serves_its_scenario_and_hands_out_the_remote_handle() -> None:
    with CadenzaMockContainer(IMAGE, scenario="multi-user") as mock:
        assert mock.url.startswith("http://127.0.0.1:")
        assert mock.ws_url == mock.url.replace("http:", "ws:") + "/connection/websocket"
        alice = mock.tokens["alice@example.com"]
        listed = requests.get(mock.url + LIST, headers=bearer(alice), timeout=10)
        assert listed.status_code == 200, listed.text
        # The admin API wants the token the container was given; the handle has it.
        assert requests.get(mock.url + "/__admin/scenario", timeout=10).status_code == 401
        remote = mock.remote
        assert [e.path for e in remote.requests] == [LIST]
        remote.add_fault({"match": {"path": LIST}, "respond": {"status": 503}, "times": 1})
        assert requests.get(mock.url + LIST, headers=bearer(alice), timeout=10).status_code == 503
        remote.reset()
        assert remote.requests == [] and remote.faults == []
        name = remote.open_namespace()
        assert mock.remote.url.endswith(f"/__ns/{name}")
        remote.close_namespace()
        container_id = mock.container.get_container_id()
    assert _podman_ids(container_id) == []  # removed, not just stopped


def _podman_ids(container_id: str) -> list[str]:
    listed = subprocess.run(
        ["podman", "ps", "-a", "-q", "--no-trunc", "--filter", f"id={container_id}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return listed.stdout.split()


@pytest.mark.slow
@pytest.mark.usefixtures("podman_socket")
def test_a_container_that_never_gets_healthy_is_removed() -> None:
    # Health on another port than the one waited for: never ready within the timeout.
    name = f"cadenza-tc-{secrets.token_hex(4)}"
    mock = CadenzaMockContainer(
        IMAGE, env={"CADENZA_MOCK_PORT": "8081"}, startup_timeout=3, name=name
    )
    with pytest.raises(Exception, match="not ready within 3"):
        mock.start()
    listed = subprocess.run(
        ["podman", "ps", "-a", "-q", "--filter", f"name={name}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert listed.stdout.split() == []  # removed, not left running


@pytest.mark.slow
@pytest.mark.usefixtures("podman_socket")
def test_the_container_serves_a_local_scenario_file(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    folder.chmod(0o755)  # the image runs as uid 10001
    scenario = folder / "mine.yaml"
    scenario.write_text(
        "description: mine\nusers:\n  - id: 7d1c0e2a-5b6f-4c3d-9e8f-0a1b2c3d4e5f\n"
        "    email: zoe@example.com\n    tokens: [zoe-token]\n",
        encoding="utf-8",
    )
    scenario.chmod(0o644)
    with CadenzaMockContainer(IMAGE, scenario=scenario) as mock:
        assert mock.tokens == {"zoe@example.com": "zoe-token"}
        listed = requests.get(mock.url + LIST, headers=bearer("zoe-token"), timeout=10)
        assert listed.status_code == 200 and listed.json()["data"] == []


@pytest.mark.slow
@pytest.mark.usefixtures("podman_socket")
def test_the_docs_example_runs_against_the_built_image(tmp_path: Path) -> None:
    from tests.doc_examples import blocks
    from tests.test_docs import NEEDS_CONTAINERS

    examples = [b for b in blocks("python") if b.marker == ("skip", NEEDS_CONTAINERS)]
    assert [b.page for b in examples] == ["docs/container.md"]
    code = examples[0].code.replace('"cadenza-mock:latest"', repr(IMAGE))
    assert IMAGE in code
    script = tmp_path / "container_example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr

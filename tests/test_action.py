"""The GitHub Action's steps (deploy/action.sh), run here as the runner would: start on a
scenario, outputs a job can use, a clear failure, and stop. action.yml passes its inputs
to the script under the names it reads."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.support import LIST, REPO, bearer

SCRIPT = REPO / "deploy" / "action.sh"


def _run(command: str, work: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GITHUB_OUTPUT": str(work / "output"),
        "CADENZA_ACTION_DIR": str(work / "action"),
        "INPUT_INSTALL": "false",  # the suite's own interpreter has the package
        "CADENZA_PYTHON": sys.executable,
        **inputs,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _outputs(work: Path) -> dict[str, str]:
    lines = (work / "output").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    pid_file = tmp_path / "action" / "pid"
    if pid_file.exists():  # a test that failed before stop: end the server it started
        os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_start_gives_the_job_a_url_and_a_token_and_stop_ends_it(work: Path) -> None:
    started = _run("start", work, INPUT_SCENARIO="multi-user", INPUT_ARGS="--journal-size 5")
    assert started.returncode == 0, started.stderr
    out = _outputs(work)
    assert set(out) == {"url", "ws-url", "token", "pid"}
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", out["url"])
    assert out["ws-url"] == out["url"].replace("http:", "ws:") + "/connection/websocket"
    listed = requests.get(out["url"] + LIST, headers=bearer(out["token"]), timeout=10)
    assert listed.status_code == 200, listed.text
    health = requests.get(out["url"] + "/__admin/health", timeout=10).json()["data"]
    assert health["scenario"] == "multi-user"
    idle = requests.get(out["url"] + "/__admin/requests/idle?timeout=0", timeout=10).json()
    assert idle["data"]["journalSize"] == 5  # INPUT_ARGS reached serve
    again = _run("start", work)
    assert again.returncode == 1 and "running already" in again.stderr
    stopped = _run("stop", work)
    assert stopped.returncode == 0, stopped.stderr
    assert "cadenza-mock stopped" in stopped.stderr
    with pytest.raises(ProcessLookupError):
        os.kill(int(out["pid"]), 0)
    with pytest.raises(requests.ConnectionError):
        requests.get(out["url"] + "/__admin/health", timeout=5)
    assert _run("stop", work).returncode == 0  # nothing left to stop: fine


def test_an_admin_token_is_masked_and_used(work: Path) -> None:
    secret = "act10n-adm1n-s3cret"
    started = _run("start", work, INPUT_ADMIN_TOKEN=secret)
    try:
        assert started.returncode == 0, started.stderr
        assert f"::add-mask::{secret}" in started.stdout + started.stderr
        url = _outputs(work)["url"]
        assert requests.get(url + "/__admin/scenario", timeout=10).status_code == 401
        log = (work / "action" / "serve.log").read_text(encoding="utf-8")
        assert secret not in log and secret not in (work / "output").read_text()
    finally:
        _run("stop", work)


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"INPUT_SCENARIO": "no-such-scenario"}, "exited before it answered"),
        ({"INPUT_PORT": "eighty"}, "port must be a number"),
        ({"INPUT_TIMEOUT": "1.5"}, "timeout must be whole seconds"),
    ],
)
def test_a_bad_start_fails_the_step_and_says_why(
    work: Path, inputs: dict[str, str], words: str
) -> None:
    started = _run("start", work, **inputs)
    assert started.returncode == 1
    assert "::error title=cadenza-mock::" in started.stderr and words in started.stderr
    assert not (work / "output").exists() or _outputs(work) == {}
    assert not (work / "action" / "pid").exists()


def test_action_yml_passes_every_input_to_the_script() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    start, stop = action["runs"]["steps"]
    assert start["run"] == '"$GITHUB_ACTION_PATH/deploy/action.sh" start'
    assert stop["run"] == '"$GITHUB_ACTION_PATH/deploy/action.sh" stop'
    script = SCRIPT.read_text(encoding="utf-8")
    passed = set()
    for variable, value in start["env"].items():
        assert variable in script, variable
        passed.add(value.removeprefix("${{ inputs.").removesuffix(" }}"))
    assert set(action["inputs"]) == {*passed, "stop"}
    for output, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.start.outputs.{output} }}}}"
        assert f'echo "{output}=' in script

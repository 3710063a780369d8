"""Scenario loads read only the folders the server was given: the admin API, `extends`
and `--scenario-dir` refuse any other file with one fixed answer that tells neither its
existence nor its content."""

from __future__ import annotations

import json

import pytest
import requests
from support import ALICE, LIST, run_cli, write

from cadenza_mock import MockServer
from cadenza_mock.scenario import NOT_ALLOWED

CANARY = "Zq8canary-value-must-never-leave-41x"
SCENARIO = "/__admin/scenario"


def _put(mock: MockServer, **kwargs) -> requests.Response:
    if "data" in kwargs:  # admin bodies say what they are
        kwargs.setdefault("headers", {"Content-Type": "application/yaml"})
    return requests.put(mock.url + SCENARIO, timeout=10, **kwargs)


@pytest.fixture
def outside(tmp_path):
    """A folder the server was not given, holding files a scenario load must never read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    write(folder / "config.yaml", f"database_url: {CANARY}\nseed: {CANARY}\n")
    write(folder / "valid.yaml", "description: a valid scenario, but outside\n")
    (folder / "shadow").write_text(f"root:{CANARY}:20228:0:99999:7:::\n")
    return folder


@pytest.fixture
def scenarios(tmp_path, outside):
    """The server's scenario folder: a good file, one extending a sibling, a symlink out."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    write(folder / "mine.yaml", "description: mine\nusers:\n  - tokens: [mine-token]\n")
    write(folder / "child.yaml", "extends: mine.yaml\ndescription: child\n")
    write(folder / "escape.yaml", f"extends: {outside / 'valid.yaml'}\n")
    write(folder / "climb.yaml", "extends: ../outside/valid.yaml\n")
    (folder / "link.yaml").symlink_to(outside / "valid.yaml")
    return folder


def _refusals(mock: MockServer, outside) -> dict[str, list[requests.Response]]:
    """Per way of asking, the answers for files outside the folders: existing, secret,
    missing. Each list must hold identical answers."""
    targets = ["/etc/passwd", "/etc/shadow", str(outside / "config.yaml"), str(outside / "shadow")]
    targets += [str(outside / "valid.yaml"), str(outside / "missing.yaml"), "/no/such/dir/x.yaml"]
    relative = ["../outside/valid.yaml", "../outside/missing.yaml", "link.yaml", "~/x.yaml"]
    return {
        "?name=": [_put(mock, params={"name": t}) for t in [*targets, *relative, "a\x00b"]],
        "JSON name": [_put(mock, json={"name": t}) for t in targets],
        "YAML extends": [_put(mock, data=f"extends: {t}\n") for t in targets],
        "JSON extends": [_put(mock, json={"scenario": {"extends": t}}) for t in targets],
        "odd names": [_put(mock, params={"name": n}) for n in ("x" * 5000, "..", "-rf")],
    }


def test_admin_loads_nothing_outside_the_scenario_folders(scenarios, outside):
    with MockServer("default", scenario_dirs=[scenarios]) as mock:
        for way, answers in _refusals(mock, outside).items():
            bodies = {(r.status_code, r.text) for r in answers}
            # One fixed answer: it tells neither existence nor content.
            assert len(bodies) == 1, (way, bodies)
            status, text = bodies.pop()
            error = json.loads(text)["error"]
            assert status == 400 and json.loads(text)["errno"] == -19004, way
            assert error.endswith(NOT_ALLOWED), (way, error)
            assert CANARY not in error and "root" not in error, way
        for name in ("escape", "climb"):  # `extends` inside a file of the folder
            error = _put(mock, params={"name": name}).json()["error"]
            assert error.endswith(NOT_ALLOWED) and f"{name}.yaml:1:10: extends:" in error
        assert mock.scenario.name == "default"  # nothing was loaded
        assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 200


def test_admin_loads_bundled_names_and_files_in_the_folders(scenarios):
    with MockServer("default", scenario_dirs=[scenarios]) as mock:
        for source, expected in (
            ({"params": {"name": "revoked"}}, "revoked"),
            ({"params": {"name": "mine"}}, "mine.yaml"),
            ({"params": {"name": "child.yaml"}}, "child.yaml"),
            ({"params": {"name": str(scenarios / "mine.yaml")}}, "mine.yaml"),
            # (a file is named by its file name; `source` says which file it was)
            ({"json": {"name": "empty"}}, "empty"),
            ({"data": "extends: mine.yaml\n"}, "<request body>"),
        ):
            answer = _put(mock, **source)
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["name"] == expected
            if expected.endswith(".yaml"):
                assert answer.json()["data"]["source"] == str(scenarios / expected)
        # A file inside the folder that is missing may say so: the folder is the server's.
        missing = _put(mock, params={"name": "nope.yaml"})
        assert missing.status_code == 400 and "no such scenario file" in missing.json()["error"]


def test_a_scenario_file_grants_its_own_folder(tmp_path, outside):
    (tmp_path / "mine").mkdir()
    path = write(tmp_path / "mine" / "served.yaml", "description: served\n")
    write(tmp_path / "mine" / "sibling.yaml", "description: sibling\n")
    with MockServer(str(path)) as mock:
        assert _put(mock, params={"name": "sibling.yaml"}).status_code == 200
        refused = _put(mock, params={"name": str(outside / "valid.yaml")})
        assert refused.status_code == 400 and NOT_ALLOWED in refused.json()["error"]
    with MockServer("default") as mock:  # a bundled scenario grants no folder at all
        refused = _put(mock, params={"name": str(path)})
        assert refused.status_code == 400 and NOT_ALLOWED in refused.json()["error"]


def test_a_file_in_the_folder_that_is_no_scenario_is_never_quoted(scenarios):
    write(scenarios / "stray.yaml", f"database_url: {CANARY}\npassword: {CANARY}\n")
    write(scenarios / "list.yaml", f"- {CANARY}\n")
    write(scenarios / "broken.yaml", f"key: [{CANARY}\n")
    with MockServer("default", scenario_dirs=[scenarios]) as mock:
        for name in ("stray.yaml", "list.yaml", "broken.yaml"):
            answer = _put(mock, params={"name": name})
            assert answer.status_code == 400
            assert CANARY not in answer.text
        stray = _put(mock, params={"name": "stray.yaml"}).json()["error"]
        assert "not a scenario" in stray and "database_url" not in stray


def test_scenario_dir_from_the_environment(serve, scenarios, outside):
    served = serve("--scenario", "default", env={"CADENZA_MOCK_SCENARIO_DIR": str(scenarios)})
    url, _ = served.banner()
    loaded = requests.put(url + SCENARIO, params={"name": "mine"}, timeout=10)
    assert loaded.status_code == 200
    refused = requests.put(url + SCENARIO, params={"name": str(outside / "valid.yaml")}, timeout=10)
    assert refused.status_code == 400 and NOT_ALLOWED in refused.json()["error"]
    assert served.stop()[0] == 0


def test_a_missing_scenario_dir_is_a_usage_error(tmp_path):
    result = run_cli("serve", "--scenario-dir", str(tmp_path / "nope"))
    assert result.returncode == 2 and "not a folder" in result.stderr

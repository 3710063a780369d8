"""What a server on a shared network must not do: read files it was not given, echo
secrets from error paths, or let its admin API be used by whoever reaches the port."""

from __future__ import annotations

import json
import re
import socket

import pytest
import requests
from support import ALICE, LIST, REPO, run_cli, write

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


# --------------------------------------------------------------------------- YAML errors

YAML_LEAKS = {
    "undefined alias": f"users:\n  - password: *{CANARY}\n",
    "unknown tag": f"users:\n  - password: !{CANARY}\n",
    "bad int": (
        f"users:\n  - credentials:\n      - venue: BINANCE\n        apiSecret: !!int {CANARY}\n"
    ),
    "python tag": f"seed: !!python/object:os.system {CANARY}\n",
    "bad timestamp": f"now: !!timestamp {CANARY}\n",
    "tag on a key": f"!{CANARY} seed: 1\n",
    "unclosed quote": f"description: '{CANARY}\n",
}


@pytest.mark.parametrize("case", sorted(YAML_LEAKS))
def test_yaml_errors_quote_no_value_anywhere(case, tmp_path):
    text = YAML_LEAKS[case]
    path = write(tmp_path / "leak.yaml", text)
    # validate
    checked = run_cli("validate", str(path))
    assert checked.returncode == 1
    assert f"{path}:" in checked.stderr  # located
    assert CANARY not in checked.stdout + checked.stderr and "Traceback" not in checked.stderr
    # serve --scenario
    served = run_cli("serve", "--port", "0", "--scenario", str(path))
    output = served.stdout + served.stderr
    assert served.returncode == 2 and CANARY not in output and "Traceback" not in output
    # the admin API, as a body
    with MockServer("default") as mock:
        answer = _put(mock, data=text)
        assert answer.status_code == 400 and answer.json()["errno"] == -19004
        assert "<request body>:" in answer.json()["error"]
        assert CANARY not in answer.text
        assert mock.scenario.name == "default"


def test_non_utf8_admin_token_is_the_same_401(serve):
    with MockServer("default", admin_token="adm1n") as mock:
        host, port = "127.0.0.1", mock.port
        with socket.create_connection((host, port), timeout=10) as conn:
            conn.sendall(
                b"GET /__admin/scenario HTTP/1.1\r\nHost: localhost\r\nX-Admin-Token: \xff\xfe\r\n"
                b"Connection: close\r\n\r\n"
            )
            answer = _read_all(conn)
        assert answer.startswith(b"HTTP/1.1 401")
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["errno"] == -19002
        mock.check_handler_errors()  # no crash behind it


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- parser errors

PARSER_REJECTS = {
    "non-ASCII in the query": f"GET {LIST}?apiSecret={CANARY}&x=\xc3\xa9 HTTP/1.1\r\n".encode(
        "latin-1"
    )
    + b"Host: localhost\r\n\r\n",
    "control byte in a header": f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
    f"X-Api-Secret: {CANARY}\x01\r\n\r\n".encode(),
    "NUL in the bearer token": f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
    f"Authorization: Bearer {CANARY}\x00\r\n\r\n".encode(),
    "header over 8190 bytes": f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
    f"Authorization: Bearer {CANARY}{'a' * 9000}\r\n\r\n".encode(),
    "request line over 8190 bytes": f"GET {LIST}?token={CANARY}{'a' * 9000} HTTP/1.1\r\n"
    "Host: localhost\r\n\r\n".encode(),
    "too many headers": (
        f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
        + "".join(f"X-H{i}: {CANARY}\r\n" for i in range(200))
        + "\r\n"
    ).encode(),
    "unknown method": f"BR{CANARY} {LIST} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(),
    "bad request line": f"{CANARY}\r\n\r\n".encode(),
}


def test_parser_rejects_are_enveloped_and_logged_without_the_request(serve):
    served = serve("--scenario", "default")
    url, _ = served.banner()
    host, port = url.removeprefix("http://").split(":")
    for case, raw in PARSER_REJECTS.items():
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(raw)
            answer = _read_all(conn)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert re.match(rb"HTTP/1\.[01] 400 ", head), (case, head)
        assert b"Content-Type: application/json" in head, case
        envelope = json.loads(body)
        assert envelope["errno"] == -19001 and envelope["success"] is False, case
        assert envelope["error"].startswith("Bad request: "), case
        assert CANARY.encode() not in answer, case
    # The server keeps answering everyone else.
    assert requests.get(url + LIST, headers=ALICE, timeout=10).status_code == 200
    code, output = served.stop()
    assert code == 0
    assert CANARY not in output
    assert "Traceback" not in output and "ERROR" not in output
    assert output.count("rejected a malformed request") == len(PARSER_REJECTS)


# --------------------------------------------------------------------------- admin exposure


def _admin_status(url: str, path: str = SCENARIO, **headers: str) -> int:
    return requests.get(url + path, headers=headers, timeout=10).status_code


def test_non_loopback_without_token_turns_the_admin_api_off(serve):
    served = serve("--host", "0.0.0.0", "--scenario", "default")
    url, _ = served.banner()
    assert _admin_status(url, "/__admin/health") == 200  # probes keep working
    answer = requests.post(url + "/__admin/reset", timeout=10)
    assert answer.status_code == 403 and answer.json()["errno"] == -22018
    assert "--admin-token" in answer.json()["error"]
    for path in (SCENARIO, "/__admin/requests", "/__admin/faults", "/__admin/credentials"):
        assert _admin_status(url, path) == 403, path
    # The emulated API itself is served as usual.
    assert requests.get(url + LIST, headers=ALICE, timeout=10).status_code == 200
    code, output = served.stop()
    assert code == 0 and "the admin API is off" in output


def test_admin_open_and_admin_token_turn_it_on(serve):
    opened = serve("--host", "0.0.0.0", "--admin-open", "--scenario", "default")
    url, _ = opened.banner()
    assert _admin_status(url) == 200
    code, output = opened.stop()
    assert code == 0 and "with --admin-open" in output
    tokened = serve(
        "--host", "0.0.0.0", "--scenario", "default", env={"CADENZA_MOCK_ADMIN_TOKEN": "t0k"}
    )
    url, _ = tokened.banner()
    assert _admin_status(url) == 401
    assert _admin_status(url, **{"X-Admin-Token": "t0k"}) == 200
    code, output = tokened.stop()
    assert code == 0 and "WARNING" not in output


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


def test_the_container_defaults_are_safe():
    """The image serves on 0.0.0.0 with /scenarios as its folder and no token: locked."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "CADENZA_MOCK_HOST=0.0.0.0" in dockerfile
    assert "CADENZA_MOCK_SCENARIO_DIR=/scenarios" in dockerfile
    assert "CADENZA_MOCK_ADMIN_OPEN" not in dockerfile


# --------------------------------------------------------------------------- canary sweep

SWEEP_SCENARIO = """\
seed: 3
users:
  - email: sweep@example.com
    password: {c[password]}
    tokens: [sweep-token]
    credentials:
      - venue: BINANCE
        apiKey: {c[scenario key]}
        apiSecret: {c[scenario secret]}
      - venue: OKX
        apiKey: okxKEYvisible-{c[okx key]}
        apiSecret: {c[okx secret]}
        apiPassphrase: {c[okx passphrase]}
"""
SWEEP = {
    name: f"{name.replace(' ', '')}-Canary-{index:02d}-x9"
    for index, name in enumerate(
        [
            "password",
            "scenario key",
            "scenario secret",
            "okx key",
            "okx secret",
            "okx passphrase",
            "create key",
            "create secret",
            "rotate key",
            "rotate secret",
            "bad json secret",
            "query secret",
            "header secret",
            "unknown bearer",
            "alias secret",
            "login password",
            "fault secret",
        ]
    )
}


def _sweep_requests(url: str) -> list[str]:
    """Every surface a secret could reach, as text: answers (body and headers), dumps."""
    c = SWEEP
    auth = {"Authorization": "Bearer sweep-token"}
    create = {"venue": "BYBIT", "apiKey": c["create key"], "apiSecret": c["create secret"]}
    seen: list[str] = []

    def keep(response: requests.Response) -> requests.Response:
        seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    created = keep(requests.post(url + "/api/v3/credential/create", json=create, headers=auth))
    cid = created.json()["data"]["credentialId"]
    rotate = {"credentialId": cid, "apiKey": c["rotate key"], "apiSecret": c["rotate secret"]}
    keep(requests.post(url + "/api/v3/credential/rotate", json=rotate, headers=auth))
    keep(requests.post(url + "/api/v3/credential/create", json=create, headers=auth))  # 409
    broken = '{"venue": "BYBIT", "apiSecret": "' + c["bad json secret"] + '", '
    keep(requests.post(url + "/api/v3/credential/create", data=broken, headers=auth))
    keep(
        requests.post(
            url + "/api/v3/credential/create",
            json={"apiSecret": c["bad json secret"]},
            headers=auth,
        )
    )
    keep(
        requests.get(url + LIST + "?apiSecret=" + c["query secret"] + "&status=NOPE", headers=auth)
    )
    keep(requests.get(url + LIST, headers={**auth, "X-Api-Secret": c["header secret"]}))
    keep(requests.get(url + LIST, headers={"Authorization": "Bearer " + c["unknown bearer"]}))
    keep(
        requests.post(
            url + "/api/v3/auth/login",
            json={"email": "sweep@example.com", "password": c["login password"]},
        )
    )
    keep(
        requests.post(
            url + "/api/v3/auth/login",
            json={"email": "sweep@example.com", "password": c["password"]},
        )
    )
    yaml_body = {"Content-Type": "application/yaml"}
    alias = f"users:\n  - password: *{c['alias secret']}\n"
    keep(requests.put(url + SCENARIO, data=alias, headers=yaml_body))
    keep(
        requests.post(
            url + "/__admin/faults", data=f"respond: !{c['fault secret']}\n", headers=yaml_body
        )
    )
    for dump in ("/__admin/requests", SCENARIO, "/__admin/credentials", "/__admin/faults"):
        keep(requests.get(url + dump))
    keep(requests.get(url + "/api/v3/openapi.json"))
    return seen


@pytest.mark.parametrize("quiet", [False, True])
def test_no_canary_reaches_any_surface(tmp_path, serve, quiet):
    path = write(tmp_path / "sweep.yaml", SWEEP_SCENARIO.format(c=SWEEP))
    served = serve("--scenario", str(path), *(["--quiet"] if quiet else []))
    url, _ = served.banner()
    surfaces = _sweep_requests(url)
    # A second server's raw parser-rejected requests carrying the canaries, too.
    host, port = url.removeprefix("http://").split(":")
    for raw in (
        (
            f"GET {LIST}?apiSecret={SWEEP['query secret']}\xe9 HTTP/1.1\r\nHost: localhost\r\n\r\n"
        ).encode("latin-1"),
        f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {SWEEP['unknown bearer']}\x01\r\n\r\n".encode(),
    ):
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(raw)
            surfaces.append(_read_all(conn).decode("latin-1"))
    code, log = served.stop()
    assert code == 0
    surfaces.append(log)
    text = "\n".join(surfaces)
    assert len(surfaces) > 15 and "sweep@example.com" in text  # the surfaces were reached
    assert [name for name, value in SWEEP.items() if value in text] == []


# --------------------------------------------------------------------------- admin surface

ADMIN_ROUTES = [
    ("POST", "/__admin/reset"),
    ("GET", SCENARIO),
    ("PUT", SCENARIO + "?name=empty"),
    ("GET", "/__admin/requests"),
    ("DELETE", "/__admin/requests"),
    ("GET", "/__admin/clock"),
    ("POST", "/__admin/clock?advance=1"),
    ("GET", "/__admin/credentials"),
    ("GET", "/__admin/credentials/660e8400-e29b-41d4-a716-446655440000"),
    ("GET", "/__admin/faults"),
    ("POST", "/__admin/faults"),
    ("DELETE", "/__admin/faults"),
    ("DELETE", "/__admin/faults/x"),
]


def test_every_admin_route_but_health_needs_the_token():
    token = "adm1n-Secret-token"
    with MockServer("default", admin_token=token) as mock:
        wrong = [{}, {"X-Admin-Token": ""}, {"X-Admin-Token": token.upper()}]
        wrong += [{"X-Admin-Token": token[:-1]}, {"X-Admin-Token": token + "x"}]
        wrong += [{"X-Admin-Token": "%61" + token[1:]}]
        for method, path in ADMIN_ROUTES:
            for headers in wrong:
                answer = requests.request(method, mock.url + path, headers=headers, timeout=10)
                assert answer.status_code == 401, (method, path, headers)
                assert token not in answer.text
            # Percent-encoded, the path is the same route (and needs the token too);
            # upper-cased, it is no route at all.
            encoded = "/__admin/%" + f"{ord(path[9]):02X}" + path[10:]
            answer = requests.request(method, mock.url + encoded, timeout=10)
            assert answer.status_code in (401, 404, 405), (method, encoded)
            assert requests.request(method, mock.url + path.upper(), timeout=10).status_code in (
                404,
                405,
            )
        assert mock.scenario.name == "default" and mock.faults == []
        assert requests.get(mock.url + "/__admin/health", timeout=10).status_code == 200

"""Who may use the admin API: off beyond loopback unless opened or given a token, and
then every route but health needs the token; the container's defaults keep it locked."""

from __future__ import annotations

import requests
from support import ALICE, LIST, REPO

from cadenza_mock import MockServer

SCENARIO = "/__admin/scenario"


def _admin_status(url: str, path: str = SCENARIO, **headers: str) -> int:
    return requests.get(url + path, headers=headers, timeout=10).status_code


def test_non_loopback_without_token_turns_the_admin_api_off(serve):
    served = serve("--host", "0.0.0.0", "--scenario", "default")
    url, _ = served.banner()
    assert _admin_status(url, "/__admin/health") == 200  # probes keep working
    answer = requests.post(url + "/__admin/reset", timeout=10)
    assert answer.status_code == 403 and answer.json()["errno"] == -22018
    assert "--admin-token" in answer.json()["error"]
    # A container user sets variables, not flags: the answer names those too.
    assert "CADENZA_MOCK_ADMIN_TOKEN" in answer.json()["error"]
    assert "CADENZA_MOCK_ADMIN_OPEN=1" in answer.json()["error"]
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


def test_the_container_defaults_are_safe():
    """The image serves on 0.0.0.0 with /scenarios as its folder and no token: locked."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "CADENZA_MOCK_HOST=0.0.0.0" in dockerfile
    assert "CADENZA_MOCK_SCENARIO_DIR=/scenarios" in dockerfile
    assert "CADENZA_MOCK_ADMIN_OPEN" not in dockerfile


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

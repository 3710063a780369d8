"""What a balancer in front of several servers relies on, checked on one server: every
token a namespace issues starts "<name>." (the server's own never do), and `--replica-id`
names the answering server in health and the namespace answers of the admin API."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from cadenza_mock.run.server import MockServer
from tests.support import LIST, Served, bearer, run_cli

LOGIN = "/api/v3/auth/login"
REFRESH = "/api/v3/auth/token/refresh"
HEADER = "X-Cadenza-Mock-Namespace"
ALICE_LOGIN = {"email": "alice@example.com", "password": "correct-horse"}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer("default") as mock:
        yield mock


def _login(url: str, **headers: str) -> dict[str, str]:
    answer = requests.post(url + LOGIN, json=ALICE_LOGIN, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    session: dict[str, str] = answer.json()["data"]
    return session


def test_a_namespace_issues_tokens_that_start_with_its_name(server: MockServer) -> None:
    created = requests.post(f"{server.url}/__admin/namespaces?namespace=pfx", timeout=10)
    assert created.status_code == 200, created.text
    try:
        own = _login(server.url)
        assert own["accessToken"].startswith("eyJ") and own["accessToken"].count(".") == 2
        assert not own["refreshToken"].startswith("pfx.")
        for session in (_login(server.url, **{HEADER: "pfx"}), _login(f"{server.url}/__ns/pfx")):
            access, refresh = session["accessToken"], session["refreshToken"]
            assert access.startswith("pfx.eyJ") and refresh.startswith("pfx.rt_")
            # The prefixed token selects the namespace on the plain URL and in its base URL.
            journal = f"{server.url}/__admin/namespaces/pfx/requests"
            before = len(requests.get(journal, timeout=10).json()["data"])
            for url in (server.url, f"{server.url}/__ns/pfx"):
                listed = requests.get(url + LIST, headers=bearer(access), timeout=10)
                assert listed.status_code == 200, listed.text
            assert len(requests.get(journal, timeout=10).json()["data"]) == before + 2
            again = requests.post(server.url + REFRESH, json={"refreshToken": refresh}, timeout=10)
            assert again.status_code == 200, again.text
            assert again.json()["data"]["accessToken"].startswith("pfx.eyJ")
        stale = _login(server.url, **{HEADER: "pfx"})["accessToken"]
    finally:
        requests.delete(f"{server.url}/__admin/namespaces/pfx", timeout=10)
    # Created again under the same name: the old namespace's token is nobody's.
    requests.post(f"{server.url}/__admin/namespaces?namespace=pfx", timeout=10).raise_for_status()
    try:
        answer = requests.get(server.url + LIST, headers=bearer(stale), timeout=10)
        assert answer.status_code == 401 and answer.json()["errno"] == -19002
    finally:
        requests.delete(f"{server.url}/__admin/namespaces/pfx", timeout=10)


def test_without_a_replica_id_no_answer_names_one(server: MockServer) -> None:
    health = requests.get(f"{server.url}/__admin/health", timeout=10).json()["data"]
    created = requests.post(f"{server.url}/__admin/namespaces?namespace=plain", timeout=10)
    try:
        listing = requests.get(f"{server.url}/__admin/namespaces", timeout=10).json()["data"]
        assert "replica" not in health and "replica" not in created.json()["data"]
        assert [space.get("replica") for space in listing] == [None]
    finally:
        requests.delete(f"{server.url}/__admin/namespaces/plain", timeout=10)


def test_the_replica_id_is_in_health_and_namespace_answers(
    serve: Callable[..., Served],
) -> None:
    served = serve("--quiet", env={"CADENZA_MOCK_REPLICA_ID": "cadenza-mock-7"})
    url, _ = served.banner()
    health = requests.get(f"{url}/__admin/health", timeout=10).json()["data"]
    assert health["replica"] == "cadenza-mock-7"
    created = requests.post(f"{url}/__admin/namespaces?namespace=r7", timeout=10)
    assert created.json()["data"]["replica"] == "cadenza-mock-7"
    listing = requests.get(f"{url}/__admin/namespaces", timeout=10).json()["data"]
    assert [(s["name"], s["replica"]) for s in listing] == [("r7", "cadenza-mock-7")]
    inside = requests.get(f"{url}/__admin/namespaces/r7/health", timeout=10).json()["data"]
    assert inside["replica"] == "cadenza-mock-7"
    # The flag wins over the variable.
    flagged = serve("--quiet", "--replica-id", "r.1_x", env={"CADENZA_MOCK_REPLICA_ID": "no"})
    flagged_url, _ = flagged.banner()
    answer = requests.get(f"{flagged_url}/__admin/health", timeout=10).json()["data"]
    assert answer["replica"] == "r.1_x"


@pytest.mark.parametrize("bad", ["", "-lead", "has space", "x" * 64, "a/b", 'q"uote'])
def test_a_bad_replica_id_is_a_clear_error(bad: str) -> None:
    for args, env in (((f"--replica-id={bad}",), None), ((), {"CADENZA_MOCK_REPLICA_ID": bad})):
        result = run_cli("serve", "--port", "0", *args, env=env)
        assert result.returncode == 2, result.stderr
        assert "1 to 63 letters, digits, dots, dashes or underscores" in result.stderr
        assert "Serving" not in result.stdout

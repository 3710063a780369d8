"""The team deployment on one machine: HAProxy with deploy/haproxy.cfg in front of three
`serve` replicas. Every way a request names its namespace reaches the replica that holds
it; a replica killed loses only its own namespaces, which answer the 404 of an unknown
namespace. Skipped without haproxy (.ci/run installs it)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator

import aiohttp
import pytest
import requests

from cadenza_mock.testing.remote import RemoteMock
from tests.support import LIST, Served, bearer
from tests.team_support import REPLICAS, Team, requires_haproxy

pytestmark = [requires_haproxy, pytest.mark.slow]

LOGIN = "/api/v3/auth/login"
REFRESH = "/api/v3/auth/token/refresh"
CREATE = "/api/v3/credential/create"
HEADER = "X-Cadenza-Mock-Namespace"
PASSWORD = "correct-horse"  # the default scenario's alice
# Enough names that all three replicas hold some (the hash is fixed: so is the spread).
NAMES = tuple(f"team-{i}" for i in range(12))


def _start(started: list[Served]) -> Callable[..., Served]:
    def start(*args: str) -> Served:
        served = Served(list(args))
        started.append(served)
        return served

    return start


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    started: list[Served] = []
    deployed = Team(_start(started))
    try:
        for name in NAMES:
            deployed.create(name)
        yield deployed
    finally:
        deployed.stop()
        for served in started:
            served.stop()


@pytest.fixture
def own_team() -> Iterator[Team]:
    """A team of its own, for a test that kills a replica."""
    started: list[Served] = []
    deployed = Team(_start(started))
    try:
        yield deployed
    finally:
        deployed.stop()
        for served in started:
            if served.process.poll() is None:
                served.stop()


def _list(team: Team, path: str = LIST, **headers: str) -> requests.Response:
    return team.get(path, headers=headers)


def test_a_namespace_lives_on_the_replica_its_create_answer_names(team: Team) -> None:
    holders = {name: team.holder(name) for name in NAMES}
    assert set(holders.values()) == set(REPLICAS)  # spread over all three
    # Each name's admin calls through the balancer reach its holder, whichever it is.
    for name, holder in holders.items():
        health = team.get(f"/__admin/namespaces/{name}/health").json()["data"]
        assert health["replica"] == holder, name
        again = team.post(f"/__admin/namespaces?namespace={name}")
        assert again.status_code == 409, again.text  # the holder sees its own name taken


def test_every_way_of_naming_a_namespace_reaches_its_replica(team: Team) -> None:
    for name in NAMES:
        # Other tests use these namespaces too: this one's journal check starts afresh.
        cleared = requests.delete(f"{team.url}/__admin/namespaces/{name}/requests", timeout=10)
        assert cleared.status_code == 200, cleared.text
        # A credential created through the base URL: every other way must see it, which
        # they only can on the replica that holds the namespace.
        created = team.post(
            f"/__ns/{name}{CREATE}",
            headers=bearer("alice-token"),
            json={"venue": "BINANCE", "apiKey": f"{name}KEYABCDEFGHIJ0123456789", "apiSecret": "s"},
        )
        assert created.status_code == 200, created.text
        credential = created.json()["data"]["credentialId"]

        def ids(answer: requests.Response) -> set[str]:
            assert answer.status_code == 200, answer.text
            return {c["credentialId"] for c in answer.json()["data"]}

        assert credential in ids(_list(team, f"/__ns/{name}{LIST}", **bearer("alice-token")))
        assert credential in ids(_list(team, **bearer(f"{name}.alice-token")))
        assert credential in ids(_list(team, **bearer("alice-token"), **{HEADER: name}))
        # A login named by the header issues tokens that carry the name, so the balancer
        # routes them (and the refresh token, read from the refresh call's body).
        login = team.post(
            LOGIN, headers={HEADER: name}, json={"email": "alice@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        session = login.json()["data"]
        assert session["accessToken"].startswith(f"{name}.eyJ")
        assert session["refreshToken"].startswith(f"{name}.")
        assert credential in ids(_list(team, **bearer(session["accessToken"])))
        refreshed = team.post(REFRESH, json={"refreshToken": session["refreshToken"]})
        assert refreshed.status_code == 200, (name, refreshed.text)
        assert credential in ids(_list(team, **bearer(refreshed.json()["data"]["accessToken"])))
        journal = team.get(f"/__admin/namespaces/{name}/requests").json()["data"]
        assert [e["path"] for e in journal] == [CREATE, *[LIST] * 3, LOGIN, LIST, REFRESH, LIST]


def test_a_create_without_a_name_gets_one_that_routes_to_its_replica(team: Team) -> None:
    created = team.create()
    name = created["name"]
    assert name.startswith("ns-")
    try:
        assert created["replica"] == team.holder(name)
        reached = _list(team, f"/__ns/{name}{LIST}", **bearer("alice-token"))
        assert reached.status_code == 200, reached.text
    finally:
        assert requests.delete(f"{team.url}/__admin/namespaces/{name}", timeout=10).ok


def test_a_bad_name_in_a_create_is_the_servers_400_and_nothing_is_created(team: Team) -> None:
    before = {r: team.get("/__admin/namespaces", params={"replica": r}).json() for r in REPLICAS}
    for bad in ("Bad_Name", "-x", "a" * 41):
        answer = team.post(f"/__admin/namespaces?namespace={bad}")
        assert answer.status_code == 400, answer.text
        assert answer.json()["errno"] == -22015 and "not a namespace name" in answer.text
    after = {r: team.get("/__admin/namespaces", params={"replica": r}).json() for r in REPLICAS}
    assert [s["name"] for r in REPLICAS for s in after[r]["data"]] == [
        s["name"] for r in REPLICAS for s in before[r]["data"]
    ]


def test_the_listing_by_replica_says_which_holds_what(team: Team) -> None:
    seen: dict[str, str] = {}
    for replica in REPLICAS:
        answer = team.get("/__admin/namespaces", params={"replica": replica})
        assert answer.status_code == 200, answer.text
        for space in answer.json()["data"]:
            assert space["replica"] == replica
            seen[space["name"]] = replica
        health = team.get("/__admin/health", params={"replica": replica}).json()["data"]
        assert health["replica"] == replica
    assert {name: seen[name] for name in NAMES} == {name: team.holder(name) for name in NAMES}


def test_the_websocket_upgrade_routes_like_rest(team: Team) -> None:
    async def rpc_count(url: str, token: str, **headers: str) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, headers=headers) as ws,
        ):
            await ws.send_str(json.dumps({"id": 1, "connect": {"token": token}}))
            reply = json.loads((await ws.receive(timeout=10)).data)
            assert "connect" in reply, reply
            await ws.send_str(
                json.dumps({"id": 2, "rpc": {"method": "query.credential.list", "data": {}}})
            )
            answer = json.loads((await ws.receive(timeout=10)).data)
            assert "rpc" in answer, answer
            return len(answer["rpc"]["data"]["data"])

    ws = team.url.replace("http://", "ws://")
    for name in NAMES[:6]:
        expected = len(_list(team, f"/__ns/{name}{LIST}", **bearer("alice-token")).json()["data"])
        by_base = asyncio.run(rpc_count(f"{ws}/__ns/{name}/connection/websocket", "alice-token"))
        by_header = asyncio.run(
            rpc_count(f"{ws}/connection/websocket", f"{name}.alice-token", **{HEADER: name})
        )
        assert by_base == by_header == expected


def test_remote_mock_opens_and_steers_a_namespace_through_the_balancer(team: Team) -> None:
    remote = RemoteMock(team.url)
    remote.start()
    name = remote.open_namespace()
    try:
        remote.load("empty")
        fault = remote.add_fault({"match": {"path": LIST}, "respond": {"status": 503}, "times": 1})
        answer = requests.get(remote.url + LIST, headers=bearer("alice-token"), timeout=10)
        assert answer.status_code == 503, answer.text
        assert _list(team, f"/__ns/{name}{LIST}", **bearer("alice-token")).json()["data"] == []
        assert [e.status for e in remote.requests] == [503, 200]
        assert [f["id"] for f in remote.faults] == [fault]
        remote.clear_faults()
        assert remote.faults == []
        remote.reset()
        assert remote.requests == []
    finally:
        remote.stop()
    gone = _list(team, f"/__ns/{name}{LIST}", **bearer("alice-token"))
    assert gone.status_code == 404 and gone.json()["errno"] == -19003


def test_a_killed_replica_loses_only_its_own_namespaces(own_team: Team) -> None:
    team = own_team
    for name in NAMES:
        team.create(name)
    holders = {name: team.holder(name) for name in NAMES}
    victim = REPLICAS[1]
    lost = {name for name, holder in holders.items() if holder == victim}
    assert lost and lost != set(NAMES)
    port = team.kill(victim)
    # At once (before any health check noticed): a refused connection is retried on
    # another replica, which does not hold the name.
    for name in NAMES:
        answer = _list(team, f"/__ns/{name}{LIST}", **bearer("alice-token"))
        if name in lost:
            assert answer.status_code == 404, (name, answer.text)
            assert answer.json()["errno"] == -19003
            assert name in answer.json()["error"]
        else:
            assert answer.status_code == 200, (name, answer.text)
        token = _list(team, **bearer(f"{name}.alice-token"))
        assert token.status_code == (401 if name in lost else 200), (name, token.text)
    # Restarted on its port, it is back in the ring with nothing: its names answer 404 there.
    team.start_replica(victim, port)
    team.wait_until(
        lambda: (
            team.get("/__admin/health", params={"replica": victim}).json()["data"]["replica"]
            == victim
        ),
        "the restarted replica to be checked up",
    )
    for name in NAMES:
        answer = _list(team, f"/__ns/{name}{LIST}", **bearer("alice-token"))
        assert answer.status_code == (404 if name in lost else 200), (name, answer.text)


WORKER_TESTS = """
import os, pathlib, pytest, requests

OUT = pathlib.Path({out!r})
ALICE = {{"Authorization": "Bearer alice-token"}}

@pytest.mark.parametrize("i", range(12))
def test_a_worker_sees_only_its_own_namespace(cadenza_mock, i):
    namespace = cadenza_mock.url.rsplit("/__ns/", 1)[1]
    created = requests.post(
        cadenza_mock.url + "/api/v3/credential/create",
        headers=ALICE,
        json={{"venue": "BINANCE", "apiKey": f"KEY{{i:03d}}ABCDEFGHIJKLMNOPQR", "apiSecret": "s"}},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    listed = requests.get(cadenza_mock.url + "/api/v3/credential/list", headers=ALICE, timeout=10)
    assert [c["credentialId"] for c in listed.json()["data"]] == [
        created.json()["data"]["credentialId"]
    ]
    assert [e.path for e in cadenza_mock.requests][-2:] == [
        "/api/v3/credential/create", "/api/v3/credential/list"
    ]
    base = cadenza_mock.url.rsplit("/__ns/", 1)[0]
    health = requests.get(f"{{base}}/__admin/namespaces/{{namespace}}/health", timeout=10)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with OUT.open("a") as out:
        out.write(f"{{worker}} {{namespace}} {{health.json()['data']['replica']}}\\n")
"""


def test_the_plugin_remote_mode_under_xdist_keeps_each_worker_on_one_replica(
    pytester: pytest.Pytester, serve: Callable[..., Served]
) -> None:
    own_team = Team(serve, "--scenario", "empty")
    try:
        _run_workers(pytester, own_team)
    finally:
        own_team.stop()


def _run_workers(pytester: pytest.Pytester, own_team: Team) -> None:
    out = pytester.path / "seen.txt"
    pytester.makepyfile(test_workers=WORKER_TESTS.format(out=str(out)))
    result = pytester.runpytest_inprocess(
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "--cadenza-url",
        own_team.url,
        "--cadenza-scenario",
        "empty",
        "-n",
        "4",
    )
    result.assert_outcomes(passed=12)
    seen: dict[str, set[tuple[str, str]]] = {}
    for line in out.read_text().splitlines():
        worker, namespace, replica = line.split()
        seen.setdefault(worker, set()).add((namespace, replica))
    assert len(seen) == 4, seen  # four workers ran tests
    # Each worker: one namespace, on one replica, for all its tests.
    assert all(len(pairs) == 1 for pairs in seen.values()), seen
    assert len({pair[0] for pairs in seen.values() for pair in pairs}) == 4
    # Every namespace is gone after the run, from every replica.
    for url in own_team.replica_urls.values():
        assert requests.get(f"{url}/__admin/namespaces", timeout=10).json()["data"] == []

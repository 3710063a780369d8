"""Namespaces: many isolated mocks in one server, over real sockets.

A namespace is reached three ways (its `/__ns/<name>` base URL with the scenario's own
tokens, a `<name>.`-prefixed or namespace-issued token on any URL, the
X-Cadenza-Mock-Namespace header), and nothing done in one is seen in another or in the
server's own state. Bad names, unknown namespaces, the bound and the idle expiry each get
a clear answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import requests

from cadenza_mock.engine.namespaces import Namespaces
from cadenza_mock.engine.state import MockState
from cadenza_mock.run.server import MockServer
from tests.support import bearer, run_cli

LIST = "/api/v3/credential/list"
CREATE = "/api/v3/credential/create"
LOGIN = "/api/v3/auth/login"
REFRESH = "/api/v3/auth/token/refresh"
HEADER = "X-Cadenza-Mock-Namespace"
SECRET = "n4mespace-s3cret-value"
NEW_KEY = "NSkeyABCDEFGHIJ0123456789xyz"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer("multi-user") as mock:
        yield mock


@pytest.fixture(autouse=True)
def _pristine(server: MockServer) -> Iterator[None]:
    server.reset()
    yield
    for space in requests.get(f"{server.url}/__admin/namespaces", timeout=10).json()["data"]:
        requests.delete(f"{server.url}/__admin/namespaces/{space['name']}", timeout=10)


def create(server: MockServer, name: str | None = None, **kwargs: Any) -> dict[str, Any]:
    params = {"namespace": name} if name else None
    r = requests.post(f"{server.url}/__admin/namespaces", params=params, timeout=10, **kwargs)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def tokens_of(created: dict[str, Any], email: str) -> list[str]:
    return next(u["tokens"] for u in created["users"] if u["email"] == email)


def new_credential(url: str, token: str, **headers: str) -> requests.Response:
    body = {"venue": "BINANCE", "apiKey": NEW_KEY, "apiSecret": SECRET}
    return requests.post(url + CREATE, json=body, headers={**bearer(token), **headers}, timeout=10)


def credential_count(url: str, token: str, **headers: str) -> int:
    r = requests.get(url + LIST, headers={**bearer(token), **headers}, timeout=10)
    assert r.status_code == 200, r.text
    return len(r.json()["data"])


# --------------------------------------------------------------------------- creating


def test_create_answers_name_tokens_and_header_on_the_servers_scenario(
    server: MockServer,
) -> None:
    created = create(server, "team-a")
    assert created["name"] == "team-a"
    assert created["scenario"] == server.scenario.name
    assert created["header"] == {HEADER: "team-a"}
    assert created["admin"] == "/__admin/namespaces/team-a"
    alice = server.users[0]
    # The scenario's own token, and the prefixed one that selects the namespace anywhere.
    assert tokens_of(created, alice.email) == [alice.tokens[0], f"team-a.{alice.tokens[0]}"]


def test_create_from_a_named_scenario_a_json_one_and_yaml(server: MockServer) -> None:
    named = requests.post(
        f"{server.url}/__admin/namespaces?namespace=rev&name=revoked", timeout=10
    ).json()["data"]
    assert named["scenario"] == "revoked"
    inline = {"users": [{"email": "z@example.com", "tokens": ["z-token"]}]}
    r = requests.post(
        f"{server.url}/__admin/namespaces?namespace=js", json={"scenario": inline}, timeout=10
    )
    assert r.json()["data"]["users"][0]["tokens"] == ["z-token", "js.z-token"]
    yaml_text = "description: by hand\nusers:\n  - email: y@example.com\n    tokens: [y-token]\n"
    r = requests.post(
        f"{server.url}/__admin/namespaces",
        data=yaml_text,
        headers={"Content-Type": "application/yaml"},
        timeout=10,
    )
    fresh = r.json()["data"]
    assert fresh["name"].startswith("ns-")
    assert credential_count(server.url, f"{fresh['name']}.y-token") == 0


def test_an_empty_json_post_is_the_servers_own_scenario(server: MockServer) -> None:
    r = requests.post(
        f"{server.url}/__admin/namespaces?namespace=bare",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["data"]["scenario"] == server.scenario.name


def test_a_bad_scenario_creates_nothing(server: MockServer) -> None:
    r = requests.post(
        f"{server.url}/__admin/namespaces?namespace=broken",
        data="users: [",
        headers={"Content-Type": "application/yaml"},
        timeout=10,
    )
    assert r.status_code == 400
    assert "no namespace was created" in r.json()["error"]
    assert requests.get(f"{server.url}/__admin/namespaces", timeout=10).json()["data"] == []


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("Team_A", 400, "not a namespace name"),
        ("-edge", 400, "not a namespace name"),
        ("x" * 41, 400, "not a namespace name"),
        ("default", 409, "namespace 'default'"),
    ],
)
def test_bad_or_taken_names_are_refused(
    server: MockServer, name: str, status: int, words: str
) -> None:
    r = requests.post(f"{server.url}/__admin/namespaces", params={"namespace": name}, timeout=10)
    assert r.status_code == status and words in r.json()["error"], r.text


def test_a_taken_name_is_a_409_and_the_first_namespace_keeps_its_state(
    server: MockServer,
) -> None:
    token = f"once.{server.users[0].tokens[0]}"
    create(server, "once")
    assert new_credential(server.url, token).status_code == 200
    r = requests.post(f"{server.url}/__admin/namespaces?namespace=once", timeout=10)
    assert r.status_code == 409 and r.json()["errno"] == -22017
    assert (
        credential_count(server.url, token)
        == credential_count(server.url, server.users[0].tokens[0]) + 1
    )


# --------------------------------------------------------------------------- isolation


def test_three_ways_in_and_nothing_leaks_between_namespaces(server: MockServer) -> None:
    alice = server.users[0].tokens[0]
    before = credential_count(server.url, alice)
    create(server, "a")
    create(server, "b")
    assert new_credential(server.url, f"a.{alice}").status_code == 200  # prefixed token
    assert new_credential(f"{server.url}/__ns/b", alice).status_code == 200  # base URL
    assert new_credential(server.url, alice, **{HEADER: "b"}).status_code == 409  # header
    assert credential_count(server.url, f"a.{alice}") == before + 1
    assert credential_count(f"{server.url}/__ns/b", alice) == before + 1
    assert credential_count(server.url, alice) == before  # the server's own: untouched
    # Each namespace's admin API sees its own (by prefix and by header).
    a_creds = requests.get(f"{server.url}/__admin/namespaces/a/credentials", timeout=10)
    b_creds = requests.get(f"{server.url}/__admin/credentials", headers={HEADER: "b"}, timeout=10)
    default = requests.get(f"{server.url}/__admin/credentials", timeout=10)
    assert len(a_creds.json()["data"]) == len(b_creds.json()["data"])
    assert len(default.json()["data"]) == len(a_creds.json()["data"]) - 1


def test_journal_faults_clock_and_reset_are_per_namespace(server: MockServer) -> None:
    alice = server.users[0].tokens[0]
    create(server, "j")
    admin = f"{server.url}/__admin/namespaces/j"
    fault = {"match": {"path": LIST}, "times": 1, "respond": {"status": 503}}
    assert requests.post(f"{admin}/faults", json=fault, timeout=10).status_code == 200
    assert requests.get(server.url + LIST, headers=bearer(alice), timeout=10).status_code == 200
    ns_answer = requests.get(f"{server.url}/__ns/j{LIST}", headers=bearer(alice), timeout=10)
    assert ns_answer.status_code == 503
    journal = requests.get(f"{admin}/requests", timeout=10).json()["data"]
    assert [(e["path"], e["status"]) for e in journal] == [(LIST, 503)]
    assert [entry.status for entry in server.requests] == [200]
    moved = requests.post(f"{admin}/clock", json={"advance": 3600}, timeout=10).json()["data"]
    assert moved["now"] >= server.now_ms + 3600 * 1000 - 5000
    assert new_credential(server.url, f"j.{alice}").status_code == 200
    requests.post(f"{admin}/reset", timeout=10)
    assert requests.get(f"{admin}/requests", timeout=10).json()["data"] == []
    assert requests.get(f"{admin}/faults", timeout=10).json()["data"] == []
    assert credential_count(server.url, f"j.{alice}") == credential_count(server.url, alice)
    assert len(server.requests) == 2  # the server's own journal: its two calls only


def test_snapshots_and_scenario_load_through_the_prefix(server: MockServer) -> None:
    alice = server.users[0].tokens[0]
    create(server, "snap")
    admin = f"{server.url}/__admin/namespaces/snap"
    snapshot = requests.post(f"{admin}/snapshots", timeout=10).json()["data"]["id"]
    assert new_credential(server.url, f"snap.{alice}").status_code == 200
    restore = requests.post(f"{admin}/snapshots/{snapshot}/restore", timeout=10)
    assert restore.status_code == 200
    assert credential_count(server.url, f"snap.{alice}") == credential_count(server.url, alice)
    loaded = requests.put(f"{admin}/scenario?name=revoked", timeout=10).json()["data"]
    assert loaded["name"] == "revoked" and all(
        any(t.startswith("snap.") for t in u["tokens"]) for u in loaded["users"]
    )
    assert server.scenario.name == "multi-user"  # the server's own: still its scenario


# --------------------------------------------------------------------------- sessions


def test_login_through_the_base_url_or_header_and_issued_tokens_select_it(
    server: MockServer,
) -> None:
    user = next(u for u in server.scenario.users if u.password)
    login = {"email": user.email, "password": user.password}
    create(server, "s1")
    create(server, "s2")
    one = requests.post(f"{server.url}/__ns/s1{LOGIN}", json=login, timeout=10).json()["data"]
    two = requests.post(server.url + LOGIN, json=login, headers={HEADER: "s2"}, timeout=10)
    two_data = two.json()["data"]
    assert one["accessToken"] != two_data["accessToken"]  # never one token in two
    assert one["refreshToken"] != two_data["refreshToken"]
    assert new_credential(server.url, one["accessToken"]).status_code == 200  # plain URL
    assert (
        credential_count(server.url, one["accessToken"])
        == credential_count(server.url, two_data["accessToken"]) + 1
    )
    # A namespace's refresh token finds its namespace from the body alone.
    r = requests.post(server.url + REFRESH, json={"refreshToken": one["refreshToken"]}, timeout=10)
    assert r.status_code == 200, r.text
    refreshed = r.json()["data"]["accessToken"]
    assert credential_count(server.url, refreshed) == credential_count(
        server.url, one["accessToken"]
    )
    # None of it happened in the server's own state.
    assert all(entry.path not in (LOGIN, REFRESH, CREATE) for entry in server.requests)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", LIST, {HEADER: "nope"}),
        ("GET", f"/__ns/nope{LIST}", {}),
        ("POST", "/__admin/namespaces/nope/reset", {}),
        ("GET", "/__admin/requests", {HEADER: "nope"}),
        ("DELETE", "/__admin/namespaces/nope", {}),
    ],
)
def test_an_unknown_namespace_is_a_clear_404_and_changes_nothing(
    server: MockServer, method: str, path: str, headers: dict[str, str]
) -> None:
    token = server.users[0].tokens[0]
    r = requests.request(
        method, server.url + path, headers={**bearer(token), **headers}, timeout=10
    )
    assert r.status_code == 404
    body = r.json()
    assert body["errno"] == -19003 and "No namespace: 'nope'" in body["error"], body
    assert server.requests == []  # not journaled in the server's own state either


def test_the_default_namespace_is_the_servers_own_and_cannot_be_deleted(
    server: MockServer,
) -> None:
    token = server.users[0].tokens[0]
    via_name = credential_count(server.url, token, **{HEADER: "default"})
    assert via_name == credential_count(server.url, token)
    r = requests.delete(f"{server.url}/__admin/namespaces/default", timeout=10)
    assert r.status_code == 400 and "cannot be deleted" in r.json()["error"]


def test_deleting_a_namespace_ends_its_tokens(server: MockServer) -> None:
    token = f"gone.{server.users[0].tokens[0]}"
    create(server, "gone")
    assert credential_count(server.url, token) > 0
    r = requests.delete(f"{server.url}/__admin/namespaces/gone", timeout=10)
    assert r.json()["data"] == {"deleted": "gone"}
    after = requests.get(server.url + LIST, headers=bearer(token), timeout=10)
    assert after.status_code == 401
    assert requests.get(f"{server.url}/__ns/gone{LIST}", timeout=10).status_code == 404


def test_the_admin_token_is_checked_before_a_namespace_is_looked_up() -> None:
    with MockServer("default", admin_token="adm-s3cret") as mock:
        r = requests.post(f"{mock.url}/__admin/namespaces/whatever/reset", timeout=10)
        assert r.status_code == 401  # not 404: whether it exists is not for strangers
        r = requests.post(
            f"{mock.url}/__admin/namespaces?namespace=mine",
            headers={"X-Admin-Token": "adm-s3cret"},
            timeout=10,
        )
        assert r.status_code == 200
        assert "adm-s3cret" not in r.text


# --------------------------------------------------------------------------- secrets


def test_no_secret_reaches_a_namespace_listing_answer_or_journal(server: MockServer) -> None:
    alice = server.users[0].tokens[0]
    created = create(server, "sec")
    assert new_credential(server.url, f"sec.{alice}").status_code == 200
    listing = requests.get(f"{server.url}/__admin/namespaces", timeout=10)
    texts = [
        json.dumps(created),
        listing.text,
        requests.get(f"{server.url}/__admin/namespaces/sec/requests", timeout=10).text,
        requests.get(f"{server.url}/__admin/namespaces/sec/credentials", timeout=10).text,
    ]
    for text in texts:
        assert SECRET not in text and NEW_KEY not in text
    # Listings name namespaces, never their tokens.
    assert alice not in listing.text and listing.json()["data"][0]["name"] == "sec"


# --------------------------------------------------------------------------- WebSocket


async def _connect(url: str, token: str, **headers: str) -> aiohttp.ClientWebSocketResponse:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(url, headers=headers)
    ws._test_session = session  # type: ignore[attr-defined]  # closed by _close
    await ws.send_str(json.dumps({"id": 1, "connect": {"token": token}}))
    reply = json.loads((await ws.receive(timeout=10)).data)
    assert "connect" in reply, reply
    ws._test_client_id = reply["connect"]["client"]  # type: ignore[attr-defined]
    return ws


async def _close(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.close()
    await ws._test_session.close()  # type: ignore[attr-defined]


async def _rpc_count(ws: aiohttp.ClientWebSocketResponse, command_id: int) -> int:
    await ws.send_str(
        json.dumps({"id": command_id, "rpc": {"method": "query.credential.list", "data": {}}})
    )
    reply = json.loads((await ws.receive(timeout=10)).data)
    assert reply["id"] == command_id and "rpc" in reply, reply
    return len(reply["rpc"]["data"]["data"])


async def test_websocket_connections_live_in_their_namespace(server: MockServer) -> None:
    alice = server.users[0].tokens[0]
    create(server, "wsa")
    assert new_credential(server.url, f"wsa.{alice}").status_code == 200
    plain_ws = server.ws_url
    base_ws = server.ws_url.replace("/connection/", "/__ns/wsa/connection/")
    by_token = await _connect(plain_ws, f"wsa.{alice}")
    by_url = await _connect(base_ws, alice)
    by_header = await _connect(plain_ws, alice, **{HEADER: "wsa"})
    own = await _connect(plain_ws, alice)
    try:
        counts = [await _rpc_count(ws, 2) for ws in (by_token, by_url, by_header, own)]
        assert counts[0] == counts[1] == counts[2] == counts[3] + 1, counts
        # Deleting the namespace ends its connections; the server's own stays open.
        requests.delete(f"{server.url}/__admin/namespaces/wsa", timeout=10)
        for ws in (by_token, by_url, by_header):
            message = await ws.receive(timeout=10)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert await _rpc_count(own, 3) == counts[3]
    finally:
        for ws in (by_token, by_url, by_header, own):
            await _close(ws)


# --------------------------------------------------------------------------- bound, expiry


def test_the_access_log_names_the_namespace_never_its_token(serve: Any) -> None:
    served = serve()
    url, token = served.banner()
    assert requests.post(f"{url}/__admin/namespaces?namespace=logged", timeout=10).ok
    requests.get(url + LIST, headers=bearer(f"logged.{token}"), timeout=10)
    requests.get(url + LIST, headers=bearer(token), timeout=10)
    code, output = served.stop()
    assert code == 0
    lines = [line for line in output.splitlines() if f"GET {LIST} 200" in line]
    assert len(lines) == 2 and lines[0].endswith("ns=logged") and "ns=" not in lines[1]
    assert f"logged.{token}" not in output


def test_the_bound_and_idle_expiry_in_serve(serve: Any) -> None:
    served = serve("--max-namespaces", "2", "--namespace-idle", "1", "--quiet")
    url, _ = served.banner()
    for name in ("one", "two"):
        assert requests.post(f"{url}/__admin/namespaces?namespace={name}", timeout=10).ok
    full = requests.post(f"{url}/__admin/namespaces?namespace=three", timeout=10)
    assert full.status_code == 429 and "--max-namespaces" in full.json()["error"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # idle ones expire on their own
        if requests.get(f"{url}/__admin/namespaces", timeout=10).json()["data"] == []:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("idle namespaces never expired")
    assert requests.post(f"{url}/__admin/namespaces?namespace=three", timeout=10).ok


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--max-namespaces", "many", "expected an integer"),
        ("--max-namespaces", "-1", "--max-namespaces"),
        ("--namespace-idle", "0", "more than 0"),
    ],
)
def test_bad_namespace_options_are_one_clear_line(flag: str, value: str, words: str) -> None:
    result = run_cli("serve", "--port", "0", flag, value, timeout=30)
    assert result.returncode == 2 and words in result.stderr and flag in result.stderr
    assert result.stdout == ""  # refused before serving anything


def test_expiry_follows_use_not_age() -> None:
    """Each request a namespace answers keeps it alive; an idle one goes (a fake clock)."""
    now = [0.0]
    spaces = Namespaces(MockState("default"), idle_seconds=10, monotonic=lambda: now[0])
    used = spaces.create("default", name="used")
    spaces.create("default", name="idle")
    for _ in range(3):
        now[0] += 6
        assert spaces.for_token(f"used.{used.state.scenario.token}") is used.state
    assert spaces.expire() == ["idle"]
    assert [space.name for space in spaces] == ["used"]
    now[0] += 11
    assert spaces.for_token(f"used.{used.state.scenario.token}") is None  # expired on sight
    assert len(spaces) == 0


def test_an_issued_token_is_found_again_and_forgotten_with_its_namespace() -> None:
    """The namespace that issued a token is remembered for its next calls, and never
    outlives the namespace (a new one of the same name does not inherit its tokens)."""
    spaces = Namespaces(MockState("default"))
    spaces.create("default", name="first")
    issuer = spaces.create("default", name="second")
    user = issuer.state.scenario.users[0]
    assert user.password is not None
    session = issuer.state.store.sessions.login(user.email, user.password)
    assert spaces.for_token(session.access_token) is issuer.state
    # Found again without asking the other namespace (nor the server's own twice).
    asked: list[str] = []
    other = next(space for space in spaces if space.name == "first").state.store.sessions
    lookup = other.lookup
    other.lookup = lambda token: asked.append(token) or lookup(token)  # type: ignore[method-assign]
    for _ in range(3):
        assert spaces.for_token(session.access_token) is issuer.state
    assert asked == []
    spaces.drop("second")
    assert spaces.for_token(session.access_token) is None
    spaces.create("default", name="second")
    assert spaces.for_token(session.access_token) is None


async def test_a_namespaces_clients_never_shift_the_servers_own_client_ids() -> None:
    """Client ids are seeded per hub: the server's own second client gets the same id
    whether or not a namespace's client connected in between."""

    async def own_ids(with_namespace: bool) -> list[str]:
        with MockServer("default") as mock:
            requests.post(f"{mock.url}/__admin/namespaces?namespace=between", timeout=10)
            opened = [await _connect(mock.ws_url, "alice-token")]
            if with_namespace:
                opened.append(await _connect(mock.ws_url, "between.alice-token"))
            opened.append(await _connect(mock.ws_url, "alice-token"))
            ids = [opened[0]._test_client_id, opened[-1]._test_client_id]  # type: ignore[attr-defined]
            for ws in opened:
                await _close(ws)
            return ids

    alone, beside = await own_ids(False), await own_ids(True)
    assert alone == beside and alone[0] != alone[1]


async def test_a_namespace_dropped_during_the_upgrade_closes_the_socket(
    server: MockServer,
) -> None:
    create(server, "slow")
    fault = {"match": {"path": "/connection/websocket"}, "delay": 0.5, "times": 1}
    armed = requests.post(f"{server.url}/__admin/namespaces/slow/faults", json=fault, timeout=10)
    assert armed.ok, armed.text
    async with aiohttp.ClientSession() as session:
        upgrade = asyncio.ensure_future(session.ws_connect(server.ws_url, headers={HEADER: "slow"}))
        await asyncio.sleep(0.1)
        await asyncio.to_thread(
            requests.delete, f"{server.url}/__admin/namespaces/slow", timeout=10
        )
        ws = await upgrade
        message = await ws.receive(timeout=10)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 3503
        await ws.close()


async def test_the_upgrade_naming_an_unknown_namespace_is_a_404(server: MockServer) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(server.ws_url, headers={HEADER: "nope"})
        assert refused.value.status == 404
        got = await session.get(server.ws_url.replace("ws://", "http://"), headers={HEADER: "nope"})
        assert (await got.json())["errno"] == -19003


# --------------------------------------------------------------------------- keep-alive


def test_keep_alive_connections_reach_the_same_state_as_new_ones(server: MockServer) -> None:
    """The list fast path answers repeated calls from remembered bytes: a namespace's
    token or header on a kept-alive connection must still reach the namespace."""
    alice = server.users[0].tokens[0]
    create(server, "kept")
    assert new_credential(server.url, f"kept.{alice}").status_code == 200
    expected = credential_count(server.url, alice) + 1
    with requests.Session() as session:
        for _ in range(3):  # the first makes the server's own answer remembered
            own = session.get(server.url + LIST, headers=bearer(alice), timeout=10)
            by_token = session.get(server.url + LIST, headers=bearer(f"kept.{alice}"), timeout=10)
            by_header = session.get(
                server.url + LIST, headers={**bearer(alice), HEADER: "kept"}, timeout=10
            )
            assert len(own.json()["data"]) == expected - 1
            assert len(by_token.json()["data"]) == len(by_header.json()["data"]) == expected


def test_the_servers_own_dotted_token_stays_its_own_whatever_namespace_exists() -> None:
    """A scenario token that looks prefixed ("ci.alice") is the server's own, on new and
    on kept-alive connections alike, even once a namespace called "ci" exists."""
    dotted = {"users": [{"email": "a@example.com", "tokens": ["ci.alice"]}]}
    with MockServer(dotted) as mock:
        requests.post(f"{mock.url}/__admin/namespaces?namespace=ci", timeout=10)
        created = new_credential(mock.url, "ci.alice")  # the server's own
        assert created.status_code == 200, created.text
        with requests.Session() as session:
            kept = [
                len(
                    session.get(mock.url + LIST, headers=bearer("ci.alice"), timeout=10).json()[
                        "data"
                    ]
                )
                for _ in range(3)
            ]
        fresh = len(
            requests.get(mock.url + LIST, headers=bearer("ci.alice"), timeout=10).json()["data"]
        )
        assert kept == [1, 1, 1] and fresh == 1
        ns_list = requests.get(f"{mock.url}/__ns/ci{LIST}", headers=bearer("ci.alice"), timeout=10)
        assert ns_list.json()["data"] == []  # the namespace's own alice has none


# --------------------------------------------------------------------------- bad names


@pytest.mark.parametrize(
    ("path", "headers", "words"),
    [
        (LIST, {HEADER: "Bad Name!"}, "is not a namespace name"),
        (f"/__ns/BAD!{LIST}", {}, "is not a namespace name"),
        (LIST, {HEADER: "x" * 300}, "is not a namespace name"),
        (f"/__ns/one{LIST}", {HEADER: "two"}, "name different namespaces"),
        ("/__admin/namespaces/one/requests", {HEADER: "two"}, "name different namespaces"),
    ],
)
def test_a_malformed_or_contradictory_namespace_is_a_400(
    server: MockServer, path: str, headers: dict[str, str], words: str
) -> None:
    create(server, "one")
    create(server, "two")
    token = server.users[0].tokens[0]
    r = requests.get(server.url + path, headers={**bearer(token), **headers}, timeout=10)
    assert r.status_code == 400 and r.json()["errno"] == -22015, r.text
    assert words in r.json()["error"] and "x" * 61 not in r.json()["error"]
    assert server.requests == []


def test_an_unknown_prefix_is_just_an_unknown_token(server: MockServer) -> None:
    token = server.users[0].tokens[0]
    r = requests.get(server.url + LIST, headers=bearer(f"zzz.{token}"), timeout=10)
    assert r.status_code == 401 and r.json()["errno"] == -19002

"""What bounds namespaces, over real sockets: the record budget all of them share (checked
on what a scenario declares before anything is built, and on what it built), scenarios
built off the server's loop, idle expiry that counts every use (a request in flight, an
open WebSocket connection), tokens a namespace created again never shares with the one
before, and a refresh body too large for the namespace lookup still answered in the
envelope.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import requests
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from support import ALICE, LIST, MakeClient, run_cli

from cadenza_mock.engine import state as state_module
from cadenza_mock.engine.namespaces import Namespaces
from cadenza_mock.engine.state import MockState
from cadenza_mock.scenario import load_scenario

SPACES = "/__admin/namespaces"
LOGIN = "/api/v3/auth/login"
REFRESH = "/api/v3/auth/token/refresh"
HEADER = "X-Cadenza-Mock-Namespace"
ALICE_LOGIN = {"email": "alice@example.com", "password": "correct-horse"}  # the default's


def generated(count: int, venue: str = "OKX") -> str:
    """A YAML scenario of one user with `count` generated credentials: a few bytes."""
    return (
        "users:\n  - email: gen@example.com\n    tokens: [gen-token]\n    credentials:\n"
        f"      - generate: {count}\n        venue: {venue}\n"
    )


async def create(client: TestClient, name: str, body: str | None = None) -> Any:
    """POST a namespace (a YAML body, or none: the server's own scenario); the response."""
    headers = {"Content-Type": "application/yaml"} if body is not None else {}
    return await client.post(f"{SPACES}?namespace={name}", data=body or "", headers=headers)


async def listed(client: TestClient) -> dict[str, int]:
    """name -> records, of every namespace listed."""
    answer = await (await client.get(SPACES)).json()
    return {space["name"]: space["records"] for space in answer["data"]}


async def refused_for_budget(response: Any) -> str:
    """The 429 envelope of a scenario over the record budget; its message."""
    assert response.status == 429, await response.text()
    answer = await response.json()
    assert answer["success"] is False and answer["data"] is None
    assert answer["errno"] == -18011
    assert answer["error"].startswith("Record budget exceeded: ")
    assert "--max-records" in answer["error"]
    message: str = answer["error"]
    return message


# --------------------------------------------------------------------------- the budget


async def test_a_generate_body_over_the_budget_is_refused_before_anything_is_built(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await make_client("default", max_records=1000)
    parsed: list[object] = []
    parse = MockState.parse
    monkeypatch.setattr(
        MockState, "parse", lambda self, *a, **k: parsed.append(a) or parse(self, *a, **k)
    )
    message = await refused_for_budget(await create(client, "huge", generated(200_000)))
    assert "200,000 records" in message and "budget of 1,000" in message
    assert parsed == []  # refused on what it declares: no record was generated
    assert await listed(client) == {}  # nothing created, the name still free
    assert (await create(client, "huge", generated(10))).status == 200
    assert await listed(client) == {"huge": 10}


async def test_what_a_scenario_builds_is_counted_exactly(make_client: MakeClient) -> None:
    """The bundled `accounts` scenario declares 10 records (5 credentials, 5 accounts)
    and builds 16 (with the accounts' history): a budget between the two refuses it once
    it is built; the listing shows what each namespace holds."""
    built = load_scenario("accounts")
    exact = len(built.credentials) + len(built.trading_accounts) + len(built.account_operations)
    client = await make_client("default", max_records=exact - 1)
    message = await refused_for_budget(await client.post(f"{SPACES}?namespace=acc&name=accounts"))
    assert f"holds {exact} records" in message
    assert await listed(client) == {}
    roomy = await make_client("default", max_records=exact)
    assert (await roomy.post(f"{SPACES}?namespace=acc&name=accounts")).status == 200
    assert await listed(roomy) == {"acc": exact}


async def test_the_budget_is_shared_and_freed_by_a_delete(make_client: MakeClient) -> None:
    client = await make_client("default", max_records=50)
    assert (await create(client, "one", generated(30))).status == 200
    message = await refused_for_budget(await create(client, "two", generated(30)))
    assert "the namespaces 30 already" in message
    assert (await create(client, "two", generated(20))).status == 200  # exactly full
    assert await listed(client) == {"one": 30, "two": 20}
    assert (await client.delete(f"{SPACES}/one")).status == 200
    assert (await create(client, "three", generated(30))).status == 200
    assert await listed(client) == {"two": 20, "three": 30}


async def test_a_namespace_load_over_the_budget_keeps_the_old_scenario(
    make_client: MakeClient,
) -> None:
    client = await make_client("default", max_records=50)
    assert (await create(client, "mine", generated(30))).status == 200
    headers = {"Authorization": "Bearer mine.gen-token"}
    before = await (await client.get(LIST, headers=headers)).read()
    yaml_headers = {"Content-Type": "application/yaml"}
    too_big = await client.put(f"{SPACES}/mine/scenario", data=generated(51), headers=yaml_headers)
    await refused_for_budget(too_big)
    assert await (await client.get(LIST, headers=headers)).read() == before  # nothing lost
    # Its own records make room for the scenario replacing them: 50 fit.
    ok = await client.put(f"{SPACES}/mine/scenario", data=generated(50), headers=yaml_headers)
    assert ok.status == 200, await ok.text()
    assert await listed(client) == {"mine": 50}
    # The server's own state is the operator's: the namespaces' budget does not bind it.
    own = await client.put("/__admin/scenario", data=generated(60), headers=yaml_headers)
    assert own.status == 200, await own.text()


def test_the_budget_option_by_flag_and_variable(serve: Any) -> None:
    result = run_cli("serve", "--port", "0", "--max-records", "-5", timeout=30)
    assert result.returncode == 2 and "--max-records" in result.stderr
    assert "must be 0 or more" in result.stderr and result.stdout == ""
    body, yaml_type = generated(26), {"Content-Type": "application/yaml"}
    url, _ = serve("--max-records", "25", "--quiet").banner()
    r = requests.post(f"{url}{SPACES}", data=body, headers=yaml_type, timeout=10)
    assert r.status_code == 429 and "budget of 25" in r.json()["error"]
    url, _ = serve("--quiet", env={"CADENZA_MOCK_MAX_RECORDS": "26"}).banner()
    r = requests.post(f"{url}{SPACES}", data=body, headers=yaml_type, timeout=10)
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------- off the loop


BUILDS: dict[str, Callable[[TestClient], Awaitable[Any]]] = {
    "create a namespace": lambda c: create(c, "big", generated(5)),
    "load into a namespace": lambda c: c.put(
        f"{SPACES}/small/scenario", data=generated(5), headers={"Content-Type": "application/yaml"}
    ),
    "load the server's own": lambda c: c.put(
        "/__admin/scenario?name=default", headers={"Content-Type": "application/json"}
    ),
}


@pytest.mark.parametrize("build", list(BUILDS))
async def test_other_clients_are_answered_while_a_store_builds(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, build: str
) -> None:
    """The store of a namespace (or of a load) is built in a worker thread: held there
    until a list call was answered, it cannot keep that call waiting. Were it built on the
    server's loop, the list could only be answered once the build gave up waiting."""
    client = await make_client("default")
    assert (await create(client, "small")).status == 200
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    real_store = state_module.Store

    def held_store(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(10)
        order.append("built")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(state_module, "Store", held_store)
    pending = asyncio.ensure_future(BUILDS[build](client))
    try:
        assert await asyncio.to_thread(started.wait, 10)
        listed_meanwhile = await client.get(LIST, headers=ALICE)
        assert listed_meanwhile.status == 200
        order.append("answered")
    finally:
        release.set()
        done = await pending
    assert done.status == 200, await done.text()
    assert order == ["answered", "built"]


# --------------------------------------------------------------------------- idle expiry


def test_a_held_namespace_is_never_idle_and_counts_from_its_release() -> None:
    now = [0.0]
    spaces = Namespaces(MockState("default"), idle_seconds=10, monotonic=lambda: now[0])
    space = spaces.create("default", name="held")
    release = spaces.hold(space)
    now[0] += 100
    assert spaces.expire() == []  # in use all along (an open connection, a long request)
    release()
    release()  # once is enough; again changes nothing
    assert space.busy == 0
    now[0] += 9
    assert spaces.expire() == []  # idle counts from the release, not from the last touch
    now[0] += 2
    assert spaces.expire() == ["held"]


async def wait_until_gone(client: TestClient, name: str) -> None:
    for _ in range(100):  # bounded: 10 s
        if name not in await listed(client):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"namespace {name} never expired")


async def test_websocket_use_keeps_a_namespace_alive_and_idle_counts_from_its_close(
    make_client: MakeClient,
) -> None:
    client = await make_client("default", namespace_idle=1.0)
    assert (await create(client, "live")).status == 200
    ws = await client.ws_connect("/connection/websocket")
    await ws.send_str(json.dumps({"id": 1, "connect": {"token": "live.alice-token"}}))
    assert "connect" in json.loads((await ws.receive(timeout=5)).data)
    # RPCs for 2.5 idle periods, then as long again without a word: never cut off.
    for command_id in range(2, 15):
        rpc = {"method": "query.credential.list", "data": {}}
        await ws.send_str(json.dumps({"id": command_id, "rpc": rpc}))
        reply = json.loads((await ws.receive(timeout=5)).data)
        assert reply["id"] == command_id and "rpc" in reply, reply
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.5)
    assert "live" in await listed(client)
    await ws.send_str(json.dumps({"id": 99, "rpc": {"method": "query.credential.list"}}))
    message = await ws.receive(timeout=5)
    assert message.type == WSMsgType.TEXT and json.loads(message.data)["id"] == 99
    await ws.close()
    await wait_until_gone(client, "live")  # idle once the connection is gone


async def test_a_request_in_flight_keeps_its_namespace_alive(make_client: MakeClient) -> None:
    client = await make_client("default", namespace_idle=1.0)
    assert (await create(client, "slow")).status == 200
    fault = {"match": {"path": LIST}, "delay": 2.5}
    assert (await client.post(f"{SPACES}/slow/faults", json=fault)).status == 200
    slow = await client.get(LIST, headers={**ALICE, HEADER: "slow"})  # 2.5 idle periods
    assert slow.status == 200, await slow.text()
    assert (await slow.json())["success"] is True
    assert "slow" in await listed(client)
    await wait_until_gone(client, "slow")


# --------------------------------------------------------------------------- tokens


async def test_a_namespace_created_again_issues_other_tokens(make_client: MakeClient) -> None:
    client = await make_client("default")

    async def login() -> dict[str, Any]:
        r = await client.post(LOGIN, json=ALICE_LOGIN, headers={HEADER: "again"})
        assert r.status == 200, await r.text()
        data: dict[str, Any] = (await r.json())["data"]
        return data

    assert (await create(client, "again")).status == 200
    old = await login()
    assert (await client.delete(f"{SPACES}/again")).status == 200
    assert (await create(client, "again")).status == 200
    new = await login()
    assert new["accessToken"] != old["accessToken"]
    assert new["refreshToken"] != old["refreshToken"]
    # The old incarnation's tokens are strangers to the new one, named or not.
    for named in ({}, {HEADER: "again"}):
        stale_token = {"Authorization": f"Bearer {old['accessToken']}"}
        assert (await client.get(LIST, headers={**stale_token, **named})).status == 401
    refresh = await client.post(
        REFRESH, json={"refreshToken": old["refreshToken"]}, headers={HEADER: "again"}
    )
    assert refresh.status == 401
    fresh = await client.get(LIST, headers={"Authorization": f"Bearer {new['accessToken']}"})
    assert fresh.status == 200
    # The scenario's static tokens are the namespace's by design: the same again.
    assert (await client.get(LIST, headers={"Authorization": "Bearer again.alice-token"})).ok


async def test_the_servers_own_issued_tokens_stay_seeded(make_client: MakeClient) -> None:
    """Namespaces salt their tokens; the server's own state issues the same tokens on
    every run, namespaces created or not."""
    tokens = []
    for spaces in (0, 2):
        client = await make_client("default")
        for index in range(spaces):
            assert (await create(client, f"s{index}")).status == 200
        r = await client.post(LOGIN, json=ALICE_LOGIN)
        tokens.append((await r.json())["data"]["accessToken"])
    assert tokens[0] == tokens[1]


# --------------------------------------------------------------------------- refresh body


async def test_a_refresh_body_over_the_limit_is_a_413_in_the_envelope(
    make_client: MakeClient,
) -> None:
    """With a namespace in the server, a refresh body is read to find the namespace that
    issued its token: one over 1 MiB is the catalogue's 413, not aiohttp's plain text."""
    client = await make_client("default")
    assert (await create(client, "any")).status == 200
    body = json.dumps({"refreshToken": "rt_" + "x" * (1024 * 1024 + 10)})
    r = await client.post(REFRESH, data=body, headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert r.content_type == "application/json"
    answer = await r.json()
    assert answer == {
        "data": None,
        "success": False,
        "errno": -19004,
        "error": "Request Entity Too Large",
    }
    assert "any" in await listed(client)  # nothing lost
    assert (await client.get(LIST, headers={"Authorization": "Bearer any.alice-token"})).ok

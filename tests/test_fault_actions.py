"""The fault actions' registry: each action acts on every transport it means something on,
is refused at load where it means nothing, and the docs (the Fault actions table, OpenAPI schema)
come from it. The WebSocket `drop` over real sockets with centrifuge-python as the peer."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import doc_examples
import pytest
from centrifuge import (
    CentrifugeError,
    Client,
    ClientEventHandler,
    ConnectedContext,
    ConnectingContext,
    DisconnectedContext,
)

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.scenario import load_scenario
from cadenza_mock.scenario.fault_actions import ACTIONS
from cadenza_mock.scenario.faults import actions_table, parse_fault_dict
from cadenza_mock.specs.openapi import openapi_document

WS = "/connection/websocket"
ALICE = {"Authorization": "Bearer alice-token"}
INFO = "query.system.info"


def ws_url(client: Any) -> str:
    return str(client.make_url(WS)).replace("http://", "ws://", 1)


async def arm(client: Any, fault: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/__admin/faults", json=fault)
    body = await r.json()
    assert r.status == 200, body
    return dict(body["data"])


async def armed(client: Any) -> list[dict[str, Any]]:
    return list((await (await client.get("/__admin/faults")).json())["data"])


# --------------------------------------------------------------------------- WebSocket drop


class Events(ClientEventHandler):
    """What a centrifuge-python client went through."""

    def __init__(self) -> None:
        self.connected = 0
        self.connecting: list[int] = []
        self.disconnected: list[int] = []
        self.changed = asyncio.Event()

    async def on_connected(self, ctx: ConnectedContext) -> None:
        self.connected += 1
        self.changed.set()

    async def on_connecting(self, ctx: ConnectingContext) -> None:
        self.connecting.append(ctx.code)
        self.changed.set()

    async def on_disconnected(self, ctx: DisconnectedContext) -> None:
        self.disconnected.append(ctx.code)
        self.changed.set()

    async def until(self, done: Any) -> None:
        async with asyncio.timeout(10):
            while not done():
                self.changed.clear()
                await self.changed.wait()


async def _dropped_client(client: Any, drop: Any) -> tuple[Client, Events]:
    """A connected centrifuge client whose next system info RPC meets `drop`."""
    await arm(client, {"match": {"path": INFO}, "drop": drop, "times": 1})
    events = Events()
    peer = Client(
        ws_url(client),
        token="alice-token",
        events=events,
        min_reconnect_delay=0.05,
        max_reconnect_delay=0.2,
    )
    await peer.connect()
    await peer.ready(timeout=5)
    with pytest.raises((CentrifugeError, TimeoutError)):
        await peer.rpc(INFO, {})
    return peer, events


@pytest.mark.parametrize(
    ("drop", "code"),
    [(True, None), ({"close_code": 3011, "reason": "force reconnect"}, 3011)],
    ids=["cut", "close-code-3011"],
)
async def test_a_centrifuge_client_reconnects_after_a_websocket_drop(
    make_client: Any, drop: Any, code: int | None
) -> None:
    client = await make_client("default")
    peer, events = await _dropped_client(client, drop)
    try:
        await events.until(lambda: events.connected >= 2)
        assert events.disconnected == []
        if code is not None:  # the fault's close code reached the client
            assert code in events.connecting
        result = await peer.rpc(INFO, {})  # the fault is used up: served again
        assert "version" in result.data["data"]
    finally:
        await peer.disconnect()
    entries = (await (await client.get("/__admin/requests")).json())["data"]
    rpcs = [(e["path"], e["status"], e["fault"]) for e in entries if e["method"] == "RPC"]
    assert rpcs == [(INFO, 0, "runtime-1:drop"), (INFO, 200, None)]


async def test_a_terminal_close_code_leaves_the_client_disconnected(make_client: Any) -> None:
    """The old default, now asked for: 3503 tells a Centrifugo client not to reconnect."""
    client = await make_client("default")
    peer, events = await _dropped_client(client, {"close_code": 3503})
    try:
        await events.until(lambda: bool(events.disconnected))
        assert events.disconnected == [3503]
        assert events.connected == 1
    finally:
        await peer.disconnect()
    (fault,) = await armed(client)
    assert fault["fault"]["drop"] == {"close_code": 3503, "reason": "fault drop"}
    assert fault["fired"] == 1


# --------------------------------------------------------------------------- refused at load


@pytest.mark.parametrize(
    ("fault", "column", "words"),
    [
        (
            "{path: query.credential.list}\n  slow_body: {chunk_delay: 1}",
            14,
            "a reply is one frame",
        ),
        ("{path: command.*}\n  slow_body: {chunk_delay: 1}", 14, "on a WebSocket RPC"),
        ("{path: /connection/websocket}\n  slow_body: {chunk_delay: 1}", 14, "upgrade"),
        ("{path: /connection/websocket}\n  malformed: true", 14, "no body to cut"),
        ("{path: /connection/websocket}\n  venue: timeout", 10, "reaches no venue"),
        ("{path: /api/v3/credential/list}\n  drop: {close_code: 3000}", 9, "no close code"),
        ("{method: GET}\n  drop: {close_code: 3000}", 9, "on an HTTP call"),
    ],
)
def test_an_action_where_it_means_nothing_is_refused_at_its_line(
    tmp_path: Path, fault: str, column: int, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"faults:\n- match: {fault}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert re.search(rf"bad\.yaml:3:{column}: faults\[0\]\.\w+: has no meaning on ", text), text
    assert words in text


@pytest.mark.parametrize(
    "drop",
    [{"close_code": 2999}, {"close_code": 5000}, {"reason": "x"}, {"close_code": 3000, "r": 1}],
)
def test_a_bad_close_code_is_refused(drop: dict[str, Any]) -> None:
    with pytest.raises(ScenarioError, match=r"drop(\.close_code|\.r)?: "):
        parse_fault_dict({"drop": drop})


async def test_the_admin_api_refuses_it_and_arms_nothing(make_client: Any) -> None:
    client = await make_client("default")
    fault = {"match": {"path": "query.credential.list"}, "slow_body": {"chunk_delay": 1}}
    r = await client.post("/__admin/faults", json=fault)
    body = await r.json()
    assert r.status == 400 and body["errno"] == -19004
    assert "<request body>:1:" in body["error"] and "a reply is one frame" in body["error"]
    assert await armed(client) == []


# --------------------------------------------------------------------------- where they act


async def test_a_pathless_slow_body_leaves_rpcs_alone_and_is_not_used_up(
    make_client: Any,
) -> None:
    client = await make_client("default")
    await arm(client, {"slow_body": {"chunk_delay": 0.01, "chunks": 3}, "times": 1})
    ws = await client.ws_connect(WS)
    await ws.send_json({"id": 1, "connect": {"token": "alice-token"}})
    assert "connect" in await ws.receive_json(timeout=5)
    await ws.send_json({"id": 2, "rpc": {"method": INFO, "data": {}}})
    reply = await ws.receive_json(timeout=5)
    assert "version" in reply["rpc"]["data"]["data"]
    await ws.close()
    (fault,) = await armed(client)
    assert (fault["matched"], fault["fired"], fault["remaining"]) == (0, 0, 1)
    r = await client.get("/api/v3/credential/list", headers=ALICE)
    assert r.status == 200 and len((await r.json())["data"]) == 4  # whole, trickled
    (fault,) = await armed(client)
    assert (fault["fired"], fault["armed"]) == (1, False)


async def test_a_pathless_venue_fault_acts_on_the_rpc_verify(make_client: Any) -> None:
    client = await make_client("default")
    await arm(client, {"venue": "invalid_keys", "times": 1})
    ws = await client.ws_connect(WS)
    await ws.send_json({"id": 1, "connect": {"token": "alice-token"}})
    assert "connect" in await ws.receive_json(timeout=5)
    await ws.send_json({"id": 2, "rpc": {"method": INFO, "data": {}}})  # not the venue's
    assert "version" in (await ws.receive_json(timeout=5))["rpc"]["data"]["data"]
    ids = ["660e8400-e29b-41d4-a716-446655440000"]
    verify = {"method": "command.credential.verify", "data": {"credentialIds": ids}}
    await ws.send_json({"id": 3, "rpc": verify})
    failed = (await ws.receive_json(timeout=5))["rpc"]["data"]
    await ws.send_json({"id": 4, "rpc": verify})  # used up: the venue answers again
    verified = (await ws.receive_json(timeout=5))["rpc"]["data"]
    await ws.close()
    # Keys the venue refuses reach no trading account; the venue's answer reaches five.
    assert failed == {"data": {"tradingAccounts": []}}
    assert len(verified["data"]["tradingAccounts"]) == 5
    (fault,) = await armed(client)
    assert (fault["matched"], fault["fired"]) == (1, 1)  # the system info was not counted


# --------------------------------------------------------------------------- the docs


def test_the_docs_actions_table_is_the_registrys() -> None:
    section = doc_examples.section("Fault actions").body
    start = section.index("| key | effect |")
    shown = section[start : section.index("\n\n", start) + 1]
    assert shown == actions_table(), (
        "The docs' Fault actions table differs from the registry; paste "
        "cadenza_mock.scenario.faults.actions_table():\n" + actions_table()
    )
    keys = re.findall(r"^\| `(\w+):", shown, re.M)
    assert keys == ["respond", "delay", "rate_limit", "drop", "malformed", "slow_body", "venue"]


def test_the_openapi_fault_schema_is_the_registrys() -> None:
    for profile in ("docs", "sdk"):
        fault = openapi_document(profile)["components"]["schemas"]["AdminFault"]
        assert set(fault["properties"]) == set(ACTIONS.keys)
        assert {action: fault["properties"][action] for action in ACTIONS.keys} == {
            action.key: dict(action.schema) for action in ACTIONS
        }
        assert set(ACTIONS.keys) < set(fault["propertyNames"]["enum"])
        for key in ACTIONS.keys:  # venue too, which the description used to leave out
            assert key in fault["description"]


def test_every_action_round_trips_through_its_normalized_form() -> None:
    examples = {
        "respond": {"status": 503, "headers": {"X-A": "1"}},
        "rate_limit": {"requests": 2, "window": 10},
        "drop": {"close_code": 4000, "reason": "bye"},
        "malformed": True,
        "slow_body": {"chunk_delay": 0.1},
        "venue": "maintenance",
    }
    assert set(examples) == set(ACTIONS.keys)
    for key, value in examples.items():
        spec = parse_fault_dict({key: value})
        assert spec.action_name == key and isinstance(spec.action, ACTIONS[key])
        assert parse_fault_dict(spec.to_json()) == spec

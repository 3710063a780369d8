"""The dashboard over plain HTTP (its browser tests are in test_dashboard_browser.py): the
page and its files, their headers, who may load them, the journal stream's framing and
ending, the reload endpoint, and the journal's watchers underneath."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import textwrap
import time
from typing import Any

import pytest
import requests
from openapi_checker import ResponseChecker
from support import ALICE, LIST, write

from cadenza_mock import MockServer
from cadenza_mock.contract.operations import DASHBOARD_ASSETS, OPERATIONS
from cadenza_mock.engine.journal import Journal
from cadenza_mock.http import journal_stream
from cadenza_mock.http.keys import STATE
from cadenza_mock.http.observer import ObservedResponse
from cadenza_mock.http.ui import DASHBOARD_DIR as FILES

UI = "/__admin/ui"
STREAM = "/__admin/requests/stream"
ADMIN_TOKEN = "dash-admin-7"
READ_TIMEOUT = 5.0  # seconds a frame may take: far more than any here needs


@pytest.fixture(autouse=True)
def _no_polling_rescue(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream wakes on what happens (a record, a reset, the server stopping); its
    periodic check only finds clients that left. Checked every 30 s here, a stream that
    missed a wake-up would time the test out instead of passing a half second late."""
    if "leaves" not in request.node.name:
        monkeypatch.setattr(journal_stream, "_STREAM_CHECK", 30.0)


# ----------------------------------------------------------------------------- the files


async def test_page_and_files_come_with_a_strict_policy(client):
    page = await client.get(UI)
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    for name in ("app.js", "style.css", "favicon.svg"):
        assert f'"{UI}/{name}"' in html  # the page asks for each by its served path
        served = await client.get(f"{UI}/{name}")
        assert served.status == 200
        assert served.content_type == DASHBOARD_ASSETS[name]
        assert await served.read() == (FILES / name).read_bytes()
    for response in (page, served):
        policy = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in policy and "*" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_has_no_inline_code_and_the_script_never_parses_html():
    html = (FILES / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\ssrc=)", html) == []  # every script is a file
    assert re.findall(r"\son[a-z]+\s*=", html) == []  # no inline event handlers
    assert "style=" not in html and "<style" not in html
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere
    script = (FILES / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    # Every admin call goes through the one function (the namespaces header goes there).
    assert script.count("fetch(") == 1
    assert "await fetch(path" in script


def test_every_admin_call_of_the_script_is_a_namespaced_admin_route():
    """The panels read what the admin API lists (the trading panel's portfolios, orders and
    venue behaviours too); a renamed route would leave a panel empty."""
    script = (FILES / "app.js").read_text()
    called = re.findall(r'adminJson\(\s*[`"](/__admin[^`"?]*)', script)
    assert "/__admin/portfolios/{}" in [re.sub(r"\$\{[^}]*\}", "{}", c) for c in called]
    routes = {re.sub(r"\{[^}]*\}", "{}", op.path): op for op in OPERATIONS}
    for path in called:
        operation = routes.get(re.sub(r"\$\{[^}]*\}", "{}", path))
        assert operation is not None, path
        assert operation.auth == "admin", path
        # The namespace picker switches every panel: each call but the list of namespaces.
        assert operation.namespaced or path == "/__admin/namespaces", path


def test_the_trading_panel_has_its_place_and_asks_for_a_few_orders():
    """The panel's section is on the page, and it reads orders a few at a time (the whole
    list of a loaded server is megabytes, and the page refreshes after every call)."""
    script = (FILES / "app.js").read_text()
    assert "&open=true&latest=${SHOWN.open}" in script
    assert "&open=false&latest=${SHOWN.closed}" in script
    html = (FILES / "index.html").read_text()
    assert '<section id="trading">' in html and 'id="trading-accounts"' in html


async def test_index_html_is_the_page_again(client):
    again = await client.get(f"{UI}/index.html")
    assert await again.read() == await (await client.get(UI)).read()


@pytest.mark.parametrize(
    "path", [f"{UI}/nope.js", f"{UI}/..%2Fhttp%2Fui.py", f"{UI}/__init__.py", f"{UI}/js/app.js"]
)
async def test_unknown_files_are_a_404_in_the_envelope(client, path):
    response = await client.get(path)
    body = await response.json()
    assert response.status == 404
    assert body["errno"] == -19003 and body["success"] is False
    if path.count("/") == 3:  # a name in the folder: the answer lists what there is
        assert "app.js" in body["error"] and "style.css" in body["error"]


async def test_the_page_loads_without_the_admin_token_and_its_data_needs_it(make_client):
    client = await make_client("default", admin_token=ADMIN_TOKEN)
    assert (await client.get(UI)).status == 200  # no data in it
    assert (await client.get(f"{UI}/app.js")).status == 200
    for path in (STREAM, "/__admin/scenario"):
        refused = await client.get(path)
        assert refused.status == 401
        assert ADMIN_TOKEN not in await refused.text()
        wrong = await client.get(path, headers={"X-Admin-Token": "nope"})
        assert wrong.status == 401
    stream = await client.get(STREAM, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert stream.status == 200
    assert stream.content_type == "text/event-stream"
    stream.close()


async def test_a_locked_admin_api_locks_the_page_too(make_client):
    client = await make_client("default", admin_locked=True)
    for path in (UI, f"{UI}/app.js", f"{UI}/nope.js", STREAM):
        response = await client.get(path)
        body = await response.json()
        assert response.status == 403, path
        assert "--admin-token" in body["error"]
    assert (await client.get("/__admin/health")).status == 200


async def test_the_dashboards_own_calls_are_not_journaled(client):
    await client.get(LIST, headers=ALICE)
    for path in (UI, f"{UI}/app.js", f"{UI}/style.css", f"{UI}/favicon.svg", "/__admin/scenario"):
        assert (await client.get(path)).status == 200
    stream = await client.get(STREAM)
    stream.close()
    entries = (await (await client.get("/__admin/requests")).json())["data"]
    assert [e["path"] for e in entries] == [LIST]


# ----------------------------------------------------------------------------- the stream


async def next_event(response: Any) -> dict[str, str]:
    """The next server-sent event's fields (comments skipped); {} at the end of the stream."""
    while True:
        async with asyncio.timeout(READ_TIMEOUT):
            frame = await response.content.readuntil(b"\n\n")
        if not frame:
            return {}
        fields: dict[str, str] = {}
        for line in frame.decode().strip("\n").split("\n"):
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if fields:
            return fields


async def test_stream_sends_the_kept_entries_then_each_new_one(client):
    await client.get(LIST, headers=ALICE)
    await client.get(LIST)  # a 401
    stream = await client.get(STREAM)
    assert stream.headers["Cache-Control"] == "no-cache"
    assert await next_event(stream) == {"retry": "1000"}
    listed = (await (await client.get("/__admin/requests")).json())["data"]
    first, second = await next_event(stream), await next_event(stream)
    assert [first["event"], second["event"]] == ["request", "request"]
    assert [first["id"], second["id"]] == ["1", "2"]
    # The same redacted entries GET /__admin/requests answers, byte for byte in JSON.
    assert [json.loads(first["data"]), json.loads(second["data"])] == listed
    await client.post("/api/v3/credential/create", headers=ALICE, json={"bad": 1})
    third = await next_event(stream)
    assert third["id"] == "3"
    assert json.loads(third["data"])["path"] == "/api/v3/credential/create"
    assert json.loads(third["data"])["headers"]["Authorization"] == "<redacted>"
    stream.close()


async def test_streamed_entries_conform_to_the_documented_journal_entry(client):
    checker = ResponseChecker()
    await client.post(
        "/api/v3/auth/login", json={"email": "alice@example.com", "password": "pw-9f8e"}
    )
    await client.get(LIST + "?status=REVOKED&token=q-secret", headers=ALICE)
    stream = await client.get(STREAM)
    await next_event(stream)  # retry
    entries = [json.loads((await next_event(stream))["data"]) for _ in range(2)]
    stream.close()
    assert "pw-9f8e" not in json.dumps(entries) and "q-secret" not in json.dumps(entries)
    envelope = {"data": entries, "success": True, "errno": 0, "error": None}
    as_listed = ObservedResponse(
        method="GET",
        path="/__admin/requests",
        status=200,
        body=json.dumps(envelope).encode(),
        content_type="application/json",
        profile="docs",
    )
    assert checker.problems(as_listed) == []


async def test_head_of_the_stream_is_its_headers_alone(client):
    response = await client.head(STREAM)
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    assert client.server.app[STATE].journal.watchers == 0


async def test_stream_says_cleared_and_ends_on_a_reset(client):
    journal = client.server.app[STATE].journal
    stream = await client.get(STREAM)
    await next_event(stream)  # retry
    await client.delete("/__admin/requests")
    assert (await next_event(stream))["event"] == "cleared"
    assert journal.watchers == 1
    await client.post("/__admin/reset")
    ended = await next_event(stream)
    assert ended["event"] == "reset"
    assert json.loads(ended["data"]) == {"scenario": "default"}
    assert await next_event(stream) == {}  # and the stream is over
    assert journal.watchers == 0


async def test_stream_ends_on_a_load(client):
    stream = await client.get(STREAM)
    await next_event(stream)
    assert (await client.put("/__admin/scenario?name=empty")).status == 200
    ended = await next_event(stream)
    assert json.loads(ended["data"]) == {"scenario": "empty"}
    assert await next_event(stream) == {}


async def test_stream_ends_on_a_rollback_and_on_its_namespace_going(client):
    taken = await (await client.post("/__admin/snapshots")).json()
    stream = await client.get(STREAM)
    await next_event(stream)
    await client.post(f"/__admin/snapshots/{taken['data']['id']}/restore")
    assert (await next_event(stream))["event"] == "reset"
    assert await next_event(stream) == {}
    assert (await client.post("/__admin/namespaces?namespace=streamed")).status == 200
    namespaced = await client.get(STREAM, headers={"X-Cadenza-Mock-Namespace": "streamed"})
    await next_event(namespaced)
    await client.delete("/__admin/namespaces/streamed")
    assert (await next_event(namespaced))["event"] == "reset"
    assert await next_event(namespaced) == {}


async def test_stream_ends_at_once_when_the_server_begins_to_stop(client):
    app = client.server.app
    stream = await client.get(STREAM)
    await next_event(stream)
    started = time.monotonic()
    await app.shutdown()  # what a stopping server runs first (STOPPING is set)
    assert await next_event(stream) == {}
    assert time.monotonic() - started < 1.0  # a check interval, not a timeout
    assert app[STATE].journal.watchers == 0


def test_a_client_that_leaves_leaves_no_watcher_behind():
    with MockServer("default") as mock:
        with socket.create_connection(("127.0.0.1", mock.port), timeout=READ_TIMEOUT) as sock:
            sock.sendall(f"GET {STREAM} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            assert b"200 OK" in sock.recv(4096)
            assert mock.state.journal.watchers == 1
        deadline = time.monotonic() + READ_TIMEOUT
        while mock.state.journal.watchers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mock.state.journal.watchers == 0


def test_stopping_a_server_with_open_streams_is_prompt():
    mock = MockServer("default").start()
    socks = [socket.create_connection(("127.0.0.1", mock.port)) for _ in range(3)]
    for sock in socks:
        sock.sendall(f"GET {STREAM} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        assert b"200 OK" in sock.recv(4096)
    started = time.monotonic()
    mock.stop()
    assert time.monotonic() - started < 2.0
    assert mock.state.journal.watchers == 0
    for sock in socks:
        sock.close()


def test_stream_carries_what_the_fast_path_answers_too():
    """Repeated list calls on a keep-alive connection are answered below aiohttp
    (http/fast_path.py): they are streamed all the same."""
    with MockServer("default") as mock, requests.Session() as session:
        stream = requests.get(mock.url + STREAM, stream=True, timeout=READ_TIMEOUT)
        lines = stream.iter_lines(decode_unicode=True)
        for _ in range(20):
            assert session.get(mock.url + LIST, headers=ALICE, timeout=10).ok
        ids = []
        while len(ids) < 20:
            line = next(lines)
            if line.startswith("id: "):
                ids.append(int(line[4:]))
        stream.close()
        assert ids == list(range(1, 21))
        assert mock._runner is not None
        assert getattr(mock._runner.server, "fast_answers") >= 1  # noqa: B009


# ----------------------------------------------------------------------------- reload


async def test_reload_reads_the_file_again_and_keeps_the_old_on_a_bad_edit(make_client, tmp_path):
    text = """\
        users:
          - email: dev@example.com
            tokens: [dev-token]
            credentials:
              - {venue: BINANCE, name: first}
        """
    path = write(tmp_path / "dev.yaml", textwrap.dedent(text))
    client = await make_client(str(path))
    path.write_text(textwrap.dedent(text).replace("first", "second"))
    reloaded = await client.post("/__admin/scenario/reload")
    assert reloaded.status == 200
    assert (await reloaded.json())["data"]["name"] == "dev.yaml"
    creds = (await (await client.get("/__admin/credentials")).json())["data"]
    assert [c["name"] for c in creds] == ["second"]
    path.write_text("users: [")
    broken = await client.post("/__admin/scenario/reload")
    body = await broken.json()
    assert broken.status == 400
    assert "previous one is still loaded" in body["error"] and "dev.yaml" in body["error"]
    creds = (await (await client.get("/__admin/credentials")).json())["data"]
    assert [c["name"] for c in creds] == ["second"]


async def test_reload_keeps_a_bundled_scenarios_name(client):
    response = await client.post("/__admin/scenario/reload")
    assert (await response.json())["data"]["name"] == "default"


async def test_reload_of_a_scenario_from_a_body_says_there_is_no_file(client):
    body = "users:\n  - tokens: [t]\n"
    yaml_body = {"Content-Type": "application/yaml"}
    assert (await client.put("/__admin/scenario", data=body, headers=yaml_body)).status == 200
    response = await client.post("/__admin/scenario/reload")
    error = (await response.json())["error"]
    assert response.status == 400
    assert "no file to load it again from" in error


# ----------------------------------------------------------------------------- the journal


def _record(journal: Journal, path: str) -> None:
    journal.record((0, "GET", path, "", (), None, 200, 0.1, None, None))


def test_journal_entries_after_builds_only_the_newer_ones():
    journal = Journal(limit=3)
    for n in range(5):
        _record(journal, f"/p{n}")
    assert journal.last_seq == 5
    assert [e.seq for e in journal.entries_after(0)] == [3, 4, 5]  # 1 and 2 fell off
    assert [e.path for e in journal.entries_after(3)] == ["/p3", "/p4"]
    assert journal.entries_after(5) == []
    assert [e.to_json() for e in journal.entries_after(2)] == [
        e.to_json() for e in journal.entries()
    ]


def test_journal_watchers_hear_records_clears_and_restarts_until_unwatched():
    journal = Journal()
    heard: list[int] = []
    unwatch = journal.watch(lambda: heard.append(journal.last_seq))
    _record(journal, "/a")
    journal.clear()
    assert journal.clears == 1
    journal.restart()
    assert heard == [1, 1, 0]
    assert journal.watchers == 1
    unwatch()
    _record(journal, "/b")
    assert heard == [1, 1, 0] and journal.watchers == 0


# ----------------------------------------------------------------------------- serve


def test_serve_prints_where_the_dashboard_is_and_serves_it(serve):
    served = serve()
    url, _ = served.banner()
    line = served.read_until("  ui     ").splitlines()[-1]
    ui = line.split()[1]
    assert ui == f"{url}{UI}"
    page = requests.get(ui, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Content-Security-Policy" in page.headers
    assert served.stop()[0] == 0

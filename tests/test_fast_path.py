"""The remembered-list fast path (http/fast_path.py) answers exactly as aiohttp would.

A repeated `GET /api/v3/credential/list` on an idle keep-alive connection is answered from
the store's remembered bytes below aiohttp's request machinery (issue 14: the default
server ahead of a bare aiohttp app), for the server's own state and for a namespace's.
Everything here runs over real sockets, with the suite's OpenAPI observer on (the fast
path reports to it), and checks that what a client, the journal, the log and the observer
see does not depend on which path answered; and that the path switches itself off on an
aiohttp whose internals it does not fit.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import replace

import aiohttp
import pytest
import requests
from aiohttp import helpers as aiohttp_helpers
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_protocol import RequestHandler
from support import LIST

from cadenza_mock.http.app import make_app
from cadenza_mock.http.keys import NAMESPACE_HEADER
from cadenza_mock.http.observer import ObservedResponse, set_default_observer
from cadenza_mock.http.runner import MockRunner
from cadenza_mock.run.server import MockServer

TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(scenario="default") as server:
        yield server


# Whether a repeated request is answered from memory depends on timing: only while the
# connection's aiohttp handler waits for the next request (not while it finishes the one
# before). So tests count "at least one", and check that every answer is the same.


def fast_answers(mock: MockServer) -> int:
    runner = mock._runner
    assert runner is not None and runner.server is not None
    return int(getattr(runner.server, "fast_answers"))  # noqa: B009 (our _Server's)


def answer(response: requests.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers in order (Date aside) and body."""
    headers = [(k, v) for k, v in response.headers.items() if k != "Date"]
    return response.status_code, headers, response.content


def raw_exchange(
    mock: MockServer, *chunks: bytes, expect: int = 1, bodiless: bool = False
) -> bytes:
    """Send `chunks` on one connection (one send each) and read `expect` answers (only
    their headers if `bodiless`, as for HEAD)."""
    with socket.create_connection(("127.0.0.1", mock.port), timeout=10) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
        data = b""
        while not (data.endswith(b"\r\n\r\n") if bodiless else _complete(data, expect)):
            more = sock.recv(65536)
            if not more:
                break
            data += more
        return data


def _complete(data: bytes, expect: int) -> bool:
    """Whether `data` holds `expect` whole answers (each with its Content-Length body)."""
    rest = data
    for _ in range(expect):
        head, sep, tail = rest.partition(b"\r\n\r\n")
        if not sep:
            return False
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        if len(tail) < length:
            return False
        rest = tail[length:]
    return True


def list_request(extra: bytes = b"", target: bytes = LIST.encode()) -> bytes:
    return (
        b"GET "
        + target
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + TOKEN.encode()
        + b"\r\n"
        + extra
        + b"\r\n"
    )


def test_repeated_lists_are_answered_alike_and_journaled(mock: MockServer) -> None:
    with requests.Session() as session:
        answers = [answer(session.get(mock.url_for(LIST), headers=AUTH)) for _ in range(20)]
    assert answers[0][0] == 200 and len(answers[0][2]) > 100
    assert all(a == answers[0] for a in answers)
    assert [k for k, _ in answers[0][1]] == ["Content-Type", "Content-Length", "Server"]
    assert 1 <= fast_answers(mock) <= 19  # the first answer is the one remembered
    entries = mock.calls(LIST)
    assert [e.seq for e in entries] == list(range(1, 21))
    assert {(e.method, e.path, e.status, e.user_id) for e in entries} == {
        ("GET", LIST, 200, mock.users[0].user_id)
    }
    for entry in entries:
        assert entry.headers["authorization"] == "<redacted>" and entry.query == {}
        assert TOKEN not in str(entry.to_json())


def test_a_filtered_list_is_remembered_by_its_query(mock: MockServer) -> None:
    with requests.Session() as session:
        url = mock.url_for(LIST + "?status=ACTIVE")
        got = [session.get(url, headers=AUTH) for _ in range(10)]
    assert all(answer(response) == answer(got[0]) for response in got)
    assert {c["status"] for c in got[-1].json()["data"]} == {"ACTIVE"}
    assert 1 <= fast_answers(mock) <= 9
    assert len(mock.assert_called(LIST, query={"status": "ACTIVE"}, times=10)) == 10


def test_a_hinted_query_gets_its_hint_every_time(mock: MockServer) -> None:
    with requests.Session() as session:
        got = [session.get(mock.url_for(LIST + "?credentialStatus=ACTIVE"), headers=AUTH)]
        got.append(session.get(mock.url_for(LIST + "?credentialStatus=ACTIVE"), headers=AUTH))
    assert all("credentialStatus" in r.headers["X-Cadenza-Mock-Hint"] for r in got)
    assert fast_answers(mock) == 0
    assert all(entry.hints for entry in mock.calls(LIST))


def test_changes_faults_and_logout_are_never_answered_from_memory(mock: MockServer) -> None:
    with requests.Session() as session:
        before = session.get(mock.url_for(LIST), headers=AUTH).json()["data"]
        for _ in range(5):
            assert session.get(mock.url_for(LIST), headers=AUTH).json()["data"] == before
        remembered = fast_answers(mock)
        mock.fail_next(503, path=LIST)
        assert session.get(mock.url_for(LIST), headers=AUTH).status_code == 503
        created = session.post(
            mock.url_for("/api/v3/credential/create"),
            headers=AUTH,
            json={"venue": "BINANCE", "name": "new", "apiKey": "k" * 64, "apiSecret": "s"},
        )
        assert created.status_code == 200, created.text
        after = session.get(mock.url_for(LIST), headers=AUTH).json()["data"]
        assert len(after) == len(before) + 1
        assert session.post(mock.url_for("/api/v3/auth/logout"), headers=AUTH).status_code == 200
        refused = session.get(mock.url_for(LIST), headers=AUTH)
    assert refused.status_code == 401
    assert 1 <= remembered == fast_answers(mock)  # only the unchanged lists


def test_pipelined_split_and_mixed_requests_on_one_connection(mock: MockServer) -> None:
    requests.get(mock.url_for(LIST), headers=AUTH)  # remembered from here on
    reference = raw_exchange(mock, list_request())
    body = reference.partition(b"\r\n\r\n")[2]
    counted = fast_answers(mock)
    assert len(body) > 100
    # Two requests in one chunk (one send: one segment on loopback): aiohttp answers
    # both, in order, and the fast path none.
    both = raw_exchange(mock, list_request() + list_request(), expect=2)
    assert both.count(b"HTTP/1.1 200 OK") == 2 and both.count(body) == 2
    assert fast_answers(mock) == counted
    # Headers split over two sends, then a plain request: both answered in full.
    request = list_request()
    split = raw_exchange(mock, request[:20], request[20:], list_request(), expect=2)
    assert split.count(b"HTTP/1.1 200 OK") == 2 and split.count(body) == 2
    # A request with a body, then a list on the same connection.
    post = (
        b"POST /api/v3/credential/verify HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
        + TOKEN.encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n{"credentialIds": []}\n'
    )
    mixed = raw_exchange(mock, post, list_request(), expect=2)
    assert mixed.count(b"HTTP/1.1 ") == 2 and mixed.endswith(body)
    # How many of the split and mixed ones were answered from memory depends on how the
    # kernel delivered the sends (coalesced, a send may arrive as one whole request, and
    # a list after a whole request with a body may take the fast path); that each list
    # call was answered in full, and journaled once, does not.
    assert len(mock.calls(LIST)) == 7  # 1 + 1 + 2 + 2 + 1 list calls sent


def test_connection_close_head_and_http10_go_through_aiohttp(mock: MockServer) -> None:
    requests.get(mock.url_for(LIST), headers=AUTH)
    counted = fast_answers(mock)
    closing = raw_exchange(mock, list_request(b"Connection: close\r\n"))
    assert closing.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in closing
    head = raw_exchange(mock, list_request().replace(b"GET", b"HEAD", 1), bodiless=True)
    assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")
    old = raw_exchange(mock, list_request().replace(b"HTTP/1.1", b"HTTP/1.0", 1))
    assert old.startswith(b"HTTP/1.0 200 OK")
    assert fast_answers(mock) == counted


def test_odd_requests_are_judged_by_aiohttp(mock: MockServer) -> None:
    requests.get(mock.url_for(LIST), headers=AUTH)
    counted = fast_answers(mock)
    doubled = raw_exchange(mock, list_request(b"Authorization: Bearer nope\r\n"))
    assert doubled.startswith(b"HTTP/1.1 ")  # whatever aiohttp makes of it
    control = raw_exchange(mock, list_request(b"X-Odd: a\x01b\r\n"))
    assert control.split(b" ", 2)[1] == b"400" and b"-19001" in control
    escaped = raw_exchange(mock, list_request(target=b"/api/v3/credential/%6Cist"))
    assert escaped.startswith(b"HTTP/1.1 200 OK")
    assert fast_answers(mock) == counted


def test_a_large_list_is_answered_whole_every_time(mock: MockServer) -> None:
    mock.load("many")
    with requests.Session() as session:
        bodies = [session.get(mock.url_for(LIST), headers=AUTH).content for _ in range(6)]
    assert len(bodies[0]) > 2_000_000 and all(body == bodies[0] for body in bodies)
    assert fast_answers(mock) >= 1


def test_the_observer_is_told_of_fast_answers_as_of_aiohttps(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[ObservedResponse] = []
    previous = set_default_observer(seen.append)
    try:
        with MockServer(scenario="default") as server, requests.Session() as session:
            for _ in range(10):
                assert session.get(server.url_for(LIST), headers=AUTH).ok
            answered_fast = fast_answers(server)
    finally:
        set_default_observer(previous)
    assert 1 <= answered_fast <= 9 and len(seen) == 10
    # The first answer went through aiohttp (nothing was remembered yet): every later one
    # is reported alike, whichever path answered it (the Date aside).
    undated = {replace(o, headers=tuple(h for h in o.headers if h[0] != "Date")) for o in seen}
    assert len(undated) == 1
    assert [h[0] for h in seen[-1].headers] == [h[0] for h in seen[0].headers]
    assert not [r for r in caplog.records if "fast path is off" in r.getMessage()]


async def test_a_response_hook_of_its_own_sends_everything_through_aiohttp() -> None:
    app = make_app("default", response_observer=lambda observed: None)
    hooked: list[int] = []

    async def hook(request: web.Request, response: web.StreamResponse) -> None:
        hooked.append(response.status)

    app.on_response_prepare.append(hook)
    runner = MockRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            for _ in range(5):
                async with session.get(f"http://127.0.0.1:{port}{LIST}", headers=AUTH) as r:
                    assert r.status == 200
        assert runner.server is not None
        assert getattr(runner.server, "fast_answers") == 0  # noqa: B009
    finally:
        await runner.cleanup()
    assert hooked == [200] * 5


def test_no_fast_path_answers_everything_through_aiohttp() -> None:
    with (
        MockServer(scenario="default", fast_path=False) as server,
        requests.Session() as session,
    ):
        bodies = {session.get(server.url_for(LIST), headers=AUTH).content for _ in range(10)}
        assert fast_answers(server) == 0
        assert len(server.calls(LIST)) == 10
    assert len(bodies) == 1


@pytest.mark.parametrize(
    ("owner", "name"),
    [
        (RequestHandler, "_next_keepalive_close_time"),  # not in aiohttp 3.9.5
        (RequestHandler, "_waiter"),
        (aiohttp_helpers, "rfc822_formatted_time"),
        (AbstractAccessLogger, "enabled"),  # not before aiohttp 3.11
    ],
)
def test_an_aiohttp_without_what_it_needs_turns_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, owner: object, name: str
) -> None:
    with MockServer(scenario="default") as reference, requests.Session() as session:
        expected = session.get(reference.url_for(LIST), headers=AUTH).content
    monkeypatch.delattr(owner, name)
    with caplog.at_level(logging.INFO, logger="cadenza_mock"):
        with MockServer(scenario="default") as server, requests.Session() as session:
            got = [session.get(server.url_for(LIST), headers=AUTH) for _ in range(6)]
            assert fast_answers(server) == 0
            assert len(server.calls(LIST)) == 6
        monkeypatch.undo()  # before anything else in this process builds a connection
    assert all(r.status_code == 200 and r.content == expected for r in got)
    off = [r for r in caplog.records if "fast path is off" in r.getMessage()]
    assert len(off) == 1 and off[0].name == "cadenza_mock"
    assert name in off[0].getMessage() and off[0].levelno == logging.WARNING


# --------------------------------------------------------------------------- namespaces


def _ways_into(mock: MockServer, name: str) -> dict[str, tuple[str, dict[str, str]]]:
    """(URL, headers) of each way to namespace `name`'s list as alice (a login's JWT too)."""
    login = requests.post(
        mock.url_for(f"/__ns/{name}/api/v3/auth/login"),
        json={"email": "alice@example.com", "password": "correct-horse"},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    jwt = login.json()["data"]["accessToken"]
    return {
        "base URL": (mock.url_for(f"/__ns/{name}{LIST}"), AUTH),
        "header": (mock.url_for(LIST), {**AUTH, NAMESPACE_HEADER: name}),
        "prefixed token": (mock.url_for(LIST), {"Authorization": f"Bearer {name}.{TOKEN}"}),
        "login token": (mock.url_for(LIST), {"Authorization": f"Bearer {jwt}"}),
    }


def _namespace(mock: MockServer, name: str) -> dict[str, object]:
    listing = requests.get(mock.url_for("/__admin/namespaces"), timeout=10).json()["data"]
    found: dict[str, object] = next(space for space in listing if space["name"] == name)
    return found


@pytest.mark.parametrize("way", ["base URL", "header", "prefixed token", "login token"])
def test_a_namespaces_lists_are_answered_from_memory_every_way_in(
    mock: MockServer, way: str
) -> None:
    """As for the server's own state, a static token's lists are remembered; an issued
    token's (a login's: it can expire or be logged out) never are."""
    for index in range(3):  # the one measured is not the only one to look through
        assert requests.post(mock.url_for(f"/__admin/namespaces?namespace=ns-{index}")).ok
    url, headers = _ways_into(mock, "ns-2")[way]
    # A change in the namespace only: its lists differ from the server's own.
    created = requests.post(
        mock.url_for("/__ns/ns-2/api/v3/credential/create"),
        headers=AUTH,
        json={"venue": "BINANCE", "name": "ns", "apiKey": "k" * 64, "apiSecret": "s"},
    )
    assert created.status_code == 200, created.text
    own = requests.get(mock.url_for(LIST), headers=AUTH).json()["data"]
    before = _namespace(mock, "ns-2")["requests"]
    with requests.Session() as session:
        got = [answer(session.get(url, headers=headers)) for _ in range(12)]
    assert got[0][0] == 200 and all(a == got[0] for a in got)
    assert len(json.loads(got[0][2])["data"]) == len(own) + 1
    if way == "login token":
        assert fast_answers(mock) == 0
    else:
        assert 1 <= fast_answers(mock) <= 11
    # Every call counted once as a use of the namespace, journaled in it, not in the
    # server's own journal.
    assert _namespace(mock, "ns-2")["requests"] == before + 12
    journal = requests.get(mock.url_for("/__admin/namespaces/ns-2/requests")).json()["data"]
    assert len([e for e in journal if e["path"] == LIST and e["status"] == 200]) == 12
    assert len(mock.calls(LIST)) == 1


def test_the_default_namespace_by_name_is_the_servers_own(mock: MockServer) -> None:
    with requests.Session() as session:
        by_header = [
            answer(session.get(mock.url_for(LIST), headers={**AUTH, NAMESPACE_HEADER: "default"}))
            for _ in range(6)
        ]
        by_url = [answer(session.get(mock.url_for(f"/__ns/default{LIST}"), headers=AUTH))]
    plain = answer(requests.get(mock.url_for(LIST), headers=AUTH))
    assert all(a == plain for a in by_header + by_url)
    assert fast_answers(mock) >= 1 and len(mock.calls(LIST)) == 8


def test_a_deleted_unknown_or_contradicted_namespace_is_never_answered_from_memory(
    mock: MockServer,
) -> None:
    assert requests.post(mock.url_for("/__admin/namespaces?namespace=gone")).ok
    assert requests.post(mock.url_for("/__admin/namespaces?namespace=other")).ok
    ways = _ways_into(mock, "gone")
    with requests.Session() as session:
        for url, headers in ways.values():
            for _ in range(3):
                assert session.get(url, headers=headers).status_code == 200
        counted = fast_answers(mock)
        assert counted >= 1
        # Two names for one request: the middleware's 400, every time.
        url, headers = ways["base URL"]
        for _ in range(3):
            both = session.get(url, headers={**headers, NAMESPACE_HEADER: "other"})
            assert both.status_code == 400 and "name one" in both.json()["error"]
        assert requests.delete(mock.url_for("/__admin/namespaces/gone")).ok
        for way in ("base URL", "header"):
            url, headers = ways[way]
            for _ in range(3):
                assert session.get(url, headers=headers).status_code == 404, way
        for way in ("prefixed token", "login token"):  # the server's own: unknown tokens
            url, headers = ways[way]
            assert session.get(url, headers=headers).status_code == 401, way
    assert fast_answers(mock) == counted


def test_the_serve_log_has_a_line_for_every_answer(serve) -> None:
    server = serve("--scenario", "default")
    url, token = server.banner()
    with requests.Session() as session:
        for _ in range(6):
            assert session.get(f"{url}{LIST}", headers={"Authorization": f"Bearer {token}"}).ok
    code, output = server.stop()
    lines = [line for line in output.splitlines() if f" GET {LIST} 200 " in line]
    assert code == 0 and len(lines) == 6
    assert all(line.endswith("user=4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11") for line in lines)
    assert not any(token in line for line in lines)


@pytest.mark.parametrize(
    ("args", "env"),
    [([], None), (["--no-fast-path"], None), ([], {"CADENZA_MOCK_NO_FAST_PATH": "1"})],
)
def test_the_serve_log_names_the_namespace_of_every_answer(serve, args, env) -> None:
    server = serve("--scenario", "default", *args, env=env)
    url, token = server.banner()
    assert requests.post(f"{url}/__admin/namespaces?namespace=logged", timeout=10).ok
    with requests.Session() as session:
        bodies = {
            session.get(f"{url}{LIST}", headers={"Authorization": f"Bearer logged.{token}"}).content
            for _ in range(6)
        }
    code, output = server.stop()
    lines = [line for line in output.splitlines() if f" GET {LIST} 200 " in line]
    assert code == 0 and len(bodies) == 1 and len(lines) == 6
    assert all(line.endswith("ns=logged") for line in lines)
    assert f"logged.{token}" not in output and "fast path is off" not in output


# Requests the fast path's first look could mistake for a plain list call; aiohttp refuses
# most of them. Each must get the same answer whichever path could have taken it.
_RAW_VARIANTS = {
    "non-ASCII byte in the query": list_request(target=LIST.encode() + b"?\xff"),
    "space in a header name": list_request(b"X Name: 1\r\n"),
    "separator in a header name": list_request(b"X(y): 1\r\n"),
    "at sign in a header name": list_request(b"X@y: 1\r\n"),
    "space before the colon": list_request(b"Accept : */*\r\n"),
    "duplicate Host": list_request(b"Host: 127.0.0.1\r\n"),
    "duplicate User-Agent": list_request(b"User-Agent: a\r\nUser-Agent: b\r\n"),
    "129 headers": list_request(b"".join(b"X-%d: %d\r\n" % (i, i) for i in range(129))),
    "100 headers": list_request(b"".join(b"X-%d: %d\r\n" % (i, i) for i in range(100))),
    "folded header": list_request(b"X-Fold: a\r\n b\r\n"),
    "NUL in a value": list_request(b"X-Nul: a\x00b\r\n"),
    "quote in the query": list_request(target=LIST.encode() + b'?status="ACTIVE"'),
    "empty header name": list_request(b": nothing\r\n"),
    "order list, escaped query": list_request(
        target=b"/api/v3/tradeOrder/list?instrumentId=BINANCE%3ABTC%2FUSDT"
    ),
    "order list, duplicate Host": list_request(
        b"Host: 127.0.0.1\r\n", target=b"/api/v3/tradeOrder/list"
    ),
    "portfolio list, quote in the query": list_request(
        target=b'/api/v3/tradingAccount/portfolio/list?venue="BINANCE"'
    ),
}


def _status_and_body(data: bytes) -> tuple[bytes, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


@pytest.mark.parametrize("variant", sorted(_RAW_VARIANTS))
def test_both_paths_answer_every_raw_variant_alike(mock: MockServer, variant: str) -> None:
    with MockServer(scenario="default", fast_path=False) as ordinary:
        expected = raw_exchange(ordinary, _RAW_VARIANTS[variant])
        assert fast_answers(ordinary) == 0
    requests.get(mock.url_for(LIST), headers=AUTH)  # remembered: the fast path is open
    for _ in range(5):  # on fresh connections, where the fast path looks first (mostly)
        got = raw_exchange(mock, _RAW_VARIANTS[variant])
        assert _status_and_body(got) == _status_and_body(expected), variant
    assert expected.startswith(b"HTTP/1.")


def test_the_variants_harness_reaches_the_fast_path(mock: MockServer) -> None:
    """The comparison above means something: a plain call sent the same way is answered
    from memory."""
    requests.get(mock.url_for(LIST), headers=AUTH)
    for _ in range(50):  # whether it looks first on a fresh connection is a matter of timing
        raw_exchange(mock, list_request())
        if fast_answers(mock):
            break
    assert fast_answers(mock) >= 1

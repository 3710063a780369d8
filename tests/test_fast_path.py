"""The remembered-list fast path (http/runner.py) answers exactly as aiohttp would.

A repeated `GET /api/v3/credential/list` on an idle keep-alive connection is answered from
the store's remembered bytes below aiohttp's request machinery (issue 14: the default
server ahead of a bare aiohttp app). Everything here runs over real sockets against a
server without response hooks, so the fast path is live, and checks that what a client,
the journal and the log see does not depend on which path answered.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from support import LIST

from cadenza_mock.http.observer import set_default_observer
from cadenza_mock.run.server import MockServer

TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def mock() -> Iterator[MockServer]:
    """A MockServer without the suite's OpenAPI observer (a response hook turns the fast
    path off, so that the observer sees every answer)."""
    previous = set_default_observer(None)
    try:
        with MockServer(scenario="default") as server:
            yield server
    finally:
        set_default_observer(previous)


# Whether a repeated request is answered from memory depends on timing: only while the
# connection's aiohttp handler waits for the next request (not while it finishes the one
# before). So tests count "at least one", and check that every answer is the same.


def fast_answers(mock: MockServer) -> int:
    runner = mock._runner
    assert runner is not None and runner.server is not None
    return int(getattr(runner.server, "fast_answers"))  # noqa: B009


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
    # Two requests in one chunk: aiohttp answers both, in order.
    both = raw_exchange(mock, list_request() + list_request(), expect=2)
    assert both.count(b"HTTP/1.1 200 OK") == 2 and both.count(body) == 2
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
    # (How many of these were answered from memory depends on how the kernel delivered
    # the sends; that the answers are whole and in order does not.)
    assert fast_answers(mock) >= counted


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


def test_a_server_with_a_response_hook_answers_everything_through_aiohttp() -> None:
    seen: list[int] = []
    previous = set_default_observer(lambda observed: seen.append(observed.status))
    try:
        with MockServer(scenario="default") as server, requests.Session() as session:
            for _ in range(3):
                session.get(server.url_for(LIST), headers=AUTH)
            assert fast_answers(server) == 0
    finally:
        set_default_observer(previous)
    assert seen == [200, 200, 200]


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
}


def _status_and_body(data: bytes) -> tuple[bytes, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


@pytest.mark.parametrize("variant", sorted(_RAW_VARIANTS))
def test_both_paths_answer_every_raw_variant_alike(mock: MockServer, variant: str) -> None:
    previous = set_default_observer(lambda observed: None)  # a hook: the fast path off
    try:
        with MockServer(scenario="default") as ordinary:
            expected = raw_exchange(ordinary, _RAW_VARIANTS[variant])
            assert fast_answers(ordinary) == 0
    finally:
        set_default_observer(previous)
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

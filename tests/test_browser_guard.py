"""Web pages the developer visits cannot drive a mock on their machine (http/guard.py).

Over real sockets: requests as a browser sends them (with `Origin`, `Sec-Fetch-*`, a
rebinding `Host`), raw sockets for the fast path, aiohttp for the WebSocket upgrade, and
`serve` subprocesses for the options. After every refusal the state is checked unchanged.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import aiohttp
import pytest
import requests
from support import ALICE, LIST, run_cli

from cadenza_mock import MockServer
from cadenza_mock.http.guard import BrowserGuard, OriginError, normalize_origin

EVIL = "https://evil.example"
APP = "http://localhost:5173"  # a browser app under test, allowed on purpose
FAULT_YAML = 'match: {path: "/api/*"}\nrespond: {status: 503}\n'
TEXT = {"Content-Type": "text/plain"}


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer("default", allow_origins=[APP], allow_hosts=["mock.test"]) as server:
        yield server


def _refused(answer: requests.Response, *words: str) -> str:
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert body["success"] is False and body["errno"] == -22018
    for word in words:
        assert word in body["error"]
    return str(body["error"])


def _pristine(mock: MockServer) -> None:
    """Nothing a refused request could have done is done."""
    assert mock.faults == [] and mock.requests == []
    listed = requests.get(mock.url + LIST, headers=ALICE, timeout=10)
    assert listed.status_code == 200 and len(listed.json()["data"]) == 4


def test_the_audits_cross_site_fault_is_refused_and_arms_nothing(mock):
    answer = requests.post(
        mock.url + "/__admin/faults",
        data=FAULT_YAML,
        headers={"Origin": EVIL, **TEXT},
        timeout=10,
    )
    message = _refused(answer, "'https://evil.example'", "--allow-origin")
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "web pages" in message
    _pristine(mock)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/__admin/reset"),
        ("POST", "/__admin/namespaces?namespace=evil"),
        ("POST", "/__admin/clock?advance=3600"),
        ("POST", "/__admin/scenario/reload"),
        ("PUT", "/__admin/scenario?name=empty"),
        ("DELETE", "/__admin/faults"),
        ("POST", "/api/v3/credential/revoke"),
        ("POST", "/api/v3/auth/logout"),
        ("GET", "/__admin/scenario"),
        ("GET", LIST),
    ],
)
def test_every_route_refuses_a_foreign_origin_before_acting(mock, method, path):
    now = mock.now_ms
    headers = {"Origin": EVIL, **ALICE, "Content-Type": "application/json"}
    answer = requests.request(method, mock.url + path, headers=headers, data="{}", timeout=10)
    _refused(answer)
    assert "alice-token" not in answer.text  # GET /__admin/scenario would show it
    assert mock.now_ms == now and mock.scenario.name == "default"
    assert requests.get(mock.url + "/__admin/namespaces", timeout=10).json()["data"] == []
    _pristine(mock)


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1", "http://localhost:5174", EVIL])
def test_near_misses_of_allowed_origins_are_refused(mock, origin):
    # `null` is a sandboxed frame or a file: page; another port is another origin.
    _refused(requests.get(mock.url + LIST, headers={**ALICE, "Origin": origin}, timeout=10))


def test_the_servers_own_origin_is_its_dashboard(mock):
    own = mock.url  # http://127.0.0.1:<port>: what the dashboard's fetch() sends
    answer = requests.post(
        mock.url + "/__admin/reset", headers={"Origin": own, "Sec-Fetch-Site": "same-origin"}
    )
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers  # nothing cross-origin


def test_an_allowed_origin_gets_cors_headers_on_answers_and_errors(mock):
    ok = requests.get(mock.url + LIST, headers={**ALICE, "Origin": APP}, timeout=10)
    assert ok.status_code == 200 and len(ok.json()["data"]) == 4
    assert ok.headers["Access-Control-Allow-Origin"] == APP
    assert ok.headers["Vary"] == "Origin"
    assert "X-Cadenza-Mock-Hint" in ok.headers["Access-Control-Expose-Headers"]
    error = requests.get(mock.url + LIST, headers={"Origin": APP}, timeout=10)
    assert error.status_code == 401 and error.headers["Access-Control-Allow-Origin"] == APP


def test_a_preflight_from_an_allowed_origin_is_answered(mock):
    answer = requests.options(
        mock.url + "/api/v3/credential/create",
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=10,
    )
    assert answer.status_code == 204 and answer.content == b""
    assert answer.headers["Access-Control-Allow-Origin"] == APP
    assert "POST" in answer.headers["Access-Control-Allow-Methods"].split(", ")
    assert answer.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    created = requests.post(
        mock.url + "/api/v3/credential/create",
        json={"venue": "BINANCE", "apiKey": "k" * 64, "apiSecret": "s"},
        headers={**ALICE, "Origin": APP},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    assert created.headers["Access-Control-Allow-Origin"] == APP


def test_a_preflight_from_another_origin_is_refused(mock):
    answer = requests.options(
        mock.url + "/__admin/faults",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    _refused(answer)
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "10.0.0.5", "[::2]"])
def test_a_rebinding_host_is_refused_and_sees_no_token(mock, host):
    for path in ("/__admin/scenario", LIST, "/__admin/ui"):
        answer = requests.get(mock.url + path, headers={**ALICE, "Host": host}, timeout=10)
        message = _refused(answer, "does not name this server", "--allow-host")
        assert "alice-token" not in answer.text and "does not name" in message
    _pristine(mock)


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:1", "127.0.0.1", "127.9.9.9:80", "[::1]:8080", "app.localhost"]
)
def test_loopback_names_and_allowed_hosts_are_answered(mock, host):
    answer = requests.get(mock.url + LIST, headers={**ALICE, "Host": host}, timeout=10)
    assert answer.status_code == 200


def test_an_allow_host_name_is_answered(mock):
    answer = requests.get(mock.url + LIST, headers={**ALICE, "Host": "mock.test:9"}, timeout=10)
    assert answer.status_code == 200


def test_a_server_beyond_loopback_answers_any_host():
    with MockServer("default", host="0.0.0.0") as server:
        url = f"http://127.0.0.1:{server.port}"
        answer = requests.get(url + LIST, headers={**ALICE, "Host": "mock.ci"}, timeout=10)
        assert answer.status_code == 200
        # Origin is still checked: a page at another origin gets nothing done.
        _refused(requests.post(url + "/__admin/reset", headers={"Origin": EVIL}, timeout=10))


def test_a_no_cors_request_from_another_site_is_refused_but_a_link_is_followed(mock):
    image = {**ALICE, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    _refused(requests.get(mock.url + LIST, headers=image, timeout=10), "Sec-Fetch-Site")
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert requests.get(mock.url + "/__admin/ui", headers=link, timeout=10).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        None,
    ],
)
def test_admin_bodies_must_say_they_are_json_or_yaml(mock, content_type):
    # Requests sends no Content-Type for a str body when told nothing.
    headers = {"Content-Type": content_type} if content_type else {}
    for method, path in (("POST", "/__admin/faults"), ("PUT", "/__admin/scenario")):
        answer = requests.request(
            method, mock.url + path, data=FAULT_YAML, headers=headers, timeout=10
        )
        assert answer.status_code == 415, answer.text
        body = answer.json()
        assert body["errno"] == -19004 and "application/json or application/yaml" in body["error"]
    assert mock.scenario.name == "default"
    _pristine(mock)


@pytest.mark.parametrize(
    "content_type",
    ["application/yaml", "text/yaml", "application/x-yaml", "application/json; charset=utf-8"],
)
def test_labelled_admin_bodies_are_read(mock, content_type):
    body = FAULT_YAML if "yaml" in content_type else '{"match": {"path": "/x"}, "drop": true}'
    answer = requests.post(
        mock.url + "/__admin/faults", data=body, headers={"Content-Type": content_type}
    )
    assert answer.status_code == 200, answer.text
    mock.clear_faults()


def test_bodyless_admin_calls_need_no_content_type(mock):
    assert requests.post(mock.url + "/__admin/reset", timeout=10).status_code == 200
    assert requests.put(mock.url + "/__admin/scenario?name=empty", timeout=10).status_code == 200


async def test_a_cross_origin_websocket_is_refused_before_the_upgrade(mock):
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(mock.url + "/connection/websocket", headers={"Origin": EVIL})
        assert refused.value.status == 403
        rebinding = {"Host": "evil.example"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as rebound:
            await session.ws_connect(mock.url + "/connection/websocket", headers=rebinding)
        assert rebound.value.status == 403
        # An allowed origin connects and speaks the protocol.
        async with session.ws_connect(
            mock.url + "/connection/websocket", headers={"Origin": APP}
        ) as ws:
            await ws.send_str('{"id": 1, "connect": {"token": "alice-token"}}')
            reply = await ws.receive_json(timeout=10)
            assert reply["id"] == 1 and "connect" in reply


def _raw(mock: MockServer, request: bytes, times: int) -> list[bytes]:
    """`request` sent `times` on one keep-alive connection (the fast path's chance)."""
    answers = []
    with socket.create_connection(("127.0.0.1", mock.port), timeout=10) as sock:
        for _ in range(times):
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += sock.recv(65536)
            answers.append(head.split(b"\r\n")[0])
    return answers


@pytest.mark.parametrize(
    "extra",
    [b"Host: evil.example\r\n", b"Host: localhost\r\nOrigin: https://evil.example\r\n"],
)
def test_the_list_fast_path_refuses_what_the_guard_refuses(mock, extra):
    # The same list call, warmed so the remembered answer exists, then sent as a page would.
    plain = b"GET " + LIST.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
    auth = b"Authorization: Bearer alice-token\r\n"
    assert _raw(mock, plain + auth + b"\r\n", 3) == [b"HTTP/1.1 200 OK"] * 3
    foreign = b"GET " + LIST.encode() + b" HTTP/1.1\r\n" + extra + auth + b"\r\n"
    assert _raw(mock, foreign, 3) == [b"HTTP/1.1 403 Forbidden"] * 3


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("http://LocalHost:5173/", "http://localhost:5173"),
        ("https://app.example:443", "https://app.example"),
        ("http://[::1]:80", "http://[::1]"),
        ("*", "*"),
        ("null", "null"),
    ],
)
def test_origins_are_compared_as_browsers_send_them(given, normal):
    assert normalize_origin(given) == normal


@pytest.mark.parametrize("bad", ["localhost:5173", "http://app/path", "http://a:99999", "http://"])
def test_what_is_not_an_origin_is_refused_at_start(bad):
    with pytest.raises(OriginError):
        normalize_origin(bad)


def test_serve_takes_origins_from_the_environment_and_refuses_a_bad_one(serve):
    server = serve(env={"CADENZA_MOCK_ALLOW_ORIGIN": f"{APP}, https://other.example:8443"})
    url, token = server.banner()
    for origin in (APP, "https://other.example:8443"):
        answer = requests.get(
            url + LIST, headers={"Authorization": f"Bearer {token}", "Origin": origin}, timeout=10
        )
        assert answer.headers["Access-Control-Allow-Origin"] == origin
    _refused(requests.post(url + "/__admin/reset", headers={"Origin": EVIL}, timeout=10))
    assert server.stop()[0] == 0


def test_a_bad_allow_origin_stops_serve_with_one_line():
    result = run_cli("serve", "--port", "0", "--allow-origin", "localhost:5173")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "cadenza-mock: --allow-origin 'localhost:5173' is not an origin: write it as "
        "scheme://host[:port]"
    ]


@pytest.mark.parametrize("bound", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_every_loopback_bind_address_checks_the_host(bound):
    guard = BrowserGuard.from_options(bound_host=bound)
    assert guard.checks_host
    assert not guard.host_allowed("evil.example")
    assert guard.host_allowed("[::1]:8080") and guard.host_allowed("localhost:1")


@pytest.mark.parametrize("bound", ["0.0.0.0", "::", "10.1.2.3", None])
def test_a_bind_beyond_loopback_answers_any_host(bound):
    guard = BrowserGuard.from_options(bound_host=bound)
    assert not guard.checks_host and guard.host_allowed("evil.example")

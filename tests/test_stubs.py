"""Ad-hoc stubs: `mock.stub(...)` (MockServer, RemoteMock) and `/__admin/stubs`, answered
before the emulation, journaled, cleared by reset and load, per namespace, bounded; bad
input a clear 400 (or TypeError/ValueError in Python) that changes nothing; secrets never
shown. Over real sockets (requests, httpx); the fixture's reset in test_plugin-style
pytester runs at the end."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests
from support import ALICE, LIST

from cadenza_mock.engine.stubs import MAX_STUB_BYTES, MAX_STUBS
from cadenza_mock.http.observer import set_default_observer
from cadenza_mock.run.server import MockServer
from cadenza_mock.testing.remote import RemoteError, RemoteMock

WALLETS = "/api/v3/fermata/wallet/list"
ORDERS = "/api/v3/tradeOrder/list"
SUBMIT = "/api/v3/tradeOrder/submit"
ENVELOPE = {"data": [{"venue": "BINANCE"}], "success": True, "errno": 0, "error": None}
ADMIN_TOKEN = "adm1n-t0ken-for-stubs"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer("default") as running:
        yield running


@pytest.fixture(params=["local", "remote"])
def mock(request: pytest.FixtureRequest, server: MockServer) -> MockServer | RemoteMock:
    """The same stub API in-process and over the admin API (`--cadenza-url` mode)."""
    server.reset()
    return server if request.param == "local" else RemoteMock(server.url).start()


def get(mock: Any, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(mock.url + path, timeout=10, **kwargs)


def admin(server: MockServer, method: str, path: str = "", **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{server.url}/__admin/stubs{path}", timeout=10, **kwargs)


# ------------------------------------------------------------------------ what a stub does


def test_a_stub_answers_its_json_status_and_headers(mock: Any) -> None:
    assert get(mock, WALLETS, headers=ALICE).status_code == 501
    stub_id = mock.stub("GET", WALLETS, json=ENVELOPE, headers={"X-Venue-Count": "1"})
    r = get(mock, WALLETS, headers=ALICE)
    assert (r.status_code, r.json(), r.headers["X-Venue-Count"]) == (200, ENVELOPE, "1")
    assert r.headers["Content-Type"] == "application/json"
    mock.stub("post", SUBMIT, json={"rejected": True}, status=422)  # any case, as requests
    r = requests.post(mock.url + SUBMIT, json={}, headers=ALICE, timeout=10)
    assert (r.status_code, r.json()) == (422, {"rejected": True})
    assert next(s["id"] for s in mock.stubs) == stub_id


def test_times_then_the_emulation_answers_again(mock: Any) -> None:
    dealers = "/api/v3/fermata/dealer/list"  # not emulated: answers 501 once used up
    mock.stub("GET", dealers, json=[1], times=2)
    assert [get(mock, dealers, headers=ALICE).status_code for _ in range(3)] == [200, 200, 501]
    (listed,) = mock.stubs
    assert (listed["times"], listed["remaining"], listed["hits"]) == (2, 0, 2)


def test_the_newest_matching_stub_wins_and_globs_match(mock: Any) -> None:
    mock.stub("GET", "/api/v3/fermata/*", json="any fermata")
    newest = mock.stub("GET", WALLETS, json="wallets")
    assert get(mock, WALLETS).json() == "wallets"
    assert get(mock, "/api/v3/fermata/dealer/list").json() == "any fermata"
    mock.remove_stub(newest)
    assert get(mock, WALLETS).json() == "any fermata"
    # A glob may match paths nobody documents: the stub answers them too.
    assert get(mock, "/api/v3/fermata/not/documented").json() == "any fermata"
    mock.clear_stubs()
    assert mock.stubs == [] and get(mock, "/api/v3/fermata/not/documented").status_code == 404


def test_a_stub_answers_before_the_emulation_without_the_token(mock: Any) -> None:
    mock.stub("GET", LIST, json={"data": [], "success": True, "errno": 0, "error": None})
    assert get(mock, LIST).json()["data"] == []  # no token, no 401: the stub is the answer
    mock.clear_stubs()
    assert get(mock, LIST).status_code == 401
    assert len(get(mock, LIST, headers=ALICE).json()["data"]) == 4


def test_a_get_stub_answers_head_and_no_json_means_no_body(mock: Any) -> None:
    mock.stub("GET", WALLETS, status=204)
    r = requests.head(mock.url + WALLETS, timeout=10)
    assert r.status_code == 204
    r = get(mock, WALLETS)
    assert (r.status_code, r.content, r.headers.get("Content-Type")) == (204, b"", None)
    mock.stub("DELETE", "/api/v3/market/instrument/delete", status=200)
    r = requests.delete(mock.url + "/api/v3/market/instrument/delete", timeout=10)
    assert (r.status_code, r.content) == (200, b"")


def test_a_stubbed_call_is_journaled_like_any_other(mock: Any) -> None:
    stub_id = mock.stub("GET", WALLETS, json={"accessToken": "tok-S3CRET", "n": 1})
    r = get(mock, WALLETS + "?venue=BINANCE", headers=ALICE)
    assert r.json() == {"accessToken": "tok-S3CRET", "n": 1}  # the client gets what was stubbed
    (entry,) = mock.requests
    assert (entry.method, entry.path, entry.status) == ("GET", WALLETS, 200)
    assert entry.fault == f"{stub_id}:stub"
    assert entry.response == {"accessToken": "<redacted>", "n": 1}
    mock.assert_called(WALLETS, times=1)
    # A stub the test armed is not an unknown request, even a 404 on a path nobody documents.
    mock.stub("GET", "/api/v3/made/up", status=404, json={"error": "gone"})
    assert get(mock, "/api/v3/made/up").status_code == 404
    assert mock.unknown_requests() == []
    mock.clear_stubs()
    get(mock, "/api/v3/made/up")
    assert [e.path for e in mock.unknown_requests()] == ["/api/v3/made/up"]


def test_an_armed_fault_acts_first(mock: Any) -> None:
    mock.stub("GET", WALLETS, json="stubbed")
    mock.fail_next(503, path=WALLETS)
    assert get(mock, WALLETS).status_code == 503
    assert get(mock, WALLETS).json() == "stubbed"


def test_reset_and_load_clear_stubs(mock: Any) -> None:
    mock.stub("GET", WALLETS, json="x")
    mock.reset()
    assert mock.stubs == [] and get(mock, WALLETS, headers=ALICE).status_code == 501
    mock.stub("GET", WALLETS, json="x")
    mock.load("empty")
    assert mock.stubs == [] and get(mock, WALLETS, headers=ALICE).status_code == 501
    mock.load("default")


# ---------------------------------------------------------------------------- bad input

BAD_STUBS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"method": "GOT", "path": WALLETS}, ValueError, "unknown method 'GOT'"),
    ({"method": 1, "path": WALLETS}, TypeError, "method must be a string"),
    ({"method": "GET", "path": "/__admin/reset"}, ValueError, "is not under /api/v3/"),
    ({"method": "GET", "path": "/api/v3x"}, ValueError, "is not under /api/v3/"),
    ({"method": "GET", "path": WALLETS + "?a=1"}, ValueError, "no query"),
    ({"method": "GET", "path": WALLETS, "status": 99}, ValueError, "out of range (200 to 599)"),
    ({"method": "GET", "path": WALLETS, "status": 600}, ValueError, "out of range"),
    ({"method": "GET", "path": WALLETS, "status": "200"}, TypeError, "status must be an integer"),
    ({"method": "GET", "path": WALLETS, "json": {1, 2}}, ValueError, "not JSON-serialisable"),
    ({"method": "GET", "path": WALLETS, "json": math.nan}, ValueError, "not JSON-serialisable"),
    ({"method": "GET", "path": WALLETS, "times": 0}, ValueError, "times must be 1 or more"),
    ({"method": "GET", "path": WALLETS, "status": 204, "json": 1}, ValueError, "carries no body"),
    (
        {"method": "GET", "path": WALLETS, "headers": {"Content-Length": "1"}},
        ValueError,
        "set by the server",
    ),
    (
        {"method": "GET", "path": WALLETS, "headers": {"X-Key": "s3cret\r\nX: y"}},
        ValueError,
        "printable ASCII",
    ),
    (
        {"method": "GET", "path": WALLETS, "json": "x" * (MAX_STUB_BYTES + 1)},
        ValueError,
        f"at most {MAX_STUB_BYTES}",
    ),
]


@pytest.mark.parametrize(("spec", "kind", "says"), BAD_STUBS)
def test_a_bad_stub_raises_naming_the_argument_and_changes_nothing(
    mock: Any, spec: dict[str, Any], kind: type[Exception], says: str
) -> None:
    kept = mock.stub("GET", WALLETS, json="kept")
    before = mock.stubs
    rest = dict(spec)
    method, path = rest.pop("method"), rest.pop("path")
    with pytest.raises(kind, match=re.escape(says)) as caught:
        mock.stub(method, path, **rest)
    assert "s3cret" not in str(caught.value)
    assert mock.stubs == before and [s["id"] for s in before] == [kept]
    assert get(mock, WALLETS).json() == "kept"


@pytest.mark.parametrize(
    ("body", "errno", "says"),
    [
        ({"method": "GET", "path": "/x"}, -19004, "stub: path '/x' is not under /api/v3/"),
        ({"method": "GET", "path": WALLETS, "jsn": 1}, -19004, "did you mean 'json'?"),
        ({"method": "get", "path": WALLETS}, -19004, "did you mean 'GET'?"),
        ({"path": WALLETS}, -19004, "method must be a string"),
        ({"method": "GET", "path": WALLETS, "times": True}, -19004, "times must be an integer"),
        (
            {"method": "GET", "path": WALLETS, "headers": {"Authorization": 7}},
            -19004,
            "the value must be a string",
        ),
        ([1, 2], -19004, "expected an object"),
        (b"{not json", -19005, "Invalid JSON"),
        (b"method: GET\n", -19004, "a stub is sent as JSON"),
    ],
)
def test_the_admin_api_refuses_bad_stubs_in_the_envelope(
    server: MockServer, body: Any, errno: int, says: str
) -> None:
    server.reset()
    kept = server.stub("GET", WALLETS, json="kept")
    if isinstance(body, bytes):
        kind = "application/yaml" if body.startswith(b"method") else "application/json"
        r = admin(server, "POST", data=body, headers={"Content-Type": kind})
    else:
        r = admin(server, "POST", json=body)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert (answer["success"], answer["errno"]) == (False, errno)
    assert says in answer["error"]
    assert [s["id"] for s in server.stubs] == [kept]
    assert get(server, WALLETS).json() == "kept"


def test_the_admin_api_arms_lists_and_removes_stubs(server: MockServer) -> None:
    server.reset()
    spec = {"method": "POST", "path": SUBMIT, "json": {"ok": 1}, "status": 201.0, "times": 3}
    r = admin(server, "POST", json=spec)
    assert r.status_code == 200, r.text
    armed = r.json()["data"]
    assert armed == {
        "id": armed["id"],
        "method": "POST",
        "path": SUBMIT,
        "status": 201,
        "json": {"ok": 1},
        "headers": {},
        "times": 3,
        "proxy": False,
        "remaining": 3,
        "hits": 0,
    }
    with httpx.Client(base_url=server.url) as client:
        assert client.post(SUBMIT, json={}).status_code == 201
        listed = client.get("/__admin/stubs").json()["data"]
        assert [(s["id"], s["hits"], s["remaining"]) for s in listed] == [(armed["id"], 1, 2)]
        gone = client.delete(f"/__admin/stubs/{armed['id']}")
        assert gone.json()["data"] == {"cleared": 1, "id": armed["id"]}
        missing = client.delete("/__admin/stubs/stub-999")
        assert missing.status_code == 404
        assert missing.json()["error"] == "No stub 'stub-999' (stubs: none)"
        client.post("/__admin/stubs", json={"method": "GET", "path": WALLETS})
        client.post("/__admin/stubs", json={"method": "GET", "path": ORDERS})
        assert client.delete("/__admin/stubs").json()["data"] == {"cleared": 2}
        assert client.get("/__admin/stubs").json()["data"] == []


def test_stubs_are_bounded_and_used_up_ones_make_room(server: MockServer) -> None:
    server.reset()
    server.stub("GET", ORDERS, json="once", times=1)
    for n in range(MAX_STUBS - 1):
        server.stub("GET", f"{WALLETS}/{n}", json=n)
    r = admin(server, "POST", json={"method": "GET", "path": WALLETS, "json": "one too many"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert f"at most {MAX_STUBS} stubs" in r.json()["error"]
    assert len(server.stubs) == MAX_STUBS and get(server, WALLETS, headers=ALICE).status_code == 501
    with pytest.raises(ValueError, match="at most"):
        server.stub("GET", WALLETS, json="one too many")
    assert get(server, ORDERS).json() == "once"  # now used up: its room can be taken
    server.stub("GET", WALLETS, json="fits")
    assert len(server.stubs) == MAX_STUBS and get(server, WALLETS).json() == "fits"
    assert ORDERS not in {s["path"] for s in server.stubs}
    assert get(server, f"{WALLETS}/7").json() == 7  # nothing else was lost


def test_secrets_in_a_stub_are_never_shown(server: MockServer) -> None:
    server.reset()
    body = {"session": {"refreshToken": "r-S3CRET"}, "apiSecret": "a-S3CRET", "apiKey": "k" * 20}
    r = admin(
        server,
        "POST",
        json={
            "method": "GET",
            "path": WALLETS,
            "json": body,
            "headers": {"X-Auth-Token": "h-S3CRET"},
        },
    )
    listed = admin(server, "GET")
    for answer in (r, listed):
        assert answer.status_code == 200
        assert "S3CRET" not in answer.text
    shown = listed.json()["data"][0]
    assert shown["json"]["session"] == {"refreshToken": "<redacted>"}
    assert shown["headers"] == {"X-Auth-Token": "<redacted>"}
    assert shown["json"]["apiKey"] == "kkkkkk***"
    assert "S3CRET" not in repr(server.stubs)
    got = get(server, WALLETS)
    assert got.json() == body and got.headers["X-Auth-Token"] == "h-S3CRET"  # the stub acts
    assert "S3CRET" not in repr(server.requests[-1].response)


def test_the_admin_token_guards_stubs(serve: Callable[..., Any]) -> None:
    url, _ = serve("--admin-token", ADMIN_TOKEN, "--quiet").banner()
    spec = {"method": "GET", "path": WALLETS, "json": "x"}
    refused = requests.post(f"{url}/__admin/stubs", json=spec, timeout=10)
    assert refused.status_code == 401 and ADMIN_TOKEN not in refused.text
    assert requests.get(f"{url}{WALLETS}", headers=ALICE, timeout=10).status_code == 501
    remote = RemoteMock(url, admin_token=ADMIN_TOKEN).start()
    stub_id = remote.stub("GET", WALLETS, json="x")
    assert requests.get(f"{url}{WALLETS}", timeout=10).json() == "x"
    for answer in (requests.get(f"{url}/__admin/stubs", timeout=10), remote.stubs):
        assert ADMIN_TOKEN not in repr(answer) and ADMIN_TOKEN not in getattr(answer, "text", "")
    with pytest.raises(RemoteError, match="No stub 'stub-9'"):
        remote.remove_stub("stub-9")
    remote.remove_stub(stub_id)
    assert remote.stubs == []


def test_in_process_remove_of_an_unknown_stub_names_the_ids(server: MockServer) -> None:
    server.reset()
    kept = server.stub("GET", WALLETS)
    with pytest.raises(KeyError, match=kept):
        server.remove_stub("stub-0")


def test_stubs_belong_to_a_namespace(server: MockServer) -> None:
    server.reset()
    created = requests.post(f"{server.url}/__admin/namespaces?namespace=stubbed", timeout=10)
    assert created.status_code == 200, created.text
    try:
        r = requests.post(
            f"{server.url}/__admin/namespaces/stubbed/stubs",
            json={"method": "GET", "path": WALLETS, "json": "team"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        in_space = {"X-Cadenza-Mock-Namespace": "stubbed", **ALICE}
        assert get(server, WALLETS, headers=in_space).json() == "team"
        assert requests.get(f"{server.url}/__ns/stubbed{WALLETS}", timeout=10).json() == "team"
        assert get(server, WALLETS, headers=ALICE).status_code == 501
        assert server.stubs == []
        reset = requests.post(f"{server.url}/__admin/namespaces/stubbed/reset", timeout=10)
        assert reset.status_code == 200
        assert get(server, WALLETS, headers=in_space).status_code == 501
    finally:
        requests.delete(f"{server.url}/__admin/namespaces/stubbed", timeout=10)


# -------------------------------------------------------------------------- the fixture

FIXTURE_TESTS = """
import requests

WALLETS = "/api/v3/fermata/wallet/list"


def test_a_stubs(cadenza_mock):
    cadenza_mock.stub("GET", WALLETS, json={"venues": ["BINANCE"]})
    assert requests.get(cadenza_mock.url + WALLETS, timeout=10).json() == {"venues": ["BINANCE"]}


def test_b_sees_no_stub(cadenza_mock):
    assert cadenza_mock.stubs == []
    r = requests.get(cadenza_mock.url + WALLETS, headers=cadenza_mock.auth_headers, timeout=10)
    assert r.status_code == 501, r.text
"""


def _reversed(source: str) -> str:
    head, first, second = source.split("\n\ndef ")
    return f"{head}\n\ndef {second}\n\ndef {first}"


@pytest.mark.parametrize("order", ["as-written", "reversed"])
@pytest.mark.parametrize("where", ["in-process", "remote"])
def test_the_fixture_clears_stubs_before_each_test(
    pytester: pytest.Pytester, serve: Callable[..., Any], order: str, where: str
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    source = FIXTURE_TESTS if order == "as-written" else _reversed(FIXTURE_TESTS)
    pytester.makepyfile(test_downstream=source)
    args = ["-p", "no:randomly", "-p", "no:cacheprovider", "--cadenza-strict"]
    if where == "remote":
        url, _ = serve("--quiet").banner()
        args += ["--cadenza-url", url]
    pytester.runpytest_inprocess(*args).assert_outcomes(passed=2)


def test_a_stubbed_list_is_never_answered_from_the_fast_path() -> None:
    """The list fast path (http/runner.py) answers a repeated list call from memory, below
    the middleware: it must step aside while any stub is held."""
    previous = set_default_observer(None)  # a response hook would turn the fast path off
    try:
        with MockServer("default") as plain, requests.Session() as session:
            real = session.get(plain.url + LIST, headers=ALICE).content
            for _ in range(20):
                assert session.get(plain.url + LIST, headers=ALICE).content == real
            runner = plain._runner
            assert runner is not None and runner.server is not None
            assert getattr(runner.server, "fast_answers") >= 1  # noqa: B009
            plain.stub("GET", LIST, json="stubbed")
            answers = {session.get(plain.url + LIST, headers=ALICE).text for _ in range(20)}
            assert answers == {'"stubbed"'}
    finally:
        set_default_observer(previous)

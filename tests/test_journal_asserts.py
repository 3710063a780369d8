"""The journal as tests read it: case-insensitive headers, numbering, the call filters and
assertions, `last_call`, `url_for`, `drop_next`/`rate_limit_next` and what strict mode
counts as unknown; in-process and against a real `cadenza-mock serve` (remote mode)."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Iterator

import pytest
import requests
from support import Served, bearer

from cadenza_mock import Headers, JournalEntry, MockHandle, MockServer, RemoteError, RemoteMock

LIST = "/api/v3/credential/list"
CREATE = "/api/v3/credential/create"
REVOKE = "/api/v3/credential/revoke"
ADMIN_TOKEN = "adm1n-t0ken-never-shown"
FULL_KEY = "bybitKEY1234567890"
SECRET = "bybit-secret-never-shown"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    """(url, token) of one `cadenza-mock serve` for the module's remote cases (each test
    loads its own state)."""
    server = Served(["--scenario", "default", "--admin-token", ADMIN_TOKEN])
    try:
        yield server.banner()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture(params=["local", "remote"])
def mock(request: pytest.FixtureRequest, local: MockServer) -> MockHandle:
    """The fixture's API in-process and in remote mode, pristine `default`."""
    handle: MockHandle
    if request.param == "local":
        handle = local
    else:
        url, _ = request.getfixturevalue("served")
        handle = RemoteMock(url, admin_token=ADMIN_TOKEN).start()
    handle.load("default")
    return handle


def get(mock: MockHandle, path: str = LIST, **kwargs: object) -> requests.Response:
    kwargs.setdefault("headers", mock.auth_headers)
    return requests.get(mock.url_for(path), timeout=10, **kwargs)  # type: ignore[arg-type]


def post(mock: MockHandle, path: str, body: object, **kwargs: object) -> requests.Response:
    kwargs.setdefault("headers", mock.auth_headers)
    return requests.post(mock.url_for(path), json=body, timeout=10, **kwargs)  # type: ignore[arg-type]


def create_bybit(mock: MockHandle) -> requests.Response:
    body = {"venue": "BYBIT", "name": "bybit bot", "apiKey": FULL_KEY, "apiSecret": SECRET}
    return post(mock, CREATE, body)


# --------------------------------------------------------------------------- headers


def test_headers_are_case_insensitive_whatever_the_client_sent(mock: MockHandle) -> None:
    lower = {"authorization": f"Bearer {mock.token}", "x-trace-id": "abc"}
    assert get(mock, headers=lower).status_code == 200
    call = mock.last_call
    for name in ("Authorization", "authorization", "AUTHORIZATION"):
        assert call.headers[name] == "<redacted>"
        assert name in call.headers
    assert call.headers["X-Trace-Id"] == "abc" and call.headers.get("x-TRACE-id") == "abc"
    assert call.headers.get("X-Missing") is None and "X-Missing" not in call.headers
    with pytest.raises(KeyError):
        call.headers["X-Missing"]
    # Shown as sent: the admin API's JSON and iteration keep the client's own spelling.
    assert "authorization" in call.to_json()["headers"]
    assert "Authorization" not in call.to_json()["headers"]
    assert "authorization" in list(call.headers)
    assert mock.token not in repr(call)


def test_headers_mapping_is_read_only_comparable_and_copyable() -> None:
    headers = Headers([("Content-Type", "application/json"), ("X-A", "1")])
    assert headers == {"Content-Type": "application/json", "X-A": "1"}
    assert dict(headers) == {"Content-Type": "application/json", "X-A": "1"}
    assert len(headers) == 2 and headers["content-type"] == "application/json"
    assert copy.deepcopy(headers) == headers and pickle.loads(pickle.dumps(headers)) == headers
    with pytest.raises(TypeError):
        headers["X-A"] = "2"  # type: ignore[index]
    assert 1 not in headers  # type: ignore[comparison-overlap]
    entry = JournalEntry(1, 0, "GET", "/", {}, {"X-A": "1"}, None, 200, 0.1)  # type: ignore[arg-type]
    assert isinstance(entry.headers, Headers) and entry.headers["x-a"] == "1"
    assert entry.to_json()["headers"] == {"X-A": "1"}


def test_a_secret_header_in_any_case_is_redacted(mock: MockHandle) -> None:
    headers = {**mock.auth_headers, "x-api-secret": SECRET, "X-API-KEY": FULL_KEY}
    get(mock, headers=headers)
    call = mock.last_call
    assert call.headers["X-Api-Secret"] == "<redacted>"
    assert FULL_KEY not in call.headers["x-api-key"]
    assert SECRET not in repr(mock.requests) and FULL_KEY not in repr(mock.requests)


# --------------------------------------------------------------------------- numbering


def test_seq_restarts_at_1_on_reset_and_load_and_continues_across_clears(
    mock: MockHandle,
) -> None:
    for _ in range(3):
        get(mock)
    assert [e.seq for e in mock.requests] == [1, 2, 3]
    mock.clear_requests()  # only forgets: numbering goes on
    get(mock)
    assert [e.seq for e in mock.requests] == [4]
    mock.reset()
    get(mock)
    get(mock)
    assert [e.seq for e in mock.requests] == [1, 2]
    mock.load("empty")
    get(mock)
    assert [e.seq for e in mock.requests] == [1]
    mock.use("empty")  # what the fixture does between tests: a reset
    get(mock)
    assert mock.last_call.seq == 1


def test_admin_api_shows_the_restarted_numbers(served: tuple[str, str]) -> None:
    url, token = served
    admin = {"X-Admin-Token": ADMIN_TOKEN}
    requests.post(url + "/__admin/reset", headers=admin, timeout=10)
    for _ in range(2):
        requests.get(url + LIST, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    requests.post(url + "/__admin/reset", headers=admin, timeout=10)
    requests.get(url + LIST, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    entries = requests.get(url + "/__admin/requests", headers=admin, timeout=10).json()["data"]
    assert [e["seq"] for e in entries] == [1]


# --------------------------------------------------------------------------- filters


def test_calls_filter_by_method_glob_query_and_body(mock: MockHandle) -> None:
    get(mock, params={"limit": 1, "status": "ACTIVE"})
    assert create_bybit(mock).status_code == 200
    post(mock, "/api/v3/nope", {"order": {"venue": "OKX", "legs": [{"side": "buy"}]}, "n": 1})
    assert [e.seq for e in mock.calls()] == [1, 2, 3]
    assert [e.seq for e in mock.calls("/api/v3/credential/*")] == [1, 2]
    assert [e.seq for e in mock.calls("/api/v3/credential/*", method="post")] == [2]
    assert [e.seq for e in mock.calls("/api/v3/*/list")] == [1]
    assert mock.calls("/api/v3/credential") == []  # exact unless it is a glob
    # Query parameters: a subset, values compared as strings.
    assert [e.seq for e in mock.calls(query={"limit": "1"})] == [1]
    assert [e.seq for e in mock.calls(query={"limit": 1, "status": "ACTIVE"})] == [1]
    assert mock.calls(query={"limit": "2"}) == []
    assert mock.calls(query={"cursor": "x"}) == []
    # JSON bodies: dicts are subsets at any depth, lists match item by item.
    assert [e.seq for e in mock.calls(json={"venue": "BYBIT"})] == [2]
    assert [e.seq for e in mock.calls(json={"order": {"venue": "OKX"}})] == [3]
    assert [e.seq for e in mock.calls(json={"order": {"legs": [{"side": "buy"}]}})] == [3]
    assert mock.calls(json={"order": {"legs": []}}) == []
    assert mock.calls(json={"order": {"venue": "BYBIT"}}) == []
    assert mock.calls(json={"n": True}) == []  # a JSON 1 is not true
    assert [e.seq for e in mock.calls(json={"n": 1})] == [3]
    assert mock.calls(json={"venue": "BYBIT", "nope": None}) == []
    # Every filter at once.
    [call] = mock.calls("/api/v3/credential/*", method="POST", json={"name": "bybit bot"})
    assert isinstance(call, JournalEntry) and call.body["apiSecret"] == "<redacted>"


def test_assert_called_counts_and_returns_the_matching_calls(mock: MockHandle) -> None:
    get(mock, params={"limit": "1"})
    get(mock, params={"limit": "2"})
    found = mock.assert_called(LIST, method="GET", query={"limit": "2"}, times=1)
    assert [e.query for e in found] == [{"limit": ["2"]}]
    assert len(mock.assert_called("/api/v3/*")) == 2
    assert len(mock.assert_called(method="GET", times=2)) == 2
    mock.assert_not_called(REVOKE)
    mock.assert_not_called(LIST, method="POST")
    mock.assert_not_called(query={"limit": "3"})


def test_assertion_messages_list_requests_and_never_secrets(mock: MockHandle) -> None:
    create_bybit(mock)
    get(mock, params={"apiKey": FULL_KEY, "limit": "1"})
    with pytest.raises(AssertionError) as never:
        mock.assert_called(CREATE, json={"venue": "OKX", "apiSecret": SECRET})
    message = str(never.value)
    assert message.startswith(f"{CREATE} with JSON ") and "was never requested" in message
    assert "'venue': 'BYBIT'" in message  # bodies are listed when the filter was a body
    with pytest.raises(AssertionError) as counted:
        mock.assert_called("/api/v3/credential/*", query={"apiKey": FULL_KEY}, times=2)
    # The journal keeps the key masked, so the full key matches nothing (and is not shown).
    assert "was requested 0 time(s), expected 2" in str(counted.value)
    assert f"POST {CREATE} -> 200" in str(counted.value)
    assert f"GET {LIST}?apiKey=" in str(counted.value)
    with pytest.raises(AssertionError, match=r"was requested 1 time\(s\), expected 0"):
        mock.assert_not_called(CREATE, method="POST")
    for error in (never, counted):
        text = str(error.value)
        for secret in (SECRET, FULL_KEY, mock.token):
            assert secret not in text


def test_long_journals_show_the_newest_requests_in_messages(mock: MockHandle) -> None:
    for number in range(25):
        get(mock, params={"limit": str(number + 1)})
    with pytest.raises(AssertionError) as error:
        mock.assert_called(REVOKE)
    text = str(error.value)
    assert "(5 earlier not shown)" in text and "limit=25 -> 200" in text
    assert "limit=5 -> 200" not in text


def test_empty_journal_messages(mock: MockHandle) -> None:
    with pytest.raises(AssertionError, match="was never requested; requests: none"):
        mock.assert_called(LIST)
    with pytest.raises(LookupError, match="no request reached cadenza-mock at http://"):
        mock.last_call  # noqa: B018


def test_bad_filters_raise_clearly_and_keep_the_journal(mock: MockHandle) -> None:
    get(mock)
    with pytest.raises(
        ValueError,
        match=r"assert_called: unknown method 'GTE' \(allowed: GET, .*, RPC, SUBSCRIBE\); "
        r"did you mean 'GET'",
    ):
        mock.assert_called(LIST, method="GTE")
    with pytest.raises(ValueError, match=r"unknown method 'rcp' .*did you mean 'RPC'"):
        mock.calls(method="rcp")
    with pytest.raises(ValueError, match="calls: path: expected a path starting with '/'"):
        mock.calls("api/v3/credential/list")
    with pytest.raises(ValueError, match=r"calls: path: .* got 'http://"):
        mock.calls(mock.url_for(LIST))
    with pytest.raises(ValueError, match=r"calls: query\.limit: expected a string, got bool"):
        mock.calls(query={"limit": True})
    with pytest.raises(TypeError, match="query must be a dict"):
        mock.calls(query=[("limit", "1")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="method must be a string"):
        mock.calls(method=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="times must be an int or None, got '1'"):
        mock.assert_called(LIST, times="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times must be 0 or more, got -1"):
        mock.assert_called(LIST, times=-1)
    assert [e.seq for e in mock.requests] == [1]


def test_last_call_and_url_for(mock: MockHandle) -> None:
    assert mock.url_for(LIST) == mock.url + LIST
    assert mock.url_for("api/v3/credential/list?limit=1") == mock.url + LIST + "?limit=1"
    assert mock.url_for("") == mock.url + "/"
    with pytest.raises(ValueError, match="url_for takes a path, not a URL"):
        mock.url_for(mock.url + LIST)
    with pytest.raises(TypeError, match="url_for takes a path"):
        mock.url_for(None)  # type: ignore[arg-type]
    get(mock)
    create_bybit(mock)
    assert (mock.last_call.method, mock.last_call.path, mock.last_call.seq) == ("POST", CREATE, 2)


# --------------------------------------------------------------------------- faults


def test_drop_next_closes_the_connection_then_serves(mock: MockHandle) -> None:
    fault_id = mock.drop_next(path=LIST, method="GET")
    with pytest.raises(requests.ConnectionError):
        get(mock)
    assert (mock.last_call.status, mock.last_call.fault) == (0, f"{fault_id}:drop")
    assert get(mock).status_code == 200
    [fault] = mock.faults
    assert (fault["id"], fault["armed"], fault["fired"]) == (fault_id, False, 1)
    assert fault["fault"] == {"match": {"method": "GET", "path": LIST}, "drop": True, "times": 1}


def test_rate_limit_next_answers_429_with_retry_after(mock: MockHandle) -> None:
    mock.rate_limit_next(retry_after=30, path="/api/v3/credential/*", times=2)
    for _ in range(2):
        r = get(mock)
        assert r.status_code == 429 and r.headers["Retry-After"] == "30"
        assert r.json()["errno"] < 0
    assert get(mock).status_code == 200
    mock.rate_limit_next()  # any request, the default Retry-After
    r = get(mock)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    mock.rate_limit_next(times=None, method="POST")
    assert create_bybit(mock).status_code == 429 and get(mock).status_code == 200
    mock.reset()  # run-time faults go with the reset
    assert create_bybit(mock).status_code == 200 and mock.faults == []


def test_bad_drop_and_rate_limit_arguments_arm_nothing(mock: MockHandle) -> None:
    from cadenza_mock import ScenarioError

    with pytest.raises(ScenarioError, match="times"):
        mock.drop_next(times=0)
    with pytest.raises(ScenarioError, match="retry_after"):
        mock.rate_limit_next(retry_after=-1)
    with pytest.raises(ScenarioError, match="unknown method 'FETCH'"):
        mock.rate_limit_next(method="FETCH")
    assert mock.faults == [] and get(mock).status_code == 200


# --------------------------------------------------------------------------- strict mode's view


def test_unknown_requests_are_unknown_routes_and_methods_only(mock: MockHandle) -> None:
    get(mock, "/api/v3/credential/lst")  # a typo: unknown route
    requests.delete(mock.url_for(LIST), headers=mock.auth_headers, timeout=10)  # wrong method
    post(mock, REVOKE, {"credentialId": "00000000-0000-4000-8000-000000000000"})  # not found
    mock.fail_next(404, path="/api/v3/planned")
    get(mock, "/api/v3/planned")  # the test's own fault on a route the API lacks
    requests.head(mock.url_for(LIST), headers=mock.auth_headers, timeout=10)  # HEAD of a GET
    statuses = [(e.path, e.status) for e in mock.requests]
    assert statuses == [
        ("/api/v3/credential/lst", 404),
        (LIST, 405),
        (REVOKE, 404),
        ("/api/v3/planned", 404),
        (LIST, 200),
    ]
    assert [(e.method, e.path) for e in mock.unknown_requests()] == [
        ("GET", "/api/v3/credential/lst"),
        ("DELETE", LIST),
    ]
    with pytest.raises(AssertionError) as error:
        mock.assert_no_unknown_requests()
    assert str(error.value).splitlines() == [
        "cadenza-mock strict mode: 2 request(s) the Cadenza API does not know:",
        "  GET /api/v3/credential/lst -> 404 (unknown route)",
        f"  DELETE {LIST} -> 405 (wrong method)",
    ]
    mock.reset()
    mock.assert_no_unknown_requests()


def test_entries_with_hints_are_unknown_requests() -> None:
    """Hints come from the near-miss hinting; any entry carrying one counts."""
    from cadenza_mock.testing.handle import _describe_unknown, _unknown

    entry = JournalEntry(
        seq=1,
        time_ms=0,
        method="GET",
        path=LIST,
        query={"credentialStatus": ["ACTIVE"]},
        headers=Headers(),
        body=None,
        status=200,
        duration_ms=0.1,
        hints=("credentialStatus: the sdk profile's name; this mock serves docs: status",),
    )
    assert _unknown(entry)
    assert _describe_unknown(entry).splitlines() == [
        f"GET {LIST}?credentialStatus=ACTIVE -> 200",
        "    hint: credentialStatus: the sdk profile's name; this mock serves docs: status",
    ]


def test_a_404_on_a_channel_the_api_has_is_not_an_unknown_request() -> None:
    """A subscribe journals the channel as its path: a market channel naming no instrument
    is a 404 like a REST read of an unknown id (known route), a made-up prefix is not."""
    from cadenza_mock.testing.handle import _unknown

    def subscribe(channel: str) -> JournalEntry:
        return JournalEntry(
            seq=1, time_ms=0, method="SUBSCRIBE", path=channel, query={}, headers=Headers(),
            body=None, status=404, duration_ms=0.1,
        )  # fmt: skip

    assert not _unknown(subscribe("market:ticker:BINANCE:DOGE/USDT"))
    assert not _unknown(subscribe("tradingAccount:00000000-0000-4000-8000-000000000000"))
    assert _unknown(subscribe("markets:ticker:BINANCE"))


# --------------------------------------------------------------------------- remote errors


def test_remote_401_names_the_admin_token_option_and_variable(
    served: tuple[str, str],
) -> None:
    url, _ = served
    for given in (None, "wrong-token-never-shown"):
        with pytest.raises(RemoteError) as error:
            RemoteMock(url, admin_token=given).reset()
        text = str(error.value)
        assert "HTTP 401" in text
        assert "--cadenza-admin-token" in text and "CADENZA_MOCK_ADMIN_TOKEN" in text
        assert ADMIN_TOKEN not in text and "wrong-token-never-shown" not in text
        assert ("was refused" in text) == (given is not None)
    with pytest.raises(RemoteError) as missing:
        RemoteMock(url, admin_token=ADMIN_TOKEN).remove_fault("no-such-fault")
    assert "HTTP 404" in str(missing.value) and "--cadenza-admin-token" not in str(missing.value)


def test_requests_the_profile_does_not_know_carry_hints_and_count(mock: MockHandle) -> None:
    get(mock, params={"credentialStatus": "ACTIVE"})  # the sdk profile's name, under docs
    get(mock, params={"status": "ACTIVE"})
    [unknown] = mock.unknown_requests()
    assert unknown.seq == 1 and unknown.hints
    assert any("credentialStatus" in hint and "'status'" in hint for hint in unknown.hints)
    with pytest.raises(AssertionError) as error:
        mock.assert_no_unknown_requests()
    lines = str(error.value).splitlines()
    assert lines[1] == f"  GET {LIST}?credentialStatus=ACTIVE -> 200"
    assert lines[2].startswith("    hint: ") and "credentialStatus" in lines[2]


def test_without_hints_only_routes_and_methods_count() -> None:
    with MockServer(hints=False) as quiet:
        get(quiet, params={"credentialStatus": "ACTIVE"})
        assert quiet.last_call.hints == () and quiet.unknown_requests() == []


def test_admin_token_advice_for_403_and_other_statuses() -> None:
    from cadenza_mock.testing.remote import _token_advice

    locked = _token_advice(403, token_given=False)
    assert "--cadenza-admin-token" in locked and "CADENZA_MOCK_ADMIN_TOKEN" in locked
    assert "serve --admin-token" in locked
    assert "was refused" in _token_advice(403, token_given=True)
    assert _token_advice(404, token_given=False) == _token_advice(500, token_given=True) == ""


# --------------------------------------------------------------------------- answers


def test_entries_keep_the_answer_with_tokens_redacted_and_big_ones_as_a_size() -> None:
    """Each entry holds what the mock answered (the dashboard shows it): the JSON as sent,
    tokens in a login answer redacted, and an answer over MAX_KEPT_ANSWER only as its
    size, over REST (both the aiohttp path and the list fast path) and the WebSocket."""
    from cadenza_mock.engine.journal import MAX_KEPT_ANSWER

    many = {
        "users": [
            {
                "email": "big@example.com",
                "password": "pw-123456",
                "tokens": ["big-token"],
                "credentials": [{"generate": 200, "venue": "BINANCE"}],
            }
        ]
    }
    with MockServer(many) as mock:
        url = mock.url + "/api/v3/credential/list"
        with requests.Session() as session:
            first = session.get(url, headers=bearer("big-token"), timeout=10)
            second = session.get(url, headers=bearer("big-token"), timeout=10)  # fast path
        login = requests.post(
            mock.url + "/api/v3/auth/login",
            json={"email": "big@example.com", "password": "pw-123456"},
            timeout=10,
        )
        missing = requests.get(url + "?status=NOPE", headers=bearer("big-token"), timeout=10)
        assert len(first.content) > MAX_KEPT_ANSWER and second.content == first.content
        entries = mock.requests
        note = f"<answer of {len(first.content)} bytes, not kept>"
        assert [entries[0].response, entries[1].response] == [note, note]
        session_answer = entries[2].response["data"]
        assert session_answer["accessToken"] == "<redacted>"
        assert session_answer["refreshToken"] == "<redacted>"
        assert login.json()["data"]["accessToken"] not in json.dumps(entries[2].to_json())
        assert entries[3].response == missing.json() and entries[3].status == 400
        mock.load("default")
        small = requests.get(url, headers=bearer("alice-token"), timeout=10)
        assert mock.last_call.response == small.json()  # kept whole, as sent
        assert mock.last_call.to_json()["response"] == small.json()
        mock.add_fault({"match": {"path": "/api/v3/credential/list"}, "malformed": True})
        cut = requests.get(url, headers=bearer("alice-token"), timeout=10)
        assert mock.last_call.response == f"<non-JSON answer, {len(cut.content)} bytes>"

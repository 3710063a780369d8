"""MockServer and RemoteMock without pytest's plugin: the library the fixtures wrap."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cadenza_mock import MockServer
from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.run.server import HandlerError
from cadenza_mock.testing.handle import ScenarioCache
from cadenza_mock.testing.remote import RemoteError, RemoteMock

LIST = "/api/v3/credential/list"
REVOKE = "/api/v3/credential/revoke"
CREATE = "/api/v3/credential/create"
# scenarios/default.yaml: alice's explicit BINANCE record, ACTIVE (no status given)
BINANCE_ID = "660e8400-e29b-41d4-a716-446655440000"


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


def listed(mock: MockServer | RemoteMock) -> dict[str, str]:
    r = requests.get(mock.url + LIST, headers=mock.auth_headers, timeout=10)
    assert r.status_code == 200, r.text
    return {c["credentialId"]: c["status"] for c in r.json()["data"]}


def test_start_binds_a_free_port_and_stop_releases_it() -> None:
    server = MockServer("empty")
    assert server.port == 0 and not server.running
    server.start()
    try:
        assert server.running and server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            pass
        assert requests.get(server.url + LIST, headers=server.auth_headers).json()["data"] == []
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass
    server.stop()  # stopping twice is harmless


def test_start_twice_raises(mock: MockServer) -> None:
    with pytest.raises(RuntimeError, match=r"already running at http://127\.0\.0\.1:\d+"):
        mock.start()
    assert listed(mock)  # and the first one still serves


def test_a_taken_port_fails_start_in_the_caller(mock: MockServer) -> None:
    other = MockServer(port=mock.port)
    with pytest.raises(OSError):
        other.start()
    assert not other.running


def test_reset_restores_data_and_clears_the_journal(mock: MockServer) -> None:
    assert listed(mock)[BINANCE_ID] == "ACTIVE"
    r = requests.post(
        mock.url + REVOKE, headers=mock.auth_headers, json={"credentialId": BINANCE_ID}
    )
    assert r.status_code == 200
    assert listed(mock)[BINANCE_ID] == "REVOKED"
    assert len(mock.requests) == 3
    mock.reset()
    assert mock.requests == []
    assert listed(mock)[BINANCE_ID] == "ACTIVE"


def test_load_a_bad_scenario_raises_and_keeps_the_old_one(mock: MockServer) -> None:
    before = listed(mock)
    # An inline scenario's problems name the key path, no invented line numbers.
    where = r"<inline>: users\[0\]\.credentials\[0\]\.venue: .*NOT_A_VENUE"
    with pytest.raises(ScenarioError, match=where):
        mock.load(
            {"users": [{"email": "x@example.com", "credentials": [{"venue": "NOT_A_VENUE"}]}]}
        )
    with pytest.raises(ScenarioError, match="no bundled scenario 'nope'"):
        mock.load("nope")
    assert mock.scenario.name == "default"
    assert listed(mock) == before


def test_load_switches_scenario_and_use_resets_or_loads(mock: MockServer) -> None:
    default = mock.scenario
    mock.load("empty")
    assert listed(mock) == {}
    mock.use("default")
    # switching back reuses the cached Scenario object: no YAML re-parse
    assert mock.scenario is default
    requests.post(mock.url + REVOKE, headers=mock.auth_headers, json={"credentialId": BINANCE_ID})
    mock.use("default")  # same scenario: a reset
    assert mock.scenario is default and listed(mock)[BINANCE_ID] == "ACTIVE"


def test_a_scenario_file_edited_between_loads_is_reparsed(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("users:\n  - email: a@example.com\n    tokens: [t1]\n")
    cache = ScenarioCache()
    first = cache.get(path)
    assert cache.get(str(path)) is first
    path.write_text("users:\n  - email: b@example.com\n    tokens: [t2]\n")
    os.utime(path, ns=(1, 1))  # a distinct mtime even on coarse-timestamp filesystems
    assert cache.get(path).users[0].email == "b@example.com"


def test_handler_crash_surfaces_in_the_caller(mock: MockServer) -> None:
    def boom(*args: object, **kwargs: object) -> bytes:
        raise ZeroDivisionError("boom from the test")

    original = mock.state.store.pending_list
    mock.state.store.pending_list = boom  # type: ignore[method-assign]
    try:
        r = requests.get(mock.url + LIST, headers=mock.auth_headers)
    finally:
        mock.state.store.pending_list = original  # type: ignore[method-assign]
    assert r.status_code == 500 and r.json()["success"] is False
    with pytest.raises(HandlerError, match="crashed answering GET /api/v3/credential/list") as err:
        mock.check_handler_errors()
    assert isinstance(err.value.__cause__, ZeroDivisionError)
    mock.check_handler_errors()  # reported once


def test_api_errors_are_not_crashes(mock: MockServer) -> None:
    assert requests.get(mock.url + LIST).status_code == 401
    assert requests.get(mock.url + "/nowhere").status_code == 404
    mock.check_handler_errors()


def test_journal_assertions(mock: MockServer) -> None:
    mock.assert_not_called(LIST)
    requests.get(mock.url + LIST, headers=mock.auth_headers, params={"status": "ACTIVE"})
    [call] = mock.assert_called(LIST, method="get", times=1)
    assert call.query == {"status": ["ACTIVE"]} and call.status == 200
    with pytest.raises(AssertionError, match=r"requested 1 time\(s\), expected 2; requests: GET"):
        mock.assert_called(LIST, times=2)
    with pytest.raises(AssertionError, match="POST /api/v3/credential/list was never requested"):
        mock.assert_called(LIST, method="POST")


def test_secrets_stay_out_of_journal_repr_and_messages(mock: MockServer) -> None:
    body = {"venue": "BINANCE", "apiKey": "K" * 64, "apiSecret": "very-secret-value"}
    r = requests.post(mock.url + CREATE, headers=mock.auth_headers, json=body)
    assert r.status_code == 200 and "very-secret-value" not in r.text
    [call] = mock.requests
    assert call.body["apiSecret"] == "<redacted>" and call.headers["Authorization"] == "<redacted>"
    assert "K" * 64 not in repr(call)
    with pytest.raises(AssertionError) as err:
        mock.assert_called(LIST)
    for text in (str(err.value), repr(mock), repr(mock.users), repr(call)):
        assert "very-secret-value" not in text and mock.token not in text


def test_headers_for_another_user() -> None:
    with MockServer("multi-user") as server:
        users = server.users
        assert len(users) >= 2
        second = users[1]
        headers = server.headers_for(second.email)
        assert headers == {"Authorization": f"Bearer {second.tokens[0]}"}
        with pytest.raises(LookupError, match="no user 'nobody'"):
            server.headers_for("nobody")


# --------------------------------------------------------------------------- RemoteMock


@pytest.fixture
def remote(mock: MockServer) -> RemoteMock:
    return RemoteMock(mock.url).start()


def test_remote_mock_drives_a_server_through_the_admin_api(
    mock: MockServer, remote: RemoteMock, tmp_path: Path
) -> None:
    remote.load("default")
    assert remote.token == "alice-token" and remote.profile == "docs"
    requests.post(
        remote.url + REVOKE, headers=remote.auth_headers, json={"credentialId": BINANCE_ID}
    )
    assert listed(remote)[BINANCE_ID] == "REVOKED"
    [revoke, _] = remote.requests
    assert (revoke.method, revoke.path, revoke.body) == (
        "POST",
        REVOKE,
        {"credentialId": BINANCE_ID},
    )
    remote.reset()
    assert remote.requests == [] and listed(remote)[BINANCE_ID] == "ACTIVE"
    # a dict, a path and a name all load on the server, not just locally
    remote.load({"users": [{"email": "r@example.com", "tokens": ["r-token"]}]})
    assert mock.scenario.users[0].email == "r@example.com" and remote.token == "r-token"
    path = tmp_path / "remote.yaml"
    path.write_text("users:\n  - email: f@example.com\n    tokens: [f-token]\n")
    remote.load(path)
    assert mock.scenario.users[0].email == "f@example.com"
    remote.load("empty")
    assert mock.scenario.name == "empty" and listed(remote) == {}
    remote.clear_requests()
    assert remote.requests == []


def test_remote_bad_scenario_raises_locally_and_leaves_the_server(
    mock: MockServer, remote: RemoteMock
) -> None:
    remote.load("revoked")
    with pytest.raises(ScenarioError, match="NOT_A_VENUE"):
        remote.load(
            {"users": [{"email": "x@example.com", "credentials": [{"venue": "NOT_A_VENUE"}]}]}
        )
    assert mock.scenario.name == "revoked"


def test_remote_admin_token() -> None:
    with MockServer(admin_token="t0p-admin-s3cret") as server:
        denied = RemoteMock(server.url)
        with pytest.raises(RemoteError, match="HTTP 401") as err:
            denied.load("empty")
        assert "t0p-admin-s3cret" not in str(err.value)
        allowed = RemoteMock(server.url, admin_token="t0p-admin-s3cret")
        allowed.load("empty")
        assert server.scenario.name == "empty"
        assert "t0p-admin-s3cret" not in repr(allowed)


def test_remote_unreachable_and_bad_urls() -> None:
    with pytest.raises(RemoteError, match=r"cannot reach cadenza-mock at http://127\.0\.0\.1:9"):
        RemoteMock("http://127.0.0.1:9", timeout=5).start()
    with pytest.raises(ValueError, match="must look like http://host:port, got 'localhost:8080'"):
        RemoteMock("localhost:8080")


# --------------------------------------------------------------------------- clock, state, faults


@pytest.fixture(params=["local", "remote"])
def handle(request: pytest.FixtureRequest, mock: MockServer) -> MockServer | RemoteMock:
    """The same fixture API in-process and over the admin API (`--cadenza-url` mode)."""
    return mock if request.param == "local" else RemoteMock(mock.url).start()


def _user(handle: MockServer | RemoteMock) -> requests.Response:
    return requests.get(handle.url + "/api/v3/auth/user", headers=handle.auth_headers, timeout=10)


def test_clock_advances_without_sleeping_and_expires_an_issued_token(
    handle: MockServer | RemoteMock,
) -> None:
    start = handle.now_ms
    # default.yaml freezes the clock at its `now`: 2026-01-15T12:00:00Z
    assert start == 1_768_478_400_000
    login = requests.post(
        handle.url + "/api/v3/auth/login",
        json={"email": "alice@example.com", "password": "correct-horse"},
        timeout=10,
    ).json()["data"]
    bearer = {"Authorization": f"Bearer {login['accessToken']}"}
    assert requests.get(handle.url + "/api/v3/auth/user", headers=bearer, timeout=10).ok
    assert handle.advance(3600) == start + 3_600_000 == handle.now_ms
    expired = requests.get(handle.url + "/api/v3/auth/user", headers=bearer, timeout=10)
    assert expired.status_code == 401 and expired.json()["error"] == "Unauthorized: token expired"
    handle.reset()
    assert handle.now_ms == start


def test_credential_inspection_excludes_secrets(handle: MockServer | RemoteMock) -> None:
    record = handle.credential(BINANCE_ID.upper())
    assert record["credentialId"] == BINANCE_ID and record["status"] == "ACTIVE"
    assert record["keysValid"] is True and record["hasApiSecret"] is True
    assert record["apiKey"] == "abc123***"
    text = repr(handle.credentials())
    assert "binance-secret-never-served" not in text and "okx-passphrase" not in text
    assert "abc123def456" not in text
    requests.post(
        handle.url + REVOKE, headers=handle.auth_headers, json={"credentialId": BINANCE_ID}
    )
    revoked = handle.credential(BINANCE_ID)
    assert revoked["status"] == "REVOKED" and revoked["revokedAt"] == revoked["updatedAt"]
    assert len(handle.credentials("alice@example.com")) == len(handle.credentials()) == 4
    assert handle.credentials("nobody@example.com") == []
    with pytest.raises(KeyError, match="no credential"):
        handle.credential("00000000-0000-4000-8000-000000000000")


def test_fail_next_and_delay_next_arm_faults_that_reset_clears(
    handle: MockServer | RemoteMock,
) -> None:
    fault_id = handle.fail_next(503, path=LIST)
    assert [f["id"] for f in handle.faults] == [fault_id]
    failed = requests.get(handle.url + LIST, headers=handle.auth_headers, timeout=10)
    assert failed.status_code == 503 and failed.json()["errno"] == -22000
    assert requests.get(handle.url + LIST, headers=handle.auth_headers, timeout=10).ok
    delayed = handle.delay_next(5, path=LIST)
    with pytest.raises(requests.Timeout):
        requests.get(handle.url + LIST, headers=handle.auth_headers, timeout=0.3)
    handle.remove_fault(delayed)
    handle.fail_next(429, times=None)
    assert _user(handle).status_code == 429
    handle.clear_faults()
    assert handle.faults == [] and _user(handle).ok
    handle.fail_next(500)
    handle.reset()
    assert handle.faults == [] and _user(handle).ok


def test_bad_fault_spec_raises_before_anything_is_armed(handle: MockServer | RemoteMock) -> None:
    with pytest.raises(ScenarioError, match=r"respond\.status"):
        handle.add_fault({"respond": {"status": "teapot"}})
    assert handle.faults == []


def _raw(mock: MockServer, request: bytes) -> tuple[bytes, dict[str, object]]:
    """The status line and parsed envelope of one raw request's answer."""
    with socket.create_connection(("127.0.0.1", mock.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            more = sock.recv(65536)
            if not more:
                break
            data += more
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), head
    return head.split(b"\r\n")[0], json.loads(body)


def test_options_star_is_answered_in_the_envelope(mock: MockServer) -> None:
    status, body = _raw(mock, b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == b"HTTP/1.1 404 Not Found"
    assert body["errno"] == -19003 and body["success"] is False


def test_a_plain_get_of_the_websocket_endpoint_is_a_400_envelope(mock: MockServer) -> None:
    request = b"GET /connection/websocket HTTP/1.1\r\nHost: localhost\r\n\r\n"
    status, body = _raw(mock, request)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert body["errno"] == -19001 and "WebSocket endpoint" in str(body["error"])


def test_a_corrupt_gzip_body_is_a_400_and_no_error_in_the_log(serve) -> None:
    server = serve("--scenario", "default")
    url, token = server.banner()
    answer = requests.post(
        url + CREATE,
        data=b"\x1f\x8b\x08\x00not gzip at all",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["errno"] == -19001
    code, output = server.stop()
    assert code == 0
    assert " ERROR " not in output and "Traceback" not in output
    assert "could not read a request body (RequestPayloadError)" in output


def test_a_load_gives_back_what_serve_froze_at_start() -> None:
    import gc
    import weakref

    from cadenza_mock.engine.state import MockState
    from cadenza_mock.run.foreground import refreeze_after_load

    gc.collect()
    gc.disable()
    try:  # as serve_forever builds its state
        state = MockState("many")
    finally:
        gc.freeze()
        gc.enable()
    try:
        state.on_reset.append(refreeze_after_load(state))
        first = weakref.ref(state.scenario)
        state.reset()  # the same scenario: nothing to give back
        assert first() is not None
        state.load("default")
        assert first() is None  # the scenario frozen at start is gone
    finally:
        gc.unfreeze()

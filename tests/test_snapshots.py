"""Snapshots: `snapshot()`/`rollback()` and their admin verbs bring data, clock
and faults back exactly, in-process and against a real `serve`, and never show a secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support import LIST

from cadenza_mock.run.server import MockServer
from cadenza_mock.testing.remote import RemoteError, RemoteMock

CREATE = "/api/v3/credential/create"
REVOKE = "/api/v3/credential/revoke"
SECRET = "snapshot-secret-never-served"
KEY = "snapKEY" + "x" * 57


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(scenario="default") as server:
        yield server


def create(mock: MockServer | RemoteMock, name: str) -> str:
    got = requests.post(
        mock.url_for(CREATE),
        headers=mock.auth_headers,
        json={"venue": "BINANCE", "name": name, "apiKey": KEY + name[:1], "apiSecret": SECRET},
    )
    assert got.status_code == 200, got.text
    return str(got.json()["data"]["credentialId"])


def listed(mock: MockServer | RemoteMock) -> bytes:
    return requests.get(mock.url_for(LIST), headers=mock.auth_headers).content


def test_rollback_brings_back_data_clock_and_faults(mock: MockServer) -> None:
    kept = create(mock, "kept")
    mock.fail_next(503, path=LIST, times=2)
    assert requests.get(mock.url_for(LIST), headers=mock.auth_headers).status_code == 503
    saved_list, saved_clock, saved_faults = None, mock.now_ms, mock.faults
    snapshot = mock.snapshot()
    # One armed answer is left; after it, the list as it is at the snapshot.
    assert requests.get(mock.url_for(LIST), headers=mock.auth_headers).status_code == 503
    saved_list = listed(mock)
    credentials = mock.credentials()

    mock.rollback(snapshot)  # the fault's second answer comes back too
    assert requests.get(mock.url_for(LIST), headers=mock.auth_headers).status_code == 503
    assert listed(mock) == saved_list

    requests.post(mock.url_for(REVOKE), headers=mock.auth_headers, json={"credentialId": kept})
    create(mock, "gone")
    mock.advance(3600)
    mock.rollback(snapshot)
    assert mock.now_ms == saved_clock and mock.faults == saved_faults
    assert requests.get(mock.url_for(LIST), headers=mock.auth_headers).status_code == 503
    assert listed(mock) == saved_list and mock.credentials() == credentials
    mock.rollback(snapshot)  # as often as asked
    assert mock.now_ms == saved_clock


def test_sessions_and_logouts_are_part_of_it(mock: MockServer) -> None:
    snapshot = mock.snapshot()
    assert requests.post(mock.url_for("/api/v3/auth/logout"), headers=mock.auth_headers).ok
    assert requests.get(mock.url_for(LIST), headers=mock.auth_headers).status_code == 401
    mock.rollback(snapshot)
    assert requests.get(mock.url_for(LIST), headers=mock.auth_headers).status_code == 200


def test_reset_keeps_snapshots_and_load_forgets_them(mock: MockServer) -> None:
    create(mock, "one")
    snapshot = mock.snapshot()
    mock.reset()
    assert len(mock.credentials()) == 4
    mock.rollback(snapshot)
    assert len(mock.credentials()) == 5
    mock.load("empty")
    with pytest.raises(KeyError, match=r"no snapshot 'snapshot-1' .*none since the last load"):
        mock.rollback(snapshot)
    assert mock.scenario.name == "empty" and mock.credentials() == []


def test_an_unknown_snapshot_is_a_clear_404(mock: MockServer) -> None:
    taken = mock.snapshot()
    got = requests.post(mock.url_for("/__admin/snapshots/nope/restore"))
    assert got.status_code == 404
    assert got.json()["error"] == f"No snapshot 'nope' (snapshots: {taken})"
    with pytest.raises(KeyError, match=f"no snapshot 'nope' \\(snapshots: {taken}\\)"):
        mock.rollback("nope")


def test_the_admin_verbs_and_a_remote_mock(serve) -> None:
    server = serve("--scenario", "default")
    url, _ = server.banner()
    with RemoteMock(url) as remote:
        remote.use("default")
        before = listed(remote)
        taken = requests.post(f"{url}/__admin/snapshots")
        assert taken.status_code == 200
        assert taken.json()["data"] == {"id": "snapshot-1", "scenario": "default"}
        create(remote, "remote")
        assert listed(remote) != before
        restored = requests.post(f"{url}/__admin/snapshots/snapshot-1/restore")
        assert restored.json()["data"] == {"id": "snapshot-1", "scenario": "default"}
        assert listed(remote) == before
        second = remote.snapshot()
        create(remote, "again")
        remote.rollback(second)
        assert listed(remote) == before
        with pytest.raises(RemoteError, match="No snapshot 'missing'"):
            remote.rollback("missing")
    code, output = server.stop()
    assert code == 0 and SECRET not in output and KEY not in output


def test_no_secret_in_any_snapshot_answer(mock: MockServer) -> None:
    create(mock, "secret")
    answers = [requests.post(mock.url_for("/__admin/snapshots")) for _ in range(2)]
    answers.append(requests.post(mock.url_for("/__admin/snapshots/snapshot-1/restore")))
    for answer in answers:
        assert answer.status_code == 200
        assert SECRET not in answer.text and KEY not in answer.text

"""`serve --state-file`: one server per file (a lock), a file past the limits of what a
writer produces refused at start in one line with its place named, the file readable by
its owner only, and writes built from a snapshot (off the event loop). Over `serve`
subprocesses and `MockServer`, reusing test_state_file's helpers."""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from support import ALICE, LIST, run_cli
from test_state_file import (
    ServeFn,
    _changed_state,
    _state_of_default,
    _without_time,
    create,
    listed,
    ok,
    post,
    stopped,
    temp_files,
    wait_for,
)

from cadenza_mock import MockServer, StateFileError
from cadenza_mock.contract.schemas import MAX_JSON_DEPTH
from cadenza_mock.engine import persist
from cadenza_mock.engine.clock import LAST_MS
from cadenza_mock.engine.fingerprints import SALT_BYTES
from cadenza_mock.engine.state import MockState

API = "/api/v3"
HELD = "another cadenza-mock"
# scenarios/default.yaml: alice's verified credential (_changed_state connects it once)
VERIFIED_ID = "7843ed3a-2966-4484-8fd5-1ae511c53f52"
# scenarios/default.yaml's frozen clock (`now: 2026-01-15T12:00:00Z`), in ms
DEFAULT_NOW_MS = 1_768_478_400_000


def lock_of(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


def refused_start(state: Path, *more: str) -> str:
    """`serve` on `state` must stop at start: exit 2, one line on stderr naming the file,
    no traceback, nothing served; returns that line."""
    result = run_cli("serve", "--port", "0", "--state-file", str(state), *more)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cadenza-mock: state file {state}: "), lines[0]
    assert "Traceback" not in result.stderr and "curl" not in result.stdout
    return lines[0]


# ----------------------------------------------------------------- one server per file


def test_a_second_server_on_the_same_file_is_refused_and_changes_nothing(
    tmp_path: Path, serve: ServeFn
) -> None:
    state = tmp_path / "state.json"
    first = serve("--state-file", str(state))
    url, _ = first.banner()
    made = create(url, "BYBIT", "bybitLOCKkey000111", "lock-secret-value-1")
    wait_for(lambda: state.exists() and made["credentialId"] in state.read_text())
    before = state.read_bytes()

    # As the README shows it.
    assert refused_start(state) == (
        f"cadenza-mock: state file {state}: another cadenza-mock (process "
        f"{first.process.pid}) holds it (lock {lock_of(state)}); stop that one first, or "
        "give this one another state file"
    )
    assert state.read_bytes() == before and temp_files(tmp_path) == []
    # The first one goes on serving and writing, its ids its own.
    later = create(url, "KRAKEN", "krakenLOCKkey00011", "lock-secret-value-2")
    wait_for(lambda: later["credentialId"] in state.read_text())
    stopped(first)
    # Once it has stopped, the file is free again, with both records in it.
    again = serve("--state-file", str(state))
    url, _ = again.banner()
    ids = {c["credentialId"] for c in listed(url)}
    assert {made["credentialId"], later["credentialId"]} <= ids
    stopped(again)


def test_a_killed_server_leaves_no_lock_behind(tmp_path: Path, serve: ServeFn) -> None:
    state = tmp_path / "state.json"
    first = serve("--state-file", str(state))
    url, _ = first.banner()
    made = create(url, "BYBIT", "bybitKILLEDkey0011", "x")
    wait_for(lambda: state.exists() and made["credentialId"] in state.read_text())
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    assert lock_of(state).exists()  # left behind, but nobody holds it
    second = serve("--state-file", str(state))
    url, _ = second.banner()
    assert made["credentialId"] in {c["credentialId"] for c in listed(url)}
    stopped(second)


def test_the_lock_file_holds_the_process_id_only_and_both_files_are_private(
    tmp_path: Path, serve: ServeFn
) -> None:
    state = tmp_path / "state.json"
    # A file that was readable by all (copied in, say) is private after the next write.
    state.write_bytes(_state_of_default(tmp_path))
    state.chmod(0o644)
    token = "admin-token-for-the-lock-test"
    served = serve("--state-file", str(state), "--admin-token", token)
    url, _ = served.banner()
    assert lock_of(state).read_text() == f"{served.process.pid}\n"
    create(url, "KRAKEN", "krakenPRIVATEkey01", "private-secret-value")
    stopped(served)
    for path in (state, lock_of(state)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert lock_of(state).read_text() == f"{served.process.pid}\n"  # not cleared at exit
    assert "private-secret-value" not in state.read_text() and token not in state.read_text()


def test_mock_server_takes_the_same_lock(tmp_path: Path, serve: ServeFn) -> None:
    state = tmp_path / "state.json"
    with MockServer(state_file=state) as mock:
        made = create(mock.url, "BYBIT", "bybitMOCKLOCKkey01", "x")
        assert HELD in refused_start(state)
        with pytest.raises(StateFileError, match=f"state file {state}: {HELD}"):
            MockServer(state_file=state)
        assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 200
    # stop() let it go: a serve process takes it, and then MockServer is the one refused.
    served = serve("--state-file", str(state))
    url, _ = served.banner()
    assert made["credentialId"] in {c["credentialId"] for c in listed(url)}
    with pytest.raises(StateFileError, match=HELD):
        MockServer(state_file=state)
    stopped(served)


def test_a_stopped_mock_server_must_lock_again_to_start(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    mock = MockServer(state_file=state)
    mock.start()
    mock.stop()
    other = MockServer(state_file=state)  # free since stop()
    with pytest.raises(StateFileError, match=HELD):
        mock.start()
    assert not mock.running
    with other:
        assert requests.get(other.url + LIST, headers=ALICE, timeout=10).status_code == 200
    with mock:  # free again
        assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 200


def test_without_flock_the_file_is_served_unlocked_and_the_log_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Where there is no flock (Windows) nothing is locked, and nothing crashes."""
    monkeypatch.setattr(persist.StateLock, "supported", False)
    state = tmp_path / "state.json"
    with caplog.at_level(logging.WARNING, logger="cadenza_mock"), MockServer(state_file=state):
        assert any("not locked" in r.getMessage() for r in caplog.records)
        assert not lock_of(state).exists()
        with MockServer(state_file=state) as second:  # unlocked: nothing refuses it
            assert second.running


# ----------------------------------------------------------------- past the limits


def _line_and_column(text: str, needle: str) -> tuple[int, int]:
    """(line, column), 1-based, where `needle` starts in `text`."""
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)


def _deep(good: bytes) -> tuple[bytes, str]:
    """loggedOutTokens nested 100,000 deep; the place is its first bracket past the limit
    (the document is level 1, `credentials` 2, so the k-th bracket is level k + 2)."""
    field = b'"loggedOutTokens": '
    bad = good.replace(field + b"[]", field + b"[" * 100_000 + b"]" * 100_000)
    line, column = _line_and_column(bad.decode(), '"loggedOutTokens": [')
    column += len('"loggedOutTokens": ') + (MAX_JSON_DEPTH + 1 - 2) - 1
    return bad, f"line {line}, column {column}: nested deeper than {MAX_JSON_DEPTH} levels"


def _long_number(good: bytes) -> tuple[bytes, str]:
    field = b'"created": '
    bad = good.replace(field + b"1,", field + b"7" * 5_000 + b",")
    line, column = _line_and_column(bad.decode(), '"created": 7')
    column += len('"created": ')
    return bad, f"line {line}, column {column}: an integer longer than 4300 digits"


def _edit(good: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    document = json.loads(good)
    edit(document)
    return persist.encode(document)


def _salt(value: str) -> Callable[[bytes], tuple[bytes, str]]:
    def make(good: bytes) -> tuple[bytes, str]:
        bad = _edit(good, lambda d: d.update(salt=value))
        return bad, f"document.salt: expected {2 * SALT_BYTES} hex digits"

    return make


def _clock(offset: int, message: str) -> Callable[[bytes], tuple[bytes, str]]:
    def make(good: bytes) -> tuple[bytes, str]:
        return _edit(good, lambda d: d["clock"].update(offsetMs=offset)), message

    return make


def _created_at(good: bytes) -> tuple[bytes, str]:
    def edit(document: dict[str, Any]) -> None:
        document["credentials"]["records"][0]["createdAt"] = LAST_MS + 1

    message = f"credentials.records[0].createdAt: expected a whole number from 0 to {LAST_MS}"
    return _edit(good, edit), message


PAST_LIMITS: dict[str, Callable[[bytes], tuple[bytes, str]]] = {
    "nested 100,000 deep": _deep,
    "a 5,000-digit integer": _long_number,
    "an empty salt": _salt(""),
    "a short salt": _salt("00ff"),
    "a salt with spaces": _salt("00 ff" * 8),  # 32 hex digits, which bytes.fromhex takes
    "a clock one ms past the year 9999": _clock(
        LAST_MS - DEFAULT_NOW_MS + 1, "clock.offsetMs: moves the clock past the year 9999"
    ),
    "a clock past any time": _clock(
        10**30, f"clock.offsetMs: expected a whole number from 0 to {LAST_MS}"
    ),
    "a record's time past the year 9999": _created_at,
}


@pytest.mark.parametrize("case", sorted(PAST_LIMITS))
def test_a_file_past_the_limits_is_refused_in_one_line_and_left_as_it_is(
    tmp_path: Path, case: str
) -> None:
    good = _state_of_default(tmp_path)
    assert b'"created": 1,' in good and b'"loggedOutTokens": []' in good
    bad, message = PAST_LIMITS[case](good)
    assert bad != good
    state = tmp_path / "state.json"
    state.write_bytes(bad)
    line = refused_start(state)
    assert message in line, line
    assert state.read_bytes() == bad and temp_files(tmp_path) == []


def test_the_clock_may_be_restored_to_the_last_instant_and_answers(
    tmp_path: Path, serve: ServeFn
) -> None:
    """The bound is exact: the last millisecond of the year 9999 is fine, and the clock and
    health answer (rather than 500) with it."""
    state = tmp_path / "state.json"
    state.write_bytes(_clock(LAST_MS - DEFAULT_NOW_MS, "")(_state_of_default(tmp_path))[0])
    served = serve("--state-file", str(state))
    url, _ = served.banner()
    clock = requests.get(url + "/__admin/clock", timeout=10)
    assert clock.status_code == 200, clock.text
    assert clock.json()["data"]["nowDateTime"] == "9999-12-31T23:59:59.999Z"
    assert requests.get(url + f"{API}/health", timeout=10).status_code == 200
    assert post(url, "/__admin/clock", {"advance": 0.001}, {})["success"] is False  # no further
    stopped(served)


# ----------------------------------------------------------------- writes from a snapshot


def test_a_snapshot_is_the_state_when_it_was_taken() -> None:
    """The writer's thread builds the document from a snapshot while requests go on
    changing the state: it must hold the state as it was, not as it has become."""
    state = _changed_state()
    expected = _without_time(persist.state_document(state))
    snap = persist.snapshot(state)
    alice = state.scenario.users[0]
    made = state.store.create(alice, venue="KRAKEN", api_key="krakenLATERkey0011", api_secret="x")
    state.store.revoke(alice, made.credential_id)
    state.store.connect(alice, [VERIFIED_ID], external_id="margin")
    state.store.sessions.login("alice@example.com", "correct-horse")
    state.clock.advance(60)
    assert _without_time(persist.document_of(snap)) == expected
    assert _without_time(persist.state_document(state)) != expected


def test_a_big_state_round_trips_through_the_file(tmp_path: Path) -> None:
    """One record to a line: the file still reads back as the document it was made from."""
    state = MockState("default")
    alice = state.scenario.users[0]
    for index in range(300):
        state.store.create(alice, venue="BYBIT", api_key=f"bybitMANY{index:09d}", api_secret="s")
    document = persist.state_document(state)
    path = tmp_path / "state.json"
    persist.write_file(path, persist.encode(document))
    assert json.loads(path.read_bytes()) == document
    lines = path.read_text().splitlines()
    assert sum('"credentialId"' in line for line in lines) == 300
    restored = MockState("default")
    persist.restore(restored, persist.read_document(path) or {})
    assert _without_time(persist.state_document(restored)) == _without_time(document)


def test_changes_made_while_writes_are_under_way_all_reach_the_file(tmp_path: Path) -> None:
    """None is lost between one snapshot and the next."""
    state = tmp_path / "state.json"

    def written() -> dict[str, str]:
        try:
            records = json.loads(state.read_bytes())["credentials"]["records"]
        except (OSError, ValueError):
            return {}
        return {r["credentialId"]: r["status"] for r in records}

    with MockServer(state_file=state) as mock:
        made = [
            create(mock.url, "BYBIT", f"bybitSNAPkey{index:06d}", "x")["credentialId"]
            for index in range(40)
        ]
        revoked = made[::3]
        for cid in revoked:
            ok(post(mock.url, f"{API}/credential/revoke", {"credentialId": cid}))
        expected = {cid: "REVOKED" if cid in revoked else "ACTIVE" for cid in made}
        wait_for(lambda: written() == expected)
    assert written() == expected
    assert set(os.listdir(tmp_path)) == {"state.json", "state.json.lock"}


def test_a_write_encodes_again_only_the_records_changed_since_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The writer keeps each record's line while the record is unchanged; what it writes is
    still the whole document, after changes, a reset, a restore (another salt) or a load."""
    made: list[str] = []
    real = persist._credential_json

    def counted(cred: Any, *args: Any) -> Any:
        made.append(cred.credential_id)
        return real(cred, *args)

    monkeypatch.setattr(persist, "_credential_json", counted)
    state = _changed_state()
    lines = persist.RecordLines()

    def rewritten() -> list[str]:
        """The credentials the writer encoded again; what it wrote must be the document."""
        expected = _without_time(persist.state_document(state))
        made.clear()
        text = persist.encode(persist.document_of(persist.snapshot(state), lines))
        assert _without_time(json.loads(text)) == expected
        return list(made)

    assert len(rewritten()) == 2  # both records, the first time
    alice = state.scenario.users[0]
    extra = state.store.create(alice, venue="KRAKEN", api_key="krakenLINESkey0011", api_secret="x")
    assert rewritten() == [extra.credential_id]
    state.store.revoke(alice, extra.credential_id)
    assert rewritten() == [extra.credential_id]
    assert rewritten() == []  # nothing changed
    state.store.connect(alice, [VERIFIED_ID], external_id="margin")
    assert rewritten() == []
    state.reset()
    assert rewritten() == []  # nothing left to write
    document = persist.state_document(_changed_state())  # another store, another salt
    persist.restore(state, document)
    assert state.store.salt.hex() == document["salt"]
    assert len(rewritten()) == 2
    state.load("revoked")
    assert rewritten() == []  # the revoked scenario, unchanged

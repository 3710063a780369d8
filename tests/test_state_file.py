"""`serve --state-file` and `MockServer(state_file=)`: state kept over a restart, never a
secret in the file, and a bad file refused at start and left as it is. Over real sockets
(a `serve` subprocess, SIGTERM, a new one on the same file) and in-process where the
engine's own guarantees (all-or-nothing restore, atomic writes) are checked."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from centrifuge import Client
from support import ALICE, LIST, Served, bearer, run_cli, write

from cadenza_mock import MockServer, StateFileError
from cadenza_mock.contract.errors import ApiError
from cadenza_mock.engine import persist
from cadenza_mock.engine.state import MockState

API = "/api/v3"
J = {"Content-Type": "application/json"}
# scenarios/default.yaml: alice's explicit BINANCE record (ACTIVE), her login
BINANCE_ID = "660e8400-e29b-41d4-a716-446655440000"
LOGIN = {"email": "alice@example.com", "password": "correct-horse"}

ServeFn = Callable[..., Served]


def post(url: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    r = requests.post(url + path, json=body, headers=headers or ALICE, timeout=10)
    return r.json()


def ok(answer: Any) -> Any:
    assert answer["success"], answer
    return answer["data"]


def listed(url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    r = requests.get(url + LIST, headers=headers or ALICE, timeout=10)
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def create(url: str, venue: str, key: str, secret: str, **more: str) -> dict[str, Any]:
    body = {"venue": venue, "apiKey": key, "apiSecret": secret, **more}
    return dict(ok(post(url, f"{API}/credential/create", body)))


def wait_for(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def stopped(served: Served) -> str:
    code, output = served.stop()
    assert code == 0, output
    return output


# ----------------------------------------------------------------- over a restart


def test_what_users_changed_survives_sigterm_and_restart(tmp_path: Path, serve: ServeFn) -> None:
    state = tmp_path / "state.json"
    first = serve("--state-file", str(state))
    url, _ = first.banner()
    kept = create(url, "BYBIT", "bybitKEY1234567890", "bybit-secret", name="bybit bot")
    gone = create(url, "KRAKEN", "krakenKEY123456789", "kraken-secret")
    rotated = ok(
        post(
            url,
            f"{API}/credential/rotate",
            {
                "credentialId": kept["credentialId"],
                "apiKey": "newBybitKEY0987654",
                "apiSecret": "s2",
            },
        )
    )
    ok(post(url, f"{API}/credential/revoke", {"credentialId": gone["credentialId"]}))
    ok(post(url, f"{API}/credential/revoke", {"credentialId": BINANCE_ID}))
    moved = ok(post(url, "/__admin/clock", {"advance": 3600}, J))
    # The rotate, right after its create, took 1 ms of the frozen clock with it.
    assert moved["offsetMs"] == 3600 * 1000 + 1
    session = ok(post(url, f"{API}/auth/login", LOGIN, J))
    before = listed(url)
    stopped(first)
    assert state.is_file() and temp_files(tmp_path) == []

    second = serve("--state-file", str(state))
    url, _ = second.banner()
    after = listed(url)
    assert after == before
    statuses = {c["credentialId"]: c["status"] for c in after}
    assert statuses[kept["credentialId"]] == "ACTIVE"
    assert statuses[gone["credentialId"]] == "REVOKED"
    assert statuses[BINANCE_ID] == "REVOKED"
    shown = next(c for c in after if c["credentialId"] == kept["credentialId"])
    assert shown["apiKey"] == "newByb***" and shown["updatedAt"] == rotated["updatedAt"]
    clock = requests.get(url + "/__admin/clock", timeout=10).json()["data"]
    assert clock["offsetMs"] == moved["offsetMs"]
    # The login survives: its access token works, its refresh token works once.
    me = requests.get(url + f"{API}/auth/user", headers=bearer(session["accessToken"]), timeout=10)
    assert me.status_code == 200 and me.json()["data"]["email"] == LOGIN["email"]
    refresh = {"refreshToken": session["refreshToken"]}
    renewed = ok(post(url, f"{API}/auth/token/refresh", refresh, J))
    assert renewed["accessToken"] != session["accessToken"]
    assert post(url, f"{API}/auth/token/refresh", refresh, J)["errno"] == -100003
    # The next credential gets a new id, not one of those created before the restart.
    third = create(url, "COINBASE", "coinbaseKEY1234567", "c")
    assert third["credentialId"] not in statuses
    stopped(second)


def test_keys_are_still_recognised_after_a_restart(tmp_path: Path, serve: ServeFn) -> None:
    """Duplicate detection and rotated-away keys compare keys the file holds only as
    fingerprints."""
    state = tmp_path / "state.json"
    first = serve("--state-file", str(state))
    url, _ = first.banner()
    held = create(url, "BYBIT", "bybitHELDkey000111", "x")
    old = create(url, "OKX", "okxOLDkey000111222", "x", apiPassphrase="p")
    ok(
        post(
            url,
            f"{API}/credential/rotate",
            {
                "credentialId": old["credentialId"],
                "apiKey": "okxNEWkey000111222",
                "apiSecret": "y",
                "apiPassphrase": "q",
            },
        )
    )
    stopped(first)

    second = serve("--state-file", str(state))
    url, _ = second.banner()
    again = post(
        url,
        f"{API}/credential/create",
        {"venue": "BYBIT", "apiKey": "bybitHELDkey000111", "apiSecret": "x"},
    )
    assert again["errno"] == -22017, again  # Already exist
    # The same key on another venue is another key.
    create(url, "KRAKEN", "bybitHELDkey000111", "x")
    # A key rotated away before the restart is still invalid when added again.
    back = create(url, "OKX", "okxOLDkey000111222", "x", apiPassphrase="p")
    stored = requests.get(url + f"/__admin/credentials/{back['credentialId']}", timeout=10)
    assert stored.json()["data"]["keysValid"] is False
    fresh = create(url, "OKX", "okxOTHERkey0001112", "x", apiPassphrase="p")
    stored = requests.get(url + f"/__admin/credentials/{fresh['credentialId']}", timeout=10)
    assert stored.json()["data"]["keysValid"] is True
    restored = requests.get(url + f"/__admin/credentials/{held['credentialId']}", timeout=10)
    assert restored.json()["data"]["hasApiSecret"] is True
    assert restored.json()["data"]["apiKey"] == "bybitH***"
    stopped(second)


def test_trading_accounts_and_their_history_survive(tmp_path: Path, serve: ServeFn) -> None:
    state = tmp_path / "state.json"
    first = serve("--state-file", str(state))
    url, _ = first.banner()
    spot = ok(
        post(
            url,
            f"{API}/tradingAccount/connect",
            {"credentialIds": [BINANCE_ID], "externalTradingAccountId": "spot", "nickname": "s"},
        )
    )
    margin = ok(
        post(
            url,
            f"{API}/tradingAccount/connect",
            {"credentialIds": [BINANCE_ID], "externalTradingAccountId": "margin"},
        )
    )
    ok(
        post(
            url,
            f"{API}/tradingAccount/disconnect",
            {"tradingAccountId": margin["tradingAccountId"]},
        )
    )
    accounts = requests.get(url + f"{API}/tradingAccount/list", headers=ALICE, timeout=10).json()
    history = requests.get(
        url + f"{API}/tradingAccount/operation/list", headers=ALICE, timeout=10
    ).json()
    stopped(first)

    second = serve("--state-file", str(state))
    url, _ = second.banner()
    assert (
        requests.get(url + f"{API}/tradingAccount/list", headers=ALICE, timeout=10).json()
        == accounts
    )
    statuses = {a["tradingAccountId"]: a["status"] for a in accounts["data"]}
    assert statuses == {
        spot["tradingAccountId"]: "ACTIVE",
        margin["tradingAccountId"]: "DISCONNECTED",
    }
    now = requests.get(url + f"{API}/tradingAccount/operation/list", headers=ALICE, timeout=10)
    assert now.json() == history
    assert [op["operationType"] for op in history["data"]] == ["DISCONNECT", "CONNECT", "CONNECT"]
    # The connected account is still taken: connecting it again is refused.
    again = post(
        url,
        f"{API}/tradingAccount/connect",
        {"credentialIds": [BINANCE_ID], "externalTradingAccountId": "spot"},
    )
    assert not again["success"] and spot["tradingAccountId"] in again["error"]
    stopped(second)


def test_a_logged_out_static_token_stays_logged_out(tmp_path: Path, serve: ServeFn) -> None:
    state = tmp_path / "state.json"
    first = serve("--state-file", str(state))
    url, _ = first.banner()
    ok(post(url, f"{API}/auth/logout", {}))
    assert requests.get(url + LIST, headers=ALICE, timeout=10).status_code == 401
    stopped(first)
    second = serve("--state-file", str(state))
    url, _ = second.banner()
    assert requests.get(url + LIST, headers=ALICE, timeout=10).status_code == 401
    ok(post(url, "/__admin/reset", {}, J))
    assert requests.get(url + LIST, headers=ALICE, timeout=10).status_code == 200
    stopped(second)


def test_the_environment_variable_names_the_file(tmp_path: Path, serve: ServeFn) -> None:
    state = tmp_path / "from-env.json"
    served = serve(env={"CADENZA_MOCK_STATE_FILE": str(state)})
    url, _ = served.banner()
    made = create(url, "BYBIT", "bybitENVkey0001112", "x")
    stopped(served)
    assert made["credentialId"] in state.read_text()


# ----------------------------------------------------------------- when it is written


def test_a_change_is_written_without_a_signal(tmp_path: Path, serve: ServeFn) -> None:
    state = tmp_path / "state.json"
    served = serve("--state-file", str(state))
    url, _ = served.banner()
    assert not state.exists()  # nothing changed yet: no file
    made = create(url, "BYBIT", "bybitDEBOUNCEkey01", "x")
    wait_for(lambda: state.exists() and made["credentialId"] in state.read_text(), timeout=10)
    assert temp_files(tmp_path) == []
    served.process.kill()  # no chance to write at exit: what is there was written on change
    served.process.wait(timeout=10)
    document = json.loads(state.read_text())
    assert [r["credentialId"] for r in document["credentials"]["records"]] == [made["credentialId"]]


def test_a_steady_stream_of_changes_is_written_while_it_lasts(
    tmp_path: Path, serve: ServeFn
) -> None:
    """The debounce never waits for a quiet moment that does not come."""
    state = tmp_path / "state.json"
    served = serve("--state-file", str(state), "--quiet")
    url, _ = served.banner()
    made: list[str] = []
    seen_during: set[str] = set()
    end = time.monotonic() + 4.5
    while time.monotonic() < end:  # a change every 0.2 s: never 0.5 s of quiet
        if state.exists():  # looked at before each change: the stream has not ended
            seen_during.update(r["credentialId"] for r in _records(state))
        made.append(create(url, "BYBIT", f"bybitSTREAMkey{len(made):04d}", "x")["credentialId"])
        time.sleep(0.2)
    assert seen_during, "nothing was written during 4.5 s of steady changes"
    assert seen_during <= set(made[:-1])
    stopped(served)
    assert [r["credentialId"] for r in _records(state)] == made  # and all at exit


def test_a_write_that_fails_is_logged_and_tried_again(tmp_path: Path, serve: ServeFn) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    state = folder / "state.json"
    served = serve("--state-file", str(state))
    url, _ = served.banner()
    first = create(url, "BYBIT", "bybitRETRYkey00011", "x")
    wait_for(lambda: state.exists())
    state.unlink()
    (folder / "state.json.lock").unlink()  # the lock stays held, on the file as it was
    folder.rmdir()  # the folder is gone: the next writes fail
    second = create(url, "BYBIT", "bybitRETRYkey00022", "x")
    served.read_until("not written", timeout=10)
    assert requests.get(url + LIST, headers=ALICE, timeout=10).status_code == 200  # still serving
    folder.mkdir()
    # The log says so once the file is there again (waiting for the file alone would race
    # the SIGTERM below against that log line).
    served.read_until("written again", timeout=10)
    assert [r["credentialId"] for r in _records(state)] == [
        first["credentialId"],
        second["credentialId"],
    ]
    output = stopped(served)
    assert "written again" in output and output.count("not written") == 1, output


def _records(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())["credentials"]["records"])


def test_admin_reset_and_load_write_the_new_state(tmp_path: Path, serve: ServeFn) -> None:
    state = tmp_path / "state.json"
    served = serve("--state-file", str(state))
    url, _ = served.banner()
    create(url, "BYBIT", "bybitRESETkey00011", "x")
    wait_for(lambda: state.exists() and len(_records(state)) == 1)
    ok(post(url, "/__admin/reset", {}, J))
    wait_for(lambda: _records(state) == [])
    r = requests.put(url + "/__admin/scenario", json={"name": "empty"}, timeout=10)
    assert r.status_code == 200, r.text
    wait_for(lambda: json.loads(state.read_text())["scenario"]["name"] == "empty")
    stopped(served)
    # The file now belongs to 'empty': serving 'default' on it is refused, 'empty' is fine.
    refused = run_cli("serve", "--port", "0", "--state-file", str(state))
    assert refused.returncode == 2 and "'empty'" in refused.stderr
    again = serve("--state-file", str(state), "--scenario", "empty")
    again.banner()
    stopped(again)


# ----------------------------------------------------------------- no secret in the file

SECRETS = {
    "scenario key": "SCENARIOkeyVALUE000111222333",
    "scenario secret": "scenario-secret-value-A1",
    "scenario passphrase": "scenario-passphrase-B2",
    "password": "alice-password-value-C3",
    "created key": "CREATEDkeyVALUE0001112223",
    "created secret": "created-secret-value-D4",
    "created passphrase": "created-passphrase-E5",
    "rotated key": "ROTATEDkeyVALUE0001112223",
    "rotated secret": "rotated-secret-value-F6",
    "ws key": "WEBSOCKETkeyVALUE00011122",
    "ws secret": "websocket-secret-value-G7",
    "ws rotated key": "WSROTATEDkeyVALUE0001112",
    "ws rotated secret": "ws-rotated-secret-value-H8",
    "ws passphrase": "websocket-passphrase-L2",
    "ws rotated passphrase": "ws-rotated-passphrase-M3",
    "admin token": "admin-token-value-I9",
    "static token": "alice-static-token-J0",
}
SCENARIO_CRED = "11111111-1111-4111-8111-111111111111"
SECRET_SCENARIO = f"""\
profile: sdk
seed: 11
now: "2026-03-01T00:00:00Z"
users:
  - email: alice@example.com
    password: {SECRETS["password"]}
    tokens: [{SECRETS["static token"]}]
    credentials:
      - credentialId: {SCENARIO_CRED}
        venue: OKX
        apiKey: {SECRETS["scenario key"]}
        apiSecret: {SECRETS["scenario secret"]}
        apiPassphrase: {SECRETS["scenario passphrase"]}
"""


def leaked(text: str, extra: dict[str, str]) -> list[str]:
    # Masking keeps a key's first six characters: look for what comes after them.
    values = {**SECRETS, **extra}
    return [name for name, value in values.items() if value[6:] in text]


async def _over_websocket(url: str, token: str) -> str:
    """A credential created (for a trading account, as the WebSocket API's create wants)
    and rotated over the WebSocket; its id."""
    account = ok(
        post(
            url,
            f"{API}/tradingAccount/connect",
            {"credentialIds": [SCENARIO_CRED], "externalTradingAccountId": "trading"},
            bearer(token),
        )
    )
    client = Client(url.replace("http", "ws", 1) + "/connection/websocket", token=token)
    await client.connect()
    try:
        await client.ready(timeout=5)
        created = (
            await client.rpc(
                "command.credential.create",
                {
                    "tradingAccountId": account["tradingAccountId"],
                    "venue": "OKX",
                    "credentialType": "API_KEY",
                    "apiKey": SECRETS["ws key"],
                    "secretKey": SECRETS["ws secret"],
                    "secretPassphrase": SECRETS["ws passphrase"],
                },
            )
        ).data["data"]
        await client.rpc(
            "command.credential.rotate",
            {
                "credentialId": created["credentialId"],
                "credentialType": "API_KEY",
                "apiKey": SECRETS["ws rotated key"],
                "secretKey": SECRETS["ws rotated secret"],
                "secretPassphrase": SECRETS["ws rotated passphrase"],
            },
        )
        return str(created["credentialId"])
    finally:
        await client.disconnect()


async def test_the_file_never_holds_a_secret_before_or_after_a_restart(
    tmp_path: Path, serve: ServeFn
) -> None:
    scenario = write(tmp_path / "secrets.yaml", SECRET_SCENARIO)
    state = tmp_path / "state.json"
    admin = {"X-Admin-Token": SECRETS["admin token"]}
    args = ("--scenario", str(scenario), "--state-file", str(state))
    args += ("--admin-token", SECRETS["admin token"])
    first = serve(*args)
    url, token = first.banner()
    auth = bearer(token)
    made = ok(
        post(
            url,
            f"{API}/credential/create",
            {
                "venue": "OKX",
                "credentialType": "API_KEY",
                "apiKey": SECRETS["created key"],
                "apiSecret": SECRETS["created secret"],
                "apiPassphrase": SECRETS["created passphrase"],
            },
            auth,
        )
    )
    rotating = ok(
        post(
            url,
            f"{API}/credential/create",
            {
                "venue": "BINANCE",
                "credentialType": "API_KEY",
                "apiKey": "BEFOREROTATEkey000111",
                "apiSecret": "before-secret-K1",
            },
            auth,
        )
    )
    ok(
        post(
            url,
            f"{API}/credential/rotate",
            {
                "credentialId": rotating["credentialId"],
                "apiKey": SECRETS["rotated key"],
                "apiSecret": SECRETS["rotated secret"],
            },
            auth,
        )
    )
    ws_id = await _over_websocket(url, token)
    session = ok(
        post(
            url,
            f"{API}/auth/login",
            {"email": "alice@example.com", "password": SECRETS["password"]},
            J,
        )
    )
    tokens = {"access token": session["accessToken"], "refresh token": session["refreshToken"]}
    extra = {
        **tokens,
        "key before rotate": "BEFOREROTATEkey000111",
        "secret before": "before-secret-K1",
    }
    ok(post(url, "/__admin/clock", {"advance": 60}, {**J, **admin}))
    stopped(first)
    text = state.read_text()
    assert made["credentialId"] in text and ws_id in text  # the records are there...
    assert leaked(text, extra) == []  # ...and no secret of theirs

    second = serve(*args)
    url, _ = second.banner()
    # Still the same store: the keys are recognised, the session still works.
    again = post(
        url,
        f"{API}/credential/create",
        {
            "venue": "OKX",
            "credentialType": "API_KEY",
            "apiKey": SECRETS["ws rotated key"],
            "apiSecret": "z",
            "apiPassphrase": "z",
        },
        auth,
    )
    assert again["errno"] == -22017, again
    assert (
        requests.get(
            url + f"{API}/auth/user", headers=bearer(tokens["access token"]), timeout=10
        ).status_code
        == 200
    )
    ok(post(url, f"{API}/auth/token/refresh", {"refreshToken": tokens["refresh token"]}, J))
    ok(post(url, f"{API}/credential/revoke", {"credentialId": made["credentialId"]}, auth))
    stopped(second)
    rewritten = state.read_text()
    assert rewritten != text and '"REVOKED"' in rewritten
    assert leaked(rewritten, extra) == []


# ----------------------------------------------------------------- bad files at start


def _state_of_default(tmp_path: Path) -> bytes:
    """A real state file written by `serve` on the default scenario."""
    state = MockState("default")
    user = state.scenario.users[0]
    state.store.create(user, venue="BYBIT", api_key="bybitBADFILEkey001", api_secret="x")
    return persist.encode(persist.state_document(state))


def _damaged(document: dict[str, Any]) -> dict[str, Any]:
    document["credentials"]["records"][0]["createdAt"] = "yesterday"
    return document


BAD_FILES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "cut short": (lambda good: good[: len(good) // 2], "not valid JSON"),
    "not text": (lambda good: b"\xff\xfe\x00binary", "not a cadenza-mock state file"),
    "empty": (lambda good: b"", "not valid JSON"),
    "foreign JSON": (lambda good: b'{"users": []}', "not a cadenza-mock state file"),
    "a JSON list": (lambda good: b"[1, 2]", "not a cadenza-mock state file"),
    "another version": (
        lambda good: good.replace(b'"version": 4', b'"version": 5'),
        "state file version 5",
    ),
    "damaged record": (
        lambda good: persist.encode(_damaged(json.loads(good))),
        "credentials.records[0].createdAt: expected int",
    ),
    "a key not masked": (
        lambda good: good.replace(b'"bybitB***"', b'"bybitBADFILEkey001"'),
        "credentials.records[0].apiKey: expected a masked key",
    ),
    "another scenario": (
        lambda good: good.replace(b'"name": "default"', b'"name": "revoked"'),
        "written for scenario 'revoked'",
    ),
    "another seed": (
        lambda good: good.replace(b'"seed": 7', b'"seed": 8'),
        "(docs profile, seed 8), not 'default' (docs profile, seed 7)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_stops_the_start_and_is_left_as_it_is(tmp_path: Path, case: str) -> None:
    make, message = BAD_FILES[case]
    good = _state_of_default(tmp_path)
    bad = make(good)
    assert bad != good
    state = tmp_path / "state.json"
    state.write_bytes(bad)
    result = run_cli("serve", "--port", "0", "--state-file", str(state))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cadenza-mock: state file {state}: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr and "serving" not in result.stdout
    assert state.read_bytes() == bad
    assert temp_files(tmp_path) == []


def test_the_good_file_those_are_made_from_is_accepted(tmp_path: Path, serve: ServeFn) -> None:
    """The bad-file cases above change one thing each in this file, which works."""
    state = tmp_path / "state.json"
    state.write_bytes(_state_of_default(tmp_path))
    served = serve("--state-file", str(state))
    url, _ = served.banner()
    assert "bybitB***" in {c["apiKey"] for c in listed(url)}
    stopped(served)


@pytest.mark.parametrize("where", ["parent is a file", "path is a folder"])
def test_a_place_that_cannot_be_written_is_refused_at_start(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "blocker"
    if where == "parent is a file":
        blocker.write_text("not a folder")
        path = blocker / "state.json"
        message = "cannot be written"
    else:
        blocker.mkdir()
        path = blocker
        message = "is a folder"
    result = run_cli("serve", "--port", "0", "--state-file", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"cadenza-mock: state file {path}: ")
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_missing_folder_is_made(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "state.json"
    state = MockState("default")
    persist.check_writable(path)
    assert path.parent.is_dir() and list(path.parent.iterdir()) == []
    persist.write_file(path, persist.encode(persist.state_document(state)))
    assert json.loads(path.read_text())["format"] == "cadenza-mock-state"


# ----------------------------------------------------------------- the engine's guarantees


def _changed_state() -> MockState:
    state = MockState("default")
    store = state.store
    alice = state.scenario.users[0]
    made = store.create(alice, venue="BYBIT", api_key="bybitROUNDkey00011", api_secret="a")
    store.rotate(alice, made.credential_id, api_key="bybitROUNDkey00022", api_secret="b")
    store.revoke(alice, BINANCE_ID)
    store.connect(alice, ["7843ed3a-2966-4484-8fd5-1ae511c53f52"], external_id="spot")
    store.sessions.login(LOGIN["email"], LOGIN["password"])
    state.clock.advance(5)
    return state


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "writtenAt"}


def test_a_restored_state_writes_the_same_document() -> None:
    state = _changed_state()
    document = json.loads(persist.encode(persist.state_document(state)))
    restored = MockState("default")
    persist.restore(restored, document)
    again = json.loads(persist.encode(persist.state_document(restored)))
    assert _without_time(again) == _without_time(document)
    assert document["credentials"]["records"] and document["tradingAccounts"]["records"]
    assert document["sessions"]["tokens"]


def test_restore_is_all_or_nothing() -> None:
    document = json.loads(persist.encode(persist.state_document(_changed_state())))
    document["sessions"]["tokens"][-1]["userId"] = "not-a-user"
    state = MockState("default")
    before = persist.state_document(state)
    with pytest.raises(StateFileError, match=r"sessions: user 'not-a-user' is not in the scenario"):
        persist.restore(state, document)
    assert _without_time(persist.state_document(state)) == _without_time(before)
    assert list(state.store.all_credentials()) == list(MockState("default").store.all_credentials())


def test_connect_with_keys_still_checks_the_secret_after_a_restore() -> None:
    state = MockState("default")
    alice = state.scenario.users[0]
    state.store.create(alice, venue="BYBIT", api_key="bybitCONNECTkey001", api_secret="right")
    restored = MockState("default")
    persist.restore(restored, json.loads(persist.encode(persist.state_document(state))))
    with pytest.raises(ApiError, match="apiSecret does not match"):
        restored.store.connect_with_keys(
            alice, venue="BYBIT", api_key="bybitCONNECTkey001", api_secret="wrong"
        )
    account = restored.store.connect_with_keys(
        alice, venue="BYBIT", api_key="bybitCONNECTkey001", api_secret="right"
    )
    assert account.status == "ACTIVE"


def test_rotating_a_restored_credential_to_the_same_key_keeps_it_valid() -> None:
    state = MockState("default")
    alice = state.scenario.users[0]
    made = state.store.create(alice, venue="BYBIT", api_key="bybitSAMEkey000111", api_secret="a")
    restored = MockState("default")
    persist.restore(restored, json.loads(persist.encode(persist.state_document(state))))
    same = restored.store.rotate(
        alice, made.credential_id, api_key="bybitSAMEkey000111", api_secret="b"
    )
    assert same.keys_valid
    other = restored.store.rotate(
        alice, made.credential_id, api_key="bybitOTHERkey00011", api_secret="c"
    )
    assert other.keys_valid
    back = restored.store.rotate(
        alice, made.credential_id, api_key="bybitSAMEkey000111", api_secret="d"
    )
    assert not back.keys_valid  # rotated away from it once: that key is dead


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old contents")
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        persist.write_file(path, b"new contents")
    assert synced  # the data was flushed before the rename was tried
    assert path.read_bytes() == b"old contents" and temp_files(tmp_path) == []
    monkeypatch.undo()
    persist.write_file(path, b"new contents")
    assert path.read_bytes() == b"new contents" and temp_files(tmp_path) == []


# ----------------------------------------------------------------- MockServer


def test_mock_server_keeps_its_state_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with MockServer(state_file=path) as mock:
        made = create(mock.url, "BYBIT", "bybitMOCKSERVERkey", "x")
        wait_for(lambda: path.exists() and made["credentialId"] in path.read_text())
        ok(post(mock.url, f"{API}/credential/revoke", {"credentialId": made["credentialId"]}))
    # stop() wrote the revoke, whether or not the debounce had come round yet
    with MockServer(state_file=path) as mock:
        statuses = {c["credentialId"]: c["status"] for c in listed(mock.url)}
        assert statuses[made["credentialId"]] == "REVOKED"
        mock.reset()  # a reset from the test thread is a change too
    assert _records(path) == []


def test_mock_server_refuses_a_bad_file_in_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    good = _state_of_default(tmp_path)
    path.write_bytes(good)
    with pytest.raises(StateFileError, match=r"written for scenario 'default'.*not 'empty'"):
        MockServer("empty", state_file=path)
    assert path.read_bytes() == good


def test_a_lone_surrogate_in_a_scenario_record_is_kept_and_read_back(tmp_path: Path) -> None:
    """YAML may spell a lone surrogate (`\\ud800`); the file must still be written (not
    fail every write) and restore it as it was."""
    scenario = tmp_path / "odd.yaml"
    scenario.write_text(
        "users:\n"
        "  - email: odd@example.com\n"
        "    tokens: [odd-token]\n"
        "    credentials:\n"
        "      - credentialId: 5e8f6a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\n"
        "        venue: BINANCE\n"
        '        name: "odd \\ud800 name"\n'
        "        apiKey: oddKEY1234567890abcdef\n"
        "        apiSecret: odd-secret\n"
    )
    path = tmp_path / "state.json"
    revoke = {"credentialId": "5e8f6a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}
    with MockServer(str(scenario), state_file=path) as mock:
        answer = requests.post(
            mock.url + f"{API}/credential/revoke",
            json=revoke,
            headers=bearer("odd-token"),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    assert "\\ud800" in path.read_text(encoding="utf-8")
    with MockServer(str(scenario), state_file=path) as mock:
        got = requests.get(mock.url + LIST, headers=bearer("odd-token"), timeout=10).json()["data"]
    assert [(c["status"], c["name"]) for c in got] == [("REVOKED", "odd \ud800 name")]


def _edited(good: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    document = json.loads(good)
    edit(document)
    return persist.encode(document)


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        document = document[key][0] if key == "records" else document[key]
    document[last] = value


# Damage past the format check: each is refused by MockServer(state_file=) in the caller,
# with the place named, and the file left as it is (the CLI's line is tested above).
DAMAGED: dict[str, tuple[str, Any, str]] = {
    "a salt that is not hex": ("salt", "not-hex", "salt"),
    "a clock set back": ("clock.offsetMs", -1, "offsetMs"),
    "true for a number": ("clock.offsetMs", True, "offsetMs"),
    "a negative counter": ("credentials.created", -1, "created"),
    "an unknown user": ("credentials.records.userId", "no-such-user", "no-such-user"),
    "an unknown logged-out token": ("credentials.loggedOutTokens", ["f" * 32], "loggedOutTokens"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_damage_inside_a_state_file_is_refused_and_left_as_it_is(tmp_path: Path, case: str) -> None:
    where, value, named = DAMAGED[case]
    bad = _edited(_state_of_default(tmp_path), lambda doc: _set(doc, where, value))
    path = tmp_path / "state.json"
    path.write_bytes(bad)
    with pytest.raises(StateFileError) as refused:
        MockServer(state_file=path)
    assert named in str(refused.value) and str(path) in str(refused.value)
    assert path.read_bytes() == bad and temp_files(tmp_path) == []

"""`cadenza-mock record` against a second mock started here: the proxy answers unchanged,
the written scenario loads, and serving it answers the same reads with the same bytes;
no token, password or secret reaches the file or the output (canaries)."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from centrifuge import Client
from support import REPO, run_cli

from cadenza_mock import MockServer
from cadenza_mock.scenario import load_scenario

CANARY = "Zq8canary-record-never-leaves-77"
SECRET_TOKEN = f"tok-{CANARY}-bearer"
UPSTREAM_SCENARIO: dict[str, Any] = {
    "seed": 5,
    "now": "2026-01-15T12:00:00Z",
    "users": [
        {
            "id": "4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11",
            "email": "rec@example.com",
            "password": f"pw-{CANARY}",
            "tokens": [SECRET_TOKEN],
            "credentials": [
                {
                    "credentialId": "7b0e3c52-1f4a-4d8e-9b6c-2a5d8e1f0c31",
                    "venue": "BINANCE",
                    "name": "main",
                    "apiKey": f"binKEY{CANARY}",
                    "apiSecret": f"binSECRET{CANARY}",
                    "createdAt": "2025-10-01T09:00:00Z",
                },
                {
                    "credentialId": "5c9a1e27-8b3d-4f60-a2e4-7d1b3c5e9f02",
                    "venue": "OKX",
                    "name": "desk",
                    "apiKey": f"okxKEY{CANARY}",
                    "apiSecret": f"okxSECRET{CANARY}",
                    "apiPassphrase": f"okxPASS{CANARY}",
                    "createdAt": "2025-11-03T14:30:00Z",
                },
            ],
            "trading_accounts": [
                {
                    "tradingAccountId": "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11",
                    "credentials": ["main"],
                    "externalTradingAccountId": "spot",
                    "name": "Main spot",
                }
            ],
        },
        {"email": "other@example.com", "tokens": [f"other-{CANARY}"]},
    ],
}
READS = ("/api/v3/credential/list", "/api/v3/tradingAccount/list")
QUERIES = (("query.credential.list", {}), ("query.trading_account.list", {"limit": 10}))


RECORD = [sys.executable, "-m", "cadenza_mock", "record", "--port", "0"]


class Recorder:
    """A `cadenza-mock record` subprocess."""

    def __init__(self, upstream: str, out: Path) -> None:
        self.process = subprocess.Popen(
            [*RECORD, "--upstream", upstream, "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        found = re.search(r"proxying (http://\S+) -> ", first)
        assert found, first
        self.url = found.group(1)

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=30)
        return self.process.returncode, output


@pytest.fixture
def recorder():
    started: list[Recorder] = []

    def start(upstream: str, out: Path) -> Recorder:
        started.append(Recorder(upstream, out))
        return started[-1]

    yield start
    for one in started:
        if one.process.poll() is None:
            one.process.kill()
            one.process.wait(timeout=30)


async def _queries(url: str, token: str) -> list[Any]:
    client = Client(url.replace("http", "ws", 1) + "/connection/websocket", token=token)
    await client.connect()
    try:
        return [(await client.rpc(method, params)).data for method, params in QUERIES]
    finally:
        await client.disconnect()


def _reads(url: str, token: str) -> list[bytes]:
    auth = {"Authorization": f"Bearer {token}"}
    return [requests.get(url + path, headers=auth, timeout=10).content for path in READS]


@pytest.mark.parametrize("profile", ["docs", "sdk"])
def test_serving_the_recording_answers_the_same_reads(tmp_path, recorder, profile):
    out = tmp_path / "recorded.yaml"
    with MockServer(UPSTREAM_SCENARIO, profile=profile) as upstream:
        rec = recorder(upstream.url, out)
        # Through the proxy: a login (its answer names the user), then reads and queries.
        login = requests.post(
            rec.url + "/api/v3/auth/login",
            json={"email": "rec@example.com", "password": f"pw-{CANARY}"},
            timeout=10,
        )
        assert login.status_code == 200
        session_token = login.json()["data"]["accessToken"]
        through = _reads(rec.url, session_token)
        direct = _reads(upstream.url, SECRET_TOKEN)
        assert through == direct  # answered unchanged
        queried = asyncio.run(_queries(rec.url, SECRET_TOKEN))
        code, output = rec.stop()
    assert code == 0, output
    assert "wrote" in output and f"{profile} profile" in output
    text = out.read_text(encoding="utf-8")
    assert CANARY not in text and CANARY not in output and session_token not in text
    scenario = load_scenario(out)  # it validates
    assert scenario.profile == profile
    (user,) = scenario.users  # by subject: the login's token and the scenario's are one user
    assert user.email == "rec@example.com"
    assert user.user_id == "4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11"
    assert len(scenario.credentials) == 2 and len(scenario.trading_accounts) == 1
    okx = yaml.safe_load(text)["users"][0]["credentials"][1]
    if profile == "docs":  # the masked key kept, the secrets it needs marked redacted
        assert okx["apiKey"] == "okxKEY***"
        assert okx["apiSecret"] == okx["apiPassphrase"] == "REDACTED"
    else:
        assert "apiKey" not in okx and "apiSecret" not in okx
    # Serving the file: the same bytes for the same reads, with the user's new token.
    (token,) = user.tokens
    assert token != SECRET_TOKEN
    with MockServer(str(out)) as served:
        assert _reads(served.url, token) == direct
        assert asyncio.run(_queries(served.url, token)) == queried


def test_recording_holds_no_secret_of_writes_and_failures(tmp_path, recorder):
    out = tmp_path / "recorded.yaml"
    auth = {"Authorization": f"Bearer {SECRET_TOKEN}"}
    with MockServer(UPSTREAM_SCENARIO) as upstream:
        rec = recorder(upstream.url, out)
        create = {"venue": "BYBIT", "apiKey": f"newKEY{CANARY}", "apiSecret": f"new{CANARY}"}
        made = requests.post(rec.url + "/api/v3/credential/create", json=create, headers=auth)
        assert made.status_code == 200
        rotate = {
            "credentialId": made.json()["data"]["credentialId"],
            "apiKey": f"rotKEY{CANARY}",
            "apiSecret": f"rot{CANARY}",
        }
        assert requests.post(rec.url + "/api/v3/credential/rotate", json=rotate, headers=auth).ok
        wrong = {"email": "rec@example.com", "password": f"wrong{CANARY}"}
        assert requests.post(rec.url + "/api/v3/auth/login", json=wrong).status_code == 401
        bad = {"Authorization": f"Bearer unknown-{CANARY}"}
        assert requests.get(rec.url + READS[0], headers=bad).status_code == 401
        assert requests.get(rec.url + READS[0] + f"?apiSecret={CANARY}", headers=auth).ok

        async def commands() -> None:
            url = rec.url.replace("http", "ws", 1) + "/connection/websocket"
            client = Client(url, token=SECRET_TOKEN)
            await client.connect()
            params = {"credentialType": "API_KEY", "venue": "BINANCE", "secretKey": CANARY}
            await client.rpc("query.credential.list", {"secretKey": CANARY, "apiKey": CANARY})
            await client.rpc("command.credential.create", params)
            await client.disconnect()

        asyncio.run(commands())
        code, output = rec.stop()
    assert code == 0, output
    text = out.read_text(encoding="utf-8")
    assert "rotKEY***" in text  # the rotated credential was recorded, masked
    assert "<redacted>" in text  # the query's secret param, marked
    for surface in (text, output):
        assert CANARY not in surface and "newKEY" not in surface
    scenario = load_scenario(out)
    assert len(scenario.credentials) == 3 and len(scenario.replay) == 1


def test_an_unreachable_upstream_is_a_503_envelope(tmp_path, recorder):
    with MockServer("empty") as gone:
        url = gone.url
    rec = recorder(url, tmp_path / "out.yaml")
    answer = requests.get(rec.url + READS[0], timeout=30)
    assert answer.status_code == 503
    assert answer.json() == {
        "data": None,
        "success": False,
        "errno": -19006,
        "error": "Service unavailable: the upstream did not answer",
    }
    code, output = rec.stop()
    assert code == 0 and "upstream did not answer GET /api/v3/credential/list" in output
    assert load_scenario(tmp_path / "out.yaml").users == ()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--upstream", "example.com", "--out", "x.yaml"], "--upstream 'example.com': expected"),
        (
            ["--upstream", "http://h", "--ws-upstream", "http://h", "--out", "x.yaml"],
            "--ws-upstream 'http://h': expected ws://",
        ),
        (["--upstream", "http://h", "--out", "/no/such/folder/x.yaml"], "no folder"),
        (["--upstream", "http://h"], "the following arguments are required: --out"),
    ],
)
def test_bad_record_arguments_are_clear(args, words, tmp_path):
    result = run_cli("record", "--port", "0", *args, cwd=tmp_path)
    assert result.returncode == 2 and words in result.stderr, result.stderr


def test_replay_entries_are_checked_where_they_stand():
    problems = {
        "replay": [
            {"user": "nobody@example.com", "method": "query.x", "result": {}},
            {"user": "a@example.com", "method": "query.x"},
            {"user": "a@example.com", "method": "query.x", "result": {}, "extra": 1},
        ],
        "users": [{"email": "a@example.com", "tokens": ["t"]}],
    }
    with pytest.raises(Exception) as info:
        load_scenario(problems)
    text = str(info.value)
    assert "replay[0].user: no user 'nobody@example.com' in this scenario" in text
    assert "replay[1]: an exchange gives user, method, and result or error" in text
    assert "replay[2].extra: unknown key 'extra'" in text


# --------------------------------------------------------------------------- pass-through

ORDERS = "/api/v3/fermata/wallet/list"  # documented by Cadenza, not emulated (501)


def test_serve_upstream_forwards_what_is_not_emulated_and_proxy_stubs(tmp_path):
    with MockServer("accounts") as upstream, MockServer("default", upstream=upstream.url) as front:
        orders = {"data": [{"orderId": "o-1"}], "success": True, "errno": 0, "error": None}
        upstream.stub("GET", ORDERS, json=orders)
        auth = {"Authorization": "Bearer alice-token"}
        answer = requests.get(front.url + ORDERS + "?limit=5", headers=auth, timeout=10)
        assert answer.status_code == 200 and answer.json() == orders
        (seen,) = upstream.calls(path=ORDERS)
        assert seen.query == {"limit": ["5"]} and seen.headers["Authorization"] == "<redacted>"
        (journaled,) = front.calls(path=ORDERS)
        assert journaled.status == 200 and journaled.fault == "upstream"
        # The emulated operations stay the mock's own ...
        mine = requests.get(front.url + READS[0], headers=auth, timeout=10)
        assert mine.content != requests.get(upstream.url + READS[0], headers=auth).content
        # ... unless a stub says `proxy`: then the upstream's answer, byte for byte.
        front.stub("GET", READS[0], proxy=True, times=1)
        proxied = requests.get(front.url + READS[0], headers=auth, timeout=10)
        assert proxied.content == requests.get(upstream.url + READS[0], headers=auth).content
        assert front.calls(path=READS[0])[-1].fault == "stub-1:stub, upstream"
        assert requests.get(front.url + READS[0], headers=auth).content == mine.content


def test_a_proxy_stub_without_upstream_is_a_503_and_a_bad_one_is_refused():
    with MockServer("default") as mock:
        mock.stub("GET", ORDERS, proxy=True)
        answer = requests.get(mock.url + ORDERS, timeout=10)
        assert answer.status_code == 503
        assert answer.json()["error"] == (
            "Service unavailable: a proxy stub needs serve --upstream URL"
        )
        refused = requests.post(
            mock.url + "/__admin/stubs",
            json={"method": "GET", "path": ORDERS, "proxy": True, "json": {"a": 1}},
            timeout=10,
        )
        assert (
            refused.status_code == 400
            and "a proxy stub sends the upstream's answer" in (refused.json()["error"])
        )
        assert len(mock.stubs) == 1
    with pytest.raises(ValueError, match="upstream: expected http://HOST"):
        MockServer("default", upstream="ftp://x")


def test_pass_through_leaks_no_secret_to_the_log_or_journal(serve):
    with MockServer("default") as upstream:
        served = serve("--scenario", "default", "--upstream", upstream.url)
        url, _ = served.banner()
        headers = {"Authorization": f"Bearer {SECRET_TOKEN}", "X-Api-Secret": CANARY}
        answer = requests.get(f"{url}{ORDERS}?apiSecret={CANARY}", headers=headers, timeout=10)
        assert answer.status_code == 401  # the upstream's own bearer check
        journal = requests.get(url + "/__admin/requests", timeout=10).text
        code, log = served.stop()
    assert code == 0 and ORDERS in log and ORDERS in journal
    assert CANARY not in log + journal and SECRET_TOKEN not in log + journal


@pytest.mark.parametrize("profile", ["docs", "sdk"])
def test_records_seen_only_over_the_websocket_are_recorded(tmp_path, recorder, profile):
    out = tmp_path / "ws.yaml"
    with MockServer("accounts", profile=profile) as upstream:
        rec = recorder(upstream.url, out)
        if profile == "sdk":  # a REST answer tells the profile (WebSocket answers cannot)
            auth = {"Authorization": "Bearer alice-token"}
            assert requests.get(rec.url + READS[1], headers=auth, timeout=10).ok
        queried = asyncio.run(_queries(rec.url, "alice-token"))
        code, output = rec.stop()
        listed = requests.get(
            upstream.url + READS[0], headers={"Authorization": "Bearer alice-token"}
        )
    assert code == 0, output
    scenario = load_scenario(out)
    assert scenario.profile == profile
    rest = listed.json()["data"]
    assert sorted(c.credential_id for c in scenario.credentials) == sorted(
        c["credentialId"] for c in rest
    )
    ids = {a["tradingAccountId"] for a in queried[1]["data"]}
    assert {a.trading_account_id for a in scenario.trading_accounts} == ids
    with MockServer(str(out)) as served:
        (user,) = served.scenario.users
        assert asyncio.run(_queries(served.url, user.tokens[0])) == queried
        mine = requests.get(
            served.url + READS[0], headers={"Authorization": f"Bearer {user.tokens[0]}"}
        )
        statuses = {c["credentialId"]: c["status"] for c in mine.json()["data"]}
        assert statuses == {c["credentialId"]: c["status"] for c in rest}


def test_the_proxy_keeps_no_cookie_of_one_caller_for_the_next():
    with (
        MockServer("default") as upstream,
        MockServer(
            "default",
            upstream=upstream.url.replace("127.0.0.1", "localhost"),  # cookies: a name
        ) as front,
    ):
        upstream.stub("GET", ORDERS, json={"data": []}, headers={"Set-Cookie": "sid=abc"})
        first = requests.get(front.url + ORDERS, timeout=10)
        assert first.headers["Set-Cookie"] == "sid=abc"  # passed back to its caller
        requests.get(front.url + ORDERS, timeout=10)
        calls = upstream.calls(path=ORDERS)
    assert len(calls) == 2 and "Cookie" not in calls[1].headers


def test_an_upstream_that_does_not_answer_is_the_catalogues_503():
    with MockServer("empty") as gone:
        dead = gone.url
    with MockServer("sdk", upstream=dead) as front:
        answer = requests.get(front.url + ORDERS, timeout=30)
        (journaled,) = front.calls(path=ORDERS)
    assert answer.status_code == 503
    body = answer.json()
    assert (body["errno"], body["error"]) == (
        -19006,
        "Service unavailable: the upstream did not answer",
    )
    assert body["details"]["code"] == "SERVICE_UNAVAILABLE"  # the sdk envelope, from the catalogue
    assert journaled.status == 503 and journaled.fault == "upstream"

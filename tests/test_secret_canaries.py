"""No secret reaches any surface: a canary handed to the mock (scenario, requests,
broken YAML, parser-rejected bytes) is found in no answer, header, dump or log line."""

from __future__ import annotations

import socket

import pytest
import requests
from support import LIST, run_cli, write

from cadenza_mock import MockServer

CANARY = "Zq8canary-value-must-never-leave-41x"
SCENARIO = "/__admin/scenario"


def _put(mock: MockServer, **kwargs) -> requests.Response:
    if "data" in kwargs:  # admin bodies say what they are
        kwargs.setdefault("headers", {"Content-Type": "application/yaml"})
    return requests.put(mock.url + SCENARIO, timeout=10, **kwargs)


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


YAML_LEAKS = {
    "undefined alias": f"users:\n  - password: *{CANARY}\n",
    "unknown tag": f"users:\n  - password: !{CANARY}\n",
    "bad int": (
        f"users:\n  - credentials:\n      - venue: BINANCE\n        apiSecret: !!int {CANARY}\n"
    ),
    "python tag": f"seed: !!python/object:os.system {CANARY}\n",
    "bad timestamp": f"now: !!timestamp {CANARY}\n",
    "tag on a key": f"!{CANARY} seed: 1\n",
    "unclosed quote": f"description: '{CANARY}\n",
}


@pytest.mark.parametrize("case", sorted(YAML_LEAKS))
def test_yaml_errors_quote_no_value_anywhere(case, tmp_path):
    text = YAML_LEAKS[case]
    path = write(tmp_path / "leak.yaml", text)
    # validate
    checked = run_cli("validate", str(path))
    assert checked.returncode == 1
    assert f"{path}:" in checked.stderr  # located
    assert CANARY not in checked.stdout + checked.stderr and "Traceback" not in checked.stderr
    # serve --scenario
    served = run_cli("serve", "--port", "0", "--scenario", str(path))
    output = served.stdout + served.stderr
    assert served.returncode == 2 and CANARY not in output and "Traceback" not in output
    # the admin API, as a body
    with MockServer("default") as mock:
        answer = _put(mock, data=text)
        assert answer.status_code == 400 and answer.json()["errno"] == -19004
        assert "<request body>:" in answer.json()["error"]
        assert CANARY not in answer.text
        assert mock.scenario.name == "default"


# --------------------------------------------------------------------------- canary sweep

SWEEP_SCENARIO = """\
seed: 3
users:
  - email: sweep@example.com
    password: {c[password]}
    tokens: [sweep-token]
    credentials:
      - venue: BINANCE
        apiKey: {c[scenario key]}
        apiSecret: {c[scenario secret]}
      - venue: OKX
        apiKey: okxKEYvisible-{c[okx key]}
        apiSecret: {c[okx secret]}
        apiPassphrase: {c[okx passphrase]}
"""
SWEEP = {
    name: f"{name.replace(' ', '')}-Canary-{index:02d}-x9"
    for index, name in enumerate(
        [
            "password",
            "scenario key",
            "scenario secret",
            "okx key",
            "okx secret",
            "okx passphrase",
            "create key",
            "create secret",
            "rotate key",
            "rotate secret",
            "bad json secret",
            "query secret",
            "header secret",
            "unknown bearer",
            "alias secret",
            "login password",
            "fault secret",
        ]
    )
}


def _sweep_requests(url: str) -> list[str]:
    """Every surface a secret could reach, as text: answers (body and headers), dumps."""
    c = SWEEP
    auth = {"Authorization": "Bearer sweep-token"}
    create = {"venue": "BYBIT", "apiKey": c["create key"], "apiSecret": c["create secret"]}
    seen: list[str] = []

    def keep(response: requests.Response) -> requests.Response:
        seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    created = keep(requests.post(url + "/api/v3/credential/create", json=create, headers=auth))
    cid = created.json()["data"]["credentialId"]
    rotate = {"credentialId": cid, "apiKey": c["rotate key"], "apiSecret": c["rotate secret"]}
    keep(requests.post(url + "/api/v3/credential/rotate", json=rotate, headers=auth))
    keep(requests.post(url + "/api/v3/credential/create", json=create, headers=auth))  # 409
    broken = '{"venue": "BYBIT", "apiSecret": "' + c["bad json secret"] + '", '
    keep(requests.post(url + "/api/v3/credential/create", data=broken, headers=auth))
    keep(
        requests.post(
            url + "/api/v3/credential/create",
            json={"apiSecret": c["bad json secret"]},
            headers=auth,
        )
    )
    keep(
        requests.get(url + LIST + "?apiSecret=" + c["query secret"] + "&status=NOPE", headers=auth)
    )
    keep(requests.get(url + LIST, headers={**auth, "X-Api-Secret": c["header secret"]}))
    keep(requests.get(url + LIST, headers={"Authorization": "Bearer " + c["unknown bearer"]}))
    keep(
        requests.post(
            url + "/api/v3/auth/login",
            json={"email": "sweep@example.com", "password": c["login password"]},
        )
    )
    keep(
        requests.post(
            url + "/api/v3/auth/login",
            json={"email": "sweep@example.com", "password": c["password"]},
        )
    )
    yaml_body = {"Content-Type": "application/yaml"}
    alias = f"users:\n  - password: *{c['alias secret']}\n"
    keep(requests.put(url + SCENARIO, data=alias, headers=yaml_body))
    keep(
        requests.post(
            url + "/__admin/faults", data=f"respond: !{c['fault secret']}\n", headers=yaml_body
        )
    )
    for dump in ("/__admin/requests", SCENARIO, "/__admin/credentials", "/__admin/faults"):
        keep(requests.get(url + dump))
    keep(requests.get(url + "/api/v3/openapi.json"))
    return seen


@pytest.mark.parametrize("quiet", [False, True])
def test_no_canary_reaches_any_surface(tmp_path, serve, quiet):
    path = write(tmp_path / "sweep.yaml", SWEEP_SCENARIO.format(c=SWEEP))
    served = serve("--scenario", str(path), *(["--quiet"] if quiet else []))
    url, _ = served.banner()
    surfaces = _sweep_requests(url)
    # A second server's raw parser-rejected requests carrying the canaries, too.
    host, port = url.removeprefix("http://").split(":")
    for raw in (
        (
            f"GET {LIST}?apiSecret={SWEEP['query secret']}\xe9 HTTP/1.1\r\nHost: localhost\r\n\r\n"
        ).encode("latin-1"),
        f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {SWEEP['unknown bearer']}\x01\r\n\r\n".encode(),
    ):
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(raw)
            surfaces.append(_read_all(conn).decode("latin-1"))
    code, log = served.stop()
    assert code == 0
    surfaces.append(log)
    text = "\n".join(surfaces)
    assert len(surfaces) > 15 and "sweep@example.com" in text  # the surfaces were reached
    assert [name for name, value in SWEEP.items() if value in text] == []


# ------------------------------------------------ record, drift and pass-through (issue 29)


def _ws_calls(url: str, token: str) -> None:
    """WebSocket calls carrying canaries: params of a query and of a command."""
    import asyncio

    from centrifuge import Client

    async def calls() -> None:
        client = Client(url.replace("http", "ws", 1) + "/connection/websocket", token=token)
        await client.connect()
        try:
            await client.rpc("query.credential.list", {"secretKey": SWEEP["query secret"]})
            await client.rpc(
                "command.credential.create",
                {
                    "venue": "BINANCE",
                    "credentialType": "API_KEY",
                    "apiKey": SWEEP["create key"],
                    "secretKey": SWEEP["create secret"],
                },
            )
        finally:
            await client.disconnect()

    asyncio.run(calls())


def test_no_canary_reaches_a_recording_a_drift_report_or_a_pass_through(tmp_path, serve):
    import signal
    import subprocess
    import sys

    path = write(tmp_path / "sweep.yaml", SWEEP_SCENARIO.format(c=SWEEP))
    surfaces: list[str] = []
    out = tmp_path / "recorded.yaml"
    with MockServer(str(path)) as upstream:
        # record: every sweep request and WebSocket call through the proxy
        args = ["--port", "0", "--out", str(out)]
        recorder = subprocess.Popen(
            [sys.executable, "-m", "cadenza_mock", "record", "--upstream", upstream.url, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert recorder.stdout is not None
        proxy = recorder.stdout.readline().split()[3]
        surfaces += _sweep_requests(proxy)
        _ws_calls(proxy, "sweep-token")
        recorder.send_signal(signal.SIGTERM)
        surfaces.append(recorder.communicate(timeout=30)[0])
        assert recorder.returncode == 0, surfaces[-1]
        recorded = out.read_text(encoding="utf-8")
        assert "rotate***" in recorded  # the rotated credential, masked as served
        surfaces.append(recorded)
        # drift: a valid token, then a canary as the token (refused upstream)
        for token in ("sweep-token", SWEEP["unknown bearer"]):
            for fmt in ([], ["--json"]):
                done = run_cli("drift", "--against", upstream.url, "--token", token, *fmt)
                surfaces.append(done.stdout + done.stderr)
        # pass-through: the sweep against a serve that forwards to the upstream
        served = serve("--scenario", str(path), "--upstream", upstream.url)
        url, _ = served.banner()
        surfaces += _sweep_requests(url)
        headers = {"Authorization": f"Bearer {SWEEP['unknown bearer']}"}
        requests.post(
            url + "/api/v3/fermata/wallet/transfer",  # not emulated: forwarded
            json={"apiSecret": SWEEP["fault secret"]},
            headers=headers,
            timeout=10,
        )
        surfaces.append(requests.get(url + "/__admin/requests", timeout=10).text)
        code, log = served.stop()
        assert code == 0
        surfaces.append(log)
        surfaces.append(requests.get(upstream.url + "/__admin/requests", timeout=10).text)
    text = "\n".join(surfaces)
    assert "sweep@example.com" in text and "fermata/wallet/transfer" in text  # surfaces reached
    assert [name for name, value in SWEEP.items() if value in text] == []

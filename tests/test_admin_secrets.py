"""Secrets the admin API is handed stay hidden, over real sockets: a fault's `token` and
secret-named query values are shown redacted (as the journal shows them) while the fault
still matches them, and the admin token can come from a file, never on the command line
or in any output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp.test_utils import TestClient
from support import ALICE, LIST, MakeClient, run_cli

TOKEN = "flt-s3cret-bearer"
API_SECRET = "q-s3cret-value"
API_KEY = "KEYabcdef1234567890"
SESSION = "hdr-s3cret-session"
FAULT = {
    "id": "secretive",
    "match": {"token": TOKEN, "query": {"apiSecret": API_SECRET, "apiKey": API_KEY}},
    "respond": {"status": 503, "headers": {"X-Session-Token": SESSION}},
}
ADMIN_TOKEN = "adm-f1le-s3cret"


def assert_redacted(fault: dict[str, Any]) -> None:
    text = json.dumps(fault)
    for secret in (TOKEN, API_SECRET, API_KEY, SESSION):
        assert secret not in text
    shown = fault["fault"]
    assert shown["match"]["token"] == "<redacted>"
    assert shown["match"]["query"] == {"apiSecret": "<redacted>", "apiKey": "KEYabc***"}
    assert shown["respond"]["headers"] == {"X-Session-Token": "<redacted>"}
    assert shown["respond"]["status"] == 503  # the rest as it was given


async def test_faults_show_their_secrets_redacted_and_still_match_them(
    make_client: MakeClient,
) -> None:
    client: TestClient = await make_client("default")
    armed = await client.post("/__admin/faults", json=FAULT)
    assert armed.status == 200, await armed.text()
    assert_redacted((await armed.json())["data"])
    listed = await client.get("/__admin/faults")
    (fault,) = (await listed.json())["data"]
    assert_redacted(fault)
    query = {"apiSecret": API_SECRET, "apiKey": API_KEY}
    hit = await client.get(LIST, params=query, headers={"Authorization": f"Bearer {TOKEN}"})
    assert hit.status == 503 and hit.headers["X-Session-Token"] == SESSION
    missed = await client.get(LIST, params=query, headers=ALICE)  # another token
    assert missed.status == 200
    fault = (await (await client.get("/__admin/faults")).json())["data"][0]
    assert (fault["matched"], fault["fired"]) == (1, 1)
    assert_redacted(fault)


# --------------------------------------------------------------------------- token file


def _admin_calls_need(url: str, token: str) -> None:
    assert requests.get(f"{url}/__admin/scenario", timeout=10).status_code == 401
    wrong = requests.get(f"{url}/__admin/scenario", headers={"X-Admin-Token": "x"}, timeout=10)
    assert wrong.status_code == 401
    right = requests.get(f"{url}/__admin/scenario", headers={"X-Admin-Token": token}, timeout=10)
    assert right.status_code == 200


@pytest.mark.parametrize("by", ["flag", "variable"])
def test_the_admin_token_from_a_file_never_shows(serve: Any, tmp_path: Path, by: str) -> None:
    path = tmp_path / "admin-token"
    path.write_text(f"  {ADMIN_TOKEN}  \nnot part of it\n", encoding="utf-8")
    if by == "flag":
        served = serve("--admin-token-file", str(path))
    else:
        served = serve(env={"CADENZA_MOCK_ADMIN_TOKEN_FILE": str(path)})
    url, _ = served.banner()
    _admin_calls_need(url, ADMIN_TOKEN)  # the first line, stripped
    requests.get(url + LIST, headers=ALICE, timeout=10)  # a logged request too
    # What `ps` shows of the process: its command line holds the path, not the token.
    cmdline = Path(f"/proc/{served.process.pid}/cmdline")
    if cmdline.exists():
        assert ADMIN_TOKEN.encode() not in cmdline.read_bytes()
    code, output = served.stop()
    assert code == 0 and ADMIN_TOKEN not in output and "not part of it" not in output


@pytest.mark.parametrize(
    ("content", "extra", "env", "words"),
    [
        (None, [], {}, "--admin-token-file {path}: cannot read it (No such file or directory)"),
        ("\n" + ADMIN_TOKEN, [], {}, "its first line is empty"),
        ("   \n", [], {}, "its first line is empty"),
        (
            ADMIN_TOKEN,
            ["--admin-token", "other-s3cret"],
            {},
            "--admin-token-file and --admin-token both give the admin token; use one",
        ),
        (
            ADMIN_TOKEN,
            [],
            {"CADENZA_MOCK_ADMIN_TOKEN": "other-s3cret"},
            "--admin-token-file and CADENZA_MOCK_ADMIN_TOKEN both give the admin token",
        ),
    ],
)
def test_a_bad_admin_token_file_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, extra: list[str], env: dict[str, str], words: str
) -> None:
    path = tmp_path / "admin-token"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_cli(
        "serve", "--port", "0", "--admin-token-file", str(path), *extra, env=env, timeout=30
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""  # refused before serving anything
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words.format(path=path) in lines[0], result.stderr
    assert ADMIN_TOKEN not in result.stderr and "other-s3cret" not in result.stderr

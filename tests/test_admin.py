"""The admin API over real HTTP: health, reset, scenario (good and bad bodies), the
journal (bound, order, redaction), faults endpoints, and the optional admin token."""

from __future__ import annotations

import json
import textwrap

import pytest
import requests
from support import ALICE, LIST, bearer

from cadenza_mock import __version__

ENVELOPE_KEYS = ["data", "success", "errno", "error"]
CREATE = "/api/v3/credential/create"
FAULTS = "/__admin/faults"

YAML = {"Content-Type": "application/yaml"}  # admin bodies say what they are


async def data_of(response, status: int = 200):
    body = await response.json()
    assert response.status == status, body
    assert list(body) == ENVELOPE_KEYS
    return body["data"] if status < 400 else body


async def list_count(client, headers=ALICE) -> int:
    return len(await data_of(await client.get(LIST, headers=headers)))


# --------------------------------------------------------------------------- health, reset


async def test_health(client):
    data = await data_of(await client.get("/__admin/health"))
    assert data["status"] == "ok"
    assert data["version"] == __version__
    assert data["scenario"] == "default"
    assert isinstance(data["uptimeSeconds"], int | float) and data["uptimeSeconds"] >= 0


async def test_reset_restores_data_and_empties_the_journal(client):
    before = await list_count(client)
    created = await client.post(
        CREATE,
        headers=ALICE,
        json={"venue": "BINANCE", "apiKey": "k" * 64, "apiSecret": "s" * 64},
    )
    assert created.status == 200, await created.text()
    assert await list_count(client) == before + 1
    assert await data_of(await client.post("/__admin/reset")) == {"scenario": "default"}
    assert await data_of(await client.get("/__admin/requests")) == []
    assert await list_count(client) == before


# --------------------------------------------------------------------------- scenario


async def test_get_scenario(client):
    data = await data_of(await client.get("/__admin/scenario"))
    assert data["name"] == "default"
    assert data["users"][0]["email"] == "alice@example.com"
    assert "alice-token" in data["users"][0]["tokens"]
    assert "password" not in json.dumps(data)  # the summary carries no passwords
    assert "correct-horse" not in json.dumps(data)


async def test_put_scenario_by_name_json_and_yaml(client):
    assert (await data_of(await client.put("/__admin/scenario?name=empty")))["name"] == "empty"
    assert await list_count(client) == 0
    named = await client.put("/__admin/scenario", json={"name": "multi-user"})
    assert (await data_of(named))["name"] == "multi-user"
    assert await list_count(client, bearer("bob-token")) == 4
    inline = {"users": [{"tokens": ["t1"], "credentials": [{"generate": 2, "venue": "OKX"}]}]}
    assert await data_of(await client.put("/__admin/scenario", json={"scenario": inline}))
    assert await list_count(client, bearer("t1")) == 2
    yaml_body = "users:\n  - tokens: [y1]\n    credentials:\n      - generate: 3\n"
    loaded = await client.put(
        "/__admin/scenario", data=yaml_body, headers={"Content-Type": "application/yaml"}
    )
    assert (await data_of(loaded))["name"] == "<request body>"
    assert await list_count(client, bearer("y1")) == 3


BAD_BODIES = [
    # (YAML body, the 1-based line the error must name, words in the message)
    ("users:\n  - tokens: [a\n    email: x@example.com\n", 3, "invalid YAML"),
    (
        "users:\n  - tokens: [a]\n    credentials:\n      - venue: NYSE\n",
        4,
        "unknown venue 'NYSE'",
    ),
    ("seed: seven\n", 1, "expected int"),
    ("faults:\n  - respond: {status: 200}\n", 2, "expected an error status"),
]


@pytest.mark.parametrize(("body", "line", "words"), BAD_BODIES)
async def test_bad_yaml_scenario_is_400_with_location_and_the_old_one_keeps_serving(
    client, body, line, words
):
    before = await list_count(client)
    response = await client.put(
        "/__admin/scenario", data=body, headers={"Content-Type": "application/yaml"}
    )
    error = await data_of(response, 400)
    assert error["errno"] == -19004
    assert f"<request body>:{line}:" in error["error"]
    assert words in error["error"]
    assert "previous one is still loaded" in error["error"]
    assert (await data_of(await client.get("/__admin/scenario")))["name"] == "default"
    assert await list_count(client) == before


@pytest.mark.parametrize(
    ("kwargs", "errno", "words"),
    [
        ({"params": {"name": "defualt"}}, -19004, "did you mean 'default'"),
        ({"data": "", "headers": {"Content-Type": "application/yaml"}}, -19004, "empty body"),
        ({"data": "{", "headers": {"Content-Type": "application/json"}}, -19005, "Invalid JSON"),
        ({"json": {"nam": "empty"}}, -19004, '{"name"'),
    ],
)
async def test_bad_scenario_requests(client, kwargs, errno, words):
    error = await data_of(await client.put("/__admin/scenario", **kwargs), 400)
    assert error["errno"] == errno and words in error["error"]
    assert (await data_of(await client.get("/__admin/scenario")))["name"] == "default"


# --------------------------------------------------------------------------- journal


async def test_journal_is_bounded_oldest_dropped_newest_last(make_client):
    client = await make_client("default", journal_limit=3)
    paths = [f"{LIST}?status=ACTIVE", f"{LIST}?status=REVOKED", LIST, "/nope", "/api/v3/auth/user"]
    for path in paths:
        await (await client.get(path, headers=ALICE)).read()
    entries = await data_of(await client.get("/__admin/requests"))
    assert len(entries) == 3
    # The last three requests, in the order they were made.
    assert [e["path"] for e in entries] == [LIST, "/nope", "/api/v3/auth/user"]
    assert [e["status"] for e in entries] == [200, 404, 200]
    assert [e["seq"] for e in entries] == [3, 4, 5]
    assert await data_of(await client.delete("/__admin/requests")) == {"cleared": True}
    assert await data_of(await client.get("/__admin/requests")) == []


async def test_journal_numbers_continue_across_clears_and_size_0_turns_it_off(make_client):
    client = await make_client("default", journal_limit=2)
    for _ in range(3):
        await (await client.get(LIST, headers=ALICE)).read()
    assert [e["seq"] for e in await data_of(await client.get("/__admin/requests"))] == [2, 3]
    await client.delete("/__admin/requests")
    await (await client.get(LIST, headers=ALICE)).read()
    assert [e["seq"] for e in await data_of(await client.get("/__admin/requests"))] == [4]

    off = await make_client("default", journal_limit=0)
    assert (await off.get(LIST, headers=ALICE)).status == 200
    assert await data_of(await off.get("/__admin/requests")) == []


def test_journal_size_flag_bounds_the_journal(serve):
    served = serve("--journal-size", "2", "--quiet")
    url, token = served.banner()
    for status in ("ACTIVE", "REVOKED", "ACTIVE"):
        requests.get(f"{url}{LIST}?status={status}", headers=bearer(token), timeout=10)
    entries = requests.get(f"{url}/__admin/requests", timeout=10).json()["data"]
    assert [e["query"] for e in entries] == [{"status": ["REVOKED"]}, {"status": ["ACTIVE"]}]
    served.stop()


async def test_journal_redacts_tokens_and_secrets(client):
    secret, passphrase, key = "okx-secret-123456", "okx-pass-phrase-9", "0f5e9a7c-KEY-FULL-abcdef"
    await client.post(
        CREATE,
        headers=ALICE,
        json={"venue": "OKX", "apiKey": key, "apiSecret": secret, "apiPassphrase": passphrase},
    )
    await client.post(
        "/api/v3/auth/login", json={"email": "alice@example.com", "password": "correct-horse"}
    )
    await client.get(LIST, headers={**ALICE, "Cookie": "session=abc"})
    raw = await (await client.get("/__admin/requests")).text()
    for leaked in (secret, passphrase, key, "alice-token", "correct-horse", "session=abc"):
        assert leaked not in raw
    entries = json.loads(raw)["data"]
    create, login, listed = entries
    assert create["headers"]["Authorization"] == "<redacted>"
    assert create["body"]["apiSecret"] == "<redacted>"
    assert create["body"]["apiPassphrase"] == "<redacted>"
    assert create["body"]["apiKey"] == key[:6] + "***"  # masked like on the wire
    assert create["body"]["venue"] == "OKX"  # the rest is kept
    assert login["body"] == {"email": "alice@example.com", "password": "<redacted>"}
    assert listed["headers"]["Cookie"] == "<redacted>"


# --------------------------------------------------------------------------- faults


async def test_faults_endpoints(client):
    armed = await data_of(
        await client.post(FAULTS, json={"match": {"method": "get"}, "respond": {"status": 503}})
    )
    assert armed["id"] == "runtime-1"
    # Normalized: method upper-cased, errno and message filled in from the catalogue.
    assert armed["fault"] == {
        "match": {"method": "GET"},
        "respond": {"status": 503, "errno": -22000, "error": "Unknown error", "code": "INTERNAL"},
    }
    yaml_fault = "id: slow\ndelay: 0.01\ntimes: 2\n"
    second = await data_of(
        await client.post(FAULTS, data=yaml_fault, headers={"Content-Type": "application/yaml"})
    )
    assert (second["id"], second["remaining"]) == ("slow", 2)
    # The normalized form posts back unchanged.
    again = await data_of(await client.post(FAULTS, json={**armed["fault"], "id": "copy"}))
    assert again["fault"] == {**armed["fault"], "id": "copy"}

    await (await client.get(LIST, headers=ALICE)).read()
    listed = await data_of(await client.get(FAULTS))
    assert [(f["id"], f["matched"], f["fired"], f["remaining"]) for f in listed] == [
        ("runtime-1", 1, 1, None),
        ("slow", 1, 1, 1),
        ("copy", 0, 0, None),
    ]
    assert await data_of(await client.delete(f"{FAULTS}/slow")) == {"cleared": 1, "id": "slow"}
    missing = await data_of(await client.delete(f"{FAULTS}/slow"), 404)
    assert "runtime-1, copy" in missing["error"]
    assert await data_of(await client.delete(FAULTS)) == {"cleared": 2}
    assert await data_of(await client.get(FAULTS)) == []
    assert await list_count(client) == 4


@pytest.mark.parametrize(
    ("body", "content_type", "errno", "words"),
    [
        ('{"respond": {"status": 500}', "application/json", -19005, "Invalid JSON"),
        ("respond: {status: [500\n", "application/yaml", -19004, "<request body>:2:1"),
        ("", "application/yaml", -19004, "empty body"),
        ('[{"drop": true}]', "application/json", -19004, "not a list"),
        ('"drop"', "application/json", -19004, "expected a mapping"),
        ('{"drop": true, "match": {"user": "zed"}}', "application/json", -19004, "no user 'zed'"),
        ('{"respond": {"status": "five hundred"}}', "application/json", -19004, "1:24"),
    ],
)
async def test_bad_fault_bodies(client, body, content_type, errno, words):
    response = await client.post(FAULTS, data=body, headers={"Content-Type": content_type})
    error = await data_of(response, 400)
    assert error["errno"] == errno
    assert words in error["error"]
    assert await data_of(await client.get(FAULTS)) == []


async def test_duplicate_fault_id_is_rejected(client):
    await data_of(await client.post(FAULTS, json={"id": "x", "drop": True}))
    error = await data_of(await client.post(FAULTS, json={"id": "x", "drop": True}), 400)
    assert "already armed" in error["error"]


# --------------------------------------------------------------------------- admin token


ADMIN_CALLS = [
    ("POST", "/__admin/reset", None),
    ("GET", "/__admin/scenario", None),
    ("PUT", "/__admin/scenario?name=empty", None),
    ("GET", "/__admin/requests", None),
    ("DELETE", "/__admin/requests", None),
    ("GET", "/__admin/faults", None),
    ("POST", "/__admin/faults", {"delay": 0.001, "id": "t"}),
    ("DELETE", "/__admin/faults/t", None),
    ("DELETE", "/__admin/faults", None),
    ("GET", "/__admin/clock", None),
]


async def test_admin_token_is_required_when_set(make_client):
    token = "adm1n-t0ken-value"
    client = await make_client("default", admin_token=token)
    for method, path, body in ADMIN_CALLS:
        for headers in ({}, {"X-Admin-Token": "wrong"}):
            response = await client.request(method, path, json=body, headers=headers)
            error = await data_of(response, 401)
            assert error["errno"] == -19002 and "X-Admin-Token" in error["error"]
            assert token not in json.dumps(error)
        response = await client.request(method, path, json=body, headers={"X-Admin-Token": token})
        assert response.status == 200, (method, path, await response.text())
    # The emulated API itself does not need it, nor does health (container probes).
    assert (await client.get(LIST, headers=ALICE)).status == 200
    health = await client.get("/__admin/health")
    assert health.status == 200 and token not in await health.text()


def test_non_loopback_without_admin_token_warns(serve):
    served = serve("--host", "0.0.0.0", "--quiet")
    served.banner()
    code, output = served.stop()
    assert code == 0
    assert "WARNING serving on 0.0.0.0 without --admin-token" in output


def test_non_loopback_with_admin_token_and_loopback_do_not_warn(serve):
    for args in (["--host", "0.0.0.0", "--admin-token", "t"], ["--host", "127.0.0.1"]):
        served = serve(*args, "--quiet")
        served.banner()
        code, output = served.stop()
        assert code == 0
        assert "without --admin-token" not in output
        assert "WARNING" not in output


def test_admin_token_from_the_environment(serve):
    served = serve("--quiet", env={"CADENZA_MOCK_ADMIN_TOKEN": "from-env"})
    url, _ = served.banner()
    assert requests.get(f"{url}/__admin/requests", timeout=10).status_code == 401
    ok = requests.get(f"{url}/__admin/requests", headers={"X-Admin-Token": "from-env"}, timeout=10)
    assert ok.status_code == 200
    _, output = served.stop()
    assert "from-env" not in output


def test_readme_fault_yaml_example_text_is_valid():
    """The YAML fault of the README's admin curl example parses (kept in sync by hand)."""
    from cadenza_mock.scenario.faults import parse_fault_text

    fault = parse_fault_text(
        textwrap.dedent(
            """\
            match: {method: GET, path: /api/v3/credential/list}
            respond: {status: 503, error: Maintenance}
            times: 2
            """
        )
    )
    assert fault.to_json()["respond"]["errno"] == -22000


async def test_admin_bodies_that_are_not_utf8_are_400(make_client):
    client = await make_client("default")
    for method, path in (("PUT", "/__admin/scenario"), ("POST", "/__admin/faults")):
        sent = client.request(method, path, data=b"\xff\xfe: x\n", headers=YAML)
        error = await data_of(await sent, 400)
        assert error["errno"] == -19005 and "UTF-8" in error["error"]
    assert (await data_of(await client.get("/__admin/scenario")))["name"] == "default"
    assert await data_of(await client.get("/__admin/faults")) == []


async def test_loading_a_file_that_is_no_scenario_never_quotes_it(make_client, tmp_path):
    client = await make_client("default", scenario_dirs=[tmp_path])
    (tmp_path / "notes.yaml").write_text("private-notes-do-not-echo\n")
    (tmp_path / "binary.yaml").write_bytes(b"\x00\xff\xfe private-bytes")
    for name in ("notes.yaml", "binary.yaml"):
        response = await client.put("/__admin/scenario", params={"name": str(tmp_path / name)})
        error = await data_of(response, 400)
        assert "not a scenario" in error["error"]
        assert "private" not in error["error"]
    assert (await data_of(await client.get("/__admin/scenario")))["name"] == "default"


async def test_an_oversized_body_on_a_bodiless_route_is_journaled_not_fatal(make_client):
    client = await make_client("default")
    big = b"x" * (1024 * 1024 + 10)  # over aiohttp's default client_max_size
    response = await client.get(LIST, headers=ALICE, data=big)
    assert response.status == 200 and (await response.json())["success"] is True
    [entry] = await data_of(await client.get("/__admin/requests"))
    assert entry["body"].startswith("<body not read")
    # a route that reads its body answers aiohttp's 413 in the envelope
    too_big = await client.post("/api/v3/credential/create", headers=ALICE, data=big)
    error = await data_of(too_big, 413)
    assert error["errno"] == -19004 and "too large" in error["error"].lower()

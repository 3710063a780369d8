"""Faults over real HTTP: every action as a real client sees it, every schedule, matching,
reset, the journal's `fault` field, the Python API, and bad fault specs (located)."""

from __future__ import annotations

import asyncio
import json
import textwrap

import aiohttp
import httpx
import pytest
import requests
from support import ALICE, LIST, bearer, write

from cadenza_mock import MockServer
from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.scenario import load_scenario

FAULTS = "/__admin/faults"
ENVELOPE_KEYS = ["data", "success", "errno", "error"]
REVOKE = "/api/v3/credential/revoke"
CREATE = "/api/v3/credential/create"


async def arm(client, spec) -> dict:
    """POST one fault as JSON; return the admin answer's data (id, normalized form...)."""
    response = await client.post(FAULTS, json=spec)
    body = await response.json()
    assert response.status == 200, body
    return body["data"]


async def status_of(client, path: str = LIST, headers=ALICE, **kwargs) -> int:
    response = await client.get(path, headers=headers, **kwargs)
    await response.read()
    return response.status


async def statuses(client, count: int, path: str = LIST) -> list[int]:
    return [await status_of(client, path) for _ in range(count)]


async def admin_faults(client) -> list[dict]:
    response = await client.get(FAULTS)
    return (await response.json())["data"]


# --------------------------------------------------------------------------- respond


async def test_respond_serves_the_given_error_in_the_envelope(client):
    await arm(
        client,
        {
            "match": {"path": LIST},
            "respond": {"status": 502, "errno": -22000, "error": "Bad gateway upstream"},
            "times": 1,
        },
    )
    response = await client.get(LIST, headers=ALICE)
    body = await response.json()
    assert response.status == 502
    assert list(body) == ENVELOPE_KEYS
    assert body == {
        "data": None,
        "success": False,
        "errno": -22000,
        "error": "Bad gateway upstream",
    }
    # times: 1 -> the next call is served normally.
    assert await status_of(client) == 200


@pytest.mark.parametrize(
    ("status", "errno", "message"),
    [
        # The errno catalogue of docs/cadenza-api.md, row by row.
        (400, -22015, "Invalid argument"),
        (401, -19002, "Unauthorized: invalid token"),
        (403, -22018, "Permission denied"),
        (404, -22016, "Credential not found"),
        (409, -22017, "Already exist"),
        (429, -18011, "Rate limit exceeded"),
        (500, -22000, "Unknown error"),
        (503, -22000, "Unknown error"),
    ],
)
async def test_respond_defaults_come_from_the_errno_catalogue(client, status, errno, message):
    armed = await arm(client, {"respond": {"status": status}})
    assert armed["fault"]["respond"]["errno"] == errno
    response = await client.get(LIST, headers=ALICE)
    body = await response.json()
    assert (response.status, body["errno"], body["error"]) == (status, errno, message)


async def test_respond_headers_are_sent(client):
    await arm(client, {"respond": {"status": 503, "headers": {"Retry-After": 7}}})
    response = await client.get(LIST, headers=ALICE)
    assert response.status == 503
    assert response.headers["Retry-After"] == "7"


async def test_sdk_profile_error_carries_details_code(make_client):
    client = await make_client("sdk")
    await arm(client, {"respond": {"status": 429}})
    response = await client.get(LIST, headers=ALICE)
    body = await response.json()
    assert response.status == 429
    assert body["details"]["code"] == "RATE_LIMITED"


# --------------------------------------------------------------------------- delay


async def test_delay_surfaces_as_a_client_timeout(client):
    await arm(client, {"match": {"path": LIST}, "delay": 30})
    with pytest.raises(asyncio.TimeoutError):
        await client.get(LIST, headers=ALICE, timeout=aiohttp.ClientTimeout(total=0.2))


async def test_delay_then_proceeds_with_the_real_answer(client):
    plain = await (await client.get(LIST, headers=ALICE)).read()
    await arm(client, {"delay": 0.01, "times": 1})
    response = await client.get(LIST, headers=ALICE)
    assert response.status == 200
    assert await response.read() == plain
    entry = (await (await client.get("/__admin/requests")).json())["data"][-1]
    assert entry["fault"] == "runtime-1:delay"


async def test_a_delayed_request_does_not_block_a_concurrent_one(client):
    await arm(client, {"match": {"path": LIST}, "delay": 30})
    slow = asyncio.ensure_future(client.get(LIST, headers=ALICE))
    # Ordering, not timing: the other request completes while the slow one is held back.
    response = await client.get("/api/v3/auth/user", headers=ALICE)
    assert response.status == 200
    assert (await response.json())["success"] is True
    assert not slow.done()
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow


async def test_delay_range_is_drawn_within_bounds_and_seeded(client):
    armed = await arm(client, {"delay": {"min": 0.001, "max": 0.002}, "times": 3})
    assert armed["fault"]["delay"] == {"min": 0.001, "max": 0.002}
    assert await statuses(client, 3) == [200, 200, 200]
    faults = await admin_faults(client)
    assert faults[0]["fired"] == 3 and faults[0]["armed"] is False


# --------------------------------------------------------------------------- drop


async def test_drop_surfaces_as_server_disconnected(client):
    # The test client does not retry (aiohttp's TestClient turns that off), so one drop shows.
    await arm(client, {"match": {"path": LIST}, "drop": True, "times": 1})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.get(LIST, headers=ALICE)
    assert await status_of(client) == 200
    entries = (await (await client.get("/__admin/requests")).json())["data"]
    assert [(e["status"], e["fault"]) for e in entries] == [(0, "runtime-1:drop"), (200, None)]


async def test_a_plain_aiohttp_session_resends_a_dropped_get_once(client):
    # aiohttp.ClientSession resends an idempotent request once when the server disconnects
    # (RFC 9112 9.3.1): one drop is invisible to it, two in a row are not.
    await arm(client, {"match": {"path": LIST}, "drop": True, "times": 3})
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.get(client.make_url(LIST), headers=ALICE)
        async with session.get(client.make_url(LIST), headers=ALICE) as response:
            assert response.status == 200  # dropped once more, then resent and served
    entries = (await (await client.get("/__admin/requests")).json())["data"]
    assert [e["status"] for e in entries] == [0, 0, 0, 200]


async def test_drop_of_a_post_on_a_reused_connection(client):
    assert await status_of(client) == 200  # opens the keep-alive connection
    await arm(client, {"match": {"method": "POST", "path": REVOKE}, "drop": True})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.post(REVOKE, headers=ALICE, json={"credentialId": "x"})


# --------------------------------------------------------------------------- malformed


async def test_malformed_is_a_truncated_body_that_fails_to_parse(client):
    plain = await (await client.get(LIST, headers=ALICE)).read()
    await arm(client, {"malformed": True, "times": 1})
    response = await client.get(LIST, headers=ALICE)
    assert response.status == 200
    assert response.content_type == "application/json"
    raw = await response.read()
    assert len(raw) < len(plain) and plain.startswith(raw)
    with pytest.raises(json.JSONDecodeError):
        await response.json()


# --------------------------------------------------------------------------- slow body


async def test_slow_body_arrives_whole_in_pieces(client):
    plain = await (await client.get(LIST, headers=ALICE)).read()
    await arm(client, {"slow_body": {"chunk_delay": 0.01, "chunks": 4}, "times": 1})
    response = await client.get(LIST, headers=ALICE)
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(plain))
    chunks = [chunk async for chunk in response.content.iter_any()]
    assert b"".join(chunks) == plain
    assert len(chunks) >= 2  # it really was not sent in one write


async def test_slow_body_trips_a_client_read_timeout(client):
    await arm(client, {"slow_body": {"chunk_delay": 30, "chunks": 3}})
    response = await client.get(LIST, headers=ALICE, timeout=aiohttp.ClientTimeout(sock_read=0.2))
    assert response.status == 200  # headers and the first piece arrive at once
    with pytest.raises(asyncio.TimeoutError):
        await response.read()


# --------------------------------------------------------------------------- rate limit


@pytest.mark.scenario("multi-user")
async def test_token_bucket_per_user_with_retry_after_and_recovery(client):
    await arm(client, {"match": {"path": LIST}, "rate_limit": {"requests": 2, "window": 10}})
    assert await statuses(client, 2) == [200, 200]
    response = await client.get(LIST, headers=ALICE)
    body = await response.json()
    assert response.status == 429
    assert (body["errno"], body["error"]) == (-18011, "Rate limit exceeded")
    # 2 tokens per 10 s refill one token every 5 s; the bucket is empty, so: 5.
    assert response.headers["Retry-After"] == "5"
    # Another user has a bucket of their own.
    assert await status_of(client, headers=bearer("bob-token")) == 200
    # The clock is frozen (multi-user sets `now`): nothing refills without advancing it.
    assert await status_of(client) == 429
    advanced = await client.post("/__admin/clock", json={"advance": 4})
    assert advanced.status == 200
    assert await status_of(client) == 429  # 4 s: 0.8 of a token
    await client.post("/__admin/clock", json={"advance": 1})
    assert await statuses(client, 2) == [200, 429]  # exactly one token came back


async def test_rate_limit_always_and_retry_after_override(client):
    await arm(client, {"match": {"path": LIST}, "rate_limit": "always", "times": 2})
    first = await client.get(LIST, headers=ALICE)
    assert first.status == 429 and first.headers["Retry-After"] == "1"
    await arm(client, {"rate_limit": {"requests": 1, "window": 60, "retry_after": 3}})
    assert await status_of(client) == 429  # the `always` fault still has one to go
    assert await status_of(client) == 200  # bucket: its one token
    limited = await client.get(LIST, headers=ALICE)
    assert limited.status == 429 and limited.headers["Retry-After"] == "3"


@pytest.mark.scenario("rate-limited")
async def test_bundled_rate_limited_scenario(client):
    assert await statuses(client, 6) == [200] * 5 + [429]
    login = await client.post(
        "/api/v3/auth/login", json={"email": "alice@example.com", "password": "correct-horse"}
    )
    body = await login.json()
    assert (login.status, body["errno"]) == (429, -100002)
    assert "correct-horse" not in json.dumps(body)
    forced = await client.get(LIST, headers={**bearer("bob-token"), "X-Force-Rate-Limit": "1"})
    assert forced.status == 429


# --------------------------------------------------------------------------- schedules


async def test_times_then_disarms(client):
    await arm(client, {"respond": {"status": 500}, "times": 2})
    assert await statuses(client, 4) == [500, 500, 200, 200]
    [fault] = await admin_faults(client)
    assert (fault["armed"], fault["remaining"], fault["fired"]) == (False, 0, 2)


async def test_after_skips_the_first_matches(client):
    await arm(client, {"respond": {"status": 500}, "after": 2, "times": 1})
    assert await statuses(client, 4) == [200, 200, 500, 200]


async def test_after_counts_only_matching_calls(client):
    await arm(client, {"match": {"path": LIST}, "respond": {"status": 500}, "after": 1})
    assert await status_of(client, "/api/v3/auth/user") == 200  # not a match: not counted
    assert await statuses(client, 2) == [200, 500]


PROBABLE = textwrap.dedent(
    """\
    extends: default
    seed: {seed}
    faults:
      - match: {{path: /api/v3/credential/list}}
        probability: 0.5
        respond: {{status: 503}}
    """
)


async def test_probability_is_reproducible_across_loads_and_resets(make_client, tmp_path):
    path = write(tmp_path / "p.yaml", PROBABLE.format(seed=3))
    first = await statuses(await make_client(str(path)), 40)
    second_client = await make_client(str(path))
    second = await statuses(second_client, 40)
    assert first == second
    # A fair coin: both outcomes occur (the sequence is fixed by the seed, so this cannot flake).
    assert set(first) == {200, 503} and 8 <= first.count(503) <= 32
    await second_client.post("/__admin/reset")
    assert await statuses(second_client, 40) == first
    other = write(tmp_path / "q.yaml", PROBABLE.format(seed=4))
    assert await statuses(await make_client(str(other)), 40) != first


async def test_probability_zero_and_one(client):
    await arm(client, {"respond": {"status": 500}, "probability": 0})
    assert await statuses(client, 5) == [200] * 5
    await arm(client, {"respond": {"status": 503}, "probability": 1, "times": 2})
    assert await statuses(client, 3) == [503, 503, 200]


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("match", "hit", "miss"),
    [
        ({"method": "get"}, ("GET", LIST, {}), ("POST", REVOKE, {})),
        ({"method": ["POST", "PUT"]}, ("POST", REVOKE, {}), ("GET", LIST, {})),
        ({"path": LIST}, ("GET", LIST, {}), ("GET", "/api/v3/auth/user", {})),
        ({"path": "/api/v3/credential/*"}, ("GET", LIST, {}), ("GET", "/api/v3/auth/user", {})),
        (
            {"query": {"status": "REVOKED"}},
            ("GET", LIST + "?status=REVOKED", {}),
            ("GET", LIST, {}),
        ),
        ({"header": "X-Chaos"}, ("GET", LIST, {"X-Chaos": ""}), ("GET", LIST, {})),
        (
            {"header": ["x-a", "X-B"]},
            ("GET", LIST, {"X-A": "1", "X-B": "1"}),
            ("GET", LIST, {"X-A": "1"}),
        ),
        ({"token": "alice-token"}, ("GET", LIST, {}), ("GET", LIST, bearer("bob-token"))),
        ({"user": "bob@example.com"}, ("GET", LIST, bearer("bob-token")), ("GET", LIST, {})),
        ({"user": "BOB@example.com"}, ("GET", LIST, bearer("bob-token")), ("GET", LIST, {})),
        (
            {"user": "9d2c7a10-5e3b-4c8f-b1a2-7e6d5c4b3a21"},
            ("GET", LIST, bearer("bob-token")),
            ("GET", LIST, {}),
        ),
    ],
)
@pytest.mark.scenario("multi-user")
async def test_match_fields(client, match, hit, miss):
    await arm(client, {"match": match, "respond": {"status": 418}})

    async def send(method, path, headers):
        response = await client.request(method, path, headers={**ALICE, **headers})
        await response.read()
        return response.status

    assert await send(*hit) == 418
    assert await send(*miss) != 418


async def test_admin_api_is_never_faulted(client):
    await arm(client, {"respond": {"status": 500}})
    for path in ("/__admin/health", "/__admin/faults", "/__admin/requests"):
        assert (await client.get(path)).status == 200
    # ... so the fault can always be removed again.
    assert (await client.delete(FAULTS)).status == 200
    assert await status_of(client) == 200


async def test_delay_faults_add_up_and_the_first_action_decides(client):
    await arm(client, {"id": "lag", "delay": 0.001})
    await arm(client, {"id": "first", "respond": {"status": 503}, "times": 1})
    await arm(client, {"id": "second", "respond": {"status": 500}, "times": 1})
    assert await statuses(client, 3) == [503, 500, 200]
    entries = (await (await client.get("/__admin/requests")).json())["data"]
    assert [e["fault"] for e in entries] == [
        "lag:delay, first:respond",
        "lag:delay, second:respond",
        "lag:delay",
    ]


async def test_a_delay_armed_after_an_error_still_applies(client):
    await arm(client, {"id": "boom", "respond": {"status": 500}, "times": 1})
    await arm(client, {"id": "late", "delay": 0.001, "times": 2})
    await arm(client, {"id": "unused", "respond": {"status": 502}, "times": 1})
    assert await statuses(client, 2) == [500, 502]
    entries = (await (await client.get("/__admin/requests")).json())["data"]
    assert [e["fault"] for e in entries] == [
        "boom:respond, late:delay",
        "late:delay, unused:respond",
    ]
    faults = {f["id"]: (f["matched"], f["fired"]) for f in await admin_faults(client)}
    # `unused` was skipped (not even counted) while `boom` decided the first answer.
    assert faults == {"boom": (1, 1), "late": (2, 2), "unused": (1, 1)}


# --------------------------------------------------------------------------- scenario faults


SCENARIO_FAULT = textwrap.dedent(
    """\
    extends: default
    faults:
      - id: once
        match: {path: /api/v3/credential/list}
        respond: {status: 500}
        times: 1
    """
)


async def test_scenario_faults_rearm_on_reset_and_runtime_ones_are_cleared(make_client, tmp_path):
    client = await make_client(str(write(tmp_path / "s.yaml", SCENARIO_FAULT)))
    await arm(client, {"id": "extra", "match": {"path": "/api/v3/auth/user"}, "drop": True})
    assert await statuses(client, 2) == [500, 200]
    ids = [f["id"] for f in await admin_faults(client)]
    assert ids == ["once", "extra"]
    assert (await client.post("/__admin/reset")).status == 200
    faults = await admin_faults(client)
    assert [(f["id"], f["origin"], f["armed"]) for f in faults] == [("once", "scenario", True)]
    assert await statuses(client, 2) == [500, 200]
    assert await status_of(client, "/api/v3/auth/user") == 200


async def test_bundled_flaky_scenario_is_seeded(make_client):
    runs = []
    for _ in range(2):
        client = await make_client("flaky")
        runs.append(await statuses(client, 8))
    assert runs[0] == runs[1]
    assert runs[0][0] == 200  # `after: 1`
    assert 503 in runs[0] and 200 in runs[0][1:]


# --------------------------------------------------------------------------- bad specs


BAD_FAULTS = [
    # (fault entry, text expected in the message, the key whose position is reported)
    ("respond: {status: 200}", "expected an error status 400 to 599", "200"),
    ("respond: {status: 500}\ndrop: true", "a fault has one action", "true"),
    ("match: {path: /x}", "a fault needs an action", "match"),
    ("match: {methd: GET}\ndrop: true", "did you mean 'method'", "methd"),
    ("match: {method: FETCH}\ndrop: true", "unknown method 'FETCH'", "FETCH"),
    ("match: {path: api/v3}\ndrop: true", "expected a path starting with '/'", "api/v3"),
    ("delay: {min: 2, max: 1}", "max 1 is below min 2", "1}"),
    ("delay: -1", "expected 0 to 600 seconds", "-1"),
    ("rate_limit: {requests: 3}", "needs both requests and window", "{requests"),
    ("rate_limit: sometimes", "expected `always`", "sometimes"),
    ("drop: false", "does nothing", "false"),
    ("slow_body: {chunks: 3}", "needs chunk_delay", "{chunks"),
    ("drop: true\ntimes: 0", "expected an integer >= 1", "0"),
    ("drop: true\nprobability: 1.5", "expected 0 to 1", "1.5"),
    ("drop: true\nafter: many", "expected int", "many"),
    ("drop: true\nid: 'no spaces'", "must be 1-64 letters", "'no"),
    ("respond: {status: 500, errno: 0}", "errno 0 means success", "0}"),
    ("respond: {status: 500, color: red}", "unknown key 'color'", "color"),
]


@pytest.mark.parametrize(("entry", "message", "at"), BAD_FAULTS)
def test_bad_fault_in_a_scenario_file_is_located(tmp_path, entry, message, at):
    body = textwrap.indent(entry, "    ").replace("    ", "  - ", 1)
    text = f"extends: empty\nfaults:\n{body}\n"
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))
    issues = [i for i in caught.value.issues if message in i.message]
    assert issues, str(caught.value)
    issue = issues[0]
    # Where the reported position points in the file must be the offending token.
    line = text.splitlines()[issue.line - 1]
    assert issue.file == str(path)
    assert line[issue.column - 1 :].startswith(at), (line, issue)


@pytest.mark.parametrize(("entry", "message", "at"), BAD_FAULTS)
async def test_bad_fault_posted_is_a_400_naming_the_problem(client, entry, message, at):
    response = await client.post(FAULTS, data=entry, headers={"Content-Type": "application/yaml"})
    body = await response.json()
    assert response.status == 400
    assert list(body) == ENVELOPE_KEYS and body["errno"] == -19004
    assert message in body["error"]
    # The location is in the request body: <request body>:line:column.
    assert "<request body>:" in body["error"]
    assert await admin_faults(client) == []  # nothing armed


# --------------------------------------------------------------------------- Python API


def test_python_api_with_requests_and_httpx():
    with MockServer("default") as mock:
        fid = mock.fail_next(503, path=LIST)
        assert fid == "runtime-1"
        first = requests.get(mock.url + LIST, headers=mock.auth_headers, timeout=10)
        assert first.status_code == 503 and first.json()["errno"] == -22000
        assert requests.get(mock.url + LIST, headers=mock.auth_headers, timeout=10).ok

        mock.fail_next(404, -22016, "gone", method="POST", times=None)
        with httpx.Client(base_url=mock.url, headers=mock.auth_headers) as client:
            assert client.get(LIST).status_code == 200
            gone = client.post(REVOKE, json={"credentialId": "x"})
            assert gone.status_code == 404 and gone.json()["error"] == "gone"
            assert client.post(REVOKE, json={"credentialId": "x"}).status_code == 404
        assert [f["fired"] for f in mock.faults] == [1, 2]

        mock.clear_faults()
        assert mock.faults == []
        mock.delay_next(30, path=LIST)
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(mock.url + LIST, headers=mock.auth_headers, timeout=(5, 0.2))
        with httpx.Client(base_url=mock.url, headers=mock.auth_headers) as client:
            assert client.get(LIST).status_code == 200  # times=1: used up by the timed-out call

        mock.add_fault({"id": "gone", "drop": True})
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(mock.url + LIST, headers=mock.auth_headers, timeout=10)
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(mock.url + LIST, headers=mock.auth_headers, timeout=10)
        mock.remove_fault("gone")
        with pytest.raises(KeyError, match="gone"):
            mock.remove_fault("gone")

        mock.add_fault({"malformed": True, "times": 1})
        broken = requests.get(mock.url + LIST, headers=mock.auth_headers, timeout=10)
        with pytest.raises(requests.exceptions.JSONDecodeError):
            broken.json()

        mock.add_fault({"slow_body": {"chunk_delay": 30, "chunks": 2}})
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(
                mock.url + LIST, headers=mock.auth_headers, timeout=httpx.Timeout(5, read=0.2)
            )

        mock.add_fault({"id": "gone", "respond": {"status": 500}})
        mock.reset()
        assert mock.faults == []  # run-time faults do not survive a reset


def test_python_api_rejects_bad_specs_without_arming():
    with MockServer("default") as mock:
        with pytest.raises(ScenarioError, match=r"add_fault: respond\.status: expected int"):
            mock.add_fault({"respond": {"status": "500"}})
        with pytest.raises(ScenarioError, match="unknown key 'respnd'"):
            mock.add_fault({"respnd": {"status": 500}})
        with pytest.raises(ValueError, match=r"no user 'nobody@example\.com'"):
            mock.add_fault({"match": {"user": "nobody@example.com"}, "drop": True})
        with pytest.raises(TypeError):
            mock.add_fault([{"drop": True}])  # type: ignore[arg-type]
        mock.add_fault({"id": "one", "drop": True})
        with pytest.raises(ValueError, match="already armed"):
            mock.add_fault({"id": "one", "drop": True})
        assert [f["id"] for f in mock.faults] == ["one"]


def test_fault_errors_and_journal_never_show_secrets():
    secret, passphrase = "s3cr3t-never-shown", "pass-never-shown"
    full_key = "FULLKEY0123456789abcdefFULLKEY"
    with MockServer("default") as mock:
        mock.add_fault({"match": {"path": CREATE}, "respond": {"status": 500}})
        created = requests.post(
            mock.url + CREATE,
            headers=mock.auth_headers,
            json={
                "venue": "OKX",
                "apiKey": full_key,
                "apiSecret": secret,
                "apiPassphrase": passphrase,
            },
            timeout=10,
        )
        assert created.status_code == 500
        [entry] = mock.requests
        dumped = json.dumps(entry.to_json()) + created.text + json.dumps(mock.faults)
        for leaked in (secret, passphrase, full_key, mock.token):
            assert leaked not in dumped
        assert entry.fault == "runtime-1:respond"


@pytest.mark.parametrize("header", ["Content-Type", "content-length", "Transfer-Encoding"])
def test_a_fault_may_not_set_framing_headers(header):
    with MockServer("default") as mock, pytest.raises(ScenarioError, match=header):
        mock.add_fault({"respond": {"status": 500, "headers": {header: "text/html"}}})


async def test_a_fault_names_a_venue_error_by_its_errno(make_client):
    """`respond: {status, errno}` of a catalogue row answers that row's message and code."""
    client = await make_client("sdk")
    fault = {"match": {"path": LIST}, "respond": {"status": 503, "errno": -18013}, "times": 1}
    assert (await client.post("/__admin/faults", json=fault)).status == 200
    r = await client.get(LIST, headers=ALICE)
    body = await r.json()
    assert (r.status, body["errno"], body["error"]) == (503, -18013, "On maintenance")
    assert body["details"]["code"] == "ON_MAINTENANCE"

"""GET /api/v3/credential/list over real HTTP: shape, filters, bad input, auth, routing."""

from __future__ import annotations

import json
import uuid

import pytest
from _api import DOCS_FIELDS as DOC_FIELDS
from _api import ENVELOPE_KEYS
from support import ALICE, LIST, bearer

from cadenza_mock.scenario import load_scenario

# From scenarios/default.yaml: its one explicit BINANCE record.
DOCUMENTED_ID = "660e8400-e29b-41d4-a716-446655440000"
DEFAULT = load_scenario("default")


async def get_json(client, path: str = LIST, headers=ALICE, **params):
    response = await client.get(path, headers=headers, params=params or None)
    return response, json.loads(await response.read())


def assert_error(response, body, status: int, errno: int) -> str:
    assert response.status == status, body
    assert list(body) == ENVELOPE_KEYS
    assert body["data"] is None and body["success"] is False and body["errno"] == errno
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


# --------------------------------------------------------------------------- shape


async def test_envelope_and_documented_fields(client):
    response, body = await get_json(client)
    assert response.status == 200
    assert response.content_type == "application/json"
    assert list(body) == ENVELOPE_KEYS
    assert body["success"] is True and body["errno"] == 0 and body["error"] is None
    items = body["data"]
    assert len(items) == len(DEFAULT.credentials) == 4
    for item in items:
        assert list(item) == DOC_FIELDS
        assert str(uuid.UUID(item["credentialId"])) == item["credentialId"]
        assert str(uuid.UUID(item["userId"])) == item["userId"]
        for stamp in ("createdAt", "updatedAt"):
            assert type(item[stamp]) is int
            # Milliseconds, not seconds: after 2001 in ms is > 1e12.
            assert item[stamp] > 1_000_000_000_000
        assert item["createdAt"] <= item["updatedAt"]
        assert item["type"] in ("EXCHANGE", "BROKER")
        assert item["venue"] in ("BINANCE", "OKX", "BYBIT", "COINBASE", "KRAKEN")


async def test_documented_record_and_masked_key(client):
    _, body = await get_json(client)
    by_id = {item["credentialId"]: item for item in body["data"]}
    item = by_id[DOCUMENTED_ID]
    # The scenario gives the full key abc123def...; the wire keeps six characters.
    assert item["apiKey"] == "abc123***"
    assert item["name"] == "My Binance API Key"
    assert item["createdAt"] == item["updatedAt"] == 1703052635110
    for item in body["data"]:
        assert item["apiKey"].endswith("***")
        assert len(item["apiKey"]) == 9


async def test_revoked_records_are_listed(client):
    _, body = await get_json(client)
    statuses = [item["status"] for item in body["data"]]
    assert statuses.count("REVOKED") == 1  # default.yaml's one generated REVOKED record
    assert statuses.count("ACTIVE") == 3


async def test_order_is_created_at_then_id(client):
    _, body = await get_json(client)
    keys = [(item["createdAt"], item["credentialId"]) for item in body["data"]]
    assert keys == sorted(keys)


async def test_repeated_requests_give_the_same_bytes(client):
    first = await (await client.get(LIST, headers=ALICE)).read()
    second = await (await client.get(LIST, headers=ALICE)).read()
    assert first == second


# --------------------------------------------------------------------------- filters


def ids(body) -> set[str]:
    return {item["credentialId"] for item in body["data"]}


def expected(**where) -> set[str]:
    """Ids the scenario itself says match: derived from the loaded records, not the server."""
    return {
        c.credential_id
        for c in DEFAULT.credentials
        if all(getattr(c, field) == wanted for field, wanted in where.items())
    }


@pytest.mark.parametrize("status", ["ACTIVE", "REVOKED"])
async def test_status_filter(client, status):
    _, body = await get_json(client, status=status)
    assert ids(body) == expected(status=status)
    assert {item["status"] for item in body["data"]} <= {status}


@pytest.mark.parametrize("ctype", ["EXCHANGE", "BROKER"])
async def test_type_filter(client, ctype):
    _, body = await get_json(client, type=ctype)
    assert ids(body) == expected(type=ctype)


async def test_credential_ids_filter(client):
    wanted = sorted(expected())[:2]
    unknown = str(uuid.UUID(int=1, version=4))
    _, body = await get_json(client, credentialIds=",".join([*wanted, unknown]))
    assert ids(body) == set(wanted)  # unknown ids simply match nothing


async def test_credential_ids_are_case_insensitive(client):
    _, body = await get_json(client, credentialIds=DOCUMENTED_ID.upper())
    assert ids(body) == {DOCUMENTED_ID}


async def test_repeated_credential_ids_are_accepted(client):
    wanted = sorted(expected())[:2]
    response = await client.get(
        LIST, headers=ALICE, params=[("credentialIds", wanted[0]), ("credentialIds", wanted[1])]
    )
    assert ids(json.loads(await response.read())) == set(wanted)


async def test_filters_combine_with_and(client):
    revoked = expected(status="REVOKED")
    everything = ",".join(sorted(expected()))
    _, body = await get_json(client, type="EXCHANGE", status="REVOKED", credentialIds=everything)
    assert ids(body) == revoked == expected(status="REVOKED", type="EXCHANGE")
    _, body = await get_json(client, type="BROKER", status="ACTIVE", credentialIds=everything)
    assert body["data"] == []


async def test_unknown_parameters_are_ignored(client):
    _, plain = await get_json(client)
    _, extra = await get_json(client, colour="blue")
    assert extra == plain


BAD_QUERIES = [
    ({"status": "DELETED"}, "status", "ACTIVE, REVOKED"),
    ({"status": "active"}, "status", "ACTIVE, REVOKED"),
    ({"status": ""}, "status", "ACTIVE, REVOKED"),
    ({"type": "WALLET"}, "type", "EXCHANGE, BROKER"),
    ({"type": ""}, "type", "EXCHANGE, BROKER"),
    ({"credentialIds": ""}, "credentialIds", "comma-separated UUIDs"),
    ({"credentialIds": "not-a-uuid"}, "credentialIds", "comma-separated UUIDs"),
    ({"credentialIds": DOCUMENTED_ID[:-1]}, "credentialIds", "comma-separated UUIDs"),
    (
        {"credentialIds": f"{DOCUMENTED_ID},,{DOCUMENTED_ID}"},
        "credentialIds",
        "comma-separated UUIDs",
    ),
    ({"credentialIds": f"{DOCUMENTED_ID},"}, "credentialIds", "comma-separated UUIDs"),
]


@pytest.mark.parametrize(("params", "name", "allowed"), BAD_QUERIES)
async def test_bad_filter_values(client, params, name, allowed):
    response, body = await get_json(client, **params)
    message = assert_error(response, body, 400, -22015)
    assert message.startswith(f"Invalid argument: {name}:")
    assert message.endswith(f"(allowed: {allowed})")


@pytest.mark.parametrize(
    ("pairs", "name", "allowed"),
    [
        ([("status", "ACTIVE"), ("status", "REVOKED")], "status", "ACTIVE, REVOKED"),
        ([("status", "ACTIVE"), ("status", "ACTIVE")], "status", "ACTIVE, REVOKED"),
        ([("type", "EXCHANGE"), ("type", "BROKER")], "type", "EXCHANGE, BROKER"),
    ],
)
async def test_duplicate_single_value_parameter(client, pairs, name, allowed):
    response = await client.get(LIST, headers=ALICE, params=pairs)
    message = assert_error(response, json.loads(await response.read()), 400, -22015)
    assert f"{name}:" in message and "more than once" in message and allowed in message


async def test_bad_query_loses_no_state(client):
    _, before = await get_json(client)
    await get_json(client, status="NOPE")
    _, after = await get_json(client)
    assert after == before


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing Authorization header"),
        ({"Authorization": "Basic YWxpY2U6cHc="}, "must be 'Bearer <access token>'"),
        ({"Authorization": "Bearer"}, "must be 'Bearer <access token>'"),
        ({"Authorization": "alice-token"}, "must be 'Bearer <access token>'"),
        (bearer("no-such-token"), "invalid token"),
        (bearer("alice-expired-token"), "token expired"),
    ],
)
async def test_auth_failures_are_distinct_401s(client, headers, reason):
    response, body = await get_json(client, headers=headers)
    message = assert_error(response, body, 401, -19002)
    assert message.startswith("Unauthorized: ")
    assert reason in message


async def test_the_four_auth_messages_differ(client):
    messages = set()
    for headers in (
        {},
        {"Authorization": "Token x"},
        bearer("nope"),
        bearer("alice-expired-token"),
    ):
        _, body = await get_json(client, headers=headers)
        messages.add(body["error"])
    assert len(messages) == 4


async def test_auth_is_checked_before_query(client):
    response, body = await get_json(client, headers={}, status="NOPE")
    assert_error(response, body, 401, -19002)


@pytest.mark.scenario("multi-user")
async def test_users_see_only_their_own(client):
    scenario = load_scenario("multi-user")
    seen: dict[str, set[str]] = {}
    for user in scenario.users:
        _, body = await get_json(client, headers=bearer(user.tokens[0]))
        assert {item["userId"] for item in body["data"]} <= {user.user_id}
        seen[user.user_id] = ids(body)
        assert seen[user.user_id] == {
            c.credential_id for c in scenario.credentials if c.user_id == user.user_id
        }
    alice, bob, carol = seen.values()
    assert len(alice) == 3 and len(bob) == 4 and carol == set()
    # Asking for another user's ids by name still yields nothing.
    _, body = await get_json(client, headers=bearer("carol-token"), credentialIds=",".join(bob))
    assert body["data"] == []


@pytest.mark.scenario("auth-errors")
async def test_user_with_only_expired_tokens(client):
    response, body = await get_json(client, headers=bearer("expired-only-token"))
    assert "token expired" in assert_error(response, body, 401, -19002)
    response, body = await get_json(client, headers=bearer("alice-old-token"))
    assert "token expired" in assert_error(response, body, 401, -19002)


@pytest.mark.scenario("empty")
async def test_empty_scenario_lists_nothing(client):
    response, body = await get_json(client)
    assert response.status == 200 and body["data"] == []


@pytest.mark.scenario("revoked")
async def test_revoked_scenario(client):
    _, body = await get_json(client)
    assert len(body["data"]) == 3
    assert {item["status"] for item in body["data"]} == {"REVOKED"}
    _, active = await get_json(client, status="ACTIVE")
    assert active["data"] == []


# --------------------------------------------------------------------------- routing


@pytest.mark.parametrize("path", ["/", "/api/v3/credential/lists", "/api/v2/credential/list"])
async def test_unknown_route_is_404_in_envelope(client, path):
    response, body = await get_json(client, path=path)
    message = assert_error(response, body, 404, -19003)
    assert path in message


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_wrong_method_is_405_in_envelope(client, method):
    response = await client.request(method, LIST, headers=ALICE)
    message = assert_error(response, json.loads(await response.read()), 405, -19003)
    assert "GET" in message and method in message
    assert "GET" in response.headers["Allow"]


async def test_a_remembered_list_never_outlives_a_change_or_a_logout(client):
    """Repeated list calls with a static token are answered from a cache keyed by the raw
    header and query; any change of state, a reset and a logout must all invalidate it."""
    first = await (await client.get(LIST, headers=ALICE)).read()
    assert await (await client.get(LIST, headers=ALICE)).read() == first
    active = next(i for i in json.loads(first)["data"] if i["status"] == "ACTIVE")
    revoke = await client.post(
        "/api/v3/credential/revoke", headers=ALICE, json={"credentialId": active["credentialId"]}
    )
    assert revoke.status == 200
    after = json.loads(await (await client.get(LIST, headers=ALICE)).read())["data"]
    assert {i["credentialId"]: i["status"] for i in after}[active["credentialId"]] == "REVOKED"
    assert (await client.post("/__admin/reset")).status == 200
    assert await (await client.get(LIST, headers=ALICE)).read() == first
    assert (await client.post("/api/v3/auth/logout", headers=ALICE)).status == 200
    gone = await client.get(LIST, headers=ALICE)
    assert gone.status == 401 and json.loads(await gone.read())["errno"] == -19002
    # a query not seen before is checked from scratch: the ended token is refused first
    bad = await client.get(LIST, headers=bearer("alice-token"), params={"status": "nope"})
    assert bad.status == 401

"""The sdk wire profile (cadenza-client-python 3.5.4) over real HTTP.

Field names and order, ISO twins (computed here from the ms value, not by the mock's
code), the sdk's filter names, repeated credentialIds, pagination, `details` on errors,
trading accounts from verify, and each profile ignoring the other's parameter names.
"""

from __future__ import annotations

import json
import re

import pytest
from _api import (
    CREATE,
    DETAILS_KEYS,
    DOCS_FIELDS,
    DOCUMENTED_ID,
    ENVELOPE_KEYS,
    OKX_ID,
    REVOKE,
    REVOKED_ID,
    SDK_ACCOUNT_KEYS,
    SDK_FIELDS,
    SDK_REVOKED_FIELDS,
    UNKNOWN_ID,
    VERIFY,
    Api,
    assert_error,
    iso_from_ms,
)
from support import ALICE, LIST, bearer

from cadenza_mock.scenario import load_scenario

SDK_SCENARIO = load_scenario("sdk")
PAGINATION_KEYS = ["offset", "limit", "total", "cursor", "hasNext"]
ACCOUNT_STATUSES = {"NEW", "CREATED", "ACTIVE", "INACTIVE", "LOCKED", "DISCONNECTED", "UNAVAILABLE"}


@pytest.fixture
async def sdk(make_client) -> Api:
    return Api(await make_client("sdk"), "sdk")


@pytest.fixture
async def docs(make_client) -> Api:
    return Api(await make_client("default"), "docs")


async def get(api: Api, params=None, headers=ALICE) -> tuple[int, dict]:
    return await api.call("GET", LIST, headers=headers, params=params)


def ids(payload: dict) -> list[str]:
    return [item["credentialId"] for item in payload["data"]]


# --------------------------------------------------------------------------- list shape


async def test_sdk_list_fields_and_iso_twins(sdk):
    status, payload = await get(sdk)
    assert status == 200
    assert list(payload) == [*ENVELOPE_KEYS, "pagination"]
    assert len(payload["data"]) == len(SDK_SCENARIO.credentials)
    for item in payload["data"]:
        revoked = item["status"] == "REVOKED"
        # no apiKey, no userId; revokedAt and its twin only once revoked, never null
        assert list(item) == (SDK_REVOKED_FIELDS if revoked else SDK_FIELDS)
        for stamp in ("createdAt", "updatedAt") + (("revokedAt",) if revoked else ()):
            assert type(item[stamp]) is int
            assert item[f"{stamp}DateTime"] == iso_from_ms(item[stamp])
    assert None not in [v for item in payload["data"] for v in item.values()]
    # The documented example of an ISO twin: 1703052635110 ms.
    assert iso_from_ms(1703052635110) == "2023-12-20T06:10:35.110Z"


async def test_every_sdk_status_is_listed(sdk):
    _, payload = await get(sdk)
    statuses = {item["status"] for item in payload["data"]}
    # The bundled sdk scenario promises every sdk status in its description.
    assert "every sdk status" in SDK_SCENARIO.description
    assert statuses == {"CREATED", "ACTIVE", "EXPIRED", "REVOKED"}


async def test_default_scenario_in_sdk_profile(make_client):
    api = Api(await make_client("default", profile="sdk"), "sdk")
    _, payload = await get(api)
    by_id = {item["credentialId"]: item for item in payload["data"]}
    documented = by_id[DOCUMENTED_ID]
    assert documented["createdAtDateTime"] == "2023-12-20T06:10:35.110Z"
    assert documented["credentialType"] == "API_KEY"  # EXCHANGE has no sdk equivalent
    assert by_id[REVOKED_ID]["revokedAt"] == by_id[REVOKED_ID]["updatedAt"]


async def test_docs_list_has_exactly_nine_fields_and_no_pagination(docs):
    await docs.create()
    await docs.ok(REVOKE, {"credentialId": DOCUMENTED_ID})
    _, payload = await get(docs)
    assert list(payload) == ENVELOPE_KEYS
    assert all(list(item) == DOCS_FIELDS for item in payload["data"])


# --------------------------------------------------------------------------- filters


def expected_ids(**where: str) -> list[str]:
    """The sdk scenario's ids matching field=value pairs, in list order (createdAt, id)."""
    creds = sorted(SDK_SCENARIO.credentials, key=lambda c: (c.created_at, c.credential_id))
    return [c.credential_id for c in creds if all(getattr(c, k) == v for k, v in where.items())]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"credentialType": "API_KEY"}, {"type": "API_KEY"}),
        ({"credentialType": "ED25519"}, {"type": "ED25519"}),
        ({"credentialStatus": "EXPIRED"}, {"status": "EXPIRED"}),
        ({"credentialStatus": "ACTIVE"}, {"status": "ACTIVE"}),
        ({"credentialType": "API_KEY", "credentialStatus": "ACTIVE"}, {"type": "API_KEY"}),
        ({"credentialType": "OAUTH"}, {"type": "OAUTH"}),
    ],
)
async def test_sdk_filters(sdk, params, where):
    if "credentialStatus" in params:
        where = {**where, "status": params["credentialStatus"]}
    status, payload = await get(sdk, params)
    assert status == 200
    assert ids(payload) == expected_ids(**where)
    assert payload["pagination"]["total"] == len(expected_ids(**where))


@pytest.mark.parametrize(
    ("params", "name", "allowed"),
    [
        ({"credentialType": "EXCHANGE"}, "credentialType", "API_KEY"),
        ({"credentialStatus": "VERIFIED"}, "credentialStatus", "EXPIRED"),
        ({"credentialStatus": ""}, "credentialStatus", "CREATED"),
        ({"credentialIds": "nope"}, "credentialIds", "UUID"),
    ],
)
async def test_sdk_bad_filters(sdk, params, name, allowed):
    status, payload = await get(sdk, params)
    message = assert_error(status, payload, 400, -22015)
    assert name in message and allowed in message
    assert list(payload["details"]) == DETAILS_KEYS


async def test_repeated_credential_ids(sdk):
    wanted = expected_ids()[:2]
    status, payload = await get(sdk, [("credentialIds", wanted[0]), ("credentialIds", wanted[1])])
    assert status == 200 and ids(payload) == wanted
    # Unknown ids match nothing; one repeated id is one match.
    status, payload = await get(
        sdk, [("credentialIds", wanted[0]), ("credentialIds", wanted[0].upper())]
    )
    assert ids(payload) == [wanted[0]]
    _, payload = await get(sdk, [("credentialIds", UNKNOWN_ID)])
    assert payload["data"] == [] and payload["pagination"]["total"] == 0


async def test_each_profile_ignores_the_others_parameter_names(sdk, docs):
    _, all_sdk = await get(sdk)
    for params in ({"type": "BOGUS"}, {"status": "ACTIVE"}, {"type": "EXCHANGE"}):
        status, payload = await get(sdk, params)
        assert status == 200 and payload == all_sdk
    _, all_docs = await get(docs)
    for params in (
        {"credentialType": "BOGUS"},
        {"credentialStatus": "REVOKED"},
        {"offset": "x"},
        {"limit": "1"},
    ):
        status, payload = await get(docs, params)
        assert status == 200 and payload == all_docs


# --------------------------------------------------------------------------- pagination


async def test_the_credential_list_does_not_page(sdk):
    """The official document gives the list no limit or offset: everything, one page."""
    _, payload = await get(sdk)
    total = len(SDK_SCENARIO.credentials)
    assert payload["pagination"] == {"offset": 0, "limit": total, "total": total, "hasNext": False}
    assert "cursor" not in payload["pagination"]  # a string when present, never null


@pytest.mark.parametrize(
    "params",
    [
        {"offset": "2", "limit": "1"},
        {"limit": "1"},
        {"offset": "-1"},
        {"limit": "ten"},
        [("limit", "1"), ("limit", "2")],
        {"cursor": "3"},
    ],
)
async def test_paging_parameters_are_ignored_with_a_hint(sdk, params):
    _, everything = await get(sdk)
    response = await sdk.client.get(LIST, params=params, headers=ALICE)
    assert response.status == 200
    assert await response.json() == everything
    hint = response.headers["X-Cadenza-Mock-Hint"]
    assert "is ignored: the credential list does not page" in hint


# --------------------------------------------------------------------------- details


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "errno", "code"),
    [
        ("GET", LIST, None, None, 401, -19002, "INVALID_TOKEN"),
        ("GET", LIST, None, bearer("alice-expired-token"), 401, -19002, "INVALID_TOKEN"),
        ("POST", REVOKE, {"credentialId": UNKNOWN_ID}, ALICE, 404, -22016, "NOT_FOUND"),
        ("POST", CREATE, {"venue": "BINANCE"}, ALICE, 400, -19004, "VALIDATION_ERROR"),
        ("GET", "/api/v3/nothing", None, ALICE, 404, -19003, "NOT_FOUND"),
    ],
)
async def test_errors_carry_details(sdk, docs, method, path, body, headers, status, errno, code):
    got, payload = await sdk.call(method, path, body, headers=headers)
    assert_error(got, payload, status, errno)
    assert list(payload) == [*ENVELOPE_KEYS, "details"]
    details = payload["details"]
    assert list(details) == DETAILS_KEYS  # tenant_id and request_id: snake_case
    assert details["code"] == code
    # The docs profile's envelope has exactly four keys.
    got, payload = await docs.call(method, path, body, headers=headers)
    assert_error(got, payload, status, errno)
    assert list(payload) == ENVELOPE_KEYS


async def test_already_revoked_details(sdk):
    (revoked,) = expected_ids(status="REVOKED")
    status, payload = await sdk.post(REVOKE, {"credentialId": revoked})
    assert_error(status, payload, 400, -130001)
    assert payload["details"]["code"] == "ALREADY_REVOKED"


# --------------------------------------------------------------------------- verify


async def test_verify_returns_trading_accounts(sdk):
    active = expected_ids(status="ACTIVE")
    accounts = await sdk.ok(VERIFY, {"credentialIds": active})
    by_credential: dict[str, list[dict]] = {}
    listed = {item["credentialId"]: item for item in (await sdk.items()).values()}
    for account in accounts:
        assert list(account) == SDK_ACCOUNT_KEYS
        assert account["accountType"] in {"SPOT", "MARGIN", "CREDIT"}
        # Reached but not connected: NEW (connected ones are the real accounts).
        assert account["status"] in ACCOUNT_STATUSES and account["status"] == "NEW"
        assert account["externalTradingAccountId"] == account["externalAccountType"].lower()
        (cred,) = account["credentials"]
        assert cred == listed[cred["credentialId"]]
        assert account["venue"] == cred["venue"]
        by_credential.setdefault(cred["credentialId"], []).append(account)
    assert set(by_credential) == set(active)
    for cid, group in by_credential.items():
        venue = listed[cid]["venue"]
        if venue in ("B2C2", "WINTERMUTE"):  # dealers: credit lines
            assert [a["accountType"] for a in group] == ["CREDIT"]
        if venue == "BINANCE":
            types = {a["externalAccountType"]: a["accountType"] for a in group}
            assert types["SPOT"] == "SPOT" and types["MARGIN"] == "MARGIN"
    # Account ids are unique and the same on every verify (seeded).
    account_ids = [a["tradingAccountId"] for a in accounts]
    assert len(set(account_ids)) == len(account_ids)
    again = await sdk.ok(VERIFY, {"credentialIds": active})
    assert [a["tradingAccountId"] for a in again] == account_ids


async def test_sdk_verify_requires_credential_ids(sdk):
    before = await sdk.snapshot()
    status, payload = await sdk.post(VERIFY, {"credentialId": expected_ids()[0]})
    assert "credentialIds" in assert_error(status, payload, 400, -19004)
    assert await sdk.snapshot() == before


# --------------------------------------------------------------------------- bodies


async def test_sdk_create_uses_sdk_names(sdk):
    body = {"venue": "DERIBIT", "credentialType": "ED25519", "nickname": "perps"}
    created = await sdk.ok(CREATE, body)  # the sdk needs no apiKey for every type
    assert (created["credentialType"], created["nickname"]) == ("ED25519", "perps")
    # The docs names are ignored: `type` does not replace the required credentialType.
    status, payload = await sdk.post(CREATE, {"venue": "BINANCE", "type": "API_KEY"})
    assert "credentialType" in assert_error(status, payload, 400, -19004)
    created = await sdk.ok(
        CREATE, {"venue": "BINANCE", "credentialType": "HMAC", "name": "ignored"}
    )
    assert "nickname" not in created  # `name` is not the sdk's, and none is invented


async def test_docs_create_ignores_sdk_names(docs):
    body = docs.create_body(credentialType="HMAC", nickname="ignored")
    del body["name"]
    created = await docs.ok(CREATE, body)
    assert created["type"] == "EXCHANGE" and "name" not in created
    assert list(created) == [f for f in DOCS_FIELDS if f != "name"]


async def test_sdk_uat_venues_and_okx_uat_passphrase(sdk):
    body = {"venue": "OKX_UAT", "credentialType": "API_KEY", "apiKey": "k0123456789ab"}
    status, payload = await sdk.post(CREATE, {**body, "apiSecret": "s"})
    assert "apiPassphrase" in assert_error(status, payload, 400, -19004)
    created = await sdk.ok(CREATE, {**body, "apiSecret": "s", "apiPassphrase": "p"})
    assert created["venue"] == "OKX_UAT"
    listed = json.loads(await sdk.list_bytes())["data"]
    assert created in listed


async def test_okx_in_default_scenario_sdk_verify(make_client):
    api = Api(await make_client("default", profile="sdk"), "sdk")
    accounts = await api.ok(VERIFY, {"credentialIds": [OKX_ID]})
    assert [(a["externalAccountType"], a["accountType"]) for a in accounts] == [
        ("TRADING", "SPOT"),
        ("FUNDING", "SPOT"),
    ]


async def test_each_error_carries_its_own_request_id(sdk):
    ids = []
    for _ in range(2):
        status, payload = await sdk.call("GET", LIST, headers=bearer("nobody"))
        assert status == 401
        request_id = payload["details"]["request_id"]
        assert isinstance(request_id, str) and request_id.startswith("req_")
        ids.append(request_id)
    assert ids[0] != ids[1]


def test_error_request_ids_are_reproducible_per_seed():
    """details.request_id comes from the seed and the error's place since the load or
    reset: the same calls give byte-identical error answers, on every run."""
    import requests

    from cadenza_mock import MockServer

    def errors(mock: MockServer) -> list[bytes]:
        calls = [
            ("GET", "/api/v3/credential/list", {"Authorization": "Bearer nope"}),
            ("GET", "/api/v3/credential/list?credentialStatus=NOPE", ALICE),
            ("POST", "/api/v3/credential/revoke", ALICE),
        ]
        return [
            requests.request(m, mock.url + p, headers=h, timeout=10).content for m, p, h in calls
        ]

    with MockServer("sdk") as first, MockServer("sdk") as second:
        seen = errors(first)
        assert seen == errors(second)
        ids = [json.loads(body)["details"]["request_id"] for body in seen]
        assert len(set(ids)) == 3 and all(re.fullmatch(r"req_[0-9a-f]{20}", i) for i in ids)
        first.reset()
        assert errors(first) == seen  # a reset starts the sequence again
    with MockServer("sdk", seed=99) as other:
        assert errors(other) != seen  # another seed, other ids

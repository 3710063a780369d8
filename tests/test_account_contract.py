"""Verify and connect as the platform's own document words them,
over real sockets in the sdk profile.

Verify: "NEW (not yet connected), ACTIVE or current status (connected by the current user),
or UNAVAILABLE (connected by another user)"; every reported account has a
`tradingAccountId` (the document requires it), so each must answer the calls that take one.
Connect: "For Fermata venue, only venue is required".
"""

from __future__ import annotations

from typing import Any

import pytest
from _api import REVOKE, VERIFY, Api, assert_error
from support import bearer

ACCOUNT = "/api/v3/tradingAccount"
CONNECT = f"{ACCOUNT}/connect"
ACCOUNTS = f"{ACCOUNT}/list"
OPERATIONS = f"{ACCOUNT}/operation/list"
ALICE_CRED = "11111111-1111-4111-8111-111111111111"
BOB_CRED = "66666666-6666-4666-8666-666666666666"
SHARED_KEY = "sharedKEYabcdefghijklmnop0123456789"  # alice and bob hold the same keys
BINANCE = ("spot", "margin", "isolated_margin", "futures", "coin_futures")
BOB = bearer("bob-token")
SCENARIO: dict[str, Any] = {
    "profile": "sdk",
    "seed": 21,
    "now": "2026-02-01T00:00:00Z",
    "users": [
        {
            "email": "alice@example.com",
            "tokens": ["alice-token"],
            "credentials": [
                {
                    "credentialId": ALICE_CRED,
                    "venue": "BINANCE",
                    "credentialType": "API_KEY",
                    "status": "ACTIVE",
                    "apiKey": SHARED_KEY,
                    "apiSecret": "alice-secret-0001",
                }
            ],
        },
        {
            "email": "bob@example.com",
            "tokens": ["bob-token"],
            "credentials": [
                {
                    "credentialId": BOB_CRED,
                    "venue": "BINANCE",
                    "credentialType": "API_KEY",
                    "status": "ACTIVE",
                    "apiKey": SHARED_KEY,
                    "apiSecret": "bob-secret-0002",
                }
            ],
        },
    ],
}


@pytest.fixture
async def api(make_client: Any) -> Api:
    return Api(await make_client(SCENARIO), "sdk")


async def verified(api: Api, cred: str = ALICE_CRED, headers: Any = None) -> dict[str, dict]:
    """{externalTradingAccountId: account} of one verify."""
    kwargs = {"headers": headers} if headers else {}
    found = await api.ok(VERIFY, {"credentialIds": [cred]}, **kwargs)
    return {a["externalTradingAccountId"]: a for a in found}


async def listed(api: Api, headers: Any = None) -> dict[str, dict]:
    status, payload = await api.call("GET", ACCOUNTS, headers=headers or bearer("alice-token"))
    assert status == 200
    return {a["tradingAccountId"]: a for a in payload["data"]}


async def connect(
    api: Api, identity: str, cred: str = ALICE_CRED, headers: Any = None, **fields: Any
) -> dict:
    body = {"credentialIds": [cred], "externalTradingAccountId": identity, **fields}
    return await api.ok(CONNECT, body, headers=headers or bearer("alice-token"))


# --------------------------------------------------------------------------- verify


async def test_the_ids_verify_reports_for_new_accounts_work(api: Api) -> None:
    reached = await verified(api)
    assert tuple(reached) == BINANCE and {a["status"] for a in reached.values()} == {"NEW"}
    # The same ids on every call: they are the caller's records now, listed as NEW.
    assert await verified(api) == reached
    assert {a["tradingAccountId"]: a for a in reached.values()} == await listed(api)
    # Each answers the calls that take a tradingAccountId (no 404).
    enabled = await api.ok(
        f"{ACCOUNT}/enable", {"tradingAccountId": reached["spot"]["tradingAccountId"]}
    )
    assert enabled["status"] == "ACTIVE"
    disabled = await api.ok(
        f"{ACCOUNT}/disable", {"tradingAccountId": reached["margin"]["tradingAccountId"]}
    )
    assert disabled["status"] == "INACTIVE"
    renamed = await api.ok(
        f"{ACCOUNT}/update",
        {"tradingAccountId": reached["futures"]["tradingAccountId"], "nickname": "perp desk"},
    )
    assert (renamed["status"], renamed["nickname"]) == ("NEW", "perp desk")
    gone = reached["coin_futures"]["tradingAccountId"]
    assert (await api.ok(f"{ACCOUNT}/disconnect", {"tradingAccountId": gone}))["status"] == (
        "DISCONNECTED"
    )
    again = await verified(api)
    assert [again[i]["status"] for i in BINANCE] == ["ACTIVE", "INACTIVE", "NEW", "NEW", "NEW"]
    assert again["futures"]["nickname"] == "perp desk"
    # The disconnected one is archived; reached again, it is a new NEW account.
    assert again["coin_futures"]["tradingAccountId"] != gone
    assert (await listed(api))[gone]["status"] == "DISCONNECTED"


async def test_connect_answers_the_id_verify_reported(api: Api) -> None:
    new = (await verified(api))["spot"]
    connected = await connect(api, "spot", nickname="main")
    assert connected["tradingAccountId"] == new["tradingAccountId"]
    assert (connected["status"], connected["nickname"]) == ("ACTIVE", "main")
    assert [c["credentialId"] for c in connected["credentials"]] == [ALICE_CRED]
    status, payload = await api.call("GET", OPERATIONS)
    assert [(o["tradingAccountId"], o["operationType"]) for o in payload["data"]] == [
        (new["tradingAccountId"], "CONNECT")
    ]
    # connected once: a second connect is the usual 409, with nothing changed
    before = await listed(api)
    status, payload = await api.post(
        CONNECT, {"credentialIds": [ALICE_CRED], "externalTradingAccountId": "spot"}
    )
    assert_error(status, payload, 409, -22017)
    assert await listed(api) == before


async def test_an_account_another_user_connected_is_unavailable(api: Api) -> None:
    bobs = await connect(api, "spot", BOB_CRED, headers=BOB)
    reached = await verified(api)
    spot = reached["spot"]
    assert spot["status"] == "UNAVAILABLE"
    assert spot["tradingAccountId"] == bobs["tradingAccountId"]
    # nothing of bob's shows: alice's own credential, the default nickname
    assert [c["credentialId"] for c in spot["credentials"]] == [ALICE_CRED]
    assert {reached[i]["status"] for i in BINANCE[1:]} == {"NEW"}
    # the id answers: it is someone else's (403), connecting is the documented 409
    status, payload = await api.post(
        f"{ACCOUNT}/enable", {"tradingAccountId": spot["tradingAccountId"]}
    )
    assert_error(status, payload, 403, -22018)
    status, payload = await api.post(
        CONNECT, {"credentialIds": [ALICE_CRED], "externalTradingAccountId": "spot"}
    )
    assert "another user" in assert_error(status, payload, 409, -22017)
    assert spot["tradingAccountId"] not in await listed(api)
    assert (await listed(api, BOB))[bobs["tradingAccountId"]]["status"] == "ACTIVE"


async def test_a_new_account_another_user_connected_since_is_refused(api: Api) -> None:
    mine = (await verified(api))["spot"]["tradingAccountId"]
    await connect(api, "spot", BOB_CRED, headers=BOB)  # alice's NEW record does not block bob
    before = await listed(api)
    for action in ("enable", "disable"):
        status, payload = await api.post(f"{ACCOUNT}/{action}", {"tradingAccountId": mine})
        assert "another user has connected" in assert_error(status, payload, 400, -22015)
    assert await listed(api) == before
    assert (await verified(api))["spot"]["status"] == "UNAVAILABLE"
    # disconnecting her NEW record is still hers to do
    done = await api.ok(f"{ACCOUNT}/disconnect", {"tradingAccountId": mine})
    assert done["status"] == "DISCONNECTED"


async def test_a_revoked_credential_reports_only_its_own_disconnected_accounts(api: Api) -> None:
    connected = await connect(api, "spot")
    await api.ok(REVOKE, {"credentialId": ALICE_CRED})
    reported = await api.ok(VERIFY, {"credentialIds": [ALICE_CRED]})
    # the real records it backed (the NEW ones it alone backed too), as they are now
    assert {a["tradingAccountId"]: a["status"] for a in reported} == {
        a["tradingAccountId"]: "DISCONNECTED" for a in (await listed(api)).values()
    }
    assert connected["tradingAccountId"] in {a["tradingAccountId"] for a in reported}


# --------------------------------------------------------------------------- Fermata


async def test_fermata_connects_with_the_venue_alone(api: Api) -> None:
    first = await api.ok(CONNECT, {"venue": "FERMATA"})
    assert (first["venue"], first["status"], first["credentials"]) == ("FERMATA", "ACTIVE", [])
    assert first["nickname"] == "Fermata" and first["accountType"] == "SPOT"
    second = await api.ok(CONNECT, {"venue": "FERMATA", "nickname": "dealer book"})
    assert second["nickname"] == "dealer book"
    assert second["tradingAccountId"] != first["tradingAccountId"]
    assert second["externalTradingAccountId"] != first["externalTradingAccountId"]
    assert set(await listed(api)) == {first["tradingAccountId"], second["tradingAccountId"]}
    disabled = await api.ok(f"{ACCOUNT}/disable", {"tradingAccountId": first["tradingAccountId"]})
    assert disabled["status"] == "INACTIVE"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "give credentialIds and externalTradingAccountId, or venue FERMATA"),
        ({"venue": "BINANCE"}, "give credentialIds and externalTradingAccountId, or venue FERMATA"),
        ({"venue": "FERMATA", "dealerAccountId": "nope"}, "dealerAccountId must be a UUID"),
        ({"venue": "fermata"}, "or venue FERMATA"),  # the hint says 'FERMATA'; see below
    ],
)
async def test_a_bad_fermata_connect_is_a_400_with_nothing_changed(
    api: Api, body: dict[str, Any], words: str
) -> None:
    response = await api.client.post(CONNECT, json=body, headers=bearer("alice-token"))
    assert words in assert_error(response.status, await response.json(), 400, -19004)
    if body.get("venue") == "fermata":
        assert "did you mean 'FERMATA'" in response.headers["X-Cadenza-Mock-Hint"]
    assert await listed(api) == {}


async def test_fermata_in_maintenance_refuses_the_connect(api: Api) -> None:
    fault = {"match": {"method": "POST", "path": CONNECT}, "times": 1, "venue": "maintenance"}
    assert (await api.client.post("/__admin/faults", json=fault)).status == 200
    status, payload = await api.post(CONNECT, {"venue": "FERMATA"})
    assert "FERMATA" in assert_error(status, payload, 503, -18013)
    assert await listed(api) == {}


async def test_the_docs_profile_has_no_fermata(make_client: Any) -> None:
    docs = Api(await make_client("default"), "docs")
    status, payload = await docs.post(CONNECT, {"venue": "FERMATA"})
    assert_error(status, payload, 400, -19004)


@pytest.mark.parametrize(
    "body",
    [
        {"venue": "FERMATA", "credentialIds": [ALICE_CRED]},
        {"venue": "FERMATA", "externalTradingAccountId": "spot"},
    ],
)
async def test_fermata_with_half_a_credential_connect_is_a_fermata_connect(
    api: Api, body: dict[str, Any]
) -> None:
    """Credentials connect only with both credentialIds and externalTradingAccountId;
    with venue FERMATA and either one alone, the venue is all that counts."""
    made = await api.ok(CONNECT, body)
    assert (made["venue"], made["credentials"]) == ("FERMATA", [])


async def test_docs_credential_ids_without_an_external_account_connect_by_keys(
    make_client: Any,
) -> None:
    docs = Api(await make_client("default"), "docs")
    body = {
        "credentialIds": ["660e8400-e29b-41d4-a716-446655440000"],
        "venue": "BINANCE",
        "apiKey": "keysKEYabcdefghij0123456789",
        "apiSecret": "keys-secret",
    }
    made = await docs.ok(CONNECT, body)
    assert (made["venue"], made["status"]) == ("BINANCE", "ACTIVE")

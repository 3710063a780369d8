"""Create, verify, rotate and revoke over real HTTP, in both wire profiles.

Every transition is checked in the answer and again in the list afterwards; every error
is checked to leave the list and the stored records byte-identical ("no error leaves the
state half-changed"). The default scenario serves in both profiles (`profile=`), the
bundled `sdk` scenario adds the sdk-only statuses CREATED and EXPIRED.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from _api import (
    ALICE_ID,
    CREATE,
    DEFAULT_NOW_MS,
    DOCS_FIELDS,
    DOCUMENTED_ID,
    DOCUMENTED_IDENTITIES,
    DOCUMENTED_KEY,
    JOURNAL,
    OKX_ID,
    REVOKE,
    REVOKED_ID,
    ROTATE,
    SDK_REVOKED_FIELDS,
    STORED,
    UNKNOWN_ID,
    VERIFY,
    Api,
    assert_error,
)
from support import LIST, bearer

PROFILES = ["docs", "sdk"]
BOB_ID = "9d2c7a10-5e3b-4c8f-b1a2-7e6d5c4b3a21"
BOB_CRED = "5a1f0c2e-7b3d-4e8a-9c6f-1d2e3f4a5b6c"
STALE_ID = "7c0e9b1a-2d3f-4a5b-8c6d-9e0f1a2b3c4d"
# Two users and a credential whose keys the (emulated) venue rejects; valid in both
# profiles (BINANCE exists in both, no type given so each profile uses its default).
TWO_USERS = {
    "description": "alice with stale keys, bob with his own credential",
    "seed": 11,
    "now": "2026-01-15T12:00:00Z",
    "users": [
        {
            "id": ALICE_ID,
            "email": "alice@example.com",
            "password": "correct-horse",
            "tokens": ["alice-token"],
            "credentials": [
                {
                    "credentialId": STALE_ID,
                    "venue": "BINANCE",
                    "name": "stale keys",
                    "apiKey": "staleKey0123456789abcdef",
                    "apiSecret": "stale-secret",
                    "keys_valid": False,
                }
            ],
        },
        {
            "id": BOB_ID,
            "email": "bob@example.com",
            "password": "battery-staple",
            "tokens": ["bob-token"],
            "credentials": [
                {
                    "credentialId": BOB_CRED,
                    "venue": "BINANCE",
                    "name": "bob's key",
                    "apiKey": "bobKey0123456789abcdefgh",
                    "apiSecret": "bob-secret",
                }
            ],
        },
    ],
}


@pytest.fixture(params=PROFILES)
async def api(request, make_client) -> Api:
    """The default scenario in each profile."""
    return Api(await make_client("default", profile=request.param), request.param)


@pytest.fixture(params=PROFILES)
async def two(request, make_client) -> Api:
    """TWO_USERS in each profile."""
    return Api(await make_client(TWO_USERS, profile=request.param), request.param)


@pytest.fixture
async def sdk(make_client) -> Api:
    """The bundled sdk scenario: every sdk status."""
    return Api(await make_client("sdk"), "sdk")


async def assert_unchanged(api: Api, before: tuple[bytes, bytes]) -> None:
    assert await api.snapshot() == before


def accounts_of(api: Api, result: list | dict) -> list[dict]:
    """sdk verify answers trading accounts; docs answers one result (or a list)."""
    assert api.sdk
    assert isinstance(result, list)
    return result


# --------------------------------------------------------------------------- create


async def test_create_returns_the_credential_and_lists_it(api):
    before = await api.items()
    created = await api.create(api_key="bybitKey0123456789xyz", name="desk bot")
    assert list(created) == api.fields
    assert created["status"] == api.created_status
    assert created["venue"] == "BINANCE"
    assert created[api.name_field] == "desk bot"
    # The frozen clock (scenario `now`) stamps the new record.
    assert created["createdAt"] == created["updatedAt"] == DEFAULT_NOW_MS
    if api.sdk:
        assert created["credentialType"] == "API_KEY"
        assert "revokedAt" not in created and "revokedAtDateTime" not in created
        assert "apiKey" not in created
    else:
        assert created["type"] == "EXCHANGE"  # documented default
        assert created["userId"] == ALICE_ID
        assert created["apiKey"] == "bybitK***"  # first six characters + ***
    after = await api.items()
    assert set(after) == set(before) | {created["credentialId"]}
    assert after[created["credentialId"]] == created


async def test_a_client_key_that_looks_masked_is_still_masked(api):
    """Only keys pasted masked into a scenario are served verbatim; a client's key never."""
    key = "looksMasked0123456789***"
    created = await api.create(api_key=key)
    stored = await api.stored(created["credentialId"])
    assert stored["apiKey"] == "looksM***"
    if not api.sdk:
        assert created["apiKey"] == "looksM***"
    journal = await (await api.client.get(JOURNAL)).text()
    assert "looksM***" in journal and key not in journal


async def test_create_without_name_invents_none_and_takes_the_given_type(api):
    body = api.create_body()
    del body[api.name_field]
    body[api.type_field] = "HMAC" if api.sdk else "BROKER"
    status, payload = await api.post(CREATE, body)
    assert status == 200, payload
    # None given, none invented: the field is absent (never null, never a made-up name),
    # in the answer, the list and the stored record alike.
    assert api.name_field not in payload["data"]
    assert payload["data"][api.type_field] == body[api.type_field]
    cid = payload["data"]["credentialId"]
    assert api.name_field not in (await api.items())[cid]
    assert (await api.stored(cid))["name"] == ""
    # An empty one given is the same as none (the Go shapes omit empty strings).
    body[api.name_field] = ""
    body["apiKey"] = "another0123456789abcdef"
    assert api.name_field not in await api.ok(CREATE, body)


async def test_create_follows_the_advanced_clock(api):
    await api.ok("/__admin/clock", {"advance": 90.5})
    created = await api.create()
    assert created["createdAt"] == DEFAULT_NOW_MS + 90_500


async def test_create_okx_with_passphrase(api):
    created = await api.create(venue="OKX", api_key="okxKey-0123456789", apiPassphrase="pp-1")
    stored = await api.stored(created["credentialId"])
    assert stored["hasApiSecret"] is True and stored["hasApiPassphrase"] is True


async def test_same_key_on_another_venue_or_for_another_user_is_no_duplicate(two):
    # bob's key on BINANCE is his, not alice's; the same string on OKX is another key.
    await two.create(api_key="bobKey0123456789abcdefgh")
    await two.create(venue="OKX", api_key="staleKey0123456789abcdef", apiPassphrase="p")


# --------------------------------------------------------------------------- verify


async def test_verify_valid_keys(api):
    created = await api.create()
    cid = created["credentialId"]
    result = await api.ok(VERIFY, api.verify_body(cid))
    after = await api.items()
    if api.sdk:
        # CREATED -> ACTIVE on the first successful verify, updatedAt moves.
        assert after[cid]["status"] == "ACTIVE"
        assert after[cid]["updatedAt"] > created["updatedAt"]
        accounts = accounts_of(api, result)
        assert len(accounts) == len(DOCUMENTED_IDENTITIES["BINANCE"])
        assert {a["status"] for a in accounts} == {"NEW"}  # reached, not connected
        assert all(a["credentials"] == [after[cid]] for a in accounts)
    else:
        assert result == {
            "credentialId": cid,
            "venue": "BINANCE",
            "status": "VERIFIED",
            "identities": DOCUMENTED_IDENTITIES["BINANCE"],
        }
        # ACTIVE stays ACTIVE: nothing to change.
        assert after[cid] == created


async def test_verify_of_an_active_credential_changes_nothing(api):
    before = await api.snapshot()
    result = await api.ok(VERIFY, api.verify_body(OKX_ID))
    if api.sdk:
        assert [a["externalAccountType"] for a in result] == ["TRADING", "FUNDING"]
    else:
        assert result["status"] == "VERIFIED"
        assert result["identities"] == DOCUMENTED_IDENTITIES["OKX"]
    await assert_unchanged(api, before)


async def test_docs_verify_many_answers_a_list(make_client):
    api = Api(await make_client("default"), "docs")
    result = await api.ok(VERIFY, {"credentialIds": [DOCUMENTED_ID, REVOKED_ID]})
    assert [(r["credentialId"], r["status"]) for r in result] == [
        (DOCUMENTED_ID, "VERIFIED"),
        (REVOKED_ID, "FAILED"),
    ]
    # A list of one is still a list: the answer's shape follows the request's.
    assert isinstance(await api.ok(VERIFY, {"credentialIds": [DOCUMENTED_ID]}), list)


async def test_verify_invalid_keys_fails_and_changes_nothing(two):
    before = await two.snapshot()
    result = await two.ok(VERIFY, two.verify_body(STALE_ID))
    if two.sdk:
        assert result == []
    else:
        assert result == {
            "credentialId": STALE_ID,
            "venue": "BINANCE",
            "status": "FAILED",
            "identities": [],
        }
    await assert_unchanged(two, before)


async def test_verify_revoked_fails(api):
    before = await api.snapshot()
    result = await api.ok(VERIFY, api.verify_body(REVOKED_ID))
    if api.sdk:
        # A revoked key reaches nothing: only accounts it backed would come back (as they
        # are, DISCONNECTED), and this one backed none.
        assert result == []
    else:
        assert result["status"] == "FAILED" and result["identities"] == []
    await assert_unchanged(api, before)


async def test_verify_expired_fails_and_stays_expired(sdk):
    expired = [i for i in (await sdk.items()).values() if i["status"] == "EXPIRED"]
    assert len(expired) == 1  # scenarios/sdk.yaml has one EXPIRED DERIBIT record
    before = await sdk.snapshot()
    assert await sdk.ok(VERIFY, sdk.verify_body(expired[0]["credentialId"])) == []
    await assert_unchanged(sdk, before)


async def test_verify_scenario_created_record_activates_it(sdk):
    created = [i for i in (await sdk.items()).values() if i["status"] == "CREATED"]
    assert len(created) == 1  # the BLOCKFILLS record
    cid = created[0]["credentialId"]
    accounts = await sdk.ok(VERIFY, sdk.verify_body(cid))
    assert accounts and {a["venue"] for a in accounts} == {"BLOCKFILLS"}
    assert (await sdk.items())[cid]["status"] == "ACTIVE"


async def test_verify_with_one_bad_id_changes_nothing(sdk):
    created = next(i for i in (await sdk.items()).values() if i["status"] == "CREATED")
    before = await sdk.snapshot()
    status, payload = await sdk.post(
        VERIFY, {"credentialIds": [created["credentialId"], UNKNOWN_ID]}
    )
    assert_error(status, payload, 404, -22016)
    # The CREATED one named first was not activated on the way to the 404.
    await assert_unchanged(sdk, before)


# --------------------------------------------------------------------------- rotate


async def test_rotate_replaces_the_key_and_bumps_updated_at(api):
    before = (await api.items())[DOCUMENTED_ID]
    rotated = await api.ok(
        ROTATE,
        {"credentialId": DOCUMENTED_ID, "apiKey": "rotKey9876543210zyx", "apiSecret": "rs"},
    )
    assert list(rotated) == api.fields
    # The record's updatedAt (2023) is before the frozen clock: updatedAt becomes `now`.
    assert rotated["updatedAt"] == DEFAULT_NOW_MS > before["updatedAt"]
    unchanged = {k: v for k, v in rotated.items() if k not in ("updatedAt", "updatedAtDateTime")}
    if not api.sdk:
        assert unchanged.pop("apiKey") == "rotKey***"
        assert before.pop("apiKey") == "abc123***"
    assert unchanged == {
        k: v for k, v in before.items() if k not in ("updatedAt", "updatedAtDateTime")
    }
    assert (await api.items())[DOCUMENTED_ID] == rotated
    # The new keys verify.
    result = await api.ok(VERIFY, api.verify_body(DOCUMENTED_ID))
    assert result if api.sdk else result["status"] == "VERIFIED"


async def test_rotate_twice_under_a_frozen_clock_still_moves_updated_at(api):
    created = await api.create()
    cid = created["credentialId"]
    stamps = [created["updatedAt"]]
    for n in range(3):
        body = {"credentialId": cid, "apiKey": f"rotated{n}0123456789", "apiSecret": "s"}
        stamps.append((await api.ok(ROTATE, body))["updatedAt"])
    # Same frozen `now` every time, yet each change is visible: +1 ms each.
    assert stamps == [DEFAULT_NOW_MS + n for n in range(4)]


async def test_rotated_away_key_no_longer_verifies(api):
    await api.ok(
        ROTATE, {"credentialId": DOCUMENTED_ID, "apiKey": "freshKey0123456789", "apiSecret": "s"}
    )
    # The old key is no longer registered, so it is no duplicate; but the venue refuses it.
    again = await api.create(api_key=DOCUMENTED_KEY)
    result = await api.ok(VERIFY, api.verify_body(again["credentialId"]))
    if api.sdk:
        assert result == []
        assert (await api.items())[again["credentialId"]]["status"] == "CREATED"
    else:
        assert result["status"] == "FAILED" and result["identities"] == []


async def test_rotate_expired_makes_it_active(sdk):
    expired = next(i for i in (await sdk.items()).values() if i["status"] == "EXPIRED")
    cid = expired["credentialId"]
    rotated = await sdk.ok(
        ROTATE, {"credentialId": cid, "apiKey": "deribitNew012345", "apiSecret": "s"}
    )
    assert rotated["status"] == "ACTIVE"
    assert rotated["updatedAt"] > expired["updatedAt"]
    assert len(await sdk.ok(VERIFY, sdk.verify_body(cid))) == 2  # DERIBIT futures, options


async def test_rotate_okx_needs_the_passphrase(api):
    before = await api.snapshot()
    status, payload = await api.post(
        ROTATE, {"credentialId": OKX_ID, "apiKey": "okxNew0123456789", "apiSecret": "s"}
    )
    assert "apiPassphrase" in assert_error(status, payload, 400, -19004)
    await assert_unchanged(api, before)
    body = {"credentialId": OKX_ID, "apiKey": "okxNew0123456789", "apiSecret": "s"}
    await api.ok(ROTATE, {**body, "apiPassphrase": "p"})


# --------------------------------------------------------------------------- revoke


async def test_revoke_is_final(api):
    created = await api.create()
    cid = created["credentialId"]
    revoked = await api.ok(REVOKE, {"credentialId": cid})
    # docs: the record without apiKey, plus revokedAt, as the revoke page's example shows;
    # sdk: revokedAt and its twin appear
    if api.sdk:
        assert list(revoked) == SDK_REVOKED_FIELDS
    else:
        assert list(revoked) == [f for f in DOCS_FIELDS if f != "apiKey"] + ["revokedAt"]
    assert revoked["status"] == "REVOKED"
    assert revoked["updatedAt"] == created["updatedAt"] + 1  # frozen clock: +1 ms
    assert revoked["revokedAt"] == revoked["updatedAt"]
    if api.sdk:
        assert revoked["revokedAtDateTime"] == revoked["updatedAtDateTime"]
    listed = (await api.items())[cid]  # the list keeps its documented fields
    assert {k: v for k, v in listed.items() if k != "apiKey"} == {
        k: v for k, v in revoked.items() if api.sdk or k != "revokedAt"
    }
    assert api.sdk or listed["apiKey"].endswith("***")
    assert (await api.stored(cid))["revokedAt"] == revoked["updatedAt"]
    before = await api.snapshot()
    for path, body in (
        (REVOKE, {"credentialId": cid}),
        (ROTATE, {"credentialId": cid, "apiKey": "again0123456789", "apiSecret": "s"}),
    ):
        status, payload = await api.post(path, body)
        assert assert_error(status, payload, 400, -130001) == "Credential is already revoked"
    # Verify never brings it back.
    result = await api.ok(VERIFY, api.verify_body(cid))
    if not api.sdk:
        assert result["status"] == "FAILED"
    else:
        assert result == []  # it backed no account: nothing to report, nothing invented
    await assert_unchanged(api, before)


async def test_revoked_key_can_be_registered_again(api):
    created = await api.create(api_key="reusedKey0123456789")
    await api.ok(REVOKE, {"credentialId": created["credentialId"]})
    again = await api.create(api_key="reusedKey0123456789")
    assert again["credentialId"] != created["credentialId"]
    assert again["status"] == api.created_status


async def test_revoke_created_and_expired(sdk):
    items = (await sdk.items()).values()
    for status in ("CREATED", "EXPIRED"):
        cid = next(i["credentialId"] for i in items if i["status"] == status)
        assert (await sdk.ok(REVOKE, {"credentialId": cid}))["status"] == "REVOKED"


async def test_concurrent_revokes_give_one_success(api):
    created = await api.create()
    body = {"credentialId": created["credentialId"]}
    results = await asyncio.gather(*(api.post(REVOKE, body) for _ in range(2)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 400]
    failed = next(payload for status, payload in results if status == 400)
    assert failed["errno"] == -130001
    assert (await api.items())[created["credentialId"]]["status"] == "REVOKED"


async def test_many_concurrent_revokes_give_one_success(api):
    body = {"credentialId": DOCUMENTED_ID}
    results = await asyncio.gather(*(api.post(REVOKE, body) for _ in range(8)))
    assert sorted(s for s, _ in results) == [200] + [400] * 7


# --------------------------------------------------------------------------- errors


def _bad_create_bodies(api: Api) -> list[tuple[str, object, str]]:
    """(case, body, field the message must name) for 400 -19004 on create."""
    valid = api.create_body()
    foreign_venue = "B2C2" if not api.sdk else "BYBIT"  # only in the other profile
    required = "credentialType" if api.sdk else "apiKey"
    cases = [
        ("no venue", {k: v for k, v in valid.items() if k != "venue"}, "venue"),
        ("no " + required, {k: v for k, v in valid.items() if k != required}, required),
        ("unknown venue", {**valid, "venue": "FTX"}, "venue"),
        ("other profile's venue", {**valid, "venue": foreign_venue}, "venue"),
        ("venue lower case", {**valid, "venue": "binance"}, "venue"),
        ("apiKey a number", {**valid, "apiKey": 12345}, "apiKey"),
        ("apiSecret null", {**valid, "apiSecret": None}, "apiSecret"),
        ("apiKey empty", {**valid, "apiKey": ""}, "apiKey"),
        ("OKX without passphrase", {**valid, "venue": "OKX"}, "apiPassphrase"),
        ("type unknown", {**valid, api.type_field: "SPOT"}, api.type_field),
        ("name a number", {**valid, api.name_field: 7}, api.name_field),
    ]
    if not api.sdk:
        cases.append(("no apiSecret", {k: v for k, v in valid.items() if k != "apiSecret"}, ""))
    return cases


async def test_create_bad_bodies(api):
    before = await api.snapshot()
    for case, body, field in _bad_create_bodies(api):
        status, payload = await api.post(CREATE, body)
        message = assert_error(status, payload, 400, -19004)
        assert message.startswith("Form validation failed"), case
        assert field in message, (case, message)
    await assert_unchanged(api, before)


@pytest.mark.parametrize("path", [CREATE, VERIFY, ROTATE, REVOKE])
async def test_bodies_that_are_not_json(api, path):
    before = await api.snapshot()
    for raw in (b"not json", b"{", b'{"credentialId": ', b"\xff\xfe"):
        status, payload = await api.post(path, raw=raw)
        assert assert_error(status, payload, 400, -19005) == "Invalid JSON"
    # JSON, but not an object: a form error naming the body.
    for raw in (b"[]", b'"x"', b"42", b"null", b""):
        status, payload = await api.post(path, raw=raw)
        assert "body" in assert_error(status, payload, 400, -19004), raw
    await assert_unchanged(api, before)


@pytest.mark.parametrize("path", [VERIFY, ROTATE, REVOKE])
async def test_credential_id_problems(api, path):
    before = await api.snapshot()
    extra = {"apiKey": "k0123456789abc", "apiSecret": "s"} if path == ROTATE else {}
    if path == VERIFY and api.sdk:
        bodies = [({"credentialIds": ["nope"]}, "credentialIds"), ({}, "credentialIds")]
        bodies.append(({"credentialIds": []}, "credentialIds"))
        bodies.append(({"credentialIds": DOCUMENTED_ID}, "credentialIds"))
    else:
        bodies = [
            ({"credentialId": "nope", **extra}, "credentialId"),
            ({"credentialId": 42, **extra}, "credentialId"),
            ({**extra}, "credentialId"),
        ]
    for body, field in bodies:
        status, payload = await api.post(path, body)
        assert field in assert_error(status, payload, 400, -19004), body
    # Well-formed but nobody's.
    body = {"credentialIds": [UNKNOWN_ID]} if path == VERIFY else {"credentialId": UNKNOWN_ID}
    status, payload = await api.post(path, {**body, **extra})
    assert assert_error(status, payload, 404, -22016) == "Credential not found"
    await assert_unchanged(api, before)


async def test_rotate_needs_key_and_secret(api):
    before = await api.snapshot()
    for missing in ("apiKey", "apiSecret"):
        body = {"credentialId": DOCUMENTED_ID, "apiKey": "k0123456789abc", "apiSecret": "s"}
        del body[missing]
        status, payload = await api.post(ROTATE, body)
        assert missing in assert_error(status, payload, 400, -19004)
    await assert_unchanged(api, before)


async def test_duplicate_key_is_409(api):
    before = await api.snapshot()
    status, payload = await api.post(CREATE, api.create_body(api_key=DOCUMENTED_KEY))
    assert assert_error(status, payload, 409, -22017) == "Already exist"
    # Rotating another credential onto that key is the same conflict.
    created = await api.create(api_key="other0123456789abc")
    middle = await api.snapshot()
    status, payload = await api.post(
        ROTATE,
        {"credentialId": created["credentialId"], "apiKey": DOCUMENTED_KEY, "apiSecret": "s"},
    )
    assert_error(status, payload, 409, -22017)
    await assert_unchanged(api, middle)
    assert before != middle  # the create in between did change state


async def test_another_users_credential_is_403(two):
    before = await two.snapshot()
    bob_before = await two.list_bytes(bearer("bob-token"))
    bodies = [
        (VERIFY, two.verify_body(BOB_CRED)),
        (ROTATE, {"credentialId": BOB_CRED, "apiKey": "k0123456789abc", "apiSecret": "s"}),
        (REVOKE, {"credentialId": BOB_CRED}),
    ]
    for path, body in bodies:
        status, payload = await two.post(path, body)
        assert assert_error(status, payload, 403, -22018) == "Permission denied"
    await assert_unchanged(two, before)
    assert await two.list_bytes(bearer("bob-token")) == bob_before
    # Bob himself may.
    status, _ = await two.post(REVOKE, {"credentialId": BOB_CRED}, headers=bearer("bob-token"))
    assert status == 200


@pytest.mark.parametrize("path", [CREATE, VERIFY, ROTATE, REVOKE])
async def test_bad_token_is_401_before_the_body_is_read(api, path):
    before = await api.snapshot()
    for headers in (None, bearer("nope"), bearer("alice-expired-token"), {"Authorization": "x"}):
        status, payload = await api.post(path, raw=b"not json", headers=headers)
        assert_error(status, payload, 401, -19002)
    await assert_unchanged(api, before)


# --------------------------------------------------------------------------- secrets


async def test_secrets_never_leave_the_process(api, caplog):
    caplog.set_level(logging.DEBUG)
    key, secret, passphrase = "LeakyKey0123456789ABCDEF", "LeakySecret-XYZ", "LeakyPass-QRS"
    created = await api.create(
        venue="OKX", api_key=key, api_secret=secret, apiPassphrase=passphrase
    )
    cid = created["credentialId"]
    key2, secret2, passphrase2 = "RotatedKey9876543210", "RotatedSecret-ABC", "RotatedPass-DEF"
    rotated_body = {
        "credentialId": cid,
        "apiKey": key2,
        "apiSecret": secret2,
        "apiPassphrase": passphrase2,
    }
    await api.ok(ROTATE, rotated_body)
    # Error paths carry the secrets too: a duplicate, a passphrase missing, a bad type.
    await api.post(CREATE, api.create_body(venue="OKX", api_key=key2, apiPassphrase=passphrase))
    await api.post(CREATE, api.create_body(venue="OKX", api_key=key, api_secret=secret))
    await api.post(CREATE, {**api.create_body(api_secret=secret), "venue": 5})
    await api.post(ROTATE, {**rotated_body, "credentialId": UNKNOWN_ID})
    await api.ok(VERIFY, api.verify_body(cid))
    await api.ok(REVOKE, {"credentialId": cid})
    await api.list_bytes()
    seen = [
        *api.responses,
        await (await api.client.get(JOURNAL)).read(),
        await (await api.client.get(STORED)).read(),
        await (await api.client.get(f"{STORED}/{cid}")).read(),
        caplog.text.encode(),
    ]
    for secret_value in (key, secret, passphrase, key2, secret2, passphrase2):
        for blob in seen:
            assert secret_value.encode() not in blob
    # The journal did record the calls (the check above is not vacuous).
    journal = json.loads(seen[-4])["data"]
    bodies = [e["body"] for e in journal if e["path"] == ROTATE]
    assert bodies and bodies[0]["apiKey"].startswith("Rotate")


async def test_a_lone_surrogate_is_a_400_and_changes_nothing(api):
    before = await api.snapshot()
    for field in ("name", "apiKey"):
        body = api.create_body(api_key="surrogateKey0123456789")
        body[api.name_field if field == "name" else field] = "bad \ud800 text"
        status, payload = await api.post(CREATE, body)
        assert_error(status, payload, 400, -19004)
    await assert_unchanged(api, before)


async def test_a_scenario_load_during_a_request_never_swallows_the_write(make_client):
    """The create's headers arrive, then a scenario load, then its body: the request
    belongs to the scenario that was unloaded, so it is dropped unanswered and writes
    nothing to the new one (a reset or load fences the requests in flight)."""
    client = await make_client("default")
    host, port = client.server.host, client.server.port
    body = json.dumps(
        {"venue": "BINANCE", "apiKey": "raceKey0123456789abc", "apiSecret": "race-secret"}
    ).encode()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"POST {CREATE} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer alice-token\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    await writer.drain()
    await asyncio.sleep(0.1)  # let the handler start waiting for the body
    loaded = await client.put("/__admin/scenario", params={"name": "multi-user"})
    assert loaded.status == 200
    before = await (await client.get(LIST, headers=bearer("alice-token"))).json()
    writer.write(body)
    await writer.drain()
    assert await reader.read() == b""  # closed without an answer
    writer.close()
    after = await (await client.get(LIST, headers=bearer("alice-token"))).json()
    assert after == before
    journal = await (await client.get("/__admin/requests")).json()
    assert [entry["path"] for entry in journal["data"]] == [LIST, LIST]

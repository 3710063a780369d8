"""Trading accounts over real sockets, in both wire profiles: connect through verified
credentials, reuse, rotate (still connected), revoke (disconnected), enable/disable,
update, disconnect and reconnect, the lists and the operation history, venue outcomes,
and for every bad input a clear error with nothing changed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from _api import CREATE, REVOKE, ROTATE, SDK_ACCOUNT_KEYS, VERIFY, Api, assert_error

ACCOUNT = "/api/v3/tradingAccount"
CONNECT = f"{ACCOUNT}/connect"
ACCOUNTS = f"{ACCOUNT}/list"
OPERATIONS = f"{ACCOUNT}/operation/list"
ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}
SHARED_KEY = "sharedKEYabcdefghijklmnop0123456789"  # alice and bob hold the same keys
SECRETS = ("alice-binance-secret-77", "alice-okx-secret-88", "okx-pass-99", "bob-secret-66")
BINANCE_ID = "11111111-1111-4111-8111-111111111111"
SECOND_ID = "22222222-2222-4222-8222-222222222222"  # alice's second BINANCE key
OKX_ID = "33333333-3333-4333-8333-333333333333"
REVOKED_ID = "44444444-4444-4444-8444-444444444444"
BAD_KEYS_ID = "55555555-5555-4555-8555-555555555555"
BOB_ID = "66666666-6666-4666-8666-666666666666"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
DOCS_ACCOUNT_KEYS = [
    "tradingAccountId",
    "userId",
    "venue",
    "name",
    "accountType",
    "status",
    "createdAt",
    "updatedAt",
]
OPERATION_KEYS = ["operationId", "tradingAccountId", "operationType", "status", "createdAt"]


def _scenario(profile: str) -> dict[str, Any]:
    def cred(cid: str, venue: str, key: str, secret: str, **extra: Any) -> dict[str, Any]:
        return {
            "credentialId": cid,
            "venue": venue,
            "name": f"{venue} {cid[:4]}",
            "apiKey": key,
            "apiSecret": secret,
            **extra,
        }

    return {
        "profile": profile,
        "seed": 12,
        "now": "2026-02-01T00:00:00Z",
        "users": [
            {
                "email": "alice@example.com",
                "tokens": ["alice-token"],
                "credentials": [
                    cred(BINANCE_ID, "BINANCE", SHARED_KEY, SECRETS[0]),
                    cred(SECOND_ID, "BINANCE", "secondKEYabcdefghijklmn012345", SECRETS[0]),
                    cred(
                        OKX_ID,
                        "OKX",
                        "okxKEYabcdefghijklmnop0123",
                        SECRETS[1],
                        apiPassphrase=SECRETS[2],
                    ),
                    cred(
                        REVOKED_ID,
                        "BINANCE",
                        "oldKEYabcdefghijklmnop0123",
                        SECRETS[0],
                        status="REVOKED",
                    ),
                    cred(
                        BAD_KEYS_ID,
                        "BINANCE",
                        "badKEYabcdefghijklmnop0123",
                        SECRETS[0],
                        keys_valid=False,
                    ),
                ],
            },
            {
                "email": "bob@example.com",
                "tokens": ["bob-token"],
                "credentials": [cred(BOB_ID, "BINANCE", SHARED_KEY, SECRETS[3])],
            },
        ],
    }


class Accounts(Api):
    """The API helper plus the trading account calls."""

    def __init__(self, client: Any, profile: str) -> None:
        super().__init__(client, profile)
        self.keys = SDK_ACCOUNT_KEYS if self.sdk else DOCS_ACCOUNT_KEYS
        self.inactive = "INACTIVE" if self.sdk else "DISABLED"

    async def connect(
        self, *ids: str, external: str = "spot", headers: dict[str, str] = ALICE, **extra: Any
    ) -> dict[str, Any]:
        body = {"credentialIds": list(ids), "externalTradingAccountId": external, **extra}
        account: dict[str, Any] = await self.ok(CONNECT, body, headers=headers)
        return account

    async def act(self, verb: str, account_id: str, **extra: Any) -> tuple[int, Any]:
        return await self.post(f"{ACCOUNT}/{verb}", {"tradingAccountId": account_id, **extra})

    async def get_list(self, path: str, headers: dict[str, str] = ALICE, **params: Any) -> Any:
        status, payload = await self.call("GET", path, headers=headers, params=params or None)
        assert status == 200, payload
        return payload

    async def accounts(self, **params: Any) -> dict[str, dict[str, Any]]:
        data = (await self.get_list(ACCOUNTS, **params))["data"]
        return {a["tradingAccountId"]: a for a in data}

    async def operations(self, **params: Any) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = (await self.get_list(OPERATIONS, **params))["data"]
        return data

    async def everything(self) -> tuple[bytes, ...]:
        """What an error must leave as it was: both users' lists, history, stored records."""
        found = []
        for headers in (ALICE, BOB):
            for path in (ACCOUNTS, OPERATIONS, "/api/v3/credential/list"):
                found.append(await (await self.client.get(path, headers=headers)).read())
        found.append(await (await self.client.get("/__admin/credentials")).read())
        return tuple(found)


@pytest.fixture(params=["docs", "sdk"])
async def api(request: pytest.FixtureRequest, make_client: Any) -> Accounts:
    profile = request.param
    return Accounts(await make_client(_scenario(profile)), profile)


def _credential_ids(api: Accounts, account: dict[str, Any]) -> list[str]:
    return [c["credentialId"] for c in account["credentials"]] if api.sdk else []


# --------------------------------------------------------------------------- connect


async def test_connect_answers_the_profile_shape_and_lists_it(api: Accounts) -> None:
    before = await api.now_ms()
    account = await api.connect(BINANCE_ID, nickname="main", name="main")
    assert list(account) == api.keys
    assert account["venue"] == "BINANCE" and account["status"] == "ACTIVE"
    assert account["accountType"] == "SPOT"
    assert account["createdAt"] == account["updatedAt"] >= before
    if api.sdk:
        assert account["nickname"] == "main"
        assert account["externalTradingAccountId"] == "spot"
        assert account["externalAccountType"] == "SPOT"
        assert _credential_ids(api, account) == [BINANCE_ID]
        assert account["credentials"][0]["status"] == "ACTIVE"
    else:
        assert account["name"] == "main"
        assert account["userId"] == (await api.stored(BINANCE_ID))["userId"]
    listed = await api.accounts()
    assert listed == {account["tradingAccountId"]: account}
    (operation,) = await api.operations()
    assert list(operation)[:5] == OPERATION_KEYS
    assert operation["operationType"] == "CONNECT" and operation["status"] == "SUCCESS"
    assert operation["tradingAccountId"] == account["tradingAccountId"]
    # Bob sees none of it.
    assert (await api.get_list(ACCOUNTS, headers=BOB))["data"] == []
    assert (await api.get_list(OPERATIONS, headers=BOB))["data"] == []


async def test_one_credential_backs_several_accounts(api: Accounts) -> None:
    spot = await api.connect(BINANCE_ID, external="spot")
    futures = await api.connect(BINANCE_ID, external="futures")
    assert spot["tradingAccountId"] != futures["tradingAccountId"]
    assert futures["accountType"] == ("MARGIN" if api.sdk else "FUTURES")
    assert set(await api.accounts()) == {spot["tradingAccountId"], futures["tradingAccountId"]}
    if api.sdk:
        # verify reports what the keys reach: the connected accounts with their real ids.
        reached = await api.ok(VERIFY, {"credentialIds": [BINANCE_ID]})
        by_external = {a["externalTradingAccountId"]: a for a in reached}
        assert by_external["spot"] == spot and by_external["futures"] == futures
        others = [a for e, a in by_external.items() if e not in ("spot", "futures")]
        assert others and {a["status"] for a in others} == {"NEW"}


async def test_sdk_connect_needs_a_verified_credential(make_client: Any) -> None:
    api = Accounts(await make_client(_scenario("sdk")), "sdk")
    created = await api.create(api_key="freshKEYabcdefghijklmnop012")
    assert created["status"] == "CREATED"
    before = await api.everything()
    status, payload = await api.post(
        CONNECT, {"credentialIds": [created["credentialId"]], "externalTradingAccountId": "spot"}
    )
    assert "has not passed verify" in assert_error(status, payload, 400, -22015)
    assert await api.everything() == before
    await api.ok(VERIFY, {"credentialIds": [created["credentialId"]]})
    account = await api.connect(created["credentialId"])
    assert _credential_ids(api, account) == [created["credentialId"]]


# --------------------------------------------------------------------------- credential effects


async def test_rotate_keeps_every_account_connected(api: Accounts) -> None:
    spot = await api.connect(BINANCE_ID, external="spot")
    margin = await api.connect(BINANCE_ID, external="margin")
    await api.ok(
        ROTATE,
        {"credentialId": BINANCE_ID, "apiKey": "rotatedKEY0123456789abcdef", "apiSecret": "r"},
    )
    after = await api.accounts()
    for before in (spot, margin):
        now = after[before["tradingAccountId"]]
        assert now["status"] == "ACTIVE"
        assert now["updatedAt"] > before["updatedAt"]
    rotations = await api.operations(operationType="CREDENTIAL_ROTATE")
    assert {op["tradingAccountId"] for op in rotations} == set(after)
    # The rotated keys still open the same venue account: it is still taken.
    status, payload = await api.post(
        CONNECT, {"credentialIds": [BINANCE_ID], "externalTradingAccountId": "spot"}
    )
    assert_error(status, payload, 409, -22017)


async def test_revoke_disconnects_the_accounts_it_alone_backed(api: Accounts) -> None:
    alone = await api.connect(BINANCE_ID, external="spot")
    shared = await api.connect(BINANCE_ID, SECOND_ID, external="margin")
    other = await api.connect(SECOND_ID, external="futures")
    await api.ok(REVOKE, {"credentialId": BINANCE_ID})
    after = await api.accounts()
    assert after[alone["tradingAccountId"]]["status"] == "DISCONNECTED"
    assert after[shared["tradingAccountId"]]["status"] == "ACTIVE"
    assert after[other["tradingAccountId"]] == other  # untouched
    if api.sdk:
        assert _credential_ids(api, after[shared["tradingAccountId"]]) == [SECOND_ID]
        assert _credential_ids(api, after[alone["tradingAccountId"]]) == [BINANCE_ID]
    revokes = await api.operations(operationType="CREDENTIAL_REVOKE")
    assert {op["tradingAccountId"] for op in revokes} == {
        alone["tradingAccountId"],
        shared["tradingAccountId"],
    }
    # The revoked credential connects nothing any more.
    status, payload = await api.post(
        CONNECT, {"credentialIds": [BINANCE_ID], "externalTradingAccountId": "spot"}
    )
    assert_error(status, payload, 400, -130001)


# --------------------------------------------------------------------------- account actions


async def test_enable_disable_update_and_disconnect(api: Accounts) -> None:
    account = await api.connect(BINANCE_ID)
    aid = account["tradingAccountId"]
    status, disabled = await api.act("disable", aid)
    assert status == 200 and disabled["data"]["status"] == api.inactive
    assert disabled["data"]["updatedAt"] > account["updatedAt"]
    listed = await api.accounts(**{("accountStatus" if api.sdk else "status"): api.inactive})
    assert list(listed) == [aid]
    status, enabled = await api.act("enable", aid)
    assert status == 200 and enabled["data"]["status"] == "ACTIVE"
    # Enabling an active account answers it as it is: no change, nothing logged.
    status, again = await api.act("enable", aid)
    assert again["data"] == enabled["data"]
    field = "nickname" if api.sdk else "name"
    status, renamed = await api.act("update", aid, **{field: "renamed"})
    assert status == 200 and renamed["data"][field] == "renamed"
    assert renamed["data"]["updatedAt"] > enabled["data"]["updatedAt"]
    status, gone = await api.act("disconnect", aid)
    assert status == 200 and gone["data"]["status"] == "DISCONNECTED"
    if not api.sdk:  # the disconnect page's extra field
        assert gone["data"]["disconnectedAt"] == gone["data"]["updatedAt"]
        assert list(gone["data"]) == [*DOCS_ACCOUNT_KEYS, "disconnectedAt"]
    kinds = [op["operationType"] for op in await api.operations()]
    assert kinds == ["DISCONNECT", "UPDATE", "ENABLE", "DISABLE", "CONNECT"]  # newest first
    # Archived: every action is refused, and a reconnect is a new account.
    before = await api.everything()
    for verb in ("enable", "disable", "update", "disconnect"):
        status, payload = await api.act(verb, aid)
        assert "disconnected" in assert_error(status, payload, 400, -22015)
    assert await api.everything() == before
    again_connected = await api.connect(BINANCE_ID)
    assert again_connected["tradingAccountId"] != aid
    assert len(await api.accounts()) == 2


# --------------------------------------------------------------------------- bad input


def _connect(ids: list[str], external: str = "spot", **extra: Any) -> dict[str, Any]:
    return {"credentialIds": ids, "externalTradingAccountId": external, **extra}


BAD_CONNECTS = [
    (_connect([UNKNOWN]), ALICE, 404, -22016, "Credential not found"),
    (_connect([BOB_ID]), ALICE, 403, -22018, "Permission denied"),
    (_connect([REVOKED_ID]), ALICE, 400, -130001, "cannot connect"),
    (_connect([BAD_KEYS_ID]), ALICE, 401, -18022, "Invalid API key"),
    (_connect([OKX_ID], venue="BINANCE"), ALICE, 400, -19004, "is on OKX, not BINANCE"),
    (_connect([BINANCE_ID, OKX_ID]), ALICE, 400, -19004, "is on OKX, not BINANCE"),
    (_connect([BINANCE_ID], "trading"), ALICE, 400, -19004, "not an account these keys reach"),
    (_connect([BINANCE_ID], ""), ALICE, 400, -19004, "externalTradingAccountId"),
    (_connect([]), ALICE, 400, -19004, "credentialIds"),
    (_connect(["not-a-uuid"]), ALICE, 400, -19004, "credentialIds"),
    ({"externalTradingAccountId": "spot"}, ALICE, 400, -19004, "credentialIds"),
    ([], ALICE, 400, -19004, "body must be a JSON object"),
    (_connect([BINANCE_ID]), {"Authorization": "Bearer nope"}, 401, -19002, "invalid token"),
]


@pytest.mark.parametrize(("body", "headers", "status", "errno", "words"), BAD_CONNECTS)
async def test_bad_connects_change_nothing(
    api: Accounts, body: Any, headers: dict[str, str], status: int, errno: int, words: str
) -> None:
    await api.connect(SECOND_ID)  # some state to keep
    before = await api.everything()
    got, payload = await api.post(CONNECT, body, headers=headers)
    assert words in assert_error(got, payload, status, errno)
    assert await api.everything() == before
    assert not any(secret in json.dumps(payload) for secret in SECRETS)


async def test_an_external_account_has_one_owner(api: Accounts) -> None:
    mine = await api.connect(BINANCE_ID)
    before = await api.everything()
    # Bob holds the same keys: the same venue account, connected by alice already.
    status, payload = await api.post(CONNECT, _connect([BOB_ID]), headers=BOB)
    assert "connected by another user" in assert_error(status, payload, 409, -22017)
    status, payload = await api.post(CONNECT, _connect([BINANCE_ID]))
    message = assert_error(status, payload, 409, -22017)
    assert mine["tradingAccountId"] in message
    assert await api.everything() == before
    # Once alice disconnects, bob may connect it.
    await api.act("disconnect", mine["tradingAccountId"])
    assert (await api.connect(BOB_ID, headers=BOB))["venue"] == "BINANCE"


async def test_concurrent_connects_of_one_external_account_have_one_winner(
    api: Accounts,
) -> None:
    calls = [
        api.client.post(CONNECT, json=_connect([cid]), headers=headers)
        for _ in range(4)
        for cid, headers in ((BINANCE_ID, ALICE), (BOB_ID, BOB))
    ]
    answers = await asyncio.gather(*calls)
    assert sorted(r.status for r in answers) == [200] + [409] * 7
    mine = await api.accounts()
    bobs = (await api.get_list(ACCOUNTS, headers=BOB))["data"]
    assert len(mine) + len(bobs) == 1


BAD_ACTIONS = [
    ({"tradingAccountId": UNKNOWN}, 404, -22016, "Trading account not found"),
    ({"tradingAccountId": "nope"}, 400, -19004, "tradingAccountId must be a UUID"),
    ({}, 400, -19004, "tradingAccountId is required"),
]


@pytest.mark.parametrize("verb", ["disconnect", "enable", "disable", "update"])
@pytest.mark.parametrize(("body", "status", "errno", "words"), BAD_ACTIONS)
async def test_bad_account_actions_change_nothing(
    api: Accounts, verb: str, body: dict[str, Any], status: int, errno: int, words: str
) -> None:
    await api.connect(BINANCE_ID)
    bobs = await api.connect(BOB_ID, external="margin", headers=BOB)
    before = await api.everything()
    got, payload = await api.post(f"{ACCOUNT}/{verb}", body)
    assert words in assert_error(got, payload, status, errno)
    got, payload = await api.act(verb, bobs["tradingAccountId"])  # alice on bob's account
    assert_error(got, payload, 403, -22018)
    assert await api.everything() == before


# --------------------------------------------------------------------------- lists


async def test_list_filters_and_pages(api: Accounts) -> None:
    made = [await api.connect(BINANCE_ID, external=e) for e in ("spot", "margin", "futures")]
    okx = await api.connect(OKX_ID, external="trading")
    # createdAt, then id (the clock is frozen: one createdAt, so by id).
    ids = [
        a["tradingAccountId"]
        for a in sorted([*made, okx], key=lambda a: (a["createdAt"], a["tradingAccountId"]))
    ]
    assert list(await api.accounts()) == ids
    assert list(await api.accounts(venue="OKX")) == [okx["tradingAccountId"]]
    assert list(await api.accounts(tradingAccountId=ids[1].upper())) == [ids[1]]
    page = await api.get_list(ACCOUNTS, limit=2, offset=1)
    assert [a["tradingAccountId"] for a in page["data"]] == ids[1:3]
    if api.sdk:
        assert page["pagination"] == {
            "offset": 1,
            "limit": 2,
            "total": 4,
            "cursor": "3",
            "hasNext": True,
        }
    else:
        assert "pagination" not in page
    status_name = "accountStatus" if api.sdk else "status"
    for params, name in (
        ({"venue": "NOWHERE"}, "venue"),
        ({status_name: "ENABLED"}, status_name),
        ({"tradingAccountId": "x"}, "tradingAccountId"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001" if api.sdk else "101"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ):
        status, payload = await api.call("GET", ACCOUNTS, params=params)
        assert name in assert_error(status, payload, 400, -22015)


async def test_docs_pages_hold_ten_by_default(make_client: Any) -> None:
    api = Accounts(await make_client(_scenario("docs")), "docs")
    for cid in (BINANCE_ID, SECOND_ID):
        for external in ("spot", "margin", "isolated_margin", "futures", "coin_futures"):
            await api.connect(cid, external=external)
    okx = await api.connect(OKX_ID, external="trading")
    first_page = await api.accounts()
    assert len(first_page) == 10  # the docs page: default limit 10
    rest = await api.accounts(offset=10)
    assert len(rest) == 1 and not set(rest) & set(first_page)
    assert okx["tradingAccountId"] in {*first_page, *rest}


async def test_operation_history_filters(api: Accounts) -> None:
    first = await api.connect(BINANCE_ID)
    clock = await api.now_ms()
    await api.client.post("/__admin/clock", json={"advance": 60})
    second = await api.connect(SECOND_ID, external="margin")
    await api.act("disable", second["tradingAccountId"])
    everything = await api.operations()
    assert [op["operationType"] for op in everything] == ["DISABLE", "CONNECT", "CONNECT"]
    assert [
        op["tradingAccountId"]
        for op in await api.operations(tradingAccountId=first["tradingAccountId"])
    ] == [first["tradingAccountId"]]
    assert [op["operationType"] for op in await api.operations(operationType="DISABLE")] == [
        "DISABLE"
    ]
    late = await api.operations(startTime=clock + 1)
    assert {op["tradingAccountId"] for op in late} == {second["tradingAccountId"]}
    early = await api.operations(endTime=clock)
    assert [op["tradingAccountId"] for op in early] == [first["tradingAccountId"]]
    assert await api.operations(startTime=clock + 1, endTime=clock) == []
    page = await api.get_list(OPERATIONS, limit=1)
    assert [op["operationId"] for op in page["data"]] == [everything[0]["operationId"]]
    if api.sdk:
        assert page["pagination"]["cursor"] == "1"
        rest = await api.get_list(OPERATIONS, cursor="1")
        assert rest["data"] == everything[1:]
        assert list(everything[0]) == [*OPERATION_KEYS, "createdAtDateTime"]
    for params, name in (
        ({"operationType": "CONNECTED"}, "operationType"),
        ({"startTime": "yesterday"}, "startTime"),
        ({"endTime": "-5"}, "endTime"),
        ({"tradingAccountId": "x"}, "tradingAccountId"),
    ):
        status, payload = await api.call("GET", OPERATIONS, params=params)
        assert name in assert_error(status, payload, 400, -22015)


# --------------------------------------------------------------------------- venue outcomes


VENUE_ERRORS = [
    ("maintenance", 503, -18013),
    ("timeout", 504, -18015),
    ("network_error", 502, -18009),
    ("rate_limited", 429, -18011),
    ("lock_not_acquired", 503, -22014),
    ("unavailable", 503, -18012),
    ("exchange_error", 502, -18004),
]


@pytest.mark.parametrize(("outcome", "status", "errno"), VENUE_ERRORS)
async def test_venue_outcomes_answer_the_catalogue_row(
    api: Accounts, outcome: str, status: int, errno: int
) -> None:
    fault = {"match": {"method": "POST", "path": f"{ACCOUNT}/connect"}, "venue": outcome}
    assert (await api.client.post("/__admin/faults", json=fault)).status == 200
    verify_fault = dict(fault, match={"method": "POST", "path": VERIFY})
    assert (await api.client.post("/__admin/faults", json=verify_fault)).status == 200
    before = await api.everything()
    got, payload = await api.post(CONNECT, _connect([BINANCE_ID]))
    assert "BINANCE" in assert_error(got, payload, status, errno)
    got, verified = await api.post(VERIFY, api.verify_body(BINANCE_ID))
    assert_error(got, verified, status, errno)
    assert await api.everything() == before
    if status == 429:
        response = await api.client.post(CONNECT, json=_connect([BINANCE_ID]), headers=ALICE)
        assert response.headers["Retry-After"] == "1"


async def test_invalid_keys_at_the_venue(api: Accounts) -> None:
    fault = {"match": {"method": "POST"}, "venue": "invalid_keys", "times": 2}
    assert (await api.client.post("/__admin/faults", json=fault)).status == 200
    # No path given: only calls that reach the venue use the fault up, not this one.
    await api.ok(
        ROTATE, {"credentialId": SECOND_ID, "apiKey": "otherKEY0123456789abc", "apiSecret": "x"}
    )
    got, payload = await api.post(CONNECT, _connect([BINANCE_ID]))
    assert_error(got, payload, 401, -18022)
    result = await api.ok(VERIFY, api.verify_body(BINANCE_ID))
    if api.sdk:
        assert result == []  # the keys reach nothing
    else:
        assert (result["status"], result["identities"]) == ("FAILED", [])
    # Used up (times: 2): the venue accepts the keys again.
    assert (await api.connect(BINANCE_ID))["status"] == "ACTIVE"


# --------------------------------------------------------------------------- docs: by keys


async def test_docs_connect_with_venue_keys(make_client: Any) -> None:
    api = Accounts(await make_client(_scenario("docs")), "docs")
    body = {"venue": "BINANCE", "apiKey": SHARED_KEY, "apiSecret": SECRETS[0], "name": "by keys"}
    account = await api.ok(CONNECT, body)  # alice's BINANCE_ID holds these keys: reused
    assert account["name"] == "by keys" and account["accountType"] == "SPOT"
    assert len(await api.items()) == 5  # no new credential
    futures = await api.ok(CONNECT, dict(body, accountType="FUTURES"))
    assert futures["accountType"] == "FUTURES"
    fresh = {"venue": "KRAKEN", "apiKey": "krakenKEYabcdefghijklmnop012", "apiSecret": "k-secret"}
    kraken = await api.ok(CONNECT, fresh)  # a new key: the credential is created too
    stored = [c for c in (await api.items()).values() if c["venue"] == "KRAKEN"]
    assert len(stored) == 1 and stored[0]["apiKey"] == "kraken***"
    assert kraken["venue"] == "KRAKEN"
    before = await api.everything()
    for bad, status, errno, words in (
        (dict(body, apiSecret="wrong"), 401, -18022, "apiSecret does not match"),
        (dict(fresh, accountType="MARGIN"), 400, -19004, "no such account on KRAKEN"),
        ({"venue": "OKX", "apiKey": "k", "apiSecret": "s"}, 400, -19004, "apiPassphrase"),
        ({"venue": "BINANCE", "apiKey": "k"}, 400, -19004, "give credentialIds"),
    ):
        got, payload = await api.post(CONNECT, bad)
        assert words in assert_error(got, payload, status, errno)
        assert "wrong" not in payload["error"]
    assert await api.everything() == before


async def test_docs_connect_by_keys_takes_back_its_credential_on_failure(
    make_client: Any,
) -> None:
    api = Accounts(await make_client(_scenario("docs")), "docs")
    fault = {"match": {"path": CONNECT}, "venue": "maintenance", "times": 1}
    assert (await api.client.post("/__admin/faults", json=fault)).status == 200
    before = await api.everything()
    body = {"venue": "COINBASE", "apiKey": "cbKEYabcdefghijklmnop0123", "apiSecret": "cb-secret"}
    got, payload = await api.post(CONNECT, body)
    assert_error(got, payload, 503, -18013)
    assert await api.everything() == before
    # The next create gets the id the taken-back one had: the same as on a fresh mock.
    create = api.create_body(venue="COINBASE", api_key=body["apiKey"], api_secret="cb-secret")
    created = await api.ok(CREATE, create)
    fresh = Accounts(await make_client(_scenario("docs")), "docs")
    assert (await fresh.ok(CREATE, create))["credentialId"] == created["credentialId"]
    connected = await api.ok(CONNECT, body)  # the created credential is reused
    assert connected["venue"] == "COINBASE"
    assert [c["venue"] for c in (await api.items()).values()].count("COINBASE") == 1


# --------------------------------------------------------------------------- secrets, reset


async def test_no_secret_reaches_any_answer_and_reset_forgets(api: Accounts) -> None:
    account = await api.connect(BINANCE_ID)
    await api.ok(VERIFY, api.verify_body(BINANCE_ID))
    await api.act("disable", account["tradingAccountId"])
    await api.ok(REVOKE, {"credentialId": BINANCE_ID})
    await api.accounts()
    await api.operations()
    text = b"".join(api.responses).decode()
    assert SHARED_KEY not in text
    assert not any(secret in text for secret in SECRETS)
    assert (await api.client.post("/__admin/reset")).status == 200
    assert await api.accounts() == {}
    assert await api.operations() == []
    again = await api.connect(BINANCE_ID)
    assert again["tradingAccountId"] == account["tradingAccountId"]  # seeded: same id

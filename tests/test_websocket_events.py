"""Trading account subscriptions and the events they feed, over real sockets:
every push and result parsed with the platform document's shapes (tests/platform_ws.py).

A trading account's channel carries the document's rpc*UpdatedEvent shapes once a
server-side subscription (REST or RPC, one state) feeds it; subscribes are journaled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from centrifuge import Client, PublicationContext, SubscriptionEventHandler
from platform_ws import assert_event, assert_rpc_result, assert_shape, require_document, rpc_schema
from ws_contract import (
    ACCOUNT,
    ACCOUNT_EVENT,
    ALICE,
    ALICE_CRED,
    ALICE_TOKEN,
    BOB,
    BOB_CRED,
    CREDENTIAL_EVENT,
    KEYS,
    PORTFOLIO,
    SCENARIO,
    SECRETS,
    SUBSCRIPTION_EVENT,
    UNKNOWN,
    USER_DATA,
    Socket,
    centrifuge,
    connect_account,
    journal_of,
    open_socket,
)


@pytest.fixture
async def mock(make_client: Any) -> Any:
    require_document()
    return await make_client(SCENARIO)


# ------------------------------------------------------------------ item 3: events


async def _events_until(socket: Socket, count: int) -> list[dict[str, Any]]:
    return [await socket.frame() for _ in range(count)]


async def test_a_fed_channel_carries_the_documents_events_in_order(mock: Any) -> None:
    account = await connect_account(mock)
    channel = f"tradingAccount:{account}"
    listener = await open_socket(mock)
    assert (await listener.call({"subscribe": {"channel": channel}}))["subscribe"] == {}
    # Nothing feeds it yet: a change publishes nothing (the first push below is the
    # subscription's own), and the SUBSCRIBE entry says why.
    r = await mock.post(f"{ACCOUNT}/disable", json={"tradingAccountId": account}, headers=ALICE)
    assert r.status == 200
    (entry,) = await journal_of(mock, "SUBSCRIBE")
    assert entry["path"] == channel and entry["status"] == 200
    assert (
        "carries nothing until its trading account has an active subscription"
        in (entry["hints"][0])
    )
    actor = await open_socket(mock)
    subscribed = await actor.rpc(
        "command.trading_account.subscribe",
        {"tradingAccount": {"tradingAccountId": account}, "subscriptionType": USER_DATA},
    )
    made = assert_rpc_result("command.trading_account.subscribe", subscribed)["data"]
    assert (made["status"], made["subscriptionType"]) == ("ACTIVE", USER_DATA)
    (push,) = await _events_until(listener, 1)
    assert push["push"]["channel"] == channel
    assert assert_event(SUBSCRIPTION_EVENT, push)["data"] == made
    # enable (RPC), update (RPC), rotate (RPC, keys left out), disconnect (REST)
    await actor.rpc("command.trading_account.enable", {"tradingAccountId": account})
    await actor.rpc(
        "command.trading_account.update",
        {"tradingAccount": {"tradingAccountId": account, "nickname": "renamed"}},
    )
    await actor.rpc(
        "command.credential.rotate", {"credentialId": ALICE_CRED, "credentialType": "API_KEY"}
    )
    r = await mock.post(f"{ACCOUNT}/disconnect", json={"tradingAccountId": account}, headers=ALICE)
    assert r.status == 200
    pushes = await _events_until(listener, 6)
    names = [ACCOUNT_EVENT, ACCOUNT_EVENT, CREDENTIAL_EVENT, ACCOUNT_EVENT, ACCOUNT_EVENT]
    names.append(SUBSCRIPTION_EVENT)
    events = [assert_event(n, p) for n, p in zip(names, pushes, strict=True)]
    enabled, renamed, rotated, touched, disconnected, ended = (e["data"] for e in events)
    assert enabled["status"] == "ACTIVE" and renamed["nickname"] == "renamed"
    assert rotated["credentialId"] == ALICE_CRED and touched["tradingAccountId"] == account
    assert disconnected["status"] == "DISCONNECTED"
    assert (ended["subscriptionId"], ended["status"]) == (made["subscriptionId"], "TERMINATED")
    assert all("method" not in p["push"]["pub"]["data"] for p in pushes)
    # Ended: a later change to the credential reaches no one (the next frame is a reply).
    revoked = await actor.rpc("command.credential.revoke", {"credentialId": ALICE_CRED})
    assert assert_rpc_result("command.credential.revoke", revoked)["data"]["status"] == "REVOKED"
    again = await listener.rpc("query.system.check", {})
    assert "rpc" in again
    text = "".join(listener.seen + actor.seen)
    assert not any(secret in text for secret in (*SECRETS, *KEYS))


async def test_centrifuge_python_receives_events_only_while_fed(mock: Any) -> None:
    account = await connect_account(mock)
    events: asyncio.Queue[Any] = asyncio.Queue()

    class Handler(SubscriptionEventHandler):
        async def on_publication(self, ctx: PublicationContext) -> None:
            await events.put(ctx.pub.data)

    client = await centrifuge(mock)
    try:
        sub = client.new_subscription(f"tradingAccount:{account}", events=Handler())
        await sub.subscribe()
        await sub.ready(timeout=5)
        body = {"tradingAccountId": account}
        r = await mock.post(f"{ACCOUNT}/subscription/subscribe", json=body, headers=ALICE)
        subscription = (await r.json())["data"]
        first = await asyncio.wait_for(events.get(), 5)
        assert_shape(SUBSCRIPTION_EVENT, first)
        assert first["data"]["subscriptionId"] == subscription["subscriptionId"]
        r = await mock.post(f"{ACCOUNT}/subscription/unsubscribe", json=body, headers=ALICE)
        assert r.status == 200
        ended = await asyncio.wait_for(events.get(), 5)
        assert ended["data"]["status"] == "TERMINATED"
        await mock.post(f"{ACCOUNT}/disable", json=body, headers=ALICE)  # not fed: nothing
        await mock.post(f"{ACCOUNT}/subscription/subscribe", json=body, headers=ALICE)
        again = await asyncio.wait_for(events.get(), 5)  # the next one is the new stream's
        assert again["data"]["status"] == "ACTIVE"
        assert again["data"]["subscriptionId"] != subscription["subscriptionId"]
    finally:
        await client.disconnect()


# ------------------------------------------------------------------ item 4: subscriptions


async def test_subscriptions_are_one_state_for_rest_and_rpc(mock: Any) -> None:
    account = await connect_account(mock)
    socket = await open_socket(mock)

    async def rest(path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        if path == "list":
            r = await mock.get(f"{ACCOUNT}/subscription/list", headers=ALICE, **kw)
            answer: dict[str, Any] = await r.json()
            assert_shape("listTradingAccountSubscriptions_200_response", answer, closed=False)
        else:
            r = await mock.post(f"{ACCOUNT}/subscription/{path}", json=body, headers=ALICE)
            answer = await r.json()
            assert_shape("subscribeTradingAccount_200_response", answer, closed=False)
        assert r.status == 200, answer
        for item in answer["data"] if isinstance(answer["data"], list) else [answer["data"]]:
            assert_shape("subscription", item)
        return answer

    async def listed(**params: Any) -> list[dict[str, Any]]:
        reply = await socket.rpc(
            "query.trading_account.subscription.list", {"tradingAccountId": account, **params}
        )
        found: list[dict[str, Any]] = assert_rpc_result(
            "query.trading_account.subscription.list", reply
        )["data"]
        return found

    made = (await rest("subscribe", {"tradingAccountId": account}))["data"]
    assert (made["status"], made["subscriptionType"], made["tradingAccountId"]) == (
        "ACTIVE",
        USER_DATA,
        account,
    )
    params = {"tradingAccount": {"tradingAccountId": account}, "subscriptionType": USER_DATA}
    assert_shape(rpc_schema("command.trading_account.subscribe", "Params"), params)
    same = await socket.rpc("command.trading_account.subscribe", params)
    same_data = assert_rpc_result("command.trading_account.subscribe", same)["data"]
    assert same_data["subscriptionId"] == made["subscriptionId"]  # subscribing twice: one
    second = await socket.rpc(
        "command.trading_account.subscribe", {**params, "subscriptionType": PORTFOLIO}
    )
    portfolio = assert_rpc_result("command.trading_account.subscribe", second)["data"]
    assert [s["subscriptionId"] for s in (await rest("list"))["data"]] == [
        made["subscriptionId"],
        portfolio["subscriptionId"],
    ]
    ended = await socket.rpc(
        "command.trading_account.unsubscribe",
        {"tradingAccountId": account, "subscriptionId": portfolio["subscriptionId"]},
    )
    assert assert_rpc_result("command.trading_account.unsubscribe", ended)["data"]["status"] == (
        "TERMINATED"
    )
    listed_rest = await rest("list", params={"tradingAccountId": account})
    assert [s["subscriptionId"] for s in listed_rest["data"]] == [made["subscriptionId"]]
    gone = (await rest("unsubscribe", {"tradingAccountId": account}))["data"]
    assert (gone["subscriptionId"], gone["status"]) == (made["subscriptionId"], "TERMINATED")
    assert (await rest("list"))["data"] == []
    assert [s["status"] for s in await listed()] == ["TERMINATED", "TERMINATED"]
    assert await listed(status="ACTIVE") == []
    assert [s["subscriptionType"] for s in await listed(subscriptionType=PORTFOLIO)] == [PORTFOLIO]


async def test_bad_subscription_calls_are_clear_errors_and_change_nothing(mock: Any) -> None:
    account = await connect_account(mock)
    bobs = await connect_account(mock, BOB, BOB_CRED)
    r = await mock.post(
        f"{ACCOUNT}/subscription/subscribe", json={"tradingAccountId": bobs}, headers=BOB
    )
    bob_subscription = (await r.json())["data"]["subscriptionId"]
    made = await mock.post(
        f"{ACCOUNT}/subscription/subscribe", json={"tradingAccountId": account}, headers=ALICE
    )
    assert made.status == 200

    async def state() -> Any:
        r = await mock.get(f"{ACCOUNT}/subscription/list", headers=ALICE)
        return (await r.json())["data"]

    before = await state()
    bad: list[tuple[str, Any, int, int, str]] = [
        ("subscribe", {"tradingAccountId": UNKNOWN}, 404, -22016, "Trading account not found"),
        ("subscribe", {"tradingAccountId": bobs}, 403, -22018, "Permission denied"),
        ("subscribe", {"tradingAccountId": "nope"}, 400, -19004, "tradingAccountId"),
        ("subscribe", {}, 400, -19004, "tradingAccountId is required"),
        ("unsubscribe", {}, 400, -19004, "subscriptionId or tradingAccountId is required"),
        ("unsubscribe", {"subscriptionId": UNKNOWN}, 400, -22015, UNKNOWN),
        ("unsubscribe", {"subscriptionId": bob_subscription}, 400, -22015, "subscriptionId"),
        ("unsubscribe", {"tradingAccountId": bobs}, 400, -22015, "no active subscription"),
    ]
    for path, body, status, errno, words in bad:
        r = await mock.post(f"{ACCOUNT}/subscription/{path}", json=body, headers=ALICE)
        answer = await r.json()
        assert (r.status, answer["errno"]) == (status, errno), (path, body, answer)
        assert words in answer["error"], (path, answer)
    r = await mock.get(
        f"{ACCOUNT}/subscription/list", params={"tradingAccountId": "nope"}, headers=ALICE
    )
    assert r.status == 400 and "tradingAccountId" in (await r.json())["error"]
    r = await mock.post(f"{ACCOUNT}/disconnect", json={"tradingAccountId": account}, headers=ALICE)
    assert r.status == 200
    r = await mock.post(
        f"{ACCOUNT}/subscription/subscribe", json={"tradingAccountId": account}, headers=ALICE
    )
    refused = await r.json()
    assert r.status == 400 and "DISCONNECTED" in refused["error"]
    assert await state() == []  # the disconnect ended it, nothing else did
    assert len(before) == 1
    r = await mock.get(f"{ACCOUNT}/subscription/list", headers=BOB)
    assert [s["subscriptionId"] for s in (await r.json())["data"]] == [bob_subscription]


async def test_subscriptions_follow_snapshots_and_reset(mock: Any) -> None:
    account = await connect_account(mock)
    body = {"tradingAccountId": account}
    r = await mock.post(f"{ACCOUNT}/subscription/subscribe", json=body, headers=ALICE)
    made = (await r.json())["data"]
    snapshot = (await (await mock.post("/__admin/snapshots")).json())["data"]["id"]
    r = await mock.post(f"{ACCOUNT}/subscription/unsubscribe", json=body, headers=ALICE)
    assert r.status == 200

    async def active() -> list[str]:
        r = await mock.get(f"{ACCOUNT}/subscription/list", headers=ALICE)
        return [s["subscriptionId"] for s in (await r.json())["data"]]

    assert await active() == []
    r = await mock.post(f"/__admin/snapshots/{snapshot}/restore")
    assert r.status == 200
    assert await active() == [made["subscriptionId"]]  # back, with the account
    assert (await mock.post("/__admin/reset")).status == 200
    assert await active() == []  # the scenario has none


def test_subscribes_are_journaled_and_found_by_channel() -> None:
    """In-process: `calls(<channel glob>, method="SUBSCRIBE")`, the hint, strict mode's report."""
    import requests

    from cadenza_mock import MockServer

    with MockServer(SCENARIO) as server:
        r = requests.post(
            server.url + f"{ACCOUNT}/connect",
            json={"credentialIds": [ALICE_CRED], "externalTradingAccountId": "spot"},
            headers=ALICE,
            timeout=10,
        )
        account = r.json()["data"]["tradingAccountId"]

        async def subscribe_twice() -> None:
            client = Client(server.ws_url, token=ALICE_TOKEN)
            await client.connect()
            try:
                sub = client.new_subscription(f"tradingAccount:{account}")
                await sub.subscribe()
                await sub.ready(timeout=5)
                await sub.unsubscribe()
                r = await asyncio.to_thread(
                    requests.post,
                    server.url + f"{ACCOUNT}/subscription/subscribe",
                    json={"tradingAccountId": account},
                    headers=ALICE,
                    timeout=10,
                )
                assert r.status_code == 200
                await sub.subscribe()  # fed now: no hint
                await sub.ready(timeout=5)
            finally:
                await client.disconnect()

        asyncio.run(subscribe_twice())
        calls = server.calls("tradingAccount:*", method="SUBSCRIBE")
        assert [(c.path, c.status, len(c.hints)) for c in calls] == [
            (f"tradingAccount:{account}", 200, 1),
            (f"tradingAccount:{account}", 200, 0),
        ]
        assert server.calls("market:*", method="SUBSCRIBE") == []
        with pytest.raises(AssertionError, match="carries nothing until"):
            server.assert_no_unknown_requests()

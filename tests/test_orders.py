"""Trade orders and portfolios over real HTTP: MARKET orders walk the emulated book, LIMIT
orders rest until the market crosses them as the mock clock moves, IOC/FOK/GTD, cancel,
idempotency, the seeded default portfolio, and every refusal the error-codes row with
nothing changed. The RPC twins: test_orders_rpc.py; the invariants: test_orders_machine.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support import ALICE, bearer

from cadenza_mock.engine.fills import fees_of
from cadenza_mock.engine.portfolio import DEFAULT_BASE_VALUE, DEFAULT_CASH

API = "/api/v3"
SPOT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot account (accounts.yaml)
BTC = "BINANCE:BTC/USDT"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
MAKER, TAKER = fees_of("BINANCE")

pytestmark = pytest.mark.scenario("accounts")


async def submit(client: Any, headers: dict[str, str] = ALICE, **body: Any) -> Any:
    payload = {
        "tradingAccountId": SPOT,
        "instrumentId": BTC,
        "orderSide": "BUY",
        "orderType": "LIMIT",
        "quantity": "0.01",
        **body,
    }
    r = await client.post(f"{API}/tradeOrder/submit", json=payload, headers=headers)
    return r.status, await r.json()


async def placed(client: Any, **body: Any) -> dict[str, Any]:
    status, answer = await submit(client, **body)
    assert status == 200, answer
    order: dict[str, Any] = answer["data"][0]
    return order


async def cancel(client: Any, order_id: str, account: str = SPOT) -> Any:
    r = await client.post(
        f"{API}/tradeOrder/cancel",
        json={"tradingAccountId": account, "tradeOrderId": order_id},
        headers=ALICE,
    )
    return r.status, await r.json()


async def balances(client: Any, account: str = SPOT) -> dict[str, dict[str, Decimal]]:
    r = await client.get(
        f"{API}/tradingAccount/portfolio/list", params={"tradingAccountId": account}, headers=ALICE
    )
    assert r.status == 200
    (pf,) = (await r.json())["data"]
    return {
        b["securitySymbol"]: {k: Decimal(b[k]) for k in ("free", "locked", "total")}
        for b in pf["balances"]
    }


async def book(client: Any) -> dict[str, Any]:
    r = await client.get(f"{API}/market/orderBook/get", params={"instrumentId": BTC}, headers=ALICE)
    found: dict[str, Any] = (await r.json())["data"]
    return found


async def advance(client: Any, seconds: float) -> None:
    r = await client.post("/__admin/clock", json={"advance": seconds})
    assert r.status == 200


async def set_price(client: Any, price: str) -> None:
    r = await client.post("/__admin/market/price", json={"instrumentId": BTC, "price": price})
    assert r.status == 200, await r.text()


async def test_every_account_starts_with_the_seeded_default_portfolio(client: Any) -> None:
    held = await balances(client)
    assert held["USDT"] == {"free": DEFAULT_CASH, "locked": 0, "total": DEFAULT_CASH}
    r = await client.get(
        f"{API}/market/instrument/list", params={"venue": "BINANCE"}, headers=ALICE
    )
    instruments = (await r.json())["data"]
    assert {i["baseAsset"] for i in instruments} | {"USDT"} == set(held)
    for instrument in instruments:
        amount = held[instrument["baseAsset"]]["free"]
        assert amount > 0 and amount % Decimal(instrument["lotSize"]) == 0
    # BTC starts at 65,000: what DEFAULT_BASE_VALUE buys, to the lot below.
    btc = held["BTC"]["free"]
    assert btc * 65000 <= DEFAULT_BASE_VALUE < (btc + Decimal("0.00001")) * 65000


async def test_a_market_buy_walks_the_book_and_moves_the_portfolio(client: Any) -> None:
    before = await balances(client)
    asks = [(Decimal(p), Decimal(q)) for p, q in (await book(client))["asks"]]
    wanted = asks[0][1] + asks[1][1] + asks[2][1] / 2  # two levels and half a third
    wanted = wanted.quantize(Decimal("0.00001"))
    order = await placed(client, orderType="MARKET", quantity=str(wanted))
    assert (order["status"], order["timeInForce"]) == ("FILLED", "IOC")
    fills = [
        (Decimal(e["executedPrice"]), Decimal(e["executedQuantity"])) for e in order["executions"]
    ]
    assert fills[:2] == asks[:2] and fills[2][0] == asks[2][0]
    assert sum(q for _, q in fills) == wanted == Decimal(order["executedQuantity"])
    cost = sum(p * q for p, q in fills)
    fee = sum(Decimal(e["fees"][0]["quantity"]) for e in order["executions"])
    assert Decimal(order["executedCost"]) == cost and fee == Decimal(order["fees"][0]["quantity"])
    assert cost * TAKER - len(fills) * Decimal("0.00000001") <= fee <= cost * TAKER
    after = await balances(client)
    assert after["USDT"]["free"] == before["USDT"]["free"] - cost - fee
    assert after["BTC"]["free"] == before["BTC"]["free"] + wanted
    assert after["USDT"]["locked"] == 0


async def test_a_limit_rests_locks_and_fills_when_the_clock_brings_the_market_to_it(
    client: Any,
) -> None:
    best_ask = Decimal((await book(client))["asks"][0][0])
    limit = (best_ask * Decimal("0.99")).quantize(Decimal("0.01"))
    before = await balances(client)
    order = await placed(client, limitPrice=str(limit), quantity="0.2")
    assert (order["status"], order["executions"]) == ("ACCEPTED", [])
    held = await balances(client)
    assert held["USDT"]["locked"] > limit * Decimal("0.2") > 0
    assert held["USDT"]["total"] == before["USDT"]["total"]
    await advance(client, 1)  # the market has not come down yet: still resting
    r = await client.get(
        f"{API}/tradeOrder/list", params={"tradeOrderId": order["tradeOrderId"]}, headers=ALICE
    )
    assert (await r.json())["data"][0]["status"] == "ACCEPTED"
    await set_price(client, str(limit * Decimal("0.98")))
    await advance(client, 5)
    r = await client.get(
        f"{API}/tradeOrder/list", params={"tradeOrderId": order["tradeOrderId"]}, headers=ALICE
    )
    filled = (await r.json())["data"][0]
    assert filled["status"] == "FILLED"
    assert [e["executedPrice"] for e in filled["executions"]] == [format(limit, "f")]
    cost = limit * Decimal("0.2")
    after = await balances(client)
    assert after["USDT"] == {
        "free": before["USDT"]["free"] - cost - (cost * MAKER).quantize(Decimal("0.00000001")),
        "locked": 0,
        "total": after["USDT"]["free"],
    }
    assert after["BTC"]["free"] == before["BTC"]["free"] + Decimal("0.2")


async def test_cancel_releases_the_lock_and_a_closed_order_is_a_clear_error(client: Any) -> None:
    before = await balances(client)
    order = await placed(client, limitPrice="30000.00")
    status, answer = await cancel(client, order["tradeOrderId"])
    assert status == 200 and answer["data"]["status"] == "CANCELLED"
    assert answer["data"]["canceledAt"] >= order["createdAt"]
    assert await balances(client) == before
    status, again = await cancel(client, order["tradeOrderId"])
    assert (status, again["errno"]) == (400, -18007) and "CANCELLED" in again["error"]
    status, unknown = await cancel(client, UNKNOWN)
    assert (status, unknown["errno"]) == (404, -18018)
    filled = await placed(client, orderType="MARKET")
    status, late = await cancel(client, filled["tradeOrderId"])
    assert (status, late["errno"]) == (400, -18007) and "FILLED" in late["error"]


REFUSALS = [
    ({"orderType": "TRAILING_STOP"}, 400, -18001),
    ({"orderSide": "UNKNOWN"}, 400, -18002),
    ({"timeInForce": "DAY", "limitPrice": "60000.00"}, 400, -18003),
    ({"quantity": "1000", "limitPrice": "60000.00"}, 400, -18006),
    ({"orderSide": "SELL", "quantity": "50", "limitPrice": "60000.00"}, 400, -18006),
    ({"orderType": "MARKET", "quantity": "1000"}, 400, -18006),
    ({"quantity": "0.000001", "limitPrice": "60000.00"}, 400, -18007),  # off the lot grid
    ({"limitPrice": "60000.001"}, 400, -18007),  # off the tick grid
    ({"quantity": "0.00001", "limitPrice": "100.00"}, 400, -18007),  # under minNotional
    ({"quantity": "0"}, 400, -18007),
    ({"quantity": "abc"}, 400, -18007),
    ({}, 400, -18007),  # a LIMIT without limitPrice
    ({"limitPrice": "60000.00", "timeInForce": "GTD"}, 400, -18007),  # GTD without expireAt
    ({"instrumentId": "BINANCE:NONE/USDT"}, 404, -18017),
    ({"instrumentId": "OKX:BTC/USDT"}, 404, -18017),  # not on the account's venue
    ({"orderType": "LIMIT_MAKER", "limitPrice": "90000.00"}, 400, -18025),  # would take
    ({"tradingAccountId": UNKNOWN}, 404, -22016),
    ({"tradingAccountId": "not-a-uuid"}, 400, -19004),
    ({"orderType": "NOPE"}, 400, -19004),
]


@pytest.mark.parametrize(("change", "status", "errno"), REFUSALS)
async def test_each_refusal_is_its_error_codes_row_and_changes_nothing(
    client: Any, change: dict[str, Any], status: int, errno: int
) -> None:
    before = await balances(client)
    got, answer = await submit(client, **change)
    assert (got, answer["errno"], answer["data"]) == (status, errno, None), answer
    assert await balances(client) == before
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    assert (await r.json())["data"] == []


async def test_another_users_account_is_refused(client: Any) -> None:
    r = await client.get(f"{API}/tradingAccount/list", headers=bearer("bob-token"))
    bobs = (await r.json())["data"][0]["tradingAccountId"]
    status, answer = await submit(client, tradingAccountId=bobs)
    assert (status, answer["errno"]) == (403, -22018)


async def test_an_account_that_is_not_active_refuses_and_a_disconnect_cancels(
    client: Any,
) -> None:
    resting = await placed(client, limitPrice="30000.00")
    account = {"tradingAccountId": SPOT}
    assert (
        await client.post(f"{API}/tradingAccount/disable", json=account, headers=ALICE)
    ).status == 200
    status, answer = await submit(client, limitPrice="30000.00")
    assert (status, answer["errno"]) == (400, -22015) and "ACTIVE" in answer["error"]
    assert (
        await client.post(f"{API}/tradingAccount/disconnect", json=account, headers=ALICE)
    ).status == 200
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    (order,) = (await r.json())["data"]
    assert order["tradeOrderId"] == resting["tradeOrderId"]
    assert (order["status"], order["cancelReason"]) == ("CANCELLED", "trading account disconnected")


async def test_the_same_idempotency_key_or_client_order_id_answers_the_same_order(
    client: Any,
) -> None:
    for key in ("idempotencyKey", "clientOrderId"):
        first = await placed(client, orderType="MARKET", **{key: f"k-{key}"})
        again = await placed(client, orderType="MARKET", quantity="0.02", **{key: f"k-{key}"})
        assert again == first
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    assert len((await r.json())["data"]) == 2


async def test_ioc_and_fok_take_what_crosses_now_and_expire_the_rest(client: Any) -> None:
    price, size = (await book(client))["asks"][0]  # the clock is frozen: the same book
    more = str(Decimal(size) + Decimal("0.00001"))
    fok = await placed(client, timeInForce="FOK", limitPrice=price, quantity=more)
    assert (fok["status"], fok["executions"], fok["executedQuantity"]) == ("EXPIRED", [], "0.00000")
    ioc = await placed(client, timeInForce="IOC", limitPrice=price, quantity=more)
    assert ioc["status"] == "EXPIRED" and ioc["executedQuantity"] == size
    assert (await balances(client))["USDT"]["locked"] == 0
    whole = await placed(client, timeInForce="FOK", limitPrice=price, quantity=size)
    assert whole["status"] == "FILLED"


async def test_gtd_expires_on_the_mock_clock_and_gives_the_lock_back(client: Any) -> None:
    r = await client.get("/__admin/clock")
    now = (await r.json())["data"]["now"]
    before = await balances(client)
    order = await placed(client, limitPrice="30000.00", timeInForce="GTD", expireAt=now + 60_000)
    assert order["status"] == "ACCEPTED" and order["expireAt"] == now + 60_000
    await advance(client, 30)
    assert (await balances(client))["USDT"]["locked"] > 0
    await advance(client, 31)
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    expired = (await r.json())["data"][0]
    assert (expired["status"], expired["updatedAt"]) == ("EXPIRED", now + 60_000)
    assert await balances(client) == before


async def test_a_sell_realizes_pnl_against_the_entry_and_the_list_pages(client: Any) -> None:
    await placed(client, orderType="MARKET", quantity="0.1")
    await set_price(client, "70000.00")
    sold = await placed(client, orderType="MARKET", orderSide="SELL", quantity="0.1")
    assert sold["status"] == "FILLED" and Decimal(sold["executedPrice"]) > 69000
    r = await client.get(f"{API}/tradingAccount/portfolio/list", headers=ALICE)
    (pf,) = [p for p in (await r.json())["data"] if p["tradingAccountId"] == SPOT]
    (btc,) = [p for p in pf["positions"] if p["instrumentId"] == BTC]
    assert Decimal(btc["realizedPnl"]) > 0  # bought near 65,000, sold near 70,000
    assert Decimal(btc["unrealizedPnl"]) > 0
    r = await client.get(f"{API}/tradeOrder/list", params={"limit": 1}, headers=ALICE)
    page = await r.json()
    assert page["data"][0]["tradeOrderId"] == sold["tradeOrderId"]  # newest first
    assert page["pagination"] == {
        "offset": 0,
        "limit": 1,
        "total": 2,
        "cursor": "1",
        "hasNext": True,
    }
    r = await client.get(f"{API}/tradeOrder/list", params={"orderStatus": "NOPE"}, headers=ALICE)
    assert (r.status, (await r.json())["errno"]) == (400, -22015)


async def test_a_reset_forgets_orders_and_portfolios(client: Any) -> None:
    before = await balances(client)
    await placed(client, orderType="MARKET")
    assert await balances(client) != before
    assert (await client.post("/__admin/reset")).status == 200
    assert await balances(client) == before
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    assert (await r.json())["data"] == []


@pytest.fixture(params=["in-process", "remote"])
def handle(request: pytest.FixtureRequest) -> Any:
    from cadenza_mock.run.server import MockServer
    from cadenza_mock.testing.remote import RemoteMock

    with MockServer("accounts") as server:
        yield server if request.param == "in-process" else RemoteMock(server.url)


def test_the_handle_shows_orders_and_portfolios(handle: Any) -> None:
    import requests

    pf = handle.portfolio(SPOT)
    assert pf["tradingAccountId"] == SPOT and pf["venue"] == "BINANCE"
    assert {b["securitySymbol"] for b in pf["balances"]} == {"USDT", "BTC", "ETH", "SOL"}
    body = {"tradingAccountId": SPOT, "instrumentId": BTC, "orderSide": "BUY",
            "orderType": "MARKET", "quantity": "0.01"}  # fmt: skip
    r = requests.post(f"{handle.url}{API}/tradeOrder/submit", json=body, headers=ALICE, timeout=10)
    assert r.status_code == 200
    (order,) = handle.orders()
    assert order == r.json()["data"][0]
    assert handle.orders(user="alice@example.com") == [order]
    assert handle.orders(user="bob@example.com") == handle.orders(trading_account_id=UNKNOWN) == []
    moved = handle.portfolio(SPOT)
    btc = {b["securitySymbol"]: b["total"] for b in moved["balances"]}["BTC"]
    assert Decimal(btc) == Decimal("0.01") + Decimal(
        {b["securitySymbol"]: b["total"] for b in pf["balances"]}["BTC"]
    )
    with pytest.raises(Exception, match=r"not found|no trading account"):
        handle.portfolio(UNKNOWN)


def test_orders_and_portfolios_survive_a_restart_with_a_state_file(tmp_path: Any) -> None:
    """`MockServer(state_file=)` as `serve --state-file`: the orders (a resting one still
    resting and still locking), the balances and the positions come back; a damaged
    trading part is refused naming its place, the file left as it is."""
    import json

    import requests

    from cadenza_mock.engine.persist import StateFileError
    from cadenza_mock.run.server import MockServer

    path = tmp_path / "state.json"
    body = {"tradingAccountId": SPOT, "instrumentId": BTC, "orderSide": "BUY", "quantity": "0.01"}
    with MockServer("accounts", state_file=path) as first:
        url = f"{first.url}{API}/tradeOrder/submit"
        for extra in ({"orderType": "MARKET"}, {"orderType": "LIMIT", "limitPrice": "30000.00"}):
            r = requests.post(url, json={**body, **extra}, headers=ALICE, timeout=10)
            assert r.status_code == 200, r.text
        orders, portfolio = first.orders(), first.portfolio(SPOT)
    with MockServer("accounts", state_file=path) as second:
        assert second.orders() == orders
        assert second.portfolio(SPOT) == portfolio
        assert [o["status"] for o in orders] == ["FILLED", "ACCEPTED"]
        r = requests.post(
            f"{second.url}{API}/tradeOrder/cancel",
            json={"tradingAccountId": SPOT, "tradeOrderId": orders[1]["tradeOrderId"]},
            headers=ALICE,
            timeout=10,
        )
        assert r.json()["data"]["status"] == "CANCELLED"
        usdt = {b["securitySymbol"]: b for b in second.portfolio(SPOT)["balances"]}["USDT"]
        assert usdt["locked"] == "0"
    document = json.loads(path.read_text())
    assert "apiSecret" not in path.read_text()
    document["trading"]["orders"][0]["quantity"] = 1
    path.write_text(json.dumps(document))
    with pytest.raises(StateFileError, match=r"trading\.orders\[0\]\.quantity: expected str"):
        MockServer("accounts", state_file=path).start()
    assert json.loads(path.read_text()) == document


def _with_balances(balances: Any) -> dict[str, Any]:
    return {
        "profile": "sdk",
        "seed": 5,
        "now": "2026-01-15T12:00:00Z",
        "users": [
            {
                "email": "alice@example.com",
                "tokens": ["alice-token"],
                "credentials": [{"venue": "BINANCE", "name": "main"}],
                "trading_accounts": [
                    {"tradingAccountId": SPOT, "credentials": ["main"], "balances": balances}
                ],
            }
        ],
    }


async def test_a_scenario_gives_an_accounts_starting_balances(make_client: Any) -> None:
    client = await make_client(_with_balances({"USDT": "500", "BTC": 0.25}))
    held = await balances(client)
    assert held == {
        "USDT": {"free": Decimal(500), "locked": 0, "total": Decimal(500)},
        "BTC": {"free": Decimal("0.25"), "locked": 0, "total": Decimal("0.25")},
    }
    status, answer = await submit(client, orderType="MARKET", quantity="0.01")
    assert (status, answer["errno"]) == (400, -18006)  # 500 USDT buys no 0.01 BTC
    await placed(client, orderType="MARKET", orderSide="SELL", quantity="0.25")
    assert (await balances(client))["BTC"]["total"] == 0


def test_bad_starting_balances_are_a_scenario_error_naming_the_place() -> None:
    from cadenza_mock.contract.errors import ScenarioError
    from cadenza_mock.scenario import load_scenario

    for bad in ({"USDT": "-1"}, {"USDT": "lots"}, ["USDT"]):
        with pytest.raises(ScenarioError, match=r"trading_accounts\[0\]\.balances"):
            load_scenario(_with_balances(bad))


async def test_orders_and_quotes_are_bounded_until_a_reset(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client submitting in a loop cannot grow the server without end: past the bound a
    clear 400 (retrying cannot help) that changes nothing; a reset makes room again."""
    from cadenza_mock.engine import orders, quoted

    monkeypatch.setattr(orders, "MAX_ORDERS", 2)
    monkeypatch.setattr(quoted, "MAX_QUOTES", 1)
    await placed(client, orderType="MARKET")
    await placed(client, limitPrice="10000.00")
    before = await balances(client)
    status, answer = await submit(client, orderType="MARKET")
    assert (status, answer["errno"]) == (400, -18007), answer
    assert "the mock holds at most 2 orders until a reset" in answer["error"]
    assert await balances(client) == before
    rfq = {"dealerAccountId": SPOT, "instrumentId": BTC, "orderSide": "BUY", "quantity": "0.01"}
    r = await client.post(f"{API}/quote/rfq", json=rfq, headers=ALICE)
    assert r.status == 200, await r.text()
    r = await client.post(f"{API}/quote/rfq", json=rfq, headers=ALICE)
    assert (r.status, (await r.json())["errno"]) == (400, -18007)
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    assert len((await r.json())["data"]) == 2
    assert (await client.post("/__admin/reset")).status == 200
    await placed(client, orderType="MARKET")


async def test_the_admin_order_list_gives_the_newest_open_or_final_ones(client: Any) -> None:
    """What the dashboard asks for: a few of an account's orders, whatever the server holds;
    a bad `open` or `latest` is a 400 naming it, and reads nothing."""
    resting = [await placed(client, limitPrice=f"{60000 + n}.00") for n in range(3)]
    filled = [await placed(client, orderType="MARKET") for _ in range(2)]
    base = f"/__admin/orders?tradingAccountId={SPOT}"

    async def ids(query: str) -> list[str]:
        r = await client.get(base + query)
        assert r.status == 200
        return [o["tradeOrderId"] for o in (await r.json())["data"]]

    every = await ids("")
    assert every == [o["tradeOrderId"] for o in resting + filled]  # oldest first
    assert await ids("&open=true") == every[:3]
    assert await ids("&open=true&latest=2") == every[1:3]  # the newest two, oldest first
    assert await ids("&open=false") == every[3:]
    assert await ids("&open=false&latest=1") == every[4:]
    assert await ids("&latest=4") == every[1:]
    assert await ids("&latest=1000") == every
    for bad, name in (("open=yes", "open"), ("open=", "open"), ("latest=0", "latest"),
                      ("latest=1001", "latest"), ("latest=-1", "latest"),
                      ("latest=%C2%B2", "latest"), ("latest=" + "9" * 5000, "latest")):  # fmt: skip
        r = await client.get(f"{base}&{bad}")
        answer = await r.json()
        assert (r.status, answer["errno"]) == (400, -22015), (bad, answer)
        assert answer["error"].startswith(f"Invalid argument: {name}: expected"), answer
    assert await ids("") == every  # nothing changed

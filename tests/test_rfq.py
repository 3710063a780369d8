"""RFQ over real HTTP and a real WebSocket: `POST /api/v3/quote/rfq` prices a quote from
the emulated book (the side's walk for the quantity, on the tick grid in the dealer's
favour) with an expiry on the mock clock; a QUOTED order on it fills whole at its price
until it expires or is taken, then the error-codes row, with nothing changed."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import pytest
from platform_ws import assert_reply, assert_shape
from support import ALICE, bearer
from test_orders import API, BTC, SPOT, TAKER, UNKNOWN, advance, balances, book, submit
from ws_contract import SCENARIO, connect_account, open_socket

from cadenza_mock.engine.fills import fee

pytestmark = pytest.mark.scenario("accounts")
BOB = bearer("bob-token")
PIP = Decimal("0.01")  # BINANCE:BTC/USDT's tick


async def ask(client: Any, headers: dict[str, str] = ALICE, **body: Any) -> Any:
    payload = {
        "dealerAccountId": SPOT,
        "instrumentId": BTC,
        "orderSide": "BUY",
        "quantity": "0.01",
        **body,
    }
    r = await client.post(f"{API}/quote/rfq", json=payload, headers=headers)
    return r.status, await r.json()


async def quoted(client: Any) -> dict[str, Any]:
    status, answer = await ask(client)
    assert status == 200, answer
    found: dict[str, Any] = answer["data"]
    return found


def walked(levels: list[list[str]], qty: Decimal, rounding: str) -> Decimal:
    """The average price of walking `levels` for `qty`, on the tick grid."""
    cost, left = Decimal(0), qty
    for price, size in levels:
        got = min(Decimal(size), left)
        cost, left = cost + got * Decimal(price), left - got
        if not left:
            break
    assert not left, "the book is thinner than the test's quantity"
    return ((cost / qty) / PIP).to_integral_value(rounding) * PIP


async def orders(client: Any) -> list[dict[str, Any]]:
    r = await client.get(f"{API}/tradeOrder/list", headers=ALICE)
    found: list[dict[str, Any]] = (await r.json())["data"]
    return found


async def test_a_quote_is_priced_from_the_book_and_a_quoted_order_fills_at_it(client):
    levels = await book(client)
    wanted = Decimal("3") * Decimal(levels["asks"][0][1])  # past the best level
    status, answer = await ask(client, quantity=str(wanted), quoteRequestId="r-1")
    assert status == 200, answer
    quote = answer["data"]
    assert quote["status"] == "CREATED" and quote["traderAccountId"] == SPOT
    assert Decimal(quote["price"]) == walked(levels["asks"], wanted, ROUND_CEILING)
    assert Decimal(quote["price"]) > Decimal(levels["asks"][0][0])  # it walked the book
    assert quote["expireAt"] - quote["createdAt"] == 10_000  # the document's default ttl
    sell = (await ask(client, orderSide="SELL", quantity=str(wanted)))[1]["data"]
    assert Decimal(sell["price"]) == walked(levels["bids"], wanted, ROUND_FLOOR)
    before = await balances(client)
    status, answer = await submit(
        client, orderType="QUOTED", quoteId=quote["quoteId"], quantity=str(wanted)
    )
    assert status == 200, answer
    order = answer["data"][0]
    assert (order["status"], order["orderType"], order["quoteId"]) == (
        "FILLED", "QUOTED", quote["quoteId"]
    )  # fmt: skip
    assert Decimal(order["executedPrice"]) == Decimal(quote["price"])
    after = await balances(client)
    cost = wanted * Decimal(quote["price"])
    assert before["USDT"]["free"] - after["USDT"]["free"] == cost + fee(cost, TAKER)
    assert after["BTC"]["total"] - before["BTC"]["total"] == wanted
    # The quote is taken now: the same quoteRequestId answers it, a second order is refused.
    again = (await ask(client, quantity=str(wanted), quoteRequestId="r-1"))[1]["data"]
    assert (again["quoteId"], again["status"]) == (quote["quoteId"], "ACCEPTED")
    status, answer = await submit(
        client, orderType="QUOTED", quoteId=quote["quoteId"], quantity=str(wanted)
    )
    assert (status, answer["errno"]) == (400, -18025) and "taken" in answer["error"]
    assert await balances(client) == after


async def test_a_quote_expires_on_the_mock_clock(client):
    quote = (await ask(client, ttl=2))[1]["data"]
    assert quote["expireAt"] - quote["createdAt"] == 2000
    await advance(client, 1.5)
    before = await balances(client)
    await advance(client, 0.5)  # exactly at expireAt: gone
    status, answer = await submit(client, orderType="QUOTED", quoteId=quote["quoteId"])
    assert (status, answer["errno"]) == (400, -18025), answer
    assert f"expired at {quote['expireAt']}" in answer["error"]
    assert await balances(client) == before and await orders(client) == []
    # An absolute expiry (ISO) instead of a ttl.
    now = quote["expireAt"]
    status, answer = await ask(client, expireAt="2099-01-01T00:00:00Z")
    assert (status, answer["errno"]) == (400, -18007), answer  # over 300 s away
    status, answer = await ask(client, expireAt="2026-01-15T12:00:05Z")
    assert status == 200, answer
    assert answer["data"]["expireAt"] > now


@pytest.mark.parametrize(
    ("body", "order", "status", "errno", "text"),
    [
        ({"ttl": 0}, None, 400, -19004, "ttl"),
        ({"ttl": 5, "expireAt": "2026-01-15T12:00:05Z"}, None, 400, -18007, "exclude"),
        ({"orderSide": "UNKNOWN"}, None, 400, -18002, "UNKNOWN"),
        ({"instrumentId": "OKX:BTC/USDT"}, None, 404, -18017, "not listed"),
        ({"quantity": "0.000001"}, None, 400, -18007, "lotSize"),
        ({"quantity": None}, None, 400, -18007, "quantity or quoteQuantity"),
        ({"dealerAccountId": UNKNOWN}, None, 404, -22016, "Trading account not found"),
        ({}, {"quoteId": UNKNOWN}, 404, -22016, "Quote not found"),
        ({}, {"quoteId": None}, 400, -18007, "quoteId is required"),
        ({}, {"quantity": "0.02"}, 400, -18007, "the quote is for"),
        ({}, {"orderSide": "SELL"}, 400, -18007, "the quote is a BUY"),
    ],
)
async def test_bad_quotes_and_quoted_orders_are_refused_and_change_nothing(
    client, body, order, status, errno, text
):
    before = await balances(client)
    if order is None:
        fields = {"quantity": "0.01", **body}
        got = await ask(client, **{k: v for k, v in fields.items() if v is not None})
        if body.get("quantity", "") is None:  # no quantity at all
            payload = {"dealerAccountId": SPOT, "instrumentId": BTC, "orderSide": "BUY"}
            r = await client.post(f"{API}/quote/rfq", json=payload, headers=ALICE)
            got = (r.status, await r.json())
    else:
        quote = await quoted(client)
        fields = {"orderType": "QUOTED", "quoteId": quote["quoteId"], **order}
        got = await submit(client, **{k: v for k, v in fields.items() if v is not None})
    assert (got[0], got[1]["errno"]) == (status, errno), got
    assert text in got[1]["error"]
    assert await balances(client) == before and await orders(client) == []


async def test_a_quote_is_its_owners_alone(client):
    quote = await quoted(client)
    status, answer = await ask(client, headers=BOB)
    assert (status, answer["errno"]) == (403, -22018), answer
    r = await client.post(
        f"{API}/tradeOrder/submit",
        json={
            "tradingAccountId": SPOT,
            "instrumentId": BTC,
            "orderSide": "BUY",
            "orderType": "QUOTED",
            "quantity": "0.01",
            "quoteId": quote["quoteId"],
        },
        headers=BOB,
    )
    assert r.status == 403, await r.text()


async def test_a_quote_in_quote_currency_rounds_down_to_the_lot(client):
    levels = await book(client)
    best = Decimal(levels["asks"][0][0])
    payload = {"dealerAccountId": SPOT, "instrumentId": BTC, "orderSide": "BUY"}
    r = await client.post(
        f"{API}/quote/rfq", json={**payload, "quoteQuantity": "1000"}, headers=ALICE
    )
    status, answer = r.status, await r.json()
    assert status == 200, answer
    qty = Decimal(answer["data"]["quantity"])
    assert qty * best <= 1000 < (qty + Decimal("0.00001")) * best


@pytest.mark.scenario(SCENARIO)
async def test_the_rpc_twin_quotes_and_the_quoted_order_fills(client):
    account = await connect_account(client)
    socket = await open_socket(client)
    params = {
        "dealerAccountId": account,
        "instrumentId": "BINANCE:ETH/USDT",
        "orderSide": "BUY",
        "quantity": "0.5",
        "ttl": 3,
    }
    reply = await socket.rpc("command.quote.rfq", params)
    assert_reply(reply)
    quote = reply["rpc"]["data"]["data"]
    assert_shape("quote", quote)
    assert quote["status"] == "CREATED" and quote["expireAt"] - quote["createdAt"] == 3000
    order = {
        "instrumentId": "BINANCE:ETH/USDT",
        "orderSide": "BUY",
        "orderType": "QUOTED",
        "quantity": "0.5",
        "quoteId": quote["quoteId"],
    }
    reply = await socket.rpc(
        "command.trade_order.submit", {"tradingAccountId": account, "tradeOrder": order}
    )
    filled = reply["rpc"]["data"]["data"]
    assert (filled["status"], filled["quoteId"]) == ("FILLED", quote["quoteId"])
    assert Decimal(filled["executedPrice"]) == Decimal(quote["price"])
    # An expired quote: the REST twin's error, inside the result.
    late = (await socket.rpc("command.quote.rfq", {**params, "ttl": 1}))["rpc"]["data"]["data"]
    assert (await client.post("/__admin/clock", json={"advance": 1})).status == 200
    reply = await socket.rpc(
        "command.trade_order.submit",
        {"tradingAccountId": account, "tradeOrder": {**order, "quoteId": late["quoteId"]}},
    )
    error = reply["rpc"]["data"]["error"]
    assert error["code"] == 18025 and "expired" in error["message"], reply
    reply = await socket.rpc("command.quote.rfq", {**params, "ttl": 301})
    assert reply["rpc"]["data"]["error"]["code"] == 19004

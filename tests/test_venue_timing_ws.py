"""Order timing on the WebSocket API, over real sockets: what a clock move, a price set or
a running clock fills (or a late venue's due fill) is published on `tradingAccount:{id}`
at once, with no call reading the orders (centrifuge-python listens); `awaitClosed` on
`command.trade_order.submit` answers once the order is final without holding the
connection's other commands, at most MAX_AWAITING per connection."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from centrifuge import PublicationContext, SubscriptionEventHandler
from test_orders import API, SPOT, placed
from test_orders_rpc import submit_params
from test_venue_behavior import with_behavior
from ws_contract import ALICE, SCENARIO, centrifuge, connect_account, open_socket

from cadenza_mock.http import trading_api
from cadenza_mock.http.trading_api import AWAIT_CLOSED_S
from cadenza_mock.http.ws_orders import MAX_AWAITING

ETH = "BINANCE:ETH/USDT"


class Listener:
    """centrifuge-python on the account's channel, fed (an active subscription)."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def start(self, mock: Any, account: str = SPOT) -> Listener:
        events = self.events

        class Handler(SubscriptionEventHandler):
            async def on_publication(self, ctx: PublicationContext) -> None:
                await events.put(ctx.pub.data["data"])

        self.client = await centrifuge(mock)
        sub = self.client.new_subscription(f"tradingAccount:{account}", events=Handler())
        await sub.subscribe()
        await sub.ready(timeout=5)
        body = {"tradingAccountId": account}
        r = await mock.post(f"{API}/tradingAccount/subscription/subscribe", json=body,
                            headers=ALICE)  # fmt: skip
        assert r.status == 200
        assert (await self.next())["status"] == "ACTIVE"  # the subscription's own event
        return self

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), 5)

    async def order_then_portfolio(self) -> dict[str, Any]:
        order, portfolio = await self.next(), await self.next()
        assert "tradeOrderId" in order and "balances" in portfolio, (order, portfolio)
        return order


async def admin(mock: Any, path: str, body: dict[str, Any]) -> None:
    r = await mock.post(f"/__admin/{path}", json=body)
    assert r.status == 200, await r.text()


async def test_a_price_set_and_a_clock_move_publish_their_fills_at_once(make_client):
    mock = await make_client(with_behavior({"fill_delay": 2}))
    listener = await Listener().start(mock)
    try:
        late = await placed(mock, orderType="MARKET", quantity="0.01")
        assert (await listener.order_then_portfolio())["status"] == "ACCEPTED"
        await admin(mock, "clock", {"advance": 2})  # the venue's fill falls due: published
        filled = await listener.order_then_portfolio()
        assert (filled["tradeOrderId"], filled["status"]) == (late["tradeOrderId"], "FILLED")
        # A resting order under the market, then a price set under its limit: the set
        # itself fills it (no read of the orders in between).
        resting = await placed(mock, limitPrice="64000.00")
        await admin(mock, "clock", {"advance": 2})  # on the book now
        assert (await listener.order_then_portfolio())["status"] == "ACCEPTED"
        await admin(mock, "market/price", {"instrumentId": "BINANCE:BTC/USDT",
                                           "price": "63900.00"})  # fmt: skip
        crossed = await listener.order_then_portfolio()
        assert (crossed["tradeOrderId"], crossed["status"]) == (resting["tradeOrderId"], "FILLED")
    finally:
        await listener.client.disconnect()


async def test_a_slow_cancel_is_published_when_the_clock_brings_it(make_client):
    mock = await make_client(with_behavior({"cancel_delay": 1}))
    listener = await Listener().start(mock)
    try:
        order = await placed(mock, limitPrice="60000.00")
        await listener.order_then_portfolio()
        body = {"tradingAccountId": SPOT, "tradeOrderId": order["tradeOrderId"]}
        r = await mock.post(f"{API}/tradeOrder/cancel", json=body, headers=ALICE)
        assert (await r.json())["data"]["status"] == "PENDING_CANCEL"
        assert (await listener.order_then_portfolio())["status"] == "PENDING_CANCEL"
        await admin(mock, "clock", {"now": "2026-01-15T12:00:05Z"})  # a placement moves it too
        assert (await listener.order_then_portfolio())["status"] == "CANCELLED"
    finally:
        await listener.client.disconnect()


async def test_a_running_clock_publishes_a_late_fill_with_no_call(make_client):
    mock = await make_client(with_behavior({"fill_delay": 0.3}))
    await admin(mock, "clock", {"frozen": False})
    listener = await Listener().start(mock)
    try:
        order = await placed(mock, orderType="MARKET", quantity="0.01")
        assert (await listener.order_then_portfolio())["status"] == "ACCEPTED"
        filled = await listener.order_then_portfolio()  # real time passes: nothing else asked
        assert (filled["tradeOrderId"], filled["status"]) == (order["tradeOrderId"], "FILLED")
    finally:
        await listener.client.disconnect()


async def test_await_closed_waits_without_holding_the_connection(make_client, monkeypatch):
    monkeypatch.setattr(trading_api, "AWAIT_CLOSED_S", 30)  # only the price set ends the wait
    mock = await make_client(SCENARIO)
    account = await connect_account(mock)
    socket = await open_socket(mock)
    params = submit_params(account, orderType="LIMIT", limitPrice="3100.00")
    await socket.send({"id": 50, "rpc": {"method": "command.trade_order.submit",
                                         "data": {**params, "awaitClosed": True}}})  # fmt: skip
    await socket.send({"id": 51, "rpc": {"method": "query.trade_order.list", "data": {}}})
    listed = await socket.frame()  # the next command is answered meanwhile
    assert listed["id"] == 51, listed
    (waiting,) = listed["rpc"]["data"]["data"]
    assert waiting["status"] == "ACCEPTED"
    await admin(mock, "market/price", {"instrumentId": ETH, "price": "3000.00"})
    answered = await socket.frame()
    assert answered["id"] == 50, answered
    order = answered["rpc"]["data"]["data"]
    assert (order["tradeOrderId"], order["status"]) == (waiting["tradeOrderId"], "FILLED")


async def test_await_closed_answers_an_open_order_as_it_is_after_the_wait(make_client):
    mock = await make_client(SCENARIO)
    account = await connect_account(mock)
    socket = await open_socket(mock)
    params = {**submit_params(account, orderType="LIMIT", limitPrice="1000.00"),
              "awaitClosed": True}  # fmt: skip
    started = time.monotonic()
    reply = await socket.rpc("command.trade_order.submit", params)
    assert reply["rpc"]["data"]["data"]["status"] == "ACCEPTED"
    assert time.monotonic() - started >= AWAIT_CLOSED_S * 0.9  # it did wait (not an upper bound)
    # A MARKET order is final at once: answered at once.
    market = {**submit_params(account), "awaitClosed": True}
    assert (await socket.rpc("command.trade_order.submit", market))["rpc"]["data"]["data"][
        "status"
    ] == "FILLED"


async def test_await_closed_is_bounded_per_connection(make_client, monkeypatch):
    monkeypatch.setattr(trading_api, "AWAIT_CLOSED_S", 30)  # only the price set ends the waits
    mock = await make_client(SCENARIO)
    account = await connect_account(mock)
    socket = await open_socket(mock)
    params = {**submit_params(account, orderType="LIMIT", limitPrice="3100.00", quantity="0.01"),
              "awaitClosed": True}  # fmt: skip
    ids = range(100, 100 + MAX_AWAITING + 1)
    for command_id in ids:
        await socket.send({"id": command_id, "rpc": {"method": "command.trade_order.submit",
                                                     "data": params}})  # fmt: skip
    first = await socket.frame()  # past the bound: answered at once, as the order is
    assert first["id"] == ids[-1] and first["rpc"]["data"]["data"]["status"] == "ACCEPTED"
    # Another connection is not bounded by this one's waits.
    other = await open_socket(mock)
    await other.send({"id": 7, "rpc": {"method": "command.trade_order.submit", "data": params}})
    await other.send({"id": 8, "rpc": {"method": "query.trade_order.list", "data": {}}})
    assert (await other.frame())["id"] == 8  # its submit waits (the next reply came first)
    await admin(mock, "market/price", {"instrumentId": ETH, "price": "3000.00"})
    rest = [await socket.frame() for _ in range(MAX_AWAITING)]
    assert sorted(f["id"] for f in rest) == list(ids[:-1])
    assert {f["rpc"]["data"]["data"]["status"] for f in rest} == {"FILLED"}
    answered = await other.frame()
    assert (answered["id"], answered["rpc"]["data"]["data"]["status"]) == (7, "FILLED")


async def test_the_handles_clock_moves_publish_at_once() -> None:
    """mock.advance() and mock.set_now() on a threaded MockServer: the late fill and the
    slow cancel they bring reach centrifuge-python with no call reading the orders."""
    import aiohttp
    from centrifuge import Client

    from cadenza_mock.run.server import MockServer

    with MockServer(with_behavior({"fill_delay": 2, "cancel_delay": 1})) as mock:
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        class Handler(SubscriptionEventHandler):
            async def on_publication(self, ctx: PublicationContext) -> None:
                await events.put(ctx.pub.data["data"])

        async def next_order() -> dict[str, Any]:
            order = await asyncio.wait_for(events.get(), 5)
            portfolio = await asyncio.wait_for(events.get(), 5)
            assert "balances" in portfolio
            return order

        client = Client(mock.url.replace("http://", "ws://") + "/connection/websocket",
                        token="alice-token")  # fmt: skip
        await client.connect()
        sub = client.new_subscription(f"tradingAccount:{SPOT}", events=Handler())
        await sub.subscribe()
        await sub.ready(timeout=5)
        async with aiohttp.ClientSession(mock.url, headers=ALICE) as http:
            body = {"tradingAccountId": SPOT}
            await http.post(f"{API}/tradingAccount/subscription/subscribe", json=body)
            assert (await asyncio.wait_for(events.get(), 5))["status"] == "ACTIVE"
            order = {"tradingAccountId": SPOT, "instrumentId": "BINANCE:BTC/USDT",
                     "orderSide": "BUY", "orderType": "MARKET", "quantity": "0.01"}  # fmt: skip
            r = await http.post(f"{API}/tradeOrder/submit", json=order)
            late = (await r.json())["data"][0]
            assert (await next_order())["status"] == "ACCEPTED"
            await asyncio.to_thread(mock.advance, 2)
            filled = await next_order()
            assert (filled["tradeOrderId"], filled["status"]) == (late["tradeOrderId"], "FILLED")
            limit = {**order, "orderType": "LIMIT", "limitPrice": "60000.00"}
            r = await http.post(f"{API}/tradeOrder/submit", json=limit)
            resting = (await r.json())["data"][0]
            assert (await next_order())["status"] == "ACCEPTED"
            await asyncio.to_thread(mock.advance, 2)  # on the book: nothing taken, no event
            which = {"tradingAccountId": SPOT, "tradeOrderId": resting["tradeOrderId"]}
            await http.post(f"{API}/tradeOrder/cancel", json=which)
            assert (await next_order())["status"] == "PENDING_CANCEL"
            await asyncio.to_thread(mock.set_now, mock.now_ms + 1000)
            cancelled = await next_order()
            assert (cancelled["tradeOrderId"], cancelled["status"]) == (
                resting["tradeOrderId"], "CANCELLED"
            )  # fmt: skip
        await client.disconnect()

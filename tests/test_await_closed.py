"""`awaitClosed: true` on a REST submit: the answer waits (up to the document's 1 second,
real time) for a final status, which a clock move or a price set during the wait brings;
an order that stays open is answered as it is. Without it, the answer comes at once."""

from __future__ import annotations

import asyncio

import pytest
from test_orders import advance, set_price, submit

pytestmark = pytest.mark.scenario("accounts")


async def test_a_resting_order_is_answered_once_the_market_fills_it(client):
    async def the_market_moves() -> None:
        await asyncio.sleep(0.2)
        await set_price(client, "63900.00")
        await advance(client, 1)

    (status, answer), _ = await asyncio.gather(
        submit(client, limitPrice="64000.00", awaitClosed=True), the_market_moves()
    )
    assert status == 200, answer
    assert answer["data"][0]["status"] == "FILLED"


async def test_an_order_that_stays_open_is_answered_as_it_is(client):
    status, answer = await submit(client, limitPrice="60000.00", awaitClosed=True)
    assert (status, answer["data"][0]["status"]) == (200, "ACCEPTED")
    status, answer = await submit(client, orderType="MARKET", awaitClosed=True)
    assert (status, answer["data"][0]["status"]) == (200, "FILLED")
    status, answer = await submit(client, limitPrice="60000.00", awaitClosed="yes")
    assert (status, answer["errno"]) == (400, -19004)

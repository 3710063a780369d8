"""The order engine on the WebSocket: `awaitClosed` submits answered once final, and a
running clock's ticks that bring resting orders up to date while clients are connected.

An awaitClosed `command.trade_order.submit` whose order is still open is answered by a
task of its own, like its REST twin (http/trading_api.py: the order's final status, or as
it is after the document's 1 second), so the connection's next commands and the event
loop go on meanwhile. A connection has at most MAX_AWAITING such answers waiting; past
that one is answered at once, as the order is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from cadenza_mock.contract import trading_wire, wire
from cadenza_mock.engine.orders import Order
from cadenza_mock.engine.state import MockState
from cadenza_mock.http.trading_api import closed
from cadenza_mock.http.ws_session import WsClient

log = logging.getLogger("cadenza_mock")

MAX_AWAITING = 16  # awaitClosed answers one connection may have waiting at once


def _reply(command_id: int, order: Order) -> str:
    data = wire.dumps_text({"data": trading_wire.rpc_trade_order(order)})
    return f'{{"id":{command_id},"rpc":{{"data":{data}}}}}'


def answer_closed(
    client: WsClient,
    state: MockState,
    command_id: int,
    order: Order,
    finish: Callable[[str | None], None],
) -> None:
    """Answer an awaitClosed submit (`finish` sends and journals the reply frame) once its
    order is final, without holding the connection; at once past MAX_AWAITING."""
    if len(client.waits) >= MAX_AWAITING:
        finish(_reply(command_id, order))
        return
    trading = state.store.trading

    async def wait() -> None:
        await closed(trading, order)
        if client.closing is None:
            finish(_reply(command_id, order))

    task = asyncio.ensure_future(wait())
    client.waits.add(task)
    task.add_done_callback(client.waits.discard)


def end_waits(client: WsClient) -> None:
    """The connection ends: its waiting answers go with it."""
    for task in list(client.waits):
        task.cancel()


def tick_orders(state: MockState) -> None:
    """A running clock moved on: what it filled or expired goes out on the channels now,
    not at the next call that reads the orders (free while no order rests)."""
    try:
        state.store.trading.catch_up()
    except Exception:  # a bug in the mock: logged, and the clock watcher goes on
        log.exception("bringing the orders up to date on a running clock")

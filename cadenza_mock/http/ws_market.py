"""The `market:*` channels on the WebSocket: when to ask the engine's feed
(engine/market_feed.py) what they carry, and who receives it.

Publications go out when something moved them: the mock clock (an advance or a
placement: `Clock.on_move`), an order book subscription beginning or ending
(`MarketSubscriptions.wake`), and, at `--market-interval` seconds, a timer, for a running
clock (and prices set meanwhile). There is ONE timer task per app, and only while some
market channel has a subscriber: an idle server runs nothing for the market. Each
publication is encoded once, whatever the number of subscribers, and what one catch-up
has for a connection goes out as one WebSocket frame of newline-separated pushes (the
Centrifugo JSON protocol's batching, which its clients read): one write per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from cadenza_mock.contract.options import DEFAULT_MARKET_INTERVAL
from cadenza_mock.engine.market_feed import ChannelError, FeedChannel, MarketFeed, parse
from cadenza_mock.engine.state import MockState
from cadenza_mock.http.ws_session import WsClient, WsHub, dumps

DEFAULT_INTERVAL = DEFAULT_MARKET_INTERVAL


def _frame(channel: str, data: Any) -> str:
    return dumps({"push": {"channel": channel, "pub": {"data": data}}})


class MarketChannels:
    """The market channels of every state (the server's, each namespace's) of one app."""

    def __init__(self, hubs: dict[MockState, WsHub], interval: float = DEFAULT_INTERVAL) -> None:
        self.hubs = hubs
        self.interval = interval
        self._feeds: dict[MockState, tuple[int, MarketFeed]] = {}
        self._pending: set[MockState] = set()
        self.task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ subscribe

    def check(self, state: MockState, channel: str) -> bool:
        """Whether the channel would carry data now; ChannelError if it names nothing."""
        found = parse(state.store.market, channel)
        return self._feed(state).fed(found)

    def joined(self, state: MockState, client: WsClient, channel: str) -> None:
        """A client subscribed (its reply is queued): the channel's other subscribers get
        what is due first, then the client its first publications (the SNAPSHOT)."""
        feed = self._feed(state)
        existing = feed.channels.get(channel)
        if existing is not None:
            self._send(state, existing, feed.catch_up(existing), skip=client)
        first = [_frame(channel, data) for data in feed.snapshot(feed.open(channel))]
        if first:
            client.push("\n".join(first))
        self._watch(state)
        if self.task is None:
            self.task = asyncio.ensure_future(self._tick())

    # ------------------------------------------------------------------ publishing

    def catch_up(self, state: MockState) -> None:
        """Publish what the state's market channels carry since they last published; a
        channel with no subscriber left is forgotten."""
        self._pending.discard(state)
        entry = self._feeds.get(state)
        hub = self.hubs.get(state)
        if entry is None or hub is None or entry[0] != state.generation:
            self._feeds.pop(state, None)  # reset, loaded or dropped: its clients are gone
            return
        feed = entry[1]
        listening: dict[str, list[WsClient]] = {}
        for client in hub.clients:
            for name in client.channels:
                if name in feed.channels:
                    listening.setdefault(name, []).append(client)
        frames: dict[WsClient, list[str]] = {}
        for name, channel in list(feed.channels.items()):
            clients = listening.get(name)
            if not clients:
                del feed.channels[name]
                continue
            texts = [_frame(name, data) for data in feed.catch_up(channel)]
            if texts:
                for client in clients:
                    frames.setdefault(client, []).extend(texts)
        for client, texts in frames.items():
            client.push("\n".join(texts))
        if not feed.channels:
            del self._feeds[state]

    def _send(
        self, state: MockState, channel: FeedChannel, found: list[Any], skip: WsClient
    ) -> None:
        hub = self.hubs.get(state)
        if hub is None or not found:
            return
        text = "\n".join(_frame(channel.name, data) for data in found)
        for client in hub.clients:
            if client is not skip and channel.name in client.channels:
                client.push(text)

    def _feed(self, state: MockState) -> MarketFeed:
        entry = self._feeds.get(state)
        store = state.store
        if entry is None or entry[0] != state.generation or entry[1].market is not store.market:
            feed = MarketFeed(store.market, store.market_subscriptions, state.scenario.seed)
            entry = self._feeds[state] = (state.generation, feed)
        return entry[1]

    def _watch(self, state: MockState) -> None:
        """Hear of the state's clock moves and subscription changes (again after a load,
        which brings a new clock and store): a plain function, so a snapshot's copy of the
        clock shares it instead of copying this object."""
        loop = asyncio.get_running_loop()
        pending = self._pending
        catch_up = self.catch_up

        def wake() -> None:
            if state in pending:
                return
            pending.add(state)
            if asyncio._get_running_loop() is loop:  # a request's handler: no wake-up pipe
                loop.call_soon(catch_up, state)
                return
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody listens
                loop.call_soon_threadsafe(catch_up, state)

        state.clock.on_move = wake
        state.store.market_subscriptions.wake = wake

    async def _tick(self) -> None:
        """The one timer: a running clock's publications, while any channel has a
        subscriber; it ends with the last one."""
        try:
            while self._feeds:
                await asyncio.sleep(self.interval)
                for state in list(self._feeds):
                    self.catch_up(state)
        finally:
            self.task = None

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()


MARKET_CHANNELS = web.AppKey("cadenza_market_channels", MarketChannels)


def refusal(error: ChannelError) -> str:
    """The subscribe error's message: the protocol's words, then why."""
    return f"unknown channel: {error}"

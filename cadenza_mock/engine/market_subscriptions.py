"""Order book subscriptions, and which `market:orderbook:{venue}:{symbol}` channels they feed.

Cadenza's channels page puts a server-side subscription before any data, and for order
books the document has one: `POST /api/v3/market/subscription/orderBook/subscribe` (RPC
`command.market.subscription.orderbook.subscribe`). So, as for trading accounts
(engine/subscriptions.py), the rule lives here once for every transport: an instrument's
order book channel is *fed* while some user of the state has an ACTIVE order book
subscription on it. Market data is public: whose subscription it is does not matter to
the channel, only to who may list or end it (each user sees and ends only their own).

Every check runs before any change; the records are not kept in a state file (like the
trading account subscriptions): a restart ends them with the connections.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from cadenza_mock.contract.errors import SUBSCRIPTION_NOT_FOUND, invalid_argument
from cadenza_mock.contract.market_records import ORDERBOOK, MarketSubscription
from cadenza_mock.contract.model import User
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.market import Market
from cadenza_mock.engine.subscriptions import ACTIVE, TERMINATED
from cadenza_mock.seeded import rng_for, uuid4_from

# At most this many instruments in one subscribe (the RPC takes a list).
MAX_INSTRUMENTS = 1000


class MarketSubscriptions:
    """The order book subscriptions of one store (none at load, none after a reset)."""

    def __init__(self, market: Market, *, seed: int, clock: Clock) -> None:
        self._market = market
        self._seed = seed
        self._clock = clock
        # Told when a subscription began or ended (the WebSocket layer sets it, to
        # publish a SNAPSHOT on a channel that just became fed): a plain function.
        self.wake: Callable[[], None] | None = None
        self.version = 0
        self.reset()

    def reset(self) -> None:
        self.version += 1
        self._by_id: dict[str, MarketSubscription] = {}  # lower-case id -> record
        self._made = 0

    # ----------------------------------------------------------------- queries

    def feeds(self, instrument_id: str) -> bool:
        """Whether the instrument's order book channel carries data."""
        return any(
            s.status == ACTIVE and s.instrument_id == instrument_id for s in self._by_id.values()
        )

    def listed(
        self, user: User, instrument_ids: Iterable[str] | None = None
    ) -> list[MarketSubscription]:
        """The caller's ACTIVE subscriptions (of these instruments), createdAt then id."""
        wanted = frozenset(instrument_ids) if instrument_ids is not None else None
        return sorted(
            (
                s
                for s in self._by_id.values()
                if s.user_id == user.user_id
                and s.status == ACTIVE
                and (wanted is None or s.instrument_id in wanted)
            ),
            key=lambda s: (s.created_at, s.subscription_id),
        )

    # ----------------------------------------------------------------- changes

    def subscribe(self, user: User, instrument_ids: list[str]) -> list[MarketSubscription]:
        """Stream these instruments' books: the caller's ACTIVE subscription on each (the
        one it has already, or a new one), in the order asked. Every id is checked first:
        an unknown one is a 404 and nothing changes."""
        if not instrument_ids:
            raise invalid_argument("instrumentId", "required (VENUE:BASE/QUOTE)")
        if len(instrument_ids) > MAX_INSTRUMENTS:
            raise invalid_argument("instrumentIds", f"at most {MAX_INSTRUMENTS} in one call")
        specs = [self._market.instrument(i) for i in dict.fromkeys(instrument_ids)]
        found: list[MarketSubscription] = []
        made: list[MarketSubscription] = []
        for spec in specs:
            existing = next(
                (
                    s
                    for s in self._by_id.values()
                    if s.user_id == user.user_id
                    and s.instrument_id == spec.instrument_id
                    and s.status == ACTIVE
                ),
                None,
            )
            if existing is None:
                self._made += 1
                now = self._clock.now_ms()
                existing = MarketSubscription(
                    subscription_id=uuid4_from(rng_for(self._seed, "market-sub", self._made)),
                    user_id=user.user_id,
                    instrument_id=spec.instrument_id,
                    venue=spec.venue,
                    subscription_type=ORDERBOOK,
                    status=ACTIVE,
                    created_at=now,
                    updated_at=now,
                )
                made.append(existing)
            found.append(existing)
        self._put(made)
        return found

    def unsubscribe(
        self, user: User, *, subscription_id: str | None, instrument_id: str | None
    ) -> MarketSubscription:
        """End one of the caller's subscriptions: the one named, or the ACTIVE one on an
        instrument. Ending an ended one changes nothing. A refusal is a 400 (the trading
        account unsubscribe's): nothing of the caller's matches."""
        if subscription_id is None and instrument_id is None:
            raise invalid_argument("subscriptionId", "subscriptionId or instrumentId is required")
        if subscription_id is not None:
            found = self._by_id.get(subscription_id.lower())
            if found is None or found.user_id != user.user_id:
                raise SUBSCRIPTION_NOT_FOUND.error(f"subscriptionId {subscription_id}")
            if instrument_id is not None and found.instrument_id != instrument_id:
                raise SUBSCRIPTION_NOT_FOUND.error(
                    f"subscription {subscription_id} is not on instrument {instrument_id}"
                )
        else:
            assert instrument_id is not None
            active = self.listed(user, (instrument_id,))
            if not active:
                raise SUBSCRIPTION_NOT_FOUND.error(
                    f"no active order book subscription of yours on {instrument_id}"
                )
            found = active[-1]
        if found.status != ACTIVE:
            return found
        ended = dataclasses.replace(
            found, status=TERMINATED, updated_at=self._clock.stamp_after(found.updated_at)
        )
        self._put([ended])
        return ended

    def _put(self, records: list[MarketSubscription]) -> None:
        if not records:
            return
        for record in records:
            self._by_id[record.subscription_id.lower()] = record
        self.version += 1
        if self.wake is not None:
            self.wake()

"""Trading account subscriptions, and which events the `tradingAccount:{id}` channels carry.

Cadenza's channels page: a channel carries data only once a server-side subscription tells
the platform what to stream. For trading accounts that subscription is
`POST /api/v3/tradingAccount/subscription/subscribe` (RPC `command.trading_account.subscribe`).
So the rule, in one place for every transport: an account's channel is *fed* while the
account has an ACTIVE subscription, and only a fed channel gets the account's events
(`event.trading_account.updated`, `event.credential.updated` of the credentials backing
it); `event.trading_account.subscription.updated` goes out for the subscription's own
changes, its end included (the channel's last event). A disconnected account's
subscriptions end (TERMINATED). The WebSocket layer only publishes what `events_*` return.

Apart from the store because its state (subscriptions) and its rules (what feeds a
channel) are their own; like the store, every check runs before any change. Subscriptions
are not kept in a state file (like the journal): a restart ends them with the connections.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cadenza_mock.contract.errors import INVALID_STATE, SUBSCRIPTION_NOT_FOUND, VALIDATION_FAILED
from cadenza_mock.contract.model import Credential, Subscription, TradingAccount, User
from cadenza_mock.engine.accounts import DISCONNECTED, Accounts
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.query import Page
from cadenza_mock.seeded import rng_for, uuid4_from

# The document's subscriptionType: `{LEVEL}.SUBSCRIPTION.{TYPE}`. A trading account stream
# takes the TRADING_ACCOUNT level; USER_DATA is what the REST subscribe (which names no
# type) creates, the document's replacement for the deprecated TRADING_ACCOUNT one.
MARKET_TYPES = (
    "MARKET.SUBSCRIPTION.ORDERBOOK",
    "MARKET.SUBSCRIPTION.TRADE",
    "MARKET.SUBSCRIPTION.TICKER",
    "MARKET.SUBSCRIPTION.KLINE",
)
USER_DATA = "TRADING_ACCOUNT.SUBSCRIPTION.USER_DATA"
ACCOUNT_TYPES = (
    USER_DATA,
    "TRADING_ACCOUNT.SUBSCRIPTION.PORTFOLIO",
    "TRADING_ACCOUNT.SUBSCRIPTION.EXECUTION_REPORT",
    "TRADING_ACCOUNT.SUBSCRIPTION.TRADING_ACCOUNT",
)
SUBSCRIPTION_TYPES = (*MARKET_TYPES, *ACCOUNT_TYPES)
ACTIVE, TERMINATED = "ACTIVE", "TERMINATED"
SUBSCRIPTION_STATUSES = ("INACTIVE", ACTIVE, "PAUSED", TERMINATED)

# A trading account's channel: tradingAccount:{tradingAccountId}.
CHANNEL_PREFIX = "tradingAccount:"
# The events, by their names in the document's rpcMethod enum.
CREDENTIAL_UPDATED = "event.credential.updated"
ACCOUNT_UPDATED = "event.trading_account.updated"
SUBSCRIPTION_UPDATED = "event.trading_account.subscription.updated"
TRADE_ORDER_UPDATED = "event.trade_order.updated"
PORTFOLIO_UPDATED = "event.portfolio.updated"


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """What the channel of one trading account carries next: an event and its record."""

    trading_account_id: str
    name: str  # CREDENTIAL_UPDATED, ACCOUNT_UPDATED, SUBSCRIPTION_UPDATED, or a trading one
    record: Credential | TradingAccount | Subscription
    # The event's data made by the order engine (an rpcTradeOrder, an rpcPortfolio): the
    # trading events carry their account as `record` and this as what is sent.
    payload: Mapping[str, Any] | None = None


class Subscriptions:
    """The trading account subscriptions of one loaded scenario (none at load)."""

    def __init__(
        self,
        accounts: Accounts,
        *,
        seed: int,
        clock: Clock,
        on_change: Callable[[Subscription], None] | None = None,
    ) -> None:
        self._accounts = accounts
        self._seed = seed
        self._clock = clock
        self._on_change = on_change
        self.version = 0
        self.reset()

    def reset(self) -> None:
        self.version += 1
        self._by_id: dict[str, Subscription] = {}  # lower-case id -> record, creation order
        self._made = 0
        self.changed = False

    # ----------------------------------------------------------------- queries

    def feeds(self, trading_account_id: str) -> bool:
        """Whether the account's channel carries its events: an ACTIVE subscription."""
        wanted = trading_account_id.lower()
        return any(
            s.status == ACTIVE and s.trading_account_id.lower() == wanted
            for s in self._by_id.values()
        )

    def listed(
        self,
        user: User,
        trading_account_id: str | None = None,
        *,
        types: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        page: Page | None = None,
    ) -> list[Subscription]:
        """The caller's subscriptions (of one account, of these types and statuses), in
        createdAt then id order; an account that is not the caller's matches nothing."""
        account = trading_account_id.lower() if trading_account_id else None
        kinds = frozenset(types) if types is not None else None
        wanted = frozenset(statuses) if statuses is not None else None
        found = sorted(
            (
                s
                for s in self._by_id.values()
                if s.user_id == user.user_id
                and (account is None or s.trading_account_id.lower() == account)
                and (kinds is None or s.subscription_type in kinds)
                and (wanted is None or s.status in wanted)
            ),
            key=lambda s: (s.created_at, s.subscription_id),
        )
        start, end = (page or Page()).cut(len(found))
        return found[start:end]

    # ----------------------------------------------------------------- changes

    def subscribe(
        self, user: User, trading_account_id: str, subscription_type: str = USER_DATA
    ) -> Subscription:
        """Stream one of the caller's live accounts: its ACTIVE subscription of that type
        (the one it has already, or a new one). 404/403 for an account not the caller's,
        400 for a disconnected one or a market type."""
        if subscription_type not in ACCOUNT_TYPES:
            raise VALIDATION_FAILED.error(
                f"subscriptionType {subscription_type} is not a trading account stream "
                f"(allowed: {', '.join(ACCOUNT_TYPES)})"
            )
        account = self._accounts.owned(user, trading_account_id)
        if account.status == DISCONNECTED:
            raise INVALID_STATE.error(
                f"trading account {account.trading_account_id} is DISCONNECTED; "
                "connect it again (a new tradingAccountId) to subscribe"
            )
        for existing in self._by_id.values():
            if (
                existing.trading_account_id == account.trading_account_id
                and existing.subscription_type == subscription_type
                and existing.status == ACTIVE
            ):
                return existing  # subscribing twice: the one stream, nothing changes
        self._made += 1
        now = self._clock.now_ms()
        made = Subscription(
            subscription_id=uuid4_from(rng_for(self._seed, "subscription", self._made)),
            trading_account_id=account.trading_account_id,
            user_id=account.user_id,
            venue=account.venue,
            subscription_type=subscription_type,
            status=ACTIVE,
            created_at=now,
            updated_at=now,
        )
        self._put(made)
        return made

    def unsubscribe(
        self, user: User, *, subscription_id: str | None, trading_account_id: str | None
    ) -> Subscription:
        """End one of the caller's subscriptions: the one named, or (by account alone)
        every ACTIVE one of that account, answering the newest. Ending an ended one
        changes nothing. Every refusal is a 400, the only error the document lists."""
        if subscription_id is None and trading_account_id is None:
            raise VALIDATION_FAILED.error("subscriptionId or tradingAccountId is required")
        account = trading_account_id.lower() if trading_account_id else None
        if subscription_id is not None:
            found = self._by_id.get(subscription_id.lower())
            if found is None or found.user_id != user.user_id:
                raise SUBSCRIPTION_NOT_FOUND.error(f"subscriptionId {subscription_id}")
            if account is not None and found.trading_account_id.lower() != account:
                raise SUBSCRIPTION_NOT_FOUND.error(
                    f"subscription {subscription_id} is not on trading account {trading_account_id}"
                )
            targets = [found] if found.status == ACTIVE else []
        else:
            targets = self.listed(user, trading_account_id, statuses=(ACTIVE,))
            if not targets:
                raise SUBSCRIPTION_NOT_FOUND.error(
                    f"trading account {trading_account_id} has no active subscription of yours"
                )
            found = targets[-1]
        ended = self._end(targets)
        return ended[-1] if ended else found

    def account_changed(self, account: TradingAccount) -> None:
        """A disconnected account streams nothing more: its subscriptions end."""
        if account.status == DISCONNECTED:
            self._end(
                s
                for s in self._by_id.values()
                if s.trading_account_id == account.trading_account_id and s.status == ACTIVE
            )

    def _end(self, targets: Iterable[Subscription]) -> list[Subscription]:
        ended = [
            dataclasses.replace(
                s, status=TERMINATED, updated_at=self._clock.stamp_after(s.updated_at)
            )
            for s in list(targets)
        ]
        self._put(*ended)
        return ended

    def _put(self, *subscriptions: Subscription) -> None:
        for subscription in subscriptions:
            self._by_id[subscription.subscription_id.lower()] = subscription
            self.changed = True
            self.version += 1
        if self._on_change is not None:
            for subscription in subscriptions:
                self._on_change(subscription)

    # ----------------------------------------------------------------- events

    def events_for_credential(self, cred: Credential) -> list[ChannelEvent]:
        """A credential changed: an event on each fed channel of an account it backs."""
        if not self._by_id:
            return []  # no subscription: no account to look up
        return [
            ChannelEvent(account.trading_account_id, CREDENTIAL_UPDATED, cred)
            for account in self._accounts.backed_by(cred.credential_id)
            if self.feeds(account.trading_account_id)
        ]

    def events_for_account(self, account: TradingAccount) -> list[ChannelEvent]:
        """An account changed (connect, enable, disable, update, disconnect, and what its
        credentials' rotate or revoke did to it): an event on its channel, if fed."""
        if not self.feeds(account.trading_account_id):
            return []
        return [ChannelEvent(account.trading_account_id, ACCOUNT_UPDATED, account)]

    @staticmethod
    def events_for_subscription(subscription: Subscription) -> list[ChannelEvent]:
        """A subscription began or ended: always on its account's channel."""
        return [ChannelEvent(subscription.trading_account_id, SUBSCRIPTION_UPDATED, subscription)]

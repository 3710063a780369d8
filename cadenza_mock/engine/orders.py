"""Trade orders of one store (namespace): submit with every check the platform makes,
fills from the emulated market, cancel, and the portfolios they move.

Nothing runs on its own. A MARKET order (and the part of a LIMIT order that crosses the
book) fills when it is submitted, walking the book's levels (engine/fills.py); a resting
order is brought up to date whenever anything reads or changes the orders (`catch_up`):
the price path between its last check and now says whether it was crossed, so an idle
server costs nothing and a clock advance of a day costs one candle per instrument.

Every status change goes through TRANSITIONS, the one table of the 13 statuses of the
platform's document. Every refusal is checked before any change (the catalogue's 18xxx
rows): an error changes nothing. Balances: an accepted LIMIT order locks what it may
pay (quote for a BUY, with the taker fee; base for a SELL); fills pay out of the lock and
give back what the rest no longer needs; a final status gives back the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from cadenza_mock.contract.bounds import MAX_ORDERS
from cadenza_mock.contract.errors import (
    INSUFFICIENT_FUNDS,
    INVALID_ORDER,
    INVALID_STATE,
    ORDER_NOT_CANCELABLE,
    ORDER_NOT_FOUND,
    ORDER_REJECTED,
    PERMISSION_DENIED,
    SYMBOL_NOT_FOUND,
)
from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.contract.model import ProfileEnums, TradingAccount, User
from cadenza_mock.contract.trading_enums import ORDER_STATUSES
from cadenza_mock.engine.accounts import DISCONNECTED, Accounts
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.fills import BUY, ceil, crossed, fee, fees_of, walk_book
from cadenza_mock.engine.market import Market
from cadenza_mock.engine.order_checks import (
    OrderRequest,
    check_kind,
    check_limit,
    instrument_status,
    need,
)
from cadenza_mock.engine.order_lists import (
    Exit,
    after_change,
    check_exits,
    contingency,
    link,
    list_id,
    triggering,
)
from cadenza_mock.engine.portfolio import Portfolio, default_holdings, seeded
from cadenza_mock.engine.quote_quantity import BASE, order_quantity
from cadenza_mock.engine.quotes import Quotes
from cadenza_mock.engine.trading_answers import TradingAnswers
from cadenza_mock.engine.triggers import check_stop, fire, trigger_at
from cadenza_mock.engine.venue_acts import NORMAL, Dues, VenueBehavior
from cadenza_mock.seeded import rng_for, uuid4_from

# The document's orderStatus, and the one table of what may follow what.
CREATED, SUBMITTED, ACCEPTED = "CREATED", "SUBMITTED", "ACCEPTED"
PARTIALLY_FILLED, FILLED, CANCELLED = "PARTIALLY_FILLED", "FILLED", "CANCELLED"
PENDING_CANCEL, REPLACED, PENDING_REPLACE = "PENDING_CANCEL", "REPLACED", "PENDING_REPLACE"
REJECTED, EXPIRED, REVOKED, UNKNOWN = "REJECTED", "EXPIRED", "REVOKED", "UNKNOWN"
_LIVE = (PARTIALLY_FILLED, FILLED, PENDING_CANCEL, CANCELLED, EXPIRED, PENDING_REPLACE, REVOKED)
TRANSITIONS: dict[str, frozenset[str]] = {
    CREATED: frozenset({SUBMITTED, REJECTED}),
    SUBMITTED: frozenset({ACCEPTED, REJECTED, UNKNOWN}),
    ACCEPTED: frozenset(_LIVE),
    PARTIALLY_FILLED: frozenset(_LIVE),
    PENDING_CANCEL: frozenset({PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED}),
    PENDING_REPLACE: frozenset({REPLACED, ACCEPTED, PARTIALLY_FILLED, FILLED}),
    UNKNOWN: frozenset({ACCEPTED, PARTIALLY_FILLED, FILLED, CANCELLED, REJECTED, EXPIRED}),
    FILLED: frozenset(),
    CANCELLED: frozenset(),
    REPLACED: frozenset(),
    REJECTED: frozenset(),
    EXPIRED: frozenset(),
    REVOKED: frozenset(),
}
assert set(TRANSITIONS) == set(ORDER_STATUSES), "one row per status of the document"
FINAL = frozenset(s for s, after in TRANSITIONS.items() if not after)
OPEN = frozenset({ACCEPTED, PARTIALLY_FILLED, PENDING_CANCEL, PENDING_REPLACE})
ACTIVE_ACCOUNT = "ACTIVE"


@dataclass(frozen=True, slots=True)
class Execution:
    execution_id: str
    price: Decimal
    quantity: Decimal
    cost: Decimal
    fee: Decimal
    at: int


@dataclass(slots=True)
class Order:
    order_id: str
    trading_account_id: str
    user_id: str
    spec: InstrumentSpec
    side: str
    order_type: str
    time_in_force: str
    quantity: Decimal
    limit_price: Decimal | None
    created_at: int
    expire_at: int | None = None
    client_order_id: str | None = None
    idempotency_key: str | None = None
    status: str = CREATED
    updated_at: int = 0
    checked_ms: int = 0  # the market was looked at up to this instant
    executed: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    locked: Decimal = Decimal(0)  # what it holds of the quote (BUY) or base (SELL)
    executions: list[Execution] = field(default_factory=list)
    canceled_at: int | None = None
    cancel_reason: str | None = None
    quote_id: str | None = None  # a QUOTED order's RFQ quote
    quantity_type: str = "BASE"  # QUOTE: given as an amount of the quote asset
    stop_price: Decimal | None = None  # a stop or take-profit (engine/triggers.py)
    triggered_at: int | None = None  # when its stop was reached
    order_list_id: str | None = None  # an order list's (engine/order_lists.py)
    contingency: str | None = None
    exits: tuple[Exit, ...] = ()  # an entry's exits, until placed
    exit_of: str | None = None  # an exit's entry order id

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.executed

    @property
    def limit_ticks(self) -> int | None:
        if self.limit_price is None or (self.stop_price and self.triggered_at is None):
            return None
        return int(self.limit_price / self.spec.pip_size)

    @property
    def average_price(self) -> Decimal | None:
        if not self.executed:
            return None
        return (self.cost / self.executed).quantize(self.spec.pip_size / 10_000)


class Trading:
    """The orders and portfolios of one loaded scenario (none until asked for)."""

    def __init__(
        self,
        *,
        seed: int,
        clock: Clock,
        market: Market,
        accounts: Accounts,
        enums: ProfileEnums,
        holdings: Mapping[str, Mapping[str, Decimal]] | None = None,
        emails: Callable[[str], str | None] | None = None,
        on_change: Callable[[Order | None, Portfolio], None] | None = None,
        behaviors: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._seed = seed
        self._clock = clock
        self.market = market
        self._accounts = accounts
        self._enums = enums
        # Starting balances per trading account id (lower case), from the scenario.
        self._holdings = {k.lower(): dict(v) for k, v in (holdings or {}).items()}
        self._on_change = on_change
        # A scenario's `venue_behavior:` per trading account id (lower case): engine/venue_acts.py;
        # `behaviors`, those in effect, may be changed at run time (engine/venue_control.py).
        self.scenario_behaviors = {
            k.lower(): VenueBehavior.of(v) for k, v in (behaviors or {}).items()
        }
        self._emails = emails
        # Encoded list answers, kept per `version` (engine/trading_answers.py).
        self.answers = TradingAnswers(self)
        self.version = 0
        self.reset()

    def reset(self) -> None:
        self.version += 1  # what kept answers are keyed on (engine/trading_answers.py)
        self.orders: dict[str, Order] = {}  # lower-case id -> order, creation order
        self._open: dict[str, Order] = {}
        self._keys: dict[tuple[str, str, str], Order] = {}  # (account, kind, key)
        self.lists: dict[str, list[Order]] = {}  # orderListId -> its orders
        self.portfolios: dict[str, Portfolio] = {}  # lower-case account id
        self.quotes = Quotes(self._seed)  # RFQ quotes (engine/quoted.py)
        self.due = Dues()  # late fills and slow cancels owed (engine/venue_timing.py)
        self.behaviors = dict(self.scenario_behaviors)
        self.made = {"order": 0, "execution": 0, "position": 0}  # ids drawn so far, per kind
        self.restart_ids()
        self._mark: tuple[int, int, int] | None = None
        self.changed = False

    # ----------------------------------------------------------------- ids and time

    def _new_id(self, kind: str) -> str:
        self.made[kind] += 1
        return uuid4_from(self._streams[kind])

    def restart_ids(self) -> None:
        """Each kind's ids are one seeded stream: put each after the `made` ids drawn so
        far (a reset: at its start; a state file's restore: where it was)."""
        self._streams = {k: rng_for(self._seed, "trading", k) for k in self.made}
        for kind, count in self.made.items():
            stream = self._streams[kind]
            for _ in range(count):
                stream.getrandbits(128)

    def _changed(self, order: Order | None, pf: Portfolio) -> None:
        self.changed = True
        self.version += 1  # the one invalidation hook of kept answers
        if self._on_change is not None:
            self._on_change(order, pf)
        if order is not None and order.order_list_id is not None:
            after_change(self, order, pf)  # exits placed, or a sibling cancelled

    def portfolio_epoch(self) -> tuple[int, int, int, int]:
        """What a portfolio list answers besides the orders: the accounts, the prices."""
        return (
            self.version,
            self._accounts.version,
            self.market.generation,
            self._clock.now_ms() // 1000,
        )

    def users(self, user_id: str) -> str | None:
        """A user's email (what the admin API's `?user=` may name), if known."""
        return self._emails(user_id) if self._emails is not None else None

    def account(self, trading_account_id: str) -> TradingAccount | None:
        return self._accounts.find(trading_account_id)

    # ----------------------------------------------------------------- portfolios

    def portfolio(self, account: TradingAccount) -> Portfolio:
        """The account's portfolio, seeded the first time it is asked for."""
        key = account.trading_account_id.lower()
        found = self.portfolios.get(key)
        if found is None:
            holdings = self._holdings.get(key)
            if holdings is None:
                holdings = default_holdings(account.venue, self.market.instruments.values())
            found = seeded(
                account.trading_account_id,
                account.venue,
                holdings,
                self.market.instruments,
                account.created_at,
                lambda: self._new_id("position"),
            )
            self.portfolios[key] = found
        return found

    def _active(self, user: User, trading_account_id: str) -> TradingAccount:
        account = self._accounts.owned(user, trading_account_id)
        if account.status != ACTIVE_ACCOUNT:
            shown = self._enums.account_status_out(account.status)
            raise INVALID_STATE.error(
                f"trading account {account.trading_account_id} is {shown}: orders need an "
                "ACTIVE one"
            )
        return account

    # ----------------------------------------------------------------- submit

    def submit(self, user: User, req: OrderRequest) -> Order:
        """Check everything, then place the order: fill what crosses now, rest the rest."""
        self.catch_up()
        account = self._active(user, req.trading_account_id)
        acct = account.trading_account_id.lower()
        for kind, key in (("idem", req.idempotency_key), ("client", req.client_order_id)):
            if key is not None and (acct, kind, key) in self._keys:
                return self._keys[(acct, kind, key)]  # the same key: the same order
        if len(self.orders) >= MAX_ORDERS:
            raise INVALID_ORDER.error(f"the mock holds at most {MAX_ORDERS:,} orders until a reset")
        if req.order_type == "QUOTED":
            if req.take_profit_price is not None or req.stop_loss_price is not None:
                raise INVALID_ORDER.error(
                    "a QUOTED order takes no takeProfitPrice or stopLossPrice"
                )
            from cadenza_mock.engine.quoted import submit_quoted  # (it imports this module)

            return submit_quoted(self, user, account, req)
        spec = self._instrument(account, req.instrument_id)
        order_type, side, tif = check_kind(spec, req)
        limit = check_limit(spec, req, order_type)
        stop = check_stop(self.market, spec, req, order_type, side)  # engine/triggers.py
        exits = check_exits(self.market, spec, req, side, limit or stop)  # order_lists.py
        now = self._clock.now_ms()
        book = self.market.book(spec, spec.depth, now)
        taker = self.fees(account.trading_account_id, spec.venue)[1]
        qty = order_quantity(spec, req, side, limit or stop, book, taker)
        if req.expire_at is not None and req.expire_at <= now:
            raise INVALID_ORDER.error(f"expireAt {req.expire_at} is not after now ({now})")
        lots = int(qty / spec.lot_size)
        limit_ticks = None if limit is None else int(limit / spec.pip_size)
        acts = self.behaviors.get(acct, NORMAL)
        takes = [] if stop else walk_book(book, side, acts.takes(lots), limit_ticks)
        if order_type == "LIMIT_MAKER" and takes:
            raise ORDER_REJECTED.error("a LIMIT_MAKER order that would take liquidity now")
        best = (book.asks if side == BUY else book.bids)[:1]
        reference = limit or stop or (spec.pip_size * best[0][0] if best else None)
        if reference is not None and qty * reference < spec.min_notional:
            raise INVALID_ORDER.error(
                f"notional {qty * reference} is under the instrument's minNotional "
                f"{spec.min_notional}"
            )
        pf = self.portfolio(account)
        needed, asset = need(spec, side, qty, limit or stop, takes, taker)
        if pf.free(asset) < needed:
            raise INSUFFICIENT_FUNDS.error(
                f"the order needs {needed.normalize():f} {asset}, the account has "
                f"{pf.free(asset).normalize():f} free"
            )
        acts.refuse()  # the venue's own refusal (a scenario's venue_behavior), last
        # ---- every check passed: from here on the order exists.
        order = Order(
            self._new_id("order"),
            account.trading_account_id,
            user.user_id,
            spec,
            side,
            order_type,
            tif,
            qty,
            limit,
            now,
            expire_at=req.expire_at,
            client_order_id=req.client_order_id,
            idempotency_key=req.idempotency_key,
            updated_at=now,
            checked_ms=now,
            quantity_type=req.quantity_type or BASE,
            stop_price=stop,
        )
        if exits:
            order.exits, order.contingency = exits, contingency(exits)
            order.order_list_id = list_id(order.order_id)
        self._move(order, SUBMITTED, now)
        self._move(order, ACCEPTED, now)
        if acts.fill_delay_ms and stop is None:  # a late venue fills later (venue_timing.py)
            from cadenza_mock.engine.venue_timing import accept_late

            return accept_late(self, order, pf, needed, asset, acts.fill_delay_ms)
        if limit is not None or stop is not None:
            order.locked = needed
            pf.lock(asset, needed, now)
        fillable = sum(t.lots for t in takes)
        if not (tif == "FOK" and fillable < lots):
            for take in takes:
                price, got = spec.pip_size * take.price, spec.lot_size * take.lots
                self._fill(order, pf, price, got, taker, now)
        if order.status not in FINAL and (order_type == "MARKET" or tif in ("IOC", "FOK")):
            self._close(order, pf, EXPIRED, now)
        self.orders[order.order_id.lower()] = order
        if order.status in OPEN:
            self.register_open(order)
        self.register_keys(order)
        self._changed(order, pf)
        return order

    def fees(self, trading_account_id: str, venue: str) -> tuple[Decimal, Decimal]:
        """(maker, taker) of an account: its venue's, unless its venue_behavior says."""
        found = self.behaviors.get(trading_account_id.lower())
        return fees_of(venue) if found is None else found.fees(fees_of(venue))

    def register_open(self, order: Order) -> None:
        """A resting order: looked at by the next read (a restore puts them back too)."""
        self._open[order.order_id.lower()] = order
        self._mark = None

    def register_keys(self, order: Order) -> None:
        link(self, order)  # (every order passes here: a submit, a restore)
        acct = order.trading_account_id.lower()
        for kind, key in (("idem", order.idempotency_key), ("client", order.client_order_id)):
            if key is not None:
                self._keys.setdefault((acct, kind, key), order)

    def _instrument(self, account: TradingAccount, instrument_id: str | None) -> InstrumentSpec:
        if instrument_id is None:
            raise INVALID_ORDER.error("instrumentId is required (VENUE:BASE/QUOTE)")
        spec = self.market.instruments.get(instrument_id)
        if spec is None or spec.venue != account.venue:
            raise SYMBOL_NOT_FOUND.error(f"{instrument_id} is not listed on {account.venue}")
        status = instrument_status(self.market, spec)
        if status != "ACTIVE":
            raise ORDER_REJECTED.error(f"{instrument_id} is {status}")
        return spec

    # ----------------------------------------------------------------- changes

    def _move(self, order: Order, status: str, at: int) -> None:
        if status != order.status and status not in TRANSITIONS[order.status]:
            raise AssertionError(f"order {order.order_id}: {order.status} -> {status}")
        order.status = status
        order.updated_at = max(order.updated_at, at)

    def _fill(
        self, order: Order, pf: Portfolio, price: Decimal, qty: Decimal, rate: Decimal, at: int
    ) -> None:
        spec = order.spec
        cost = price * qty
        paid = fee(cost, rate)
        if order.side == BUY:
            pay = cost + paid
            if order.limit_price is not None:
                pf.spend_locked(spec.quote, pay, at)
                order.locked -= pay
                rest = order.remaining - qty
                taker = self.fees(order.trading_account_id, spec.venue)[1]
                target = ceil(rest * order.limit_price * (1 + taker))
                if order.locked > target:
                    pf.release(spec.quote, order.locked - target, at)
                    order.locked = target
            else:
                pf.spend(spec.quote, pay, at)
            pf.receive(spec.base, qty, at)
            pf.bought(spec, qty, price, at, lambda: self._new_id("position"))
        else:
            if order.limit_price is not None:
                pf.spend_locked(spec.base, qty, at)
                order.locked -= qty
            else:
                pf.spend(spec.base, qty, at)
            pf.receive(spec.quote, cost - paid, at)
            pf.sold(spec, qty, price, paid, at)
        order.executed += qty
        order.cost += cost
        order.fees += paid
        order.executions.append(Execution(self._new_id("execution"), price, qty, cost, paid, at))
        self._move(order, FILLED if order.remaining <= 0 else PARTIALLY_FILLED, at)
        if order.status == FILLED:
            self._close(order, pf, FILLED, at)

    def _close(
        self, order: Order, pf: Portfolio, status: str, at: int, why: str | None = None
    ) -> None:
        """A final status: what the order still holds goes back to free."""
        if order.locked:
            pf.release(order.spec.quote if order.side == BUY else order.spec.base, order.locked, at)
            order.locked = Decimal(0)
        self._move(order, status, at)
        if status == CANCELLED:
            order.canceled_at = at
            order.cancel_reason = why
        self._open.pop(order.order_id.lower(), None)

    # ----------------------------------------------------------------- time passes

    def catch_up(self) -> None:
        """Bring every resting order up to now: fills where the market crossed it since
        its last check, expiry on the mock clock, cancel when its account went away.
        Free when neither the clock nor a set price moved since the last call."""
        if self.due:  # late fills and slow cancels owed: first (engine/venue_timing.py)
            from cadenza_mock.engine.venue_timing import settle

            settle(self)
        if not self._open:
            return
        now = self._clock.now_ms()
        # Any change of prices bumps the generation: two prices set at one frozen instant
        # leave the walk's count of shifts as it was, and the second may cross an order.
        mark = (now, self._accounts.version, self.market.generation)
        if mark == self._mark:
            return
        self._mark = mark
        seen: dict[tuple[str, str, int, int, int], bool] = {}
        for order in list(self._open.values()):
            self._catch_up(order, now, seen)

    def _catch_up(
        self, order: Order, now: int, seen: dict[tuple[str, str, int, int, int], bool]
    ) -> None:
        if order.status not in OPEN:
            return  # closed by an earlier order of this pass (its list's sibling)
        account = self._accounts.find(order.trading_account_id)
        pf = self.portfolios[order.trading_account_id.lower()]
        if account is None or account.status == DISCONNECTED:
            self._close(order, pf, CANCELLED, now, "trading account disconnected")
            self._changed(order, pf)
            return
        end = now if order.expire_at is None else min(now, order.expire_at)
        if order.stop_price is not None and order.triggered_at is None:
            at = trigger_at(self.market, order, order.checked_ms - 1, end)  # as crossed()
            # An exit of a list: its sibling cancelled first (engine/order_lists.py).
            if at is not None and triggering(self, order, pf, at):
                fire(self, order, pf, at)  # a MARKET walk, or a LIMIT from then on
                self._changed(order, pf)
        limit = order.limit_ticks
        if order.status in OPEN and limit is not None and end >= order.checked_ms:
            key = (order.spec.instrument_id, order.side, limit, order.checked_ms, end)
            hit = seen.get(key)
            if hit is None:
                hit = seen[key] = crossed(
                    self.market, order.spec, order.side, limit, order.checked_ms - 1, end
                )
            if hit:
                maker = self.fees(order.trading_account_id, order.spec.venue)[0]
                assert order.limit_price is not None
                self._fill(order, pf, order.limit_price, order.remaining, maker, end)
                self._changed(order, pf)
        order.checked_ms = end
        if order.status in OPEN and order.expire_at is not None and now >= order.expire_at:
            self._close(order, pf, EXPIRED, order.expire_at)
            self._changed(order, pf)

    # ----------------------------------------------------------------- cancel

    def cancel(
        self,
        user: User,
        trading_account_id: str,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        """A resting order becomes CANCELLED; a closed one is an error. The fills due up
        to now are applied first, in the same step: a cancel racing a fill has one winner."""
        self.catch_up()
        account = self._accounts.owned(user, trading_account_id)
        order = self.find(user, order_id, client_order_id, account.trading_account_id)
        if order.status not in OPEN:
            raise ORDER_NOT_CANCELABLE.error(
                f"trade order {order.order_id} is {order.status}: only an open order cancels"
            )
        now = self._clock.now_ms()
        pf = self.portfolios[account.trading_account_id.lower()]
        delay = self.behaviors.get(account.trading_account_id.lower(), NORMAL).cancel_delay_ms
        if delay:  # a slow venue: PENDING_CANCEL until it answers (engine/venue_timing.py)
            from cadenza_mock.engine.venue_timing import cancel_later

            return cancel_later(self, order, pf, now, delay)
        self._move(order, PENDING_CANCEL, now)
        self._close(order, pf, CANCELLED, now, "cancelled by the client")
        self._changed(order, pf)
        return order

    # ----------------------------------------------------------------- reads

    def find(
        self,
        user: User,
        order_id: str | None,
        client_order_id: str | None = None,
        trading_account_id: str | None = None,
    ) -> Order:
        """The caller's order by id (or by clientOrderId on an account): 18018 if there
        is none, 403 if it is someone else's."""
        order = None
        if order_id is not None:
            order = self.orders.get(order_id.lower())
        elif client_order_id is not None and trading_account_id is not None:
            order = self._keys.get((trading_account_id.lower(), "client", client_order_id))
        if order is None or (
            trading_account_id is not None
            and order.trading_account_id.lower() != trading_account_id.lower()
        ):
            raise ORDER_NOT_FOUND.error(order_id or client_order_id or "tradeOrderId is required")
        if order.user_id != user.user_id:
            raise PERMISSION_DENIED.error()
        return order

    def orders_of(self, user: User) -> list[Order]:
        """The caller's orders, newest first (brought up to now)."""
        self.catch_up()
        return [o for o in reversed(self.orders.values()) if o.user_id == user.user_id]

    def portfolios_of(self, user: User) -> list[Portfolio]:
        """The portfolio of each of the caller's connected accounts, in account order."""
        self.catch_up()
        return [
            self.portfolio(a)
            for a in self._accounts.of(user.user_id)
            if a.status != DISCONNECTED and a.status != "NEW"
        ]

    def prices(self, pf: Portfolio) -> dict[str, Decimal]:
        """The last price of each instrument the portfolio holds a position in."""
        found: dict[str, Decimal] = {}
        for instrument_id, pos in pf.positions.items():
            spec = self.market.instruments.get(instrument_id, pos.spec)
            found[instrument_id] = spec.pip_size * self.market.ticker(spec).last
        return found

"""Random interleavings of submits, cancels, clock moves, price moves and account changes
against the order engine (no HTTP), checked after every step: balances never negative,
each asset's locked balance the sum of what the open orders hold, executed quantity never
above the quantity (and the sum of the executions), a final status final for good (one
winner when a cancel races a fill), a refusal changes nothing. Venues that fill late and
cancel slowly (venue_behavior's delays) join in at random. Derandomized for CI."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.engine.order_checks import OrderRequest
from cadenza_mock.engine.orders import FINAL, OPEN, Order
from cadenza_mock.engine.quoted import rfq
from cadenza_mock.engine.quotes import QuoteRequest
from cadenza_mock.engine.store import Store
from cadenza_mock.engine.venue_acts import VenueBehavior
from cadenza_mock.scenario import load_scenario

SETTINGS = settings(
    max_examples=80,
    stateful_step_count=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SPOT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance accounts (accounts.yaml)
UNKNOWN = "00000000-0000-4000-8000-000000000000"
# The stop and take-profit kinds (engine/triggers.py): each waits at the offset price, the
# _LIMIT ones with their limit there too.
STOPS = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
CENT = Decimal("0.01")
INSTRUMENTS = ("BINANCE:BTC/USDT", "BINANCE:ETH/USDT", "BINANCE:SOL/USDT", "OKX:BTC/USDT")


class Orders(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = Store(load_scenario("accounts"))
        self.alice = next(u for u in self.store.users.values() if u.email == "alice@example.com")
        self.accounts = [
            a.trading_account_id
            for a in self.store.accounts.of(self.alice.user_id)
            if a.venue == "BINANCE" and a.status == "ACTIVE"
        ]
        assert SPOT in self.accounts and len(self.accounts) == 2
        for account in self.store.accounts.of(self.alice.user_id):
            self.trading.portfolio(account)  # seeded as they are when first read
        self.finals: dict[str, tuple[str, Decimal]] = {}
        self.refusals = 0

    @property
    def trading(self) -> Any:
        return self.store.trading

    def _state(self) -> tuple[object, ...]:
        orders = tuple(
            (o.order_id, o.status, o.executed, o.locked, len(o.executions))
            for o in self.trading.orders.values()
        )
        balances = tuple(
            (k, b.asset, b.free, b.locked)
            for k, pf in sorted(self.trading.portfolios.items())
            for b in pf.balances.values()
        )
        return orders, balances

    def _refused(self, call: Any) -> None:
        """Run `call`; if it raises the API's error, nothing may have changed."""
        self.trading.catch_up()  # the fills due now are not the call's doing
        before = self._state()
        try:
            call()
        except ApiError:
            self.refusals += 1
            assert self._state() == before

    # ------------------------------------------------------------------ rules

    @rule(
        account=st.sampled_from([0, 1]),
        instrument=st.sampled_from(INSTRUMENTS),
        side=st.sampled_from(["BUY", "SELL"]),
        kind=st.sampled_from(["LIMIT", "LIMIT", "MARKET", "LIMIT_MAKER", *STOPS, "TRAILING_STOP"]),
        tif=st.sampled_from([None, None, "GTC", "IOC", "FOK", "GTD", "GTD"]),
        lots=st.sampled_from([7, 100, 500, 5_000, 20_000, 10**7]),
        offset=st.integers(min_value=-6, max_value=6),  # limit price, % off the last
        expiry=st.sampled_from([1, 120, 7200]),  # seconds, for a GTD
        key=st.sampled_from([None, "k1", "k2"]),
        quote=st.sampled_from([False, False, True]),  # quantityType QUOTE: the lots' worth
    )
    def submit(
        self,
        account: int,
        instrument: str,
        side: str,
        kind: str,
        tif: str | None,
        lots: int,
        offset: int,
        expiry: int,
        key: str | None,
        quote: bool = False,
    ) -> None:
        market = self.store.market
        spec = market.instruments[instrument]
        last = spec.pip_size * market.ticker(spec).last
        price = (last * (100 + offset) / 100).quantize(spec.pip_size)
        now = self.store.clock.now_ms()
        req = OrderRequest(
            trading_account_id=self.accounts[account],
            instrument_id=instrument,
            side=side,
            order_type=kind,
            quantity=str(
                (spec.lot_size * lots * price).quantize(CENT) if quote else spec.lot_size * lots
            ),
            quantity_type="QUOTE" if quote else None,
            limit_price=str(price) if kind not in ("MARKET", "STOP_LOSS", "TAKE_PROFIT") else None,
            stop_price=str(price) if kind in STOPS else None,
            time_in_force=tif,
            expire_at=now + expiry * 1000 if tif == "GTD" else None,
            idempotency_key=key,
        )
        self._refused(lambda: self.trading.submit(self.alice, req))

    @rule(
        account=st.sampled_from([0, 1]),
        instrument=st.sampled_from(INSTRUMENTS),
        side=st.sampled_from(["BUY", "SELL"]),
        lots=st.sampled_from([7, 500, 20_000, 10**7]),
        wait=st.sampled_from([0, 0, 5, 10]),  # seconds before the QUOTED order (ttl 10)
        taker=st.sampled_from([0, 1]),  # the account the QUOTED order names
    )
    def quote_and_take(
        self, account: int, instrument: str, side: str, lots: int, wait: int, taker: int
    ) -> None:
        """An RFQ quote, then (after `wait` on the mock clock) a QUOTED order on it: it
        fills at the quote's price, or is refused with nothing changed."""
        spec = self.store.market.instruments[instrument]
        qty = str(spec.lot_size * lots)
        ask = QuoteRequest(self.accounts[account], side, instrument_id=instrument, quantity=qty)
        quotes: list[Any] = []
        self._refused(lambda: quotes.append(rfq(self.trading, self.alice, ask)))
        if not quotes:
            return
        self.store.clock.advance(wait)
        req = OrderRequest(
            trading_account_id=self.accounts[taker],
            instrument_id=instrument,
            side=side,
            order_type="QUOTED",
            quantity=qty,
            quote_id=quotes[0].quote_id,
        )
        self._refused(lambda: self.trading.submit(self.alice, req))

    @rule(
        account=st.sampled_from([0, 1]),
        instrument=st.sampled_from(INSTRUMENTS[:2]),
        side=st.sampled_from(["BUY", "SELL"]),
        kind=st.sampled_from(["MARKET", "LIMIT"]),
        lots=st.sampled_from([100, 500, 5_000]),
        offset=st.integers(min_value=-3, max_value=1),  # the entry's limit, % off the last
        take=st.sampled_from([None, 2, 5, -2]),  # % beyond the entry's price (-: wrong side)
        stop=st.sampled_from([None, 2, 5]),
        limits=st.booleans(),  # the exits' limit prices, at their triggers
    )
    def submit_list(
        self,
        account: int,
        instrument: str,
        side: str,
        kind: str,
        lots: int,
        offset: int,
        take: int | None,
        stop: int | None,
        limits: bool,
    ) -> None:
        """An entry with a take-profit and/or a stop-loss (engine/order_lists.py)."""
        spec = self.store.market.instruments[instrument]
        last = spec.pip_size * self.store.market.ticker(spec).last
        entry = (last * (100 + offset * (1 if side == "BUY" else -1)) / 100).quantize(spec.pip_size)
        up = 1 if side == "BUY" else -1

        def at(percent: int | None, sign: int) -> str | None:
            if percent is None:
                return None
            return str((entry * (100 + sign * up * percent) / 100).quantize(spec.pip_size))

        tp, sl = at(take, 1), at(stop, -1)
        req = OrderRequest(
            trading_account_id=self.accounts[account],
            instrument_id=instrument,
            side=side,
            order_type=kind,
            quantity=str(spec.lot_size * lots),
            limit_price=str(entry) if kind == "LIMIT" else None,
            take_profit_price=tp,
            take_profit_limit_price=tp if limits else None,
            stop_loss_price=sl,
            stop_loss_limit_price=sl if limits else None,
        )
        self._refused(lambda: self.trading.submit(self.alice, req))

    @rule(pick=st.integers(min_value=0, max_value=50), account=st.sampled_from([0, 1]))
    def cancel(self, pick: int, account: int) -> None:
        orders = list(self.trading.orders)
        order_id = orders[-1 - pick % len(orders)] if orders and pick < 45 else UNKNOWN
        target = self.accounts[account]
        self._refused(lambda: self.trading.cancel(self.alice, target, order_id))

    @rule(seconds=st.sampled_from([0.5, 1, 30, 600, 3600, 86400]))
    def advance(self, seconds: float) -> None:
        self.store.clock.advance(seconds)

    @rule(instrument=st.sampled_from(INSTRUMENTS[:3]), percent=st.integers(-15, 15))
    def move_price(self, instrument: str, percent: int) -> None:
        market = self.store.market
        spec = market.instruments[instrument]
        last = spec.pip_size * market.ticker(spec).last
        market.set_price(spec, last * (100 + percent) / 100)

    @rule(
        account=st.sampled_from([0, 1]),
        fill=st.sampled_from([0, 0, 1, 30]),  # seconds on the mock clock
        cancel=st.sampled_from([0, 0, 1, 30]),
    )
    def venue_timing(self, account: int, fill: int, cancel: int) -> None:
        """From now on the account's venue fills late and cancels slowly (or at once)."""
        acts = VenueBehavior(fill_delay_ms=fill * 1000, cancel_delay_ms=cancel * 1000)
        self.trading.behaviors[self.accounts[account].lower()] = acts

    @rule(account=st.sampled_from([0, 1]), action=st.sampled_from(["disable", "enable"]))
    def change_account(self, account: int, action: str) -> None:
        self._refused(lambda: self.store.change_account(self.alice, self.accounts[account], action))

    @precondition(lambda self: self.store.accounts.find(self.accounts[1]).status != "DISCONNECTED")
    @rule()
    def disconnect_the_second(self) -> None:
        self._refused(lambda: self.store.change_account(self.alice, self.accounts[1], "disconnect"))
        self.trading.catch_up()
        assert not [o for o in self.trading.orders.values() if o.status in OPEN
                    and o.trading_account_id == self.accounts[1]]  # fmt: skip

    # ------------------------------------------------------------------ invariants

    @invariant()
    def balances_never_go_negative(self) -> None:
        for pf in self.trading.portfolios.values():
            for b in pf.balances.values():
                assert b.free >= 0 and b.locked >= 0, (pf.trading_account_id, b)

    @invariant()
    def locked_is_what_the_open_orders_hold(self) -> None:
        held: dict[tuple[str, str], Decimal] = {}
        for o in self.trading.orders.values():
            asset = o.spec.quote if o.side == "BUY" else o.spec.base
            if o.status in FINAL:
                assert o.locked == 0, o
            else:
                assert o.status in OPEN, o
                key = (o.trading_account_id.lower(), asset)
                held[key] = held.get(key, Decimal(0)) + o.locked
        for account, pf in self.trading.portfolios.items():
            for b in pf.balances.values():
                assert b.locked == held.get((account, b.asset), Decimal(0)), (account, b)

    @invariant()
    def what_a_venue_owes_is_consistent(self) -> None:
        """An order waiting for a late fill is not on the book and has taken nothing; an
        open PENDING_CANCEL order waits for its venue's cancel."""
        owed = self.trading.due.orders
        for key, due in owed.items():
            if due.order.status in OPEN and due.fill_ms is not None:
                assert key not in self.trading._open and due.order.executed == 0, due
        for o in self.trading.orders.values():
            if o.status == "PENDING_CANCEL":
                due = owed.get(o.order_id.lower())
                assert due is not None and due.cancel_ms is not None, o

    @invariant()
    def executed_never_exceeds_the_quantity(self) -> None:
        for o in self.trading.orders.values():
            assert 0 <= o.executed <= o.quantity
            assert o.executed == sum((e.quantity for e in o.executions), Decimal(0))
            assert o.status != "FILLED" or o.executed == o.quantity

    @invariant()
    def a_final_status_is_final(self) -> None:
        for o in self.trading.orders.values():
            seen = self.finals.get(o.order_id)
            if seen is not None:
                assert (o.status, o.executed) == seen, o
            elif o.status in FINAL:
                self.finals[o.order_id] = (o.status, o.executed)

    @invariant()
    def at_most_one_exit_of_a_list_fills(self) -> None:
        """The exits of a list are one-cancels-the-other: one fills (or triggers) at most,
        and then the other is closed; an entry's exits come only after it filled."""
        for members in self.trading.lists.values():
            entry, *exits = members
            assert entry.exit_of is None and all(o.exit_of == entry.order_id for o in exits)
            assert not exits or entry.executed > 0
            assert len({o.order_list_id for o in members}) == 1
            started = [o for o in exits if o.executed > 0 or o.triggered_at is not None]
            assert len(started) <= 1, exits
            if started:
                assert all(o.status in FINAL for o in exits if o is not started[0]), exits

    def teardown(self) -> None:
        orders: list[Order] = list(self.trading.orders.values())
        assert len({o.order_id for o in orders}) == len(orders)


Orders.TestCase.settings = SETTINGS
TestOrders = Orders.TestCase


def test_the_machine_reaches_fills_cancels_and_refusals() -> None:
    """The rules are not vacuous: one fixed run sees each outcome."""
    machine = Orders()
    for step in range(40):
        kind = "MARKET" if step % 4 == 0 else "LIMIT"
        machine.submit(step % 2, INSTRUMENTS[step % 3], "BUY", kind, None, 5000, -3, 1, None)
        if step % 4 == 1:
            machine.cancel(0, step % 2)  # the order just placed, resting 3% under
        machine.advance(600)
        machine.move_price(INSTRUMENTS[step % 3], (step % 9) - 4)
        machine.locked_is_what_the_open_orders_hold()
        machine.balances_never_go_negative()
    # RFQ: a quote taken at once fills; one taken after its ttl is refused.
    machine.quote_and_take(0, INSTRUMENTS[0], "BUY", 500, 0, 0)
    machine.quote_and_take(0, INSTRUMENTS[0], "SELL", 500, 10, 0)
    machine.balances_never_go_negative()
    quoted = [o.status for o in machine.trading.orders.values() if o.order_type == "QUOTED"]
    assert quoted == ["FILLED"]
    statuses = {o.status for o in machine.trading.orders.values()}
    assert {"FILLED", "CANCELLED"} <= statuses


def test_the_machine_reaches_late_fills_and_slow_cancels() -> None:
    """With delays the same rules see orders wait for their venue, both ways of a race."""
    machine = Orders()
    machine.venue_timing(0, 1, 30)
    machine.venue_timing(1, 30, 1)
    for step in range(12):
        kind = "MARKET" if step % 3 == 0 else "LIMIT"
        machine.submit(step % 2, INSTRUMENTS[step % 3], "BUY", kind, None, 5000, -1, 1, None)
        machine.cancel(0, step % 2)  # the order just placed
        machine.what_a_venue_owes_is_consistent()
        machine.advance([0.5, 1, 30][step % 3])
        machine.move_price(INSTRUMENTS[step % 3], (step % 5) - 3)
        machine.locked_is_what_the_open_orders_hold()
        machine.balances_never_go_negative()
        machine.a_final_status_is_final()
    machine.advance(3600)
    machine.trading.catch_up()
    statuses = {o.status for o in machine.trading.orders.values()}
    assert {"FILLED", "CANCELLED"} <= statuses and not statuses & OPEN - {"ACCEPTED"}
    late = [o for o in machine.trading.orders.values() if o.order_type == "MARKET"]
    assert any(o.status == "FILLED" and o.executions[0].at > o.created_at for o in late)
    cancelled = [o for o in machine.trading.orders.values() if o.status == "CANCELLED"]
    # Each venue cancels its delay after the cancel (placed with the order): 1 s for the
    # second account (its fill would take 30 s), 30 s for the first (what its late fill
    # left resting).
    waited = {o.canceled_at - o.created_at for o in cancelled if o.canceled_at}
    assert 1000 in waited and waited <= {1000, 30000}


def test_the_machine_reaches_triggered_stops_and_quote_amounts() -> None:
    """Stops wait, then trigger when a price move reaches them; QUOTE amounts place orders."""
    machine = Orders()
    for step, kind in enumerate(STOPS * 3):
        side = "SELL" if step % 2 else "BUY"
        offset = 3 if (kind.startswith("STOP")) == (side == "BUY") else -3  # the right side
        machine.submit(step % 2, INSTRUMENTS[0], side, kind, None, 500, offset, 1, None)
        machine.submit(0, INSTRUMENTS[1], side, "LIMIT", None, 500, -1, 1, None, quote=True)
        machine.move_price(INSTRUMENTS[0], 8 if step % 2 else -8)
        machine.advance(30)
        machine.locked_is_what_the_open_orders_hold()
        machine.balances_never_go_negative()
        machine.executed_never_exceeds_the_quantity()
    orders = list(machine.trading.orders.values())
    stops = [o for o in orders if o.order_type in STOPS]
    assert len(stops) == 12 and all(o.stop_price is not None for o in stops)
    assert any(o.triggered_at is not None for o in stops)
    assert {o.status for o in stops} >= {"FILLED"}
    assert [o for o in orders if o.quantity_type == "QUOTE"]


def test_the_machine_reaches_order_lists_whose_exits_fill_and_cancel() -> None:
    """Entries fill, their exits are placed, a price move fills one and cancels the other."""
    machine = Orders()
    for step in range(8):
        side = "SELL" if step % 2 else "BUY"
        machine.submit_list(0, INSTRUMENTS[0], side, "MARKET", 500, 0, 5, 5, step % 4 > 1)
        machine.move_price(INSTRUMENTS[0], [-8, 8][step % 2] * (1 if step % 4 < 2 else -1))
        machine.advance(30)
        machine.locked_is_what_the_open_orders_hold()
        machine.balances_never_go_negative()
        machine.at_most_one_exit_of_a_list_fills()
    lists = list(machine.trading.lists.values())
    assert len(lists) == 8 and all(len(m) == 3 for m in lists)
    exits = [o for m in lists for o in m[1:]]
    assert {o.order_type for o in exits} == {
        "TAKE_PROFIT", "STOP_LOSS", "TAKE_PROFIT_LIMIT", "STOP_LOSS_LIMIT"
    }  # fmt: skip
    assert any(o.status == "FILLED" for o in exits)
    assert any(o.status == "CANCELLED" and "sibling" in (o.cancel_reason or "") for o in exits)

"""Late fills and slow cancels: what a scenario's `venue_behavior:` `fill_delay` and
`cancel_delay` (seconds on the mock clock, engine/venue_acts.py) make of an account's
orders.

A late venue takes an order at once (ACCEPTED, its need locked: a MARKET order's too, what
its walk of the book cost at the submit) and fills it `fill_delay` later, against the book
of that instant: the price a venue that reads the order late meets. Until then the order
is not on the book, so no price move crosses it. A slow venue answers a cancel
PENDING_CANCEL and cancels `cancel_delay` later; a fill due at or before then wins (one
winner). What is owed is kept per order (`Trading.due`, a `Dues`) and settled in time
order by `Trading.catch_up`, so nothing runs while the server is idle. Every status change
goes through the one transition table (engine/orders.py).
"""

from __future__ import annotations

from decimal import Decimal

from cadenza_mock.engine.accounts import DISCONNECTED
from cadenza_mock.engine.fills import BUY, Take, fee, walk_book
from cadenza_mock.engine.orders import (
    CANCELLED,
    EXPIRED,
    FINAL,
    OPEN,
    PENDING_CANCEL,
    Order,
    Trading,
)
from cadenza_mock.engine.portfolio import Portfolio
from cadenza_mock.engine.venue_acts import NEVER, NORMAL, Due

_FILL, _CANCEL = 0, 1  # at one instant the fill comes first: it wins the race


def accept_late(
    trading: Trading, order: Order, pf: Portfolio, needed: Decimal, asset: str, delay_ms: int
) -> Order:
    """A late venue's submit (every check passed, the order ACCEPTED): lock its need and
    owe its fill `delay_ms` after the submit."""
    now = order.created_at
    order.locked = needed
    pf.lock(asset, needed, now)
    trading.orders[order.order_id.lower()] = order
    trading.register_keys(order)
    trading.due.owe(order, fill_ms=now + delay_ms)
    trading._changed(order, pf)
    return order


def cancel_later(trading: Trading, order: Order, pf: Portfolio, now: int, delay_ms: int) -> Order:
    """A slow venue's cancel: PENDING_CANCEL now, CANCELLED `delay_ms` later unless a fill
    comes first. A second cancel meanwhile answers the order as it is."""
    due = trading.due.orders.get(order.order_id.lower())
    if order.status == PENDING_CANCEL and due is not None and due.cancel_ms is not None:
        return order
    trading._move(order, PENDING_CANCEL, now)
    trading.due.owe(order, cancel_ms=now + delay_ms)
    trading._changed(order, pf)
    return order


def settle(trading: Trading) -> None:
    """Apply what fell due by now, in time order; cancel an order still waiting for its
    fill whose account went away (a resting one is catch_up's). Free while nothing is due
    and no account changed."""
    dues = trading.due
    now = trading._clock.now_ms()
    version = trading._accounts.version
    if now < dues.next_ms and version == dues.accounts_version:
        return
    dues.accounts_version = version
    steps: list[tuple[int, int, str]] = []
    for key, due in list(dues.orders.items()):
        order = due.order
        if order.status not in OPEN:
            del dues.orders[key]
            continue
        if due.fill_ms is not None and _gone(trading, order):
            pf = trading.portfolios[order.trading_account_id.lower()]
            trading._close(order, pf, CANCELLED, now, "trading account disconnected")
            trading._changed(order, pf)
            del dues.orders[key]
            continue
        if due.fill_ms is not None:
            at = due.fill_ms
            if order.expire_at is not None and order.expire_at < at:
                at = order.expire_at
            if at <= now:
                steps.append((at, _FILL, key))
        if due.cancel_ms is not None and due.cancel_ms <= now:
            steps.append((due.cancel_ms, _CANCEL, key))
    for at, kind, key in sorted(steps):
        due_now = dues.orders.get(key)
        if due_now is None:
            continue
        if due_now.order.status not in OPEN:
            del dues.orders[key]
        elif kind == _FILL:
            _fill_late(trading, due_now, at)
        else:
            _cancel_late(trading, due_now, at)
    dues.next_ms = min((d.first_ms() for d in dues.orders.values()), default=NEVER)


def _gone(trading: Trading, order: Order) -> bool:
    account = trading.account(order.trading_account_id)
    return account is None or account.status == DISCONNECTED


def _done(trading: Trading, due: Due) -> None:
    trading.due.orders.pop(due.order.order_id.lower(), None)


def _fill_late(trading: Trading, due: Due, at: int) -> None:
    """The venue reads the order at `at`: it takes what the book of that instant gives
    (as a submit would have), and what is left rests from then on (or expires)."""
    order, spec = due.order, due.order.spec
    acct = order.trading_account_id.lower()
    pf = trading.portfolios[acct]
    fill_ms, due.fill_ms = due.fill_ms, None
    if due.cancel_ms is None:
        _done(trading, due)
    if order.expire_at is not None and fill_ms is not None and order.expire_at < fill_ms:
        trading._close(order, pf, EXPIRED, order.expire_at)  # it expired before the venue read it
        trading._changed(order, pf)
        _done(trading, due)
        return
    before = (order.status, order.executed)
    acts = trading.behaviors.get(acct, NORMAL)
    lots = int(order.remaining / spec.lot_size)
    book = trading.market.book(spec, spec.depth, at)
    takes = walk_book(book, order.side, acts.takes(lots), order.limit_ticks)
    taker = trading.fees(order.trading_account_id, spec.venue)[1]
    if order.order_type == "LIMIT_MAKER" and takes:
        takes = []  # it would take now: the venue does not make it a taker
        trading._close(order, pf, EXPIRED, at)
    if order.limit_price is None and order.locked:
        # A MARKET order held what its walk cost at the submit: it pays what it takes now,
        # as far as that and the free balance go.
        pf.release(spec.quote if order.side == BUY else spec.base, order.locked, at)
        order.locked = Decimal(0)
        if order.side == BUY:
            takes = _affordable(takes, order, taker, pf.free(spec.quote))
    fillable = sum(t.lots for t in takes)
    if order.status not in FINAL and not (order.time_in_force == "FOK" and fillable < lots):
        for take in takes:
            price, got = spec.pip_size * take.price, spec.lot_size * take.lots
            trading._fill(order, pf, price, got, taker, at)
    kind, tif = order.order_type, order.time_in_force
    if order.status not in FINAL and (kind == "MARKET" or tif in ("IOC", "FOK")):
        trading._close(order, pf, EXPIRED, at)
    if order.status in OPEN:
        if due.cancel_ms is not None:
            trading._move(order, PENDING_CANCEL, at)
        order.checked_ms = at
        trading.register_open(order)  # on the book from now: crossed as any resting order
    else:
        _done(trading, due)
    if (order.status, order.executed) != before:
        trading._changed(order, pf)
    else:  # the venue took nothing: no event, but the state file keeps that it is on the book
        trading.version += 1


def _cancel_late(trading: Trading, due: Due, at: int) -> None:
    """The venue's cancel comes at `at`: a resting order is first brought up to it (a fill
    the market brought by then wins), then what is still open is CANCELLED."""
    order = due.order
    _done(trading, due)
    pf = trading.portfolios[order.trading_account_id.lower()]
    if order.order_id.lower() in trading._open:
        trading._catch_up(order, at, {})
    if order.status in OPEN:
        trading._close(order, pf, CANCELLED, at, "cancelled by the client")
        trading._changed(order, pf)


def _affordable(takes: list[Take], order: Order, rate: Decimal, money: Decimal) -> list[Take]:
    """The levels a MARKET BUY can pay for with `money` (fees included), in lots."""
    spec = order.spec
    found: list[Take] = []
    for take in takes:
        unit = spec.pip_size * take.price * spec.lot_size
        lots = take.lots
        while lots > 0 and unit * lots + fee(unit * lots, rate) > money:
            lots = min(lots - 1, int(money / (unit * (1 + rate))))
        if lots <= 0:
            break
        found.append(Take(take.price, lots))
        money -= unit * lots + fee(unit * lots, rate)
        if lots < take.lots:
            break
    return found

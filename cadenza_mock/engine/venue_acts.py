"""How a trading account's venue treats its orders, from the scenario's `venue_behavior:`
(scenario/accounts.py reads it): refuse every order (-18025), time out (504 -18015), fill
only a share of what an order could take at once, charge other fees, fill late or cancel
slowly (delays on the mock clock: engine/venue_timing.py). The default (`NORMAL`) is the
venue that fills what the book gives, at once, at its fees (engine/fills.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from cadenza_mock.contract.errors import ORDER_REJECTED, VENUE_TIMEOUT

if TYPE_CHECKING:
    from cadenza_mock.engine.orders import Order


@dataclass(frozen=True, slots=True)
class VenueBehavior:
    reject: bool = False
    timeout: bool = False
    partial: Decimal = Decimal(1)
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    fill_delay_ms: int = 0  # what an order takes from the book fills this long after its submit
    cancel_delay_ms: int = 0  # a cancel is PENDING_CANCEL this long
    # The checked text pairs it was made of: what the admin API shows (engine/venue_control.py).
    given: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, given: Mapping[str, str]) -> VenueBehavior:
        """From the scenario's text pairs (already checked by the scenario reader)."""

        def rate(name: str) -> Decimal | None:
            return Decimal(given[name]) if name in given else None

        return cls(
            reject=given.get("reject") == "true",
            timeout=given.get("timeout") == "true",
            partial=Decimal(given.get("partial", "1")),
            maker_fee=rate("maker_fee"),
            taker_fee=rate("taker_fee"),
            fill_delay_ms=_ms(given.get("fill_delay", "0")),
            cancel_delay_ms=_ms(given.get("cancel_delay", "0")),
            given=tuple(given.items()),
        )

    def refuse(self) -> None:
        """The venue's answer to an order that passed every check of the platform's."""
        if self.timeout:
            raise VENUE_TIMEOUT.error("the venue did not answer (scenario venue_behavior)")
        if self.reject:
            raise ORDER_REJECTED.error("the venue rejected the order (scenario venue_behavior)")

    def takes(self, lots: int) -> int:
        """How many of an order's lots the venue fills at once (at least one)."""
        if self.partial >= 1:
            return lots
        return max(1, int((lots * self.partial).to_integral_value(ROUND_FLOOR)))

    def fees(self, venue_fees: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
        maker, taker = venue_fees
        return (
            maker if self.maker_fee is None else self.maker_fee,
            taker if self.taker_fee is None else self.taker_fee,
        )


def _ms(seconds: str) -> int:
    return int((Decimal(seconds) * 1000).to_integral_value())


NORMAL = VenueBehavior()


@dataclass(slots=True)
class Due:
    """What a late or slow venue still owes one order (engine/venue_timing.py settles it):
    its fill at `fill_ms` (until then the order is not on the book), its cancel at
    `cancel_ms` (the order PENDING_CANCEL until then)."""

    order: Order
    fill_ms: int | None = None
    cancel_ms: int | None = None

    def first_ms(self) -> int:
        """The first instant something happens to it: its fill, its cancel, or (waiting
        for its fill) its expiry."""
        found = [t for t in (self.fill_ms, self.cancel_ms) if t is not None]
        expire_at = self.order.expire_at
        if self.fill_ms is not None and expire_at is not None:
            found.append(expire_at)
        return min(found, default=NEVER)


NEVER = 2**63  # later than any instant of the mock clock


class Dues:
    """Every order's Due, by lower-case order id; `next_ms`: when the first falls due."""

    def __init__(self) -> None:
        self.orders: dict[str, Due] = {}
        self.next_ms = NEVER
        self.accounts_version = -1  # the accounts as last settled (a disconnect cancels)

    def __bool__(self) -> bool:
        return bool(self.orders)

    def owe(self, order: Order, *, fill_ms: int | None = None, cancel_ms: int | None = None) -> Due:
        due = self.orders.get(order.order_id.lower())
        if due is None:
            due = self.orders[order.order_id.lower()] = Due(order)
        if fill_ms is not None:
            due.fill_ms = fill_ms
        if cancel_ms is not None:
            due.cancel_ms = cancel_ms
        self.next_ms = min(self.next_ms, due.first_ms())
        return due

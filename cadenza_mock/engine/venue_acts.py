"""How a trading account's venue treats its orders, from the scenario's `venue_behavior:`
(scenario/accounts.py reads it): refuse every order (-18025), time out (504 -18015), fill
only a share of what an order could take at once, charge other fees. The default
(`NORMAL`) is the venue that fills what the book gives, at its fees (engine/fills.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from cadenza_mock.contract.errors import ORDER_REJECTED, VENUE_TIMEOUT


@dataclass(frozen=True, slots=True)
class VenueBehavior:
    reject: bool = False
    timeout: bool = False
    partial: Decimal = Decimal(1)
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None

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


NORMAL = VenueBehavior()

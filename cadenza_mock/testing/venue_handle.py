"""`mock.venue_behavior(...)`: a trading account's venue behaviour changed by a test, the
same in-process and remote (contract/venue_controls.py declares the controls; the
in-process mock calls engine/venue_control.py, the remote one `/__admin/venue-behavior`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any


class VenueBehaviorHandle(ABC):
    """The venue behaviour half of the fixture API (MockHandle inherits it)."""

    @abstractmethod
    def _venue_behavior(
        self, body: dict[str, Any] | None, trading_account_id: str | None = None
    ) -> Any:
        """POST `body` to /__admin/venue-behavior (None: GET it, of one account)."""

    def venue_behavior(
        self, trading_account_id: str, **keys: bool | str | int | float | Decimal
    ) -> dict[str, Any]:
        """Set the account's whole venue behaviour until a reset or load, with the keys of
        a scenario's `venue_behavior:` (`reject=True`, `timeout=True`, `partial="0.5"`,
        `maker_fee`, `taker_fee`, `fill_delay=2`, `cancel_delay=2`); no key: the normal
        venue. Answers `{tradingAccountId, venueBehavior, source}`. A bad value raises
        ValueError naming the key, an unknown account KeyError (RemoteError for a remote
        mock); nothing is changed then."""
        body: dict[str, Any] = {"tradingAccountId": trading_account_id}
        for name, value in keys.items():
            body[name] = str(value) if isinstance(value, Decimal) else value
        found: dict[str, Any] = self._venue_behavior(body)
        return found

    def clear_venue_behavior(self, trading_account_id: str) -> dict[str, Any]:
        """Back to the normal venue (fills at once, at its fees), until a reset or load
        puts back the scenario's."""
        found: dict[str, Any] = self._venue_behavior(
            {"tradingAccountId": trading_account_id, "clear": True}
        )
        return found

    def venue_behaviors(self, trading_account_id: str | None = None) -> list[dict[str, Any]]:
        """Every behaviour in effect (of one account: [] when its venue is normal), each
        `{tradingAccountId, venueBehavior, source}` (`scenario` or `admin`)."""
        return list(self._venue_behavior(None, trading_account_id))

"""The mock's clock: real time, or frozen by the scenario, and movable by tests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cadenza_mock.contract.bounds import LAST_MS, MAX_ADVANCE_SECONDS

__all__ = ["LAST_MS", "MAX_ADVANCE_SECONDS", "Clock"]


class Clock:
    """Milliseconds since the epoch, as the emulated service would see them.

    `advance()` moves time forward without sleeping, so a test can make a token expire.

    Two readings: `now_ms()`, the data clock (frozen by the scenario's `now`, so records
    are byte-identical per seed), and `token_ms()`, the wall clock moved by the same
    advances, which stamps what a client checks against its own wall clock (a JWT's
    `iat`/`exp`, a login's `expiresAt`): a session issued under a frozen 2026-01-15 still
    looks valid to a client that checks `exp`, and `advance(3600)` still expires it.
    """

    def __init__(self, frozen_ms: int | None = None) -> None:
        self.frozen_ms = frozen_ms
        self.offset_ms = 0  # the advances since the load (and the 1 ms change stamps)
        self._scenario_frozen_ms = frozen_ms  # what a reset goes back to
        self._shift_ms = 0  # set_now() on a running clock: where it stands against the wall
        # Told after an advance or a placement (the market channels publish what the move
        # made): a plain function, so a snapshot's copy of the clock shares it.
        self.on_move: Callable[[], None] | None = None
        # The orders engine's catch-up (the Store sets it): what a move fills or expires,
        # and its events, happen at the move itself.
        self.on_move_orders: Callable[[], None] | None = None

    def now_ms(self) -> int:
        if self.frozen_ms is not None:
            return self.frozen_ms + self.offset_ms
        # A running clock set near the end stops there: past it no datetime can show it.
        return min(int(time.time() * 1000) + self._shift_ms + self.offset_ms, LAST_MS)

    def token_ms(self) -> int:
        """The wall clock plus the advances: the time of issued tokens and their expiry."""
        return int(time.time() * 1000) + self.offset_ms

    def set_now(self, at_ms: int, *, frozen: bool | None = None) -> int:
        """Put the data clock at `at_ms`; `frozen` True stops it there, False lets it run
        from there, None keeps it as it is. The advances (and so the tokens) are kept."""
        if not 0 <= at_ms <= LAST_MS:
            raise ValueError(f"the clock shows 1970 to 9999, not {at_ms!r} ms")
        if frozen is None:
            frozen = self.frozen_ms is not None
        if frozen:
            self.frozen_ms = at_ms - self.offset_ms
            self._shift_ms = 0
        else:
            self.frozen_ms = None
            self._shift_ms = at_ms - int(time.time() * 1000) - self.offset_ms
        self._moved()
        return self.now_ms()

    def advance(self, seconds: float) -> int:
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, got {seconds!r} seconds")
        self.offset_ms += round(seconds * 1000)
        self._moved()
        return self.now_ms()

    def _moved(self) -> None:
        if self.on_move_orders is not None:
            self.on_move_orders()
        if self.on_move is not None:
            self.on_move()

    def stamp_after(self, earlier_ms: int) -> int:
        """When a change to a record last changed at `earlier_ms` happens: now, or 1 ms
        after it when the clock has not passed it (a frozen clock; two changes in one ms).
        The clock moves that 1 ms too, so `now_ms()` read after the change is its time
        (`revokedAt == mock.now_ms`). A record stamped ahead of the clock (a scenario's
        own future timestamp) gets its 1 ms without dragging the clock along."""
        now = self.now_ms()
        if now > earlier_ms:
            return now
        if now == earlier_ms:
            self.offset_ms += 1
        return earlier_ms + 1

    def room_ms(self) -> int:
        """How far the clock may still move forward before it would pass LAST_MS."""
        return LAST_MS - self.now_ms()

    def reset(self) -> None:
        self.offset_ms = 0
        self.frozen_ms = self._scenario_frozen_ms
        self._shift_ms = 0


def instant_ms(value: Any, what: str = "at") -> int:
    """ms since the epoch from ms, an ISO-8601 string (`2026-01-15T12:00:00Z`) or a
    datetime (UTC unless it says otherwise); ValueError naming `what` otherwise."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = round(value.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{what} must be milliseconds since the epoch, an ISO-8601 time like "
            f"2026-01-15T12:00:00Z or a datetime, got {value!r}"
        )
    if not 0 <= value <= LAST_MS:
        raise ValueError(f"{what} must be between 1970 and the year 9999, got {value!r}")
    return value

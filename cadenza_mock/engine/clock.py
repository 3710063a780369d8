"""The mock's clock: real time, or frozen by the scenario, and movable by tests."""

from __future__ import annotations

import time

# One admin advance moves the clock at most this far (100 years): a bound the OpenAPI
# document can state, where "before the year 10000" depends on the clock itself.
MAX_ADVANCE_SECONDS = 3_153_600_000
# 9999-12-31T23:59:59.999Z: the last instant a datetime (the ISO twins) can show. The clock
# never passes it, whether moved by the admin API or restored from a state file.
LAST_MS = 253_402_300_799_999


class Clock:
    """Milliseconds since the epoch, as the emulated service would see them.

    `advance()` moves time forward without sleeping, so a test can make a token expire.
    """

    def __init__(self, frozen_ms: int | None = None) -> None:
        self.frozen_ms = frozen_ms
        self.offset_ms = 0

    def now_ms(self) -> int:
        base = self.frozen_ms if self.frozen_ms is not None else int(time.time() * 1000)
        return base + self.offset_ms

    def advance(self, seconds: float) -> int:
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, got {seconds!r} seconds")
        self.offset_ms += round(seconds * 1000)
        return self.now_ms()

    def room_ms(self) -> int:
        """How far the clock may still move forward before it would pass LAST_MS."""
        return LAST_MS - self.now_ms()

    def reset(self) -> None:
        self.offset_ms = 0

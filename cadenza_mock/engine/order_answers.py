"""Encoded order-list answers, kept while the orders stay the same.

`GET /api/v3/tradeOrder/list` answers a pure function of (the orders as `catch_up` leaves
them, the caller, the raw query) in one store (a namespace has its own; a scenario load
builds a new store, with its profile). Every change of the orders goes through
`Trading._changed` or `Trading.reset`, which bump `Trading.version`: that is the one
invalidation hook, and an answer is kept only for the version it was computed at.

Lazy fills: a resting order is brought up to date by the next read, and the clock or a set
price may have made a fill (or an expiry) due since an answer was kept. So every read
catches up first (`Trading.catch_up`, free when neither the clock, the accounts nor a set
price moved, and when nothing rests): a fill due now bumps the version and drops the kept
answers, so a kept answer never hides it. The fast path (http/fast_path.py) looks only
where the ordinary handler has answered the same key before, so it never catches up
for a call the ordinary path would refuse.

Bounded (`LIMIT` answers, dropped whole when full). Errors are never kept: `compute`
raises, nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cadenza_mock.engine.orders import Trading

# Distinct (caller, query) answers kept per version: a client that sends endless distinct
# queries cannot grow memory without bound.
LIMIT = 256

Key = tuple[str, str]  # (user id, raw query string)


class OrderAnswers:
    """The order-list answers of one `Trading` at its current version."""

    def __init__(self, trading: Trading) -> None:
        self._trading = trading
        self._version = -1
        self._kept: dict[Key, bytes] = {}

    def _current(self) -> dict[Key, bytes]:
        version = self._trading.version
        if version != self._version:
            self._version = version
            self._kept = {}
        return self._kept

    def kept(self, key: Key) -> bytes | None:
        """The answer kept under `key`, once the resting orders are up to date; None when
        none is (never answered, or something changed): then nothing is done at all."""
        if key not in self._current():
            return None
        self._trading.catch_up()
        return self._current().get(key)

    def answer(self, key: Key, compute: Callable[[], bytes]) -> bytes:
        """The answer under `key` after catching up: kept, or computed and kept."""
        self._trading.catch_up()
        kept = self._current()
        body = kept.get(key)
        if body is None:
            body = compute()
            if self._current() is kept:  # (compute's own catch_up changed nothing)
                if len(kept) >= LIMIT:
                    kept.clear()
                kept[key] = body
        return body

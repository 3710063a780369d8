"""Encoded trading-list answers, kept while what decides them stays the same.

`GET /api/v3/tradeOrder/list` answers a pure function of (the orders as `catch_up` leaves
them, the caller, the raw query) in one store (a namespace has its own; a scenario load
builds a new store, with its profile). Every change of the orders and portfolios goes
through `Trading._changed` or `Trading.reset`, which bump `Trading.version`: that is the
one invalidation hook, and an answer is kept only for the version it was computed at.
`GET /api/v3/tradingAccount/portfolio/list` also shows which of the caller's accounts
are connected and the positions at the ticker's last price: its answers are kept for one
(version, accounts' version, market generation, clock second), the market's own epoch
(engine/market_answers.py: every change of a price bumps the generation, and the walk
moves by the second).

Lazy fills: a resting order is brought up to date by the next read, and the clock or a set
price may have made a fill (or an expiry) due since an answer was kept. So every read
catches up first (`Trading.catch_up`, free when neither the clock, the accounts nor a set
price moved, and when nothing rests): a fill due now bumps the version and drops the kept
answers, so a kept answer never hides it. The fast path (http/fast_path.py) looks only
where the ordinary handler has answered the same key before, so it never catches up
for a call the ordinary path would refuse.

Bounded (`LIMIT` answers and `MAX_BYTES` of them, dropped whole when full: a page of
1,000 orders is about 1 MiB). Errors are never kept: `compute`
raises, nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cadenza_mock.engine.orders import Trading

# Distinct (caller, query) answers kept per epoch: a client that sends endless distinct
# queries cannot grow memory without bound.
LIMIT = 256
MAX_BYTES = 32 * 1024 * 1024

Key = tuple[str, str]  # (user id, raw query string)


class KeptAnswers:
    """One read's answers at the current epoch of what decides them."""

    def __init__(self, trading: Trading, epoch: Callable[[], Hashable]) -> None:
        self._trading = trading
        self._epoch_of = epoch
        self._epoch: Hashable = None
        self._kept: dict[Key, bytes] = {}
        self._bytes = 0  # of the answers kept

    def _current(self) -> dict[Key, bytes]:
        epoch = self._epoch_of()
        if epoch != self._epoch:
            self._epoch = epoch
            self._kept = {}
            self._bytes = 0
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
            if self._current() is kept:  # nothing moved while it was computed
                if len(kept) >= LIMIT or self._bytes + len(body) > MAX_BYTES:
                    kept.clear()
                    self._bytes = 0
                kept[key] = body
                self._bytes += len(body)
        return body


class TradingAnswers:
    """The kept answers of one `Trading`: its order lists and its portfolio lists."""

    def __init__(self, trading: Trading) -> None:
        self.orders = KeptAnswers(trading, lambda: trading.version)
        self.portfolios = KeptAnswers(trading, trading.portfolio_epoch)

"""Encoded market answers, kept while the market and the clock's second stay the same.

A market read answers a pure function of (the market's generation, the clock's second,
the query): the walk, the books and the tickers move by the second (market_walk.py), and
every change of what a read answers bumps `Market.generation` (`Market.changed()`). Only
the `timestamp` fields carry the clock's millisecond, so an answer is kept as the parts
between its `"timestamp":<now>}` stamps and stamped again on the way out: a polling client,
REST or RPC, costs a dict lookup and a join, not a walk and an encoding.

Bounded (`LIMIT` answers, dropped whole when full) and dropped whole when the generation
or the second changes. A namespace's market is its own, with its own answers; a scenario
load builds a new market. Errors are never kept: `compute` raises, nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, AnyStr, cast

if TYPE_CHECKING:
    from cadenza_mock.engine.market import Market

# Distinct queries kept per second: far more than a test suite polls, and a client that
# sends endless distinct queries cannot grow memory without bound.
LIMIT = 1024


def _stamp(kind: type[AnyStr], now: int) -> AnyStr:
    text = f'"timestamp":{now}}}'
    return cast("AnyStr", text.encode() if kind is bytes else text)


class MarketAnswers:
    """The answers of one market in its current (generation, second)."""

    def __init__(self, market: Market) -> None:
        self._market = market
        self._epoch: tuple[int, int] = (-1, -1)
        self._kept: dict[Hashable, tuple[Any, ...]] = {}

    def _current(self, now: int) -> dict[Hashable, tuple[Any, ...]]:
        epoch = (self._market.generation, now // 1000)
        if epoch != self._epoch:
            self._epoch = epoch
            self._kept = {}
        return self._kept

    def kept(self, key: Hashable, kind: type[AnyStr]) -> AnyStr | None:
        """The answer kept under `key` for now, stamped with now; None if none is kept."""
        now = self._market.clock.now_ms()
        parts = self._current(now).get(key)
        if parts is None or not isinstance(parts[0], kind):
            return None
        return _stamp(kind, now).join(parts)

    def answer(self, key: Hashable, compute: Callable[[], AnyStr]) -> AnyStr:
        """The answer under `key`: stamped from kept parts, or computed (and kept when the
        clock did not move while it was computed: every stamp in it is then `now`)."""
        now = self._market.clock.now_ms()
        kept = self._current(now)
        parts = kept.get(key)
        if parts is not None:
            return cast("AnyStr", _stamp(type(parts[0]), now).join(parts))
        body = compute()
        if self._market.clock.now_ms() == now and self._current(now) is kept:
            if len(kept) >= LIMIT:
                kept.clear()
            kept[key] = tuple(body.split(_stamp(type(body), now)))
        return body

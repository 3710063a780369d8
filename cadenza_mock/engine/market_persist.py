"""The market's part of the state file (keys declared in engine/persist_format.py MARKET
and MARKET_INSTRUMENT): what the write operations and the controls changed, never the
walk itself, which the seed and the origin draw again.

`market_json` runs where requests are served (a few reads per changed instrument);
`read_market` checks a document's part whole and returns what `apply` puts back, so a
damaged file changes nothing (engine/persist.py restores all or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from cadenza_mock.contract.market_catalogue import INSTRUMENT_STATUSES, InstrumentSpec
from cadenza_mock.engine import persist_format as fmt
from cadenza_mock.engine.market import Levels, Market

if TYPE_CHECKING:  # the reader's type only: persist imports this module
    from cadenza_mock.engine.persist import _Reader

_SIDES = ("bids", "asks")


def _changed(market: Market, key: str, walk_changed: bool) -> bool:
    spec = market.instruments.get(key)
    return (
        walk_changed
        or spec is None
        or spec.status != market.declared[key].status
        or key in market.set_books
    )


def _rows(levels: Levels) -> list[list[int]]:
    return [list(level) for level in levels]


def market_json(market: Market) -> dict[str, Any]:
    """The market's changes as the file keeps them (JSON-ready)."""
    records = []
    for key, declared in market.declared.items():
        walk = market.walks.get(key)
        prices = [] if walk is None else [list(price) for price in walk.set_prices()]
        halts = [] if walk is None else [list(f) for f in walk.freezes]
        if not _changed(market, key, bool(prices or halts)):
            continue
        spec = market.instruments.get(key, declared)
        book = market.set_books.get(key)
        records.append(
            {
                "instrumentId": key,
                "status": spec.status,
                "deleted": key not in market.instruments,
                "prices": prices,
                "halts": halts,
                "book": None
                if book is None
                else {side: _rows(levels) for side, levels in zip(_SIDES, book, strict=True)},
            }
        )
    return {
        "originMs": market.origin_ms,
        "instruments": records,
        "deletedSecurities": sorted(market.deleted_securities),
        "venues": [[venue, data, since] for venue, (data, since) in market.feeds.items()],
    }


@dataclass(frozen=True, slots=True)
class MarketPart:
    """A checked `market` part: what `apply` puts back."""

    origin_ms: int
    instruments: list[tuple[InstrumentSpec, bool, list[tuple[int, int]], list[Any], Any]]
    deleted_securities: set[str]
    feeds: dict[str, tuple[str, int]]

    def apply(self, market: Market) -> None:
        """The market as loaded (walks from the file's origin), then the file's changes."""
        market.reset()
        market.origin_ms = self.origin_ms
        market.walks.clear()
        market.halts.clear()
        market.changed()
        for spec, deleted, prices, halts, book in self.instruments:
            key = spec.instrument_id
            if deleted:
                del market.instruments[key]
            else:
                market.instruments[key] = spec
            walk = market.walk(spec)
            walk.freezes = [(a, b, p) for a, b, p in halts]
            for at, ticks in prices:
                walk.set_price(at, ticks)
            if halts and halts[-1][1] is None:
                market.halts[key] = halts[-1][0]
            if book is not None:
                market.set_books[key] = book
        market.deleted_securities = set(self.deleted_securities)
        market.feeds = dict(self.feeds)


def read_market(read: _Reader, document: Any, market: Market) -> MarketPart | None:
    """The document's `market` part, checked whole (StateFileError naming the place); None
    for a file older than the part (the market as loaded)."""
    if read.version < 2 and isinstance(document, dict) and "market" not in document:
        return None
    part = read.get(document, "market", dict, "document")
    kinds = {key.name: key.kinds for key in fmt.MARKET}
    origin = read.get(part, "originMs", kinds["originMs"], "market")
    instruments = []
    for place, obj in read.items(part, "instruments", "market"):
        instruments.append(_instrument(read, obj, place, market))
    deleted = set()
    for place, value in read.items(part, "deletedSecurities", "market"):
        if not isinstance(value, str) or ":" not in value:
            raise read.fail(place, 'expected "VENUE:ASSET"')
        deleted.add(value)
    feeds = {}
    for place, value in read.items(part, "venues", "market"):
        venue, data, since = _tuple(read, value, place, (str, str, int))
        if venue not in market.venues() or data not in ("stale", "unavailable"):
            raise read.fail(place, "expected [a venue of the market, stale or unavailable, ms]")
        feeds[venue] = (data, since)
    return MarketPart(origin, instruments, deleted, feeds)


def _instrument(read: _Reader, obj: Any, place: str, market: Market) -> Any:
    kinds = {key.name: key.kinds for key in fmt.MARKET_INSTRUMENT}

    def get(name: str) -> Any:
        return read.get(obj, name, kinds[name], place)

    key = get("instrumentId")
    declared = market.declared.get(key)
    if declared is None:
        raise read.fail(f"{place}.instrumentId", f"{key!r} is not in the scenario's market")
    status = get("status")
    if status not in INSTRUMENT_STATUSES:
        raise read.fail(f"{place}.status", f"expected one of {', '.join(INSTRUMENT_STATUSES)}")
    prices = [_tuple(read, v, p, (int, int)) for p, v in read.items(obj, "prices", place)]
    halts = [
        _tuple(read, v, p, (int, (int, type(None)), int))
        for p, v in read.items(obj, "halts", place)
    ]
    if any(until is None for _, until, _ in halts[:-1]):
        raise read.fail(f"{place}.halts", "only the last halt may be open")
    if any(ticks < 1 for _, ticks in prices) or any(ticks < 1 for _, _, ticks in halts):
        raise read.fail(place, "a price of at least one tick expected")
    book_obj = get("book")
    book = None
    if book_obj is not None:
        sides: list[Levels] = [
            tuple(_tuple(read, v, p, (int, int, int)) for p, v in read.items(book_obj, side, place))
            for side in _SIDES
        ]
        bids, asks = sides
        if (
            not bids
            or not asks
            or bids[0][0] >= asks[0][0]
            or not (_ordered(bids, 1) and _ordered(asks, -1))
        ):
            raise read.fail(f"{place}.book", "expected levels best first, not crossed")
        book = (bids, asks)
    return replace(declared, status=status), get("deleted"), prices, halts, book


def _ordered(levels: Levels, direction: int) -> bool:
    return all(direction * (a[0] - b[0]) > 0 for a, b in pairwise(levels))


def _tuple(read: _Reader, value: Any, place: str, kinds: tuple[Any, ...]) -> Any:
    """A fixed-length array whose items are checked like the reader's keys."""
    if not isinstance(value, list) or len(value) != len(kinds):
        raise read.fail(place, f"expected an array of {len(kinds)}")
    holder = {str(i): v for i, v in enumerate(value)}
    return tuple(read.get(holder, str(i), kind, place) for i, kind in enumerate(kinds))

"""What changes the market: the API's write operations (instrument sync, enable, disable,
delete; security sync, delete) and the controls a test uses (contract/market_controls.py:
set a price or a book, halt, resume, gap, a venue's data stale or unavailable).

Every change is checked whole before anything changes: a refused one (a clear 400 or 404
from the error catalogue) leaves the market as it was. Each store (namespace) has its own
market, and a reset or a scenario load forgets every change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from cadenza_mock.contract.errors import (
    INSTRUMENT_NOT_FOUND,
    SECURITY_NOT_FOUND,
    VALIDATION_FAILED,
    VENUE_NOT_FOUND,
    VENUE_UNAVAILABLE,
    invalid_argument,
)
from cadenza_mock.contract.market_catalogue import MAX_DEPTH, InstrumentSpec
from cadenza_mock.contract.market_controls import CONTROL_NAMES, VENUE_DATA
from cadenza_mock.engine.market import Levels, Market, parse_price

GAP_HORIZON_MS = 366 * 86_400_000  # how far ahead a gap may be set

# ----------------------------------------------------------------- reads' guard


def readable(market: Market, spec: InstrumentSpec) -> InstrumentSpec:
    """`spec`, unless its venue's market data is unavailable (503 -18012, as the venue
    connector answers when the exchange is not available)."""
    feed = market.feeds.get(spec.venue)
    if feed is not None and feed[0] == "unavailable":
        raise VENUE_UNAVAILABLE.error(f"{spec.venue} market data is unavailable")
    return spec


def venue_status(market: Market, venue: str) -> str:
    """The document's venueStatus: OFFLINE while the venue's data is unavailable."""
    feed = market.feeds.get(venue)
    return "OFFLINE" if feed is not None and feed[0] == "unavailable" else "ONLINE"


# ----------------------------------------------------------------- write operations


def sync_instruments(market: Market, venue: str, symbols: Iterable[str] | None) -> int:
    """The venue's instruments as its listing (the scenario's market) declares them: a
    deleted one comes back, a disabled one is ACTIVE again (its declared status). No
    symbols (or none given): all of the venue's. Answers how many were synced; a symbol
    the venue does not list is not synced."""
    wanted = set(symbols) if symbols else None
    synced = {
        key: spec
        for key, spec in market.declared.items()
        if spec.venue == venue and (wanted is None or spec.symbol in wanted)
    }
    if synced:
        market.instruments = {
            key: synced.get(key) or market.instruments[key]
            for key in market.declared
            if key in synced or key in market.instruments
        }
        market.version += 1
    return len(synced)


def set_status(market: Market, instrument_id: str | None, status: str) -> InstrumentSpec:
    """Enable (ACTIVE) or disable (DISABLED) an instrument: still listed, reads go on."""
    spec = market.instrument(instrument_id)
    if spec.status != status:
        spec = replace(spec, status=status)
        market.instruments[spec.instrument_id] = spec
        market.version += 1
    return spec


def delete_instrument(market: Market, instrument_id: str | None) -> InstrumentSpec:
    """Take an instrument out of the market: every read of it is INSTRUMENT_NOT_FOUND
    until `sync_instruments` (or a reset) brings it back."""
    spec = market.instrument(instrument_id)
    del market.instruments[spec.instrument_id]
    market.version += 1
    return spec


def securities(market: Market) -> dict[tuple[str, str], Decimal]:
    """(venue, asset) -> the finest step its instruments use, less the deleted ones."""
    found: dict[tuple[str, str], Decimal] = {}
    for spec in market.instruments.values():
        for asset, step in ((spec.base, spec.lot_size), (spec.quote, spec.pip_size)):
            key = (spec.venue, asset)
            if f"{spec.venue}:{asset}" not in market.deleted_securities:
                found[key] = min(step, found.get(key, step))
    return found


def sync_securities(market: Market, venue: str) -> list[tuple[str, str, Decimal]]:
    """The venue's securities as its instruments trade them: deleted ones come back.
    Answers (venue, asset, step) of each."""
    back = {s for s in market.deleted_securities if s.partition(":")[0] == venue}
    if back:
        market.deleted_securities -= back
        market.version += 1
    return [(v, a, step) for (v, a), step in securities(market).items() if v == venue]


def delete_securities(market: Market, security_ids: list[str]) -> list[tuple[str, str, Decimal]]:
    """Take securities ("VENUE:ASSET") out of the security list (all or none); the
    instruments trading them stay. Answers (venue, asset, step) of each."""
    listed = securities(market)
    found = []
    for security_id in dict.fromkeys(security_ids):
        venue, _, asset = security_id.partition(":")
        step = listed.get((venue, asset))
        if step is None:
            raise SECURITY_NOT_FOUND.error(security_id)
        found.append((venue, asset, step))
    market.deleted_securities |= {f"{v}:{a}" for v, a, _ in found}
    market.version += 1
    return found


# ----------------------------------------------------------------- controls


def _decimal(body: Mapping[str, Any], name: str, signed: bool = False) -> Decimal:
    raw = body.get(name)
    try:
        value = Decimal(raw) if isinstance(raw, str) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or (not signed and value <= 0):
        wanted = 'a decimal string such as "-10"' if signed else "a decimal string > 0"
        raise VALIDATION_FAILED.error(f"{name}: expected {wanted}")
    return value


def _levels(spec: InstrumentSpec, body: Mapping[str, Any], side: str) -> Levels:
    """A side's [price, quantity] levels as (ticks, lots, orders), best first, on the grid."""
    given = body.get(side)
    if not isinstance(given, list) or not given:
        raise VALIDATION_FAILED.error(f'{side}: expected a list of ["price", "quantity"] levels')
    if len(given) > MAX_DEPTH:
        raise VALIDATION_FAILED.error(f"{side}: at most {MAX_DEPTH} levels")
    levels = []
    for i, level in enumerate(given):
        where = f"{side}[{i}]"
        if not isinstance(level, list | tuple) or len(level) != 2:
            raise VALIDATION_FAILED.error(f'{where}: expected ["price", "quantity"]')
        price = _decimal({"price": _text(level[0])}, "price")
        quantity = _decimal({"quantity": _text(level[1])}, "quantity")
        ticks, off_tick = divmod(price, spec.pip_size)
        lots, off_lot = divmod(quantity, spec.lot_size)
        if off_tick:
            raise VALIDATION_FAILED.error(
                f"{where}: price {price} is not a multiple of the tick {spec.pip_size}"
            )
        if off_lot:
            raise VALIDATION_FAILED.error(
                f"{where}: quantity {quantity} is not a multiple of the lot {spec.lot_size}"
            )
        levels.append((int(ticks), int(lots), 1 if spec.book_type == "L2_COUNTED" else 0))
    prices = [t for t, _, _ in levels]
    ordered = all((a > b) if side == "bids" else (a < b) for a, b in pairwise(prices))
    if not ordered:
        order = "high to low" if side == "bids" else "low to high"
        raise VALIDATION_FAILED.error(f"{side}: prices must be distinct, best first ({order})")
    return tuple(levels)


def _text(value: object) -> str | None:
    """A level's number as given: a decimal string (or a JSON number, as a test writes it)."""
    if isinstance(value, bool):
        return None
    return str(value) if isinstance(value, str | int | float) else None


def set_book(market: Market, spec: InstrumentSpec, body: Mapping[str, Any]) -> None:
    """Set the instrument's book outright: the price moves to its mid (rounded down to the
    tick) and the book stays as set until a price is set, a gap, another book or a reset."""
    market.refuse_halted(spec)
    bids, asks = _levels(spec, body, "bids"), _levels(spec, body, "asks")
    if bids[0][0] >= asks[0][0]:
        raise VALIDATION_FAILED.error(
            f"crossed book: best bid {spec.pip_size * bids[0][0]} is not below best ask "
            f"{spec.pip_size * asks[0][0]}"
        )
    market.set_price(spec, spec.pip_size * ((bids[0][0] + asks[0][0]) // 2))
    market.set_books[spec.instrument_id] = (bids, asks)


def gap(market: Market, spec: InstrumentSpec, body: Mapping[str, Any]) -> None:
    """The price jumps at an instant (now, or a later `at`) to `price` or by `percent`."""
    market.refuse_halted(spec)
    now = market.clock.now_ms()
    at = body.get("at", now)
    latest = now + GAP_HORIZON_MS  # a read walks to it: far instants would cost minutes
    if isinstance(at, bool) or not isinstance(at, int) or not now - now % 1000 <= at <= latest:
        raise VALIDATION_FAILED.error(
            f"at: expected an instant in ms from now ({now}) to a year later ({latest})"
        )
    if ("price" in body) == ("percent" in body):
        raise VALIDATION_FAILED.error('expected one of "price" or "percent"')
    walk = market.walk(spec)
    if "price" in body:
        target = _decimal(body, "price") / spec.pip_size
    else:
        percent = _decimal(body, "percent", signed=True)
        if percent <= -100:
            raise VALIDATION_FAILED.error("percent: expected more than -100")
        target = walk.price(at) * (100 + percent) / 100
    if len(walk.shifts) >= 1000:
        raise invalid_argument("price", "at most 1000 prices set per instrument until a reset")
    walk.set_price(at, max(1, int(target.to_integral_value())))
    market.changed(spec)


def venue_data(market: Market, body: Mapping[str, Any]) -> None:
    """A venue's market data: live, stale (from now: timestamps and prices stop) or
    unavailable (reads answer 503 -18012)."""
    venue, data = body.get("venue"), body.get("data")
    if venue not in market.venues():
        raise VENUE_NOT_FOUND.error(
            message=f"No venue {venue!r} in the market (venues: {', '.join(market.venues())})"
        )
    if data not in VENUE_DATA:
        raise invalid_argument("data", f"unknown value {data!r}", VENUE_DATA)
    if data == "live":
        market.feeds.pop(venue, None)
    elif market.feeds.get(venue, ("",))[0] != data:
        stale = market.feeds.get(venue)
        since = stale[1] if stale is not None else market.clock.now_ms()
        market.feeds[venue] = (data, since)
    market.version += 1


def _price(market: Market, spec: InstrumentSpec, body: Mapping[str, Any]) -> None:
    market.set_price(spec, parse_price(body.get("price")))


def _halt(market: Market, spec: InstrumentSpec, body: Mapping[str, Any]) -> None:
    market.halt(spec)


def _resume(market: Market, spec: InstrumentSpec, body: Mapping[str, Any]) -> None:
    market.resume(spec)


_ON_INSTRUMENT: dict[str, Callable[[Market, InstrumentSpec, Mapping[str, Any]], None]] = {
    "price": _price,
    "book": set_book,
    "halt": _halt,
    "resume": _resume,
    "gap": gap,
}


def apply(market: Market, name: str, body: object) -> None:
    """Apply control `name` (contract/market_controls.py) with its JSON body; checked whole
    first (VALIDATION_FAILED, INSTRUMENT_NOT_FOUND), nothing changed when refused."""
    if name not in CONTROL_NAMES:
        raise invalid_argument("control", f"unknown {name!r}", CONTROL_NAMES)
    if not isinstance(body, dict):
        raise VALIDATION_FAILED.error("body must be a JSON object")
    if name == "venue":
        venue_data(market, body)
        return
    instrument_id = body.get("instrumentId")
    if not isinstance(instrument_id, str):
        raise VALIDATION_FAILED.error('instrumentId: expected "VENUE:BASE/QUOTE"')
    spec = market.instruments.get(instrument_id)
    if spec is None:
        raise INSTRUMENT_NOT_FOUND.error(instrument_id)
    _ON_INSTRUMENT[name](market, spec, body)
    market.moved()

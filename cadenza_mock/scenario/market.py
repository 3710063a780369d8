"""`market:` of a scenario: the market's instruments per venue.

    market:
      BINANCE:
        - symbol: BTC/USDT          # explicit (keys: scenario/keys.py INSTRUMENT)
          price: "64000"
          volatility: "0.05"
        - generate: 4               # four more, drawn from the seed
      OKX: default                  # the default catalogue's majors

A venue of the profile per key; the keys given replace the default catalogue (a venue not
named has no instruments). Every problem is reported with its place, like the rest of a
scenario.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from cadenza_mock.contract.market_catalogue import (
    INSTRUMENT_STATUSES,
    MAJORS,
    MAX_DEPTH,
    InstrumentSpec,
    generated,
    sizes_for,
    spec_for,
)
from cadenza_mock.contract.model import ProfileEnums
from cadenza_mock.scenario import keys
from cadenza_mock.scenario.nodes import Problems, enum, items, join, mapping, scalar, value

INSTRUMENT_KEYS = keys.names(keys.INSTRUMENT)
GENERATE_KEYS = keys.generate_names(keys.INSTRUMENT)
_MAJOR_PRICES = {base: Decimal(price) for base, price in MAJORS}
_MAX_GENERATE = 1000  # per venue


def read_market(
    node: yaml.Node, enums: ProfileEnums, seed: int, problems: Problems
) -> tuple[InstrumentSpec, ...] | None:
    """The instruments `market:` declares; None (the default catalogue) when it is null."""
    if isinstance(node, yaml.ScalarNode) and value(node) is None:
        return None
    fields = mapping(node, "market", enums.venues, problems)
    if fields is None:
        return ()
    found: list[InstrumentSpec] = []
    for venue, venue_node in fields.items():
        found.extend(_venue(venue, venue_node, join("market", venue), seed, problems))
    return tuple(found)


def _venue(
    venue: str, node: yaml.Node, path: str, seed: int, problems: Problems
) -> list[InstrumentSpec]:
    if isinstance(node, yaml.ScalarNode) and value(node) in ("default", None):
        if value(node) is None:
            return []
        return [spec_for(venue, base, Decimal(price)) for base, price in MAJORS[:3]]
    specs: list[InstrumentSpec] = []
    symbols: set[str] = set()
    for index, entry in items(node, path, problems):
        where = join(path, index)
        if isinstance(entry, yaml.MappingNode) and any(
            isinstance(k, yaml.ScalarNode) and k.value == keys.GENERATE.name for k, _ in entry.value
        ):
            specs.extend(_generated(venue, entry, where, seed + index, symbols, problems))
            continue
        fields = mapping(entry, where, INSTRUMENT_KEYS, problems)
        if fields is None:
            continue
        spec = _explicit(venue, fields, where, problems)
        if spec is None:
            continue
        if spec.base in symbols:
            problems.add(
                fields["symbol"], join(where, "symbol"), "symbol given twice on this venue"
            )
            continue
        symbols.add(spec.base)
        specs.append(spec)
    return specs


def _explicit(
    venue: str, fields: dict[str, yaml.Node], path: str, problems: Problems
) -> InstrumentSpec | None:
    if "symbol" not in fields:
        problems.add(None, join(path, "symbol"), "required (BASE/QUOTE, e.g. BTC/USDT)")
        return None
    symbol = scalar(fields["symbol"], join(path, "symbol"), str, problems)
    if symbol is None:
        return None
    base, slash, quote = symbol.partition("/")
    if not slash or not base or not quote or "/" in quote or ":" in symbol:
        problems.add(fields["symbol"], join(path, "symbol"), "expected BASE/QUOTE, e.g. BTC/USDT")
        return None
    price = _decimal(fields, "price", path, problems)
    if price is None and "price" not in fields:
        price = _MAJOR_PRICES.get(base)
        if price is None:
            problems.add(
                fields["symbol"],
                join(path, "price"),
                f"required for {base!r}: the catalogue knows a price for "
                + ", ".join(_MAJOR_PRICES),
            )
            return None
    if price is None:
        return None
    spec = spec_for(venue, base, price, quote)
    tick = _decimal(fields, "pipSize", path, problems) or spec.pip_size
    lot = _decimal(fields, "lotSize", path, problems) or spec.lot_size
    extra: dict[str, Any] = {}
    for name in ("description", "externalSymbol"):
        if name in fields:
            text = scalar(fields[name], join(path, name), str, problems)
            if text is not None:
                extra[name] = text
    spec = replace(
        spec,
        pip_size=tick,
        lot_size=lot,
        price=max(tick, (price / tick).to_integral_value() * tick),
        min_notional=_decimal(fields, "minNotional", path, problems) or spec.min_notional,
        extra=extra,
    )
    return _walk_keys(spec, fields, path, problems)


def _generated(
    venue: str,
    node: yaml.MappingNode,
    path: str,
    seed: int,
    symbols: set[str],
    problems: Problems,
) -> list[InstrumentSpec]:
    fields = mapping(node, path, GENERATE_KEYS, problems)
    if fields is None:
        return []
    count = scalar(fields["generate"], join(path, "generate"), int, problems)
    if count is None:
        return []
    if not 0 <= count <= _MAX_GENERATE:
        problems.add(fields["generate"], join(path, "generate"), f"expected 0..{_MAX_GENERATE}")
        return []
    price = _decimal(fields, "price", path, problems)
    specs = []
    for spec in generated(venue, count, seed, symbols):
        symbols.add(spec.base)
        if price is not None:
            tick, lot = sizes_for(price)
            spec = replace(spec, price=price.quantize(tick), pip_size=tick, lot_size=lot)
        checked = _walk_keys(spec, fields, path, problems)
        if checked is None:
            return []
        specs.append(checked)
    return specs


def _walk_keys(
    spec: InstrumentSpec, fields: dict[str, yaml.Node], path: str, problems: Problems
) -> InstrumentSpec | None:
    """spread, depth, volatility and status, checked; None when one is wrong."""
    ok = True
    spread = _decimal(fields, "spread", path, problems, zero=True)
    if spread is not None and spread >= 1:
        problems.add(fields["spread"], join(path, "spread"), "expected a fraction below 1")
        ok = False
    volatility = _decimal(fields, "volatility", path, problems, zero=True)
    if volatility is not None and volatility > 10:
        problems.add(fields["volatility"], join(path, "volatility"), "expected at most 10")
        ok = False
    depth = spec.depth
    if "depth" in fields:
        read = scalar(fields["depth"], join(path, "depth"), int, problems)
        if read is None or not 1 <= read <= MAX_DEPTH:
            if read is not None:
                problems.add(fields["depth"], join(path, "depth"), f"expected 1..{MAX_DEPTH}")
            ok = False
        else:
            depth = read
    status = spec.status
    if "status" in fields:
        read_status = enum(
            fields["status"], join(path, "status"), INSTRUMENT_STATUSES, problems, "status"
        )
        ok = ok and read_status is not None
        status = read_status or status
    halted = False
    if "halted" in fields:
        read_halted = scalar(fields["halted"], join(path, "halted"), bool, problems)
        ok = ok and read_halted is not None
        halted = bool(read_halted)
    if ("spread" in fields and spread is None) or ("volatility" in fields and volatility is None):
        ok = False
    if not ok:
        return None
    return replace(
        spec,
        spread=spec.spread if spread is None else spread,
        volatility=spec.volatility if volatility is None else volatility,
        depth=depth,
        status=status,
        halted=halted,
    )


def _decimal(
    fields: dict[str, yaml.Node], name: str, path: str, problems: Problems, zero: bool = False
) -> Decimal | None:
    """A decimal key (a string such as "0.01", or a YAML number); None if absent or wrong
    (then a problem says so)."""
    node = fields.get(name)
    if node is None:
        return None
    raw = scalar(node, join(path, name), (str, int, float), problems)
    if raw is None:
        return None
    try:
        number = Decimal(str(raw))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0 or (number == 0 and not zero):
        wanted = "a decimal >= 0" if zero else "a decimal > 0"
        problems.add(node, join(path, name), f"expected {wanted}, got {raw!r}")
        return None
    return number

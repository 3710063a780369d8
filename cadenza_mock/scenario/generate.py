"""Seeded fake data that looks like the real thing.

Every generated value comes from a `random.Random` seeded by the scenario seed and the
record's position in the file, so one record never shifts another and the same file gives
the same bytes on every machine. Faker is imported only when a name or email is needed: it
costs more start-up time than everything else here together.
"""

from __future__ import annotations

import random
import string
from bisect import bisect
from collections.abc import Callable
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING

from cadenza_mock.model import base_venue

# Re-exported: the builders draw ids and tokens through this module.
from cadenza_mock.seeded import draw, reseed, rng_for, seed_text, token, uuid4_from

__all__ = ["base_venue", "reseed", "rng_for", "seed_text", "token", "uuid4_from"]

if TYPE_CHECKING:
    from faker import Faker

# 2026-01-01T00:00:00Z: generated timestamps lean on this when the scenario sets no `now`,
# so data never depends on the day the tests run.
REFERENCE_EPOCH_MS = 1_767_225_600_000
DAY_MS = 86_400_000

_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
_BASE64 = string.ascii_letters + string.digits + "+/"

# (alphabet, length) of API keys per venue family; keys of the real venues have these shapes.
_KEY_SHAPES: dict[str, tuple[str, int]] = {
    "BINANCE": (_ALNUM, 64),
    "BYBIT": (_ALNUM, 18),
    "COINBASE": (_HEX, 32),
    "KRAKEN": (_BASE64, 56),
    "B2C2": (_HEX, 40),
    "WINTERMUTE": (_ALNUM, 32),
    "BLOCKFILLS": (_ALNUM, 32),
    "STONEX": (_ALNUM, 24),
    "CUMBERLAND": (_HEX, 32),
    "IBKR": (string.ascii_uppercase + string.digits, 20),
    "DERIBIT": (_ALNUM, 8),
    "BITFINEX": (_ALNUM, 43),
    "FERMATA": (_ALNUM, 32),
}
_SECRET_SHAPES: dict[str, tuple[str, int]] = {
    "BINANCE": (_ALNUM, 64),
    "OKX": ("0123456789ABCDEF", 32),
    "BYBIT": (_ALNUM, 36),
    "COINBASE": (_BASE64, 88),
    "KRAKEN": (_BASE64, 88),
}
_DEFAULT_SHAPE = (_ALNUM, 32)

_DISPLAY = {"OKX": "OKX", "B2C2": "B2C2", "IBKR": "IBKR"}
_PURPOSES = (
    "spot",
    "futures",
    "margin",
    "trading bot",
    "market making",
    "arbitrage",
    "treasury",
    "read-only",
    "hedging",
    "rebalancer",
)


@cache
def _key_shape(venue: str) -> tuple[str, int]:
    return _KEY_SHAPES.get(base_venue(venue), _DEFAULT_SHAPE)


@cache
def _secret_shape(venue: str) -> tuple[str, int]:
    return _SECRET_SHAPES.get(base_venue(venue), (_ALNUM, 64))


@cache
def _display(venue: str) -> str:
    return _DISPLAY.get(base_venue(venue), base_venue(venue).title())


def below(rng: random.Random, n: int) -> int:
    """`rng.randrange(n)` (n > 0): Random._randbelow_with_getrandbits, without the checks
    and calls around it; `rng.choice(seq)` is `seq[below(rng, len(seq))]`."""
    k = n.bit_length()
    r = rng.getrandbits(k)
    while r >= n:
        r = rng.getrandbits(k)
    return r


def api_key(rng: random.Random, venue: str) -> str:
    family = base_venue(venue)
    if family == "OKX":
        return uuid4_from(rng)
    if family == "HYPERLIQUID":
        return "0x" + draw(rng, _HEX, 40)
    return draw(rng, *_key_shape(venue))


def api_secret(rng: random.Random, venue: str) -> str:
    return draw(rng, *_secret_shape(venue))


def passphrase(rng: random.Random) -> str:
    return draw(rng, _ALNUM + "!@#$%", 12 + below(rng, 9))  # rng.randint(12, 20)


@cache
def _faker() -> Faker:
    from faker import Faker

    return Faker("en_US")


def _seeded_faker(rng: random.Random) -> Faker:
    fake = _faker()
    fake.seed_instance(rng.getrandbits(64))
    return fake


@cache
def _first_name_picker() -> Callable[[int], str] | None:
    """`Faker("en_US")` seeded with a number, then `first_name()`: the same weighted draw
    without Faker's per-call set-up (it sums ~7,000 weights on every call). None, and
    Faker itself is used, unless it agrees with Faker on this installation."""
    fake = _faker()
    try:
        # The provider behind `first_name` holds the weighted names it draws from.
        weighted = getattr(fake.first_name, "__self__").first_names  # noqa: B009
        names = tuple(weighted.keys())
        cumulative = list(accumulate(weighted.values()))
        total, last = cumulative[-1] + 0.0, len(names) - 1
        spare = random.Random()

        def pick(seed: int) -> str:
            spare.seed(seed)
            return str(names[bisect(cumulative, spare.random() * total, 0, last)])

        for seed in (0, 1, 2**63 + 5, *range(3, 40)):
            fake.seed_instance(seed)
            if pick(seed) != fake.first_name():
                return None
    except Exception:  # another Faker: its own way, slower
        return None
    return pick


def first_name(rng: random.Random) -> str:
    picker = _first_name_picker()
    if picker is None:
        return str(_seeded_faker(rng).first_name())
    return picker(rng.getrandbits(64))


def credential_name(rng: random.Random, venue: str) -> str:
    display = _display(venue)
    purpose = _PURPOSES[below(rng, len(_PURPOSES))]  # rng.choice(_PURPOSES)
    pattern = below(rng, 4)  # rng.randrange(4)
    if pattern == 0:
        return f"My {display} API Key"
    if pattern == 1:
        return f"{display} {purpose} {1 + below(rng, 9)}"  # rng.randint(1, 9)
    name = first_name(rng)
    if pattern == 2:
        return f"{name}'s {display} {purpose}"
    return f"{display} {purpose} ({name})"


def email(rng: random.Random) -> str:
    fake = _seeded_faker(rng)
    return f"{fake.first_name().lower()}.{fake.last_name().lower()}@example.com"


def timestamps(rng: random.Random, reference_ms: int) -> tuple[int, int]:
    """createdAt within the year before the reference, updatedAt between it and the reference."""
    # rng.randint(a, b) is a + below(rng, b - a + 1)
    created = reference_ms - (DAY_MS + below(rng, 364 * DAY_MS + 1))
    updated = created + below(rng, reference_ms - created + 1)
    return created, updated


def picker(choice: str | list[str] | dict[str, float]) -> Callable[[random.Random], str]:
    """`lambda rng: pick(rng, choice)`, its set-up done once for all records of an entry
    (the cumulative weights that rng.choices would sum on every call)."""
    if isinstance(choice, str):
        return lambda rng: choice
    if isinstance(choice, list):
        options = list(choice)
        return lambda rng: options[below(rng, len(options))]
    names = list(choice)
    cumulative = list(accumulate([choice[n] for n in names]))
    total, last = cumulative[-1] + 0.0, len(names) - 1
    return lambda rng: names[bisect(cumulative, rng.random() * total, 0, last)]


def pick(rng: random.Random, choice: str | list[str] | dict[str, float]) -> str:
    """A fixed value, a uniform choice from a list, or a weighted choice from a mapping."""
    if isinstance(choice, str):
        return choice
    if isinstance(choice, list):
        return rng.choice(choice)
    names = list(choice)
    return rng.choices(names, weights=[choice[n] for n in names])[0]

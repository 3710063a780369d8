"""Seeded fake data that looks like the real thing.

Every generated value comes from a `random.Random` seeded by the scenario seed and the
record's position in the file, so one record never shifts another and the same file gives
the same bytes on every machine. Faker is imported only when a name or email is needed: it
costs more start-up time than everything else here together.
"""

from __future__ import annotations

import random
import string
from functools import cache
from typing import TYPE_CHECKING

from cadenza_mock.model import base_venue

# Re-exported: the builders draw ids and tokens through this module.
from cadenza_mock.seeded import draw, rng_for, token, uuid4_from

__all__ = ["base_venue", "rng_for", "token", "uuid4_from"]

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


def api_key(rng: random.Random, venue: str) -> str:
    family = base_venue(venue)
    if family == "OKX":
        return uuid4_from(rng)
    if family == "HYPERLIQUID":
        return "0x" + draw(rng, _HEX, 40)
    return draw(rng, *_KEY_SHAPES.get(family, _DEFAULT_SHAPE))


def api_secret(rng: random.Random, venue: str) -> str:
    return draw(rng, *_SECRET_SHAPES.get(base_venue(venue), (_ALNUM, 64)))


def passphrase(rng: random.Random) -> str:
    return draw(rng, _ALNUM + "!@#$%", rng.randint(12, 20))


@cache
def _faker() -> Faker:
    from faker import Faker

    return Faker("en_US")


def _seeded_faker(rng: random.Random) -> Faker:
    fake = _faker()
    fake.seed_instance(rng.getrandbits(64))
    return fake


def credential_name(rng: random.Random, venue: str) -> str:
    display = _DISPLAY.get(base_venue(venue), base_venue(venue).title())
    purpose = rng.choice(_PURPOSES)
    pattern = rng.randrange(4)
    if pattern == 0:
        return f"My {display} API Key"
    if pattern == 1:
        return f"{display} {purpose} {rng.randint(1, 9)}"
    first_name = _seeded_faker(rng).first_name()
    if pattern == 2:
        return f"{first_name}'s {display} {purpose}"
    return f"{display} {purpose} ({first_name})"


def email(rng: random.Random) -> str:
    fake = _seeded_faker(rng)
    return f"{fake.first_name().lower()}.{fake.last_name().lower()}@example.com"


def timestamps(rng: random.Random, reference_ms: int) -> tuple[int, int]:
    """createdAt within the year before the reference, updatedAt between it and the reference."""
    created = reference_ms - rng.randint(DAY_MS, 365 * DAY_MS)
    updated = created + rng.randint(0, reference_ms - created)
    return created, updated


def pick(rng: random.Random, choice: str | list[str] | dict[str, float]) -> str:
    """A fixed value, a uniform choice from a list, or a weighted choice from a mapping."""
    if isinstance(choice, str):
        return choice
    if isinstance(choice, list):
        return rng.choice(choice)
    names = list(choice)
    return rng.choices(names, weights=[choice[n] for n in names])[0]

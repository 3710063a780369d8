"""Seeded fake data that looks like the real thing.

Every generated value comes from a `random.Random` seeded by the scenario seed and the
record's position in the file, so one record never shifts another and the same file gives
the same bytes on every machine. Faker is imported only when a name or email is needed: it
costs more start-up time than everything else here together.
"""

from __future__ import annotations

import hashlib
import random
import string
import struct
from bisect import bisect
from collections.abc import Callable
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING

from cadenza_mock.contract.model import base_venue

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


# ---------------------------------------------------------------------------------------
# `generate: N` blocks. Each record reads a fixed layout of bytes from its own SHAKE-256
# digest (of the scenario seed and the record's position), so one record never shifts
# another, a longer block keeps the records of a shorter one, and the cost per record is
# one hash and a few slices instead of seeding a Mersenne Twister and drawing from it.
# The layout is part of the release: changing it changes every generated record.

RECORD_BYTES = 304
_U64 = 1 << 64
# A record's bytes: 0-15 its id; then eight little-endian 64-bit draws: createdAt,
# updatedAt, venue, type, status, venue outcome, first name, and one whose bytes pick the
# name's pattern, purpose and number and the passphrase length; 80-143 the API key,
# 144-231 the secret, 240-259 the passphrase.
_DRAWS = struct.Struct("<16x8Q")
_KEY, _SECRET, _PASS = 80, 144, 240


@cache
def _table(alphabet: str) -> bytes:
    """Byte -> character of `alphabet` (byte mod its size), for one `bytes.translate`."""
    encoded = alphabet.encode("ascii")
    return bytes(encoded[i % len(encoded)] for i in range(256))


def record_bytes(prefix: str, n: int) -> bytes:
    """Record `n`'s random bytes; `prefix` is `seed_text(seed, ..., "")` of its block."""
    return hashlib.shake_256(f"{prefix}{n}".encode()).digest(RECORD_BYTES)


def record_draws(data: bytes) -> tuple[int, ...]:
    """The eight 64-bit draws (createdAt, updatedAt, venue, type, status, outcome, name,
    pattern): pick the venue, type, status and outcome with draws 2-5."""
    return _DRAWS.unpack_from(data)


def uuid_from_bytes(data: bytes) -> str:
    """`str(uuid.UUID(bytes=data[:16]))` with the version-4 and RFC 4122 variant bits set,
    without building the UUID."""
    h = data[:16].hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[(data[8] >> 4) & 3]}{h[17:20]}-{h[20:32]}"


def byte_picker(choice: str | list[str] | dict[str, float]) -> Callable[[int], str]:
    """A fixed value, a uniform pick from a list, or a weighted pick from a mapping, made
    from one unsigned 64-bit draw; the set-up (cumulative weights) done once per block."""
    if isinstance(choice, str):
        return lambda draw64: choice
    if isinstance(choice, list):
        options = list(choice)
        return lambda draw64: options[draw64 % len(options)]
    names = list(choice)
    cumulative = list(accumulate([choice[n] for n in names]))
    scale, last = (cumulative[-1] + 0.0) / _U64, len(names) - 1
    return lambda draw64: names[bisect(cumulative, draw64 * scale, 0, last)]


@cache
def _weighted_first_names() -> tuple[tuple[str, ...], list[float], float]:
    """Faker's en_US first names with their weights (its provider's own table)."""
    provider = getattr(_faker().first_name, "__self__")  # noqa: B009
    table = provider.first_names
    weights = list(table.values()) if hasattr(table, "values") else [1.0] * len(table)
    return tuple(str(name) for name in table), list(accumulate(weights)), float(sum(weights))


class VenueShape:
    """How one venue's generated keys, secrets and names look, worked out once per venue."""

    __slots__ = ("display", "key_kind", "key_length", "key_table", "secret_length", "secret_table")

    def __init__(self, venue: str) -> None:
        family = base_venue(venue)
        self.display = _display(venue)
        self.key_kind = family if family in ("OKX", "HYPERLIQUID") else "text"
        alphabet, self.key_length = _key_shape(venue)
        self.key_table = _table(alphabet)
        alphabet, self.secret_length = _secret_shape(venue)
        self.secret_table = _table(alphabet)

    def api_key(self, data: bytes) -> str:
        if self.key_kind == "OKX":
            return uuid_from_bytes(data[_KEY : _KEY + 16])
        if self.key_kind == "HYPERLIQUID":
            return "0x" + data[_KEY : _KEY + 20].hex()
        return data[_KEY : _KEY + self.key_length].translate(self.key_table).decode("ascii")

    def api_secret(self, data: bytes) -> str:
        end = _SECRET + self.secret_length
        return data[_SECRET:end].translate(self.secret_table).decode("ascii")

    def name(self, name_draw: int, pattern_draw: int) -> str:
        """A credential name as people write them (`Binance spot 3`, `Ann's OKX hedging`)."""
        purpose = _PURPOSES[(pattern_draw >> 8) % len(_PURPOSES)]
        pattern = pattern_draw & 3
        if pattern == 0:
            return f"My {self.display} API Key"
        if pattern == 1:
            return f"{self.display} {purpose} {1 + (pattern_draw >> 16) % 9}"
        names, cumulative, total = _weighted_first_names()
        first = names[bisect(cumulative, name_draw * total / _U64, 0, len(names) - 1)]
        if pattern == 2:
            return f"{first}'s {self.display} {purpose}"
        return f"{self.display} {purpose} ({first})"


@cache
def venue_shape(venue: str) -> VenueShape:
    return VenueShape(venue)


def passphrase_from_bytes(data: bytes, pattern_draw: int) -> str:
    length = 12 + (pattern_draw >> 24) % 9
    return data[_PASS : _PASS + length].translate(_table(_ALNUM + "!@#$%")).decode("ascii")


def timestamps_from_draws(
    created_draw: int, updated_draw: int, reference_ms: int
) -> tuple[int, int]:
    """createdAt within the year before the reference, updatedAt between it and the reference."""
    created = reference_ms - (DAY_MS + created_draw % (364 * DAY_MS + 1))
    return created, created + updated_draw % (reference_ms - created + 1)

"""Seeded randomness: the same seed and position give the same value on every machine.

On the ground floor because every layer draws from it at run time (scenario generation,
sessions, created credentials, trading accounts), and the results must not depend on
test order or on which worker serves a test.

Large scenarios draw millions of characters, so `draw` and `reseed` take shortcuts that
give exactly the values of `rng.choices(alphabet, k=n)` and `random.Random(text)`; both
are checked against those at import and fall back to them if an interpreter differs.
"""

from __future__ import annotations

import _random
import random
import string
from hashlib import sha512

_ALNUM = string.ascii_letters + string.digits
_PREFIX = "cadenza-mock:"


def seed_text(seed: int, *position: object) -> str:
    """What `rng_for(seed, *position)` seeds its generator with."""
    return _PREFIX + ":".join(str(p) for p in (seed, *position))


def reseed(rng: random.Random, text: str) -> random.Random:
    """`rng` seeded exactly as `random.Random(text)` would be: a generator can be reused
    for many records instead of built for each."""
    data = text.encode()
    # What random.Random.seed does with a str (version 2), minus its argument checks.
    _random.Random.seed(rng, int.from_bytes(data + sha512(data).digest(), "big"))
    rng.gauss_next = None  # type: ignore[attr-defined]
    return rng


def rng_for(seed: int, *position: object) -> random.Random:
    """A generator for one place in the data (`rng_for(seed, "user", 3, "token")`)."""
    # String seeds go through SHA-512 in CPython: stable across machines and runs,
    # unlike hash() of a tuple.
    return random.Random(seed_text(seed, *position))


def uuid4_from(rng: random.Random) -> str:
    """`str(uuid.UUID(int=rng.getrandbits(128), version=4))`, without building the UUID."""
    n = rng.getrandbits(128)
    n = (n & ~(0xC000 << 48) | 0x8000 << 48) & ~(0xF000 << 64) | 4 << 76
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_MASKS: dict[int, tuple[int, int]] = {}
_TABLES: dict[str, bytes] = {}
_SCALE = 1.0 / 9007199254740992.0  # 2**-53, as in random.random()


def _masks(length: int) -> tuple[int, int]:
    masks = _MASKS.get(length)
    if masks is None:
        high = int.from_bytes(b"\xe0\xff\xff\xff\0\0\0\0" * length, "little")
        low = int.from_bytes(((1 << 26) - 1).to_bytes(8, "little") * length, "little")
        masks = _MASKS[length] = (high, low)
    return masks


def _fast_draw(rng: random.Random, alphabet: str, length: int) -> str | None:
    """`"".join(rng.choices(alphabet, k=length))` for a short 1-byte alphabet, computed on
    all characters at once; None when it does not apply.

    choices() takes `alphabet[floor(random() * n)]` per character, and random() is
    `(a * 2**26 + b) * 2**-53` of two 32-bit words (a >> 5, b >> 6). getrandbits(64 * k)
    takes the same 2k words, the first the lowest: one slot of 64 bits per character
    holds m = a * 2**26 + b; m * n in the same slot (< 2**60, no carry) has the index in
    its top bits, read as one byte per slot after a shift of 3. Where the float product
    could round up across an integer (the 16 bits below the index all ones), the index is
    recomputed with the float formula itself.
    """
    n = len(alphabet)
    if length <= 0 or n > 120:
        return None
    table = _TABLES.get(alphabet)
    if table is None:
        try:
            encoded = alphabet.encode("latin-1")
        except UnicodeEncodeError:
            return None
        table = _TABLES[alphabet] = encoded + bytes(256 - n)
    high, low = _masks(length)
    words = rng.getrandbits(64 * length)
    m = ((words & high) << 21) | ((words >> 38) & low)
    raw = ((m * n) << 3).to_bytes(8 * length, "little")
    top = raw[7::8]
    near = raw[6::8]
    at = near.find(b"\xff")
    if at >= 0:
        fixed = bytearray(top)
        while at >= 0:
            fixed[at] = int(((m >> (64 * at)) & 0xFFFFFFFFFFFFFFFF) * _SCALE * n)
            at = near.find(b"\xff", at + 1)
        top = bytes(fixed)
    return top.translate(table).decode("latin-1")


def _slow_draw(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choices(alphabet, k=length))


def _shortcuts_agree() -> bool:
    """The shortcuts give the reference values on this interpreter (checked once)."""
    try:
        for case in range(64):
            alphabet = (_ALNUM, "0123456789abcdef", _ALNUM + "+/", "xy")[case % 4]
            length = (case * 7) % 90
            one, two = random.Random(case), random.Random(case)
            if _fast_draw(one, alphabet, length) not in (None, _slow_draw(two, alphabet, length)):
                return False
            if one.random() != two.random():
                return False
            text = seed_text(case, "check")
            if reseed(random.Random(0), text).random() != random.Random(text).random():
                return False
    except Exception:  # an interpreter without these internals: keep the reference code
        return False
    return True


_FAST = _shortcuts_agree()


def draw(rng: random.Random, alphabet: str, length: int) -> str:
    """`length` characters of `alphabet`, exactly `"".join(rng.choices(alphabet, k=length))`."""
    if _FAST:
        fast = _fast_draw(rng, alphabet, length)
        if fast is not None:
            return fast
    return _slow_draw(rng, alphabet, length)


def token(rng: random.Random) -> str:
    """A static bearer token for a user the scenario gives none."""
    return "cmk_" + draw(rng, _ALNUM, 32)

"""Seeded randomness: the same seed and position give the same value on every machine.

On the ground floor because every layer draws from it at run time (scenario generation,
sessions, created credentials, trading accounts), and the results must not depend on
test order or on which worker serves a test.
"""

from __future__ import annotations

import random
import string
import uuid

_ALNUM = string.ascii_letters + string.digits


def rng_for(seed: int, *position: object) -> random.Random:
    """A generator for one place in the data (`rng_for(seed, "user", 3, "token")`)."""
    # String seeds go through SHA-512 in CPython: stable across machines and runs,
    # unlike hash() of a tuple.
    return random.Random("cadenza-mock:" + ":".join(str(p) for p in (seed, *position)))


def uuid4_from(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def draw(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choices(alphabet, k=length))


def token(rng: random.Random) -> str:
    """A static bearer token for a user the scenario gives none."""
    return "cmk_" + draw(rng, _ALNUM, 32)

"""Salted fingerprints: what the mock keeps of a secret once it must outlive the process.

A state file (`serve --state-file`) never holds an API key, secret or token, yet after a
restart the store must still tell whether a key given to it is one it already holds
(duplicate keys, rotated-away keys, connect's secret check) and whether a token is one it
issued. Records restored from a file hold `marker(fingerprint)` in place of the secret; the
store compares a value it is given by fingerprinting it with the same salt.
"""

from __future__ import annotations

import hashlib
import os

# No real key, secret or token starts with a NUL, so a marker never equals a given value.
MARKER = "\0fingerprint:"
SALT_BYTES = 16


def new_salt() -> bytes:
    """A random salt: one per store, written into the state file beside the fingerprints."""
    return os.urandom(SALT_BYTES)


def fingerprint(salt: bytes, *parts: str) -> str:
    """A keyed BLAKE2b digest of the parts (NUL-separated), as 32 hex digits."""
    data = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, key=salt, digest_size=16).hexdigest()


def marker(digest: str) -> str:
    """What a restored record holds in place of a secret whose fingerprint is `digest`."""
    return MARKER + digest


def is_marker(value: str | None) -> bool:
    return value is not None and value.startswith(MARKER)


def key_marker(salt: bytes, venue: str, api_key: str) -> str:
    """A restored record's apiKey: equal keys on one venue give equal markers."""
    return marker(fingerprint(salt, "apiKey", venue, api_key))


def secret_marker(salt: bytes, kind: str, value: str) -> str:
    """A restored record's apiSecret or apiPassphrase (`kind` names which)."""
    return marker(fingerprint(salt, kind, value))

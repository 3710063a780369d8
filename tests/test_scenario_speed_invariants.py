"""Loading stays byte-identical: the same scenario file gives exactly the same records, ids,
keys, names and timestamps across loader optimisations.

The digests pin the output of this release. Explicit records (and their omitted fields)
are pinned as they were before any speed work (commit 0799c3f). `generate:` blocks draw
from a per-record SHAKE-256 layout since 0.2.0 (checked against an independent
computation in test_generate_layout.py), pinned here as 0.2.0 first produced them; the
bundled `default` and `sdk` scenarios spell out their formerly generated records, so they
keep their 0.1.0 digests. A change here means seeded output changed, which breaks every
user's recorded fixtures: only a release may do that, and its changelog must say so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import string
import uuid
from typing import Any

import pytest
import yaml

from cadenza_mock import seeded
from cadenza_mock.scenario import generate as gen
from cadenza_mock.scenario import load_scenario, load_scenario_text, nodes

_LATER_USER_FIELDS: dict[str, Any] = {
    "updated_at": None,
    "tenant_id": None,
    "environments": (),
    "user_metadata": {},
}


def digest(scenario: Any) -> str:
    """SHA-256 of everything a Scenario holds, secrets included, in a stable form."""
    data = dataclasses.asdict(scenario)
    data.pop("source", None)  # a path on this machine, not generated data
    if data.get("market") is None:  # the market key: digested only when set
        data.pop("market", None)
    if not data.get("replay"):  # the replay key (recorded RPC answers): only when set
        data.pop("replay", None)
    for later in ("balances", "behaviors"):  # trading accounts' keys: only when set
        if not data.get(later):
            data.pop(later, None)
    for user in data["users"]:  # later fields, digested only when set
        for name, unset in _LATER_USER_FIELDS.items():
            if user.get(name) == unset:
                del user[name]
    text = json.dumps(data, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


GENERATED = """
seed: 7
now: "2026-02-01T00:00:00Z"
users:
  - tokens: [gen-token]
    credentials:
      - generate: 2000
        status: {ACTIVE: 5, REVOKED: 2}
        venue_outcome: [ok, invalid_keys, timeout]
      - generate: 300
        venue: OKX
        keys_valid: false
  - credentials:
      - generate: 500
        venue: {BINANCE: 3, KRAKEN: 1, COINBASE: 1}
        type: [EXCHANGE, BROKER]
"""

GENERATED_SDK = """
seed: 99
profile: sdk
users:
  - email: sdk@example.com
    credentials:
      - generate: 1500
        venue: [BINANCE, OKX, OKX_UAT, IBKR, B2C2,
                DERIBIT, STONEX, BITFINEX, FERMATA, MOCK]
        type: {API_KEY: 3, HMAC: 1}
"""

EXPLICIT = """
seed: 3
users:
  - id: 0b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11
    credentials:
      - venue: BINANCE
      - venue: OKX
        name: given name
      - venue: KRAKEN
        apiKey: given-key
        apiSecret: given-secret
      - venue: BYBIT
        status: REVOKED
        createdAt: "2025-06-01T00:00:00Z"
      - venue: COINBASE
        createdAt: 1750000000000
        updatedAt: 1750000100000
        venue_outcome: timeout
      - venue: BINANCE
        apiKey: abc123***
  - {}
  - email: bob@example.com
    tokens: [bob-token]
"""

# explicit: computed before the speed work (commit 0799c3f); the others: 0.2.0's output.
PINNED = {
    "generated": "0d9787038ab3d63466e04e69f98d5f976dac82267e7029cb3514ba8e51ea50dd",
    "generated_sdk": "d16978fb320a5266c1b4e0e18d37aef76428f33cee551c02ed98819e0f3c0a7f",
    "explicit": "92ea4a5b25eef40782930c2d6f8a8f2667c7f1a1228ad70d2b0934e0c2c40991",
}
# bundled name/profile -> digest
PINNED_BUNDLED = {
    "accounts/docs": "01c6408c43e19d358e3a709fcb5647a67e06230ab5c2e6a6233c00b7b51c19e5",
    "accounts/sdk": "6425a4e279e6fd9219ecf8e4e383e22c3c1016ad08bec23259f5cf1b5d19bdb2",
    "auth-errors/docs": "f13ad9c7025dcc03d078021b19cdb684a4ba4e1b5a9c4d2a2b3947a597119352",
    "auth-errors/sdk": "df581ed8fd78f9f9f30a5be3a66d5553524089ce4f0b30881a40c4c0c478792a",
    "default/docs": "20fc86b936f2ad09c9274290ab95c125ddf44fe75a2021e0cab2c73a876d7201",
    "default/sdk": "e0cb9d3b10dd0ff6e362445dab85772cfe0dd325f45ff25e8660b8e8455007bb",
    "empty/docs": "f7f70156ad45c45835b5a0b842e2f38664f8e0d0899fdf220c99cf7c4a780d06",
    "empty/sdk": "cfe89108d109679dfd5ab0a9a00a7a054649a4b1eecf5ded781a720385a32913",
    # Re-pinned when fault actions became classes: its `drop` and `malformed` faults were
    # the strings "drop" and "malformed", now Drop() and Malformed(). With those two put
    # back as strings, the old digests (c0d2ef36..., 8858efac...) came out unchanged.
    "flaky/docs": "afd01f7cd5ce54ce84b83f761eb6ce63768006ef65cca4df0efa3c300f8ab32c",
    "flaky/sdk": "28f6494cb71f6991fe457fe1c98baf93806b167dd18de7ccd67704d73447e0c9",
    "many/docs": "ab048af1b7a87ae2e1273bc89b4ba08cc5a1849303d662f892cccb8ba8b3546e",
    "many/sdk": "7b77d633a9ac386923c60b6239fbf90fffc00acd3da30f4fb9e73daf228a71d6",
    "multi-user/docs": "beceb7476f65e65a93e654bd5da66d1f1eec4b11ebae1b30c3e93e77274d4a54",
    "multi-user/sdk": "73a233e8db4bd25b24ec7a652f7bdb7cd465af1a4a305fcaeff52711e1d2749c",
    "rate-limited/docs": "e65ddc7c9b318ded4c88c3e2ee5f71913934aed9549c8d0ee821257215509861",
    "rate-limited/sdk": "f8e9e70fbdafd9ba749f4aaae9ac31fd56e65ab807e04e6a098ffbe91b314b49",
    "revoked/docs": "0c95be7599979ab6de37fc62a37e58129dd08448718166536ac1abcfc9e73c22",
    "revoked/sdk": "3dc022b0f76a0cd408b29f3b04d30ebb005271e75d8ad3acae79e718c8f1d91c",
    "sdk/sdk": "97b4805c5bab63f74d091c6b5451f5950b73ea1b0ef49eb081042fc4da54aadd",
}


@pytest.mark.parametrize(
    ("key", "text"),
    [("generated", GENERATED), ("generated_sdk", GENERATED_SDK), ("explicit", EXPLICIT)],
)
def test_seeded_output_is_pinned(key: str, text: str) -> None:
    assert digest(load_scenario_text(text, name=key)) == PINNED[key]


@pytest.mark.parametrize("name", sorted(PINNED_BUNDLED))
def test_bundled_scenarios_are_pinned(name: str) -> None:
    bundled, profile = name.split("/")
    assert digest(load_scenario(bundled, profile=profile)) == PINNED_BUNDLED[name]


# --- the shortcuts behind the speed, against the reference code they replace -------------


def test_the_shortcuts_are_in_use() -> None:
    # On CPython the fast paths apply; elsewhere they switch themselves off.
    assert seeded._FAST
    assert gen._first_name_picker() is not None


@pytest.mark.parametrize("case", range(400))
def test_draw_is_choices(case: int) -> None:
    alphabets = (
        string.ascii_letters + string.digits,
        "0123456789abcdef",
        string.ascii_letters + string.digits + "+/",
        string.ascii_letters + string.digits + "!@#$%",
        "0123456789ABCDEF",
        "ab",
        "z",
    )
    alphabet = alphabets[case % len(alphabets)]
    length = case % 97
    one, two = random.Random(f"draw:{case}"), random.Random(f"draw:{case}")
    assert seeded.draw(one, alphabet, length) == "".join(two.choices(alphabet, k=length))
    assert one.getrandbits(64) == two.getrandbits(64)  # the generator moved on as far


class _Words:
    """A generator stand-in that hands out chosen 53-bit values as random() would."""

    def __init__(self, values: list[int]) -> None:
        self.values = values

    def getrandbits(self, bits: int) -> int:
        assert bits == 64 * len(self.values)
        words = 0
        for i, m in enumerate(self.values):
            a, b = m >> 26, m & ((1 << 26) - 1)  # random() = (a * 2**26 + b) / 2**53
            words |= ((a << 5) | 31) << (64 * i) | ((b << 6) | 63) << (64 * i + 32)
        return words


@pytest.mark.parametrize(
    "alphabet", ["0123456789abcdef", string.ascii_letters + "+/", string.ascii_letters, "xyz"]
)
def test_draw_rounds_like_floats(alphabet: str) -> None:
    # Values whose product with n lies just below a multiple of 2**53: where the float
    # product random() * n can round up to the next index.
    n = len(alphabet)
    values = [min(2**53 - 1, -(-j * 2**53 // n) - d) for j in range(1, n + 1) for d in (1, 2, 3, 0)]
    values = [v for v in values if v >= 0]
    expected = "".join(alphabet[int(v * 2.0**-53 * float(n))] for v in values)
    assert seeded._fast_draw(_Words(values), alphabet, len(values)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("case", range(50))
def test_reseed_and_uuid_are_the_reference(case: int) -> None:
    text = seeded.seed_text(case, "user", case % 3, "credential", 0, case)
    assert text == "cadenza-mock:" + ":".join(
        str(p) for p in (case, "user", case % 3, "credential", 0, case)
    )
    reused = seeded.reseed(random.Random(0), text)
    fresh = random.Random(text)
    assert reused.getstate() == fresh.getstate()
    twin = random.Random(text)
    assert seeded.uuid4_from(fresh) == str(uuid.UUID(int=twin.getrandbits(128), version=4))


@pytest.mark.parametrize("seed", [0, 1, 2**64 - 1, *range(100, 160)])
def test_first_name_is_fakers(seed: int) -> None:
    fake = gen._faker()
    picker = gen._first_name_picker()
    assert picker is not None
    fake.seed_instance(seed)
    assert picker(seed) == fake.first_name()


def _tree(node: yaml.Node) -> object:
    mark = node.start_mark
    where = (mark.name, mark.line, mark.column)
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value, where)
    if isinstance(node, yaml.MappingNode):
        return (node.tag, [(_tree(k), _tree(v)) for k, v in node.value], where)
    return (node.tag, [_tree(child) for child in node.value], where)


@pytest.mark.parametrize("text", [GENERATED, GENERATED_SDK, EXPLICIT])
def test_libyaml_composes_what_pyyaml_does(text: str) -> None:
    fast = nodes._compose_fast(text, "f.yaml")
    assert fast is not None and fast[0] is not None
    loader = yaml.SafeLoader(text)
    loader.name = "f.yaml"
    try:
        slow = loader.get_single_node()
    finally:
        loader.dispose()
    assert _tree(fast[0]) == _tree(slow)


@pytest.mark.parametrize("name", ["many", "accounts", "sdk", "flaky", "default"])
def test_libyaml_composes_bundled_like_pyyaml(name: str) -> None:
    from cadenza_mock.scenario import bundled_dir

    text = (bundled_dir() / f"{name}.yaml").read_text(encoding="utf-8")
    fast = nodes._compose_fast(text, name)
    assert fast is not None and fast[0] is not None
    loader = yaml.SafeLoader(text)
    loader.name = name
    try:
        assert _tree(fast[0]) == _tree(loader.get_single_node())
    finally:
        loader.dispose()

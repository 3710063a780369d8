"""Loading stays byte-identical: the same scenario file gives exactly the same records, ids,
keys, names and timestamps across loader optimisations (issue 14, "Scale and speed").

The pinned digests were computed with the loader as it was before any speed work; a change
here means seeded output changed, which breaks every user's recorded fixtures.
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


def digest(scenario: Any) -> str:
    """SHA-256 of everything a Scenario holds, secrets included, in a stable form."""
    data = dataclasses.asdict(scenario)
    data.pop("source", None)  # a path on this machine, not generated data
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
        venue: [BINANCE, OKX, OKX_UAT, HYPERLIQUID, IBKR, B2C2,
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

# Computed with the loader before the speed work (commit 0799c3f).
PINNED = {
    "generated": "7b4c2b2931c88a480a49e0b836ea5ef5b1efa9ea5a2d8961fffc756ff74a0f17",
    "generated_sdk": "c8643d3443162100faa8595931add2b64595331ad4f1a12b0e99e38b352967cb",
    "explicit": "92ea4a5b25eef40782930c2d6f8a8f2667c7f1a1228ad70d2b0934e0c2c40991",
}
# bundled name/profile -> digest
PINNED_BUNDLED = {
    "accounts/docs": "01c6408c43e19d358e3a709fcb5647a67e06230ab5c2e6a6233c00b7b51c19e5",
    "accounts/sdk": "6425a4e279e6fd9219ecf8e4e383e22c3c1016ad08bec23259f5cf1b5d19bdb2",
    "auth-errors/docs": "771e4c08ec5dc220c3214532f5dc50ec71e080ab098411e5eadeed69dbcd45cd",
    "auth-errors/sdk": "76149e644747a78b5ad35a11fadeea8779b5d975d680bd3b2ca7dbb81909d46a",
    "default/docs": "20fc86b936f2ad09c9274290ab95c125ddf44fe75a2021e0cab2c73a876d7201",
    "default/sdk": "e0cb9d3b10dd0ff6e362445dab85772cfe0dd325f45ff25e8660b8e8455007bb",
    "empty/docs": "f7f70156ad45c45835b5a0b842e2f38664f8e0d0899fdf220c99cf7c4a780d06",
    "empty/sdk": "cfe89108d109679dfd5ab0a9a00a7a054649a4b1eecf5ded781a720385a32913",
    "flaky/docs": "c5d1d47c71d38096e3ae4ec19658f57d6f16c6468ab51dc0cb56af02ec904c72",
    "flaky/sdk": "241b90ccfde54694c6ad9a2f23d5b5da6aecfd1d735ee50638c2a875508c3fcb",
    "many/docs": "b503ade11c5b41701921ef519c8b98d8edca411bb05e3066d66c0791f2ffa2bd",
    "many/sdk": "a25d36733f26ab4a89991ab5a61f4e0f2e201273f092ed06dc8956d9bc5bbf37",
    "multi-user/docs": "58caf2f4ab5a1278f432b6b1195332899c8d81b87f887bc3078978c296c1865d",
    "multi-user/sdk": "5634f69dd530754c39fa59b308ab93df4bbb1048dad52f961ebc7b3acf456ec8",
    "rate-limited/docs": "b9b7298855a4626d97de8e4c88abc683c1750c275474fbb2600e942a5798737d",
    "rate-limited/sdk": "e79dba069c7b23e752f721d3f9641bc2d0330cbfd9eec2d8c8aa400356bf8c5d",
    "revoked/docs": "172cac348f7271a49328681abd77c9f8eae278ff0bab4e23f3fe086ffa1bcc40",
    "revoked/sdk": "8255976187b6b12956db278cc96404de626b210a345c695a96b042dfe00f1c25",
    "sdk/sdk": "d1451a219838cc94b98f67a92369ff93057518b921d43403dd7098d9a1c15623",
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

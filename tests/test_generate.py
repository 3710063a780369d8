"""Generated data: looks real, respects the timestamp order, and is byte-for-byte reproducible."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ALICE, LIST, write

from cadenza_mock.contract.model import PROFILES
from cadenza_mock.scenario import generate as gen
from cadenza_mock.scenario import load_scenario

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# Per-venue key shapes of the docs profile (alphabet as a regex class, length).
KEY_SHAPES = {
    "BINANCE": (r"[A-Za-z0-9]", 64),
    "BYBIT": (r"[A-Za-z0-9]", 18),
    "COINBASE": (r"[0-9a-f]", 32),
    "KRAKEN": (r"[A-Za-z0-9+/]", 56),
}


def check_record(cred, now_ms: int) -> None:
    """The invariants every generated record keeps."""
    assert UUID4.match(cred.credential_id)
    if cred.venue == "OKX":
        assert UUID4.match(cred.api_key)  # OKX keys are UUIDs
        assert cred.api_passphrase  # and OKX needs a passphrase
    else:
        alphabet, length = KEY_SHAPES[cred.venue]
        assert re.fullmatch(f"{alphabet}{{{length}}}", cred.api_key), (cred.venue, cred.api_key)
    assert cred.api_secret
    assert cred.name.strip() and len(cred.name) <= 60
    assert cred.created_at <= cred.updated_at <= now_ms
    if cred.status == "REVOKED":
        assert cred.revoked_at is not None and cred.updated_at <= cred.revoked_at <= now_ms
    else:
        assert cred.revoked_at is None


def test_many_scenario_records_look_real(many_scenario):
    now = many_scenario.now
    assert now == 1768478400000  # many.yaml: now: 2026-01-15T12:00:00Z
    ids = set()
    for cred in many_scenario.credentials:
        check_record(cred, now)
        ids.add(cred.credential_id)
    assert len(ids) == len(many_scenario.credentials)
    assert {c.venue for c in many_scenario.credentials} == set(PROFILES["docs"].venues)
    names = {c.name for c in many_scenario.credentials}
    assert len(names) > 1000  # plausible and varied, not "credential 1..n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=-(2**63), max_value=2**63), count=st.integers(0, 12))
def test_any_seed_gives_valid_records(seed, count):
    scenario = load_scenario(
        {
            "seed": seed,
            "users": [
                {
                    "tokens": ["t"],
                    "credentials": [
                        {"generate": count, "status": {"ACTIVE": 1, "REVOKED": 1}},
                        {"venue": "OKX", "status": "REVOKED"},
                    ],
                }
            ],
        }
    )
    assert len(scenario.credentials) == count + 1
    for cred in scenario.credentials:
        check_record(cred, gen.REFERENCE_EPOCH_MS)
    again = load_scenario(
        {"seed": seed, "users": [{"tokens": ["t"], "credentials": [{"generate": count}]}]}
    )
    assert again.users[0].user_id == scenario.users[0].user_id  # users depend on seed only


@given(st.integers(), st.sampled_from(PROFILES["sdk"].venues))
@settings(max_examples=60, deadline=None)
def test_every_sdk_venue_generates_a_key(seed, venue):
    rng = gen.rng_for(seed, "x")
    key = gen.api_key(rng, venue)
    assert len(key) >= 8 and "***" not in key
    assert gen.pick(rng, [venue]) == venue


SCENARIO = """\
seed: 99
now: "2026-01-15T12:00:00Z"
users:
  - tokens: [alice-token]
    credentials:
      - generate: 3
        venue: [BINANCE, OKX, KRAKEN]
      - venue: BYBIT
        name: {name}
      - generate: 3
        status: {{ACTIVE: 1, REVOKED: 1}}
"""


async def list_bytes(make_client, path) -> bytes:
    client = await make_client(str(path))
    response = await client.get(LIST, headers=ALICE)
    assert response.status == 200
    return await response.read()


async def test_two_loads_give_identical_bytes(tmp_path, make_client):
    path = write(tmp_path / "s.yaml", SCENARIO.format(name="desk"))
    assert await list_bytes(make_client, path) == await list_bytes(make_client, path)


async def test_another_process_gives_identical_bytes(tmp_path, make_client):
    """A fresh interpreter (fresh hash seed, fresh Faker) must serialize the same bytes."""
    path = write(tmp_path / "s.yaml", SCENARIO.format(name="desk"))
    code = textwrap.dedent(
        """
        import sys
        from cadenza_mock.engine.store import Store
        from cadenza_mock.engine.query import NO_FILTER
        from cadenza_mock.scenario import load_scenario
        scenario = load_scenario(sys.argv[1])
        store = Store(scenario)
        sys.stdout.buffer.write(store.list_body(scenario.users[0].user_id, NO_FILTER))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        check=True,
        timeout=60,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    assert out == await list_bytes(make_client, path)


async def test_changing_one_record_leaves_the_others_alone(tmp_path, make_client):
    a = write(tmp_path / "a.yaml", SCENARIO.format(name="desk"))
    b = write(tmp_path / "b.yaml", SCENARIO.format(name="renamed desk"))
    import json

    first = json.loads(await list_bytes(make_client, a))["data"]
    second = json.loads(await list_bytes(make_client, b))["data"]
    assert len(first) == len(second) == 7

    def by_id(items):
        return {i["credentialId"]: json.dumps(i, separators=(",", ":")) for i in items}

    one, two = by_id(first), by_id(second)
    assert one.keys() == two.keys()
    changed = [cid for cid in one if one[cid] != two[cid]]
    assert len(changed) == 1
    assert json.loads(two[changed[0]])["name"] == "renamed desk"


def test_adding_a_user_does_not_shift_earlier_users():
    base = {"seed": 4, "users": [{"tokens": ["a"], "credentials": [{"generate": 5}]}]}
    more = {
        "seed": 4,
        "users": [*base["users"], {"tokens": ["b"], "credentials": [{"generate": 2}]}],
    }
    first, second = load_scenario(base), load_scenario(more)
    assert second.credentials[:5] == first.credentials

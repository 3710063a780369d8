"""`generate:` blocks follow their documented byte layout (README "Generated records").

Each record of a block reads its values from SHAKE-256 of the scenario seed and its
position. The expected values here are computed independently of the loader, with
hashlib, struct and uuid, from the layout the README and `scenario/generate.py` describe,
so a change to the layout (which changes every user's generated data) cannot pass unseen.
"""

from __future__ import annotations

import hashlib
import os
import string
import struct
import subprocess
import sys
import uuid

from cadenza_mock.scenario import load_scenario, load_scenario_text

DAY_MS = 86_400_000
NOW_MS = 1_768_478_400_000  # 2026-01-15T12:00:00Z
ALNUM = string.ascii_letters + string.digits
USER = "0b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11"

BLOCKS = f"""
seed: 9
now: "2026-01-15T12:00:00Z"
users:
  - id: {USER}
    credentials:
      - generate: 3
        venue: BINANCE
      - generate: 2
        venue: OKX
        status: REVOKED
"""


def record_bytes(seed: int, user: int, entry: int, n: int) -> bytes:
    text = f"cadenza-mock:{seed}:user:{user}:credential:{entry}:{n}"
    return hashlib.shake_256(text.encode()).digest(304)


def expected_id(data: bytes) -> str:
    raw = bytearray(data[:16])
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(raw)))


def expected_times(data: bytes) -> tuple[int, int]:
    created_draw, updated_draw = struct.unpack_from("<QQ", data, 16)
    created = NOW_MS - DAY_MS - created_draw % (364 * DAY_MS + 1)
    return created, created + updated_draw % (NOW_MS - created + 1)


def text_of(data: bytes, start: int, alphabet: str, length: int) -> str:
    return "".join(alphabet[b % len(alphabet)] for b in data[start : start + length])


def test_binance_records_follow_the_layout() -> None:
    scenario = load_scenario_text(BLOCKS, name="layout")
    binance = [c for c in scenario.credentials if c.venue == "BINANCE"]
    assert len(binance) == 3
    for n, cred in enumerate(binance):
        data = record_bytes(9, 0, 0, n)
        assert cred.credential_id == expected_id(data)
        assert uuid.UUID(cred.credential_id).version == 4
        assert (cred.created_at, cred.updated_at) == expected_times(data)
        assert cred.api_key == text_of(data, 80, ALNUM, 64)
        assert cred.api_secret == text_of(data, 144, ALNUM, 64)
        assert cred.api_passphrase is None and cred.status == "ACTIVE" and cred.revoked_at is None


def test_okx_records_follow_the_layout() -> None:
    scenario = load_scenario_text(BLOCKS, name="layout")
    okx = [c for c in scenario.credentials if c.venue == "OKX"]
    assert len(okx) == 2
    for n, cred in enumerate(okx):
        data = record_bytes(9, 0, 1, n)
        assert cred.credential_id == expected_id(data)
        assert cred.api_key == expected_id(data[80:96])  # OKX keys are UUIDs
        assert cred.api_secret == text_of(data, 144, "0123456789ABCDEF", 32)
        length = 12 + (struct.unpack_from("<Q", data, 72)[0] >> 24) % 9
        assert cred.api_passphrase == text_of(data, 240, ALNUM + "!@#$%", length)
        assert cred.status == "REVOKED" and cred.revoked_at == cred.updated_at


def test_a_longer_block_keeps_the_records_of_a_shorter_one() -> None:
    short = load_scenario_text(BLOCKS, name="short").credentials
    longer = load_scenario_text(BLOCKS.replace("generate: 3", "generate: 50"), name="long")
    ids = {c.credential_id for c in longer.credentials}
    # Every record of the short file is in the long one, the second block's included.
    assert {c.credential_id for c in short} <= ids
    assert len(ids) == 52


def test_generated_ids_and_keys_are_unique_at_scale() -> None:
    creds = load_scenario("many").credentials
    assert len(creds) == 10_000
    assert len({c.credential_id for c in creds}) == 10_000
    assert len({(c.venue, c.api_key) for c in creds}) == 10_000


def test_the_same_file_gives_the_same_records_in_another_process(tmp_path) -> None:
    path = tmp_path / "blocks.yaml"
    path.write_text(BLOCKS)
    code = (
        "import sys; from cadenza_mock.scenario import load_scenario; "
        "print([(c.credential_id, c.api_key, c.name) for c in "
        "load_scenario(sys.argv[1]).credentials])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout
        for hash_seed in ("1", "2")
    }
    here = [(c.credential_id, c.api_key, c.name) for c in load_scenario(path).credentials]
    assert outputs == {f"{here}\n"}

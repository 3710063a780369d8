"""Scenario files: every documented key served over HTTP, every bad file located exactly."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from support import LIST, bearer, write

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.contract.wire import mask_api_key
from cadenza_mock.scenario import bundled_names, load_scenario

ALICE_ID = "4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11"
CRED_ID = "11111111-2222-4333-8444-555555555555"


def yaml_file(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    return write(tmp_path / name, textwrap.dedent(text).lstrip("\n"))


async def listed(client, token: str = "t1", **params) -> list[dict]:
    response = await client.get(LIST, headers=bearer(token), params=params or None)
    assert response.status == 200, await response.text()
    return json.loads(await response.read())["data"]


# --------------------------------------------------------------------------- features


async def test_explicit_record_with_every_wire_field(tmp_path, make_client):
    path = yaml_file(
        tmp_path,
        f"""
        seed: 3
        users:
          - id: {ALICE_ID}
            email: a@example.com
            tokens: [t1]
            expired_tokens: [t1-old]
            credentials:
              - credentialId: {CRED_ID}
                userId: {ALICE_ID}
                venue: KRAKEN
                name: desk
                type: BROKER
                apiKey: KRAKENKEY0123456789
                apiSecret: kraken-secret
                status: REVOKED
                createdAt: 1700000000000
                updatedAt: "2023-11-15T00:00:00Z"
                revokedAt: 1700100000000
        """,
    )
    client = await make_client(str(path))
    (item,) = await listed(client)
    assert item == {
        "credentialId": CRED_ID,
        "userId": ALICE_ID,
        "venue": "KRAKEN",
        "name": "desk",
        "type": "BROKER",
        "apiKey": "KRAKEN***",
        "status": "REVOKED",
        "createdAt": 1700000000000,
        # 2023-11-15T00:00:00Z = 19676 days * 86_400_000 ms
        "updatedAt": 19676 * 86_400_000,
    }
    response = await client.get(LIST, headers=bearer("t1-old"))
    assert response.status == 401 and "expired" in (await response.json())["error"]


async def test_aliases_nickname_and_credential_type(tmp_path, make_client):
    path = yaml_file(
        tmp_path,
        """
        users:
          - tokens: [t1]
            credentials:
              - venue: BYBIT
                nickname: aliased
                credentialType: BROKER
        """,
    )
    (item,) = await listed(await make_client(str(path)))
    assert item["name"] == "aliased" and item["type"] == "BROKER"


def test_alias_and_canonical_together_is_an_error(tmp_path):
    path = yaml_file(
        tmp_path,
        """
        users:
          - credentials:
              - venue: BYBIT
                name: a
                nickname: b
        """,
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert f"{path}:5:19:" in str(info.value) and "not both" in str(info.value)


async def test_generate_with_choice_list_and_weights(tmp_path, make_client):
    path = yaml_file(
        tmp_path,
        """
        seed: 1
        users:
          - tokens: [t1]
            credentials:
              - generate: 40
                venue: [BYBIT, COINBASE]
                type: {BROKER: 1}
                status: {ACTIVE: 1, REVOKED: 0}
        """,
    )
    items = await listed(await make_client(str(path)))
    assert len(items) == 40
    assert {i["venue"] for i in items} == {"BYBIT", "COINBASE"}  # 40 draws hit both
    assert {i["type"] for i in items} == {"BROKER"}
    assert {i["status"] for i in items} == {"ACTIVE"}  # weight 0 is never drawn


def test_weights_shape_the_mix(tmp_path):
    """Venue weights 4:3:2:1:1 and status weights 9:1 over 10,000 generated records."""
    path = yaml_file(
        tmp_path,
        """
        seed: 42
        users:
          - tokens: [t]
            credentials:
              - generate: 10000
                venue: {BINANCE: 4, OKX: 3, BYBIT: 2, COINBASE: 1, KRAKEN: 1}
                status: {ACTIVE: 9, REVOKED: 1}
        """,
    )
    creds = load_scenario(str(path)).credentials
    assert len(creds) == 10_000
    counts = {v: sum(1 for c in creds if c.venue == v) for v in ("BINANCE", "KRAKEN")}
    # Expected 3636 and 909; +-5 standard deviations is far outside any seed's luck.
    assert 3400 < counts["BINANCE"] < 3880
    assert 770 < counts["KRAKEN"] < 1050
    revoked = sum(1 for c in creds if c.status == "REVOKED")
    assert 850 < revoked < 1150


async def test_seed_changes_generated_data_and_now_anchors_it(tmp_path, make_client):
    def scenario(seed: int, now: str) -> str:
        return str(
            yaml_file(
                tmp_path,
                f"""
                seed: {seed}
                now: "{now}"
                users:
                  - tokens: [t1]
                    credentials:
                      - generate: 5
                """,
                name=f"s{seed}-{now[:4]}.yaml",
            )
        )

    a = await listed(await make_client(scenario(1, "2026-01-15T12:00:00Z")))
    b = await listed(await make_client(scenario(2, "2026-01-15T12:00:00Z")))
    assert [i["credentialId"] for i in a] != [i["credentialId"] for i in b]
    now_ms = 1768478400000  # 2026-01-15T12:00:00Z
    for item in a:
        assert now_ms - 366 * 86_400_000 <= item["createdAt"] <= item["updatedAt"] <= now_ms
    earlier = await listed(await make_client(scenario(1, "2020-01-01T00:00:00Z")))
    assert max(i["updatedAt"] for i in earlier) <= 1577836800000  # 2020-01-01


async def test_extends_relative_path_appends_users_and_replaces_keys(tmp_path, make_client):
    yaml_file(
        tmp_path,
        """
        description: base
        seed: 5
        users:
          - email: base@example.com
            tokens: [base-token]
            credentials:
              - venue: BINANCE
                name: from base
        """,
        name="base.yaml",
    )
    (tmp_path / "child").mkdir()
    child = yaml_file(
        tmp_path,
        """
        extends: ../base.yaml
        description: child
        users:
          - email: child@example.com
            tokens: [t1]
            credentials:
              - venue: OKX
                name: from child
        """,
        name="child/child.yaml",
    )
    scenario = load_scenario(child)
    assert scenario.description == "child" and scenario.seed == 5
    assert [u.email for u in scenario.users] == ["base@example.com", "child@example.com"]
    client = await make_client(str(child))
    assert [i["name"] for i in await listed(client, "base-token")] == ["from base"]
    assert [i["name"] for i in await listed(client, "t1")] == ["from child"]


def test_extends_bundled_name(tmp_path):
    child = yaml_file(
        tmp_path,
        """
        extends: default
        description: more users
        users:
          - email: extra@example.com
            tokens: [extra]
        """,
    )
    scenario = load_scenario(child)
    default = load_scenario("default")
    assert scenario.extends == ("default",)
    assert scenario.credentials == default.credentials  # same seed, same positions
    assert [u.email for u in scenario.users] == ["alice@example.com", "extra@example.com"]


async def test_mask_keep_and_pasted_masked_keys(tmp_path, make_client):
    path = yaml_file(
        tmp_path,
        """
        mask_keep: 2
        users:
          - tokens: [t1]
            credentials:
              - venue: BINANCE
                apiKey: abcdefghijkl
              - venue: BYBIT
                apiKey: abc123***
              - venue: COINBASE
                apiKey: abc
        """,
    )
    keys = sorted(i["apiKey"] for i in await listed(await make_client(str(path))))
    # 2 kept; a pasted masked key is served as is; never more than half of a short key.
    assert keys == ["a***", "ab***", "abc123***"]


def test_mask_rule():
    assert mask_api_key("your-api-key") == "your-a***"
    assert mask_api_key("abc123def456") == "abc123***"
    assert mask_api_key("abcd") == "ab***"
    # A key that merely ends in *** is still masked: only keys pasted masked into a
    # scenario are served verbatim (test_mask_keep_and_pasted_masked_keys), never client keys.
    assert mask_api_key("xyz789***") == "xyz7***"
    assert mask_api_key("abcdefgh", keep=0) == "***"


async def test_okx_with_passphrase_is_fine_and_secrets_stay_inside(tmp_path, make_client):
    path = yaml_file(
        tmp_path,
        """
        users:
          - tokens: [t1]
            password: hunter2-password
            credentials:
              - venue: OKX
                apiKey: 0f5e9a7c-3b1d-4e2f-8a6b-9c0d1e2f3a4b
                apiSecret: okx-secret-value
                apiPassphrase: okx-passphrase-value
        """,
    )
    client = await make_client(str(path))
    raw = await (await client.get(LIST, headers=bearer("t1"))).text()
    for secret in ("okx-secret-value", "okx-passphrase-value", "0f5e9a7c-3b1d", "hunter2"):
        assert secret not in raw
    assert json.loads(raw)["data"][0]["apiKey"] == "0f5e9a***"


def test_every_bundled_scenario_loads():
    names = bundled_names()
    assert {"default", "empty", "revoked", "multi-user", "auth-errors", "many"} <= set(names)
    for name in names:
        if name != "many":  # loaded once per session by the many_scenario fixture
            assert load_scenario(name).name == name


def test_inline_dict_scenario():
    scenario = load_scenario({"users": [{"tokens": ["x"], "credentials": [{"generate": 2}]}]})
    assert scenario.token == "x" and len(scenario.credentials) == 2


def test_empty_file_is_an_empty_scenario(tmp_path):
    scenario = load_scenario(yaml_file(tmp_path, ""))
    assert scenario.users == () and scenario.credentials == ()


# --------------------------------------------------------------------------- bad files

BAD = [
    # (name, yaml, line, column, words in the message)
    (
        "yaml syntax",
        "seed: 1\nusers: [\n  {email: a@example.com\n",
        4,
        1,
        ["invalid YAML", "started at line 3, column 3"],
    ),
    ("yaml tab", "seed: 1\nusers:\n\t- email: a\n", 3, 1, ["invalid YAML"]),
    ("unknown top key", "seed: 1\ncolour: blue\n", 2, 1, ["unknown key 'colour'", "users"]),
    ("unknown user key", "users:\n  - nick: x\n", 2, 5, ["unknown key 'nick'", "email"]),
    (
        "unknown record key",
        "users:\n  - credentials:\n      - venue: OKX\n        secret: x\n",
        4,
        9,
        ["unknown key 'secret'", "apiSecret"],
    ),
    ("seed not int", "seed: seven\n", 1, 7, ["seed", "expected int"]),
    ("seed bool", "seed: true\n", 1, 7, ["expected int"]),
    ("tokens not list", "users:\n  - tokens: abc\n", 2, 13, ["expected a list"]),
    ("users not list", "users: {a: 1}\n", 1, 8, ["expected a list"]),
    ("bad now", "now: yesterday\n", 1, 6, ["ISO-8601"]),
    ("negative mask", "mask_keep: -1\n", 1, 12, ["negative"]),
    ("unknown profile", "profile: fancy\n", 1, 10, ["docs, sdk"]),
    (
        "unknown venue",
        "users:\n  - credentials:\n      - venue: BINANC\n",
        3,
        16,
        ["unknown venue 'BINANC'", "BINANCE, OKX, BYBIT, COINBASE, KRAKEN", "did you mean"],
    ),
    (
        "sdk venue in docs profile",
        "users:\n  - credentials:\n      - venue: B2C2\n",
        3,
        16,
        ["venue 'B2C2' is an sdk-profile value: set `profile: sdk`", "BINANCE, OKX"],
    ),
    (
        "unknown status",
        "users:\n  - credentials:\n      - venue: OKX\n        status: DELETED\n",
        4,
        17,
        ["unknown status 'DELETED'", "ACTIVE, REVOKED"],
    ),
    (
        "unknown type",
        "users:\n  - credentials:\n      - venue: OKX\n        type: WALLET\n",
        4,
        15,
        ["unknown type 'WALLET'", "EXCHANGE, BROKER"],
    ),
    (
        "unknown venue in choice list",
        "users:\n  - credentials:\n      - generate: 2\n        venue: [OKX, FTX]\n",
        4,
        22,
        ["unknown venue 'FTX'"],
    ),
    (
        "unknown status in weights",
        "users:\n  - credentials:\n      - generate: 2\n        status: {ACTIVE: 1, GONE: 1}\n",
        4,
        29,
        ["unknown status 'GONE'"],
    ),
    (
        "generate not int",
        "users:\n  - credentials:\n      - generate: lots\n",
        3,
        19,
        ["expected int"],
    ),
    (
        "okx without passphrase",
        "users:\n  - credentials:\n      - venue: OKX\n        apiKey: k\n        apiSecret: s\n",
        3,
        9,
        ["OKX", "apiPassphrase"],
    ),
    (
        "duplicate token across users",
        "users:\n  - tokens: [same]\n  - tokens: [other, same]\n",
        3,
        21,
        ["token 'same' is given twice"],
    ),
    ("duplicate key", "seed: 1\nusers: []\nseed: 2\n", 3, 1, ["seed", "given twice"]),
    (
        "duplicate credentialId",
        f"users:\n  - credentials:\n      - {{venue: OKX, credentialId: {CRED_ID}}}\n"
        f"      - {{venue: OKX, credentialId: {CRED_ID}}}\n",
        4,
        36,
        ["given twice"],
    ),
    ("bad user id", "users:\n  - id: alice\n", 2, 9, ["expected a UUID"]),
    (
        "updated before created",
        "users:\n  - credentials:\n      - venue: OKX\n        createdAt: 1703052635110\n"
        "        updatedAt: 1703052635000\n",
        5,
        20,
        ["updatedAt is before createdAt"],
    ),
    # ISO twins must stay renderable and the clock must have room to move
    ("now out of range", "now: 9999999999999999\n", 1, 6, ["out of range", "1971", "9000"]),
    ("now before 1971", 'now: "1970-01-02T00:00:00Z"\n', 1, 6, ["out of range"]),
    ("not a mapping at the top", "just text\n", 1, 1, ["not a scenario", "a single value"]),
    ("missing extends file", "seed: 1\nextends: nothere.yaml\n", 2, 10, ["no such scenario file"]),
    ("unknown bundled base", "extends: defualt\n", 1, 10, ["no bundled scenario", "'default'"]),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_scenario_is_located(tmp_path, text, line, column, words):
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    first = info.value.issues[0]
    assert (first.file, first.line, first.column) == (str(path), line, column), str(info.value)
    assert str(first).startswith(f"{path}:{line}:{column}: ")
    for word in words:
        assert word in first.message, first.message


def test_all_problems_are_reported_in_file_order(tmp_path):
    path = write(
        tmp_path / "bad.yaml",
        "colour: blue\nseed: x\nusers:\n  - credentials:\n      - venue: FTX\n"
        "      - venue: OKX\n        status: GONE\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    where = [(i.line, i.column) for i in info.value.issues]
    assert where == [(1, 1), (2, 7), (5, 16), (7, 17)]


def test_extends_cycle_is_reported_at_the_closing_extends(tmp_path):
    a = write(tmp_path / "a.yaml", "extends: b.yaml\n")
    (tmp_path / "sub").mkdir()
    # A differently spelled path to a.yaml must still be seen as the same file.
    write(tmp_path / "b.yaml", "seed: 1\nextends: ./sub/../a.yaml\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(a)
    (issue,) = info.value.issues
    assert (Path(issue.file).name, issue.line, issue.column) == ("b.yaml", 2, 10)
    assert "extends cycle" in issue.message


def test_self_extends_is_a_cycle(tmp_path):
    a = write(tmp_path / "a.yaml", "extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="extends cycle"):
        load_scenario(a)


def test_problem_in_base_file_points_into_the_base(tmp_path):
    write(tmp_path / "base.yaml", "seed: 1\nusers:\n  - credentials:\n      - venue: FTX\n")
    child = write(tmp_path / "child.yaml", "extends: base.yaml\ndescription: c\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    (issue,) = info.value.issues
    assert (Path(issue.file).name, issue.line, issue.column) == ("base.yaml", 4, 16)


def test_missing_file_has_no_fake_position(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(missing)
    assert str(info.value) == f"{missing}: no such scenario file"


def test_unknown_bundled_name_suggests():
    with pytest.raises(ScenarioError, match="did you mean 'revoked'"):
        load_scenario("revokd")


def test_pasted_sdk_record_with_iso_twins(tmp_path):
    path = yaml_file(
        tmp_path,
        """
        users:
          - credentials:
              - venue: BINANCE
                createdAtDateTime: "2023-12-20T06:10:35.110Z"
                updatedAt: 1703052635110
                updatedAtDateTime: "2023-12-20T06:10:35.110Z"
                revokedAtDateTime: null
        """,
    )
    (cred,) = load_scenario(path).credentials
    # 2023-12-20T06:10:35.110Z is 1703052635110 ms: the twin and the integer agree.
    assert cred.created_at == cred.updated_at == 1703052635110
    assert cred.revoked_at is None


def test_disagreeing_iso_twin_is_an_error(tmp_path):
    path = yaml_file(
        tmp_path,
        """
        users:
          - credentials:
              - venue: BINANCE
                createdAt: 1703052635110
                createdAtDateTime: "2024-01-01T00:00:00Z"
        """,
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert f"{path}:5:28: " in str(info.value) and "disagree" in str(info.value)


@pytest.mark.parametrize("profile", ["docs", "sdk"])
def test_bundled_scenarios_serve_in_both_profiles(profile, many_scenario):
    """`--profile sdk` / `--cadenza-profile sdk` work with every bundled scenario, except
    the `sdk` one, which is written in the sdk vocabulary on purpose."""
    from cadenza_mock.contract.model import PROFILES
    from cadenza_mock.scenario import bundled_names

    names = [n for n in bundled_names() if n != "sdk" and n != "many"]
    assert {"default", "empty", "revoked", "multi-user", "auth-errors"} <= set(names)
    for name in names:
        scenario = load_scenario(name, profile=profile)
        assert scenario.profile == profile
        for cred in scenario.credentials:
            assert cred.venue in PROFILES[profile].venues
            assert cred.type in PROFILES[profile].types
            assert cred.status in PROFILES[profile].statuses
    # `many` is large: its docs load is shared with other tests, its sdk load checked once
    if profile == "sdk":
        assert len(load_scenario("many", profile="sdk").credentials) == 10_000
    else:
        assert many_scenario.profile == "docs" and len(many_scenario.credentials) == 10_000


def test_uuids_are_matched_whole():
    from cadenza_mock.scenario import is_uuid

    good = "660e8400-e29b-41d4-a716-446655440000"
    assert is_uuid(good) and is_uuid(good.upper())
    for bad in (good + "\n", " " + good, good[:-1], good + "0", good.replace("-", "")):
        assert not is_uuid(bad), repr(bad)

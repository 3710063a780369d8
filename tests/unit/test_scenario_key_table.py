"""The scenario keys' one declaration (`scenario/keys.py`), without a server: the docs'
key tables say what it says, the builders and the admin API's schema take their keys from
it, and its simple keys are read and checked by its readers."""

from __future__ import annotations

import doc_examples
import pytest
import yaml

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.scenario import accounts, build, keys, load_scenario, records
from cadenza_mock.scenario.nodes import Problems, mapping
from cadenza_mock.specs.openapi_scenario import scenario_file_schema


def _readme_rows(title: str) -> dict[str, list[str]]:
    """A docs section's table rows (not its header), by their key cell."""
    body = doc_examples.section(title).body
    lines = [line for line in body.splitlines() if line.startswith("| ")]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[1:]]
    return {row[0]: row[1:] for row in rows}


def _quoted(group: list[keys.ScenarioKey]) -> str:
    return ", ".join(f"`{key.name}`" for key in group)


def _declared_rows(table: tuple[keys.ScenarioKey, ...], columns: int) -> dict[str, list[str]]:
    """What the docs' table must say: key | type | default | meaning where the table
    has those columns, else key | alias (other spellings, ISO twins) | meaning."""
    rows = {}
    for group in keys.row_groups(table):
        own = [k for k in group if k.alias_of is None and k.twin_of is None]
        spelt = [k for k in group if k not in own]
        first = own[0]
        if columns == 4:
            rows[_quoted(own)] = [first.type, first.default, first.doc]
        else:
            rows[_quoted(own)] = [_quoted(spelt), first.doc]
    return rows


@pytest.mark.parametrize("title", sorted(keys.TABLES))
def test_the_docs_table_says_what_the_declaration_says(title: str) -> None:
    shown = _readme_rows(title)
    columns = 1 + len(next(iter(shown.values())))
    expected = _declared_rows(keys.TABLES[title], columns)
    table = "\n".join(f"| {key} | {' | '.join(rest)} |" for key, rest in expected.items())
    assert shown == expected, f"the docs' section {title!r} should have these rows:\n{table}"


def test_the_builders_allow_the_declared_keys_in_order() -> None:
    assert keys.names(keys.TOP) == build.TOP_KEYS
    assert keys.names(keys.USER) == build.USER_KEYS
    assert keys.names(keys.CREDENTIAL) == records.RECORD_KEYS
    assert keys.names(keys.TRADING_ACCOUNT) == accounts.ACCOUNT_KEYS
    assert records.GENERATE_KEYS == (
        "generate",
        "venue",
        "type",
        "status",
        "keys_valid",
        "venue_outcome",
    )
    assert accounts.GENERATE_KEYS == ("generate", "venue", "status")
    assert keys.aliases(keys.CREDENTIAL) == {"nickname": "name", "credentialType": "type"}


def test_every_alias_and_twin_names_a_key_before_it() -> None:
    for table in keys.TABLES.values():
        seen: set[str] = set()
        for key in table:
            meant = key.alias_of or key.twin_of
            assert meant is None or meant in seen, key.name
            assert (key.read is None) == (key.attr is None), key.name
            seen.add(key.name)
        assert len(seen) == len(table)


def test_the_admin_schema_names_every_declared_key() -> None:
    schema = scenario_file_schema()
    assert schema["propertyNames"]["enum"] == list(keys.names(keys.TOP))
    user = schema["properties"]["users"]["items"]
    assert user["propertyNames"]["enum"] == list(keys.names(keys.USER))
    for name, table in (
        ("credentials", keys.CREDENTIAL),
        ("trading_accounts", keys.TRADING_ACCOUNT),
    ):
        entry = user["properties"][name]["items"]
        assert entry["propertyNames"]["enum"] == [*keys.names(table), "generate"]
        assert set(entry["properties"]) == {*keys.names(table), "generate"}
    venues = schema["properties"]["venues"]["description"]
    assert "(see Venue outcomes)" in venues and "](#" not in venues  # links made plain


def _read(
    table: tuple[keys.ScenarioKey, ...], text: str
) -> tuple[dict[str, object], bool, list[str]]:
    problems = Problems("t.yaml")
    node = yaml.compose(text)
    fields = mapping(node, "", keys.names(table), problems)
    assert fields is not None
    values, ok = keys.read_declared(table, fields, "", problems)
    return values, ok, [issue.message for issue in problems.issues]


def test_absent_simple_keys_read_as_their_defaults() -> None:
    for table, text in ((keys.USER, "email: a@example.com"), (keys.TOP, "users: []")):
        values, ok, problems = _read(table, text)
        assert ok and problems == []
        assert values == {key.attr: key.value for key in table if key.attr is not None}
    values, _, _ = _read(keys.USER, "email: a@example.com")
    assert values["role"] == "authenticated" and values["password"] is None
    values, _, _ = _read(keys.TOP, "users: []")
    assert (values["profile"], values["mask_keep"], values["now"]) == ("docs", 6, None)


def test_given_simple_keys_are_read_checked_and_named_by_attribute() -> None:
    values, ok, problems = _read(
        keys.CREDENTIAL, "venue: OKX\nkeys_valid: false\nvenue_outcome: timeout"
    )
    assert ok and problems == []
    assert values == {"keys_valid": False, "venue_outcome": "timeout"}
    values, ok, _ = _read(keys.TOP, 'now: "2026-01-15T12:00:00Z"\nmask_keep: 2\nprofile: sdk')
    assert ok and values["now"] == 1768478400000 and values["mask_keep"] == 2
    assert values["profile"] == "sdk"
    values, ok, _ = _read(keys.USER, "role: ''\nenvironments: [prod, uat]")
    assert ok and values["role"] == "authenticated" and values["environments"] == ("prod", "uat")


def test_a_wrong_simple_key_is_a_problem_and_its_default() -> None:
    values, ok, problems = _read(keys.CREDENTIAL, "keys_valid: maybe\nvenue_outcome: tiemout")
    assert not ok
    assert values == {"keys_valid": True, "venue_outcome": "ok"}
    assert problems[0] == "keys_valid: expected bool, got str 'maybe'"
    assert problems[1].startswith("venue_outcome: unknown venue outcome 'tiemout' (allowed: ok,")
    assert problems[1].endswith("did you mean 'timeout'?")
    _, ok, problems = _read(keys.TOP, "mask_keep: -1")
    assert not ok and problems == ["mask_keep: cannot be negative"]


def test_a_secret_key_is_never_quoted_in_its_problem() -> None:
    _, ok, problems = _read(keys.USER, "password: 123456789")
    assert not ok and problems == ["password: expected str, got int (value not shown: a secret)"]


def test_a_scenario_built_from_the_declared_keys_holds_their_values() -> None:
    scenario = load_scenario(
        {
            "description": "d",
            "seed": 3,
            "mask_keep": 4,
            "users": [
                {
                    "email": "a@example.com",
                    "role": "admin",
                    "tenant_id": "t1",
                    "environments": ["prod"],
                    "credentials": [
                        {"venue": "BINANCE", "keys_valid": False, "venue_outcome": "maintenance"}
                    ],
                }
            ],
        }
    )
    assert (scenario.description, scenario.seed, scenario.mask_keep) == ("d", 3, 4)
    user = scenario.users[0]
    assert (user.role, user.tenant_id, user.environments) == ("admin", "t1", ("prod",))
    cred = scenario.credentials[0]
    assert not cred.keys_valid and cred.venue_outcome == "maintenance"
    with pytest.raises(ScenarioError, match=r"users\[0\]\.credentials\[0\]\.keys_valid"):
        load_scenario({"users": [{"credentials": [{"venue": "BINANCE", "keys_valid": 1}]}]})

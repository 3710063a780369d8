"""Scenario errors: every bad input gives one exact, located message,
through `load_scenario`, `MockServer` and the real `cadenza-mock` process alike."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import run_cli, write

from cadenza_mock import MockServer
from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.scenario import bundled_dir, bundled_names, load_scenario

SECRET = "s3cr3t-never-shown"


def problems_of(source: object, **options: object) -> list[str]:
    """Every problem line `load_scenario` reports for `source` (it must fail)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, **options)  # type: ignore[arg-type]
    return [str(issue) for issue in info.value.issues]


def scenario_file(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    return write(tmp_path / name, textwrap.dedent(text).lstrip("\n"))


# --------------------------------------------------------------------------- folders


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder of scenarios, as mounted at /scenarios in the container."""
    mounted = tmp_path / "scenarios"
    mounted.mkdir()
    write(mounted / "checkout.yaml", "description: checkout\nusers: [{tokens: [c-token]}]\n")
    write(mounted / "auth.yml", "description: auth\n")
    write(mounted / "notes.txt", "not a scenario\n")
    (mounted / "sub.yaml").mkdir()  # a folder named like a file is not listed
    return mounted


def folder_message(path: Path) -> str:
    return (
        f"is a folder, not a scenario file; its scenario files: auth.yml, checkout.yaml "
        f"(name one, e.g. {path}/auth.yml)"
    )


def test_a_folder_names_its_scenario_files(folder):
    assert problems_of(folder) == [f"{folder}: {folder_message(folder)}"]
    assert problems_of(str(folder) + "/") == [f"{folder}: {folder_message(folder)}"]
    # Nothing else broke: a file of the listing loads.
    assert load_scenario(folder / "checkout.yaml").token == "c-token"


def test_an_empty_folder_says_it_holds_no_scenario_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert problems_of(empty) == [
        f"{empty}: is a folder, not a scenario file, and it holds no scenario files "
        "(*.yaml or *.yml)"
    ]


def test_a_folder_named_like_a_bundled_scenario(folder):
    result = run_cli("validate", "scenarios", cwd=folder.parent)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "scenarios: is a folder, not a scenario file; its scenario files: auth.yml, "
        "checkout.yaml (name one, e.g. scenarios/auth.yml)"
    )


def test_extends_naming_a_folder_is_reported_at_the_extends_line(folder):
    child = write(folder.parent / "child.yaml", "seed: 1\nextends: scenarios/\n")
    assert problems_of(child) == [f"{child}:2:10: extends: {folder}: {folder_message(folder)}"]


def test_mock_server_reports_a_folder_the_same_way(folder):
    with pytest.raises(ScenarioError) as info, MockServer(folder):
        pass
    assert str(info.value) == f"{folder}: {folder_message(folder)}"


def test_serve_with_a_folder_is_one_line_and_exit_2(folder):
    result = run_cli("serve", "--port", "0", "--scenario", str(folder))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"cadenza-mock serve: --scenario {folder}: {folder_message(folder)}; "
        f"--scenario-dir {folder} lets the admin API load them\n"
    )


def test_the_container_slip_names_the_variable(folder):
    result = run_cli("serve", "--port", "0", env={"CADENZA_MOCK_SCENARIO": str(folder)})
    assert result.returncode == 2
    assert result.stderr == (
        f"cadenza-mock serve: CADENZA_MOCK_SCENARIO={str(folder)!r}: "
        f"{folder_message(folder)}; --scenario-dir {folder} lets the admin API load them\n"
    )


def test_serve_with_an_empty_folder(tmp_path):
    result = run_cli("serve", "--port", "0", "--scenario", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"cadenza-mock serve: --scenario {tmp_path}: is a folder, not a scenario file, and "
        "it holds no scenario files (*.yaml or *.yml)\n"
    )


# --------------------------------------------------------------------------- fault users

USERS = """
users:
  - email: alice@example.com
    id: 4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11
  - email: bob@example.com
"""


def test_a_fault_naming_no_user_of_the_file_is_located(tmp_path):
    path = scenario_file(
        tmp_path,
        USERS
        + """
faults:
  - match: {user: carol@example.com}
    drop: true
""",
    )
    assert problems_of(path) == [
        f"{path}:7:19: faults[0].match.user: no user 'carol@example.com' in this scenario "
        "(users: alice@example.com, bob@example.com)"
    ]


def test_a_fault_user_from_an_extended_file_counts(tmp_path):
    scenario_file(tmp_path, USERS, "base.yaml")
    child = scenario_file(
        tmp_path,
        """
        extends: base.yaml
        faults:
          - match: {user: BOB@example.com}
            drop: true
          - match: {user: 4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11}
            drop: true
        """,
    )
    assert len(load_scenario(child).faults) == 2


def test_a_fault_user_in_a_file_without_users(tmp_path):
    path = scenario_file(tmp_path, "faults:\n  - {match: {user: nobody}, drop: true}\n")
    assert problems_of(path) == [
        f"{path}:2:20: faults[0].match.user: no user 'nobody' in this scenario (users: none)"
    ]


def test_add_fault_refuses_an_unknown_user_with_the_same_words():
    with MockServer("multi-user") as mock:
        with pytest.raises(ValueError) as info:
            mock.add_fault({"match": {"user": "dave@example.com"}, "drop": True})
        emails = ", ".join(user.email for user in mock.scenario.users)
        assert str(info.value) == (
            f"match.user: no user 'dave@example.com' in this scenario (users: {emails})"
        )
        assert mock.faults == []
        assert mock.add_fault({"match": {"user": mock.scenario.users[0].email}, "drop": True})


# --------------------------------------------------------------------------- YAML syntax

SYNTAX = [
    (
        "a key indented less than its siblings",
        "users:\n  - email: a@example.com\n   tokens: [t]\n",
        3,
        4,
        "this line's indentation does not match the lines above it (expected a key at the "
        "indentation of line 2, column 5, or at column 3 or 1 to close that block)",
    ),
    (
        "a key indented more than its siblings",
        "users:\n  - email: a@example.com\n      tokens: [t]\n",
        3,
        7,
        "this line's indentation does not match the lines above it (expected a key at the "
        "indentation of line 2, column 5, or at column 3 or 1 to close that block)",
    ),
    (
        "an indented top-level key",
        "seed: 1\n  users: []\n",
        2,
        3,
        "this line's indentation does not match the lines above it (expected a key at the "
        "indentation of line 1, column 1)",
    ),
    (
        "a list item between two levels",
        "users:\n    - email: a@example.com\n  - email: b@example.com\n",
        3,
        3,
        "this line's indentation does not match the lines above it (expected a key at the "
        "indentation of line 2, column 7, or at column 5 or 1 to close that block)",
    ),
    (
        "a list item among keys",
        "seed: 1\n- a\n",
        2,
        1,
        "a list item among keys: put the list under a key of its own (`key:`, then `- item` lines)",
    ),
    (
        "a key among list items",
        "users:\n  - tokens: [t]\n  email: a@example.com\n",
        3,
        3,
        "a key among list items: start it with `- ` for a new item, or indent it further to "
        "belong to the item above",
    ),
    (
        "a key without its colon",
        "seed: 1\nusers\ndescription: x\n",
        2,
        1,
        "this line has no ':' after its key: write `key: value` (or `- item`)",
    ),
    (
        "a key without a colon, then a key",
        "seed 1\nusers: []\n",
        1,
        1,
        "this line has no ':' after its key, so line 2 is read as part of it: write "
        "`key: value` (or quote the text)",
    ),
    (
        "a colon inside a value",
        "description: checkout: the happy path\n",
        1,
        22,
        "a second ': ' on this line: a value that contains ': ' must be quoted",
    ),
    (
        "an unclosed quote",
        'description: "checkout\nseed: 1\n',
        1,
        14,
        "this quoted value is never closed: add the closing quote",
    ),
    (
        "an unclosed flow mapping",
        "seed: 1\nusers: [\n  {email: a@example.com\n",
        4,
        1,
        "expected ',' or '}' here: the `{` that started at line 3, column 3 is still open",
    ),
    (
        "a tab",
        "seed: 1\nusers:\n\t- email: a@example.com\n",
        3,
        1,
        "a tab character: YAML indents with spaces only",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [case[1:] for case in SYNTAX],
    ids=[case[0] for case in SYNTAX],
)
def test_syntax_errors_read_as_the_fix(tmp_path, text, line, column, message):
    path = write(tmp_path / "bad.yaml", text)
    assert problems_of(path) == [f"{path}:{line}:{column}: invalid YAML: {message}"]
    # The same text as an admin-style body is located the same way.
    from cadenza_mock.scenario import load_scenario_text

    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, name="body")
    assert [str(i) for i in info.value.issues] == [f"body:{line}:{column}: invalid YAML: {message}"]


def test_syntax_errors_never_quote_a_secret(tmp_path):
    for text in (
        f'users:\n  - credentials:\n      - venue: BINANCE\n        apiSecret: "{SECRET}\n',
        f"users:\n  - credentials:\n      - venue: BINANCE\n       apiSecret: {SECRET}\n",
        f"users:\n  - password: {SECRET}: more\n",
        f"users:\n  - password: [{SECRET}\n",
    ):
        path = write(tmp_path / "bad.yaml", text)
        (problem,) = problems_of(path)
        assert problem.startswith(f"{path}:") and "invalid YAML: " in problem
        assert SECRET not in problem


def test_problems_under_a_misspelled_key_are_reported_in_the_same_pass(tmp_path):
    path = scenario_file(
        tmp_path,
        """
        seed: 1
        usres:
          - emial: a@example.com
            credentails:
              - venue: BINANC
                stauts: ACTIVE
        faults:
          - respnd: {status: 200}
        """,
    )
    assert problems_of(path) == [
        f"{path}:2:1: usres: unknown key 'usres' (allowed: description, seed, now, extends, "
        "profile, mask_keep, venues, market, users, faults, replay); did you mean 'users'?",
        f"{path}:3:5: users[0].emial: unknown key 'emial' (allowed: id, email, password, "
        "role, tenant_id, environments, tokens, expired_tokens, credentials, "
        "trading_accounts); did you mean 'email'?",
        f"{path}:4:5: users[0].credentails: unknown key 'credentails' (allowed: id, email, "
        "password, role, tenant_id, environments, tokens, expired_tokens, credentials, "
        "trading_accounts); did you mean 'credentials'?",
        f"{path}:5:16: users[0].credentials[0].venue: unknown venue 'BINANC' (allowed: "
        "BINANCE, OKX, BYBIT, COINBASE, KRAKEN); did you mean 'BINANCE'?",
        f"{path}:6:9: users[0].credentials[0].stauts: unknown key 'stauts' (allowed: "
        "credentialId, userId, venue, name, nickname, type, credentialType, apiKey, "
        "apiSecret, apiPassphrase, status, createdAt, updatedAt, revokedAt, "
        "createdAtDateTime, updatedAtDateTime, revokedAtDateTime, keys_valid, "
        "venue_outcome); did you mean 'status'?",
        f"{path}:8:5: faults[0].respnd: unknown key 'respnd' (allowed: id, match, respond, "
        "delay, rate_limit, drop, malformed, slow_body, venue, times, after, probability); "
        "did you mean 'respond'?",
        f"{path}:8:22: faults[0].respond.status: expected an error status 400 to 599, got "
        "200 (the error envelope is only sent with an error status)",
    ]


def test_a_misspelled_key_beside_the_real_one_is_not_read_twice(tmp_path):
    path = scenario_file(tmp_path, "users: []\nusres:\n  - emial: x\n")
    assert problems_of(path) == [
        f"{path}:2:1: usres: unknown key 'usres' (allowed: description, seed, now, extends, "
        "profile, mask_keep, venues, market, users, faults, replay); did you mean 'users'?"
    ]


def test_a_file_of_only_misspelled_keys_is_still_a_scenario(tmp_path):
    path = scenario_file(tmp_path, "user:\n  - emial: x\n")
    assert [p.split(": ", 2)[1] for p in problems_of(path)] == ["user", "users[0].emial"]
    other = write(tmp_path / "compose.yaml", "services:\n  app: {image: x}\n")
    assert problems_of(other) == [
        f"{other}:1:1: not a scenario: none of its top-level keys is a scenario key "
        "(allowed: description, seed, now, extends, profile, mask_keep, venues, market, users, "
        "faults, replay)"
    ]


# --------------------------------------------------------------------------- inline, names


def test_inline_scenarios_name_the_key_path_without_line_numbers():
    inline = {
        "users": [
            {"email": "a@example.com", "credentials": [{"venue": "OKX"}, {"venue": "NYSE"}]},
            {"emial": "b@example.com", "password": 5},
        ],
        "seed": "seven",
    }
    # In the order the checks run (settings first), each named by its key path.
    assert problems_of(inline) == [
        "<inline>: seed: expected int, got str 'seven'",
        "<inline>: users[0].credentials[1].venue: unknown venue 'NYSE' (allowed: BINANCE, "
        "OKX, BYBIT, COINBASE, KRAKEN)",
        "<inline>: users[1].emial: unknown key 'emial' (allowed: id, email, password, role, "
        "tenant_id, environments, tokens, expired_tokens, credentials, trading_accounts); "
        "did you mean 'email'?",
        "<inline>: users[1].password: expected str, got int (value not shown: a secret)",
    ]


def test_inline_extends_and_non_plain_values():
    (problem,) = problems_of({"extends": "nope.yaml"})
    assert problem.startswith("<inline>: extends: nope.yaml: no such scenario file")
    assert f"(relative to the working directory {Path.cwd()};" in problem
    assert problems_of({"seed": object()}) == [
        "<inline>: not plain data: use str, int, float, bool, None, lists and dicts"
    ]
    # A good inline scenario still loads, named <inline>.
    assert load_scenario({"users": [{"tokens": ["t"]}]}).name == "<inline>"


def test_a_path_scenario_is_named_by_its_file_name(tmp_path, monkeypatch):
    path = scenario_file(tmp_path, "description: mine\n", "mine.yaml")
    assert load_scenario(path).name == "mine.yaml"
    assert load_scenario(str(path)).source == str(path)  # where it came from, in full
    monkeypatch.chdir(tmp_path)
    assert load_scenario("./mine.yaml").name == "mine.yaml"
    write(tmp_path / "mine.yaml", "seed: x\n")
    assert problems_of("./mine.yaml") == ["mine.yaml:1:7: seed: expected int, got str 'x'"]


# --------------------------------------------------------------------------- near misses

DOCS_VENUES = "BINANCE, OKX, BYBIT, COINBASE, KRAKEN"


def test_a_value_of_the_other_profile_says_which_profile(tmp_path):
    path = scenario_file(
        tmp_path,
        """
        users:
          - credentials:
              - venue: B2C2
              - venue: OKX
                type: API_KEY
                status: EXPIRED
              - generate: 2
                venue: [OKX, IBKR_PAPER]
                status: {ACTIVE: 1, CREATED: 1}
        """,
    )
    assert problems_of(path) == [
        f"{path}:3:16: users[0].credentials[0].venue: venue 'B2C2' is an sdk-profile value: "
        f"set `profile: sdk` (allowed in this profile: {DOCS_VENUES})",
        f"{path}:5:15: users[0].credentials[1].type: type 'API_KEY' is an sdk-profile value: "
        "set `profile: sdk` (allowed in this profile: EXCHANGE, BROKER)",
        f"{path}:6:17: users[0].credentials[1].status: status 'EXPIRED' is an sdk-profile "
        "value: set `profile: sdk` (allowed in this profile: ACTIVE, REVOKED)",
        f"{path}:8:22: users[0].credentials[2].venue[1]: venue 'IBKR_PAPER' is an sdk-profile "
        f"value: set `profile: sdk` (allowed in this profile: {DOCS_VENUES})",
        f"{path}:9:29: users[0].credentials[2].status: status 'CREATED' is an sdk-profile "
        "value: set `profile: sdk` (allowed in this profile: ACTIVE, REVOKED)",
    ]
    # Set as told, the file loads.
    fixed = write(tmp_path / "fixed.yaml", "profile: sdk\n" + path.read_text())
    assert len(load_scenario(fixed).credentials) == 4


def test_a_docs_value_under_the_sdk_profile_says_docs():
    inline = {"users": [{"credentials": [{"venue": "KRAKEN", "type": "BROKER"}]}]}
    problems = problems_of(inline, profile="sdk")
    assert [p.split(" (allowed")[0] for p in problems] == [
        "<inline>: users[0].credentials[0].venue: venue 'KRAKEN' is a docs-profile value: "
        "set `profile: docs`",
        "<inline>: users[0].credentials[0].type: type 'BROKER' is a docs-profile value: "
        "set `profile: docs`",
    ]
    assert load_scenario(inline, profile="docs").credentials[0].venue == "KRAKEN"


def test_case_only_mistakes_get_a_did_you_mean(tmp_path):
    path = scenario_file(
        tmp_path,
        """
        users:
          - credentials:
              - venue: binance
                status: active
                type: Exchange
        """,
    )
    assert problems_of(path) == [
        f"{path}:3:16: users[0].credentials[0].venue: unknown venue 'binance' (allowed: "
        f"{DOCS_VENUES}); did you mean 'BINANCE'?",
        f"{path}:4:17: users[0].credentials[0].status: unknown status 'active' (allowed: "
        "ACTIVE, REVOKED); did you mean 'ACTIVE'?",
        f"{path}:5:15: users[0].credentials[0].type: unknown type 'Exchange' (allowed: "
        "EXCHANGE, BROKER); did you mean 'EXCHANGE'?",
    ]


def test_a_trading_account_venue_of_the_other_profile(tmp_path):
    path = scenario_file(
        tmp_path,
        """
        users:
          - credentials:
              - {venue: OKX, name: main}
            trading_accounts:
              - {generate: 1, venue: DERIBIT}
        """,
    )
    assert problems_of(path) == [
        f"{path}:5:30: users[0].trading_accounts[0].venue: venue 'DERIBIT' is an sdk-profile "
        f"value: set `profile: sdk` (allowed in this profile: {DOCS_VENUES})"
    ]


# --------------------------------------------------------------------------- scenarios command


def test_scenarios_paths_lists_each_installed_file():
    result = run_cli("scenarios", "--paths")
    assert result.returncode == 0 and result.stderr == ""
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert [p.stem for p in paths] == bundled_names()
    for path in paths:
        assert path.is_file() and path.parent == bundled_dir().resolve()


def test_scenarios_show_prints_the_yaml_to_copy(tmp_path):
    result = run_cli("scenarios", "show", "revoked")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == (bundled_dir() / "revoked.yaml").read_text(encoding="utf-8")
    copy = write(tmp_path / "mine.yaml", result.stdout)
    assert load_scenario(copy).credentials == load_scenario("revoked").credentials


def test_scenarios_show_an_unknown_name_suggests_and_exits_2():
    result = run_cli("scenarios", "show", "revokd")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"cadenza-mock scenarios show: no bundled scenario 'revokd' (allowed: "
        f"{', '.join(bundled_names())}); did you mean 'revoked'?\n"
    )


def test_scenarios_show_needs_a_name():
    result = run_cli("scenarios", "show")
    assert result.returncode == 2
    assert "the following arguments are required: NAME" in result.stderr


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("args", "option", "raw"),
    [
        (["--port", "abc"], "--port", "abc"),
        (["--seed", "x"], "--seed", "x"),
        (["--journal-size", "many"], "--journal-size", "many"),
    ],
)
def test_a_bad_integer_flag_says_expected_an_integer(args, option, raw):
    result = run_cli("serve", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"cadenza-mock serve: error: argument {option}: {raw!r}: expected an integer"
    )


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("CADENZA_MOCK_SEED", "x", "expected an integer"),
        ("CADENZA_MOCK_PORT", "abc", "expected an integer"),
        ("CADENZA_MOCK_PORT", "70000", "port must be 0 to 65535"),
        ("CADENZA_MOCK_JOURNAL_SIZE", "-1", "must be 0 or more"),
        ("CADENZA_MOCK_READ_TIMEOUT", "soon", "expected a number of seconds"),
        ("CADENZA_MOCK_QUIET", "maybe", "expected true or false"),
        ("CADENZA_MOCK_PROFILE", "xml", "choose from docs, sdk"),
    ],
)
def test_a_bad_variable_is_one_line_without_the_usage_block(variable, raw, message):
    result = run_cli("serve", env={variable: raw})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"cadenza-mock serve: {variable}={raw!r}: {message}\n"

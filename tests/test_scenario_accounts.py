"""Scenario trading accounts, venue outcomes and account history: every rule located as
file:line:column with no secret quoted, the defaults, seeded determinism, and the bundled
`accounts` scenario served over HTTP in both profiles."""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from datetime import UTC, datetime
from typing import Any

import pytest

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.contract.model import PROFILES, venue_account
from cadenza_mock.scenario import Scenario, load_scenario, load_scenario_text

NAME = "accounts.yaml"
ALICE_ID = "4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11"
BOB_ID = "8d2f4b6a-3c5e-4a7f-9b1d-2e4f6a8c0b53"
MAIN_ID = "11111111-1111-4111-8111-111111111111"
SECOND_ID = "22222222-2222-4222-8222-222222222222"
OKX_ID = "33333333-3333-4333-8333-333333333333"
OLD_ID = "44444444-4444-4444-8444-444444444444"
BOB_CRED_ID = "55555555-5555-4555-8555-555555555555"
ACCOUNT_ID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
SHARED_KEY = "sharedKEYabcdefghijklmnopqrstuvwxyz0123456789"  # alice's main and bob's
SECRETS = (
    SHARED_KEY,
    "secondKEYabcdefghijklmnopqrstuvwxyz012345678",
    "okxKEY-0123456789abcdef",
    "oldKEYabcdefghijklmnopqrstuvwxyz0123456789a",
    "alice-secret-never-quoted",
    "okx-secret-never-quoted",
    "okx-passphrase-never-quoted",
    "bob-secret-never-quoted",
)
BOB = f"""
  - id: {BOB_ID}
    email: bob@example.com
    tokens: [bob-token]
    credentials:
      - credentialId: {BOB_CRED_ID}
        venue: BINANCE
        name: bob main
        apiKey: {SHARED_KEY}
        apiSecret: {SECRETS[7]}
        createdAt: "2025-12-01T00:00:00Z"
    trading_accounts:
"""


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


def scenario_text(accounts: str, *, bob: str | None = None, top: str = "") -> str:
    """Alice's four credentials (main, second and old on BINANCE, desk on OKX) with these
    `trading_accounts:` entries; bob (holding main's keys) with his, if given."""
    text = textwrap.dedent(
        f"""\
        seed: 5
        now: "2026-01-15T12:00:00Z"
        {top}
        users:
          - id: {ALICE_ID}
            email: alice@example.com
            tokens: [alice-token]
            credentials:
              - credentialId: {MAIN_ID}
                venue: BINANCE
                name: main
                apiKey: {SHARED_KEY}
                apiSecret: {SECRETS[4]}
                createdAt: "2025-10-01T00:00:00Z"
              - credentialId: {SECOND_ID}
                venue: BINANCE
                name: second
                apiKey: {SECRETS[1]}
                apiSecret: {SECRETS[4]}
                createdAt: "2025-11-01T00:00:00Z"
              - credentialId: {OKX_ID}
                venue: OKX
                name: desk
                apiKey: {SECRETS[2]}
                apiSecret: {SECRETS[5]}
                apiPassphrase: {SECRETS[6]}
                createdAt: "2025-09-01T00:00:00Z"
              - credentialId: {OLD_ID}
                venue: BINANCE
                name: old
                status: REVOKED
                apiKey: {SECRETS[3]}
                apiSecret: {SECRETS[4]}
                createdAt: "2025-01-01T00:00:00Z"
                revokedAt: "2025-06-01T00:00:00Z"
            trading_accounts:
        """
    )
    text += _entries(accounts)
    if bob is not None:
        text += BOB.lstrip("\n") + _entries(bob)
    return text


def _entries(accounts: str) -> str:
    """The lines under a `trading_accounts:` key (an empty list when there are none)."""
    lines = textwrap.dedent(accounts).strip("\n")
    return textwrap.indent(lines, "      ") + "\n" if lines else "      []\n"


def load(text: str, profile: str | None = None) -> Scenario:
    return load_scenario_text(text, name=NAME, profile=profile)


def problems(text: str, profile: str | None = None) -> list[str]:
    """Every located problem of the text; none may quote a secret."""
    with pytest.raises(ScenarioError) as info:
        load(text, profile)
    message = str(info.value) + json.dumps(info.value.to_json())
    for secret in SECRETS:
        assert secret not in message
    return [str(issue) for issue in info.value.issues]


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    return f"{NAME}:{line}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"  # chr(10): "\\n"


# Where searches start by default: alice's `trading_accounts:`, past her credentials.
ACCOUNTS = "    trading_accounts:"


def at(text: str, needle: str, after: str = ACCOUNTS) -> str:
    """`accounts.yaml:line:column` where `needle` first begins after the `after` text."""
    return _position(text, text.index(needle, text.index(after)))


def value_at(text: str, line: str, after: str = ACCOUNTS) -> str:
    """Where the value of the first `key: value` text after `after` begins (a quoted one at
    its quote)."""
    return _position(text, text.index(line, text.index(after)) + len(line.split(": ", 1)[0]) + 2)


def one_problem(text: str, needle: str, message: str, after: str = ACCOUNTS, **kwargs: Any) -> None:
    assert problems(text, **kwargs) == [f"{at(text, needle, after)}: {message}"]


def accounts_of(scenario: Scenario, user_id: str = ALICE_ID) -> list[Any]:
    return [a for a in scenario.trading_accounts if a.user_id == user_id]


PATH = "users[0].trading_accounts"

# --------------------------------------------------------------------------- the locator


def test_the_locator_agrees_with_a_position_counted_by_hand() -> None:
    text = scenario_text("- credentials: [nope]")
    assert text.splitlines()[36] == "      - credentials: [nope]"
    assert at(text, "nope") == f"{NAME}:37:23"


# --------------------------------------------------------------------------- bad input


def test_unknown_keys_get_suggestions() -> None:
    text = scenario_text(
        """
        - credentials: [main]
          nicknam: x
        - generate: 1
          venu: BINANCE
        """
    )
    assert problems(text) == [
        f"{at(text, 'nicknam')}: {PATH}[0].nicknam: unknown key 'nicknam' (allowed: "
        "tradingAccountId, userId, venue, externalTradingAccountId, nickname, name, "
        "accountType, externalAccountType, status, credentials, credentialIds, createdAt, "
        "updatedAt, disconnectedAt, createdAtDateTime, updatedAtDateTime, balances, "
        "venue_behavior); did you mean 'nickname'?",
        f"{at(text, 'venu:')}: {PATH}[1].venu: unknown key 'venu' (allowed: generate, venue, "
        "status); did you mean 'venue'?",
    ]


def test_a_credential_the_user_does_not_have() -> None:
    text = scenario_text("- credentials: [main, nope]", bob="- credentials: [main]")
    assert problems(text) == [
        f"{at(text, 'nope')}: {PATH}[0].credentials[1]: this user has no credential 'nope' "
        f"(they have: 'main' {MAIN_ID}, 'second' {SECOND_ID}, 'desk' {OKX_ID}, 'old' {OLD_ID})",
        # bob names alice's credential: his own are listed, nobody else's
        f"{at(text, 'main]', 'bob-secret')}: users[1].trading_accounts[0].credentials[0]: "
        f"this user has no credential 'main' (they have: 'bob main' {BOB_CRED_ID})",
    ]


def test_a_user_without_credentials_is_told_so() -> None:
    text = textwrap.dedent(
        """\
        users:
          - tokens: [t]
            trading_accounts:
              - credentials: [main]
        """
    )
    one_problem(
        text,
        "main",
        "users[0].trading_accounts[0].credentials[0]: this user has no credential 'main' "
        "(they have no credentials)",
    )


def test_many_credentials_are_listed_in_part() -> None:
    text = textwrap.dedent(
        """\
        seed: 1
        users:
          - tokens: [t]
            credentials:
              - generate: 12
                venue: BINANCE
            trading_accounts:
              - credentials: [nope]
        """
    )
    (issue,) = problems(text)
    assert issue.startswith(
        f"{at(text, 'nope')}: users[0].trading_accounts[0].credentials[0]: this user has no "
        "credential 'nope' (they have: '"
    )
    assert len(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-4", issue)) == 8
    assert issue.endswith(" and 4 more)")
    # names and ids only: none of the generated keys and secrets
    generated = load(text.replace("      - credentials: [nope]\n", "      []\n")).credentials
    assert len(generated) == 12
    for cred in generated:
        assert cred.api_key not in issue and str(cred.api_secret) not in issue


def test_a_broken_credential_is_reported_once() -> None:
    """The account naming a credential that failed to build says nothing more about it."""
    text = scenario_text("- credentials: [main, desk]").replace(
        "name: desk", "name: desk\n        venue_outcome: maintenanc"
    )
    one_problem(
        text,
        "maintenanc",
        "users[0].credentials[2].venue_outcome: unknown venue outcome 'maintenanc' (allowed: "
        "ok, invalid_keys, maintenance, timeout, network_error, rate_limited, "
        "lock_not_acquired, unavailable, exchange_error); did you mean 'maintenance'?",
        after="desk",
    )


def test_a_name_two_credentials_share_and_a_credential_named_twice() -> None:
    text = (
        scenario_text(f"- credentials: [main, {MAIN_ID}]\n- credentials: [twin]")
        .replace("name: second", "name: twin")
        .replace("name: old", "name: twin")
    )
    assert problems(text) == [
        f"{at(text, MAIN_ID)}: {PATH}[0].credentials[1]: names credential {MAIN_ID} twice",
        f"{at(text, 'twin')}: {PATH}[1].credentials[0]: 2 of this user's credentials are "
        f"named 'twin' ({SECOND_ID}, {OLD_ID}): name it by credentialId",
    ]


def test_credentials_missing_empty_or_not_a_list() -> None:
    text = scenario_text(
        """
        - nickname: nothing behind it
        - credentials: []
        - credentials: main
        """
    )
    assert problems(text) == [
        f"{at(text, 'nickname')}: {PATH}[0]: a trading account needs `credentials:` "
        "(credentialIds or names of this user's credentials), or `generate: N` to make several",
        f"{at(text, '[]')}: {PATH}[1].credentials: an empty list names no credential",
        f"{value_at(text, 'credentials: main')}: {PATH}[2].credentials: expected a list, "
        "got str 'main'",
    ]


def test_credentials_of_different_venues_in_one_account() -> None:
    text = scenario_text("- credentials: [main, desk]")
    one_problem(
        text,
        "[main, desk]",
        f"{PATH}[0].credentials: credentials of different venues in one account ({MAIN_ID} is "
        f"on BINANCE; {OKX_ID} is on OKX): an account is on one venue",
    )


def test_a_venue_that_is_not_the_credentials_one() -> None:
    text = scenario_text(
        """
        - credentials: [main]
          venue: OKX
        - credentials: [main]
          venue: BINANC
        """
    )
    assert problems(text) == [
        f"{at(text, 'OKX')}: {PATH}[0].venue: venue OKX differs from its credentials' "
        "venue (BINANCE)",
        f"{at(text, 'BINANC')}: {PATH}[1].venue: unknown venue 'BINANC' (allowed: "
        "BINANCE, OKX, BYBIT, COINBASE, KRAKEN); did you mean 'BINANCE'?",
    ]


def test_an_external_account_the_keys_do_not_reach() -> None:
    text = scenario_text("- credentials: [main]\n  externalTradingAccountId: spott")
    one_problem(
        text,
        "spott",
        f"{PATH}[0].externalTradingAccountId: 'spott' is not an account BINANCE keys reach "
        "(allowed: spot, margin, isolated_margin, futures, coin_futures); did you mean 'spot'?",
    )


def test_a_revoked_credential_cannot_back_a_connected_account() -> None:
    text = scenario_text("- credentials: [old]\n- credentials: [old]\n  status: ACTIVE")
    message = (
        f"a revoked credential ({OLD_ID}) cannot back a connected account: make the account "
        "DISCONNECTED or the credential live"
    )
    assert problems(text) == [
        f"{at(text, 'old')}: {PATH}[0].credentials[0]: {message}",
        f"{_position(text, text.rindex('old]'))}: {PATH}[1].credentials[0]: {message}",
    ]
    # docs DISABLED is still connected; DISCONNECTED is fine
    disabled = scenario_text("- credentials: [old]\n  status: DISABLED")
    one_problem(disabled, "old", f"{PATH}[0].credentials[0]: {message}")
    assert load(scenario_text("- credentials: [old]\n  status: DISCONNECTED")).trading_accounts


def test_two_live_accounts_on_one_external_account() -> None:
    text = scenario_text(
        f"""
        - credentials: [main]
          tradingAccountId: {ACCOUNT_ID}
        - credentials: [main]
          externalTradingAccountId: spot
        """,
        bob="- credentials: [bob main]\n  externalTradingAccountId: spot",
    )
    assert problems(text) == [
        f"{at(text, 'spot')}: {PATH}[1].externalTradingAccountId: BINANCE account 'spot' of "
        f"these keys is connected already, as tradingAccountId {ACCOUNT_ID}: two live accounts "
        "cannot hold one external account (the API answers 409)",
        # bob holds the same keys: the same external account, across users
        f"{at(text, 'spot', 'bob-token')}: users[1].trading_accounts[0]."
        "externalTradingAccountId: BINANCE account 'spot' of these keys is connected already, "
        f"as tradingAccountId {ACCOUNT_ID} of another user: two live accounts cannot hold one "
        "external account (the API answers 409)",
    ]
    # A disconnected account may repeat a live one's external account, and the default skips
    # what is taken: bob's default is margin.
    fine = load(
        scenario_text(
            "- credentials: [main]\n- credentials: [main]\n"
            "  externalTradingAccountId: spot\n  status: DISCONNECTED",
            bob="- credentials: [bob main]",
        )
    )
    assert [a.external_id for a in fine.trading_accounts] == ["spot", "spot", "margin"]


def test_the_default_external_account_runs_out() -> None:
    text = scenario_text("- credentials: [desk]\n- credentials: [desk]\n- credentials: [desk]")
    third = _position(text, text.rindex("credentials: [desk]"))  # the entry's first key
    assert problems(text) == [
        f"{third}: {PATH}[2]: every account these OKX keys reach is connected already "
        "(trading, funding): give externalTradingAccountId, or make it DISCONNECTED"
    ]


def test_updated_before_created() -> None:
    text = scenario_text(
        """
        - credentials: [main]
          createdAt: "2025-10-05T00:00:00Z"
          updatedAt: "2025-10-04T00:00:00Z"
        - credentials: [main, second]
          updatedAtDateTime: "2025-10-15T00:00:00Z"
        """
    )
    assert problems(text) == [
        f"{value_at(text, 'updatedAt: ')}: {PATH}[0].updatedAt: updatedAt is before createdAt",
        f"{value_at(text, 'updatedAtDateTime: ')}: {PATH}[1].updatedAt: updatedAt is before "
        f"createdAt (createdAt defaults to its newest credential's, {ms('2025-11-01')})",
    ]


def test_created_before_its_credentials_is_fine() -> None:
    scenario = load(scenario_text('- credentials: [main]\n  createdAt: "2020-01-01T00:00:00Z"'))
    (account,) = scenario.trading_accounts
    assert account.created_at == account.updated_at == ms("2020-01-01")


def test_disconnected_at_only_on_a_disconnected_account_and_in_order() -> None:
    text = scenario_text(
        """
        - credentials: [main]
          disconnectedAt: "2025-12-01T00:00:00Z"
        - credentials: [second]
          status: DISCONNECTED
          disconnectedAt: "2025-10-01T00:00:00Z"
        - credentials: [second]
          status: DISCONNECTED
          updatedAt: "2025-12-01T00:00:00Z"
          disconnectedAt: "2025-12-02T00:00:00Z"
        """
    )
    assert problems(text) == [
        f"{value_at(text, 'disconnectedAt: ')}: {PATH}[0].disconnectedAt: disconnectedAt is "
        "set but status is ACTIVE",
        f"{value_at(text, 'disconnectedAt: ', '[second]')}: {PATH}[1].disconnectedAt: "
        "disconnectedAt is before createdAt",
        f"{value_at(text, 'disconnectedAt: ', 'updatedAt')}: {PATH}[2].disconnectedAt: "
        "disconnectedAt is after updatedAt",
    ]


def test_statuses_and_types_are_the_profiles() -> None:
    text = scenario_text(
        """
        - credentials: [main]
          status: INACTIVE
        - credentials: [second]
          accountType: CREDIT
        """
    )
    assert problems(text) == [
        f"{at(text, 'INACTIVE')}: {PATH}[0].status: unknown account status 'INACTIVE' "
        "(allowed: ACTIVE, DISABLED, DISCONNECTED); did you mean 'ACTIVE'?",
        f"{at(text, 'CREDIT')}: {PATH}[1].accountType: unknown account type 'CREDIT' "
        "(allowed: SPOT, MARGIN, FUTURES)",
    ]
    sdk = problems(text.replace("INACTIVE", "DISABLED"), profile="sdk")
    assert sdk == [
        f"{at(text, 'INACTIVE')}: {PATH}[0].status: unknown account status 'DISABLED' "
        "(allowed: NEW, CREATED, ACTIVE, INACTIVE, LOCKED, DISCONNECTED, UNAVAILABLE)",
    ]


def test_account_ids_are_uuids_given_once_across_users() -> None:
    text = scenario_text(
        f"""
        - credentials: [main]
          tradingAccountId: not-a-uuid
        - credentials: [main]
          tradingAccountId: {ACCOUNT_ID}
        """,
        bob=f"- credentials: [bob main]\n  tradingAccountId: {ACCOUNT_ID.upper()}",
    )
    assert problems(text) == [
        f"{at(text, 'not-a-uuid')}: {PATH}[0].tradingAccountId: expected a UUID, got 'not-a-uuid'",
        f"{at(text, ACCOUNT_ID.upper())}: users[1].trading_accounts[0].tradingAccountId: "
        f"tradingAccountId {ACCOUNT_ID.upper()} given twice",
    ]


def test_user_id_must_be_the_listing_users() -> None:
    text = scenario_text(f"- credentials: [main]\n  userId: {BOB_ID}")
    one_problem(
        text,
        BOB_ID,
        f"{PATH}[0].userId: userId '{BOB_ID}' differs from the user it is listed under "
        f"({ALICE_ID})",
    )


def test_aliases_and_canonical_names_together() -> None:
    text = scenario_text(
        """
        - credentials: [main]
          credentialIds: [main]
          name: a
          nickname: b
        """
    )
    assert problems(text) == [
        f"{value_at(text, 'credentialIds: ')}: {PATH}[0].credentialIds: give 'credentialIds' or "
        "'credentials', not both",
        f"{value_at(text, 'name: a')}: {PATH}[0].name: give 'name' or 'nickname', not both",
    ]


def test_bad_texts_and_stamps() -> None:
    text = scenario_text(
        """
        - credentials: [main]
          nickname: ""
          externalAccountType: 5
          createdAt: 1759276800000
          createdAtDateTime: "2025-10-02T00:00:00Z"
          updatedAt: yesterday
        """
    )
    assert problems(text) == [
        f"{value_at(text, 'nickname: ')}: {PATH}[0].nickname: cannot be empty",
        f"{value_at(text, 'externalAccountType: ')}: {PATH}[0].externalAccountType: expected "
        "str, got int '5'",
        f"{value_at(text, 'createdAtDateTime: ')}: {PATH}[0].createdAtDateTime: "
        "createdAtDateTime and createdAt disagree",
        f"{value_at(text, 'updatedAt: ')}: {PATH}[0].updatedAt: expected milliseconds since the "
        "epoch or an ISO-8601 time like 2026-01-15T12:00:00Z",
    ]


def test_generate_asks_for_more_than_there_are_free_pairs() -> None:
    # main and second reach 5 BINANCE accounts each, old is revoked, and one is taken.
    entries = """
        - credentials: [main]
        - generate: {binance}
          venue: BINANCE
        - generate: {okx}
          venue: OKX
        """
    text = scenario_text(entries.format(binance=10, okx=3) + "- generate: -1\n")
    assert problems(text) == [
        f"{value_at(text, 'generate: 10')}: {PATH}[1].generate: asks for 10 trading accounts, "
        "but 9 are possible: this user's ACTIVE BINANCE credentials reach 9 external accounts "
        "not connected already",
        f"{value_at(text, 'generate: 3')}: {PATH}[2].generate: asks for 3 trading accounts, "
        "but 2 are possible: this user's ACTIVE OKX credentials reach 2 external accounts not "
        "connected already",
        f"{value_at(text, 'generate: -1')}: {PATH}[3].generate: cannot be negative",
    ]
    assert len(load(scenario_text(entries.format(binance=9, okx=2))).trading_accounts) == 12
    # No venue: every ACTIVE credential (5 + 5 on BINANCE, 2 on OKX).
    assert len(load(scenario_text("- generate: 12")).trading_accounts) == 12
    one_problem(
        scenario_text("- generate: 13"),
        "13",
        f"{PATH}[0].generate: asks for 13 trading accounts, but 12 are possible: this user's "
        "ACTIVE credentials reach 12 external accounts not connected already",
    )


def test_trading_accounts_must_be_a_list() -> None:
    text = scenario_text("").replace(
        "    trading_accounts:\n      []\n", "    trading_accounts: main\n"
    )
    assert problems(text) == [
        f"{value_at(text, 'trading_accounts: main', 'revokedAt')}: users[0].trading_accounts: "
        "expected a list, got str 'main'"
    ]


def test_bad_venue_outcomes() -> None:
    text = scenario_text(
        "- credentials: [main]",
        top="venues: {BINANC: maintenance, OKX: down, MOCK: ok}",
    ).replace("name: desk", "name: desk\n        venue_outcome: 3")
    assert problems(text) == [
        f"{at(text, 'BINANC', 'venues')}: venues.BINANC: unknown key 'BINANC' (allowed: "
        "BINANCE, OKX, BYBIT, COINBASE, KRAKEN); did you mean 'BINANCE'?",
        f"{at(text, 'down', 'venues')}: venues.OKX: unknown venue outcome 'down' (allowed: ok, "
        "invalid_keys, maintenance, timeout, network_error, rate_limited, lock_not_acquired, "
        "unavailable, exchange_error)",
        # MOCK is a venue of the sdk profile only
        f"{at(text, 'MOCK', 'venues')}: venues.MOCK: unknown key 'MOCK' (allowed: BINANCE, "
        "OKX, BYBIT, COINBASE, KRAKEN)",
        f"{value_at(text, 'venue_outcome: ', 'desk')}: users[0].credentials[2].venue_outcome: "
        "expected str, got int '3'",
    ]
    generated = textwrap.dedent(
        """\
        users:
          - credentials:
              - generate: 2
                venue_outcome: [ok, maintenanse]
        """
    )
    one_problem(
        generated,
        "maintenanse",
        "users[0].credentials[0].venue_outcome[1]: unknown venue outcome 'maintenanse' "
        "(allowed: ok, invalid_keys, maintenance, timeout, network_error, rate_limited, "
        "lock_not_acquired, unavailable, exchange_error); did you mean 'maintenance'?",
        after="users",
    )


# --------------------------------------------------------------------------- happy paths


def test_explicit_accounts_by_id_and_by_name_with_every_field() -> None:
    scenario = load(
        scenario_text(
            f"""
            - tradingAccountId: {ACCOUNT_ID}
              userId: {ALICE_ID}
              venue: BINANCE
              credentials: [{MAIN_ID.upper()}, second]
              externalTradingAccountId: margin
              name: hedging
              accountType: SPOT
              externalAccountType: CROSS_MARGIN
              status: DISABLED
              createdAt: 1762000000000
              updatedAt: "2025-12-01T00:00:00Z"
            - credentialIds: [desk]
              nickname: okx funding
              externalTradingAccountId: funding
            """
        )
    )
    margin, funding = scenario.trading_accounts
    assert (margin.trading_account_id, margin.user_id, margin.venue) == (
        ACCOUNT_ID,
        ALICE_ID,
        "BINANCE",
    )
    assert margin.credential_ids == (MAIN_ID, SECOND_ID)  # by id (any case) and by name
    assert (margin.external_id, margin.nickname, margin.account_type) == (
        "margin",
        "hedging",
        "SPOT",
    )
    assert margin.external_account_type == "CROSS_MARGIN"
    assert margin.status == "INACTIVE"  # docs DISABLED, in the engine's name
    assert (margin.created_at, margin.updated_at) == (1762000000000, ms("2025-12-01"))
    assert margin.disconnected_at is None
    assert margin.venue_account == venue_account(scenario.credentials[0])
    assert (funding.credential_ids, funding.nickname) == ((OKX_ID,), "okx funding")
    assert (funding.external_id, funding.account_type, funding.venue) == (
        "funding",
        "SPOT",
        "OKX",
    )


@pytest.mark.parametrize(("profile", "futures"), [("docs", "FUTURES"), ("sdk", "MARGIN")])
def test_defaults(profile: str, futures: str) -> None:
    text = scenario_text(
        """
        - credentials: [main, second]
        - credentials: [main]
          externalTradingAccountId: futures
        - credentials: [main]
        - credentials: [old]
          status: DISCONNECTED
        """
    )
    both, on_futures, third, gone = load(text, profile).trading_accounts
    # the first external account no live account holds, named after the first credential
    assert [a.external_id for a in (both, on_futures, third, gone)] == [
        "spot",
        "futures",
        "margin",
        "spot",
    ]
    assert both.nickname == "main spot" and gone.nickname == "old spot"
    assert [a.account_type for a in (both, on_futures, third)] == ["SPOT", futures, "MARGIN"]
    assert on_futures.external_account_type == "FUTURES"
    assert {a.status for a in (both, on_futures, third)} == {"ACTIVE"}
    # createdAt: the newest backing credential's; updatedAt the same
    assert both.created_at == both.updated_at == ms("2025-11-01")
    assert third.created_at == ms("2025-10-01")
    assert gone.status == "DISCONNECTED"
    assert gone.created_at == gone.updated_at == gone.disconnected_at == ms("2025-01-01")


def test_disconnected_stamps() -> None:
    given, by_updated = load(
        scenario_text(
            """
            - credentials: [old]
              status: DISCONNECTED
              disconnectedAt: "2025-06-01T00:00:00Z"
            - credentials: [old]
              status: DISCONNECTED
              updatedAt: "2025-07-01T00:00:00Z"
            """
        )
    ).trading_accounts
    # disconnectedAt alone moves updatedAt with it; updatedAt alone is the disconnect time
    assert (given.updated_at, given.disconnected_at) == (ms("2025-06-01"), ms("2025-06-01"))
    assert (by_updated.updated_at, by_updated.disconnected_at) == (
        ms("2025-07-01"),
        ms("2025-07-01"),
    )


def test_sdk_iso_twins_and_sdk_statuses() -> None:
    text = scenario_text(
        """
        - credentials: [main]
          createdAtDateTime: "2025-10-02T03:04:05.678Z"
          updatedAt: 1760000000000
          updatedAtDateTime: "2025-10-09T08:53:20.000Z"
          status: LOCKED
        """
    )
    (account,) = load(text, "sdk").trading_accounts
    assert account.created_at == ms("2025-10-02T03:04:05.678")
    assert account.updated_at == 1760000000000
    assert account.status == "LOCKED"


def test_generate_one_per_free_pair_in_a_stable_order() -> None:
    text = scenario_text(
        """
        - credentials: [main]
        - generate: 6
          venue: BINANCE
        - generate: 2
          status: DISCONNECTED
        """
    )
    scenario = load(text)
    taken, *generated = scenario.trading_accounts
    assert taken.external_id == "spot"
    pairs = [(a.credential_ids, a.external_id, a.status) for a in generated]
    assert pairs == [
        # main's free ones (spot is taken), then second's; old is revoked and skipped
        ((MAIN_ID,), "margin", "ACTIVE"),
        ((MAIN_ID,), "isolated_margin", "ACTIVE"),
        ((MAIN_ID,), "futures", "ACTIVE"),
        ((MAIN_ID,), "coin_futures", "ACTIVE"),
        ((SECOND_ID,), "spot", "ACTIVE"),
        ((SECOND_ID,), "margin", "ACTIVE"),
        # any venue: what is still free, disconnected
        ((SECOND_ID,), "isolated_margin", "DISCONNECTED"),
        ((SECOND_ID,), "futures", "DISCONNECTED"),
    ]
    first = generated[0]
    assert first.nickname == "main margin" and first.account_type == "MARGIN"
    assert first.created_at == first.updated_at == ms("2025-10-01")
    assert generated[-1].disconnected_at == ms("2025-11-01")
    assert len({a.trading_account_id for a in scenario.trading_accounts}) == 9


def test_generate_zero_and_a_user_without_accounts() -> None:
    scenario = load(scenario_text("- generate: 0", bob=""))
    assert scenario.trading_accounts == () and scenario.account_operations == ()


def test_venue_outcomes_per_venue_and_per_credential() -> None:
    text = scenario_text(
        "- credentials: [main]",
        top="venues: {OKX: maintenance, BINANCE: ok}",
    ).replace("name: second", "name: second\n        venue_outcome: rate_limited")
    scenario = load(text)
    assert scenario.venue_outcomes == (("OKX", "maintenance"), ("BINANCE", "ok"))
    outcomes = {c.name: c.venue_outcome for c in scenario.credentials}
    assert outcomes == {"main": "ok", "second": "rate_limited", "desk": "ok", "old": "ok"}
    assert load(scenario_text("", top="venues:")).venue_outcomes == ()
    assert load(scenario_text("", top="venues: {MOCK: timeout}"), "sdk").venue_outcomes == (
        ("MOCK", "timeout"),
    )


def test_generated_credentials_with_venue_outcomes() -> None:
    def generated(extra: str) -> list[Any]:
        text = f"seed: 4\nusers:\n  - credentials:\n      - generate: 30\n{extra}"
        return list(load(text).credentials)

    plain = generated("")
    fixed = generated("        venue_outcome: timeout\n")
    mixed = generated("        venue_outcome: {ok: 1, maintenance: 1}\n")
    assert {c.venue_outcome for c in plain} == {"ok"}
    assert {c.venue_outcome for c in fixed} == {"timeout"}
    assert {c.venue_outcome for c in mixed} == {"ok", "maintenance"}
    # The outcome is drawn last: every other field is what the file without it gives.
    strip = [dataclasses.replace(c, venue_outcome="ok") for c in mixed]
    assert strip == plain == [dataclasses.replace(c, venue_outcome="ok") for c in fixed]


def test_history_connect_and_disconnect_oldest_first() -> None:
    scenario = load(
        scenario_text(
            """
            - credentials: [old]
              status: DISCONNECTED
              createdAt: "2025-02-01T00:00:00Z"
              disconnectedAt: "2025-06-01T00:00:00Z"
            - credentials: [main]
            - credentials: [old]
              status: DISCONNECTED
            """,
            bob="- credentials: [bob main]",
        )
    )
    old, main, old_again, bobs = scenario.trading_accounts
    history = [
        (op.trading_account_id, op.user_id, op.operation_type, op.status, op.created_at)
        for op in scenario.account_operations
    ]
    # old_again connects and disconnects at one instant: CONNECT first
    assert history == [
        (old_again.trading_account_id, ALICE_ID, "CONNECT", "SUCCESS", ms("2025-01-01")),
        (old_again.trading_account_id, ALICE_ID, "DISCONNECT", "SUCCESS", ms("2025-01-01")),
        (old.trading_account_id, ALICE_ID, "CONNECT", "SUCCESS", ms("2025-02-01")),
        (old.trading_account_id, ALICE_ID, "DISCONNECT", "SUCCESS", ms("2025-06-01")),
        (main.trading_account_id, ALICE_ID, "CONNECT", "SUCCESS", ms("2025-10-01")),
        (bobs.trading_account_id, BOB_ID, "CONNECT", "SUCCESS", ms("2025-12-01")),
    ]
    assert bobs.external_id == "margin"  # alice's main (the same keys) holds spot
    assert len({op.operation_id for op in scenario.account_operations}) == 6


# --------------------------------------------------------------------------- determinism

DETERMINISM = """
    - credentials: [main]
    - credentials: [old]
      status: DISCONNECTED
    - generate: 3
"""


def test_the_same_seed_gives_the_same_records() -> None:
    text = scenario_text(DETERMINISM, bob="- generate: 1")
    first, second = load(text), load(text)
    assert first.trading_accounts == second.trading_accounts
    assert first.account_operations == second.account_operations
    assert repr(first.trading_accounts) == repr(second.trading_accounts)
    # Another seed: other ids, the same accounts otherwise.
    other = load(text.replace("seed: 5", "seed: 6"))
    ids = {a.trading_account_id for a in first.trading_accounts}
    assert ids.isdisjoint(a.trading_account_id for a in other.trading_accounts)
    assert {op.operation_id for op in first.account_operations}.isdisjoint(
        op.operation_id for op in other.account_operations
    )
    same_otherwise = [dataclasses.replace(a, trading_account_id="") for a in other.trading_accounts]
    assert same_otherwise == [
        dataclasses.replace(a, trading_account_id="") for a in first.trading_accounts
    ]


def test_accounts_leave_the_credentials_as_they_were() -> None:
    """Adding trading accounts to a file changes none of its credentials' bytes."""
    text = textwrap.dedent(
        """        seed: 9
        users:
          - credentials:
              - generate: 5
            {accounts}
        """
    )
    without = load(text.format(accounts=""))
    with_accounts = load(text.format(accounts="trading_accounts: [{generate: 3}]"))
    assert with_accounts.credentials == without.credentials
    assert [c.api_key for c in with_accounts.credentials] == [
        c.api_key for c in without.credentials
    ]
    assert len(with_accounts.trading_accounts) == 3


def test_a_known_id_pins_the_seeding() -> None:
    """The seeded positions are part of the format: changing them changes every file."""
    from cadenza_mock.seeded import rng_for, uuid4_from

    scenario = load(scenario_text("- credentials: [main]\n- generate: 2", bob="- generate: 1"))
    ids = [a.trading_account_id for a in scenario.trading_accounts]
    assert ids == [
        uuid4_from(rng_for(5, "user", 0, "account", 0, 0)),
        uuid4_from(rng_for(5, "user", 0, "account", 1, 0)),
        uuid4_from(rng_for(5, "user", 0, "account", 1, 1)),
        uuid4_from(rng_for(5, "user", 1, "account", 0, 0)),
    ]
    assert [op.operation_id for op in scenario.account_operations] == [
        uuid4_from(rng_for(5, "scenario-operation", n)) for n in range(1, 5)
    ]


# --------------------------------------------------------------------------- bundled


@pytest.mark.parametrize("profile", ["docs", "sdk"])
def test_the_bundled_accounts_scenario_loads_in_both_profiles(profile: str) -> None:
    scenario = load_scenario("accounts", profile=profile)
    enums = PROFILES[profile]
    assert scenario.description and scenario.seed == 23 and scenario.now is not None
    alice, bob = scenario.users
    mine = accounts_of(scenario, alice.user_id)
    assert [(a.venue, a.external_id, a.status) for a in mine] == [
        ("BINANCE", "spot", "ACTIVE"),
        ("BINANCE", "futures", "ACTIVE"),
        ("OKX", "trading", "ACTIVE"),
        ("BINANCE", "spot", "DISCONNECTED"),
    ]
    main = mine[0].credential_ids
    assert mine[1].credential_ids == main  # one credential, two accounts
    revoked = {c.credential_id for c in scenario.credentials if c.status == "REVOKED"}
    assert set(mine[3].credential_ids) <= revoked
    assert [c.venue_outcome for c in scenario.credentials].count("maintenance") == 1
    assert len(accounts_of(scenario, bob.user_id)) == 1
    for account in scenario.trading_accounts:
        assert account.venue in enums.venues
        assert account.account_type in enums.account_types
        assert enums.account_status_out(account.status) in enums.account_statuses
    for cred in scenario.credentials:
        assert cred.status in enums.statuses and cred.venue in enums.venues
    kinds = [op.operation_type for op in scenario.account_operations]
    assert kinds.count("CONNECT") == 5 and kinds.count("DISCONNECT") == 1


# --------------------------------------------------------------------------- over HTTP

ACCOUNTS_LIST = "/api/v3/tradingAccount/list"
OPERATIONS_LIST = "/api/v3/tradingAccount/operation/list"
VERIFY = "/api/v3/credential/verify"


async def _data(client: Any, path: str, token: str) -> Any:
    response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200, await response.text()
    return json.loads(await response.read())["data"]


@pytest.mark.parametrize("profile", ["docs", "sdk"])
async def test_the_accounts_scenario_over_http(make_client: Any, profile: str) -> None:
    scenario = load_scenario("accounts", profile=profile)
    client = await make_client("accounts", profile=profile)
    sdk = profile == "sdk"
    name_field = "nickname" if sdk else "name"
    for user, token in zip(scenario.users, ("alice-token", "bob-token"), strict=True):
        expected = sorted(accounts_of(scenario, user.user_id), key=lambda a: a.created_at)
        listed = await _data(client, ACCOUNTS_LIST, token)
        assert [a["tradingAccountId"] for a in listed] == [a.trading_account_id for a in expected]
        for got, want in zip(listed, expected, strict=True):
            assert got["venue"] == want.venue and got[name_field] == want.nickname
            assert got["accountType"] == want.account_type
            assert got["status"] == want.status  # ACTIVE and DISCONNECTED in both profiles
            assert (got["createdAt"], got["updatedAt"]) == (want.created_at, want.updated_at)
            if sdk:
                assert got["externalTradingAccountId"] == want.external_id
                assert [c["credentialId"] for c in got["credentials"]] == list(want.credential_ids)
            else:
                assert got["userId"] == user.user_id
        history = await _data(client, OPERATIONS_LIST, token)
        want_history = [op for op in scenario.account_operations if op.user_id == user.user_id]
        assert [
            (op["operationId"], op["tradingAccountId"], op["operationType"], op["createdAt"])
            for op in history
        ] == [  # newest first
            (op.operation_id, op.trading_account_id, op.operation_type, op.created_at)
            for op in reversed(want_history)
        ]
    alice = await _data(client, ACCOUNTS_LIST, "alice-token")
    futures = next(a for a in alice if a[name_field] == "Main futures")
    assert futures["accountType"] == ("MARGIN" if sdk else "FUTURES")
    for secret in ("alice-binance-secret-never-served", "okx-passphrase-never-served"):
        assert secret not in json.dumps(alice)


def _verify_body(profile: str, credential_id: str) -> dict[str, Any]:
    if profile == "sdk":
        return {"credentialIds": [credential_id]}
    return {"credentialId": credential_id}


@pytest.mark.parametrize("profile", ["docs", "sdk"])
async def test_a_credential_in_maintenance_answers_503(make_client: Any, profile: str) -> None:
    scenario = load_scenario("accounts", profile=profile)
    client = await make_client("accounts", profile=profile)
    headers = {"Authorization": "Bearer alice-token"}
    (cred,) = [c for c in scenario.credentials if c.venue_outcome == "maintenance"]
    response = await client.post(
        VERIFY, json=_verify_body(profile, cred.credential_id), headers=headers
    )
    payload = await response.json()
    assert response.status == 503 and payload["errno"] == -18013, payload
    assert payload["success"] is False and "BINANCE" in payload["error"]
    # Alice's main BINANCE key is not in maintenance, and reaches her scenario accounts.
    main = next(c for c in scenario.credentials if c.name == "Binance main")
    response = await client.post(
        VERIFY, json=_verify_body(profile, main.credential_id), headers=headers
    )
    assert response.status == 200, await response.text()
    if profile == "sdk":
        reached = {a["externalTradingAccountId"]: a for a in (await response.json())["data"]}
        connected = {a.external_id: a for a in accounts_of(scenario) if a.status == "ACTIVE"}
        for external in ("spot", "futures"):
            assert reached[external]["tradingAccountId"] == (connected[external].trading_account_id)
            assert reached[external]["status"] == "ACTIVE"


async def test_a_venue_in_maintenance_over_http(make_client: Any) -> None:
    text = scenario_text("- credentials: [desk]", top="venues: {OKX: maintenance}")
    client = await make_client(load(text))
    headers = {"Authorization": "Bearer alice-token"}
    response = await client.post(VERIFY, json={"credentialId": OKX_ID}, headers=headers)
    payload = await response.json()
    assert response.status == 503 and payload["errno"] == -18013, payload
    for secret in SECRETS:
        assert secret not in json.dumps(payload)
    response = await client.post(VERIFY, json={"credentialId": MAIN_ID}, headers=headers)
    assert response.status == 200, await response.text()
    # the scenario's account is listed, its CONNECT in the history
    (listed,) = await _data(client, ACCOUNTS_LIST, "alice-token")
    (operation,) = await _data(client, OPERATIONS_LIST, "alice-token")
    assert listed["venue"] == "OKX" and operation["tradingAccountId"] == listed["tradingAccountId"]

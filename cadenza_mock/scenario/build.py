"""Validated scenario nodes -> a `Scenario`: top-level keys, users, their tokens,
credentials (records.py) and trading accounts (accounts.py), venue outcomes, faults
(faults.py). Every problem is collected with its place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.contract.model import (
    PROFILES,
    VENUE_OUTCOMES,
    AccountOperation,
    Credential,
    ProfileEnums,
    TradingAccount,
    User,
)
from cadenza_mock.contract.wire import DEFAULT_MASK_KEEP
from cadenza_mock.scenario import generate as gen
from cadenza_mock.scenario import keys
from cadenza_mock.scenario.accounts import AccountBuilder
from cadenza_mock.scenario.fault_spec import FaultSpec
from cadenza_mock.scenario.market import read_market
from cadenza_mock.scenario.nodes import (
    MEANT_CUTOFF,
    Problems,
    close_match,
    enum,
    items,
    join,
    mapping,
    scalar,
    string_list,
    value,
)
from cadenza_mock.scenario.records import RecordBuilder, is_uuid

TOP_KEYS = keys.names(keys.TOP)
USER_KEYS = keys.names(keys.USER)
# One load builds at most this many credentials (generated and explicit): a bound on the
# memory and time one scenario (or one admin call) can ask for.
MAX_CREDENTIALS = 200_000


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: everything the store needs to build its pristine state."""

    name: str
    description: str = ""
    source: str | None = None  # file path, or None for inline/bundled-by-dict
    seed: int = 0
    now: int | None = None  # frozen clock, ms since the epoch
    profile: str = "docs"
    mask_keep: int = DEFAULT_MASK_KEEP
    users: tuple[User, ...] = ()
    credentials: tuple[Credential, ...] = ()
    trading_accounts: tuple[TradingAccount, ...] = ()
    account_operations: tuple[AccountOperation, ...] = ()  # their history, oldest first
    venue_outcomes: tuple[tuple[str, str], ...] = ()  # (venue, outcome) of `venues:`
    # Trading accounts' `balances:`: (account id, ((asset, decimal text), ...)).
    balances: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # Trading accounts' `venue_behavior:`: (account id, ((name, value text), ...)).
    behaviors: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # `market:`'s instruments; None: the default catalogue (engine/market.py).
    market: tuple[InstrumentSpec, ...] | None = None
    faults: tuple[FaultSpec, ...] = ()
    # `replay:`'s recorded RPC answers (scenario/replay.py), by (user id, method, params).
    replay: Mapping[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)
    extends: tuple[str, ...] = field(default=())  # chain of base scenarios, nearest first

    @property
    def enums(self) -> ProfileEnums:
        return PROFILES[self.profile]

    def origin(self) -> str:
        """What this scenario can be loaded again from (with other overrides, or by a
        remote mock): its file. ValueError for one built from a dict or text, which has
        nothing to reload."""
        if self.source is None:
            raise ValueError(
                f"scenario {self.name!r} was built from a dict or text and has no file to "
                "load it again from; pass the dict or path it came from"
            )
        return self.source

    @property
    def token(self) -> str | None:
        """The first valid token of the first user: what `serve` prints and fixtures use."""
        for user in self.users:
            if user.tokens:
                return user.tokens[0]
        return None


class _UserBuilder:
    """Users of one scenario: ids, emails and tokens must be unique across all of them."""

    def __init__(self, records: RecordBuilder, accounts: AccountBuilder) -> None:
        self.records = records
        self.accounts = accounts
        self.problems, self.seed = records.problems, records.seed
        self.reference_ms = records.reference_ms
        self.tokens: set[str] = set()
        self.emails: set[str] = set()
        self.user_ids: set[str] = set()

    def user(self, node: yaml.Node, path: str, index: int) -> tuple[User, list[Credential]] | None:
        fields = mapping(node, path, USER_KEYS, self.problems)
        if fields is None:
            return None
        user_id = self._user_id(fields, node, path, index)
        email = self._email(fields, node, path, index)
        # password, role, appMetadata (tenant_id, environments): keys.USER's simple keys
        declared, _ = keys.read_declared(keys.USER, fields, path, self.problems)
        tokens = self._tokens(fields, path, "tokens")
        expired = self._tokens(fields, path, "expired_tokens")
        if "tokens" not in fields:
            tokens = [gen.token(gen.rng_for(self.seed, "user", index, "token"))]

        user = User(
            user_id=user_id,
            email=email,
            tokens=tuple(tokens),
            expired_tokens=tuple(expired),
            created_at=self.reference_ms - 400 * gen.DAY_MS,
            **declared,
        )
        credentials: list[Credential] = []
        before = len(self.problems.issues)
        if "credentials" in fields:
            cred_path = join(path, "credentials")
            for entry_index, entry in items(fields["credentials"], cred_path, self.problems):
                credentials.extend(
                    self.records.credential_entry(
                        entry, join(cred_path, entry_index), user, index, entry_index
                    )
                )
        self._one_key_each(credentials, fields, path)
        if "trading_accounts" in fields:
            # After every credential of the user: accounts name them by id or by name.
            self.accounts.user_accounts(
                fields["trading_accounts"],
                join(path, "trading_accounts"),
                user,
                index,
                credentials,
                credentials_complete=len(self.problems.issues) == before,
            )
        return user, credentials

    def _user_id(self, fields: dict[str, yaml.Node], node: yaml.Node, path: str, index: int) -> str:
        rng = gen.rng_for(self.seed, "user", index)
        user_id = gen.uuid4_from(rng)
        if "id" in fields:
            given = scalar(fields["id"], join(path, "id"), str, self.problems)
            if given is not None and not is_uuid(given):
                self.problems.add(fields["id"], join(path, "id"), f"expected a UUID, got {given!r}")
            user_id = given or user_id
        if user_id in self.user_ids:
            self.problems.add(
                fields.get("id", node), join(path, "id"), f"user id {user_id} given twice"
            )
        self.user_ids.add(user_id)
        return user_id

    def _email(self, fields: dict[str, yaml.Node], node: yaml.Node, path: str, index: int) -> str:
        # Generated only when absent: it needs Faker, whose import costs ~180 ms of start-up.
        email = None
        if "email" in fields:
            email = scalar(fields["email"], join(path, "email"), str, self.problems)
        if email is None:
            email = gen.email(gen.rng_for(self.seed, "user", index, "email"))
        elif "@" not in email:
            self.problems.add(
                fields["email"], join(path, "email"), f"not an email address: {email!r}"
            )
        if email.lower() in self.emails:
            self.problems.add(
                fields.get("email", node), join(path, "email"), f"email {email!r} used by two users"
            )
        self.emails.add(email.lower())
        return email

    def _one_key_each(
        self, credentials: list[Credential], fields: dict[str, yaml.Node], path: str
    ) -> None:
        """No two credentials of one user on one (venue, apiKey): the API answers 409."""
        seen_keys: dict[tuple[str, str], str] = {}
        for cred in credentials:
            if cred.api_key.endswith("***"):
                continue  # pasted masked keys cannot be compared
            previous = seen_keys.setdefault((cred.venue, cred.api_key), cred.credential_id)
            if previous != cred.credential_id:
                self.problems.add(
                    fields.get("credentials"),
                    join(path, "credentials"),
                    f"two credentials of this user share one {cred.venue} apiKey "
                    f"({previous} and {cred.credential_id}); the API rejects that (409)",
                )

    def _tokens(self, fields: dict[str, yaml.Node], path: str, key: str) -> list[str]:
        if key not in fields:
            return []
        result = []
        for text, item in string_list(fields[key], join(path, key), self.problems):
            if not text.strip():
                self.problems.add(item, join(path, key), "a token cannot be empty")
            elif text in self.tokens:
                self.problems.add(
                    item,
                    join(path, key),
                    f"token {text!r} is given twice (tokens must be unique across users)",
                )
            else:
                self.tokens.add(text)
                result.append(text)
        return result


def _within_bound(users: yaml.Node, problems: Problems) -> bool:
    """At most MAX_CREDENTIALS in all; the `generate:` entry that crosses it is reported."""
    total = 0
    for user in users.value if isinstance(users, yaml.SequenceNode) else ():
        for key, entries in user.value if isinstance(user, yaml.MappingNode) else ():
            if key.value != "credentials" or not isinstance(entries, yaml.SequenceNode):
                continue
            for entry in entries.value:
                count: Any = 1
                for name, count_node in entry.value if isinstance(entry, yaml.MappingNode) else ():
                    if name.value == "generate" and isinstance(count_node, yaml.ScalarNode):
                        count = value(count_node)
                if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                    continue  # reported where the entry is built
                total += count
                if total > MAX_CREDENTIALS:
                    problems.add(
                        entry,
                        "generate",
                        f"a scenario holds at most {MAX_CREDENTIALS} credentials; this entry "
                        f"brings it to {total}",
                    )
                    return False
    return True


def build(
    node: yaml.Node,
    name: str,
    path: str | None,
    bases: tuple[str, ...],
    problems: Problems,
    profile_override: str | None,
    seed_override: int | None,
) -> Scenario | None:
    if not _looks_like_a_scenario(node, problems):
        return None
    fields = mapping(node, "", TOP_KEYS, problems)
    if fields is None:
        return None
    settings = _settings(fields, problems, profile_override, seed_override)
    if "users" in fields and not _within_bound(fields["users"], problems):
        return None  # checked before anything is generated: refusing is instant
    now = settings["now"]
    reference_ms = now if now is not None else gen.REFERENCE_EPOCH_MS
    enums = PROFILES[settings["profile"]]
    records = RecordBuilder(problems, enums, settings["seed"], reference_ms)
    accounts = AccountBuilder(problems, enums, settings["seed"])
    builder = _UserBuilder(records, accounts)
    users: list[User] = []
    credentials: list[Credential] = []
    if "users" in fields:
        for index, user_node in items(fields["users"], "users", problems):
            built = builder.user(user_node, join("users", index), index)
            if built is not None:
                users.append(built[0])
                credentials.extend(built[1])
    faults: list[FaultSpec] = []
    if "faults" in fields:
        from cadenza_mock.scenario.faults import parse_fault

        for index, fault_node in items(fields["faults"], "faults", problems):
            fault = parse_fault(fault_node, join("faults", index), problems, users)
            if fault is not None:
                faults.append(fault)
    venue_outcomes: tuple[tuple[str, str], ...] = ()
    if "venues" in fields:
        venue_outcomes = _venue_outcomes(fields["venues"], enums, problems)
    market = None
    if "market" in fields:
        market = read_market(fields["market"], enums, settings["seed"], problems)
    replay: Mapping[tuple[str, str, str], tuple[str, str]] = {}
    if "replay" in fields:
        from cadenza_mock.scenario.replay import read_replay

        replay = read_replay(fields["replay"], users, problems)
    return Scenario(
        name=name,
        replay=replay,
        source=path,
        market=market,
        users=tuple(users),
        credentials=tuple(credentials),
        trading_accounts=tuple(accounts.accounts),
        account_operations=accounts.operations(),
        balances=tuple(accounts.balances),
        behaviors=tuple(accounts.behaviors),
        venue_outcomes=venue_outcomes,
        faults=tuple(faults),
        extends=bases,
        **settings,
    )


def _venue_outcomes(
    node: yaml.Node, enums: ProfileEnums, problems: Problems
) -> tuple[tuple[str, str], ...]:
    """`venues:` venue -> what that venue answers when verify or connect reaches it (a
    credential's own `venue_outcome:` wins); null means none."""
    if isinstance(node, yaml.ScalarNode) and value(node) is None:
        return ()
    fields = mapping(node, "venues", enums.venues, problems)
    if fields is None:
        return ()
    outcomes = []
    for venue, outcome_node in fields.items():
        where = join("venues", venue)
        outcome = enum(outcome_node, where, VENUE_OUTCOMES, problems, "venue outcome")
        if outcome is not None:
            outcomes.append((venue, outcome))
    return tuple(outcomes)


def _looks_like_a_scenario(node: yaml.Node, problems: Problems) -> bool:
    """False for a mapping with none of a scenario's keys, not even misspelled: some other
    file, whose keys are its content, so they are never quoted."""
    if (
        isinstance(node, yaml.MappingNode)
        and node.value
        and not any(
            isinstance(k, yaml.ScalarNode)
            and isinstance(k.value, str)
            and close_match(k.value, TOP_KEYS, MEANT_CUTOFF) is not None
            for k, _ in node.value
        )
    ):
        problems.add(
            node,
            "",
            f"not a scenario: none of its top-level keys is a scenario key "
            f"(allowed: {', '.join(TOP_KEYS)})",
        )
        return False
    return True


def _settings(
    fields: dict[str, yaml.Node],
    problems: Problems,
    profile_override: str | None,
    seed_override: int | None,
) -> dict[str, Any]:
    """description, seed, now, profile and mask_keep (keys.TOP's simple keys), the CLI's
    overrides applied."""
    settings, _ = keys.read_declared(keys.TOP, fields, "", problems)
    if seed_override is not None:
        settings["seed"] = seed_override
    if profile_override is not None:
        settings["profile"] = profile_override
    return settings

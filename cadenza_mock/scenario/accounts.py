"""Trading accounts of a scenario: explicit entries (any wire field of either profile) and
`generate: N` entries, backed by their user's credentials, and the history they imply.

Every rule the API enforces when it connects an account is checked here too, so a loaded
scenario is a state the API itself could have reached: one venue per account, no live
account behind a revoked credential, and one live account per external account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from cadenza_mock.contract.model import (
    AccountOperation,
    Credential,
    ProfileEnums,
    TradingAccount,
    User,
    identities,
    reached_account,
    venue_account,
)
from cadenza_mock.scenario import generate as gen
from cadenza_mock.scenario import keys
from cadenza_mock.scenario.nodes import (
    Problems,
    enum,
    items,
    join,
    mapping,
    read_aliases,
    scalar,
    suggest,
)
from cadenza_mock.scenario.records import elsewhere, is_uuid, listed_owner, stamps
from cadenza_mock.scenario.trading_keys import balances, venue_behavior

ACCOUNT_KEYS = keys.names(keys.TRADING_ACCOUNT)
GENERATE_KEYS = keys.generate_names(keys.TRADING_ACCOUNT)
# Keys that mean the same field in the two profiles' vocabularies (docs: name).
_ALIASES = keys.aliases(keys.TRADING_ACCOUNT)
_STAMPS = (
    ("createdAt", "created_at"),
    ("updatedAt", "updated_at"),
    ("disconnectedAt", "disconnected_at"),
)
DISCONNECTED = "DISCONNECTED"
_LISTED = 8  # how many of a user's credentials a "no such credential" message names

# (venue, venue_account of the first credential, external id): one account at the venue.
ExternalAccount = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class _Holder:
    """The live account holding an external account, for the 409 message."""

    trading_account_id: str
    user_id: str


class AccountBuilder:
    """Builds one scenario's trading accounts: ids are unique, and an external account is
    held by at most one live account, across all its users."""

    def __init__(self, problems: Problems, enums: ProfileEnums, seed: int) -> None:
        self.problems = problems
        self.enums = enums
        self.seed = seed
        self.accounts: list[TradingAccount] = []
        self.balances: list[tuple[str, tuple[tuple[str, str], ...]]] = []  # `balances:`
        self.behaviors: list[tuple[str, tuple[tuple[str, str], ...]]] = []  # `venue_behavior:`
        self._account_ids: set[str] = set()  # lower-case: the API matches ids case-insensitively
        self._live: dict[ExternalAccount, _Holder] = {}

    def user_accounts(
        self,
        node: yaml.Node,
        path: str,
        user: User,
        user_index: int,
        credentials: Sequence[Credential],
        credentials_complete: bool = True,
    ) -> None:
        """One user's `trading_accounts:` list, read once all their credentials are built.

        `credentials_complete` is False when some of them failed to build: a reference to
        one of those is then left unreported, as its own problem says what is wrong.
        """
        refs = _References(credentials, credentials_complete)
        for entry_index, entry in items(node, path, self.problems):
            where = join(path, entry_index)
            if isinstance(entry, yaml.MappingNode) and any(
                k.value == "generate" for k, _ in entry.value
            ):
                self._generated(entry, where, user, user_index, entry_index, credentials)
            else:
                self._explicit(entry, where, user, user_index, entry_index, refs)

    def operations(self) -> tuple[AccountOperation, ...]:
        """Each account's CONNECT at createdAt, and DISCONNECT at disconnectedAt for the
        disconnected ones; oldest first (then by account, CONNECT before DISCONNECT), and
        numbered in that order so that ids do not depend on where accounts are listed."""
        events = []
        for account in self.accounts:
            events.append((account.created_at, account.trading_account_id, 0, account))
            if account.status == DISCONNECTED and account.disconnected_at is not None:
                events.append((account.disconnected_at, account.trading_account_id, 1, account))
        events.sort(key=lambda event: event[:3])
        operations = []
        for n, (at, account_id, kind, account) in enumerate(events, 1):
            rng = gen.rng_for(self.seed, "scenario-operation", n)
            operations.append(
                AccountOperation(
                    operation_id=gen.uuid4_from(rng),
                    trading_account_id=account_id,
                    user_id=account.user_id,
                    operation_type="DISCONNECT" if kind else "CONNECT",
                    status="SUCCESS",
                    created_at=at,
                )
            )
        return tuple(operations)

    # ----------------------------------------------------------------- generate: N

    def _generated(
        self,
        node: yaml.Node,
        path: str,
        user: User,
        user_index: int,
        entry_index: int,
        credentials: Sequence[Credential],
    ) -> None:
        """N accounts, one per free (ACTIVE credential, identity) pair, in list order."""
        p = self.problems
        fields = mapping(node, path, GENERATE_KEYS, p)
        if fields is None:
            return
        count = scalar(fields["generate"], join(path, "generate"), int, p)
        if count is not None and count < 0:
            p.add(fields["generate"], join(path, "generate"), "cannot be negative")
            count = None
        venue = None
        if "venue" in fields:
            venues, other = self.enums.venues, elsewhere(self.enums, "venues")
            venue = enum(fields["venue"], join(path, "venue"), venues, p, "venue", other)
            if venue is None:
                return
        status = self._status(fields, path)
        if count is None or status is None:
            return
        pairs = self._free_pairs(credentials, venue, count)
        if count > len(pairs):
            which = f"ACTIVE {venue} credentials" if venue else "ACTIVE credentials"
            possible = "1 is" if len(pairs) == 1 else f"{len(pairs)} are"
            p.add(
                fields["generate"],
                join(path, "generate"),
                f"asks for {_accounts(count)}, but {possible} possible: this user's {which} "
                f"reach {len(pairs)} external account{'' if len(pairs) == 1 else 's'} not "
                "connected already",
            )
            return
        for n, (cred, identity) in enumerate(pairs[:count]):
            rng = gen.rng_for(self.seed, "user", user_index, "account", entry_index, n)
            self._add(
                reached_account(
                    [cred],
                    identity,
                    self.enums.account_types,
                    trading_account_id=gen.uuid4_from(rng),
                    status=status,
                    created_at=cred.created_at,
                    updated_at=cred.created_at,
                    disconnected_at=cred.created_at if status == DISCONNECTED else None,
                )
            )

    def _free_pairs(
        self, credentials: Sequence[Credential], venue: str | None, wanted: int
    ) -> list[tuple[Credential, str]]:
        """(ACTIVE credential, identity) pairs on external accounts no live account holds:
        the first `wanted` of them, or all when there are fewer (the error counts them)."""
        pairs: list[tuple[Credential, str]] = []
        seen: set[ExternalAccount] = set()
        for cred in credentials:
            if cred.status != "ACTIVE" or (venue is not None and cred.venue != venue):
                continue
            holder = venue_account(cred)
            for identity in identities(cred.venue):
                key = (cred.venue, holder, identity)
                if key not in self._live and key not in seen:
                    seen.add(key)
                    pairs.append((cred, identity))
                    if len(pairs) == wanted:
                        return pairs
        return pairs

    # ----------------------------------------------------------------- explicit entries

    def _explicit(
        self,
        node: yaml.Node,
        path: str,
        user: User,
        user_index: int,
        entry_index: int,
        refs: _References,
    ) -> None:
        p = self.problems
        fields = mapping(node, path, ACCOUNT_KEYS, p)
        if fields is None:
            return
        ok = read_aliases(fields, path, _ALIASES, self.problems)
        backing = self._backing(fields, node, path, refs)
        status = self._status(fields, path)
        given: dict[str, Any] = {}
        ok = self._ids(fields, path, user, given) and ok
        ok = self._texts(fields, path, given) and ok
        ok = stamps(fields, path, p, _STAMPS, given) and ok
        if "accountType" in fields:
            types = self.enums.account_types
            given["account_type"] = enum(
                fields["accountType"], join(path, "accountType"), types, p, "account type"
            )
            ok = ok and given["account_type"] is not None
        if backing is None or status is None or not ok:
            return
        creds = [cred for cred, _ in backing]
        venue = self._venue(fields, path, creds[0].venue)
        if venue is None:
            return
        holder = venue_account(creds[0])
        external = self._external(fields, node, path, venue, holder, status)
        if external is None:
            return
        rng = gen.rng_for(self.seed, "user", user_index, "account", entry_index, 0)
        created = given.get("created_at", max(c.created_at for c in creds))
        disconnected = given.get("disconnected_at")
        updated = given.get("updated_at", max(created, disconnected or created))
        if status == DISCONNECTED and disconnected is None:
            disconnected = updated
        account = reached_account(
            creds,
            external,
            self.enums.account_types,
            trading_account_id=given.get("trading_account_id") or gen.uuid4_from(rng),
            status=status,
            created_at=created,
            updated_at=updated,
            disconnected_at=disconnected,
            nickname=given.get("nickname"),
            given_type=given.get("account_type"),
            external_type=given.get("external_account_type"),
        )
        held = balances(fields.get("balances"), join(path, "balances"), p)
        acts = venue_behavior(fields.get("venue_behavior"), join(path, "venue_behavior"), p)
        if (
            held is not None
            and acts is not None
            and self._consistent(account, fields, node, path, backing, given)
        ):
            self._add(account)
            if held:
                self.balances.append((account.trading_account_id, held))
            if acts:
                self.behaviors.append((account.trading_account_id, acts))

    def _backing(
        self, fields: dict[str, yaml.Node], node: yaml.Node, path: str, refs: _References
    ) -> list[tuple[Credential, yaml.Node]] | None:
        """The credentials the entry names, each with the node that names it."""
        p = self.problems
        if "credentials" not in fields:
            p.add(
                node,
                path,
                "a trading account needs `credentials:` (credentialIds or names of this "
                "user's credentials), or `generate: N` to make several",
            )
            return None
        where = join(path, "credentials")
        listed = fields["credentials"]
        if isinstance(listed, yaml.SequenceNode) and not listed.value:
            p.add(listed, where, "an empty list names no credential")
            return None
        found: list[tuple[Credential, yaml.Node]] = []
        ok = True
        for index, item in items(listed, where, p):
            ref = scalar(item, join(where, index), str, p)
            cred = refs.resolve(ref, item, join(where, index), p) if ref is not None else None
            if cred is not None and any(cred is other for other, _ in found):
                p.add(item, join(where, index), f"names credential {cred.credential_id} twice")
                cred = None
            if cred is None:
                ok = False
            else:
                found.append((cred, item))
        if not ok or not found:
            return None
        venues = {cred.venue for cred, _ in found}
        if len(venues) > 1:
            held = "; ".join(f"{c.credential_id} is on {c.venue}" for c, _ in found)
            p.add(
                listed,
                where,
                f"credentials of different venues in one account ({held}): an account is "
                "on one venue",
            )
            return None
        return found

    def _status(self, fields: dict[str, yaml.Node], path: str) -> str | None:
        """The account status in the engine's names (the file uses the profile's)."""
        if "status" not in fields:
            return "ACTIVE"
        shown = enum(
            fields["status"],
            join(path, "status"),
            self.enums.account_statuses,
            self.problems,
            "account status",
        )
        return None if shown is None else self.enums.account_status_in(shown)

    def _ids(
        self, fields: dict[str, yaml.Node], path: str, user: User, given: dict[str, Any]
    ) -> bool:
        """tradingAccountId (a UUID new to the scenario); userId must be the listing user's."""
        p, ok = self.problems, True
        if "tradingAccountId" in fields:
            where = join(path, "tradingAccountId")
            account_id = scalar(fields["tradingAccountId"], where, str, p)
            if account_id is not None and not is_uuid(account_id):
                p.add(fields["tradingAccountId"], where, f"expected a UUID, got {account_id!r}")
                account_id = None
            elif account_id is not None and account_id.lower() in self._account_ids:
                p.add(
                    fields["tradingAccountId"], where, f"tradingAccountId {account_id} given twice"
                )
                account_id = None
            ok = account_id is not None
            given["trading_account_id"] = account_id
        ok = listed_owner(fields, path, user, p) and ok
        return ok

    def _texts(self, fields: dict[str, yaml.Node], path: str, given: dict[str, Any]) -> bool:
        """nickname (or name) and externalAccountType: non-empty strings."""
        ok = True
        for key, attr in (
            ("nickname", "nickname"),
            ("externalAccountType", "external_account_type"),
        ):
            if key not in fields:
                continue
            text = scalar(fields[key], join(path, key), str, self.problems)
            if text is not None and not text:
                self.problems.add(fields[key], join(path, key), "cannot be empty")
                text = None
            ok = ok and text is not None
            given[attr] = text
        return ok

    def _venue(self, fields: dict[str, yaml.Node], path: str, held: str) -> str | None:
        """The account's venue: its credentials' one; a `venue:` given must say the same."""
        if "venue" not in fields:
            return held
        where = join(path, "venue")
        other = elsewhere(self.enums, "venues")
        venue = enum(fields["venue"], where, self.enums.venues, self.problems, "venue", other)
        if venue is not None and venue != held:
            self.problems.add(
                fields["venue"],
                where,
                f"venue {venue} differs from its credentials' venue ({held})",
            )
            return None
        return venue

    def _external(
        self,
        fields: dict[str, yaml.Node],
        node: yaml.Node,
        path: str,
        venue: str,
        holder: str,
        status: str,
    ) -> str | None:
        """externalTradingAccountId: an account these keys reach; by default the first
        one that no live account holds yet."""
        reached = identities(venue)
        key = "externalTradingAccountId"
        if key in fields:
            external = scalar(fields[key], join(path, key), str, self.problems)
            if external is not None and external not in reached:
                self.problems.add(
                    fields[key],
                    join(path, key),
                    f"{external!r} is not an account {venue} keys reach"
                    + suggest(external, reached),
                )
                return None
            return None if external is None else str(external)
        for identity in reached:
            if (venue, holder, identity) not in self._live:
                return identity
        if status == DISCONNECTED:
            return reached[0]
        self.problems.add(
            node,
            path,
            f"every account these {venue} keys reach is connected already "
            f"({', '.join(reached)}): give externalTradingAccountId, or make it DISCONNECTED",
        )
        return None

    def _consistent(
        self,
        account: TradingAccount,
        fields: dict[str, yaml.Node],
        node: yaml.Node,
        path: str,
        backing: list[tuple[Credential, yaml.Node]],
        given: dict[str, Any],
    ) -> bool:
        """Timestamps in order, no live account behind a revoked credential, and no two
        live accounts on one external account."""
        p, ok = self.problems, True
        shown = self.enums.account_status_out(account.status)
        if account.updated_at < account.created_at:
            why = (
                ""
                if "created_at" in given
                else f" (createdAt defaults to its newest credential's, {account.created_at})"
            )
            p.add(
                _first(fields, "updatedAt", "updatedAtDateTime") or node,
                join(path, "updatedAt"),
                f"updatedAt is before createdAt{why}",
            )
            ok = False
        if "disconnected_at" in given:
            where = join(path, "disconnectedAt")
            stamp = fields["disconnectedAt"]
            if account.status != DISCONNECTED:
                p.add(stamp, where, f"disconnectedAt is set but status is {shown}")
                ok = False
            elif given["disconnected_at"] < account.created_at:
                p.add(stamp, where, "disconnectedAt is before createdAt")
                ok = False
            elif given["disconnected_at"] > account.updated_at:
                p.add(stamp, where, "disconnectedAt is after updatedAt")
                ok = False
        if account.status == DISCONNECTED:
            return ok
        for index, (cred, item) in enumerate(backing):
            if cred.status == self.enums.revoked_status:
                p.add(
                    item,
                    join(join(path, "credentials"), index),
                    f"a revoked credential ({cred.credential_id}) cannot back a connected "
                    "account: make the account DISCONNECTED or the credential live",
                )
                ok = False
        holder = self._live.get((account.venue, account.venue_account, account.external_id))
        if holder is not None:
            whose = "" if holder.user_id == account.user_id else " of another user"
            p.add(
                fields.get("externalTradingAccountId", node),
                join(path, "externalTradingAccountId"),
                f"{account.venue} account {account.external_id!r} of these keys is connected "
                f"already, as tradingAccountId {holder.trading_account_id}{whose}: two live "
                "accounts cannot hold one external account (the API answers 409)",
            )
            ok = False
        return ok

    def _add(self, account: TradingAccount) -> None:
        self.accounts.append(account)
        self._account_ids.add(account.trading_account_id.lower())
        if account.status != DISCONNECTED:
            key = (account.venue, account.venue_account, account.external_id)
            self._live[key] = _Holder(account.trading_account_id, account.user_id)


def _accounts(count: int) -> str:
    return "1 trading account" if count == 1 else f"{count} trading accounts"


def _first(fields: dict[str, yaml.Node], *keys: str) -> yaml.Node | None:
    return next((fields[k] for k in keys if k in fields), None)


class _References:
    """One user's credentials by credentialId (any case) and by name."""

    def __init__(self, credentials: Sequence[Credential], complete: bool) -> None:
        self.credentials = credentials
        self.complete = complete
        self.by_id = {c.credential_id.lower(): c for c in credentials}
        self.by_name: dict[str, list[Credential]] = {}
        for cred in credentials:
            self.by_name.setdefault(cred.name, []).append(cred)

    def resolve(
        self, ref: str, node: yaml.Node, path: str, problems: Problems
    ) -> Credential | None:
        cred = self.by_id.get(ref.lower())
        if cred is not None:
            return cred
        named = self.by_name.get(ref, [])
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(c.credential_id for c in named)
            problems.add(
                node,
                path,
                f"{len(named)} of this user's credentials are named {ref!r} ({ids}): "
                "name it by credentialId",
            )
        elif self.complete:
            problems.add(node, path, f"this user has no credential {ref!r} ({self.listing()})")
        return None

    def listing(self) -> str:
        """What the user has, by name and id (never a key: names and ids are not secret)."""
        if not self.credentials:
            return "they have no credentials"
        shown = ", ".join(f"{c.name!r} {c.credential_id}" for c in self.credentials[:_LISTED])
        more = len(self.credentials) - _LISTED
        return f"they have: {shown}" + (f" and {more} more" if more > 0 else "")

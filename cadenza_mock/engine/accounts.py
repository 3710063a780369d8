"""Trading accounts: connected through credentials, changed by their owner and by what
happens to those credentials (rotate keeps them, revoke disconnects them).

Kept apart from the credential store because its state is its own (accounts and their
operation history), but never apart from its rules: every check runs before any change,
in one synchronous step, as in the store. Statuses are the engine's (sdk) names; the
profile renames them on the wire.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from cadenza_mock.contract.errors import (
    ACCOUNT_NOT_FOUND,
    ALREADY_CONNECTED,
    ALREADY_REVOKED,
    INVALID_API_KEY,
    INVALID_STATE,
    PERMISSION_DENIED,
    VALIDATION_FAILED,
)

# account_type and venue_account are defined on the ground floor, since scenario files use
# them too; re-exported here for the store and the tests.
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
from cadenza_mock.engine import lifecycle
from cadenza_mock.engine.clock import Clock
from cadenza_mock.seeded import rng_for, uuid4_from

DISCONNECTED = "DISCONNECTED"
NEW = "NEW"  # reached by the caller's verified keys, not connected (yet)
UNAVAILABLE = "UNAVAILABLE"  # what verify calls an account another user connected
FERMATA = "FERMATA"  # the platform's own venue: connect needs no credentials


def account_sort_key(account: TradingAccount) -> tuple[int, str]:
    """List order: createdAt ascending, then tradingAccountId, as credentials."""
    return (account.created_at, account.trading_account_id)


class Accounts:
    """The trading accounts of one loaded scenario and their operation history."""

    def __init__(
        self,
        accounts: Iterable[TradingAccount],
        operations: Iterable[AccountOperation],
        *,
        seed: int,
        enums: ProfileEnums,
        clock: Clock,
        credential: Callable[[str], Credential | None],
        on_change: Callable[[TradingAccount], None] | None = None,
    ) -> None:
        self.enums = enums
        # Told of every account a request changed (its channel's events follow from it).
        self._on_change = on_change
        self._seed = seed
        self._clock = clock
        self._credential = credential
        self._pristine = {
            a.trading_account_id.lower(): a for a in sorted(accounts, key=account_sort_key)
        }
        self._pristine_operations = tuple(operations)
        self.changed = False
        self.reset()

    def reset(self) -> None:
        self.version = getattr(self, "version", 0) + 1  # answers cached before are stale
        self._accounts = dict(self._pristine)
        self._operations = list(self._pristine_operations)
        self._connects = 0
        self.changed = False

    def changes(self) -> tuple[int, list[TradingAccount], list[AccountOperation]]:
        """(connects so far, the accounts that differ from the scenario's, operations since
        the load): what a state file keeps."""
        pristine = self._pristine
        changed = [a for key, a in self._accounts.items() if pristine.get(key) is not a]
        return self._connects, changed, self._operations[len(self._pristine_operations) :]

    def apply(
        self,
        connects: int,
        accounts: Sequence[TradingAccount],
        operations: Sequence[AccountOperation],
    ) -> None:
        """Back to the scenario, then what `changes` gave (a state file read at start)."""
        self.reset()
        for account in accounts:
            self._accounts[account.trading_account_id.lower()] = account
        self._operations.extend(operations)
        self._connects = connects
        self.changed = bool(connects or accounts or operations)

    # ----------------------------------------------------------------- queries

    def all(self) -> list[TradingAccount]:
        return list(self._accounts.values())

    def find(self, trading_account_id: str) -> TradingAccount | None:
        return self._accounts.get(trading_account_id.lower())

    def of(self, user_id: str) -> list[TradingAccount]:
        return [a for a in self._accounts.values() if a.user_id == user_id]

    def operations_of(self, user_id: str) -> list[AccountOperation]:
        """The user's operations, newest first (the order the list answers)."""
        return [op for op in reversed(self._operations) if op.user_id == user_id]

    def credentials_of(self, account: TradingAccount) -> list[Credential]:
        return [c for cid in account.credential_ids if (c := self._credential(cid)) is not None]

    def _on(self, venue: str, holder: str, external_id: str) -> list[TradingAccount]:
        """The live accounts (any user's, NEW ones included) on one external account."""
        return [
            account
            for account in self._accounts.values()
            if account.status != DISCONNECTED
            and (account.venue, account.venue_account, account.external_id)
            == (venue, holder, external_id)
        ]

    def reached(
        self, user: User, cred: Credential, identity: str, *, seeded: Callable[[int], str]
    ) -> TradingAccount:
        """What verify reports of one external account the caller's keys reach (see
        Store.accounts_reached); a NEW one is kept, under the first free seeded id."""
        on_it = self._on(cred.venue, venue_account(cred), identity)
        mine = next((a for a in on_it if a.user_id == user.user_id), None)
        other = next((a for a in on_it if a.user_id != user.user_id and a.status != NEW), None)
        if other is not None and (mine is None or mine.status == NEW):
            return reached_account(
                [cred],
                identity,
                self.enums.account_types,
                trading_account_id=other.trading_account_id,
                status=UNAVAILABLE,
                created_at=cred.created_at,
                updated_at=cred.updated_at,
            )
        if mine is not None:
            return mine
        draw = 0
        while seeded(draw).lower() in self._accounts:
            draw += 1
        now = self._clock.now_ms()
        found = reached_account(
            [cred],
            identity,
            self.enums.account_types,
            trading_account_id=seeded(draw),
            status=NEW,
            created_at=now,
            updated_at=now,
        )
        self._put(found)
        return found

    def backed_by(self, credential_id: str) -> list[TradingAccount]:
        wanted = credential_id.lower()
        return [
            a
            for a in self._accounts.values()
            if any(cid.lower() == wanted for cid in a.credential_ids)
        ]

    def owned(self, user: User, trading_account_id: str) -> TradingAccount:
        """The caller's account: 404 if nobody has it, 403 if someone else does."""
        account = self.find(trading_account_id)
        if account is None:
            raise ACCOUNT_NOT_FOUND.error()
        if account.user_id != user.user_id:
            raise PERMISSION_DENIED.error()
        return account

    # ----------------------------------------------------------------- changes

    def _put(self, *accounts: TradingAccount) -> None:
        for account in accounts:
            self._accounts[account.trading_account_id.lower()] = account
        self.changed = True
        self.version += 1
        if self._on_change is not None:
            for account in accounts:
                self._on_change(account)

    def _log(self, account: TradingAccount, operation_type: str, at: int) -> None:
        rng = rng_for(self._seed, "operation", len(self._operations) + 1)
        self._operations.append(
            AccountOperation(
                operation_id=uuid4_from(rng),
                trading_account_id=account.trading_account_id,
                user_id=account.user_id,
                operation_type=operation_type,
                status="SUCCESS",
                created_at=at,
            )
        )
        self.changed = True

    def _now_after(self, account: TradingAccount) -> int:
        # As for credentials: every change moves updatedAt forward, even on a frozen clock.
        return self._clock.stamp_after(account.updated_at)

    def connect(
        self,
        user: User,
        creds: Sequence[Credential],
        *,
        venue: str | None,
        external_id: str,
        nickname: str | None,
        outcome: Callable[[Credential], str],
    ) -> TradingAccount:
        """Connect the external account these (already owned) credentials reach."""
        venue = venue or creds[0].venue
        for cred in creds:
            self._check_usable(cred, venue)
        for cred in creds:
            verdict = outcome(cred)
            if not cred.keys_valid or verdict == "invalid_keys":
                raise INVALID_API_KEY.error(f"the {venue} keys of credential {cred.credential_id}")
            error = lifecycle.venue_error(verdict, venue)
            if error is not None:
                raise error
        reached = identities(venue)
        if external_id not in reached:
            raise VALIDATION_FAILED.error(
                f"externalTradingAccountId {external_id!r} is not an account these keys "
                f"reach on {venue} (they reach: {', '.join(reached)})"
            )
        holder = venue_account(creds[0])
        self._check_free(user, venue, holder, external_id)
        ids = tuple(dict.fromkeys(c.credential_id for c in creds))
        for found in self._on(venue, holder, external_id):  # verify reported it NEW
            if found.user_id == user.user_id and found.status == NEW:
                now = self._now_after(found)
                account = dataclasses.replace(
                    found,
                    status="ACTIVE",
                    credential_ids=ids,
                    nickname=nickname or found.nickname,
                    updated_at=now,
                )
                self._put(account)
                self._log(account, "CONNECT", now)
                return account
        self._connects += 1
        rng = rng_for(self._seed, "connected", self._connects)
        now = self._clock.now_ms()
        account = reached_account(
            creds,
            external_id,
            self.enums.account_types,
            trading_account_id=uuid4_from(rng),
            status="ACTIVE",
            created_at=now,
            updated_at=now,
            nickname=nickname,
        )
        self._put(account)
        self._log(account, "CONNECT", now)
        return account

    def connect_fermata(self, user: User, *, nickname: str | None, outcome: str) -> TradingAccount:
        """Connect a Fermata account: the official document needs only the venue (Fermata is
        the platform's own venue, no credentials). Each call is a new account, its external
        id a seeded UUID (the Fermata side's), so two never collide."""
        error = lifecycle.venue_error(outcome, FERMATA)
        if error is not None:
            raise error
        self._connects += 1
        rng = rng_for(self._seed, "connected", self._connects)
        account_id, external_id = uuid4_from(rng), uuid4_from(rng)
        now = self._clock.now_ms()
        account = TradingAccount(
            trading_account_id=account_id,
            user_id=user.user_id,
            venue=FERMATA,
            external_id=external_id,
            venue_account=external_id,
            nickname=nickname or "Fermata",
            account_type="SPOT",
            external_account_type="FERMATA",
            credential_ids=(),
            status="ACTIVE",
            created_at=now,
            updated_at=now,
        )
        self._put(account)
        self._log(account, "CONNECT", now)
        return account

    def _check_usable(self, cred: Credential, venue: str) -> None:
        """Connect needs live credentials of that venue that have passed verify."""
        if cred.venue != venue:
            raise VALIDATION_FAILED.error(
                f"credential {cred.credential_id} is on {cred.venue}, not {venue}"
            )
        if cred.status == self.enums.revoked_status:
            raise ALREADY_REVOKED.error(f"credential {cred.credential_id} cannot connect")
        if cred.status == "CREATED":
            raise INVALID_STATE.error(
                f"credential {cred.credential_id} has not passed verify; verify it first"
            )
        if cred.status != "ACTIVE":
            raise INVALID_STATE.error(
                f"credential {cred.credential_id} is {cred.status}; rotate its keys first"
            )

    def _check_free(self, user: User, venue: str, holder: str, external_id: str) -> None:
        for account in self._on(venue, holder, external_id):
            if account.status == NEW:
                continue  # reached, not connected: the caller's is connected in place
            if account.user_id == user.user_id:
                raise ALREADY_CONNECTED.error(
                    f"{venue} account {external_id!r} is connected already as "
                    f"tradingAccountId {account.trading_account_id}"
                )
            raise ALREADY_CONNECTED.error(
                f"{venue} account {external_id!r} is connected by another user"
            )

    def change(self, user: User, trading_account_id: str, action: str) -> TradingAccount:
        """enable, disable or disconnect one of the caller's accounts."""
        account = self.owned(user, trading_account_id)
        shown = self.enums.account_status_out(account.status)
        target = lifecycle.next_account_status(action, account, shown)
        if target == account.status:
            return account  # enabling an active account: nothing to do, nothing logged
        if account.status == NEW and target != DISCONNECTED:
            holder = (account.venue, account.venue_account, account.external_id)
            if any(a.user_id != user.user_id and a.status != NEW for a in self._on(*holder)):
                raise INVALID_STATE.error(
                    f"cannot {action} a trading account that another user has connected "
                    f"({account.venue} account {account.external_id!r})"
                )
        now = self._now_after(account)
        moved = dataclasses.replace(
            account,
            status=target,
            updated_at=now,
            disconnected_at=now if target == DISCONNECTED else account.disconnected_at,
        )
        self._put(moved)
        self._log(moved, action.upper(), now)
        return moved

    def rename(self, user: User, trading_account_id: str, nickname: str | None) -> TradingAccount:
        account = self.owned(user, trading_account_id)
        lifecycle.next_account_status(
            "update", account, self.enums.account_status_out(account.status)
        )
        if nickname is None or nickname == account.nickname:
            return account
        now = self._now_after(account)
        renamed = dataclasses.replace(account, nickname=nickname, updated_at=now)
        self._put(renamed)
        self._log(renamed, "UPDATE", now)
        return renamed

    def attach(self, account: TradingAccount, cred: Credential) -> None:
        """One more credential backs the account (it keeps its status)."""
        now = self._now_after(account)
        ids = (*account.credential_ids, cred.credential_id)
        self._put(dataclasses.replace(account, credential_ids=ids, updated_at=now))

    def credential_rotated(self, cred: Credential) -> None:
        """Rotate keeps every account connected; each logs CREDENTIAL_ROTATE."""
        for account in self.backed_by(cred.credential_id):
            if account.status == DISCONNECTED:
                continue
            now = self._now_after(account)
            moved = dataclasses.replace(account, updated_at=now)
            self._put(moved)
            self._log(moved, "CREDENTIAL_ROTATE", now)

    def credential_revoked(self, cred: Credential) -> None:
        """Revoke disconnects every account it alone backed; accounts that other live
        credentials back lose it and stay connected. Each logs CREDENTIAL_REVOKE."""
        revoked = self.enums.revoked_status
        for account in self.backed_by(cred.credential_id):
            if account.status == DISCONNECTED:
                continue
            now = self._now_after(account)
            others = tuple(
                cid
                for cid in account.credential_ids
                if cid.lower() != cred.credential_id.lower()
                and (other := self._credential(cid)) is not None
                and other.status != revoked
            )
            if others:
                moved = dataclasses.replace(account, credential_ids=others, updated_at=now)
            else:
                target = lifecycle.next_account_status("credential_revoke", account, account.status)
                moved = dataclasses.replace(
                    account, status=target, updated_at=now, disconnected_at=now
                )
            self._put(moved)
            self._log(moved, "CREDENTIAL_REVOKE", now)

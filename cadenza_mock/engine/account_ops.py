"""The trading-account side of the Store: what it asks of Accounts, checked against credentials."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import INVALID_API_KEY, VALIDATION_FAILED, ApiError
from cadenza_mock.contract.model import (
    AccountOperation,
    Credential,
    ProfileEnums,
    TradingAccount,
    User,
    account_type,
)
from cadenza_mock.engine import lifecycle
from cadenza_mock.engine.accounts import Accounts, account_sort_key
from cadenza_mock.engine.query import AccountFilter, OperationFilter
from cadenza_mock.scenario import Scenario
from cadenza_mock.seeded import rng_for, uuid4_from


class AccountOps:
    """The Store's trading-account calls (callers say `store.connect(...)` and so on)."""

    scenario: Scenario
    profile: str
    enums: ProfileEnums
    accounts: Accounts
    _venue_outcomes: dict[str, str]
    _created: int
    _changed: bool

    if TYPE_CHECKING:

        def owned(self, user: User, credential_id: str) -> Credential: ...

        def venue_outcome(self, cred: Credential, override: str | None = None) -> str: ...

        def live_with_key(self, user_id: str, venue: str, api_key: str) -> list[Credential]: ...

        def _same_secret(self, stored: str, given: str) -> bool: ...

        def _take_back(self, cred: Credential, saved: tuple[int, bool]) -> None: ...

        def create(
            self,
            user: User,
            *,
            venue: str,
            ctype: str | None = None,
            name: str | None = None,
            api_key: str | None = None,
            api_secret: str | None = None,
            api_passphrase: str | None = None,
        ) -> Credential: ...

    def accounts_reached(self, user: User, result: lifecycle.VerifyResult) -> list[TradingAccount]:
        """sdk verify: the trading accounts a credential reaches, as the official document
        words it: the caller's own as they are; one another user connected as UNAVAILABLE
        (under that account's id, which answers the caller 403); the others NEW, kept as
        the caller's records so their ids work (enable, disable, update, disconnect; a
        connect of that external account answers the same id). A revoked credential
        reaches nothing: its own (disconnected) accounts are reported, nothing made up."""
        cred = result.credential
        if not result.verified:
            if cred.status != self.enums.revoked_status:
                return []
            return [
                a for a in self.accounts.backed_by(cred.credential_id) if a.user_id == user.user_id
            ]
        seed = self.scenario.seed

        def seeded(identity: str) -> Callable[[int], str]:
            # as before issue 24 for the first one; a later one (the first was
            # disconnected since) draws again
            return lambda n: uuid4_from(
                rng_for(seed, "account", cred.credential_id, identity, *([n] if n else []))
            )

        return [
            self.accounts.reached(user, cred, identity, seeded=seeded(identity))
            for identity in result.identities
        ]

    def account_json(self, account: TradingAccount) -> dict[str, Any]:
        return wire.trading_account(
            account, self.accounts.credentials_of(account), self.profile, self.enums
        )

    def connect(
        self,
        user: User,
        credential_ids: Sequence[str],
        *,
        external_id: str,
        venue: str | None = None,
        nickname: str | None = None,
        outcome: str | None = None,
    ) -> TradingAccount:
        """Connect the external account that these credentials of the caller reach."""
        creds = [self.owned(user, cid) for cid in credential_ids]
        account = self.accounts.connect(
            user,
            creds,
            venue=venue,
            external_id=external_id,
            nickname=nickname,
            outcome=lambda cred: self.venue_outcome(cred, outcome),
        )
        return account

    def connect_fermata(
        self, user: User, *, nickname: str | None = None, outcome: str | None = None
    ) -> TradingAccount:
        """POST /tradingAccount/connect with only `venue: FERMATA` (the official document);
        the venue answers as the scenario's `venues:` or a fault's `venue:` says."""
        verdict = outcome or self._venue_outcomes.get("FERMATA", "ok")
        return self.accounts.connect_fermata(user, nickname=nickname, outcome=verdict)

    def create_for_account(
        self,
        user: User,
        trading_account_id: str,
        *,
        venue: str,
        ctype: str | None = None,
        name: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        api_passphrase: str | None = None,
    ) -> Credential:
        """A credential made for one of the caller's live accounts (the WebSocket API's
        create names the account): checked first, then created and added to it."""
        account = self.accounts.owned(user, trading_account_id)
        lifecycle.next_account_status(
            "update", account, self.enums.account_status_out(account.status)
        )
        if account.venue != venue:
            raise VALIDATION_FAILED.error(
                f"venue {venue} is not the trading account's venue ({account.venue})"
            )
        cred = self.create(
            user,
            venue=venue,
            ctype=ctype,
            name=name,
            api_key=api_key,
            api_secret=api_secret,
            api_passphrase=api_passphrase,
        )
        self.accounts.attach(account, cred)
        return cred

    def connect_with_keys(
        self,
        user: User,
        *,
        venue: str,
        api_key: str,
        api_secret: str,
        api_passphrase: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
    ) -> TradingAccount:
        """The docs reference page's connect: venue keys in the body. The caller's live
        credential with that key is used (its secret must match); without one, a
        credential is created as /credential/create would. Errors change nothing: a
        credential created for a connect that then fails is taken back."""
        wanted = kind or "SPOT"
        reached = lifecycle.identities(venue)
        matching = [i for i in reached if account_type(i, self.enums.account_types) == wanted]
        if not matching:
            raise VALIDATION_FAILED.error(
                f"accountType {wanted}: no such account on {venue} (accounts: {', '.join(reached)})"
            )
        existing = next(iter(self.live_with_key(user.user_id, venue, api_key)), None)
        if existing is not None:
            if existing.api_secret is not None and not self._same_secret(
                existing.api_secret, api_secret
            ):
                raise INVALID_API_KEY.error(f"apiSecret does not match the {venue} key")
            return self.connect(
                user,
                [existing.credential_id],
                external_id=matching[0],
                venue=venue,
                nickname=name,
                outcome=outcome,
            )
        saved = (self._created, self._changed)
        cred = self.create(
            user,
            venue=venue,
            api_key=api_key,
            api_secret=api_secret,
            api_passphrase=api_passphrase,
        )
        try:
            return self.connect(
                user,
                [cred.credential_id],
                external_id=matching[0],
                venue=venue,
                nickname=name,
                outcome=outcome,
            )
        except ApiError:
            self._take_back(cred, saved)
            raise

    def change_account(self, user: User, trading_account_id: str, action: str) -> TradingAccount:
        """enable, disable or disconnect."""
        return self.accounts.change(user, trading_account_id, action)

    def update_account(
        self, user: User, trading_account_id: str, nickname: str | None
    ) -> TradingAccount:
        return self.accounts.rename(user, trading_account_id, nickname)

    def accounts_page(self, user: User, where: AccountFilter) -> tuple[list[TradingAccount], int]:
        """(the page of the caller's matching accounts, how many match), in list order."""
        matches = sorted(
            (
                a
                for a in self.accounts.of(user.user_id)
                if (
                    where.trading_account_ids is None
                    or a.trading_account_id.lower() in where.trading_account_ids
                )
                and (where.venues is None or a.venue in where.venues)
                and (where.statuses is None or a.status in where.statuses)
                and (where.user_ids is None or a.user_id.lower() in where.user_ids)
                and (where.tenant_ids is None or user.tenant_id in where.tenant_ids)
            ),
            key=account_sort_key,
        )
        start, end = where.page.cut(len(matches))
        return matches[start:end], len(matches)

    def account_list(self, user: User, where: AccountFilter) -> bytes:
        """The trading account list envelope: filtered, ordered like credentials, paged."""
        page, total = self.accounts_page(user, where)
        data = [self.account_json(a) for a in page]
        return wire.list_body(data, self.profile, where.page.pagination(total))

    def operation_list(self, user: User, where: OperationFilter) -> bytes:
        """The operation history envelope: newest first, filtered, paged."""
        matches: list[AccountOperation] = [
            op
            for op in self.accounts.operations_of(user.user_id)
            if (
                where.trading_account_ids is None
                or op.trading_account_id.lower() in where.trading_account_ids
            )
            and (where.operation_types is None or op.operation_type in where.operation_types)
            and (where.start is None or op.created_at >= where.start)
            and (where.end is None or op.created_at <= where.end)
        ]
        start, end = where.page.cut(len(matches))
        data = [wire.operation(op, self.profile) for op in matches[start:end]]
        return wire.list_body(data, self.profile, where.page.pagination(len(matches)))

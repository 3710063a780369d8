"""Credentials and users in memory, with prebuilt response bytes.

Records are immutable and the pristine state is kept aside, never copied: requests change
an overlay of replaced and created records, so `reset()` only drops the overlay. Lookups
use indexes (by id, by user, by user and status or type, by live (user, venue, apiKey)),
built once for the pristine records and kept up to date for the overlay, never a scan.
Serialized list responses are cached per (user, filter) and dropped on any change: an
unchanged store never re-serializes.
Every mutation checks everything first and changes state last, in one synchronous step on
the event loop, so no error leaves state half-changed and concurrent requests serialize.
Indexes, list answers, trading-account calls and state-file changes live in their own
modules, as mixins of `Store` (credential_index, list_answers, account_ops, store_changes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from cadenza_mock.contract.errors import (
    ALREADY_EXIST,
    CREDENTIAL_NOT_FOUND,
    INVALID_STATE,
    PERMISSION_DENIED,
    VALIDATION_FAILED,
    unauthorized,
)
from cadenza_mock.contract.model import (
    Credential,
    Subscription,
    TradingAccount,
    User,
    building_records,
    venue_account,
)
from cadenza_mock.engine import lifecycle
from cadenza_mock.engine.account_ops import AccountOps
from cadenza_mock.engine.accounts import Accounts
from cadenza_mock.engine.auth import Sessions, bearer_token
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.credential_index import (
    IndexedRecords,
    IndexKey,
    build_index,
    index_keys,
    matches,
    sort_key,
)
from cadenza_mock.engine.fingerprints import is_marker, key_marker, new_salt, secret_marker
from cadenza_mock.engine.list_answers import LARGE_LIST, ListAnswers, PendingList
from cadenza_mock.engine.market import Market
from cadenza_mock.engine.market_subscriptions import MarketSubscriptions
from cadenza_mock.engine.orders import Order, Trading
from cadenza_mock.engine.portfolio import Portfolio
from cadenza_mock.engine.query import NO_FILTER, ListFilter
from cadenza_mock.engine.store_changes import ChangeReplay, StoreChanges
from cadenza_mock.engine.subscriptions import ChannelEvent, Subscriptions
from cadenza_mock.engine.trading_query import trading_events
from cadenza_mock.engine.users import Users
from cadenza_mock.scenario import Scenario
from cadenza_mock.seeded import rng_for, uuid4_from

# Importers of this module get these names from it, as before the split (LARGE_LIST is
# read where the list answers live: patch `list_answers.LARGE_LIST` to change it).
__all__ = [
    "LARGE_LIST",
    "NO_FILTER",
    "IndexKey",
    "PendingList",
    "Store",
    "StoreChanges",
    "build_index",
    "index_keys",
    "sort_key",
]


class Store(IndexedRecords, ListAnswers, AccountOps, ChangeReplay):
    """The scenario's users and credentials, and what requests have changed since load."""

    def __init__(
        self,
        scenario: Scenario,
        clock: Clock | None = None,
        on_change: Callable[[Credential], None] | None = None,
        *,
        namespace: str = "",
        on_event: Callable[[ChannelEvent], None] | None = None,
    ) -> None:
        self.scenario = scenario
        # Told of every credential a request changed, and of what the trading account
        # channels carry because of a change (the WebSocket API publishes those).
        self._on_change = on_change
        self._on_event = on_event
        self.profile = scenario.profile
        self.enums = scenario.enums
        self.clock = clock or Clock(scenario.now)
        # The market walks from now on (engine/market.py): nothing is computed until read.
        self.market = Market(scenario.seed, self.clock, scenario.market, self.enums.venues)
        # The scenario's users and those signup added or PUT /auth/user changed.
        self.users = Users({u.user_id: u for u in scenario.users}, self.clock, scenario.seed)
        # Salts the fingerprints of issued tokens and, once a state file was read, of the
        # keys and secrets it restored (records that hold markers, see `apply`).
        self.salt = new_salt()
        self._fingerprinted = False
        self.sessions = Sessions(
            self.users, self.clock, scenario.seed, self.salt, namespace=namespace
        )
        # token -> (user, expired?)
        self._static_tokens: dict[str, tuple[User, bool]] = {}
        for user in scenario.users:
            for token in user.tokens:
                self._static_tokens[token] = (user, False)
            for token in user.expired_tokens:
                self._static_tokens[token] = (user, True)
        # Keyed by lower-case id: ids in requests are matched case-insensitively.
        with building_records():
            self._pristine: dict[str, Credential] = {
                c.credential_id.lower(): c for c in sorted(scenario.credentials, key=sort_key)
            }
            # Pristine records by index key, in list order; built once, never changed.
            self._pristine_index = build_index(self._pristine, self.enums.revoked_status)
        # What requests changed: replaced and created records (created ones in creation
        # order), and the overlay's own index (a dict keeps insertion order).
        self._overlay: dict[str, Credential] = {}
        self._overlay_index: dict[IndexKey, dict[str, None]] = {}
        # Created records' creation order (the overlay's order among them).
        self._sequence: dict[str, int] = {}
        self._rotated_away: set[tuple[str, str]] = set()  # (venue, apiKey) no longer valid
        self._logged_out: set[str] = set()  # static tokens ended by /auth/logout
        self._created = 0
        self._changed = False
        self._list_cache: dict[tuple[str, ListFilter], bytes] = {}
        # (Authorization header, raw query string) -> (user id, list bytes), for static
        # scenario tokens only (they never expire): a repeated list call skips auth and
        # query parsing altogether. Cleared with the list cache and on logout.
        self._list_hits: dict[tuple[str, str], tuple[str, bytes]] = {}
        self._errors = 0  # error answers since the load or reset (their request ids)
        self._version = 0  # bumped by every credential change and reset (see `version`)
        # Serialized answers of other transports' queries (the WebSocket API's), keyed by
        # what they depend on, `version` included: a change makes every entry unreachable.
        self.answer_cache: dict[tuple[object, ...], str] = {}
        self._venue_outcomes = dict(scenario.venue_outcomes)
        self.accounts = Accounts(
            scenario.trading_accounts,
            scenario.account_operations,
            seed=scenario.seed,
            enums=self.enums,
            clock=self.clock,
            credential=self.find,
            on_change=self._account_changed,
        )
        self.subscriptions = Subscriptions(
            self.accounts, seed=scenario.seed, clock=self.clock, on_change=self._subscribed
        )
        # Order book subscriptions: what feeds the market:orderbook channels.
        self.market_subscriptions = MarketSubscriptions(
            self.market, seed=scenario.seed, clock=self.clock
        )
        # Orders and portfolios (engine/orders.py): none until a request asks.
        self.trading = Trading(
            seed=scenario.seed,
            clock=self.clock,
            market=self.market,
            accounts=self.accounts,
            enums=self.enums,
            holdings={a: {k: Decimal(v) for k, v in held} for a, held in scenario.balances},
            behaviors={a: dict(acts) for a, acts in scenario.behaviors},
            emails=self._email_of,
            on_change=self._traded,
        )
        # A clock move or a control's price change brings resting orders up to date at
        # once, their events too (nothing runs while none rests).
        self.clock.on_move_orders = self.market.on_price = self.trading.catch_up

    def _email_of(self, user_id: str) -> str | None:
        user = self.users.get(user_id)
        return user.email if user is not None else None

    def shared_parts(self) -> tuple[object, ...]:
        """What never changes after load (the scenario, its records and their indexes):
        a snapshot shares these instead of copying them."""
        return (
            self.scenario,
            self._pristine,
            self._pristine_index,
            self.users.pristine,
            self.enums,
            self._static_tokens,
            self._on_change,
            self._on_event,
        )

    # ----------------------------------------------------------------- state lifecycle

    def reset(self) -> None:
        """Back to the scenario as loaded; free when nothing changed."""
        self._version += 1
        if self._changed:
            self._overlay = {}
            self._overlay_index = {}
            self._sequence = {}
            self._rotated_away.clear()
            self._logged_out.clear()
            self._fingerprinted = False
            self._created = 0
            self._list_cache.clear()
            self._list_hits.clear()
            self._changed = False
        if self.sessions.changed:
            self.sessions.reset()
        if self.accounts.changed:
            self.accounts.reset()
        self.users.reset()
        self.market.reset()
        self.market_subscriptions.reset()
        if self.subscriptions.changed:
            self.subscriptions.reset()
        if self.trading.changed:
            self.trading.reset()
        self._errors = 0

    def next_request_id(self) -> str:
        """The sdk error envelope's `details.request_id`: the n-th error since the load or
        reset, drawn from the seed, so error answers are byte-identical run after run."""
        self._errors += 1
        rng = rng_for(self.scenario.seed, "request", self._errors)
        return f"req_{rng.getrandbits(80):020x}"

    @property
    def version(self) -> tuple[int, int, int, int]:
        """Changes whenever anything a query answers may have changed: a cache key."""
        return self._version, self.accounts.version, self.users.version, self.subscriptions.version

    def _put(self, *creds: Credential) -> None:
        for cred in creds:
            cid = cred.credential_id.lower()
            self._unindex(cid)
            if cid not in self._pristine and cid not in self._overlay:
                self._sequence[cid] = len(self._overlay)
            self._overlay[cid] = cred
            for key in index_keys(cred, self.enums.revoked_status):
                self._overlay_index.setdefault(key, {})[cid] = None
        self._changed = True
        self._dropped()
        if self._on_change is not None:
            for cred in creds:
                self._on_change(cred)
        if self._on_event is not None:
            for cred in creds:
                self._emit(self.subscriptions.events_for_credential(cred))

    def _account_changed(self, account: TradingAccount) -> None:
        if self._on_event is not None:
            self._emit(self.subscriptions.events_for_account(account))
        self.subscriptions.account_changed(account)  # before the change's next event

    def _traded(self, order: Order | None, pf: Portfolio) -> None:
        if self._on_event is not None and self.subscriptions.feeds(pf.trading_account_id):
            self._emit(trading_events(self.trading, order, pf))

    def _subscribed(self, subscription: Subscription) -> None:
        self._emit(self.subscriptions.events_for_subscription(subscription))

    def _emit(self, events: list[ChannelEvent]) -> None:
        if self._on_event is not None:
            for event in events:
                self._on_event(event)

    def _unindex(self, cid: str) -> None:
        """Take an overlay record out of the overlay's index (not out of the overlay)."""
        old = self._overlay.get(cid)
        if old is None:
            return
        for key in index_keys(old, self.enums.revoked_status):
            bucket = self._overlay_index.get(key)
            if bucket is not None:
                bucket.pop(cid, None)
                if not bucket:
                    del self._overlay_index[key]

    def _dropped(self) -> None:
        """Something changed: cached answers are stale."""
        self._version += 1
        self._list_cache.clear()
        self._list_hits.clear()

    # ----------------------------------------------------------------- auth

    def user_for_token(self, header: str | None) -> User:
        """The user an Authorization header speaks for, or the 401 the real API gives."""
        if header is None:
            raise unauthorized("missing Authorization header")
        token = bearer_token(header)
        if token is None:
            raise unauthorized("Authorization header must be 'Bearer <access token>'")
        found = self.lookup_token(token)
        if found is None:
            raise unauthorized("invalid token")
        user, expired = found
        if expired:
            raise unauthorized("token expired")
        return user

    def lookup_token(self, token: str) -> tuple[User, bool] | None:
        """(user, expired?) of a bearer token, None if unknown or logged out: what every
        transport authenticates with (REST by header, the WebSocket by connect token)."""
        if token in self._logged_out:
            return None
        static = self._static_tokens.get(token)
        if static is None:
            return self.sessions.lookup(token)
        user, expired = static
        if self.users.changed:  # PUT /auth/user may have changed the record since load
            user = self.users[user.user_id]
        return user, expired

    def token_expiry_ms(self, token: str) -> int | None:
        """When an access token expires (ms), or None for a scenario's static token."""
        if token in self._static_tokens:
            return None
        return self.sessions.expiry_ms(token)

    def logout(self, header: str | None) -> User:
        """End the bearer token (static or issued) until the next reset."""
        user = self.user_for_token(header)
        token = bearer_token(header) or ""
        if token in self._static_tokens:
            self._logged_out.add(token)
            self._changed = True
            self._version += 1
            self._list_hits.clear()
        else:
            self.sessions.logout(token)
        return user

    # ----------------------------------------------------------------- queries

    def health(self) -> dict[str, Any]:
        """What GET /api/v3/health reports: healthy while it answers, on the mock clock;
        the components are the ones the official client's model names."""
        healthy = {"status": "healthy"}
        return {
            "status": "healthy",
            "timestamp": self.clock.now_ms(),
            "checks": {"database": healthy, "temporal": healthy, "redis": healthy},
        }

    def credentials_of(self, user_id: str, where: ListFilter = NO_FILTER) -> list[Credential]:
        """The user's credentials that match the filter, in list order."""
        if where.credential_ids is not None:
            found = (self.find(cid) for cid in where.credential_ids)
            picked: Iterable[Credential] = (
                c for c in found if c is not None and c.user_id == user_id
            )
        else:
            # The narrowest index that holds every match; the filter then checks the rest.
            choices: list[list[IndexKey]] = [[("user", user_id)]]
            if where.statuses is not None:
                choices.append([("status", user_id, s) for s in sorted(where.statuses)])
            if where.types is not None:
                choices.append([("type", user_id, t) for t in sorted(where.types)])
            keys = min(choices, key=lambda ks: sum(self._indexed_size(k) for k in ks))
            if len(keys) == 1 and not self._overlay:
                # One pristine index list: already in list order.
                return [c for c in self._indexed(keys[0]) if matches(c, where)]
            picked = (c for key in keys for c in self._indexed(key))
        return sorted((c for c in picked if matches(c, where)), key=sort_key)

    def all_credentials(self) -> Iterable[Credential]:
        """Every record: the scenario's in list order (as changed since), then the ones
        requests created, in creation order."""
        if not self._overlay:
            return self._pristine.values()
        return self._merged()

    def _merged(self) -> Iterator[Credential]:
        overlay, pristine = self._overlay, self._pristine
        for cid, cred in pristine.items():
            yield overlay.get(cid, cred)
        for cid, cred in overlay.items():
            if cid not in pristine:
                yield cred

    def find(self, credential_id: str) -> Credential | None:
        cid = credential_id.lower()
        return self._overlay.get(cid) or self._pristine.get(cid)

    def live_with_key(self, user_id: str, venue: str, api_key: str) -> list[Credential]:
        """The user's credentials on this venue with this apiKey that are not revoked,
        in the order `all_credentials` gives them."""
        found = list(self._live_with_key(user_id, venue, api_key))
        if len(found) > 1:
            # Scenario records first, in list order, then created ones in creation order.
            pristine, sequence = self._pristine, self._sequence

            def position(c: Credential) -> tuple[int, tuple[int, str]]:
                cid = c.credential_id.lower()
                return (0, sort_key(c)) if cid in pristine else (1, (sequence[cid], ""))

            found.sort(key=position)
        return found

    def _live_with_key(self, user_id: str, venue: str, api_key: str) -> Iterator[Credential]:
        revoked = self.enums.revoked_status
        for form in self._key_forms(venue, api_key):
            for cred in self._indexed(("key", user_id, venue, form)):
                if cred.status != revoked:
                    yield cred

    # ----------------------------------------------------------------- restored state

    def _key_forms(self, venue: str, api_key: str) -> tuple[str, ...]:
        """How a given key may be held: as it is, and, once records were restored from a
        state file, as their marker (a restored record never holds the key itself)."""
        if not self._fingerprinted:
            return (api_key,)
        return (api_key, key_marker(self.salt, venue, api_key))

    def _was_rotated_away(self, venue: str, api_key: str) -> bool:
        return any((venue, form) in self._rotated_away for form in self._key_forms(venue, api_key))

    def _same_secret(self, stored: str, given: str) -> bool:
        if is_marker(stored):
            return stored == secret_marker(self.salt, "apiSecret", given)
        return stored == given

    def from_scenario(self, credential_id: str) -> bool:
        """Whether a credential is one of the scenario's (else a request created it)."""
        return credential_id.lower() in self._pristine

    # ----------------------------------------------------------------- lifecycle

    def owned(self, user: User, credential_id: str) -> Credential:
        """The caller's credential: 404 if nobody has it, 403 if someone else does."""
        cred = self.find(credential_id)
        if cred is None:
            raise CREDENTIAL_NOT_FOUND.error()
        if cred.user_id != user.user_id:
            raise PERMISSION_DENIED.error()
        return cred

    def _check_secrets(self, venue: str, api_key: str | None, passphrase: str | None) -> None:
        if api_key and venue in self.enums.passphrase_venues and not passphrase:
            raise VALIDATION_FAILED.error(f"apiPassphrase is required for {venue}")

    def _check_unique_key(self, user: User, venue: str, api_key: str, exclude: str = "") -> None:
        for other in self._live_with_key(user.user_id, venue, api_key):
            if other.credential_id != exclude:
                raise ALREADY_EXIST.error()

    def _now_after(self, cred: Credential) -> int:
        # Every change moves updatedAt forward, even under a frozen clock (which may also
        # sit before a scenario record's own timestamps): clients compare it to see changes.
        return self.clock.stamp_after(cred.updated_at)

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
    ) -> Credential:
        self._check_secrets(venue, api_key, api_passphrase)
        if api_key:
            self._check_unique_key(user, venue, api_key)
        # Ids of created credentials are seeded too: a rerun creates the same ids.
        rng = rng_for(self.scenario.seed, "created", self._created + 1)
        now = self.clock.now_ms()
        cred = Credential(
            credential_id=uuid4_from(rng),
            user_id=user.user_id,
            venue=venue,
            name=name or "",  # none given, none invented: the wire omits it
            type=ctype or self.enums.default_type,
            api_key=api_key or "",
            status=self.enums.created_status,
            created_at=now,
            updated_at=now,
            api_secret=api_secret,
            api_passphrase=api_passphrase,
            keys_valid=bool(api_key) and not self._was_rotated_away(venue, api_key or ""),
        )
        self._created += 1
        self._put(cred)
        return cred

    def venue_outcome(self, cred: Credential, override: str | None = None) -> str:
        """What the venue answers for these keys: a fault's `venue:` first, then the
        credential's `venue_outcome:`, then the scenario's `venues:` entry."""
        if override is not None:
            return override
        if cred.venue_outcome != "ok":
            return cred.venue_outcome
        return self._venue_outcomes.get(cred.venue, "ok")

    def verify(
        self, user: User, credential_ids: Sequence[str], outcome: str | None = None
    ) -> list[lifecycle.VerifyResult]:
        creds = [self.owned(user, cid) for cid in credential_ids]
        verdicts = [self.venue_outcome(cred, outcome) for cred in creds]
        for cred, verdict in zip(creds, verdicts, strict=True):
            # Only a usable credential reaches the venue; its errors fail the whole call.
            if cred.status in lifecycle.TRANSITIONS["verify"] and verdict != "invalid_keys":
                error = lifecycle.venue_error(verdict, cred.venue)
                if error is not None:
                    raise error
        results: list[lifecycle.VerifyResult] = []
        changed: list[Credential] = []
        for cred, verdict in zip(creds, verdicts, strict=True):
            result = lifecycle.verify(cred, verdict)
            if result.verified:
                target = lifecycle.next_status("verify", cred)
                if target != cred.status:
                    moved = dataclasses.replace(
                        cred, status=target, updated_at=self._now_after(cred)
                    )
                    changed.append(moved)
                    result = lifecycle.VerifyResult(moved, True, result.identities)
            results.append(result)
        if changed:
            self._put(*changed)
        return results

    def rotate(
        self,
        user: User,
        credential_id: str,
        *,
        api_key: str | None,
        api_secret: str | None,
        api_passphrase: str | None = None,
    ) -> Credential:
        """New secrets for a credential. The WebSocket API's rotate may leave out the key
        (the secret, the passphrase): what is left out stays as it was; without a new key
        an EXPIRED credential stays refused (its keys are the ones the venue refuses)."""
        cred = self.owned(user, credential_id)
        target = lifecycle.next_status("rotate", cred)
        if api_key is None:
            if cred.status == "EXPIRED":
                raise INVALID_STATE.error(
                    f"credential {cred.credential_id} is EXPIRED: rotate it with a new apiKey"
                )
            rotated = dataclasses.replace(
                cred,
                api_secret=cred.api_secret if api_secret is None else api_secret,
                api_passphrase=cred.api_passphrase if api_passphrase is None else api_passphrase,
                status=target,
                updated_at=self._now_after(cred),
            )
        else:
            self._check_secrets(cred.venue, api_key, api_passphrase)
            self._check_unique_key(user, cred.venue, api_key, exclude=cred.credential_id)
            if cred.api_key and cred.api_key not in self._key_forms(cred.venue, api_key):
                self._rotated_away.add((cred.venue, cred.api_key))
            rotated = dataclasses.replace(
                cred,
                api_key=api_key,
                api_secret=cred.api_secret if api_secret is None else api_secret,
                api_passphrase=api_passphrase,
                pasted_masked_key=None,
                status=target,
                updated_at=self._now_after(cred),
                keys_valid=not self._was_rotated_away(cred.venue, api_key),
                venue_account=venue_account(cred),  # new keys, the same account at the venue
            )
        self._put(rotated)
        self.accounts.credential_rotated(rotated)
        return rotated

    def revoke(self, user: User, credential_id: str) -> Credential:
        cred = self.owned(user, credential_id)
        target = lifecycle.next_status("revoke", cred)
        now = self._now_after(cred)
        revoked = dataclasses.replace(cred, status=target, updated_at=now, revoked_at=now)
        self._put(revoked)
        self.accounts.credential_revoked(revoked)
        return revoked

    def _take_back(self, cred: Credential, saved: tuple[int, bool]) -> None:
        """Undo the `create` of a record a failed connect made: it is in the overlay only,
        and nothing else changed since `saved` (the created count and changed flag)."""
        cid = cred.credential_id.lower()
        self._unindex(cid)
        del self._overlay[cid]
        self._sequence.pop(cid, None)
        self._created, self._changed = saved
        self._dropped()

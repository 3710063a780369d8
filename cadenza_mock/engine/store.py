"""Credentials and users in memory, with prebuilt response bytes.

Records are immutable and the pristine state is kept aside, never copied: requests change
an overlay of replaced and created records, so `reset()` only drops the overlay. Lookups
use indexes (by id, by user, by user and status or type, by live (user, venue, apiKey)),
built once for the pristine records and kept up to date for the overlay, never a scan.
Serialized list responses are cached per (user, filter) and dropped on any change: an
unchanged store never re-serializes.
Every mutation checks everything first and changes state last, in one synchronous step on
the event loop, so no error leaves state half-changed and concurrent requests serialize.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from cadenza_mock import wire
from cadenza_mock.engine import lifecycle
from cadenza_mock.engine.accounts import Accounts, account_sort_key
from cadenza_mock.engine.auth import Sessions, bearer_token
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.fingerprints import is_marker, key_marker, new_salt, secret_marker
from cadenza_mock.engine.query import (
    NO_FILTER,
    AccountFilter,
    ListFilter,
    OperationFilter,
    Page,
    parse_list_query,
)
from cadenza_mock.engine.subscriptions import ChannelEvent, Subscriptions
from cadenza_mock.engine.users import Users
from cadenza_mock.errors import (
    ALREADY_EXIST,
    CREDENTIAL_NOT_FOUND,
    INVALID_API_KEY,
    INVALID_STATE,
    PERMISSION_DENIED,
    VALIDATION_FAILED,
    ApiError,
    unauthorized,
)
from cadenza_mock.model import (
    AccountOperation,
    Credential,
    Subscription,
    TradingAccount,
    User,
    account_type,
    building_records,
    venue_account,
)
from cadenza_mock.scenario import Scenario
from cadenza_mock.seeded import rng_for, uuid4_from

# Enough for every filter combination a test suite uses; a client that sends endless
# distinct id lists cannot grow memory without bound.
_CACHE_LIMIT = 4096
# A list answer of at least this many records is encoded away from the event loop.
LARGE_LIST = 50_000


@dataclass(frozen=True, slots=True)
class PendingList:
    """A list answer's records, taken on the loop, to encode in a worker thread."""

    user_id: str
    where: ListFilter
    header: str | None
    query_string: str
    version: int
    page: list[Credential]
    pagination: dict[str, Any]
    profile: str
    mask_keep: int

    def encode(self) -> bytes:
        return wire.credential_list_body(self.page, self.profile, self.mask_keep, self.pagination)


# List order: createdAt ascending, then credentialId (stable across runs).
sort_key: Callable[[Credential], tuple[int, str]] = attrgetter("created_at", "credential_id")


# Index keys: ("user", user), ("status", user, status), ("type", user, type) and, for
# records that are not revoked, ("key", user, venue, apiKey).
IndexKey = tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class StoreChanges:
    """What requests changed since the load, as a state file keeps it (`Store.changes`)."""

    records: list[Credential]  # replaced and created, in the order they first changed
    created: int  # credentials created so far (their seeded ids go on from there)
    rotated_away: list[tuple[str, str]]  # (venue, apiKey or its marker) no longer valid
    logged_out: list[str]  # static scenario tokens ended by /auth/logout
    signups: int = 0  # users signup added so far (their seeded ids go on from there)
    # users signup added or PUT /auth/user changed (passwords as the store holds them)
    users: list[User] = dataclasses.field(default_factory=list)


def index_keys(cred: Credential, revoked_status: str) -> list[IndexKey]:
    """The index entries one record belongs to."""
    keys: list[IndexKey] = [
        ("user", cred.user_id),
        ("status", cred.user_id, cred.status),
        ("type", cred.user_id, cred.type),
    ]
    if cred.status != revoked_status:
        keys.append(("key", cred.user_id, cred.venue, cred.api_key))
    return keys


def build_index(records: dict[str, Credential], revoked_status: str) -> dict[IndexKey, list[str]]:
    """`index_keys` of every record at once, each list in the records' order: one pass
    with the keys' parts grouped, since a 100,000-record scenario is indexed at start."""
    by_user: dict[str, list[str]] = {}
    by_status: dict[tuple[str, str], list[str]] = {}
    by_type: dict[tuple[str, str], list[str]] = {}
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for cid, cred in records.items():
        user, status = cred.user_id, cred.status
        by_user.setdefault(user, []).append(cid)
        by_status.setdefault((user, status), []).append(cid)
        by_type.setdefault((user, cred.type), []).append(cid)
        if status != revoked_status:
            by_key.setdefault((user, cred.venue, cred.api_key), []).append(cid)
    index: dict[IndexKey, list[str]] = {("user", user): ids for user, ids in by_user.items()}
    index.update((("status", *key), ids) for key, ids in by_status.items())
    index.update((("type", *key), ids) for key, ids in by_type.items())
    index.update((("key", *key), ids) for key, ids in by_key.items())
    return index


class Store:
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
        if self.subscriptions.changed:
            self.subscriptions.reset()
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

    def _indexed(self, key: IndexKey) -> Iterator[Credential]:
        """The current records under one index key: pristine ones (list order) that no
        request replaced, then the overlay's."""
        overlay = self._overlay
        pristine = self._pristine
        for cid in self._pristine_index.get(key, ()):
            if cid not in overlay:
                yield pristine[cid]
        for cid in self._overlay_index.get(key, ()):
            yield overlay[cid]

    def _indexed_size(self, key: IndexKey) -> int:
        """At least as many as `_indexed(key)` yields (pristine records replaced since
        are counted too): what picking the narrowest index needs."""
        return len(self._pristine_index.get(key, ())) + len(self._overlay_index.get(key, ()))

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
                return [c for c in self._indexed(keys[0]) if _matches(c, where)]
            picked = (c for key in keys for c in self._indexed(key))
        return sorted((c for c in picked if _matches(c, where)), key=sort_key)

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

    def changes(self) -> StoreChanges:
        """What requests changed since the load (secrets still in: the state file's writer
        replaces them by fingerprints)."""
        signups, users = self.users.changes()
        return StoreChanges(
            records=list(self._overlay.values()),
            created=self._created,
            rotated_away=sorted(self._rotated_away),
            logged_out=sorted(self._logged_out),
            signups=signups,
            users=users,
        )

    def apply(self, changes: StoreChanges, salt: bytes) -> None:
        """Back to the scenario, then `changes` replayed (a state file read at start), its
        keys and secrets being markers made with `salt`. ValueError, with nothing changed,
        for a record of a user or a static token this scenario does not have."""
        known = {*self.users.pristine, *(u.user_id for u in changes.users)}
        for cred in changes.records:
            if cred.user_id not in known:
                raise ValueError(
                    f"credential {cred.credential_id} of user {cred.user_id!r}, "
                    "who is not in the scenario"
                )
        if not set(changes.logged_out) <= self._static_tokens.keys():
            raise ValueError("a logged-out token that is not in the scenario")
        self.reset()
        self.users.apply(salt, changes.signups, changes.users)
        self.salt = salt
        self._fingerprinted = True
        notify, self._on_change = self._on_change, None  # nobody is listening yet
        try:
            if changes.records:
                self._put(*changes.records)
        finally:
            self._on_change = notify
        self._created = changes.created
        self._rotated_away.update(changes.rotated_away)
        self._logged_out.update(changes.logged_out)
        self._changed = True
        self._dropped()

    def list_answer(
        self,
        header: str | None,
        query_string: str,
        pairs: Callable[[], Iterable[tuple[str, str]]],
    ) -> tuple[str, bytes]:
        """(user id, response bytes) of a list call: authenticated, filtered by the query
        (`pairs` parses it, only when needed), serialized once per user and filter.

        A static token's call is then remembered by its raw header and query string, so
        repeating it (what load tests and polling clients do) costs one dict lookup.
        """
        hit = self._list_hits.get((header or "", query_string))
        if hit is not None:
            return hit
        user = self.user_for_token(header)
        where = parse_list_query(pairs(), self.profile, self.enums) if query_string else NO_FILTER
        answer = user.user_id, self.list_body(user.user_id, where)
        self._remember_hit(header, query_string, answer)
        return answer

    def _remember_hit(self, header: str | None, query_string: str, answer: Any) -> None:
        if bearer_token(header) in self._static_tokens:
            if len(self._list_hits) >= _CACHE_LIMIT:
                self._list_hits.clear()
            self._list_hits[(header or "", query_string)] = answer

    def pending_list(
        self,
        header: str | None,
        query_string: str,
        pairs: Callable[[], Iterable[tuple[str, str]]],
    ) -> tuple[str, bytes] | PendingList:
        """As `list_answer`, but a large answer not serialized yet comes back unencoded:
        its records (immutable) taken now, to encode away from the event loop, then
        `remember_list`. Encoding 200,000 records takes seconds other clients must not
        wait through."""
        hit = self._list_hits.get((header or "", query_string))
        if hit is not None:
            return hit
        user = self.user_for_token(header)
        where = parse_list_query(pairs(), self.profile, self.enums) if query_string else NO_FILTER
        cached = self._list_cache.get((user.user_id, where))
        if cached is not None:
            answer = user.user_id, cached
            self._remember_hit(header, query_string, answer)
            return answer
        page, pagination = self._list_page(user.user_id, where)
        pending = PendingList(
            user.user_id, where, header, query_string, self._version, page, pagination,
            self.profile, self.scenario.mask_keep,
        )  # fmt: skip
        if len(page) >= LARGE_LIST:
            return pending
        answer = user.user_id, self.list_body(user.user_id, where, (page, pagination))
        self._remember_hit(header, query_string, answer)
        return answer

    def remember_list(self, pending: PendingList, body: bytes) -> None:
        """Keep an answer encoded away from the loop, unless the store changed since."""
        if pending.version != self._version:
            return
        if len(self._list_cache) >= _CACHE_LIMIT:
            self._list_cache.clear()
        self._list_cache[(pending.user_id, pending.where)] = body
        self._remember_hit(pending.header, pending.query_string, (pending.user_id, body))

    def remembered_list(self, header: str, query_string: str) -> tuple[str, bytes] | None:
        """(user id, response bytes) of a list call `list_answer` has answered before and
        nothing has changed since; None otherwise. Costs one dict lookup."""
        return self._list_hits.get((header, query_string))

    def list_body(
        self,
        user_id: str,
        where: ListFilter,
        taken: tuple[list[Credential], dict[str, Any]] | None = None,
    ) -> bytes:
        """The full list response envelope for one user and filter, serialized once
        (`taken`: its page and pagination, when the caller has them already)."""
        key = (user_id, where)
        body = self._list_cache.get(key)
        if body is None:
            page, pagination = taken or self._list_page(user_id, where)
            body = wire.credential_list_body(
                page, self.profile, self.scenario.mask_keep, pagination
            )
            if len(self._list_cache) >= _CACHE_LIMIT:
                self._list_cache.clear()
            self._list_cache[key] = body
        return body

    def _list_page(
        self, user_id: str, where: ListFilter
    ) -> tuple[list[Credential], dict[str, Any]]:
        """Every match, and the `pagination` of one page holding them all (the list
        does not page; the sdk envelope still carries it)."""
        items = self.credentials_of(user_id, where)
        return items, Page().pagination(len(items))

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
        return max(self.clock.now_ms(), cred.updated_at + 1)

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

    # ----------------------------------------------------------------- trading accounts

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
            # Take the new record back: it is in the overlay only, and nothing else changed.
            cid = cred.credential_id.lower()
            self._unindex(cid)
            del self._overlay[cid]
            self._sequence.pop(cid, None)
            self._created, self._changed = saved
            self._dropped()
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


def _matches(cred: Credential, where: ListFilter) -> bool:
    return (
        (where.types is None or cred.type in where.types)
        and (where.statuses is None or cred.status in where.statuses)
        and (where.credential_ids is None or cred.credential_id.lower() in where.credential_ids)
    )

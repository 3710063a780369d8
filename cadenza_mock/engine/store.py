"""Credentials and users in memory, with prebuilt response bytes.

Records are immutable and the pristine state is kept aside, so `reset()` is a dict copy
(or nothing at all when no request changed anything). Serialized list responses are cached
per (user, filter) and dropped on any change: an unchanged store never re-serializes.
Every mutation checks everything first and changes state last, in one synchronous step on
the event loop, so no error leaves state half-changed and concurrent requests serialize.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cadenza_mock import wire
from cadenza_mock.engine import lifecycle
from cadenza_mock.engine.auth import Sessions, bearer_token
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.query import NO_FILTER, ListFilter, parse_list_query
from cadenza_mock.errors import (
    ALREADY_EXIST,
    CREDENTIAL_NOT_FOUND,
    PERMISSION_DENIED,
    VALIDATION_FAILED,
    unauthorized,
)
from cadenza_mock.model import Credential, User
from cadenza_mock.scenario import Scenario
from cadenza_mock.scenario.generate import credential_name
from cadenza_mock.seeded import rng_for, uuid4_from

# Enough for every filter combination a test suite uses; a client that sends endless
# distinct id lists cannot grow memory without bound.
_CACHE_LIMIT = 4096


def sort_key(cred: Credential) -> tuple[int, str]:
    """List order: createdAt ascending, then credentialId (stable across runs)."""
    return (cred.created_at, cred.credential_id)


class Store:
    """The scenario's users and credentials, and what requests have changed since load."""

    def __init__(self, scenario: Scenario, clock: Clock | None = None) -> None:
        self.scenario = scenario
        self.profile = scenario.profile
        self.enums = scenario.enums
        self.clock = clock or Clock(scenario.now)
        self.users: dict[str, User] = {u.user_id: u for u in scenario.users}
        self.sessions = Sessions(self.users, self.clock, scenario.seed)
        # token -> (user, expired?)
        self._static_tokens: dict[str, tuple[User, bool]] = {}
        for user in scenario.users:
            for token in user.tokens:
                self._static_tokens[token] = (user, False)
            for token in user.expired_tokens:
                self._static_tokens[token] = (user, True)
        # Keyed by lower-case id: ids in requests are matched case-insensitively.
        self._pristine: dict[str, Credential] = {
            c.credential_id.lower(): c for c in sorted(scenario.credentials, key=sort_key)
        }
        self._credentials = dict(self._pristine)
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

    # ----------------------------------------------------------------- state lifecycle

    def reset(self) -> None:
        """Back to the scenario as loaded; free when nothing changed."""
        if self._changed:
            self._credentials = dict(self._pristine)
            self._rotated_away.clear()
            self._logged_out.clear()
            self._created = 0
            self._list_cache.clear()
            self._list_hits.clear()
            self._changed = False
        if self.sessions.changed:
            self.sessions.reset()
        self._errors = 0

    def next_request_id(self) -> str:
        """The sdk error envelope's `details.request_id`: the n-th error since the load or
        reset, drawn from the seed, so error answers are byte-identical run after run."""
        self._errors += 1
        rng = rng_for(self.scenario.seed, "request", self._errors)
        return f"req_{rng.getrandbits(80):020x}"

    def _put(self, *creds: Credential) -> None:
        for cred in creds:
            self._credentials[cred.credential_id.lower()] = cred
        self._changed = True
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
        found = self._static_tokens.get(token) or self.sessions.lookup(token)
        if found is None or token in self._logged_out:
            raise unauthorized("invalid token")
        user, expired = found
        if expired:
            raise unauthorized("token expired")
        return user

    def logout(self, header: str | None) -> User:
        """End the bearer token (static or issued) until the next reset."""
        user = self.user_for_token(header)
        token = bearer_token(header) or ""
        if token in self._static_tokens:
            self._logged_out.add(token)
            self._changed = True
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
        return [
            c for c in self._credentials.values() if c.user_id == user_id and _matches(c, where)
        ]

    def all_credentials(self) -> Iterable[Credential]:
        return self._credentials.values()

    def find(self, credential_id: str) -> Credential | None:
        return self._credentials.get(credential_id.lower())

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
        if bearer_token(header) in self._static_tokens:
            if len(self._list_hits) >= _CACHE_LIMIT:
                self._list_hits.clear()
            self._list_hits[(header or "", query_string)] = answer
        return answer

    def list_body(self, user_id: str, where: ListFilter) -> bytes:
        """The full list response envelope for one user and filter, serialized once."""
        key = (user_id, where)
        body = self._list_cache.get(key)
        if body is None:
            items = sorted(self.credentials_of(user_id, where), key=sort_key)
            total = len(items)
            end = total if where.limit is None else where.offset + where.limit
            page = items[where.offset : end]
            data = [wire.credential(c, self.profile, self.scenario.mask_keep) for c in page]
            has_next = end < total
            pagination = {
                "offset": where.offset,
                "limit": where.limit if where.limit is not None else total,
                "total": total,
                "cursor": str(end) if has_next else None,
                "hasNext": has_next,
            }
            body = wire.list_body(data, self.profile, pagination)
            if len(self._list_cache) >= _CACHE_LIMIT:
                self._list_cache.clear()
            self._list_cache[key] = body
        return body

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
        for other in self._credentials.values():
            if (
                other.user_id == user.user_id
                and other.venue == venue
                and other.api_key == api_key
                and other.status != self.enums.revoked_status
                and other.credential_id != exclude
            ):
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
            name=name or credential_name(rng, venue),
            type=ctype or self.enums.default_type,
            api_key=api_key or "",
            status=self.enums.created_status,
            created_at=now,
            updated_at=now,
            api_secret=api_secret,
            api_passphrase=api_passphrase,
            keys_valid=bool(api_key) and (venue, api_key) not in self._rotated_away,
        )
        self._created += 1
        self._put(cred)
        return cred

    def verify(self, user: User, credential_ids: Sequence[str]) -> list[lifecycle.VerifyResult]:
        creds = [self.owned(user, cid) for cid in credential_ids]
        results: list[lifecycle.VerifyResult] = []
        changed: list[Credential] = []
        for cred in creds:
            result = lifecycle.verify(cred)
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

    def accounts_reached(self, result: lifecycle.VerifyResult) -> list[dict[str, Any]]:
        """sdk verify: the trading accounts a credential reaches (revoked: disconnected),
        seeded by credential and identity so they are the same on every call."""
        cred = result.credential
        if result.verified:
            status, reached = "ACTIVE", result.identities
        elif cred.status == self.enums.revoked_status:
            status, reached = "DISCONNECTED", lifecycle.identities(cred.venue)
        else:
            return []
        accounts = []
        for identity in reached:
            rng = rng_for(self.scenario.seed, "account", cred.credential_id, identity)
            external = f"{cred.venue.split('_')[0][:3]}-{rng.randrange(10**9, 10**10)}"
            account_id = uuid4_from(rng)
            accounts.append(wire.trading_account(cred, identity, account_id, external, status))
        return accounts

    def rotate(
        self,
        user: User,
        credential_id: str,
        *,
        api_key: str,
        api_secret: str,
        api_passphrase: str | None = None,
    ) -> Credential:
        cred = self.owned(user, credential_id)
        target = lifecycle.next_status("rotate", cred)
        self._check_secrets(cred.venue, api_key, api_passphrase)
        self._check_unique_key(user, cred.venue, api_key, exclude=cred.credential_id)
        if cred.api_key and cred.api_key != api_key:
            self._rotated_away.add((cred.venue, cred.api_key))
        rotated = dataclasses.replace(
            cred,
            api_key=api_key,
            api_secret=api_secret,
            api_passphrase=api_passphrase,
            pasted_masked_key=None,
            status=target,
            updated_at=self._now_after(cred),
            keys_valid=(cred.venue, api_key) not in self._rotated_away,
        )
        self._put(rotated)
        return rotated

    def revoke(self, user: User, credential_id: str) -> Credential:
        cred = self.owned(user, credential_id)
        target = lifecycle.next_status("revoke", cred)
        now = self._now_after(cred)
        revoked = dataclasses.replace(cred, status=target, updated_at=now, revoked_at=now)
        self._put(revoked)
        return revoked


def _matches(cred: Credential, where: ListFilter) -> bool:
    return (
        (where.types is None or cred.type in where.types)
        and (where.statuses is None or cred.status in where.statuses)
        and (where.credential_ids is None or cred.credential_id.lower() in where.credential_ids)
    )

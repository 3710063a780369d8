"""Credentials and users in memory, with prebuilt response bytes.

Records are immutable and the pristine state is kept aside, so `reset()` is a dict copy
(or nothing at all when no request changed anything). Serialized list responses are cached
per (user, filter) and dropped on any change: an unchanged store never re-serializes.
"""

from __future__ import annotations

from collections.abc import Iterable

from cadenza_mock import wire
from cadenza_mock.engine.query import NO_FILTER, ListFilter
from cadenza_mock.errors import unauthorized
from cadenza_mock.model import Credential, User
from cadenza_mock.scenario import Scenario

# Enough for every filter combination a test suite uses; a client that sends endless
# distinct id lists cannot grow memory without bound.
_CACHE_LIMIT = 4096


def sort_key(cred: Credential) -> tuple[int, str]:
    """List order: createdAt ascending, then credentialId (stable across runs)."""
    return (cred.created_at, cred.credential_id)


class Store:
    """The scenario's users and credentials, and what requests have changed since load."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.profile = scenario.profile
        self.enums = scenario.enums
        self.users: dict[str, User] = {u.user_id: u for u in scenario.users}
        # token -> (user, expired?)
        self._static_tokens: dict[str, tuple[User, bool]] = {}
        for user in scenario.users:
            for token in user.tokens:
                self._static_tokens[token] = (user, False)
            for token in user.expired_tokens:
                self._static_tokens[token] = (user, True)
        self._pristine: dict[str, Credential] = {
            c.credential_id: c for c in sorted(scenario.credentials, key=sort_key)
        }
        self._credentials = dict(self._pristine)
        self._changed = False
        self._list_cache: dict[tuple[str, ListFilter], bytes] = {}

    # ----------------------------------------------------------------- state lifecycle

    def reset(self) -> None:
        """Back to the scenario as loaded; free when nothing changed."""
        if self._changed:
            self._credentials = dict(self._pristine)
            self._list_cache.clear()
            self._changed = False

    def _put(self, cred: Credential) -> None:
        self._credentials[cred.credential_id] = cred
        self._changed = True
        self._list_cache.clear()

    # ----------------------------------------------------------------- auth

    def user_for_token(self, header: str | None) -> User:
        """The user an Authorization header speaks for, or the 401 the real API gives."""
        if header is None:
            raise unauthorized("missing Authorization header")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("Authorization header must be 'Bearer <access token>'")
        found = self._static_tokens.get(token.strip())
        if found is None:
            raise unauthorized("invalid token")
        user, expired = found
        if expired:
            raise unauthorized("token expired")
        return user

    # ----------------------------------------------------------------- queries

    def credentials_of(self, user_id: str, where: ListFilter = NO_FILTER) -> list[Credential]:
        return [
            c for c in self._credentials.values() if c.user_id == user_id and _matches(c, where)
        ]

    def all_credentials(self) -> Iterable[Credential]:
        return self._credentials.values()

    def list_body(self, user_id: str, where: ListFilter) -> bytes:
        """The full list response envelope for one user and filter, serialized once."""
        key = (user_id, where)
        body = self._list_cache.get(key)
        if body is None:
            items = sorted(self.credentials_of(user_id, where), key=sort_key)
            data = [wire.credential(c, self.profile, self.scenario.mask_keep) for c in items]
            body = wire.success_body(data)
            if len(self._list_cache) >= _CACHE_LIMIT:
                self._list_cache.clear()
            self._list_cache[key] = body
        return body


def _matches(cred: Credential, where: ListFilter) -> bool:
    return (
        (where.types is None or cred.type in where.types)
        and (where.statuses is None or cred.status in where.statuses)
        and (where.credential_ids is None or cred.credential_id.lower() in where.credential_ids)
    )

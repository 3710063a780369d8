"""Sessions issued by the emulated auth endpoints (login, refresh, logout).

Access tokens look like the real service's JWTs (HS256, signed with a key derived from
the scenario seed) but are only ever looked up, never decoded: a JWT the mock did not
issue is simply unknown. Issue and expiry follow the mock's token clock (the wall clock
moved by the advances, `Clock.token_ms`), so a test can advance time instead of sleeping
and a client checking `exp` against its own wall clock sees a fresh token as valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cadenza_mock.contract.errors import INVALID_LOGIN, INVALID_REFRESH_TOKEN
from cadenza_mock.contract.model import Session, User
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.fingerprints import fingerprint, new_salt
from cadenza_mock.engine.users import Users
from cadenza_mock.seeded import rng_for, token, uuid4_from

ACCESS_TTL_SECONDS = 3600
REFRESH_TTL_SECONDS = 7 * 24 * 3600


@dataclass(slots=True)
class _Issued:
    user_id: str
    session_id: str
    expires_at_ms: int
    ended: bool = False  # logged out (access) or used up (refresh)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """One issued token as a state file keeps it: its salted fingerprint, never the token."""

    fingerprint: str
    refresh: bool  # a refresh token (else an access token)
    user_id: str
    session_id: str
    expires_at_ms: int
    ended: bool


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other value."""
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Issued sessions kept at most (a long-running container whose clients keep logging in
# must not grow without bound); past it the oldest are forgotten, their tokens unknown.
MAX_SESSIONS = 10_000


class Sessions:
    """Tokens issued at run time; static scenario tokens live in the store.

    Issued tokens are kept by salted fingerprint, never as they are: a state file can then
    carry the sessions over a restart without holding a usable token.
    """

    def __init__(
        self,
        users: Users,
        clock: Clock,
        seed: int,
        salt: bytes | None = None,
        *,
        namespace: str = "",
    ) -> None:
        self.salt = salt if salt is not None else new_salt()
        self._users = users
        self._clock = clock
        self._seed = seed
        # A namespace's name: two namespaces of one scenario must never issue one token.
        self._namespace: tuple[str, ...] = (namespace,) if namespace else ()
        self._key = hashlib.sha256(f"cadenza-mock:{seed}:jwt{namespace}".encode()).digest()
        # A namespace's tokens start "<name>." (its name before the "#<incarnation>"): a
        # balancer in front of several servers routes them by that prefix (docs/team.md).
        self._prefix = f"{namespace.partition('#')[0]}." if namespace else ""
        self._access: dict[str, _Issued] = {}
        self._refresh: dict[str, _Issued] = {}
        # session id -> its access and refresh tokens, oldest session first
        self._sessions: dict[str, list[str]] = {}
        self._issued = 0
        self.version = 0  # bumped by every login, refresh and logout (a state file's cue)

    def reset(self) -> None:
        self._access.clear()
        self._refresh.clear()
        self._sessions.clear()
        self._issued = 0
        self.version += 1

    def _digest(self, token: str) -> str:
        return fingerprint(self.salt, token)

    @property
    def changed(self) -> bool:
        return self._issued > 0

    def _jwt(self, user: User, session_id: str, now_ms: int, expires_ms: int) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        claims = {
            "aud": "authenticated",
            "exp": expires_ms // 1000,
            "iat": now_ms // 1000,
            "iss": "cadenza-mock",
            "sub": user.user_id,
            "email": user.email,
            "role": user.role,
            "session_id": session_id,
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def _issue(self, user: User, session_id: str | None = None) -> Session:
        self._issued += 1
        rng = rng_for(self._seed, "session", *self._namespace, self._issued)
        session_id = session_id or uuid4_from(rng)
        now = self._clock.token_ms()
        expires = now + ACCESS_TTL_SECONDS * 1000
        # The jti-like session id and the counter keep tokens unique under a frozen clock.
        access = self._prefix + self._jwt(user, f"{session_id}:{self._issued}", now, expires)
        refresh = self._prefix + token(rng).replace("cmk_", "rt_")
        access_key, refresh_key = self._digest(access), self._digest(refresh)
        self._access[access_key] = _Issued(user.user_id, session_id, expires)
        self._refresh[refresh_key] = _Issued(
            user.user_id, session_id, now + REFRESH_TTL_SECONDS * 1000
        )
        self._sessions.setdefault(session_id, []).extend((access_key, refresh_key))
        self.version += 1
        if len(self._sessions) > MAX_SESSIONS:
            self._forget(next(iter(self._sessions)))
        return Session(user, access, refresh, expires, session_id)

    def _forget(self, session_id: str) -> None:
        for issued in self._sessions.pop(session_id, ()):
            self._access.pop(issued, None)
            self._refresh.pop(issued, None)

    def login(self, email: str, password: str) -> Session:
        user = self._users.by_email(email)
        if user is None or not self._users.password_matches(user, password):
            raise INVALID_LOGIN.error()
        return self._issue(user)

    def signup(self, email: str, password: str, metadata: Mapping[str, Any]) -> Session:
        """A new user, logged in: the session the signup answers (as Supabase's signup
        with e-mail confirmation off, which the official document's 200 describes)."""
        return self._issue(self._users.signup(email, password, metadata))

    def knows_refresh_token(self, refresh_token: str) -> bool:
        return self._digest(refresh_token) in self._refresh

    def refresh(self, refresh_token: str) -> Session:
        key = self._digest(refresh_token)
        issued = self._refresh.get(key)
        if issued is None or issued.ended or issued.expires_at_ms <= self._clock.token_ms():
            raise INVALID_REFRESH_TOKEN.error()
        del self._refresh[key]  # a refresh token works once (then it is unknown)
        tokens = self._sessions.get(issued.session_id)
        if tokens is not None:
            tokens.remove(key)
        return self._issue(self._users[issued.user_id], issued.session_id)

    def logout(self, access_token: str) -> None:
        """End the access token and every refresh token of its session."""
        issued = self._access.get(self._digest(access_token))
        if issued is None:
            return
        self.version += 1
        for token_of_session in self._sessions.get(issued.session_id, ()):
            entry = self._access.get(token_of_session) or self._refresh.get(token_of_session)
            if entry is not None:
                entry.ended = True

    def lookup(self, access_token: str) -> tuple[User, bool] | None:
        """(user, expired?) for an issued access token; None if unknown or logged out."""
        issued = self._access.get(self._digest(access_token))
        if issued is None or issued.ended:
            return None
        return self._users[issued.user_id], issued.expires_at_ms <= self._clock.token_ms()

    def issued_tokens(self) -> tuple[int, list[IssuedToken]]:
        """(how many sessions were issued, every token still known, oldest session first):
        what a state file keeps so that logins survive a restart."""
        found: list[IssuedToken] = []
        for session_id, keys in self._sessions.items():
            for key in keys:
                refresh = key in self._refresh
                entry = self._refresh.get(key) if refresh else self._access.get(key)
                if entry is not None:
                    found.append(
                        IssuedToken(
                            key,
                            refresh,
                            entry.user_id,
                            session_id,
                            entry.expires_at_ms,
                            entry.ended,
                        )
                    )
        return self._issued, found

    def restore(self, salt: bytes, issued: int, tokens: list[IssuedToken]) -> None:
        """Take back what `issued_tokens` gave, under the salt its fingerprints were made
        with; ValueError for a token of a user this scenario does not have."""
        for entry in tokens:
            if entry.user_id not in self._users:
                raise ValueError(f"a session of user {entry.user_id!r}, who is not in the scenario")
        self.reset()
        self.salt = salt
        self._issued = issued
        for entry in tokens:
            kept = _Issued(entry.user_id, entry.session_id, entry.expires_at_ms, entry.ended)
            (self._refresh if entry.refresh else self._access)[entry.fingerprint] = kept
            self._sessions.setdefault(entry.session_id, []).append(entry.fingerprint)

    def expiry_ms(self, access_token: str) -> int | None:
        """When an issued access token expires (ms since the epoch), None if unknown."""
        issued = self._access.get(self._digest(access_token))
        return issued.expires_at_ms if issued is not None else None

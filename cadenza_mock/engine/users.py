"""Auth users: the scenario's, and what requests did to them (signup, PUT /auth/user).

The scenario's users are kept aside, never changed; a signup or an update puts a new
record in an overlay, so a reset drops the overlay and a snapshot copies only it. A
password is held to compare at login only: never served, logged or journalled, and kept
in a state file as a salted fingerprint (the marker of `engine.fingerprints`). Recovery
is accepted for any address and changes nothing, so an answer never tells whether an
address is registered (Supabase's rule).
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Iterator, Mapping
from typing import Any

from cadenza_mock.contract.errors import EMAIL_TAKEN
from cadenza_mock.contract.model import User
from cadenza_mock.engine.clock import Clock
from cadenza_mock.engine.fingerprints import is_marker, secret_marker
from cadenza_mock.seeded import rng_for, uuid4_from

_PASSWORD = "password"  # the fingerprint kind of a restored password


class Users(Mapping[str, User]):
    """Every user by id (a Mapping, as the scenario's dict was), and by e-mail address."""

    def __init__(self, pristine: dict[str, User], clock: Clock, seed: int) -> None:
        self._pristine = pristine
        self._clock = clock
        self._seed = seed
        self._overlay: dict[str, User] = {}
        self._signups = 0
        self._by_email = {u.email.lower(): u.user_id for u in pristine.values()}
        self.salt = b""  # set by a state file's restore: restored passwords are markers
        self.version = 0  # bumped by every change (a state file's cue)

    # ----------------------------------------------------------------- Mapping

    def __getitem__(self, user_id: str) -> User:
        found = self._overlay.get(user_id)
        return found if found is not None else self._pristine[user_id]

    def __iter__(self) -> Iterator[str]:
        yield from self._pristine
        yield from (uid for uid in self._overlay if uid not in self._pristine)

    def __len__(self) -> int:
        return len(self._pristine) + sum(uid not in self._pristine for uid in self._overlay)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._overlay or user_id in self._pristine

    @property
    def pristine(self) -> dict[str, User]:
        """The scenario's users (shared by snapshots, never changed)."""
        return self._pristine

    @property
    def changed(self) -> bool:
        return bool(self._overlay)

    def reset(self) -> None:
        if self._overlay:
            self._overlay = {}
            self._signups = 0
            self._by_email = {u.email.lower(): u.user_id for u in self._pristine.values()}
            self.version += 1

    # ----------------------------------------------------------------- queries

    def by_email(self, email: str) -> User | None:
        user_id = self._by_email.get(email.strip().lower())
        return None if user_id is None else self[user_id]

    def password_matches(self, user: User, password: str) -> bool:
        held = user.password
        if held is None:
            return False
        if is_marker(held):
            return held == secret_marker(self.salt, _PASSWORD, password)
        return hmac.compare_digest(held.encode(), password.encode())

    # ----------------------------------------------------------------- changes

    def _put(self, user: User, old_email: str | None = None) -> None:
        if old_email is not None:
            self._by_email.pop(old_email.lower(), None)
        self._overlay[user.user_id] = user
        self._by_email[user.email.lower()] = user.user_id
        self.version += 1

    def _check_free(self, email: str, user_id: str | None = None) -> None:
        taken = self._by_email.get(email.strip().lower())
        if taken is not None and taken != user_id:
            raise EMAIL_TAKEN.error("email is already registered")

    def signup(self, email: str, password: str, metadata: Mapping[str, Any]) -> User:
        """A new user (seeded id, the mock's clock), or 400 for an address taken."""
        self._check_free(email)
        self._signups += 1
        now = self._clock.now_ms()
        user = User(
            user_id=uuid4_from(rng_for(self._seed, "signup", self._signups)),
            email=email.strip(),
            password=password,
            created_at=now,
            updated_at=now,
            user_metadata=dict(metadata),
        )
        self._put(user)
        return user

    def update(
        self,
        user: User,
        *,
        email: str | None = None,
        password: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> User:
        """PUT /auth/user: a new address (400 if another user has it), a new password,
        metadata merged into `userMetadata`; updatedAt moves, sessions stay valid."""
        if email is not None:
            self._check_free(email, user.user_id)
        changes: dict[str, Any] = {}
        if email is not None and email.strip() != user.email:
            changes["email"] = email.strip()
        if password is not None:
            changes["password"] = password
        if metadata:
            changes["user_metadata"] = {**user.user_metadata, **metadata}
        if not changes:
            return user
        changes["updated_at"] = self._clock.stamp_after(user.updated_at or user.created_at)
        updated = dataclasses.replace(user, **changes)
        self._put(updated, old_email=user.email)
        return updated

    def recover(self, email: str) -> None:
        """POST /auth/recover: the mock sends no mail, and answers alike whether or not the
        address is registered (no account enumeration); the journal shows the call."""

    # ----------------------------------------------------------------- state file

    def changes(self) -> tuple[int, list[User]]:
        """(signups so far, the users that differ from the scenario's): what a state file
        keeps (passwords fingerprinted by its writer)."""
        return self._signups, list(self._overlay.values())

    def password_marker(self, user: User, salt: bytes) -> str | None:
        """What a state file keeps of a user's password: its salted fingerprint."""
        if user.password is None or is_marker(user.password):
            return user.password
        return secret_marker(salt, _PASSWORD, user.password)

    def apply(self, salt: bytes, signups: int, users: list[User]) -> None:
        """Back to the scenario, then a state file's users (passwords as markers made with
        `salt`)."""
        self.reset()
        self.salt = salt
        for user in users:
            old = self._pristine.get(user.user_id)
            self._put(user, old_email=old.email if old else None)
        self._signups = signups

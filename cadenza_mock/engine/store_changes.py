"""What requests changed in a Store, as a state file keeps and replays it (persist.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from cadenza_mock.contract.model import Credential, User
from cadenza_mock.engine.users import Users


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


class ChangeReplay:
    """The Store's side of a state file: its changes taken out, and put back at start."""

    users: Users
    salt: bytes
    _overlay: dict[str, Credential]
    _static_tokens: dict[str, tuple[User, bool]]
    _on_change: Callable[[Credential], None] | None
    _fingerprinted: bool
    _created: int
    _changed: bool
    _rotated_away: set[tuple[str, str]]
    _logged_out: set[str]

    if TYPE_CHECKING:

        def reset(self) -> None: ...

        def _put(self, *creds: Credential) -> None: ...

        def _dropped(self) -> None: ...

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

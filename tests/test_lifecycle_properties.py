"""Random sequences of lifecycle actions against the engine's Store (no HTTP, no aiohttp).

A hypothesis state machine drives create/rotate/revoke/verify/list/clock by random users
(of `multi-user`, docs profile, and of `sdk`, sdk profile) and checks after every step:
a revoked credential never comes back, list counts match the creates, no secret appears
in any serialized output, nobody sees another's records, updatedAt never goes backwards,
and a failed action leaves the state exactly as it was. Derandomized so CI is repeatable.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cadenza_mock import wire
from cadenza_mock.engine.query import NO_FILTER
from cadenza_mock.engine.store import Store
from cadenza_mock.errors import ApiError
from cadenza_mock.scenario import load_scenario

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
# A few keys, so duplicates and re-registering rotated-away keys both happen often.
KEY_POOL = [f"PoolKey{n}-0123456789abcdef" for n in range(4)]


class Lifecycle(RuleBasedStateMachine):
    scenario_name = "multi-user"
    profile_venues = ("BINANCE", "OKX")

    def __init__(self) -> None:
        super().__init__()
        self.store = Store(load_scenario(self.scenario_name))
        self.users = list(self.store.users.values())
        self.ids = [c.credential_id for c in self.store.all_credentials()] + [UNKNOWN_ID]
        self.counts = {u.user_id: len(self.store.credentials_of(u.user_id)) for u in self.users}
        self.revoked = {
            c.credential_id for c in self.store.all_credentials() if c.status == "REVOKED"
        }
        self.updated = {c.credential_id: c.updated_at for c in self.store.all_credentials()}
        # The model: what each credential's status must be after the actions so far.
        self.status = {c.credential_id: c.status for c in self.store.all_credentials()}
        self.secrets: set[str] = set()
        self.outputs: list[bytes] = []
        self.serial = 0

    @initialize()
    def scenario_secrets_are_secrets(self) -> None:
        for cred in self.store.all_credentials():
            for value in (cred.api_secret, cred.api_passphrase):
                if value and len(value) >= 8:
                    self.secrets.add(value)
            if len(cred.api_key) >= 12 and not cred.api_key.endswith("***"):
                self.secrets.add(cred.api_key)

    # ------------------------------------------------------------------ helpers

    def _secret(self, kind: str) -> str:
        self.serial += 1
        value = f"{kind}-{self.serial:04d}-never-served"
        self.secrets.add(value)
        return value

    def _state(self) -> dict[str, object]:
        return dict((c.credential_id, c) for c in self.store.all_credentials())

    def _attempt(self, action: str, call: object) -> object | None:
        """Run a store action; on ApiError the state must be exactly as before."""
        before = self._state()
        try:
            result = call()  # type: ignore[operator]
        except ApiError as err:
            assert self._state() == before, f"{action} failed ({err!r}) but changed state"
            self.outputs.append(err.message.encode())
            for profile in ("docs", "sdk"):
                self.outputs.append(wire.error_body(err, profile))
            return None
        return result

    def _serialize(self, cred: object) -> None:
        self.outputs.append(
            wire.dumps(wire.credential(cred, self.store.profile, self.store.scenario.mask_keep))  # type: ignore[arg-type]
        )
        self.outputs.append(wire.dumps(wire.credential_inspect(cred)))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ rules

    @rule(
        user=st.integers(0, 2),
        venue=st.integers(0, 1),
        key=st.sampled_from(KEY_POOL),
        with_passphrase=st.booleans(),
    )
    def create(self, user: int, venue: int, key: str, with_passphrase: bool) -> None:
        owner = self.users[user % len(self.users)]
        self.secrets.add(key)
        cred = self._attempt(
            "create",
            lambda: self.store.create(
                owner,
                venue=self.profile_venues[venue],
                api_key=key,
                api_secret=self._secret("secret"),
                api_passphrase=self._secret("pass") if with_passphrase else None,
            ),
        )
        if cred is not None:
            assert cred.user_id == owner.user_id
            assert cred.status == self.store.enums.created_status
            self.counts[owner.user_id] += 1
            self.status[cred.credential_id] = cred.status
            self.ids.append(cred.credential_id)
            self.updated[cred.credential_id] = cred.updated_at
            self._serialize(cred)

    @rule(user=st.integers(0, 2), pick=st.integers(0, 10_000), key=st.sampled_from(KEY_POOL))
    def rotate(self, user: int, pick: int, key: str) -> None:
        owner = self.users[user % len(self.users)]
        cid = self.ids[pick % len(self.ids)]
        self.secrets.add(key)
        cred = self._attempt(
            "rotate",
            lambda: self.store.rotate(
                owner,
                cid,
                api_key=key,
                api_secret=self._secret("secret"),
                api_passphrase=self._secret("pass"),
            ),
        )
        if cred is not None:
            assert cid not in self.revoked and cred.user_id == owner.user_id
            # Rotating renews expired keys; otherwise the status stays.
            if self.status[cid] == "EXPIRED":
                self.status[cid] = "ACTIVE"
            assert cred.status == self.status[cid]
            self._serialize(cred)

    @rule(user=st.integers(0, 2), pick=st.integers(0, 10_000))
    def revoke(self, user: int, pick: int) -> None:
        owner = self.users[user % len(self.users)]
        cid = self.ids[pick % len(self.ids)]
        cred = self._attempt("revoke", lambda: self.store.revoke(owner, cid))
        if cred is not None:
            assert cid not in self.revoked, "revoked twice"
            assert cred.status == "REVOKED" and cred.revoked_at == cred.updated_at
            self.revoked.add(cid)
            self.status[cid] = "REVOKED"
            self._serialize(cred)

    @rule(user=st.integers(0, 2), picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=3))
    def verify(self, user: int, picks: list[int]) -> None:
        owner = self.users[user % len(self.users)]
        ids = [self.ids[p % len(self.ids)] for p in picks]
        results = self._attempt("verify", lambda: self.store.verify(owner, ids))
        if results is not None:
            for result in results:
                cid = result.credential.credential_id
                if cid in self.revoked or self.status[cid] == "EXPIRED":
                    assert not result.verified
                if result.verified and self.status[cid] == "CREATED":
                    self.status[cid] = "ACTIVE"
                assert result.credential.status == self.status[cid]
                self._serialize(result.credential)

    @rule(seconds=st.sampled_from([0, 0.001, 1, 3600]))
    def advance(self, seconds: float) -> None:
        self.store.clock.advance(seconds)

    @rule(user=st.integers(0, 2))
    def list_(self, user: int) -> None:
        owner = self.users[user % len(self.users)]
        body = self.store.list_body(owner.user_id, NO_FILTER)
        self.outputs.append(body)
        items = json.loads(body)["data"]
        assert len(items) == self.counts[owner.user_id]
        mine = {c.credential_id for c in self.store.credentials_of(owner.user_id)}
        assert {i["credentialId"] for i in items} == mine

    # ------------------------------------------------------------------ invariants

    @invariant()
    def revoked_is_final(self) -> None:
        state = self._state()
        for cid in self.revoked:
            assert state[cid].status == "REVOKED"  # type: ignore[attr-defined]

    @invariant()
    def statuses_follow_the_model(self) -> None:
        state = self._state()
        assert {cid: c.status for cid, c in state.items()} == self.status  # type: ignore[attr-defined]

    @invariant()
    def counts_match_creates(self) -> None:
        for user in self.users:
            assert len(self.store.credentials_of(user.user_id)) == self.counts[user.user_id]

    @invariant()
    def updated_at_never_goes_back(self) -> None:
        for cred in self.store.all_credentials():
            assert cred.updated_at >= self.updated[cred.credential_id]
            assert cred.created_at <= cred.updated_at
            self.updated[cred.credential_id] = cred.updated_at

    @invariant()
    def users_see_only_their_own(self) -> None:
        for user in self.users:
            assert all(c.user_id == user.user_id for c in self.store.credentials_of(user.user_id))

    @invariant()
    def no_secret_in_any_output(self) -> None:
        for blob in self.outputs:
            for secret in self.secrets:
                assert secret.encode() not in blob, f"{secret!r} leaked"
        self.outputs.clear()


class SdkLifecycle(Lifecycle):
    scenario_name = "sdk"
    profile_venues = ("BINANCE", "OKX_UAT")


TestLifecycleDocs = Lifecycle.TestCase
TestLifecycleDocs.settings = SETTINGS
TestLifecycleSdk = SdkLifecycle.TestCase
TestLifecycleSdk.settings = SETTINGS

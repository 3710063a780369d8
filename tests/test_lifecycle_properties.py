"""Random sequences of lifecycle actions against the engine's Store (no HTTP, no aiohttp).

A hypothesis state machine drives create/rotate/revoke/verify/list/clock and the trading
account actions (connect, enable, disable, update, disconnect) by random users (of
`multi-user`, docs profile, and of `sdk`, sdk profile) and checks after every step: a
revoked credential never comes back and never backs a connected account, rotate never
disconnects, list counts match the creates and connects, an external account has at most
one live account, no secret appears in any serialized output, nobody sees or holds
another's records, updatedAt never goes backwards, and a failed action leaves the state
exactly as it was. Derandomized so CI is repeatable.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import venue_account
from cadenza_mock.engine.lifecycle import identities
from cadenza_mock.engine.query import NO_FILTER
from cadenza_mock.engine.store import Store
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
        self.connects = {u.user_id: len(self.store.accounts.of(u.user_id)) for u in self.users}

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
        state: dict[str, object] = {c.credential_id: c for c in self.store.all_credentials()}
        state["accounts"] = sorted(self.store.accounts.all(), key=lambda a: a.trading_account_id)
        state["operations"] = [
            op for user in self.users for op in self.store.accounts.operations_of(user.user_id)
        ]
        return state

    def _credentials(self) -> dict[str, object]:
        return {c.credential_id: c for c in self.store.all_credentials()}

    def _live_backed_by(self, cid: str) -> set[str]:
        return {
            a.trading_account_id
            for a in self.store.accounts.backed_by(cid)
            if a.status != "DISCONNECTED"
        }

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
        connected = self._live_backed_by(cid)
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
        assert self._live_backed_by(cid) == connected, "a rotate disconnected an account"

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

    @rule(
        user=st.integers(0, 2),
        picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=2),
        identity=st.integers(0, 4),
    )
    def connect(self, user: int, picks: list[int], identity: int) -> None:
        owner = self.users[user % len(self.users)]
        ids = [self.ids[p % len(self.ids)] for p in picks]
        first = self.store.find(ids[0])
        reached = identities(first.venue) if first is not None else ("spot",)
        external = reached[identity % len(reached)]
        account = self._attempt(
            "connect", lambda: self.store.connect(owner, ids, external_id=external)
        )
        if account is not None:
            assert account.user_id == owner.user_id and account.status == "ACTIVE"
            self.connects[owner.user_id] += 1
            self.outputs.append(wire.dumps(self.store.account_json(account)))

    @rule(pick=st.integers(0, 10_000), rotate=st.booleans())
    def change_a_backing_credential(self, pick: int, rotate: bool) -> None:
        """Revoke or rotate a credential that backs an account (by its owner), so the
        account effects are exercised often, not only when a random pick hits one."""
        backing = sorted({cid for a in self.store.accounts.all() for cid in a.credential_ids})
        if not backing:
            return
        cid = backing[pick % len(backing)]
        owner = self.users.index(self.store.users[self.store.find(cid).user_id])  # type: ignore[union-attr]
        if rotate:
            self.rotate(owner, self.ids.index(cid), KEY_POOL[pick % len(KEY_POOL)])
        else:
            self.revoke(owner, self.ids.index(cid))

    @rule(
        user=st.integers(0, 2),
        pick=st.integers(0, 10_000),
        action=st.sampled_from(["enable", "disable", "disconnect", "update"]),
    )
    def account_action(self, user: int, pick: int, action: str) -> None:
        owner = self.users[user % len(self.users)]
        known = [a.trading_account_id for a in self.store.accounts.all()] + [UNKNOWN_ID]
        aid = known[pick % len(known)]
        before = self.store.accounts.find(aid)
        if action == "update":
            call = lambda: self.store.update_account(owner, aid, f"renamed {pick}")  # noqa: E731
        else:
            call = lambda: self.store.change_account(owner, aid, action)  # noqa: E731
        account = self._attempt(action, call)
        if account is not None:
            assert before is not None and before.user_id == owner.user_id
            assert before.status != "DISCONNECTED", "an archived account changed"
            expected = {"enable": "ACTIVE", "disable": "INACTIVE", "disconnect": "DISCONNECTED"}
            assert account.status == expected.get(action, before.status)
            self.outputs.append(wire.dumps(self.store.account_json(account)))

    # ------------------------------------------------------------------ invariants

    @invariant()
    def revoked_never_backs_a_connected_account(self) -> None:
        creds = self._credentials()
        for account in self.store.accounts.all():
            backing = [creds[cid] for cid in account.credential_ids]
            assert all(c.user_id == account.user_id for c in backing)  # type: ignore[attr-defined]
            assert all(c.venue == account.venue for c in backing)  # type: ignore[attr-defined]
            if account.status != "DISCONNECTED":
                assert backing and not any(c.status == "REVOKED" for c in backing)  # type: ignore[attr-defined]

    @invariant()
    def one_live_account_per_external_account(self) -> None:
        seen: set[tuple[str, str, str]] = set()
        creds = self._credentials()
        for account in self.store.accounts.all():
            if account.status == "DISCONNECTED":
                continue
            first = creds[account.credential_ids[0]]
            key = (account.venue, venue_account(first), account.external_id)  # type: ignore[arg-type]
            assert key not in seen, f"two live accounts on {key}"
            seen.add(key)

    @invariant()
    def account_counts_match_connects(self) -> None:
        for user in self.users:
            assert len(self.store.accounts.of(user.user_id)) == self.connects[user.user_id]

    @invariant()
    def revoked_is_final(self) -> None:
        state = self._credentials()
        for cid in self.revoked:
            assert state[cid].status == "REVOKED"  # type: ignore[attr-defined]

    @invariant()
    def statuses_follow_the_model(self) -> None:
        state = self._credentials()
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

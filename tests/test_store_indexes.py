"""The store's indexes against a scan: random lifecycle actions (create, rotate, revoke,
verify, connect with keys, reset) drive a Store and a plain model of what it must hold
(the scenario's records, replaced by what each successful action returned); after every
step every lookup the indexes serve (find, filtered lists and their bytes, the live
(user, venue, apiKey) lookup behind the duplicate check, all_credentials' order) must
give exactly what a scan of the model gives. Derandomized so CI is repeatable.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import ALREADY_EXIST, ApiError
from cadenza_mock.contract.model import Credential
from cadenza_mock.engine.query import ListFilter
from cadenza_mock.engine.store import Store, build_index, index_keys, sort_key
from cadenza_mock.scenario import load_scenario

SETTINGS = settings(
    max_examples=12,
    stateful_step_count=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
KEY_POOL = ["", *(f"IndexKey{n}-0123456789abcdef" for n in range(3))]


def scan(model: dict[str, Credential], user_id: str, where: ListFilter) -> list[Credential]:
    """What the store's list must hold: every record checked, then sorted."""
    return sorted(
        (
            c
            for c in model.values()
            if c.user_id == user_id
            and (where.types is None or c.type in where.types)
            and (where.statuses is None or c.status in where.statuses)
            and (where.credential_ids is None or c.credential_id.lower() in where.credential_ids)
        ),
        key=sort_key,
    )


def render(store: Store, items: list[Credential], where: ListFilter) -> bytes:
    """The list envelope of `items`, built without the store's list code (one page: the
    credential list does not page)."""
    data = [wire.credential(c, store.profile, store.scenario.mask_keep) for c in items]
    page = {"offset": 0, "limit": len(items), "total": len(items), "hasNext": False}
    return wire.list_body(data, store.profile, page)


class Indexes(RuleBasedStateMachine):
    scenario_name = "multi-user"
    venues = ("BINANCE", "OKX")

    def __init__(self) -> None:
        super().__init__()
        scenario = load_scenario(self.scenario_name)
        self.store = Store(scenario)
        self.users = list(self.store.users.values())
        self.pristine = {
            c.credential_id.lower(): c for c in sorted(scenario.credentials, key=sort_key)
        }
        self.model = dict(self.pristine)
        self.serial = 0

    # ------------------------------------------------------------------ helpers

    def _ids(self) -> list[str]:
        return [c.credential_id for c in self.model.values()] + [UNKNOWN_ID]

    def _live(self, user_id: str, venue: str, key: str) -> list[Credential]:
        return [
            c
            for c in self.model.values()
            if (c.user_id, c.venue, c.api_key) == (user_id, venue, key)
            and c.status != self.store.enums.revoked_status
        ]

    def _keep(self, *creds: Credential) -> None:
        for cred in creds:
            self.model[cred.credential_id.lower()] = cred

    def _secret(self) -> str:
        self.serial += 1
        return f"secret-{self.serial}"

    def _filters(self, user_id: str) -> list[ListFilter]:
        enums = self.store.enums
        mine = [c.credential_id.lower() for c in self.model.values() if c.user_id == user_id]
        others = [c.credential_id.lower() for c in self.model.values() if c.user_id != user_id]
        filters = [ListFilter()]
        filters += [ListFilter(statuses=frozenset((s,))) for s in enums.statuses]
        filters += [ListFilter(types=frozenset((t,))) for t in enums.types]
        filters.append(
            ListFilter(statuses=frozenset(enums.statuses[:2]), types=frozenset(enums.types[:1]))
        )
        filters.append(ListFilter(credential_ids=frozenset([*mine[-2:], *others[:1], UNKNOWN_ID])))
        filters.append(
            ListFilter(credential_ids=frozenset(mine[:3]), statuses=frozenset(enums.statuses[:1]))
        )
        return filters

    # ------------------------------------------------------------------ rules

    @rule(user=st.integers(0, 2), venue=st.integers(0, 1), key=st.sampled_from(KEY_POOL))
    def create(self, user: int, venue: int, key: str) -> None:
        owner = self.users[user % len(self.users)]
        clash = bool(key) and bool(self._live(owner.user_id, self.venues[venue], key))
        try:
            cred = self.store.create(
                owner,
                venue=self.venues[venue],
                api_key=key or None,
                api_secret=self._secret(),
                api_passphrase=self._secret(),
            )
        except ApiError as err:
            assert clash and err.errno == ALREADY_EXIST.errno
            return
        assert not clash
        self._keep(cred)

    @rule(user=st.integers(0, 2), pick=st.integers(0, 10_000), key=st.sampled_from(KEY_POOL[1:]))
    def rotate(self, user: int, pick: int, key: str) -> None:
        owner = self.users[user % len(self.users)]
        ids = self._ids()
        cid = ids[pick % len(ids)]
        target = self.model.get(cid.lower())
        try:
            cred = self.store.rotate(
                owner, cid, api_key=key, api_secret=self._secret(), api_passphrase=self._secret()
            )
        except ApiError as err:
            if err.errno == ALREADY_EXIST.errno:
                assert target is not None
                clash = self._live(owner.user_id, target.venue, key)
                assert [c for c in clash if c.credential_id != target.credential_id]
            return
        assert target is not None
        assert not [
            c
            for c in self._live(owner.user_id, target.venue, key)
            if c.credential_id != target.credential_id
        ]
        self._keep(cred)

    @rule(user=st.integers(0, 2), pick=st.integers(0, 10_000))
    def revoke(self, user: int, pick: int) -> None:
        owner = self.users[user % len(self.users)]
        ids = self._ids()
        try:
            cred = self.store.revoke(owner, ids[pick % len(ids)])
        except ApiError:
            return
        self._keep(cred)

    @rule(user=st.integers(0, 2), picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=3))
    def verify(self, user: int, picks: list[int]) -> None:
        owner = self.users[user % len(self.users)]
        ids = self._ids()
        try:
            results = self.store.verify(owner, [ids[p % len(ids)] for p in picks])
        except ApiError:
            return
        self._keep(*(r.credential for r in results))

    @rule(user=st.integers(0, 2), venue=st.integers(0, 1), key=st.sampled_from(KEY_POOL[1:]))
    def connect_with_keys(self, user: int, venue: int, key: str) -> None:
        owner = self.users[user % len(self.users)]
        live = self._live(owner.user_id, self.venues[venue], key)
        try:
            account = self.store.connect_with_keys(
                owner,
                venue=self.venues[venue],
                api_key=key,
                api_secret=live[0].api_secret or "s" if live else self._secret(),
                api_passphrase=self._secret(),
            )
        except ApiError:
            return  # a credential created for it was taken back: the invariants check it
        cid = account.credential_ids[0]
        if live:
            assert cid == live[0].credential_id  # the first live one, in store order
        else:
            created = self.store.find(cid)
            assert created is not None and cid.lower() not in self.model
            self._keep(created)

    @rule()
    def reset(self) -> None:
        self.store.reset()
        self.model = dict(self.pristine)

    @rule(user=st.integers(0, 2), data=st.data())
    def list_random_filter(self, user: int, data: st.DataObject) -> None:
        owner = self.users[user % len(self.users)]
        enums = self.store.enums
        ids = self._ids()
        where = ListFilter(
            statuses=data.draw(st.none() | st.frozensets(st.sampled_from(enums.statuses))),
            types=data.draw(st.none() | st.frozensets(st.sampled_from(enums.types))),
            credential_ids=data.draw(
                st.none() | st.frozensets(st.sampled_from(ids).map(str.lower), max_size=4)
            ),
        )
        expected = scan(self.model, owner.user_id, where)
        assert self.store.credentials_of(owner.user_id, where) == expected
        assert self.store.list_body(owner.user_id, where) == render(self.store, expected, where)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def all_credentials_in_model_order(self) -> None:
        assert list(self.store.all_credentials()) == list(self.model.values())

    @invariant()
    def find_by_any_case(self) -> None:
        for cid, cred in self.model.items():
            assert self.store.find(cid) == cred
            assert self.store.find(cid.upper()) == cred
        assert self.store.find(UNKNOWN_ID) is None

    @invariant()
    def lists_match_a_scan(self) -> None:
        for user in self.users:
            for where in self._filters(user.user_id):
                expected = scan(self.model, user.user_id, where)
                assert self.store.credentials_of(user.user_id, where) == expected
                # Twice: the second answer comes from the cache.
                for _ in range(2):
                    body = self.store.list_body(user.user_id, where)
                    assert body == render(self.store, expected, where)

    @invariant()
    def live_keys_match_a_scan(self) -> None:
        for user in self.users:
            for venue in self.venues:
                for key in KEY_POOL:
                    found = self.store.live_with_key(user.user_id, venue, key)
                    assert found == self._live(user.user_id, venue, key)


class SdkIndexes(Indexes):
    scenario_name = "sdk"
    venues = ("BINANCE", "OKX_UAT")


TestIndexesDocs = Indexes.TestCase
TestIndexesDocs.settings = SETTINGS
TestIndexesSdk = SdkIndexes.TestCase
TestIndexesSdk.settings = SETTINGS


@pytest.mark.parametrize("name", ["many", "multi-user", "default", "accounts"])
def test_the_bulk_index_is_index_keys_of_every_record(name: str) -> None:
    scenario = load_scenario(name)
    records = {c.credential_id.lower(): c for c in sorted(scenario.credentials, key=sort_key)}
    naive: dict[tuple[str, ...], list[str]] = {}
    for cid, cred in records.items():
        for key in index_keys(cred, scenario.enums.revoked_status):
            naive.setdefault(key, []).append(cid)
    assert build_index(records, scenario.enums.revoked_status) == naive


@pytest.mark.parametrize("profile", ["docs", "sdk"])
@pytest.mark.parametrize("count", [0, 1, 1999, 2000, 2001, 10_000])
def test_the_chunked_list_body_is_the_whole_list_body(profile: str, count: int) -> None:
    creds = load_scenario("many", profile=profile).credentials[:count]
    page = {"offset": 0, "limit": count, "total": count, "hasNext": False}
    whole = wire.list_body([wire.credential(c, profile, 4) for c in creds], profile, page)
    assert wire.credential_list_body(creds, profile, 4, page) == whole

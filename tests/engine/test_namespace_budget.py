"""Namespaces as the engine keeps them (no server): names, the bound on their number and
the record budget (each a 429 with a Retry-After counted from the idle expiry), and what
a delete gives back. test_namespaces.py and test_namespace_limits.py check the same rules
over HTTP."""

from __future__ import annotations

import re

import pytest

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.engine.namespaces import Namespaces, check_name
from cadenza_mock.engine.state import MockState

GENERATED = {"users": [{"tokens": ["g"], "credentials": [{"generate": 30}]}]}


@pytest.fixture(scope="module")
def default() -> MockState:
    return MockState("empty")


def spaces_with_clock(default: MockState, **options) -> tuple[Namespaces, list[float]]:
    now = [100.0]
    return Namespaces(default, monotonic=lambda: now[0], **options), now


def refused(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("name", ["a", "team-a", "0", "a" * 40, "x-1-y"])
def test_good_names(name):
    check_name(name)


@pytest.mark.parametrize("name", ["", "-a", "a-", "A", "a_b", "a.b", "a" * 41, "é", "a b"])
def test_bad_names_are_a_400_naming_the_rule(name):
    error = refused(check_name, name)
    assert (error.status, error.errno) == (400, -22015)
    assert "1 to 40 lower-case letters, digits and dashes" in error.message


def test_fresh_names_and_incarnations_are_never_reused(default):
    spaces, _ = spaces_with_clock(default)
    made = [spaces.create("empty") for _ in range(3)]
    assert all(re.fullmatch(r"ns-[0-9a-f]{8}", space.name) for space in made)
    assert len({space.name for space in made}) == 3
    assert [space.state.incarnation for space in made] == [1, 2, 3]
    spaces.drop(made[0].name)
    assert spaces.create("empty", name=made[0].name).state.incarnation == 4


def test_a_taken_or_the_default_name_is_a_409(default):
    spaces, _ = spaces_with_clock(default)
    spaces.create("empty", name="team-a")
    for name in ("team-a", "default"):
        error = refused(spaces.create, "empty", name=name)
        assert (error.status, error.errno) == (409, -22017)
    assert [space.name for space in spaces] == ["team-a"]


def test_the_bound_is_a_429_whose_retry_after_is_the_next_idle_expiry(default):
    spaces, now = spaces_with_clock(default, limit=2, idle_seconds=60)
    spaces.create("empty", name="a")
    now[0] += 20
    spaces.create("empty", name="b")
    error = refused(spaces.create, "empty", name="c")
    assert (error.status, error.errno) == (429, -18011)
    assert "2 namespaces exist (the server's --max-namespaces)" in error.message
    assert error.headers == {"Retry-After": "40"}  # `a` may expire in 40 s
    release = spaces.hold(spaces.get("a"))
    assert refused(spaces.create, "empty").headers == {"Retry-After": "60"}  # `a` is busy
    release()
    now[0] += 61
    assert spaces.create("empty", name="c").name == "c"  # the idle ones expired first
    assert sorted(space.name for space in spaces) == ["c"]


def test_the_record_budget_is_shared_and_freed_by_a_delete(default):
    spaces, _ = spaces_with_clock(default, max_records=50)
    first = spaces.create(GENERATED, name="first")
    assert first.records == 30 and spaces.records_left() == 20
    error = refused(spaces.create, GENERATED, name="second")
    assert (error.status, error.errno) == (429, -18011)
    assert "holds 30 records" in error.message and "budget of 50 (--max-records)" in error.message
    assert "Retry-After" in error.headers
    assert [space.name for space in spaces] == ["first"]  # nothing was created
    spaces.drop("first")
    assert spaces.records_left() == 50
    assert spaces.create(GENERATED, name="second").records == 30


def test_a_budget_of_nothing_still_takes_an_empty_scenario(default):
    spaces, _ = spaces_with_clock(default, max_records=0)
    assert spaces.create("empty").records == 0
    assert refused(spaces.create, GENERATED).status == 429


def test_the_default_namespace_is_the_servers_own(default):
    spaces, _ = spaces_with_clock(default)
    assert spaces.state_named("default") is default
    error = refused(spaces.drop, "default")
    assert error.status == 400 and "cannot be deleted" in error.message
    assert refused(spaces.state_named, "Bad_Name").status == 400  # malformed: 400, not 404
    missing = refused(spaces.state_named, "gone")
    assert (missing.status, missing.errno) == (404, -19003)
    assert "never existed, was deleted, or expired after 1800 s idle" in missing.message


def test_a_use_counts_as_a_request_and_keeps_the_namespace_alive(default):
    spaces, now = spaces_with_clock(default, idle_seconds=10)
    space = spaces.create("empty", name="used")
    used: list[str] = []
    spaces.on_use.append(lambda s: used.append(s.name))
    for _ in range(3):
        now[0] += 9
        assert spaces.state_named("used") is space.state
    assert space.requests == 3 and used == ["used"] * 3
    dropped: list[str] = []
    spaces.on_drop.append(lambda s: dropped.append(s.name))
    now[0] += 11
    assert spaces.expire() == ["used"] and dropped == ["used"]
    assert space.state.retired


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"limit": -1}, "limit cannot be negative"),
        ({"idle_seconds": 0}, "must be positive"),
        ({"max_records": -1}, "budget cannot be negative"),
    ],
)
def test_impossible_bounds_are_refused(default, options, words):
    with pytest.raises(ValueError, match=words):
        Namespaces(default, **options)

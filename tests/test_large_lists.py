"""A large list answer is encoded in a worker thread: other clients are served meanwhile,
the bytes are those the ordinary path makes, and a reset during the encoding drops it.

`PendingList.encode` is held on an event here, so "meanwhile" is a fact, not a timing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from support import ALICE, LIST

from cadenza_mock import MockServer
from cadenza_mock.engine import list_answers
from cadenza_mock.engine import store as store_module


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """(started, release): encoding of a large list starts, then waits for `release`."""
    started, release = threading.Event(), threading.Event()
    encode = store_module.PendingList.encode

    def held_encode(self: store_module.PendingList) -> bytes:
        started.set()
        assert release.wait(30)
        return encode(self)

    monkeypatch.setattr(store_module.PendingList, "encode", held_encode)
    # Where the list path reads it (store.py only re-exports it).
    monkeypatch.setattr(list_answers, "LARGE_LIST", 5000)  # the `many` scenario's 10,000 count
    yield started, release
    release.set()


def _list_in_thread(url: str, got: list[requests.Response | BaseException]) -> threading.Thread:
    def call() -> None:
        try:
            got.append(requests.get(url + LIST, headers=ALICE, timeout=60))
        except requests.RequestException as exc:
            got.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def test_others_are_served_while_a_large_list_is_encoded(held) -> None:
    started, release = held
    with MockServer("many") as mock:
        got: list[requests.Response | BaseException] = []
        thread = _list_in_thread(mock.url, got)
        assert started.wait(30)
        # The big list is being encoded: the server still answers everyone else.
        for _ in range(5):
            health = requests.get(mock.url + "/api/v3/health", timeout=10)
            assert health.status_code == 200
        assert got == []
        release.set()
        thread.join(60)
        (answer,) = got
        assert isinstance(answer, requests.Response) and answer.status_code == 200
        expected = mock.state.store.list_body(mock.users[0].user_id, store_module.NO_FILTER)
        assert answer.content == expected and len(answer.json()["data"]) >= 10_000
        # Remembered: the next call is answered without encoding again.
        started.clear()
        assert requests.get(mock.url + LIST, headers=ALICE, timeout=30).content == expected
        assert not started.is_set()


def test_a_reset_during_the_encoding_drops_the_answer_and_keeps_nothing(held) -> None:
    started, release = held
    with MockServer("many") as mock:
        got: list[requests.Response | BaseException] = []
        thread = _list_in_thread(mock.url, got)
        assert started.wait(30)
        mock.reset()
        release.set()
        thread.join(60)
        assert len(got) == 1 and isinstance(got[0], requests.ConnectionError)
        assert mock.requests == []  # dropped as every request a reset overtakes
        store = mock.state.store
        assert store.remembered_list("Bearer alice-token", "") is None


def test_small_lists_are_answered_at_once(held) -> None:
    started, _ = held
    with MockServer("default") as mock:
        assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 200
        assert not started.is_set()

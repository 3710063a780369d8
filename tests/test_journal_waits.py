"""The journal a retry test reads: requests in the order they arrived, a call its client gave
up on there as soon as the server knows, `wait_idle()` and journal reads that wait for what
is still in flight, and count assertions that name the journal's bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from support import ALICE, LIST

from cadenza_mock import MockServer
from cadenza_mock.testing.remote import RemoteMock

IDLE = "/__admin/requests/idle"

# A client that retries once after a timeout, as most production clients do: the journal
# must read [0, 200] every time (the abandoned call first), not only most of the time.
RETRY = """
import pytest
import requests

LIST = "/api/v3/credential/list"


def get_with_one_retry(url, headers):
    try:
        return requests.get(url, headers=headers, timeout=0.1)
    except requests.Timeout:
        return requests.get(url, headers=headers, timeout=10)


@pytest.mark.parametrize("run", range(20))
def test_the_abandoned_call_comes_before_its_retry(cadenza_mock, run):
    cadenza_mock.delay_next(3, path=LIST)
    answer = get_with_one_retry(cadenza_mock.url_for(LIST), cadenza_mock.auth_headers)
    assert answer.status_code == 200
    calls = cadenza_mock.calls(LIST, wait=True)
    assert [call.status for call in calls] == [0, 200]
    assert [call.seq for call in calls] == [1, 2]
    assert calls[0].fault == "client gone"
"""


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer("default") as server:
        yield server


def _in_background(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except requests.RequestException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_retry_test_reads_the_abandoned_call_first_in_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retry=RETRY)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=20)


def test_a_retry_test_reads_the_abandoned_call_first_remotely(
    pytester: pytest.Pytester, mock: MockServer
) -> None:
    pytester.makepyfile(test_retry=RETRY)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "--cadenza-url", mock.url
    )
    result.assert_outcomes(passed=20)


def test_wait_idle_shows_the_abandoned_call_right_after_the_timeout(mock: MockServer) -> None:
    for _ in range(20):
        mock.reset()
        mock.delay_next(3, path=LIST)
        with pytest.raises(requests.Timeout):
            requests.get(mock.url + LIST, headers=ALICE, timeout=0.1)
        mock.wait_idle(timeout=2)  # far less than the delay: the server noticed the client
        assert [(e.path, e.status, e.fault) for e in mock.requests] == [(LIST, 0, "client gone")]


@pytest.mark.parametrize("remote", [False, True], ids=["in-process", "remote"])
def test_entries_keep_the_order_and_numbers_their_requests_arrived_in(
    mock: MockServer, remote: bool
) -> None:
    handle = RemoteMock(mock.url) if remote else mock
    handle.delay_next(0.6, path=LIST)
    slow, outcome = _in_background(lambda: requests.get(mock.url + LIST, headers=ALICE, timeout=10))
    deadline = time.monotonic() + 5
    while mock.state.journal.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # the slow call has arrived (it is in flight)
    health = requests.get(mock.url + "/api/v3/health", timeout=10)
    assert health.status_code == 200
    # The later call is answered first; it keeps its number while the first is in flight.
    assert [(e.seq, e.path) for e in handle.requests] == [(2, "/api/v3/health")]
    handle.wait_idle(timeout=5)
    slow.join(10)
    assert outcome[0].status_code == 200
    assert [(e.seq, e.path, e.status) for e in handle.calls(wait=True)] == [
        (1, LIST, 200),
        (2, "/api/v3/health", 200),
    ]


@pytest.mark.parametrize("remote", [False, True], ids=["in-process", "remote"])
def test_wait_idle_times_out_naming_what_is_in_flight(mock: MockServer, remote: bool) -> None:
    handle = RemoteMock(mock.url) if remote else mock
    handle.delay_next(1.5, path=LIST)
    slow, _ = _in_background(lambda: requests.get(mock.url + LIST, headers=ALICE, timeout=10))
    deadline = time.monotonic() + 5
    while mock.state.journal.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(TimeoutError, match=r"1 request\(s\) still in flight after 0.2 s"):
        handle.wait_idle(timeout=0.2)
    with pytest.raises(TimeoutError):
        handle.assert_called(LIST, wait=0.1)
    handle.assert_called(LIST, times=1, wait=5)
    slow.join(10)


def test_bad_waits_are_refused(mock: MockServer) -> None:
    with pytest.raises(ValueError, match="timeout must be seconds"):
        mock.wait_idle(timeout=-1)
    with pytest.raises(ValueError, match="calls: wait must be True, False or seconds"):
        mock.calls(wait="soon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="assert_called: wait must be"):
        mock.assert_called(LIST, wait=-2)


@pytest.mark.parametrize("timeout", ["abc", "-1", "31", "nan", "inf"])
def test_the_admin_wait_refuses_a_bad_timeout(mock: MockServer, timeout: str) -> None:
    got = requests.get(mock.url + IDLE, params={"timeout": timeout}, timeout=10)
    assert got.status_code == 400
    body = got.json()
    assert (
        body["success"] is False
        and "timeout must be a number of seconds from 0 to 30" in (body["error"])
    )


def test_the_admin_wait_answers_at_once_when_idle(mock: MockServer) -> None:
    got = requests.get(mock.url + IDLE, params={"timeout": "30"}, timeout=10)
    assert got.json()["data"] == {"idle": True, "inFlight": 0, "journalSize": 1000}


def test_a_count_past_the_journal_bound_says_the_bound() -> None:
    with MockServer("default", journal_limit=3) as small:
        for _ in range(5):
            assert requests.get(small.url + LIST, headers=ALICE, timeout=10).ok
        assert len(small.requests) == 3
        with pytest.raises(AssertionError) as info:
            small.assert_called(LIST, times=5)
        message = str(info.value)
        assert "was requested 3 time(s), expected 5" in message
        assert "the journal keeps the newest 3 entries" in message
        assert "--cadenza-journal-size" in message


@pytest.mark.parametrize("remote", [False, True], ids=["in-process", "remote"])
def test_a_count_above_the_bound_says_it_however_few_were_made(
    mock: MockServer, remote: bool
) -> None:
    handle = RemoteMock(mock.url) if remote else mock
    requests.get(mock.url + LIST, headers=ALICE, timeout=10)
    with pytest.raises(AssertionError, match="the journal keeps the newest 1000 entries"):
        handle.assert_called(LIST, times=1100)
    with pytest.raises(AssertionError) as info:
        handle.assert_called(LIST, times=2)  # within the bound, nothing fell off: no note
    assert "journal keeps" not in str(info.value)


def test_the_plugin_sizes_the_journal(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_size="""
        import pytest
        import requests

        LIST = "/api/v3/credential/list"


        def test_the_journal_keeps_three(cadenza_mock):
            for _ in range(4):
                requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
            assert len(cadenza_mock.requests) == 3
            assert cadenza_mock.journal_size == 3
            with pytest.raises(AssertionError, match="keeps the newest 3 entries"):
                cadenza_mock.assert_called(LIST, times=4)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--cadenza-journal-size", "3")
    result.assert_outcomes(passed=1)


def test_the_plugin_journal_size_is_refused_for_a_remote_mock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing="def test_nothing(cadenza_mock):\n    pass\n")
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--cadenza-journal-size",
        "3",
        "--cadenza-url",
        "http://127.0.0.1:9",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*serve --journal-size 3*"])

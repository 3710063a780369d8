"""Clients that give up, and requests still in flight when a test ends.

Timeout tests are what people write first against a mock: a delayed answer, a client
timeout, then the next test. The client going away is normal, never a crash; and nothing
of a request the previous test sent may show up in the next test's journal or state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from support import ALICE, LIST

from cadenza_mock import MockServer

CREATE = "/api/v3/credential/create"

# Every test starts by checking it sees nothing of any test before it, and leaves a
# request in flight for the tests after it: so any order (random, xdist) checks the fence.
DOWNSTREAM = """
import time

import httpx
import pytest
import requests

LIST = "/api/v3/credential/list"
CREATE = "/api/v3/credential/create"
KEY = {"venue": "BINANCE", "apiKey": "inflightKey0123456789", "apiSecret": "inflight-s3cret"}
held_open = []


@pytest.fixture(autouse=True)
def pristine(cadenza_mock):
    assert cadenza_mock.requests == []
    assert cadenza_mock.faults == []
    assert len(cadenza_mock.credentials()) == 4


def test_a_delayed_post_whose_client_gives_up(cadenza_mock):
    cadenza_mock.delay_next(0.5, path=CREATE)
    with pytest.raises(requests.Timeout):
        requests.post(
            cadenza_mock.url + CREATE, json=KEY, headers=cadenza_mock.auth_headers, timeout=0.1
        )


def test_a_delayed_post_with_httpx(cadenza_mock):
    cadenza_mock.delay_next(0.5, path=CREATE)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(
            cadenza_mock.url + CREATE, json=KEY, headers=cadenza_mock.auth_headers, timeout=0.1
        )


def test_the_same_create_succeeds(cadenza_mock):
    created = requests.post(
        cadenza_mock.url + CREATE, json=KEY, headers=cadenza_mock.auth_headers, timeout=10
    )
    assert created.status_code == 200  # no earlier create landed here (that would be 409)


def test_a_delayed_get_with_httpx_left_open(cadenza_mock):
    cadenza_mock.delay_next(0.5, path=LIST)
    client = httpx.Client(timeout=0.1)
    held_open.append(client)  # the connection stays open into the next tests
    with pytest.raises(httpx.TimeoutException):
        client.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)


def test_a_delayed_get_with_requests(cadenza_mock):
    cadenza_mock.delay_next(0.6, path=LIST)
    with pytest.raises(requests.Timeout):
        requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers, timeout=0.1)


def test_nothing_arrives_late(cadenza_mock):
    time.sleep(0.7)  # past every delay: a late entry would have landed by now
    assert cadenza_mock.requests == []
    assert len(cadenza_mock.credentials()) == 4
"""
TESTS = 6


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_timeouts_neither_crash_nor_leak_in_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_timeouts=DOWNSTREAM)
    run(pytester, "-p", "no:randomly").assert_outcomes(passed=TESTS)  # the file's order
    for seed in (1, 2, 3):  # pytest-randomly shuffles the tests
        run(pytester, f"--randomly-seed={seed}").assert_outcomes(passed=TESTS)


@pytest.mark.slow
def test_timeouts_neither_crash_nor_leak_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_timeouts=DOWNSTREAM)
    for seed in (4, 5):
        run(pytester, f"--randomly-seed={seed}", "-n", "2").assert_outcomes(passed=TESTS)


def test_timeouts_neither_crash_nor_leak_remotely(
    pytester: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    served = serve("--quiet")
    url, _ = served.banner()
    pytester.makepyfile(test_timeouts=DOWNSTREAM)
    for seed in (6, 7):
        result = run(pytester, f"--randomly-seed={seed}", "--cadenza-url", url)
        result.assert_outcomes(passed=TESTS)
    code, output = served.stop()
    assert code == 0 and "Traceback" not in output


def test_a_client_gone_is_journaled_without_a_status() -> None:
    with MockServer("default") as mock:
        mock.delay_next(0.4, path=LIST)
        with pytest.raises(requests.Timeout):
            requests.get(mock.url + LIST, headers=ALICE, timeout=0.1)
        deadline = time.monotonic() + 5
        while not mock.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        (entry,) = mock.requests
        assert (entry.path, entry.status, entry.fault) == (LIST, 0, "client gone")
        mock.check_handler_errors()  # nothing was raised into the test


def test_a_client_gone_during_a_delayed_create_changes_nothing() -> None:
    body = {"venue": "BINANCE", "apiKey": "goneKey0123456789abcd", "apiSecret": "gone-s3cret"}
    with MockServer("default") as mock:
        before = requests.get(mock.url + LIST, headers=ALICE, timeout=10).content
        mock.delay_next(0.4, path=CREATE)
        with pytest.raises(requests.Timeout):
            requests.post(mock.url + CREATE, json=body, headers=ALICE, timeout=0.1)
        time.sleep(0.6)
        assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).content == before
        mock.check_handler_errors()
        # The same create, now waited for, succeeds: the first one left no 409 behind.
        assert requests.post(mock.url + CREATE, json=body, headers=ALICE, timeout=10).ok


def test_reset_fences_a_pending_delay() -> None:
    """A request still delayed when reset() runs is dropped: no entry, no state change,
    and the armed fault of the new state is untouched."""
    with MockServer("default") as mock:
        mock.delay_next(5, path=LIST)
        session = requests.Session()
        import threading

        outcome: list[Any] = []

        def call() -> None:
            try:
                outcome.append(session.get(mock.url + LIST, headers=ALICE, timeout=10))
            except requests.RequestException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.2)
        started = time.monotonic()
        mock.reset()
        caller.join(10)
        assert time.monotonic() - started < 1  # the delay was cut short by the reset
        assert isinstance(outcome[0], requests.ConnectionError)  # dropped unanswered
        assert mock.requests == [] and mock.faults == []
        assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 200

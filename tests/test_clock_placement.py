"""The mock clock as a downstream suite needs it: tokens a client checks against its own
wall clock look valid under a frozen scenario, `now_ms` read after a change is that
change's time, and `freeze()` / `set_now()` / `unfreeze()` put the clock where a test wants
it, in-process and remotely (POST /__admin/clock {now, frozen})."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from support import ALICE, LIST

from cadenza_mock import MockHandle, MockServer
from cadenza_mock.testing.remote import RemoteError, RemoteMock

FROZEN_MS = 1768478400000  # the default scenario's now: 2026-01-15T12:00:00Z
CLOCK = "/__admin/clock"
CREATE = "/api/v3/credential/create"
ROTATE = "/api/v3/credential/rotate"
REVOKE = "/api/v3/credential/revoke"
LOGIN = "/api/v3/auth/login"
KEY = {"venue": "BYBIT", "apiKey": "bybitKEY1234567890", "apiSecret": "bybit-s3cret"}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer("default") as mock:
        yield mock


@pytest.fixture(params=["in-process", "remote"])
def mock(request: pytest.FixtureRequest, server: MockServer) -> MockHandle:
    server.reset()
    return server if request.param == "in-process" else RemoteMock(server.url)


def _post(mock: MockHandle, path: str, body: dict[str, object]) -> dict[str, object]:
    answer = requests.post(mock.url + path, json=body, headers=ALICE, timeout=10)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert isinstance(data, dict)
    return data


def _claims(jwt: str) -> dict[str, int]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_now_ms_after_each_change_is_that_changes_time(mock: MockHandle) -> None:
    created = _post(mock, CREATE, KEY)
    assert created["createdAt"] == created["updatedAt"] == mock.now_ms == FROZEN_MS
    rotated = _post(
        mock,
        ROTATE,
        {"credentialId": created["credentialId"], "apiKey": "b" * 18, "apiSecret": "x"},
    )
    assert rotated["updatedAt"] == mock.now_ms == FROZEN_MS + 1
    _post(mock, REVOKE, {"credentialId": created["credentialId"]})
    stored = mock.credential(str(created["credentialId"]))
    assert stored["revokedAt"] == stored["updatedAt"] == mock.now_ms == FROZEN_MS + 2
    mock.reset()
    assert mock.now_ms == FROZEN_MS


def test_a_record_stamped_ahead_of_the_clock_does_not_drag_it() -> None:
    ahead = FROZEN_MS + 86_400_000
    scenario = {
        "now": FROZEN_MS,
        "users": [
            {
                "email": "ahead@example.com",
                "tokens": ["ahead-token"],
                "credentials": [
                    {
                        "credentialId": "11111111-2222-4333-8444-555555555555",
                        "venue": "BINANCE",
                        "apiKey": "aheadKey0123456789",
                        "apiSecret": "s",
                        "createdAt": ahead,
                        "updatedAt": ahead,
                    }
                ],
            }
        ],
    }
    with MockServer(scenario) as mock:
        answer = requests.post(
            mock.url + REVOKE,
            json={"credentialId": "11111111-2222-4333-8444-555555555555"},
            headers={"Authorization": "Bearer ahead-token"},
            timeout=10,
        )
        assert answer.status_code == 200
        assert mock.credential("11111111-2222-4333-8444-555555555555")["revokedAt"] == ahead + 1
        assert mock.now_ms == FROZEN_MS  # a day's jump would have expired every token


def test_tokens_issued_under_a_frozen_scenario_look_valid_by_the_wall_clock(
    mock: MockHandle,
) -> None:
    before = int(time.time())
    login = requests.post(
        mock.url + LOGIN,
        json={"email": "alice@example.com", "password": "correct-horse"},
        timeout=10,
    ).json()["data"]
    after = int(time.time())
    claims = _claims(login["accessToken"])
    assert before <= claims["iat"] <= after  # not 2026-01-15: the client's own clock
    assert claims["exp"] == login["expiresAt"] == claims["iat"] + 3600
    assert mock.now_ms == FROZEN_MS  # the data clock stays frozen
    headers = {"Authorization": f"Bearer {login['accessToken']}"}
    assert requests.get(mock.url + LIST, headers=headers, timeout=10).status_code == 200
    mock.advance(3600)  # the advances still move the tokens' clock: expired now
    expired = requests.get(mock.url + LIST, headers=headers, timeout=10)
    assert expired.status_code == 401 and "token expired" in expired.json()["error"]


def test_scenario_data_stays_byte_identical_whatever_the_day() -> None:
    lists = []
    for _ in range(2):
        with MockServer("default") as mock:
            requests.post(
                mock.url + LOGIN,
                json={"email": "alice@example.com", "password": "correct-horse"},
                timeout=10,
            )
            lists.append(requests.get(mock.url + LIST, headers=ALICE, timeout=10).content)
    assert lists[0] == lists[1]


def test_set_now_freeze_and_unfreeze(mock: MockHandle) -> None:
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    at_ms = int(at.timestamp() * 1000)
    assert mock.set_now(at) == at_ms == mock.now_ms
    assert _post(mock, CREATE, KEY)["createdAt"] == at_ms  # records follow it
    june = int(datetime(2031, 6, 1, tzinfo=UTC).timestamp() * 1000)
    assert mock.set_now("2031-06-01T00:00:00Z") == june
    assert mock.set_now(at_ms + 5) == mock.now_ms == at_ms + 5  # plain ms too
    running = mock.unfreeze()
    time.sleep(0.02)
    assert mock.now_ms > running  # it runs from where it stood
    clock = requests.get(mock.url + CLOCK, timeout=10).json()["data"]
    assert clock["frozen"] is False
    frozen = mock.freeze()
    time.sleep(0.02)
    assert mock.now_ms == frozen  # stopped where it stood
    march = int(datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC).timestamp() * 1000) + 8
    assert mock.freeze("2027-03-04T05:06:07.008Z") == march == mock.now_ms
    assert mock.advance(60) == march + 60_000
    mock.reset()
    assert mock.now_ms == FROZEN_MS
    assert requests.get(mock.url + CLOCK, timeout=10).json()["data"]["frozen"] is True


def test_freeze_a_running_scenario() -> None:
    with MockServer({"now": None, "users": [{"tokens": ["t"]}]}) as mock:
        assert requests.get(mock.url + CLOCK, timeout=10).json()["data"]["frozen"] is False
        frozen = mock.freeze()
        time.sleep(0.02)
        assert mock.now_ms == frozen
        mock.reset()
        assert requests.get(mock.url + CLOCK, timeout=10).json()["data"]["frozen"] is False


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("yesterday", "must be milliseconds since the epoch, an ISO-8601 time"),
        (True, "must be milliseconds since the epoch"),
        (-5, "between 1970 and the year 9999"),
        (2**60, "between 1970 and the year 9999"),
    ],
)
def test_bad_instants_are_refused_and_change_nothing(
    mock: MockHandle, at: object, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        mock.set_now(at)  # type: ignore[arg-type]
    assert mock.now_ms == FROZEN_MS


@pytest.mark.parametrize(
    "body",
    [
        {"now": "yesterday"},
        {"frozen": "yes"},
        {"frozen": None},
        {"now": "2030-01-01T00:00:00Z", "advance": -1},
        {"now": "9999-12-31T23:59:59Z", "advance": 60},
        {"now": 1.5},
    ],
)
def test_the_admin_clock_refuses_bad_placements_whole(server: MockServer, body: dict) -> None:
    server.reset()
    answer = requests.post(server.url + CLOCK, json=body, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["success"] is False and answer.json()["errno"] == -19004
    clock = requests.get(server.url + CLOCK, timeout=10).json()["data"]
    assert (clock["now"], clock["frozen"], clock["offsetMs"]) == (FROZEN_MS, True, 0)


def test_a_remote_bad_placement_names_the_field(server: MockServer) -> None:
    with pytest.raises(RemoteError, match="frozen must be true or false"):
        RemoteMock(server.url)._admin(  # what a hand-written client might send
            "POST", "clock", body=b'{"frozen": 1}', content_type="application/json"
        )


def test_a_running_clock_set_at_the_last_instant_stays_there(server: MockServer) -> None:
    """The schemathesis find: a running clock placed at 9999-12-31T23:59:59.999Z went past
    it a millisecond later, and every answer showing the time was a 500."""
    server.reset()
    try:
        placed = {"now": 253_402_300_799_999, "frozen": False}
        answer = requests.post(server.url + CLOCK, json=placed, timeout=10)
        assert answer.status_code == 200, answer.text
        time.sleep(0.01)
        clock = requests.get(server.url + CLOCK, timeout=10).json()["data"]
        assert (clock["now"], clock["nowDateTime"]) == (
            253_402_300_799_999,
            "9999-12-31T23:59:59.999Z",
        )
    finally:
        server.reset()

"""A trading account's venue behaviour changed at run time (contract/venue_controls.py),
over real sockets: the admin API (requests), the in-process and the remote handle, a
namespace's own, the submit fast path on a kept-alive raw connection that already
submitted, the browser guard; bad input is a clear 400 naming the key and changes
nothing; a reset, a load and a rollback put back what the scenario (or the snapshot) had;
the reference table is the declaration's."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import doc_examples
import pytest
import requests
import yaml
from support import error_text, module_mock
from test_fast_submit import Conversation, get, order, post, submit_answers

from cadenza_mock.contract.operations import OPERATIONS
from cadenza_mock.contract.venue_controls import (
    BEHAVIOR_KEYS,
    CONTROLS,
    VENUE_BEHAVIOR_PATH,
    controls_table,
)
from cadenza_mock.run.server import MockServer
from cadenza_mock.testing.handle import MockHandle
from cadenza_mock.testing.remote import RemoteError, RemoteMock

SPOT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot account (accounts.yaml)
UNKNOWN = "00000000-0000-4000-8000-000000000000"
ALICE = {"Authorization": "Bearer alice-token"}
SCENARIO: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "scenarios" / "accounts.yaml").read_text()
)
SCENARIO["users"][0]["trading_accounts"][0]["venue_behavior"] = {"taker_fee": "0.002"}
assert SCENARIO["users"][0]["trading_accounts"][0]["tradingAccountId"] == SPOT
FROM_SCENARIO = {"tradingAccountId": SPOT, "venueBehavior": {"taker_fee": "0.002"},
                 "source": "scenario"}  # fmt: skip

server, mock = module_mock(SCENARIO)


def admin_post(base: str, body: Any) -> requests.Response:
    return requests.post(base + VENUE_BEHAVIOR_PATH, json=body, timeout=10)


def shown(base: str, **params: str) -> Any:
    r = requests.get(base + VENUE_BEHAVIOR_PATH, params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def submit(base: str, **fields: Any) -> requests.Response:
    body = order(**fields)
    return requests.post(f"{base}/api/v3/tradeOrder/submit", json=body, headers=ALICE, timeout=10)


def state(mock: MockHandle) -> tuple[Any, ...]:
    """What a refused control must leave as it was."""
    return mock.venue_behaviors(), mock.orders(), mock.portfolio(SPOT)["balances"]


def test_the_reference_table_routes_and_handle_are_the_declarations() -> None:
    table = doc_examples.section("Venue behaviour controls").body
    assert controls_table() in table, f"paste into docs/reference.md:\n{controls_table()}"
    routes = {f"{op.method} {op.path}" for op in OPERATIONS}
    for control in CONTROLS:
        assert control.route in routes
        assert callable(getattr(MockHandle, control.method))
    keys = doc_examples.section("Venue behaviours").body  # docs/trading.md's table
    for key in BEHAVIOR_KEYS:
        assert f"`{key.name}" in keys, key.name


def test_a_behaviour_set_at_run_time_is_the_next_submits_and_a_clear_ends_it(
    mock: MockServer,
) -> None:
    assert shown(mock.url) == [FROM_SCENARIO]
    r = admin_post(mock.url, {"tradingAccountId": SPOT.upper(), "reject": True})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"tradingAccountId": SPOT, "venueBehavior": {"reject": True},
                                "source": "admin"}  # fmt: skip
    before = state(mock)
    refused = submit(mock.url)
    assert "the venue rejected the order" in error_text(refused, 400, -18025)
    assert state(mock) == before
    assert shown(mock.url, tradingAccountId=SPOT) == [r.json()["data"]]
    # The whole behaviour is replaced: the scenario's fee is gone, a share is taken.
    mock.venue_behavior(SPOT, partial="0.5", taker_fee=Decimal("0"))
    filled = submit(mock.url, quantity="0.01")
    assert filled.status_code == 200, filled.text
    got = filled.json()["data"][0]
    assert (got["status"], got["executedQuantity"]) == ("EXPIRED", "0.00500")
    assert Decimal(got["fees"][0]["quantity"]) == 0
    cleared = admin_post(mock.url, {"tradingAccountId": SPOT, "clear": True})
    assert cleared.json()["data"] == {"tradingAccountId": SPOT, "venueBehavior": {},
                                      "source": "normal"}  # fmt: skip
    assert shown(mock.url) == [] and shown(mock.url, tradingAccountId=SPOT) == []
    whole = submit(mock.url, quantity="0.01").json()["data"][0]
    assert (whole["status"], whole["executedQuantity"]) == ("FILLED", "0.01000")
    # An empty behaviour is the normal venue too.
    mock.venue_behavior(SPOT, timeout=True)
    assert admin_post(mock.url, {"tradingAccountId": SPOT}).json()["data"]["source"] == "normal"
    assert submit(mock.url).status_code == 200


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"tradingAccountId": SPOT, "partial": 0}, "venue_behavior.partial: expected a fraction"),
        ({"tradingAccountId": SPOT, "partial": "1.5"}, "venue_behavior.partial"),
        ({"tradingAccountId": SPOT, "taker_fee": "-0.1"}, "venue_behavior.taker_fee: expected a"),
        ({"tradingAccountId": SPOT, "maker_fee": "x"}, "venue_behavior.maker_fee"),
        ({"tradingAccountId": SPOT, "reject": "maybe"}, "venue_behavior.reject: expected true"),
        ({"tradingAccountId": SPOT, "timeout": None}, "venue_behavior.timeout"),
        ({"tradingAccountId": SPOT, "fill_delay": 86_401}, "venue_behavior.fill_delay: expected"),
        ({"tradingAccountId": SPOT, "cancel_delay": -1}, "venue_behavior.cancel_delay"),
        ({"tradingAccountId": SPOT, "fill_delay": [2]}, "venue_behavior.fill_delay"),
        ({"tradingAccountId": SPOT, "rejects": True}, "unknown venue behavior (allowed: reject"),
        ({"tradingAccountId": SPOT, "reject": True, "partial": 0}, "venue_behavior.partial"),
        ({"tradingAccountId": SPOT, "clear": True, "reject": True}, "clear: true takes no"),
        ({"tradingAccountId": SPOT, "clear": "yes"}, "clear: expected true or false"),
        ({"reject": True}, "tradingAccountId: required"),
        ({"tradingAccountId": 7, "reject": True}, "tradingAccountId: required"),
        (["x"], "JSON object"),
    ],
)
def test_bad_input_is_a_400_naming_the_key_and_changes_nothing(
    mock: MockServer, body: Any, words: str
) -> None:
    mock.venue_behavior(SPOT, fill_delay=2)
    before = state(mock)
    assert words in error_text(admin_post(mock.url, body), 400, -19004)
    assert state(mock) == before
    if isinstance(body, dict) and body.get("tradingAccountId") == SPOT and "clear" not in body:
        keys = {k: v for k, v in body.items() if k != "tradingAccountId"}
        with pytest.raises(ValueError, match="Form validation failed"):
            mock.venue_behavior(SPOT, **keys)
        assert state(mock) == before
    accepted = submit(mock.url).json()["data"][0]
    assert accepted["status"] == "ACCEPTED"  # the late venue set before is still in effect


def test_unknown_accounts_and_bodies_that_are_not_json(mock: MockServer) -> None:
    before = state(mock)
    r = admin_post(mock.url, {"tradingAccountId": UNKNOWN, "reject": True})
    assert error_text(r, 404, -22016) == f"Trading account not found: no trading account {UNKNOWN}"
    missing = requests.get(mock.url + VENUE_BEHAVIOR_PATH, params={"tradingAccountId": UNKNOWN},
                           timeout=10)  # fmt: skip
    error_text(missing, 404, -22016)
    with pytest.raises(KeyError):
        mock.venue_behavior(UNKNOWN, reject=True)
    with pytest.raises(KeyError):
        mock.venue_behaviors(UNKNOWN)
    broken = requests.post(mock.url + VENUE_BEHAVIOR_PATH, data=b'{"tradingAccountId": ',
                           headers={"Content-Type": "application/json"}, timeout=10)  # fmt: skip
    assert broken.status_code == 400 and broken.json()["success"] is False
    assert state(mock) == before


def test_reset_load_and_rollback_put_back_what_they_had(mock: MockServer) -> None:
    mock.venue_behavior(SPOT, timeout=True)
    mock.reset()
    assert mock.venue_behaviors() == [FROM_SCENARIO]
    snapshot = mock.snapshot()
    mock.clear_venue_behavior(SPOT)
    assert submit(mock.url).status_code == 200
    mock.rollback(snapshot)
    assert mock.venue_behaviors() == [FROM_SCENARIO]  # still the scenario's own
    mock.venue_behavior(SPOT, reject=True)
    mock.load("accounts")  # a scenario without one: every account's venue is normal
    assert mock.venue_behaviors() == []
    assert submit(mock.url).status_code == 200
    mock.load(SCENARIO)
    assert mock.venue_behaviors() == [FROM_SCENARIO]


def test_the_remote_handle_and_a_namespace_of_its_own(mock: MockServer) -> None:
    remote = RemoteMock(mock.url)
    assert remote.venue_behavior(SPOT, reject=True)["source"] == "admin"
    assert remote.venue_behaviors(SPOT)[0]["venueBehavior"] == {"reject": True}
    with pytest.raises(RemoteError, match=r"venue_behavior\.partial"):
        remote.venue_behavior(SPOT, partial=2)
    with pytest.raises(RemoteError, match="Trading account not found"):
        remote.clear_venue_behavior(UNKNOWN)
    assert mock.venue_behaviors(SPOT)[0]["venueBehavior"] == {"reject": True}
    assert remote.clear_venue_behavior(SPOT)["source"] == "normal"
    remote.open_namespace()
    try:
        remote.venue_behavior(SPOT, timeout=True)
        assert "Request timeout" in error_text(submit(remote.url), 504, -18015)
        assert mock.venue_behaviors() == []  # the server's own state: untouched
        assert submit(mock.url).status_code == 200
        namespaced = f"{mock.url}/__admin/namespaces/{remote.namespace}/venue-behavior"
        listed = requests.get(namespaced, timeout=10).json()["data"]
        assert listed == [{"tradingAccountId": SPOT, "venueBehavior": {"timeout": True},
                           "source": "admin"}]  # fmt: skip
    finally:
        remote.close_namespace()


def test_the_fast_path_honours_a_behaviour_set_after_it_answered(mock: MockServer) -> None:
    mock.clear_venue_behavior(SPOT)  # no behaviour: the fast path answers this account
    talk = Conversation(mock)
    try:
        talk.ask(get("/api/v3/tradeOrder/list"))
        fast = submit_answers(mock)
        first = talk.ask(post(order()))
        assert first.startswith(b"HTTP/1.1 200") and submit_answers(mock) == fast + 1
        mock.venue_behavior(SPOT, reject=True)
        refused = talk.ask(post(order()))  # the same kept-alive connection
        assert refused.startswith(b"HTTP/1.1 400"), refused
        assert json.loads(refused.partition(b"\r\n\r\n")[2])["errno"] == -18025
        mock.venue_behavior(SPOT, fill_delay=2)
        late = json.loads(talk.ask(post(order())).partition(b"\r\n\r\n")[2])["data"][0]
        assert late["status"] == "ACCEPTED" and submit_answers(mock) == fast + 1
        mock.clear_venue_behavior(SPOT)  # what the late venue owes it still owes
        assert mock.orders(trading_account_id=SPOT)[-1]["status"] == "ACCEPTED"
        mock.advance(2)
        assert mock.orders(trading_account_id=SPOT)[-1]["status"] == "FILLED"
        again = talk.ask(post(order()))
        assert again.startswith(b"HTTP/1.1 200") and submit_answers(mock) == fast + 2
    finally:
        talk.close()


def test_the_browser_guard_refuses_a_foreign_page_before_it_acts(mock: MockServer) -> None:
    before = state(mock)
    for method in ("POST", "GET"):
        r = requests.request(
            method,
            mock.url + VENUE_BEHAVIOR_PATH,
            json={"tradingAccountId": SPOT, "reject": True},
            headers={"Origin": "https://evil.example"},
            timeout=10,
        )
        error_text(r, 403, -22018)
    assert state(mock) == before

"""Bad input is a 4xx in the envelope and changes nothing: JSON nested too deep, clock
advances out of range, junk paging values, broken YAML in admin bodies."""

from __future__ import annotations

import json

import pytest
import requests
from support import ALICE, LIST, error_text, module_mock

from cadenza_mock import MockServer
from cadenza_mock.scenario import load_scenario_text

CREATE = "/api/v3/credential/create"
SDK_TOKEN = ALICE  # the sdk scenario's user has the same token

YAML = {"Content-Type": "application/yaml"}  # admin bodies say what they are


def _state(mock: MockServer) -> tuple[bytes, list]:
    listed = requests.get(mock.url + LIST, headers=ALICE, timeout=10).content
    return listed, mock.credentials()


server, mock = module_mock("default")


def _nested(depth: int) -> str:
    """JSON text of a string inside `depth` lists (json.dumps itself recurses)."""
    return "[" * depth + '"leaf"' + "]" * depth


@pytest.mark.parametrize("depth", [65, 600, 5000])
def test_a_create_nested_too_deep_is_400_and_stores_nothing(mock, depth):
    before = _state(mock)
    body = {"venue": "BINANCE", "apiKey": "deepKey0123456789abc", "apiSecret": "x", "x": 0}
    raw = json.dumps(body).replace("0}", _nested(depth) + "}")
    answer = requests.post(mock.url + CREATE, data=raw, headers=ALICE, timeout=10)
    assert "nested deeper" in error_text(answer, 400, -19005) or depth > 900
    assert _state(mock) == before


def test_a_create_nested_within_bounds_is_stored_and_journaled(mock):
    body = {"venue": "BINANCE", "apiKey": "deepKey0123456789xyz", "apiSecret": "x"}
    body["extra"] = json.loads(_nested(40))
    assert requests.post(mock.url + CREATE, json=body, headers=ALICE, timeout=10).ok
    (entry,) = mock.requests
    assert entry.status == 200 and entry.body["apiSecret"] == "<redacted>"


def test_a_logout_with_a_deep_body_still_logs_out(mock):
    answer = requests.post(
        mock.url + "/api/v3/auth/logout",
        data=_nested(3000),
        headers=ALICE,
        timeout=10,
    )
    assert answer.status_code == 200
    assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 401
    logout, listed = mock.requests
    assert logout.status == 200 and logout.body.startswith("<non-JSON body")
    assert listed.status == 401


def test_admin_bodies_nested_too_deep_are_400(mock):
    deep = '{"advance": ' + _nested(2000) + "}"
    for method, path in (("post", "/__admin/clock"), ("post", "/__admin/faults")):
        answer = getattr(requests, method)(
            mock.url + path, data=deep, headers={"Content-Type": "application/json"}, timeout=10
        )
        error_text(answer, 400, -19005)
    answer = requests.put(
        mock.url + "/__admin/scenario",
        data='{"scenario": ' + _nested(2000) + "}",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    error_text(answer, 400, -19005)


@pytest.mark.parametrize("advance", ["1" + "0" * 400, "1e400", "-1", '"x"', "true", "null"])
def test_clock_advance_out_of_range_is_400(mock, advance):
    before = mock.now_ms
    answer = requests.post(
        mock.url + "/__admin/clock",
        data=f'{{"advance": {advance}}}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    error_text(answer, 400, -19004)
    assert mock.now_ms == before


# sdk pagination: '²' passes str.isdigit(); 5,000 digits exceed int() conversion. The
# account list pages (400 for junk); the credential list does not (ignored, with a hint).
@pytest.mark.parametrize(
    "query", ["limit=%C2%B2", "offset=%C2%B2", "offset=" + "9" * 5000, "limit=%D9%A3"]
)
def test_sdk_paging_junk_is_400(query):
    with MockServer("sdk") as mock:
        accounts = f"{mock.url}/api/v3/tradingAccount/list?{query}"
        error = error_text(requests.get(accounts, headers=SDK_TOKEN, timeout=10), 400, -22015)
        assert len(error) < 300  # a 5,000-digit value is not echoed whole
        answer = requests.get(f"{mock.url}{LIST}?{query}", headers=SDK_TOKEN, timeout=10)
        assert answer.status_code == 200 and "ignored" in answer.headers["X-Cadenza-Mock-Hint"]
        assert len(answer.headers["X-Cadenza-Mock-Hint"]) < 300
        mock.check_handler_errors()


ADMIN_YAML = [
    "seed: !!int abc",
    "now: !!timestamp x",
    "users: [{keys_valid: !!bool maybe}]",
    "now: &a [*a]",
    "users:\n  - credentials:\n      - venue: BINANCE\n        createdAt: {[1]: 2}",
    "description: a\x00b",
    "description: a\x07b",
    "seed: " + "1" * 5000,
    "seed: !!float x",
    "extends: " + "x" * 5000,
    "extends: " + "a/" * 3000,
    "users: " + "[" * 3000 + "]" * 3000,
    "users: *nothing",
    "!!python/object:os.system seed: 1",
]


@pytest.mark.parametrize("text", ADMIN_YAML, ids=range(len(ADMIN_YAML)))
def test_bad_yaml_in_admin_bodies_is_400(mock, text):
    answer = requests.put(
        mock.url + "/__admin/scenario", data=text.encode(), headers=YAML, timeout=10
    )
    assert "<request body>" in error_text(answer, 400, -19004)
    assert mock.scenario.name == "default"
    fault = requests.post(
        mock.url + "/__admin/faults",
        data=text.replace("seed", "times").encode(),
        headers=YAML,
        timeout=10,
    )
    error_text(fault, 400, -19004)
    assert mock.faults == []


@pytest.mark.parametrize("text", ADMIN_YAML, ids=range(len(ADMIN_YAML)))
def test_bad_yaml_is_a_located_scenario_error(text):
    from cadenza_mock.contract.errors import ScenarioError

    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text)
    for issue in caught.value.issues:
        assert issue.file == "<request body>"
        assert issue.line >= 1 or "no bundled scenario" in issue.message, issue

"""The pytest plugin, from the outside: downstream test files run through pytester.

Every downstream file here is what a user would write in their own project, with no
conftest: the plugin arrives through the `pytest11` entry point of the installed package.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import cadenza_mock.run.server
import cadenza_mock.testing.remote

# In-process pytester runs drop modules first imported inside them; a library imported
# half in one inner run and half in the next mixes class identities (requests' CookieJar
# check fails). Importing the downstream clients and our modules here keeps them loaded.
_PRELOADED = (aiohttp, httpx, requests, cadenza_mock.testing.remote, cadenza_mock.run.server)

LIST = "/api/v3/credential/list"
# The explicit BINANCE record of the bundled `default` scenario (scenarios/default.yaml):
# no status given, so ACTIVE until a test revokes it.
DEFAULT_BINANCE_ID = "660e8400-e29b-41d4-a716-446655440000"

# An inline scenario whose every served value the downstream tests can derive by reading it.
INLINE = {
    "seed": 5,
    "now": "2026-01-15T12:00:00Z",
    "users": [
        {
            "email": "carol@example.com",
            "tokens": ["carol-token"],
            "credentials": [
                {
                    "credentialId": "11111111-2222-4333-8444-555555555555",
                    "venue": "KRAKEN",
                    "name": "inline kraken",
                    "apiKey": "krakenKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
                    "apiSecret": "inline-secret-never-served",
                    "createdAt": 1700000000000,
                    "updatedAt": 1700000000000,
                }
            ],
        }
    ],
}

FILE_SCENARIO = """\
description: two BYBIT keys for dave, written next to the tests
seed: 9
now: "2026-01-15T12:00:00Z"
users:
  - email: dave@example.com
    tokens: [dave-token]
    credentials:
      - generate: 2
        venue: BYBIT
"""

FEATURES = f'''
import aiohttp
import httpx
import pytest
import requests

LIST = "{LIST}"
INLINE = {INLINE!r}


def test_requests_default(cadenza_mock):
    r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    assert r.status_code == 200
    body = r.json()
    # scenarios/default.yaml: alice has four credentials
    assert body["success"] is True and len(body["data"]) == 4
    assert cadenza_mock.token == "alice-token"
    assert [u.email for u in cadenza_mock.users] == ["alice@example.com"]
    assert cadenza_mock.scenario.name == "default"
    [call] = cadenza_mock.assert_called(LIST, method="GET", times=1)
    assert call.status == 200
    assert call.headers["Authorization"] == "<redacted>"


def test_httpx_sync_unauthenticated(cadenza_mock):
    with httpx.Client(base_url=cadenza_mock.url) as client:
        r = client.get(LIST)
    assert r.status_code == 401
    assert r.json()["success"] is False
    cadenza_mock.assert_called(LIST, times=1)


@pytest.mark.asyncio
async def test_aiohttp_session(cadenza_mock):
    async with aiohttp.ClientSession(headers=cadenza_mock.auth_headers) as session:
        async with session.get(cadenza_mock.url + LIST, params={{"status": "REVOKED"}}) as r:
            assert r.status == 200
            data = (await r.json())["data"]
    # default.yaml: exactly one record (the generated OKX one) is REVOKED
    assert [c["venue"] for c in data] == ["OKX"]
    [call] = cadenza_mock.requests
    assert call.query == {{"status": ["REVOKED"]}}


@pytest.mark.asyncio
async def test_httpx_async(cadenza_mock):
    async with httpx.AsyncClient(base_url=cadenza_mock.url) as client:
        r = await client.get(LIST, headers=cadenza_mock.auth_headers)
    assert len(r.json()["data"]) == 4


@pytest.mark.asyncio
async def test_app_fixture(aiohttp_client, cadenza_mock_app, cadenza_mock_scenario):
    client = await aiohttp_client(cadenza_mock_app)
    auth = {{"Authorization": f"Bearer {{cadenza_mock_scenario.token}}"}}
    r = await client.get(LIST, headers=auth)
    assert r.status == 200
    assert len((await r.json())["data"]) == 4


@pytest.mark.cadenza_scenario("empty")
def test_marker_name(cadenza_mock):
    r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    assert r.json()["data"] == []


@pytest.mark.cadenza_scenario(INLINE)
def test_marker_inline_dict_and_secrets(cadenza_mock):
    r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    [cred] = r.json()["data"]
    assert cred["credentialId"] == "11111111-2222-4333-8444-555555555555"
    assert cred["name"] == "inline kraken"
    assert "inline-secret-never-served" not in r.text
    created = requests.post(
        cadenza_mock.url + "/api/v3/credential/create",
        headers=cadenza_mock.auth_headers,
        json={{"venue": "BINANCE", "apiKey": "k" * 64, "apiSecret": "created-secret-xyz"}},
    )
    assert created.status_code == 200
    journal = repr(cadenza_mock.requests)
    assert "created-secret-xyz" not in journal and "carol-token" not in journal
    assert cadenza_mock.requests[-1].body["apiSecret"] == "<redacted>"


@pytest.mark.cadenza_scenario("dave.yaml")
def test_marker_path_relative_to_test_file(cadenza_mock):
    r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    assert [c["venue"] for c in r.json()["data"]] == ["BYBIT", "BYBIT"]
    assert cadenza_mock.users[0].email == "dave@example.com"


@pytest.mark.cadenza_scenario("empty")
class TestClassMarker:
    def test_class_marker(self, cadenza_mock):
        r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
        assert r.json()["data"] == []

    @pytest.mark.cadenza_scenario("revoked")
    def test_closest_marker_wins(self, cadenza_mock):
        r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
        # revoked.yaml: three generated records, all REVOKED
        assert [c["status"] for c in r.json()["data"]] == ["REVOKED"] * 3
'''

MODULE_MARKER = f'''
import pytest
import requests

pytestmark = pytest.mark.cadenza_scenario("revoked")


def test_module_marker(cadenza_mock):
    r = requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
    assert len(r.json()["data"]) == 3


@pytest.mark.cadenza_scenario("empty")
def test_function_beats_module(cadenza_mock):
    r = requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
    assert r.json()["data"] == []
'''


ISOLATION = f'''
import pytest
import requests

LIST = "{LIST}"
REVOKE = "/api/v3/credential/revoke"
BINANCE_ID = "{DEFAULT_BINANCE_ID}"


def status_of(mock):
    r = requests.get(mock.url + LIST, headers=mock.auth_headers)
    return {{c["credentialId"]: c["status"] for c in r.json()["data"]}}[BINANCE_ID]


def test_a_mutates_everything(cadenza_mock):
    r = requests.post(cadenza_mock.url + REVOKE, headers=cadenza_mock.auth_headers,
                      json={{"credentialId": BINANCE_ID}})
    assert r.status_code == 200 and status_of(cadenza_mock) == "REVOKED"
    cadenza_mock.load("revoked")  # and leaves another scenario loaded


def test_b_sees_pristine_state(cadenza_mock):
    assert cadenza_mock.scenario.name == "default"
    assert cadenza_mock.requests == []
    assert status_of(cadenza_mock) == "ACTIVE"
    assert len(cadenza_mock.requests) == 1


def test_c_fills_the_journal(cadenza_mock):
    for _ in range(3):
        requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    cadenza_mock.assert_called(LIST, times=3)


def test_d_starts_with_an_empty_journal(cadenza_mock):
    cadenza_mock.assert_not_called(LIST)


def test_e_arms_a_fault(cadenza_mock):
    fault = {{"match": {{"method": "GET", "path": LIST}}, "respond": {{"status": 503}}}}
    admin = {{"X-Admin-Token": cadenza_mock.admin_token or ""}}
    r = requests.post(cadenza_mock.url + "/__admin/faults", json=fault, headers=admin)
    assert r.status_code == 200
    r = requests.get(cadenza_mock.url + LIST, headers=cadenza_mock.auth_headers)
    assert r.status_code == 503
'''

FEATURE_TESTS = 17  # tests in FEATURES, MODULE_MARKER and ISOLATION


@pytest.fixture(autouse=True)
def _inner_ini(request: pytest.FixtureRequest) -> None:
    """Inner runs get pytest-asyncio's loop scope set, as a tidy downstream project would."""
    if "pytester" in request.fixturenames:
        pytester = request.getfixturevalue("pytester")
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


@pytest.fixture
def downstream(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with the feature files, the scenario file they use, and no conftest."""
    pytester.makepyfile(
        test_features=FEATURES, test_module_marker=MODULE_MARKER, test_isolation=ISOLATION
    )
    (pytester.path / "dave.yaml").write_text(FILE_SCENARIO, encoding="utf-8")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Order is the file's unless a test asks for randomness; pytest-randomly may be installed.
    return pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider", *args)


def test_every_feature_passes_in_process(downstream: pytest.Pytester) -> None:
    result = run(downstream)
    result.assert_outcomes(passed=FEATURE_TESTS)


@pytest.mark.slow
def test_every_feature_passes_with_xdist(downstream: pytest.Pytester) -> None:
    result = run(downstream, "-n", "2")
    result.assert_outcomes(passed=FEATURE_TESTS)


@pytest.mark.slow
def test_xdist_serves_the_same_bytes_as_a_serial_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker has its own server; the data a test sees must not depend on the worker."""
    out = pytester.path / "out"
    out.mkdir()
    pytester.makepyfile(
        test_dump=f'''
        import os, pathlib, pytest, requests

        @pytest.mark.parametrize("scenario", ["default", "revoked", "multi-user", "empty"] * 3)
        def test_dump(cadenza_mock, scenario, request):
            cadenza_mock.load(scenario)
            r = requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
            name = request.node.callspec.id + "-" + os.environ["DUMP_MODE"]
            pathlib.Path(r"{out}", name).write_bytes(r.content)
        '''
    )
    for mode, args in (("serial", ()), ("xdist", ("-n", "2"))):
        monkeypatch.setenv("DUMP_MODE", mode)
        run(pytester, *args).assert_outcomes(passed=12)
    serial = {p.name.rsplit("-", 1)[0]: p.read_bytes() for p in out.glob("*-serial")}
    parallel = {p.name.rsplit("-", 1)[0]: p.read_bytes() for p in out.glob("*-xdist")}
    assert len(serial) == 12 and serial == parallel
    assert all(body.startswith(b'{"data":') for body in serial.values())


@pytest.mark.parametrize(
    ("args", "reverse"),
    [
        pytest.param(("-p", "no:randomly"), False, id="file-order"),
        pytest.param(("-p", "no:randomly"), True, id="reversed"),
        pytest.param(("-p", "randomly", "--randomly-seed=1"), False, id="random-1"),
        pytest.param(("-p", "randomly", "--randomly-seed=2"), False, id="random-2"),
    ],
)
def test_every_test_starts_from_pristine_state(
    pytester: pytest.Pytester, args: tuple[str, ...], reverse: bool
) -> None:
    pytester.makepyfile(test_isolation=_reverse_tests(ISOLATION) if reverse else ISOLATION)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v", *args)
    result.assert_outcomes(passed=5)


def _reverse_tests(source: str) -> str:
    head, *tests = source.split("\ndef test_")
    return head + "".join("\ndef test_" + t for t in reversed(tests))


def test_last_failed_rerun_starts_pristine(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--lf` runs only the failed test; it must see the scenario, not a leftover."""
    pytester.makepyfile(
        test_lf=ISOLATION.replace(
            "def test_d_starts_with_an_empty_journal(cadenza_mock):",
            "def test_d_starts_with_an_empty_journal(cadenza_mock):\n"
            "    import os\n"
            "    assert os.environ.get('SECOND_RUN')",
        )
    )
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=4, failed=1)
    monkeypatch.setenv("SECOND_RUN", "1")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--lf")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*run-last-failure: rerun previous 1 failure*"])


def test_a_failing_downstream_test_still_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fails=f'''
        import requests

        def test_wrong_expectation(cadenza_mock):
            r = requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
            assert r.json()["data"] == ["not what the mock serves"]

        def test_assert_called_failure_is_reported(cadenza_mock):
            requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
            cadenza_mock.assert_called("{LIST}", times=2)
        '''
    )
    result = run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*assert *not what the mock serves*"])
    result.stdout.fnmatch_lines(
        ["*/api/v3/credential/list was requested 1 time(s), expected 2*GET*-> 200*"]
    )
    # The failure message lists requests, never the bearer token that made them.
    assert "alice-token" not in "\n".join(
        line for line in result.outlines if "was requested" in line
    )


BAD_SCENARIO = """\
seed: 1
users:
  - email: eve@example.com
    tokens: [eve-token]
    credentials:
      - venue: NOT_A_VENUE
"""


def test_a_bad_marker_scenario_fails_that_test_with_file_and_line(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "bad.yaml").write_text(BAD_SCENARIO, encoding="utf-8")
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.cadenza_scenario("bad.yaml")
        def test_bad_file(cadenza_mock):
            pass

        @pytest.mark.cadenza_scenario("no-such-bundled-scenario")
        def test_bad_name(cadenza_mock):
            pass

        @pytest.mark.cadenza_scenario("revoked", "empty")
        def test_two_scenarios(cadenza_mock):
            pass

        def test_good_one_still_runs(cadenza_mock):
            assert cadenza_mock.scenario.name == "default"
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=3)
    bad = pytester.path / "bad.yaml"
    # NOT_A_VENUE starts on line 6, column 16 of BAD_SCENARIO (1-based: 15 chars before it).
    result.stdout.fnmatch_lines(
        [
            f"*cadenza-mock scenario {bad} is invalid:*",
            f"{bad}:6:16: *NOT_A_VENUE*BINANCE*",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(["*no bundled scenario 'no-such-bundled-scenario'*default*"])
    result.stdout.fnmatch_lines(["*cadenza_scenario takes exactly one scenario*"])
    # pytrace=False: the message, not a traceback through the plugin.
    assert "pytest_plugin.py" not in result.stdout.str()


def test_cadenza_scenario_option_sets_the_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_opt=f'''
        import pytest, requests

        def test_unmarked_gets_option(cadenza_mock):
            assert cadenza_mock.scenario.name == "empty"
            r = requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
            assert r.json()["data"] == []

        @pytest.mark.cadenza_scenario("revoked")
        def test_marker_still_wins(cadenza_mock):
            assert cadenza_mock.scenario.name == "revoked"
        '''
    )
    run(pytester, "--cadenza-scenario", "empty").assert_outcomes(passed=2)
    # The ini option does the same for projects that always want one scenario.
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\ncadenza_scenario = empty\n"
    )
    run(pytester).assert_outcomes(passed=2)
    # A bad default is reported with the option's name, for every test that needs it.
    result = run(pytester, "--cadenza-scenario", "nonexistent")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*--cadenza-scenario nonexistent is invalid*"])


def test_cadenza_profile_sdk_serves_sdk_field_names(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sdk=f'''
        import pytest, requests

        def check(body):
            # The Cadenza API reference: sdk names and no apiKey on the wire
            for cred in body["data"]:
                assert {{"credentialType", "nickname", "createdAtDateTime"}} <= set(cred)
                assert "apiKey" not in cred and "name" not in cred and "type" not in cred

        def test_threaded(cadenza_mock):
            assert cadenza_mock.profile == "sdk"
            r = requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
            assert r.status_code == 200 and len(r.json()["data"]) == 4
            check(r.json())

        @pytest.mark.asyncio
        async def test_app(aiohttp_client, cadenza_mock_app, cadenza_mock_scenario):
            client = await aiohttp_client(cadenza_mock_app)
            r = await client.get("{LIST}", headers={{"Authorization": "Bearer alice-token"}})
            check(await r.json())
        '''
    )
    run(pytester, "--cadenza-profile", "sdk").assert_outcomes(passed=2)
    # without the option the same tests see the docs profile and fail
    run(pytester).assert_outcomes(failed=2)


def test_cadenza_profile_rejects_unknown_values(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = run(pytester, "--cadenza-profile", "soap")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--cadenza-profile*invalid choice*'soap'*docs*sdk*"])


def test_handler_crash_fails_the_test_that_caused_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_crash=f'''
        import requests

        def test_crashes(cadenza_mock, monkeypatch):
            def boom(*args, **kwargs):
                raise ZeroDivisionError("injected by the test")

            monkeypatch.setattr(cadenza_mock.state.store, "pending_list", boom)
            r = requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
            assert r.status_code == 500

        def test_next_one_is_fine(cadenza_mock):
            r = requests.get(cadenza_mock.url + "{LIST}", headers=cadenza_mock.auth_headers)
            assert r.status_code == 200
        '''
    )
    result = run(pytester)
    # the test body passed (it saw the 500); teardown reports the crash
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_crashes*",
            "*HandlerError: cadenza-mock crashed answering GET /api/v3/credential/list: "
            "ZeroDivisionError: injected by the test*",
        ],
        consecutive=False,
    )


def test_fixtures_and_marker_are_listed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    fixtures = pytester.runpytest_inprocess("--fixtures")
    text = fixtures.stdout.str()
    for name in (
        "cadenza_mock",
        "cadenza_mock_app",
        "cadenza_mock_server",
        "cadenza_mock_scenario",
        "cadenza_mock_source",
        "cadenza_mock_tls_server",
    ):
        assert f"\n{name} " in text or f"\n{name} [" in text, name
    fixtures.stdout.fnmatch_lines(["cadenza_mock -- *", "    The mock in this test's scenario*"])
    fixtures.stdout.fnmatch_lines(["cadenza_mock_app -- *", "    A fresh aiohttp app*"])
    markers = pytester.runpytest_inprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.cadenza_scenario(scenario): *closest wins*"])
    markers.stdout.fnmatch_lines(
        [
            "@pytest.mark.cadenza_mock(strict=True, tls=True, unfired_faults='fail', "
            "profile='sdk'): *strict fails*HTTPS and WSS*never fired*wire profile*"
        ]
    )
    helptext = pytester.runpytest_inprocess("--help")
    helptext.stdout.fnmatch_lines(
        [
            "*--cadenza-scenario=NAME|PATH*",
            "*--cadenza-profile*",
            "*--cadenza-url=URL*",
            "*--cadenza-strict*",
        ],
        consecutive=False,
    )


def _mock_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if line.startswith("cadenza-mock:")]


@pytest.mark.slow
def test_the_mock_line_shows_only_when_a_test_used_the_mock_or_under_v(
    pytester: pytest.Pytester,
) -> None:
    """A project whose tests never touch the mock hears nothing of it; -v always does."""
    pytester.makepyfile(test_x="def test_x(): pass")
    assert _mock_lines(run(pytester, "--cadenza-scenario", "empty")) == []
    assert _mock_lines(run(pytester, "--cadenza-scenario", "empty", "-n", "2")) == []
    verbose = run(pytester, "--cadenza-scenario", "empty", "-v")
    # In the header, before collection, and only there.
    verbose.stdout.fnmatch_lines(["cadenza-mock: scenario empty, *in-process*", "collect*"])
    assert len(_mock_lines(verbose)) == 1
    pytester.makepyfile(test_y="def test_y(cadenza_mock): pass")
    for args in ((), ("-n", "2")):
        used = run(pytester, "--cadenza-scenario", "empty", *args)
        used.assert_outcomes(passed=2)
        # In the summary, once, whichever worker used it.
        used.stdout.fnmatch_lines(["*2 passed*"])
        assert _mock_lines(used) == [
            "cadenza-mock: scenario empty, profile scenario's own, in-process, one server "
            "per worker"
        ], args
        progress = next(i for i, line in enumerate(used.outlines) if "[100%]" in line)
        assert used.outlines.index(_mock_lines(used)[0]) > progress
    assert _mock_lines(run(pytester, "-q")) == []  # quiet means quiet
    assert len(_mock_lines(run(pytester, "-v", "--cadenza-strict"))) == 1
    assert _mock_lines(run(pytester, "-v", "--cadenza-strict"))[0].endswith(", strict")


def test_the_app_fixture_counts_as_using_the_mock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app="def test_app(cadenza_mock_app): pass")
    assert len(_mock_lines(run(pytester))) == 1


# --------------------------------------------------------------------------- strict mode

STRICT = f'''
import pytest
import requests

LIST = "{LIST}"


def test_unknown_route(cadenza_mock):
    url = cadenza_mock.url_for("/api/v3/credential/lst")
    assert requests.get(url, headers=cadenza_mock.auth_headers).status_code == 404


def test_wrong_method(cadenza_mock):
    url = cadenza_mock.url_for(LIST)
    assert requests.delete(url, headers=cadenza_mock.auth_headers).status_code == 405
    assert requests.get(url, headers=cadenza_mock.auth_headers).status_code == 200


def test_known_routes_and_answers_the_api_gives(cadenza_mock):
    headers = cadenza_mock.auth_headers
    assert requests.get(cadenza_mock.url_for(LIST), headers=headers).status_code == 200
    gone = {{"credentialId": "00000000-0000-4000-8000-000000000000"}}
    url = cadenza_mock.url_for("/api/v3/credential/revoke")
    assert requests.post(url, json=gone, headers=headers).status_code == 404  # not found
    cadenza_mock.fail_next(404, path="/api/v3/planned")  # the test's own fault
    planned = requests.get(cadenza_mock.url_for("/api/v3/planned"), headers=headers)
    assert planned.status_code == 404


@pytest.mark.cadenza_mock(strict=False)
def test_opted_out(cadenza_mock):
    assert requests.get(cadenza_mock.url_for("/nope")).status_code == 404
'''


def _strict_errors(result: pytest.RunResult) -> None:
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unknown_route*",
            "*cadenza-mock strict mode: 1 request(s) the Cadenza API does not know:",
            "*  GET /api/v3/credential/lst -> 404 (unknown route)",
            "*(strict mode: fix the requests, or opt the test out with "
            "@pytest.mark.cadenza_mock(strict=False))",
            "*ERROR at teardown of test_wrong_method*",
            "*cadenza-mock strict mode: 1 request(s) the Cadenza API does not know:",
            f"*  DELETE {LIST} -> 405 (wrong method)",
        ],
        consecutive=False,
    )
    assert "ERROR at teardown of test_known" not in result.stdout.str()
    assert "ERROR at teardown of test_opted_out" not in result.stdout.str()
    assert "alice-token" not in result.stdout.str()


@pytest.mark.slow
def test_strict_mode_fails_unknown_routes_and_methods_at_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_strict=STRICT)
    run(pytester).assert_outcomes(passed=4)  # off by default
    _strict_errors(run(pytester, "--cadenza-strict"))
    _strict_errors(run(pytester, "--cadenza-strict", "-n", "2"))
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\ncadenza_strict = true\n"
    )
    _strict_errors(run(pytester))


def test_strict_marker_on_a_module_and_closest_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_marked="pytestmark = __import__('pytest').mark.cadenza_mock(strict=True)\n" + STRICT
    )
    _strict_errors(run(pytester))


def test_strict_mode_in_remote_mode(pytester: pytest.Pytester, serve: Callable[..., Any]) -> None:
    url, _ = serve("--quiet").banner()
    pytester.makepyfile(test_strict=STRICT)
    _strict_errors(run(pytester, "--cadenza-url", url, "--cadenza-strict"))


def test_a_bad_cadenza_mock_marker_fails_that_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad_marker="""
        import pytest

        @pytest.mark.cadenza_mock(strict="yes")
        def test_not_a_bool(cadenza_mock):
            pass

        @pytest.mark.cadenza_mock(stirct=True)
        def test_misspelled(cadenza_mock):
            pass

        @pytest.mark.cadenza_mock(True)
        def test_positional(cadenza_mock):
            pass

        def test_fine(cadenza_mock):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.cadenza_mock(strict=...) takes True or False, got 'yes'*",
            "*@pytest.mark.cadenza_mock takes keyword options (strict, tls, unfired_faults, "
            "profile), got args=() kwargs={'stirct': True}*",
            "*@pytest.mark.cadenza_mock takes keyword options (strict, tls, unfired_faults, "
            "profile), got args=(True,)*",
        ],
        consecutive=False,
    )


STRICT_HINTS = f'''
import requests

LIST = "{LIST}"


def test_another_profiles_names(cadenza_mock):
    url = cadenza_mock.url_for(LIST)
    query = {{"credentialStatus": "ACTIVE"}}
    r = requests.get(url, params=query, headers=cadenza_mock.auth_headers)
    assert r.status_code == 200  # the real API ignores it, so does the mock
    body = {{"venue": "BYBIT", "name": "bot", "apiKey": "bybitKEY1234567890",
             "apiSecret": "hint-test-secret", "colour": "red"}}
    url = cadenza_mock.url_for("/api/v3/credential/create")
    assert requests.post(url, json=body, headers=cadenza_mock.auth_headers).status_code == 200


def test_clean(cadenza_mock):
    url = cadenza_mock.url_for(LIST)
    assert requests.get(url, params={{"status": "ACTIVE"}}, headers=cadenza_mock.auth_headers).ok
'''


def test_strict_mode_fails_requests_with_near_miss_hints(pytester: pytest.Pytester) -> None:
    """A parameter or body field the active profile does not know is listed with its hints."""
    pytester.makepyfile(test_hints=STRICT_HINTS)
    run(pytester).assert_outcomes(passed=2)
    result = run(pytester, "--cadenza-strict")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_another_profiles_names*",
            "*cadenza-mock strict mode: 2 request(s) the Cadenza API does not know:",
            f"*  GET {LIST}?credentialStatus=ACTIVE -> 200",
            "*    hint: *credentialStatus*status*",
            "*  POST /api/v3/credential/create -> 200",
            "*    hint: *colour*",
        ],
        consecutive=False,
    )
    assert "ERROR at teardown of test_clean" not in result.stdout.str()
    assert "hint-test-secret" not in result.stdout.str()


def test_importing_the_plugin_does_not_import_aiohttp_or_yaml() -> None:
    """Every pytest run of a downstream project imports the plugin, used or not."""
    code = (
        "import sys, cadenza_mock.pytest_plugin\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aiohttp', 'yaml', 'faker'))\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- remote mode


def test_remote_mode_runs_the_same_tests_green(
    downstream: pytest.Pytester, serve: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--cadenza-url against `cadenza-mock serve --port 0` in another process."""
    served = serve("--scenario", "revoked", "--quiet")
    url, _ = served.banner()
    result = run(downstream, "--cadenza-url", url)
    result.assert_outcomes(passed=FEATURE_TESTS)
    result.stdout.fnmatch_lines([f"cadenza-mock: scenario default, *remote {url}*"])
    # the environment variable is the same switch
    monkeypatch.setenv("CADENZA_MOCK_URL", url)
    run(downstream, "-k", "requests_default or closest").assert_outcomes(
        passed=2, deselected=FEATURE_TESTS - 2
    )


def test_remote_mode_isolation_and_admin_token(
    pytester: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    served = serve("--admin-token", "adm1n-s3cret", "--quiet")
    url, _ = served.banner()
    pytester.makepyfile(test_isolation=ISOLATION)
    result = run(pytester, "--cadenza-url", url, "--cadenza-admin-token", "adm1n-s3cret")
    result.assert_outcomes(passed=5)
    # without the token every test errors, with the server's 401 and never the token itself
    denied = run(pytester, "--cadenza-url", url)
    denied.assert_outcomes(errors=5)
    denied.stdout.fnmatch_lines(
        [
            "*refused POST /__admin/namespaces: HTTP 401*X-Admin-Token*"
            "--cadenza-admin-token TOKEN or CADENZA_MOCK_ADMIN_TOKEN=TOKEN*"
        ]
    )
    assert "adm1n-s3cret" not in denied.stdout.str()
    wrong = run(pytester, "--cadenza-url", url, "--cadenza-admin-token", "not-it-either")
    wrong.assert_outcomes(errors=5)
    wrong.stdout.fnmatch_lines(
        ["*HTTP 401*admin token given was refused*CADENZA_MOCK_ADMIN_TOKEN*"]
    )
    assert "adm1n-s3cret" not in wrong.stdout.str() and "not-it-either" not in wrong.stdout.str()


def test_remote_mode_profile_mismatch_is_explained(
    pytester: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    served = serve("--quiet")
    url, _ = served.banner()
    pytester.makepyfile(test_x="def test_x(cadenza_mock): pass")
    result = run(pytester, "--cadenza-url", url, "--cadenza-profile", "sdk")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*serves the docs profile; start it with*--profile sdk*"])


@pytest.mark.slow
def test_remote_mode_under_xdist_gives_each_worker_a_namespace(
    downstream: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    """--cadenza-url with -n 2: the feature tests (they create, revoke, reset and load
    scenarios) pass in parallel on one server, each worker in a namespace of its own, and
    every namespace is gone after the run."""
    served = serve("--scenario", "revoked", "--quiet")
    url, _ = served.banner()
    result = run(downstream, "--cadenza-url", url, "-n", "2")
    result.assert_outcomes(passed=FEATURE_TESTS)
    listing = requests.get(f"{url}/__admin/namespaces", timeout=10).json()["data"]
    assert listing == []
    # The server's own state was never touched: its journal saw none of those calls.
    assert requests.get(f"{url}/__admin/requests", timeout=10).json()["data"] == []


@pytest.mark.slow
def test_remote_mode_under_xdist_without_namespaces_is_explained(
    pytester: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    served = serve("--max-namespaces", "0", "--quiet")
    url, _ = served.banner()
    pytester.makepyfile(test_x="def test_x(cadenza_mock): pass")
    result = run(pytester, "--cadenza-url", url, "-n", "2")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*xdist needs a namespace per worker*--max-namespaces*"])
    # A serial run uses the server's own state, as before namespaces.
    run(pytester, "--cadenza-url", url).assert_outcomes(passed=1)


def test_remote_mode_unreachable_server_is_a_clear_error(pytester: pytest.Pytester) -> None:
    # Port 9 (discard) on loopback: nothing listens there on a test machine.
    pytester.makepyfile(test_x="def test_x(cadenza_mock): pass")
    result = run(pytester, "--cadenza-url", "http://127.0.0.1:9")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*cannot reach cadenza-mock at http://127.0.0.1:9*is it running?*"]
    )


def test_journal_from_the_admin_api_has_the_same_shape(
    pytester: pytest.Pytester, serve: Callable[..., Any], tmp_path: Path
) -> None:
    """`mock.requests` is a list of JournalEntry locally and remotely, with equal content."""
    dump = tmp_path / "journal.json"
    pytester.makepyfile(
        test_journal=f'''
        import dataclasses, json, requests
        from cadenza_mock.engine.journal import JournalEntry

        def test_dump(cadenza_mock, request):
            requests.get(cadenza_mock.url + "{LIST}?status=ACTIVE",
                         headers=cadenza_mock.auth_headers)
            [entry] = cadenza_mock.requests
            assert isinstance(entry, JournalEntry)
            keep = ("method", "path", "query", "status", "user_id", "body")
            data = {{k: getattr(entry, k) for k in keep}}
            data["authorization"] = entry.headers.get("Authorization")
            with open(r"{dump}", "a") as f:
                f.write(json.dumps(data, sort_keys=True) + "\\n")
        '''
    )
    run(pytester).assert_outcomes(passed=1)
    served = serve("--quiet")
    url, _ = served.banner()
    run(pytester, "--cadenza-url", url).assert_outcomes(passed=1)
    local, remote = (json.loads(line) for line in dump.read_text().splitlines())
    assert local == remote
    assert local["query"] == {"status": ["ACTIVE"]} and local["authorization"] == "<redacted>"


def test_fixture_inspects_trading_accounts_locally_and_remotely(
    pytester: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    """`cadenza_mock.trading_accounts()` sees a connect; the next test starts with none."""
    pytester.makepyfile(
        test_accounts=f'''
        import requests

        def test_a_connects(cadenza_mock):
            body = {{"credentialIds": ["{DEFAULT_BINANCE_ID}"], "externalTradingAccountId": "spot"}}
            r = requests.post(cadenza_mock.url + "/api/v3/tradingAccount/connect", json=body,
                              headers=cadenza_mock.auth_headers)
            [stored] = cadenza_mock.trading_accounts("alice@example.com")
            assert stored == cadenza_mock.trading_account(r.json()["data"]["tradingAccountId"])
            assert stored["credentialIds"] == ["{DEFAULT_BINANCE_ID}"]

        def test_b_sees_none(cadenza_mock):
            assert cadenza_mock.trading_accounts() == []
        '''
    )
    run(pytester).assert_outcomes(passed=2)
    url, _ = serve("--quiet").banner()
    run(pytester, "--cadenza-url", url).assert_outcomes(passed=2)


def test_the_readme_shows_what_strict_mode_prints(pytester: pytest.Pytester) -> None:
    from doc_examples import blocks

    header = re.compile(r"_+ ERROR at teardown of test_client _+\n")
    shown = [b.code for b in blocks("text") if header.match(b.code)]
    assert len(shown) == 1, "the docs lost their strict mode output example"
    pytester.makepyfile(
        test_demo=f'''
        import requests

        def test_client(cadenza_mock):
            url = cadenza_mock.url_for("{LIST}")
            requests.delete(url, headers=cadenza_mock.auth_headers)
            query = {{"credentialStatus": "ACTIVE"}}
            requests.get(url, params=query, headers=cadenza_mock.auth_headers)
        '''
    )
    result = run(pytester, "--cadenza-strict")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(shown[0].splitlines(), consecutive=True)


def test_a_missing_marker_file_says_its_base_is_the_test_files_folder(
    pytester: pytest.Pytester,
) -> None:
    pytester.mkdir("suite")
    pytester.makepyfile(
        **{
            "suite/test_missing": """
            import pytest

            @pytest.mark.cadenza_scenario("scenarios/missing.yaml")
            def test_marked(cadenza_mock):
                pass
            """
        }
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(errors=1)
    folder = pytester.path / "suite"
    result.stdout.fnmatch_lines(
        [
            f"*{folder / 'scenarios' / 'missing.yaml'}: no such scenario file*",
            f"*path is relative to the test file's folder, {folder}; mock.load() takes "
            "paths relative to the working directory*",
        ]
    )


def test_a_missing_file_given_to_load_says_its_base_is_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cadenza_mock.contract.errors import ScenarioError
    from cadenza_mock.testing.handle import ScenarioCache

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        ScenarioCache().get("scenarios/missing.yaml")  # what mock.load() validates with
    assert str(info.value) == (
        f"scenarios/missing.yaml: no such scenario file (relative to the working directory "
        f"{tmp_path}; a cadenza_scenario marker's path is relative to its test file)"
    )

"""Issue 26, comfort 8: the unfired-fault check, `malformed_next()`, a profile per test,
and the fault helpers' errors in their own names. Downstream files run through pytester
(in-process and against a `serve` subprocess); the handle helpers over real sockets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

import cadenza_mock.run.server
import cadenza_mock.testing.remote
from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.run.server import MockServer
from cadenza_mock.testing.handle import MockHandle
from cadenza_mock.testing.remote import RemoteMock

# Kept loaded across pytester's in-process runs (see tests/test_plugin.py).
_PRELOADED = (requests, cadenza_mock.testing.remote, cadenza_mock.run.server)

LIST = "/api/v3/credential/list"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider", *args)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer("default") as mock:
        yield mock


@pytest.fixture(params=["in-process", "remote"])
def mock(request: pytest.FixtureRequest, server: MockServer) -> MockHandle:
    """The same helpers on a MockServer and on a RemoteMock steering it over /__admin/."""
    server.use("default")
    handle: MockHandle = server if request.param == "in-process" else RemoteMock(server.url)
    return handle


# --------------------------------------------------------------------------- helper errors

# (call, what the error must say) for each *_next helper given a value it cannot take.
BAD_CALLS: list[tuple[str, Callable[[MockHandle], str], str]] = [
    (
        "fail_next(200)",
        lambda m: m.fail_next(200),
        "fail_next(): status: expected an error status 400 to 599, got 200",
    ),
    ("fail_next(errno=0)", lambda m: m.fail_next(errno=0), "fail_next(): errno: errno 0"),
    (
        "fail_next(method=...)",
        lambda m: m.fail_next(method="FETCH"),
        "fail_next(): method: unknown method 'FETCH'",
    ),
    ("delay_next(-1)", lambda m: m.delay_next(-1), "delay_next(): seconds: expected 0 to 600"),
    (
        "delay_next((3, 1))",
        lambda m: m.delay_next((3, 1)),
        "delay_next(): seconds: max 1 is below min 3",
    ),
    ("drop_next(times=0)", lambda m: m.drop_next(times=0), "drop_next(): times: expected an"),
    (
        "rate_limit_next(-3)",
        lambda m: m.rate_limit_next(-3),
        "rate_limit_next(): retry_after: expected an integer >= 0, got -3",
    ),
    (
        "malformed_next(path=...)",
        lambda m: m.malformed_next(path="credential/list"),
        "malformed_next(): path: expected a path starting with '/'",
    ),
    (
        "malformed_next on the upgrade",
        lambda m: m.malformed_next(path="/connection/websocket", method="GET"),
        "malformed_next(): path: has no meaning on the WebSocket upgrade",
    ),
]


@pytest.mark.parametrize(
    ("call", "expected"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
def test_a_helper_given_a_bad_value_names_itself_and_arms_nothing(
    mock: MockHandle, call: Callable[[MockHandle], str], expected: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        call(mock)
    message = str(caught.value)
    assert message.startswith(expected), message
    # The internal names the user never wrote stay out of it.
    for internal in ("add_fault", "respond.", "match.", "rate_limit.", "<fault>"):
        assert internal not in message, message
    assert mock.faults == []
    # The mock still answers normally.
    answer = requests.get(mock.url_for(LIST), headers=mock.auth_headers, timeout=10)
    assert answer.status_code == 200 and answer.json()["data"]


# --------------------------------------------------------------------------- malformed_next


def test_malformed_next_cuts_the_next_matching_answer_only(mock: MockHandle) -> None:
    fault_id = mock.malformed_next(path=LIST, method="GET", times=2)
    other = requests.get(mock.url_for("/api/v3/tradingAccount/list"), headers=mock.auth_headers)
    assert other.status_code == 200 and other.json()  # another path: untouched
    cut = [requests.get(mock.url_for(LIST), headers=mock.auth_headers) for _ in range(2)]
    whole = requests.get(mock.url_for(LIST), headers=mock.auth_headers)
    for answer in cut:
        assert answer.status_code == 200  # the real status, its body cut in half
        with pytest.raises(json.JSONDecodeError):
            json.loads(answer.content)
        assert 0 < len(answer.content) < len(whole.content)
        assert whole.content.startswith(answer.content)
    assert whole.json()["data"]
    (armed,) = mock.faults
    assert armed["id"] == fault_id
    assert armed["fault"]["malformed"] is True
    assert (armed["fired"], armed["remaining"], armed["armed"]) == (2, 0, False)
    faulted = [entry.fault for entry in mock.calls(LIST)]
    assert faulted[:2] == [f"{fault_id}:malformed"] * 2 and faulted[2] is None


# --------------------------------------------------------------------------- unfired faults

UNFIRED = f"""
import pytest, requests

LIST = "{LIST}"

def test_fired(cadenza_mock):
    cadenza_mock.fail_next(503, path=LIST)
    answer = requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
    assert answer.status_code == 503

def test_never_fired(cadenza_mock):
    cadenza_mock.fail_next(503, path="/api/v3/credential/lst", method="GET")

def test_matched_but_skipped(cadenza_mock):
    spec = {{"id": "second-only", "match": {{"path": LIST}}, "drop": True, "after": 1}}
    cadenza_mock.add_fault(spec)
    requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)

def test_disarmed_by_the_test(cadenza_mock):
    cadenza_mock.remove_fault(cadenza_mock.malformed_next(path=LIST))

@pytest.mark.cadenza_scenario({{
    "extends": "default",
    "faults": [
        {{"id": "scenario-own", "match": {{"path": "/login"}}, "respond": {{"status": 500}}}}
    ],
}})
def test_scenario_faults_are_the_scenarios(cadenza_mock):
    pass

def test_a_failing_body_is_not_reported_twice(cadenza_mock):
    cadenza_mock.drop_next(path="/api/v3/credential/lst")
    assert False, "the test's own failure"

@pytest.mark.cadenza_mock(unfired_faults="ignore")
def test_opted_out(cadenza_mock):
    cadenza_mock.rate_limit_next(path="/api/v3/credential/lst")
"""


def _unfired_errors(result: pytest.RunResult) -> None:
    result.assert_outcomes(passed=6, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_never_fired*",
            "*cadenza-mock: 1 fault(s) armed by the test never fired:",
            '*  runtime-1: match {"method": "GET", "path": "/api/v3/credential/lst"}, '
            '{"respond": {"status": 503, *}, "times": 1}: matched no call',
            "*(the code under test never made the calls they match: check their path and "
            "method; @pytest.mark.cadenza_mock(unfired_faults='ignore') opts a test out)",
            "*ERROR at teardown of test_matched_but_skipped*",
            '*  second-only: match {"path": "/api/v3/credential/list"}, {"drop": true, '
            '"after": 1}: matched 1 call(s), fired none',
        ],
        consecutive=False,
    )
    text = result.stdout.str()
    assert "scenario-own" not in text and "the test's own failure" in text
    for quiet in ("test_fired", "test_disarmed_by_the_test", "test_opted_out"):
        assert f"teardown of {quiet}" not in text
    assert "teardown of test_a_failing_body" not in text


def test_unfired_faults_are_ignored_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_unfired=UNFIRED)
    result = run(pytester)
    result.assert_outcomes(passed=6, failed=1)
    assert "never fired" not in result.stdout.str()


def test_unfired_faults_fail_with_the_option_and_the_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_unfired=UNFIRED)
    _unfired_errors(run(pytester, "--cadenza-unfired-faults", "fail"))
    _unfired_errors(run(pytester, "--cadenza-unfired-faults=fail"))
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\ncadenza_unfired_faults = fail\n"
    )
    _unfired_errors(run(pytester))
    # The command line beats the ini.
    run(pytester, "--cadenza-unfired-faults", "ignore").assert_outcomes(passed=6, failed=1)


def test_unfired_faults_marker_on_a_module(pytester: pytest.Pytester) -> None:
    marked = "pytestmark = __import__('pytest').mark.cadenza_mock(unfired_faults='fail')\n"
    pytester.makepyfile(test_unfired=marked + UNFIRED)
    _unfired_errors(run(pytester))


def test_unfired_faults_warn(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_unfired=UNFIRED)
    result = run(pytester, "--cadenza-unfired-faults", "warn")
    result.assert_outcomes(passed=6, failed=1, warnings=2)
    result.stdout.fnmatch_lines(
        [
            "*CadenzaMockWarning: cadenza-mock: 1 fault(s) armed by the test never fired:*",
            "*runtime-1: match*/api/v3/credential/lst*matched no call*",
        ],
        consecutive=False,
    )


def test_unfired_faults_in_remote_mode(
    pytester: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    url, _ = serve("--quiet").banner()
    pytester.makepyfile(test_unfired=UNFIRED)
    _unfired_errors(run(pytester, "--cadenza-url", url, "--cadenza-unfired-faults", "fail"))


def test_unfired_faults_option_and_marker_refuse_other_values(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.cadenza_mock(unfired_faults=True)
        def test_bool(cadenza_mock):
            pass

        @pytest.mark.cadenza_mock(profile="xml")
        def test_profile(cadenza_mock):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.cadenza_mock(unfired_faults=...) takes one of 'ignore', 'warn', "
            "'fail', got True*",
            "*@pytest.mark.cadenza_mock(profile=...) takes one of 'docs', 'sdk', got 'xml'*",
        ],
        consecutive=False,
    )
    bad_option = run(pytester, "--cadenza-unfired-faults", "loud")
    assert bad_option.ret == pytest.ExitCode.USAGE_ERROR
    pytester.makeini("[pytest]\ncadenza_unfired_faults = loud\n")
    bad_ini = run(pytester)
    assert bad_ini.ret == pytest.ExitCode.USAGE_ERROR
    bad_ini.stderr.fnmatch_lines(
        ["*cadenza_unfired_faults = 'loud': must be one of ignore, warn, fail*"]
    )


# --------------------------------------------------------------------------- profile marker

SDK_YAML = """\
extends: default
description: a file the profile marker serves in the sdk profile
"""

PROFILES = f"""
import pytest, requests

LIST = "{LIST}"

def fields(mock):
    answer = requests.get(mock.url_for(LIST), headers=mock.auth_headers)
    assert answer.status_code == 200
    return set(answer.json()["data"][0])

SDK = {{"credentialType", "nickname", "createdAtDateTime"}}
DOCS = {{"type", "name", "apiKey"}}

@pytest.mark.cadenza_mock(profile="sdk")
def test_sdk(cadenza_mock):
    assert cadenza_mock.profile == "sdk"
    got = fields(cadenza_mock)
    assert SDK <= got and not DOCS & got

def test_unmarked_in_between(cadenza_mock):
    assert cadenza_mock.profile == "docs"
    assert DOCS <= fields(cadenza_mock)

@pytest.mark.cadenza_scenario("sdk.yaml")
@pytest.mark.cadenza_mock(profile="sdk")
def test_sdk_file(cadenza_mock):
    assert cadenza_mock.scenario.description.startswith("a file the profile marker")
    assert SDK <= fields(cadenza_mock)

@pytest.mark.cadenza_scenario({{"extends": "revoked"}})
@pytest.mark.cadenza_mock(profile="sdk")
def test_sdk_inline(cadenza_mock):
    assert SDK <= fields(cadenza_mock)

@pytest.mark.cadenza_mock(profile="sdk")
class TestSdkClass:
    def test_fault_helpers_work_there(self, cadenza_mock):
        cadenza_mock.fail_next(503, path=LIST)
        answer = requests.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers)
        assert answer.status_code == 503

    @pytest.mark.cadenza_mock(profile="docs")
    def test_closest_wins(self, cadenza_mock):
        assert DOCS <= fields(cadenza_mock)

def test_unmarked_at_the_end(cadenza_mock):
    assert cadenza_mock.profile == "docs"
    assert DOCS <= fields(cadenza_mock)
"""


def test_profile_marker_in_process(pytester: pytest.Pytester) -> None:
    (pytester.path / "sdk.yaml").write_text(SDK_YAML, encoding="utf-8")
    pytester.makepyfile(test_profiles=PROFILES)
    run(pytester).assert_outcomes(passed=7)


def test_profile_marker_beats_the_run_profile(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_marked_docs=f"""
        import pytest, requests

        @pytest.mark.cadenza_mock(profile="docs")
        def test_docs(cadenza_mock):
            assert cadenza_mock.profile == "docs"
            answer = requests.get(cadenza_mock.url_for("{LIST}"), headers=cadenza_mock.auth_headers)
            assert "apiKey" in answer.json()["data"][0]

        def test_run_profile(cadenza_mock):
            assert cadenza_mock.profile == "sdk"

        @pytest.mark.asyncio
        @pytest.mark.cadenza_mock(profile="docs")
        async def test_app(aiohttp_client, cadenza_mock_app, cadenza_mock_scenario):
            assert cadenza_mock_scenario.profile == "docs"
            client = await aiohttp_client(cadenza_mock_app)
            answer = await client.get("{LIST}", headers={{"Authorization": "Bearer alice-token"}})
            assert "apiKey" in (await answer.json())["data"][0]
        """
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    run(pytester, "--cadenza-profile", "sdk").assert_outcomes(passed=3)


def test_profile_marker_in_remote_mode(
    pytester: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    url, _ = serve("--quiet").banner()
    (pytester.path / "sdk.yaml").write_text(SDK_YAML, encoding="utf-8")
    pytester.makepyfile(test_profiles=PROFILES)
    run(pytester, "--cadenza-url", url).assert_outcomes(passed=7)


def test_profile_marker_on_a_server_that_forces_a_profile(
    pytester: pytest.Pytester, serve: Callable[..., Any]
) -> None:
    url, _ = serve("--profile", "docs", "--quiet").banner()
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.cadenza_mock(profile="sdk")
        def test_sdk(cadenza_mock):
            pass

        def test_docs(cadenza_mock):
            pass
        """
    )
    result = run(pytester, "--cadenza-url", url)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.cadenza_mock(profile='sdk'): the mock at * serves the docs profile "
            "(a server started with --profile docs serves no other); start it without "
            "--profile to mix profiles in one run*"
        ]
    )
    mixed = run(pytester, "--cadenza-url", url, "--cadenza-profile", "docs")
    mixed.assert_outcomes(passed=1, errors=1)
    mixed.stdout.fnmatch_lines(
        ["*(profile='sdk') with --cadenza-profile docs and --cadenza-url: a server started*"]
    )


def test_the_option_is_in_the_help_and_a_matched_token_stays_secret(
    pytester: pytest.Pytester,
) -> None:
    helptext = run(pytester, "--help")
    helptext.stdout.fnmatch_lines(["*--cadenza-unfired-faults={ignore,warn,fail}*"])
    pytester.makepyfile(
        test_token="""
        def test_token_fault(cadenza_mock):
            cadenza_mock.add_fault(
                {"match": {"token": cadenza_mock.token, "path": "/nowhere"}, "drop": True}
            )
            print("TOKEN=" + cadenza_mock.token)
        """
    )
    result = run(pytester, "--cadenza-unfired-faults", "fail", "-rA")
    result.assert_outcomes(passed=1, errors=1)
    (token,) = {line[6:] for line in result.outlines if line.startswith("TOKEN=")}
    result.stdout.fnmatch_lines(['*runtime-1: match {*"path": "/nowhere"*matched no call'])
    message = [line for line in result.outlines if "runtime-1: match" in line]
    assert message and token and all(token not in line for line in message)

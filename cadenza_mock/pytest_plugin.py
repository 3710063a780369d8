"""pytest plugin: the mock as a fixture (registered through the `pytest11` entry point).

Only wiring lives here: options, the marker and fixtures. Behaviour is in the library
(`MockServer`, `RemoteMock`, `ScenarioCache`), so it works the same without pytest.
Every pytest run of a project that installs cadenza-mock imports this module, so it
imports nothing heavy: aiohttp, YAML and faker load only when a fixture is first used.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cadenza_mock.contract.model import is_bundled_name

if TYPE_CHECKING:
    from aiohttp import web

    from cadenza_mock.scenario import Scenario
    from cadenza_mock.testing.handle import MockHandle, ScenarioCache, SourceLike
    from cadenza_mock.testing.remote import RemoteMock

MARKER = "cadenza_scenario"
OPTIONS_MARKER = "cadenza_mock"  # @pytest.mark.cadenza_mock(strict=True): fixture options
MARKER_OPTIONS = ("strict", "tls", "unfired_faults", "profile")
PROFILES = ("docs", "sdk")  # cadenza_mock.contract.model.PROFILE_NAMES, without importing it
# What a test whose armed fault never fired gets (--cadenza-unfired-faults).
UNFIRED_MODES = ("ignore", "warn", "fail")
# Marker options that take one of these words instead of True or False.
MARKER_CHOICES = {"unfired_faults": UNFIRED_MODES, "profile": PROFILES}
URL_ENV = "CADENZA_MOCK_URL"
ADMIN_TOKEN_ENV = "CADENZA_MOCK_ADMIN_TOKEN"
CA_FILE_ENV = "CADENZA_CA_FILE"


@dataclass(frozen=True)
class Settings:
    """The run's cadenza-mock settings: command line, else environment, else ini."""

    scenario: SourceLike
    profile: str | None
    url: str | None
    admin_token: str | None
    strict: bool = False
    # The in-process mock's journal bound (None: MockServer's default, 1000).
    journal_size: int | None = None
    # The CA bundle (PEM) that verifies an https:// --cadenza-url.
    ca_file: str | None = None
    unfired_faults: str = "ignore"  # one of UNFIRED_MODES


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cadenza-mock", "cadenza-mock (emulated Cadenza credential API)")
    group.addoption(
        "--cadenza-scenario",
        dest="cadenza_scenario",
        default=None,
        metavar="NAME|PATH",
        help="default scenario for tests without a cadenza_scenario marker: a bundled name "
        "(see 'cadenza-mock scenarios') or a YAML file (default: default) "
        "[ini: cadenza_scenario]",
    )
    group.addoption(
        "--cadenza-profile",
        dest="cadenza_profile",
        default=None,
        choices=PROFILES,
        help="wire profile for every scenario: docs (the HTTP reference) or sdk (the "
        "official generated client); overrides the scenario's own 'profile' key "
        "[ini: cadenza_profile]",
    )
    group.addoption(
        "--cadenza-url",
        dest="cadenza_url",
        default=None,
        metavar="URL",
        help="run against an already running cadenza-mock (e.g. the container) instead of "
        f"starting one; it is reset and loaded through /__admin/ [env: {URL_ENV}, "
        "ini: cadenza_url]",
    )
    group.addoption(
        "--cadenza-admin-token",
        dest="cadenza_admin_token",
        default=None,
        metavar="TOKEN",
        help=f"X-Admin-Token for --cadenza-url [env: {ADMIN_TOKEN_ENV}]",
    )
    group.addoption(
        "--cadenza-strict",
        dest="cadenza_strict",
        action="store_true",
        default=None,
        help="fail a test at teardown when the code under test sent a request the Cadenza "
        "API does not know (an unknown route or method: 404/405) or one with near-miss "
        "hints (a parameter or field the profile does not know); "
        f"@pytest.mark.{OPTIONS_MARKER}(strict=False) opts a test out [ini: cadenza_strict]",
    )
    group.addoption(
        "--cadenza-journal-size",
        dest="cadenza_journal_size",
        default=None,
        type=int,
        metavar="N",
        help="requests the in-process mock's journal keeps, the oldest dropped past it "
        "(default: 1000; 0 turns it off); a --cadenza-url server keeps its own "
        "'serve --journal-size'",
    )
    group.addoption(
        "--cadenza-ca-file",
        dest="cadenza_ca_file",
        default=None,
        metavar="PEM",
        help="CA bundle that verifies an https:// --cadenza-url (e.g. the file the server's "
        "--tls-ca-file wrote); tests marked tls=True then run against it "
        f"[env: {CA_FILE_ENV}]",
    )
    group.addoption(
        "--cadenza-unfired-faults",
        dest="cadenza_unfired_faults",
        default=None,
        choices=UNFIRED_MODES,
        help="what a test gets at teardown when a fault it armed (fail_next(), add_fault(), "
        "the admin API; not the scenario's own) never fired: ignore (the default), warn, "
        f"or fail; @pytest.mark.{OPTIONS_MARKER}(unfired_faults=...) sets it per test "
        "[ini: cadenza_unfired_faults]",
    )
    parser.addini("cadenza_scenario", "default cadenza-mock scenario (name or path)")
    parser.addini("cadenza_profile", "cadenza-mock wire profile: docs or sdk")
    parser.addini("cadenza_url", "URL of an already running cadenza-mock to test against")
    parser.addini(
        "cadenza_strict",
        "fail tests that send requests the Cadenza API does not know (see --cadenza-strict)",
        type="bool",
        default=False,
    )
    parser.addini(
        "cadenza_unfired_faults",
        "ignore, warn or fail a test whose armed fault never fired (see --cadenza-unfired-faults)",
        default="ignore",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenario): serve this cadenza-mock scenario to the test: a bundled name, "
        "a YAML path (relative to the test file) or an inline dict; on a test, class or "
        "module, the closest wins.",
    )
    config.addinivalue_line(
        "markers",
        f"{OPTIONS_MARKER}(strict=True, tls=True, unfired_faults='fail', profile='sdk'): "
        "cadenza_mock fixture options for the test, class or module (the closest wins); "
        "strict fails the test at teardown when the code under test sent a request the API "
        "does not know (404/405, or near-miss hints); tls serves it over HTTPS and WSS "
        "(mock.ca_bundle, mock.ssl_context); unfired_faults (ignore, warn, fail) says what "
        "a fault the test armed that never fired does; profile serves the test in that wire "
        "profile (docs or sdk).",
    )


def describe_run(config: pytest.Config) -> str:
    """The one line that says where this run's mock is and what it serves."""
    settings = settings_of(config)
    where = f"remote {settings.url}" if settings.url else "in-process, one server per worker"
    profile = settings.profile or "scenario's own"
    strict = ", strict" if settings.strict else ""
    return f"cadenza-mock: scenario {settings.scenario!s}, profile {profile}, {where}{strict}"


def pytest_report_header(config: pytest.Config) -> str | None:
    """Only under -v: a run whose tests never use the mock says nothing about it (the
    terminal summary names it when a test did, see pytest_terminal_summary)."""
    return describe_run(config) if config.get_verbosity() > 0 else None


_USED = pytest.StashKey[bool]()
_WORKER_USED = "cadenza_mock_used"  # xdist workeroutput key: a worker's tests used the mock


def _mark_used(config: pytest.Config) -> None:
    config.stash[_USED] = True


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None and session.config.stash.get(_USED, False):
        workeroutput[_WORKER_USED] = True


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """xdist controller: remember that a worker's tests used the mock."""
    output = getattr(node, "workeroutput", None) or {}
    config = getattr(node, "config", None)
    if output.get(_WORKER_USED) and isinstance(config, pytest.Config):
        _mark_used(config)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if config.stash.get(_USED, False) and config.get_verbosity() == 0:
        terminalreporter.write_line(describe_run(config))


_SETTINGS = pytest.StashKey[Settings]()


def settings_of(config: pytest.Config) -> Settings:
    """The run's settings, resolved once."""
    settings = config.stash.get(_SETTINGS, None)
    if settings is None:
        settings = config.stash[_SETTINGS] = _resolve_settings(config)
    return settings


def _resolve_settings(config: pytest.Config) -> Settings:
    """Command line, else environment, else ini; relative paths anchored where written."""
    scenario: SourceLike = "default"
    if config.option.cadenza_scenario:
        scenario = _anchor(config.option.cadenza_scenario, config.invocation_params.dir)
    elif config.getini("cadenza_scenario"):
        base = config.inipath.parent if config.inipath else config.rootpath
        scenario = _anchor(str(config.getini("cadenza_scenario")), base)
    profile = config.option.cadenza_profile or config.getini("cadenza_profile") or None
    if profile is not None and profile not in PROFILES:
        raise pytest.UsageError(
            f"cadenza_profile = {profile!r}: must be one of {', '.join(PROFILES)}"
        )
    url = config.option.cadenza_url or os.environ.get(URL_ENV) or config.getini("cadenza_url")
    token = config.option.cadenza_admin_token or os.environ.get(ADMIN_TOKEN_ENV)
    strict = bool(config.option.cadenza_strict or config.getini("cadenza_strict"))
    journal_size = config.option.cadenza_journal_size
    if journal_size is not None and journal_size < 0:
        raise pytest.UsageError(f"--cadenza-journal-size must be 0 or more, got {journal_size}")
    if journal_size is not None and url:
        raise pytest.UsageError(
            "--cadenza-journal-size sizes the in-process mock's journal; the server at "
            f"{url} keeps its own: start it with 'cadenza-mock serve --journal-size "
            f"{journal_size}' (or CADENZA_MOCK_JOURNAL_SIZE)"
        )
    ca_file = config.option.cadenza_ca_file or os.environ.get(CA_FILE_ENV) or None
    if ca_file is not None:
        ca_file = _anchor(ca_file, config.invocation_params.dir)
        if not Path(ca_file).is_file():
            raise pytest.UsageError(f"--cadenza-ca-file / {CA_FILE_ENV}: no file {ca_file}")
    unfired = config.option.cadenza_unfired_faults or config.getini("cadenza_unfired_faults")
    if unfired not in UNFIRED_MODES:
        raise pytest.UsageError(
            f"cadenza_unfired_faults = {unfired!r}: must be one of {', '.join(UNFIRED_MODES)}"
        )
    return Settings(
        scenario=scenario,
        profile=profile,
        url=url or None,
        admin_token=token,
        strict=strict,
        journal_size=journal_size,
        ca_file=ca_file,
        unfired_faults=unfired,
    )


def _anchor(source: str, base: Path) -> str:
    """A relative file path made absolute against `base`; bundled names pass through."""
    if is_bundled_name(source):
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else base / path)


_CACHE = pytest.StashKey["ScenarioCache"]()


def _cache(config: pytest.Config) -> ScenarioCache:
    """One scenario cache per run (per xdist worker), shared by every fixture."""
    cache = config.stash.get(_CACHE, None)
    if cache is None:
        from cadenza_mock.testing.handle import ScenarioCache

        cache = ScenarioCache(profile=settings_of(config).profile)
        config.stash[_CACHE] = cache
    return cache


def _marker_source(request: pytest.FixtureRequest) -> SourceLike | None:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return None
    if len(marker.args) != 1 or marker.kwargs:
        pytest.fail(
            f"@pytest.mark.{MARKER} takes exactly one scenario (a name, a path or a dict), "
            f"got args={marker.args!r} kwargs={marker.kwargs!r}",
            pytrace=False,
        )
    source = marker.args[0]
    if isinstance(source, Path):
        source = str(source)
    if isinstance(source, str):
        return _anchor(source, request.path.parent)
    if isinstance(source, Mapping):
        return source
    from cadenza_mock.scenario import Scenario

    if isinstance(source, Scenario):
        return source
    pytest.fail(
        f"@pytest.mark.{MARKER}: expected a scenario name, path or dict, got {source!r}",
        pytrace=False,
    )


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The closest `cadenza_mock(strict=..., tls=..., ...)` marker's options; strict and
    unfired_faults fall back to the run's settings, tls to plain HTTP, profile to None
    (the run's)."""
    settings = settings_of(request.config)
    options: dict[str, Any] = {"strict": settings.strict, "tls": False}
    options |= {"unfired_faults": settings.unfired_faults, "profile": None}
    marker = request.node.get_closest_marker(OPTIONS_MARKER)
    if marker is None:
        return options
    unknown = sorted(set(marker.kwargs) - set(MARKER_OPTIONS))
    if marker.args or unknown:
        pytest.fail(
            f"@pytest.mark.{OPTIONS_MARKER} takes keyword options "
            f"({', '.join(MARKER_OPTIONS)}), got args={marker.args!r} "
            f"kwargs={marker.kwargs!r}",
            pytrace=False,
        )
    for name, value in marker.kwargs.items():
        choices = MARKER_CHOICES.get(name)
        if choices is not None and value not in choices:
            pytest.fail(
                f"@pytest.mark.{OPTIONS_MARKER}({name}=...) takes one of "
                f"{', '.join(map(repr, choices))}, got {value!r}",
                pytrace=False,
            )
        if choices is None and not isinstance(value, bool):
            pytest.fail(
                f"@pytest.mark.{OPTIONS_MARKER}({name}=...) takes True or False, got {value!r}",
                pytrace=False,
            )
        options[name] = value
    return options


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def cadenza_mock_source(request: pytest.FixtureRequest) -> SourceLike:
    """The scenario source of this test: closest cadenza_scenario marker, else the default."""
    marked = _marker_source(request)
    return marked if marked is not None else settings_of(request.config).scenario


@pytest.fixture
def cadenza_mock_scenario(
    request: pytest.FixtureRequest, cadenza_mock_source: SourceLike
) -> Scenario:
    """The validated Scenario of this test (users, tokens); parsed once per run and source."""
    from cadenza_mock.contract.errors import ScenarioError
    from cadenza_mock.pytest_markers import profile_cache
    from cadenza_mock.testing.handle import describe_source

    profile = _marker_options(request)["profile"]
    try:
        return profile_cache(request.config, profile).get(cadenza_mock_source)
    except ScenarioError as exc:
        problem = str(exc)  # failed outside the except block: no chained traceback noise
    marked = request.node.get_closest_marker(MARKER)
    if "no such scenario file" in problem and marked is not None and marked.args:
        given = marked.args[0]
        if isinstance(given, str | Path) and not Path(given).expanduser().is_absolute():
            problem += (
                f"\n(a @pytest.mark.{MARKER} path is relative to the test file's folder, "
                f"{request.path.parent}; mock.load() takes paths relative to the working "
                "directory)"
            )
    pytest.fail(
        f"cadenza-mock scenario {describe_source(cadenza_mock_source)} is invalid:\n{problem}",
        pytrace=False,
    )


def _open_namespace(remote: RemoteMock, config: pytest.Config) -> None:
    """A namespace of its own on the shared server for this process (each xdist worker):
    tests in parallel, or other jobs on the same server, never see each other's state.
    A server without namespaces is used as is by a serial run; a parallel one fails."""
    from cadenza_mock.testing.remote import RemoteError

    worker_input = getattr(config, "workerinput", None)  # set on xdist workers only
    worker = str(worker_input["workerid"]) if worker_input else "main"
    name = re.sub(r"[^a-z0-9-]", "-", f"pytest-{worker}-{secrets.token_hex(3)}".lower())
    try:
        remote.open_namespace(name)
    except RemoteError as exc:
        # 404: a server from before namespaces; 429: --max-namespaces 0, or all taken.
        if exc.status not in (404, 429):
            raise
        if worker_input:
            raise RemoteError(
                f"{exc}\n--cadenza-url with xdist needs a namespace per worker: start the "
                "server with --max-namespaces above 0 (a cadenza-mock that has namespaces), "
                "or run remote tests serially",
                exc.status,
            ) from None


@pytest.fixture(scope="session")
def cadenza_mock_server(pytestconfig: pytest.Config) -> Iterator[MockHandle]:
    """The session's mock (one per xdist worker, free port); prefer `cadenza_mock` in tests."""
    _mark_used(pytestconfig)
    settings = settings_of(pytestconfig)
    if settings.url:
        from cadenza_mock.testing.remote import RemoteError, RemoteMock

        remote = RemoteMock(
            settings.url,
            admin_token=settings.admin_token,
            scenario_cache=_cache(pytestconfig),
            ca_file=settings.ca_file,
        )
        try:
            remote.start()
            _open_namespace(remote, pytestconfig)
        except RemoteError as exc:
            problem = str(exc)
        else:
            try:
                yield remote
            finally:
                remote.stop()  # its namespace goes with the session
            return
        pytest.fail(problem, pytrace=False)
    from cadenza_mock.contract.errors import ScenarioError
    from cadenza_mock.run.server import MockServer

    try:
        server = MockServer(
            settings.scenario,
            profile=settings.profile,
            scenario_cache=_cache(pytestconfig),
            journal_limit=_journal_limit(settings),
        )
    except ScenarioError as exc:
        problem = str(exc)
    else:
        with server:
            yield server
        return
    pytest.fail(f"--cadenza-scenario {settings.scenario!s} is invalid:\n{problem}", pytrace=False)


@pytest.fixture(scope="session")
def cadenza_mock_tls_server(pytestconfig: pytest.Config) -> Iterator[MockHandle]:
    """The session's HTTPS mock, started for the first test marked
    `@pytest.mark.cadenza_mock(tls=True)`; prefer `cadenza_mock` in tests."""
    _mark_used(pytestconfig)
    settings = settings_of(pytestconfig)
    if settings.url:
        # An https:// remote serves these tests itself (the cadenza_mock fixture uses it).
        pytest.fail(
            f"@pytest.mark.{OPTIONS_MARKER}(tls=True) with --cadenza-url {settings.url}: "
            "serve the container with --tls (CADENZA_MOCK_TLS=1), give its https:// address "
            f"to --cadenza-url and its CA bundle to --cadenza-ca-file ({CA_FILE_ENV})",
            pytrace=False,
        )
    from cadenza_mock.run.server import MockServer

    server = MockServer(
        settings.scenario,
        profile=settings.profile,
        scenario_cache=_cache(pytestconfig),
        tls=True,
        journal_limit=_journal_limit(settings),
    )
    with server:
        yield server


def _journal_limit(settings: Settings) -> int:
    """The in-process mock's journal bound: the run's choice, else the journal's default."""
    from cadenza_mock.engine.journal import DEFAULT_JOURNAL_SIZE

    return DEFAULT_JOURNAL_SIZE if settings.journal_size is None else settings.journal_size


@pytest.fixture
def cadenza_mock(
    request: pytest.FixtureRequest,
    cadenza_mock_server: MockHandle,
    cadenza_mock_source: SourceLike,
    cadenza_mock_scenario: Scenario,
) -> Iterator[MockHandle]:
    """The mock in this test's scenario, pristine: .url .token .auth_headers .requests .load()."""
    from cadenza_mock.testing.remote import RemoteError

    options = _marker_options(request)
    strict = options["strict"]
    remote_https = cadenza_mock_server.url.startswith("https://")
    mock = (
        request.getfixturevalue("cadenza_mock_tls_server")
        if options["tls"] and not remote_https
        else cadenza_mock_server
    )
    source = cadenza_mock_source
    if options["profile"] is not None:
        from cadenza_mock.pytest_markers import profiled

        mock, source = profiled(request, mock, source, options["profile"], options["tls"])
    try:
        mock.use(source)
    except RemoteError as exc:
        problem: str | None = str(exc)  # the server's own words; a traceback adds nothing
    else:
        problem = None
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    wanted = settings_of(request.config).profile
    if options["profile"] is not None and mock.profile != options["profile"]:
        from cadenza_mock.pytest_markers import profile_refused

        pytest.fail(profile_refused(mock, options["profile"]), pytrace=False)
    if wanted and options["profile"] is None and mock.profile != wanted:
        pytest.fail(
            f"--cadenza-profile {wanted}: the mock at {mock.url} serves the {mock.profile} "
            f"profile; start it with 'cadenza-mock serve --profile {wanted}'",
            pytrace=False,
        )
    mock.clear_handler_errors()
    yield mock
    mock.check_handler_errors()
    from cadenza_mock.pytest_markers import check_fired

    check_fired(
        request, mock, options["unfired_faults"], request.node.stash.get(_CALL_FAILED, False)
    )
    if strict:
        try:
            mock.assert_no_unknown_requests()
        except AssertionError as exc:
            problem = str(exc)
        else:
            return
        pytest.fail(
            f"{problem}\n(strict mode: fix the requests, or opt the test out with "
            f"@pytest.mark.{OPTIONS_MARKER}(strict=False))",
            pytrace=False,
        )


@pytest.fixture
def cadenza_mock_app(
    request: pytest.FixtureRequest, cadenza_mock_scenario: Scenario
) -> web.Application:
    """A fresh aiohttp app of the mock in this test's scenario: `await aiohttp_client(it)`."""
    from cadenza_mock.http.app import make_app

    _mark_used(request.config)
    profile = _marker_options(request)["profile"] or settings_of(request.config).profile
    return make_app(scenario=cadenza_mock_scenario, profile=profile)


# --------------------------------------------------------------------------- per-test checks

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember a failed test body: its unfired faults are then no news worth a second
    failure at teardown."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True

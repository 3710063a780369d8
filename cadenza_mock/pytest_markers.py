"""The pytest plugin's per-test options beyond strict and tls: the check that the
faults a test armed fired (`unfired_faults`), and a test served in another wire profile
(`profile`). Imported by the plugin when a test uses them, so a run that does not pays
nothing for them.
"""

from __future__ import annotations

import pytest

from cadenza_mock.pytest_plugin import OPTIONS_MARKER, _cache, _journal_limit, settings_of
from cadenza_mock.testing.handle import MockHandle, ScenarioCache, SourceLike


class CadenzaMockWarning(UserWarning):
    """A cadenza-mock check set to `warn` (`--cadenza-unfired-faults warn`) found something."""


def check_fired(request: pytest.FixtureRequest, mock: MockHandle, mode: str, failed: bool) -> None:
    """Warn about or fail the test for the faults it armed that never fired (`mode`:
    UNFIRED_MODES); a test that failed already is left alone."""
    if mode == "ignore" or failed:
        return
    from cadenza_mock.testing.fault_checks import describe_unfired, unfired
    from cadenza_mock.testing.remote import RemoteError

    try:
        found = unfired(mock.faults)
    except RemoteError as exc:  # the server went away: the test says so elsewhere
        pytest.fail(f"{exc}\n(reading the faults for unfired_faults={mode!r})", pytrace=False)
    if not found:
        return
    message = describe_unfired(found)
    if mode == "warn":
        import warnings

        warnings.warn(message, CadenzaMockWarning, stacklevel=1)
        return
    pytest.fail(
        f"{message}\n(the code under test never made the calls they match: check their "
        f"path and method; @pytest.mark.{OPTIONS_MARKER}(unfired_faults='ignore') opts a "
        "test out)",
        pytrace=False,
    )


_PROFILE_CACHES = pytest.StashKey[dict[str, ScenarioCache]]()
_PROFILE_SERVERS = pytest.StashKey[dict[tuple[str, bool], MockHandle]]()


def profile_cache(config: pytest.Config, profile: str | None) -> ScenarioCache:
    """The run's cache, or one that builds every scenario in `profile` (a marker's)."""
    if profile is None or profile == settings_of(config).profile:
        return _cache(config)
    caches = config.stash.setdefault(_PROFILE_CACHES, {})
    if profile not in caches:
        caches[profile] = ScenarioCache(profile=profile)
    return caches[profile]


def profiled(
    request: pytest.FixtureRequest, mock: MockHandle, source: SourceLike, profile: str, tls: bool
) -> tuple[MockHandle, SourceLike]:
    """(mock, source) serving a test marked `profile=...`: in-process, a server of that
    profile (started on first use, kept for the run); remotely, the source itself says
    the profile, which a server started without `--profile` follows."""
    settings = settings_of(request.config)
    if profile == settings.profile:
        return mock, source
    if settings.url:
        if settings.profile is not None:
            pytest.fail(
                f"@pytest.mark.{OPTIONS_MARKER}(profile={profile!r}) with --cadenza-profile "
                f"{settings.profile} and --cadenza-url: a server started with --profile "
                "serves only that one; drop --cadenza-profile (and the server's --profile) "
                "to mix profiles in one run",
                pytrace=False,
            )
        from cadenza_mock.testing.scenario_cache import with_profile

        try:
            return mock, with_profile(source, profile)
        except ValueError as exc:
            pytest.fail(str(exc), pytrace=False)
    servers = request.config.stash.setdefault(_PROFILE_SERVERS, {})
    server = servers.get((profile, tls))
    if server is None:
        from cadenza_mock.run.server import MockServer

        server = MockServer(
            source,
            profile=profile,
            scenario_cache=profile_cache(request.config, profile),
            tls=tls,
            journal_limit=_journal_limit(settings),
        )
        server.start()
        request.config.add_cleanup(server.stop)
        servers[(profile, tls)] = server
    return server, source


def profile_refused(mock: MockHandle, profile: str) -> str:
    """Why a test marked `profile=...` cannot run on `mock` (it serves another one)."""
    return (
        f"@pytest.mark.{OPTIONS_MARKER}(profile={profile!r}): the mock at {mock.url} serves "
        f"the {mock.profile} profile (a server started with --profile {mock.profile} serves "
        "no other); start it without --profile to mix profiles in one run"
    )

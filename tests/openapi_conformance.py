"""pytest plugin of this suite: every response a test gets from an in-process mock must
conform to the OpenAPI document (cadenza_mock.specs.openapi, checked by openapi_checker.py), or
the run fails.

It installs a process-wide response observer for the whole session, so every app that
`make_app()` builds (aiohttp test clients, `MockServer`, the pytest plugin's server) reports
each response it sends. Distinct responses are kept (a cached list body is one object, so
repeats cost a dict lookup) and checked once at the end of the session, per xdist worker.
Responses of injected faults that are broken on purpose (malformed, dropped, trickled) are
counted as exempt, not checked. Servers in subprocesses (`cadenza-mock serve`) are not seen.

Loaded from tests/conftest.py through `pytest_plugins`; `-p openapi_conformance` loads it in
a pytester run (see tests/test_openapi.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from openapi_checker import EXEMPT_FAULTS, ResponseChecker

from cadenza_mock.http.observer import ObservedResponse, set_default_observer

# More than this many mismatches and the report shows the first ones and the count.
REPORT_LIMIT = 40


@dataclass
class Recorder:
    """Collects distinct responses from any thread (MockServer answers in its own)."""

    current_test: str = "<no test>"
    seen: dict[ObservedResponse, str] = field(default_factory=dict)
    total: int = 0
    exempt: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, response: ObservedResponse) -> None:
        with self._lock:
            self.total += 1
            if response.fault in EXEMPT_FAULTS:
                self.exempt += 1
                return
            # First test to get this exact response is the one the report names.
            self.seen.setdefault(response, self.current_test)

    def mismatches(self, checker: ResponseChecker) -> list[str]:
        with self._lock:
            items = list(self.seen.items())
        found = []
        for response, test in items:
            problems = checker.problems(response)
            if problems:
                where = f"{response.method} {response.path} -> {response.status}"
                fault = f", fault {response.fault}" if response.fault else ""
                found.append(
                    f"{test}: {where} ({response.profile} profile{fault}):\n    "
                    + "\n    ".join(problems)
                )
        return found


RECORDER = pytest.StashKey[Recorder]()


@pytest.fixture(scope="session", autouse=True)
def _openapi_conformance(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """Records every response of the session; fails at its end listing what did not conform."""
    recorder = Recorder()
    request.config.stash[RECORDER] = recorder
    previous = set_default_observer(recorder)
    try:
        yield recorder
    finally:
        set_default_observer(previous)
    found = recorder.mismatches(ResponseChecker())
    if found:
        shown = "\n".join(found[:REPORT_LIMIT])
        more = f"\n... and {len(found) - REPORT_LIMIT} more" if len(found) > REPORT_LIMIT else ""
        pytest.fail(
            f"{len(found)} of {len(recorder.seen)} distinct responses do not conform to the "
            f"OpenAPI document (cadenza_mock/specs/openapi.py):\n{shown}{more}",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _openapi_current_test(request: pytest.FixtureRequest, _openapi_conformance: Recorder) -> None:
    """Names the running test, so a mismatch says which test got the response."""
    _openapi_conformance.current_test = request.node.nodeid

"""`make_app()`: the one way an aiohttp app of the mock is built.

The CLI, the container, the threaded `MockServer` and the pytest plugin all call it.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from cadenza_mock.engine.state import MockState, ScenarioSource
from cadenza_mock.http import admin, api, meta
from cadenza_mock.http.keys import ADMIN_TOKEN, STARTED_AT, STATE, USER_ID
from cadenza_mock.http.middleware import envelope_middleware
from cadenza_mock.http.observer import RESPONSE_OBSERVER, ResponseObserver, default_observer


def make_app(
    scenario: ScenarioSource = "default",
    *,
    profile: str | None = None,
    seed: int | None = None,
    journal_limit: int = 1000,
    admin_token: str | None = None,
    state: MockState | None = None,
    response_observer: ResponseObserver | None = None,
) -> web.Application:
    """An app serving `scenario` (bundled name, path, dict or Scenario), or a given state."""
    app = web.Application(middlewares=[envelope_middleware])
    app[STATE] = state or MockState(
        scenario, profile=profile, seed=seed, journal_limit=journal_limit
    )
    if admin_token:
        app[ADMIN_TOKEN] = admin_token
    app[STARTED_AT] = time.monotonic()
    # Sees every response (the test suite checks them against the OpenAPI document).
    observer = response_observer or default_observer()
    if observer is not None:
        app[RESPONSE_OBSERVER] = observer
    app.router.add_routes([*api.routes(), *meta.routes(), *admin.routes()])
    return app


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, ms. Headers (tokens) are never logged."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        user = request.get(USER_ID)
        who = f" user={user}" if user else ""
        self.logger.info(
            "%s %s %s %.1fms%s", request.method, request.path_qs, response.status, time * 1000, who
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(20)


def access_log_kwargs() -> dict[str, Any]:
    return {"access_log_class": AccessLogger}

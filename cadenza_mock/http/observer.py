"""An opt-in hook that sees every response an app sends (the test suite's OpenAPI check).

`make_app(response_observer=...)` attaches it through aiohttp's `on_response_prepare`
signal, so an app without one pays nothing per request. A process-wide default lets a test
session watch every app that `make_app()` builds (aiohttp test clients, `MockServer`, the
pytest plugin's server) without touching them; only tests install it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from cadenza_mock.contract.operations import plain_path
from cadenza_mock.http.keys import FAULT_ACTION, STUBBED, TO_UPSTREAM, state_of


@dataclass(frozen=True, slots=True)
class ObservedResponse:
    """One response the server sent, as the observer is told of it.

    `fault` names the injected fault's action that produced it (None for a normal answer):
    a malformed or streamed body of a fault is exempt from validation, on purpose; so is a
    test's stub (`stub`), whose answer is whatever the test declared.
    """

    method: str
    path: str
    status: int
    body: bytes | None
    content_type: str | None
    profile: str
    fault: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


ResponseObserver = Callable[[ObservedResponse], None]

_default: ResponseObserver | None = None


def set_default_observer(observer: ResponseObserver | None) -> ResponseObserver | None:
    """Install the observer that apps built from now on get; returns the previous one."""
    global _default
    previous, _default = _default, observer
    return previous


def default_observer() -> ResponseObserver | None:
    return _default


@dataclass(frozen=True, slots=True)
class Attached:
    """An observer attached to an app, and its hook: the list fast path (which answers
    below aiohttp's hooks) reports to `observer` itself when `hook` is the app's only one."""

    observer: ResponseObserver
    hook: Callable[[web.Request, web.StreamResponse], Awaitable[None]]


ATTACHED = web.AppKey("cadenza_response_observer", Attached)


def attach(app: web.Application, observer: ResponseObserver) -> None:
    """Report every response `app` prepares to `observer`."""

    async def report(request: web.Request, response: web.StreamResponse) -> None:
        body = getattr(response, "body", None)
        observer(
            ObservedResponse(
                method=request.method,
                # A namespace's admin call is documented as the plain one.
                path=plain_path(request.path)
                if "namespace" in request.match_info
                else request.path,
                status=response.status,
                body=body if isinstance(body, bytes) else None,
                content_type=response.content_type,
                profile=state_of(request).store.profile,
                fault="stub"
                if STUBBED in request
                else "upstream"
                if TO_UPSTREAM in request
                else request.get(FAULT_ACTION),
                headers=tuple(response.headers.items()),
            )
        )

    app.on_response_prepare.append(report)
    app[ATTACHED] = Attached(observer, report)

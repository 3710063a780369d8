"""An opt-in hook that sees every response the app sends (the test suite's OpenAPI check).

The one middleware calls `observe()` last; with no observer installed that is a single
dict lookup. A process-wide default lets a test session watch every app that `make_app()`
builds (aiohttp test clients, `MockServer`, the pytest plugin) without touching them.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from cadenza_mock.openapi import ObservedResponse

ResponseObserver = Callable[[ObservedResponse], None]

RESPONSE_OBSERVER: web.AppKey[ResponseObserver] = web.AppKey("cadenza_response_observer")

_default: ResponseObserver | None = None


def set_default_observer(observer: ResponseObserver | None) -> ResponseObserver | None:
    """Install the observer that apps built from now on get; returns the previous one."""
    global _default
    previous, _default = _default, observer
    return previous


def default_observer() -> ResponseObserver | None:
    return _default


def observe(
    request: web.Request, response: web.StreamResponse, profile: str, fault: str | None
) -> None:
    """Report one answered request to the app's observer, if it has one.

    `fault` is the injected fault's action (respond, rate_limit, drop, malformed,
    slow_body) or None: the observer decides which of those it can check.
    """
    observer = request.app.get(RESPONSE_OBSERVER)
    if observer is None:
        return
    body = getattr(response, "body", None)
    observer(
        ObservedResponse(
            method=request.method,
            path=request.path,
            status=response.status,
            body=body if isinstance(body, bytes) else None,
            content_type=response.content_type,
            profile=profile,
            fault=fault,
            headers=tuple(response.headers.items()),
        )
    )

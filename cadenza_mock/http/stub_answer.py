"""The answer of a test's stub (engine/stubs.py) or of `serve --upstream` (a `proxy` stub, a
not-emulated operation), which the envelope middleware sends in
place of the route's handler; apart from http/stubs_api.py, which needs the middleware."""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from cadenza_mock.contract.errors import SERVICE_UNAVAILABLE
from cadenza_mock.engine.state import MockState
from cadenza_mock.http.keys import STUBBED, TO_UPSTREAM

__all__ = ["PASS_THROUGH", "TO_UPSTREAM", "stub_note", "stub_response", "upstream_answer"]

# `serve --upstream`'s base URL (set by http/proxy.py's pass_through()).
PASS_THROUGH = web.AppKey("cadenza_pass_through", str)


def stub_response(request: web.Request, state: MockState) -> web.Response | None:
    """The answer of the newest armed stub matching this request; None: none matches (or
    a `proxy` stub does: then the request is marked TO_UPSTREAM)."""
    stub = state.stubs.match(request.method, request.path)
    if stub is None:
        return None
    request[STUBBED] = stub.id
    spec = stub.spec
    if spec.proxy:
        request[TO_UPSTREAM] = True
        return None
    headers: CIMultiDict[str] = CIMultiDict(spec.headers)
    if spec.body is not None and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    return web.Response(status=spec.status, body=spec.body, headers=headers)


async def upstream_answer(request: web.Request) -> web.Response:
    """The request forwarded to `serve --upstream` and its answer, unchanged (journaled as
    every request is, its entry's `fault` saying `upstream`); no upstream: 503."""
    upstream = request.app.get(PASS_THROUGH)
    if upstream is None:
        raise SERVICE_UNAVAILABLE.error("a proxy stub needs serve --upstream URL")
    from cadenza_mock.http.proxy import SESSION, forward

    request[TO_UPSTREAM] = True
    response, _ = await forward(request, request.app[SESSION], upstream)
    return response


def stub_note(request: web.Request, note: str | None) -> str | None:
    """The journal's `fault` of a request a stub answered (`stub-1:stub`) or the upstream
    did (`upstream`), after a fault's own note."""
    if STUBBED in request:
        note = ", ".join(filter(None, (note, f"{request[STUBBED]}:stub")))
    if TO_UPSTREAM in request:
        note = ", ".join(filter(None, (note, "upstream")))
    return note

"""The answer of a test's stub (engine/stubs.py), which the envelope middleware sends in
place of the route's handler; apart from http/stubs_api.py, which needs the middleware."""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from cadenza_mock.engine.state import MockState
from cadenza_mock.http.keys import STUBBED


def stub_response(request: web.Request, state: MockState) -> web.Response | None:
    """The answer of the newest armed stub matching this request; None: none matches."""
    stub = state.stubs.match(request.method, request.path)
    if stub is None:
        return None
    request[STUBBED] = stub.id
    spec = stub.spec
    headers: CIMultiDict[str] = CIMultiDict(spec.headers)
    if spec.body is not None and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    return web.Response(status=spec.status, body=spec.body, headers=headers)

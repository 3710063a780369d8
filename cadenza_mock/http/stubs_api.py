"""Operations Cadenza documents that the mock does not emulate (501 in the envelope), and
the admin API of ad-hoc stubs, `/__admin/stubs` (the answer itself: http/stub_answer.py).

A stub answers in place of the route's handler: after the browser guard, the namespace
and any armed fault (a delay or an injected error still acts first), before the handler,
so before the bearer token is checked (the stub is the whole answer). It is journaled
like any request, its journal entry's `fault` naming it (`stub-1:stub`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cadenza_mock.contract.errors import (
    INVALID_STUB,
    NOT_EMULATED,
    STUB_NOT_FOUND,
    TOO_MANY_STUBS,
)
from cadenza_mock.contract.operations import OPERATIONS
from cadenza_mock.contract.schemas import load_json
from cadenza_mock.engine.stubs import StubLimitError, parse_stub
from cadenza_mock.http.admin import admin
from cadenza_mock.http.api import caller
from cadenza_mock.http.keys import state_of
from cadenza_mock.http.middleware import JSON, ok, read_body
from cadenza_mock.http.stub_answer import PASS_THROUGH, upstream_answer

_NOT_EMULATED = {(op.method, op.path): op for op in OPERATIONS if not op.emulated}


async def not_emulated(request: web.Request) -> web.Response:
    """Every documented operation the mock does not emulate: the bearer is checked as
    the real API would, then 501 naming the operation; with `serve --upstream`, the
    upstream's answer instead (its own bearer check)."""
    if PASS_THROUGH in request.app:
        return await upstream_answer(request)
    caller(request, state_of(request).store)
    method = "GET" if request.method == "HEAD" else request.method
    op = _NOT_EMULATED[(method, request.path)]
    raise NOT_EMULATED.error(f"{op.operation_id} ({op.method} {op.path})")


@admin
async def post_stub(request: web.Request) -> web.Response:
    """Arm one stub from a JSON body `{method, path, status?, json?, headers?, times?}`;
    answer it as listed. A bad one is a 400 naming the key, and changes nothing."""
    state = state_of(request)
    if request.content_type != JSON and not request.content_type.endswith("+json"):
        raise INVALID_STUB.error("a stub is sent as JSON (Content-Type: application/json)")
    raw = await read_body(request, fenced=False)
    body: Any = load_json(raw) if raw.strip() else None
    try:
        spec = parse_stub(body, "stub")
        stub = state.stubs.add(spec)
    except StubLimitError as exc:
        raise TOO_MANY_STUBS.error(str(exc), headers={"Retry-After": "1"}) from None
    except (TypeError, ValueError) as exc:
        raise INVALID_STUB.error(str(exc)) from None
    return ok(stub.to_json())


@admin
async def get_stubs(request: web.Request) -> web.Response:
    """Every stub, armed or used up, in the order they were added, with their counters."""
    return ok([stub.to_json() for stub in state_of(request).stubs.list()])


@admin
async def delete_stubs(request: web.Request) -> web.Response:
    return ok({"cleared": state_of(request).stubs.clear()})


@admin
async def delete_stub(request: web.Request) -> web.Response:
    stubs = state_of(request).stubs
    stub_id = request.match_info["stubId"]
    if not stubs.remove(stub_id):
        held = ", ".join(stubs.ids()) or "none"
        raise STUB_NOT_FOUND.error(message=f"No stub {stub_id[:80]!a} (stubs: {held})")
    return ok({"cleared": 1, "id": stub_id})

"""The one middleware that turns every failure into the Cadenza envelope and journals calls.

`make_app()` puts it in front of every route handler itself (`enveloped()`), rather than
in aiohttp's middleware chain: the chain adds two coroutine layers to every request (ours
and aiohttp's current-app fixer), which cost an eighth of the throughput on a small
cached list. Requests no route matches reach `no_route()`, also enveloped, so 404 and 405
come out of this module like every other error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import (
    BAD_REQUEST,
    BODY_TOO_LARGE,
    INVALID_ARGUMENT,
    UNKNOWN_ERROR,
    ApiError,
    method_not_allowed,
    page_not_found,
    unknown_error,
)
from cadenza_mock.contract.operations import ADMIN_PREFIX, OPERATIONS
from cadenza_mock.contract.schemas import load_json, load_json_again
from cadenza_mock.engine.auth import bearer_token
from cadenza_mock.engine.faults import Decision
from cadenza_mock.engine.hints import HINT_HEADER, MAX_HINT_HEADER, hints
from cadenza_mock.engine.journal import kept_answer, redact_body
from cadenza_mock.engine.namespaces import Namespaces
from cadenza_mock.engine.state import MockState
from cadenza_mock.engine.store import Store
from cadenza_mock.http.fault_acts import (
    body_of,
    connected,
    drop,
    request_view,
    sleep_while_connected,
    trickle,
    truncated,
    user_of,
)
from cadenza_mock.http.guard import check_admin_body, is_preflight, preflight
from cadenza_mock.http.keys import (
    BODY_TIMEOUT,
    FAULT_ACTION,
    GENERATION,
    GUARD,
    HANDLER_ERROR_HOOK,
    HINTS,
    HINTS_GIVEN,
    NAMESPACE_HEADER,
    NAMESPACES,
    REQUEST_STATE,
    STATE,
    STUBBED,
    URL_NAMESPACE,
    USER_ID,
    VENUE_OUTCOME,
    state_of,
)
from cadenza_mock.http.stub_answer import TO_UPSTREAM, stub_note, stub_response, upstream_answer

log = logging.getLogger("cadenza_mock")

ADMIN_PATHS = ADMIN_PREFIX + "/"  # every admin path starts so; "/__administrator" not


JSON = "application/json"


_JSON_HEADERS = CIMultiDict({"Content-Type": JSON})


def json_response(body: bytes) -> web.Response:
    """A 200 carrying prebuilt JSON bytes (the list cache, the OpenAPI document)."""
    # Prebuilt headers: cheaper than content_type=, which parses the value every time.
    return web.Response(body=body, headers=_JSON_HEADERS)


def ok(data: Any) -> web.Response:
    """The success envelope around `data`; error envelopes come only from this module."""
    return json_response(wire.success_body(data))


def error_response(err: ApiError, store: Store) -> web.Response:
    # The sdk profile's `details.request_id`, so a client's error report can be matched
    # with the mock's journal and log; the docs profile's envelope has no place for it.
    profile = store.profile
    request_id = store.next_request_id() if profile == "sdk" else None
    return web.Response(
        status=err.status,
        body=wire.error_body(err, profile, request_id),
        content_type=JSON,
        headers=err.headers,
    )


def _from_http_exception(exc: web.HTTPException) -> ApiError:
    """aiohttp's own errors raised inside a handler (e.g. 413 from reading a huge body).

    Routing errors never get here: `no_route` answers 404 and 405 itself.
    """
    if exc.status == 413:
        return BODY_TOO_LARGE.error(message=exc.reason)
    return (UNKNOWN_ERROR if exc.status >= 500 else BAD_REQUEST).error(message=exc.reason)


class Stale(Exception):
    """The mock was reset or reloaded while this request was in flight: it must leave no
    trace in the state the next test sees, so it is dropped unanswered."""


class ClientGone(Exception):
    """The client closed the connection before its request was complete or answered."""


async def read_body(request: web.Request, *, fenced: bool = True) -> bytes:
    """The whole body, within the body deadline; then (`fenced`) the in-flight fence.

    API handlers call this before they look at any state, so a reset or load that happens
    while the body is on its way can never receive a request of the test before it. The
    admin API is not fenced: it is what resets.
    """
    try:  # a body all here (most are) needs no deadline, whose timer costs every request
        async with asyncio.timeout(None if request.content.is_eof() else request.app[BODY_TIMEOUT]):
            raw = await request.read()
    except TimeoutError:
        # The rest may still come: not on this socket.
        raise BAD_REQUEST.error(
            "the body did not arrive in time", headers={"Connection": "close"}
        ) from None
    except ConnectionError:
        raise ClientGone from None
    except (HttpProcessingError, web.RequestPayloadError):  # e.g. an undecodable gzip body
        raise BAD_REQUEST.error(
            "the body could not be read (check its Content-Encoding)",
            headers={"Connection": "close"},
        ) from None
    if fenced and state_of(request).generation != request[GENERATION]:
        raise Stale
    return raw


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    started = time.perf_counter()
    admin = request.path.startswith(ADMIN_PATHS)
    # Web pages the developer visits must not drive the mock: refused before anything acts.
    try:
        cors = request.app[GUARD].check(request)
        if cors is not None and is_preflight(request):
            return preflight(request, cors)
        if admin and handler is not no_route:  # an unknown path stays a 404, not a 415
            check_admin_body(request)
    except ApiError as err:
        return error_response(err, state.store)
    spaces = request.app.get(NAMESPACES)
    if spaces is not None and not admin:
        try:
            namespaced = _namespace_state(request, spaces)
            if namespaced is None and request.path == REFRESH_PATH and request.body_exists:
                namespaced = await _refresh_owner(request, spaces)  # the only await: rare
        except ApiError as err:  # an unknown namespace: nothing of any state is touched
            return _with_cors(error_response(err, state.store), cors)
        except web.HTTPException as exc:  # a refresh body over the size limit
            return _with_cors(error_response(_from_http_exception(exc), state.store), cors)
        except ClientGone:
            return drop(request)
        if namespaced is not None:
            state = namespaced
    if admin or not state.journal.limit:
        return await _answer(request, handler, state, admin, cors, started, None)
    # Its place in the journal is taken now: the order requests arrived, whenever they end.
    ticket = state.journal.arrive()
    try:
        return await _answer(request, handler, state, admin, cors, started, ticket)
    finally:
        state.journal.leave(ticket)  # nothing once recorded; a fenced request's place goes


async def _answer(
    request: web.Request,
    handler: Handler,
    state: MockState,
    admin: bool,
    cors: Mapping[str, str] | None,
    started: float,
    ticket: tuple[int, int] | None,
) -> web.StreamResponse:
    """The answer of one request past the guard, faulted, enveloped and journaled."""
    generation = request[GENERATION] = state.generation
    response: web.StreamResponse | None = None
    decision: Decision | None = None
    gone = False
    # Faults are evaluated here, not in a second middleware: with none armed this costs
    # one attribute read. The admin API is never faulted, so a test can always disarm.
    if state.faults.armed and not admin:
        try:
            decision, response, gone = await _faulted(request, state, generation)
        except Stale:
            return drop(request)
    if response is None:
        try:
            # A test's stub answers before the emulation (http/stubs_api.py).
            stubbed = stub_response(request, state) if state.stubs.armed and not admin else None
            if stubbed is None and TO_UPSTREAM in request:  # a `proxy` stub
                stubbed = await upstream_answer(request)
            response = stubbed if stubbed is not None else await handler(request)
        except ApiError as err:
            response = error_response(err, state.store)
        except web.HTTPException as exc:
            if exc.status < 400:  # redirects and the like pass through untouched
                raise
            response = error_response(_from_http_exception(exc), state.store)
        except Stale:
            return drop(request)
        except ClientGone:
            gone = True
            response = drop(request)
        except Exception as exc:
            # Went away while we answered: normal, not a crash.
            gone = isinstance(exc, ConnectionError) and not connected(request)
            response = drop(request) if gone else _crashed(request, state, exc)
        if decision is not None and decision.cut_answer:
            response = truncated(response)
        elif decision is not None and decision.chunks:
            response = await trickle(request, response, decision)
    if cors is not None:
        _with_cors(response, cors)
    if admin:  # admin calls are never journaled or hinted
        return response
    journaled = state.journal.limit and state.generation == generation  # else a reset came
    # Hints need a query or a body to look at: the bare list call skips all of this.
    has_body = request.body_exists
    hinted = bool(has_body or request.query_string) and request.app[HINTS]
    if not (journaled or hinted):
        return response
    try:
        journal_body = await _journal_body(request) if has_body else None
        found = _hints(request, response, state, journal_body) if hinted else ()
        if journaled:
            _after(request, response, state, decision, gone, started, journal_body, found, ticket)
    except Exception:
        # The answer stands whatever goes wrong in bookkeeping: never turn it into an error.
        log.error("could not journal %s %s", request.method, request.path, exc_info=False)
    return response


# Its body names a refresh token, which names the namespace that issued it.
REFRESH_PATH = next(op.path for op in OPERATIONS if op.operation_id == "refreshToken")


def named_namespace(request: web.Request) -> MockState | None:
    """The state of the namespace a request names (its `/__ns/<name>` base URL, the admin
    path prefix, else the header);
    None if it names none. ApiError 404 for a name no namespace has (any more)."""
    spaces = request.app.get(NAMESPACES)
    given = (
        request.get(URL_NAMESPACE),
        request.match_info.get("namespace"),
        request.headers.get(NAMESPACE_HEADER),
    )
    if spaces is None or given == (None, None, None):  # what nearly every request is
        return None
    named = {name.strip() for name in given if name and name.strip()}  # "" names none
    if not named:
        return None
    if len(named) > 1:
        raise INVALID_ARGUMENT.error(
            f"namespace: the URL and the {NAMESPACE_HEADER} header name different "
            f"namespaces ({', '.join(sorted(repr(n[:60]) for n in named))}); name one"
        )
    state = request[REQUEST_STATE] = spaces.state_named(named.pop())
    return state


def _namespace_state(request: web.Request, spaces: Namespaces) -> MockState | None:
    """The namespace an API request's header names, else the one its bearer token belongs
    to; None: the server's own (as far as the request line and headers tell). ApiError 404
    for a namespace named but unknown. No await: this is on every request's path. (Admin
    calls name theirs after the admin token was checked: `named_namespace`.)"""
    found = named_namespace(request)
    if found is not None or not len(spaces):
        return found
    token = bearer_token(request.headers.get("Authorization"))
    found = spaces.for_token(token) if token is not None else None
    if found is not None:
        request[REQUEST_STATE] = found
    return found


async def _refresh_owner(request: web.Request, spaces: Namespaces) -> MockState | None:
    """The namespace that issued the refresh token a refresh body holds (None: none)."""
    if not len(spaces):
        return None
    raw = await read_body(request, fenced=False)  # a late or broken body: its own 400
    try:
        body = load_json(raw)
    except ApiError:
        return None  # the handler explains what is wrong with it
    refresh_token = body.get("refreshToken") if isinstance(body, dict) else None
    found = spaces.for_refresh_token(refresh_token) if isinstance(refresh_token, str) else None
    if found is not None:
        request[REQUEST_STATE] = found
    return found


# Hints of body-less requests by (profile, method, path, query string): a filtered list
# polled in a loop costs a dict lookup, not a parse and a vocabulary walk (about 5 us).
_query_hints: dict[tuple[str, str, str, str], tuple[str, ...]] = {}
_QUERY_HINTS_LIMIT = 4096


def _hints(
    request: web.Request, response: web.StreamResponse, state: MockState, body: Any
) -> tuple[str, ...]:
    """Near-miss hints of one request (computed once): kept for the access log line and
    sent in the X-Cadenza-Mock-Hint header (the journal gets them from the caller)."""
    if body is None:  # the answer depends on the query string alone: remembered
        key = (state.store.profile, request.method, request.path, request.query_string)
        found = _query_hints.get(key)
        if found is None:
            found = hints(*key[:3], request.query.items(), None)
            if len(_query_hints) >= _QUERY_HINTS_LIMIT:
                _query_hints.clear()
            _query_hints[key] = found
    else:
        found = hints(
            state.store.profile, request.method, request.path, request.query.items(), body
        )
    if found:
        request[HINTS_GIVEN] = found
        if not response.prepared:  # a trickled (slow_body) answer has sent its headers
            response.headers[HINT_HEADER] = hint_header(found)
    return found


def remembered_hints(profile: str, path: str, query_string: str) -> tuple[str, ...] | None:
    """The hints a body-less GET of `path?query_string` got before; None if never asked."""
    return _query_hints.get((profile, "GET", path, query_string))


def hint_header(found: tuple[str, ...]) -> str:
    """The hints as one header value: "; "-joined, ASCII, at most MAX_HINT_HEADER long."""
    text = "; ".join(found).encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if " " <= c <= "~" else " " for c in text)
    if len(text) > MAX_HINT_HEADER:
        text = text[: MAX_HINT_HEADER - 3] + "..."
    return text


async def _faulted(
    request: web.Request, state: MockState, generation: int
) -> tuple[Decision | None, web.StreamResponse | None, bool]:
    """What the armed faults do to this request: (their decision, an answer that replaces
    the handler's or None, whether the client left during a delay). Stale if a reset came
    during the delay."""
    decision = state.faults.decide(
        request_view(request), state.clock.now_ms(), lambda: user_of(request, state)
    )
    if decision is None:
        return None, None, False
    if decision.action is not None:
        request[FAULT_ACTION] = decision.action  # the observer (tests) reads it
    if decision.venue_outcome is not None:
        request[VENUE_OUTCOME] = decision.venue_outcome
    gone = False
    if decision.delay:
        await sleep_while_connected(request, decision.delay, state, generation)
        if state.generation != generation:
            raise Stale
        # A client that gave up during the delay gets nothing done on its behalf.
        gone = not connected(request)
    if gone or decision.dropped:
        return decision, drop(request), gone
    if decision.error is not None:
        return decision, error_response(decision.error, state.store), False
    return decision, None, False


def _crashed(request: web.Request, state: MockState, exc: Exception) -> web.Response:
    """A bug in the mock: logged, reported to MockServer (it fails the test), a 500."""
    log.exception("unexpected error answering %s %s", request.method, request.path)
    hook = request.app.get(HANDLER_ERROR_HOOK)
    if hook is not None:
        hook(f"{request.method} {request.path}", exc)
    return error_response(unknown_error(), state.store)


def _after(
    request: web.Request,
    response: web.StreamResponse,
    state: MockState,
    decision: Decision | None,
    gone: bool,
    started: float,
    body: Any,
    found: tuple[str, ...] = (),
    ticket: tuple[int, int] | None = None,
) -> None:
    """Journal the answered request (with its near-miss hints) in its arrival place."""
    dropped = gone or (decision is not None and decision.dropped)
    note = "client gone" if gone else decision.note if decision is not None else None
    if STUBBED in request or TO_UPSTREAM in request:  # "<stub id>:stub", "upstream"
        note = stub_note(request, note)
    state.journal.record(
        (
            state.clock.now_ms(),
            request.method,
            request.path,
            request.query_string,
            request.raw_headers,
            body,
            0 if dropped else response.status,
            (time.perf_counter() - started) * 1000,
            request.get(USER_ID),
            note,
            found,
            None if dropped else kept_answer(body_of(response)),
        ),
        ticket,
    )


def _with_cors(response: web.StreamResponse, cors: Mapping[str, str] | None) -> web.StreamResponse:
    """The answer to an allowed web page, readable by it (nothing once headers are sent)."""
    if cors is not None and not response.prepared:
        response.headers.update(cors)
    return response


def guarded(handler: Handler, refused: str) -> Handler:
    """A route outside the envelope (the WebSocket upgrade) behind the guard's checks, with
    aiohttp's own refusals (a plain GET where an upgrade belongs) in the envelope, saying
    `refused`."""

    async def guarded_handler(request: web.Request) -> web.StreamResponse:
        try:
            request.app[GUARD].check(request)  # a WebSocket needs no CORS headers
            return await handler(request)
        except ApiError as err:
            return error_response(err, state_of(request).store)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return error_response(BAD_REQUEST.error(refused), state_of(request).store)

    return guarded_handler


def enveloped(handler: Handler) -> Handler:
    """`handler` behind the envelope middleware, with no extra coroutine layer."""
    return partial(envelope_middleware, handler=handler)


async def expect_handler(request: web.Request) -> web.StreamResponse | None:
    """`Expect: 100-continue` as aiohttp answers it; any other expectation is a 400 in the
    envelope (aiohttp's own answer is a plain-text 417)."""
    if request.headers.get("Expect", "").strip().lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the answer itself has not started yet
        return None
    err = BAD_REQUEST.error("only Expect: 100-continue is supported")
    return error_response(err, state_of(request).store)


async def no_route(request: web.Request) -> web.StreamResponse:
    """The catch-all route: 405 if another route has this path, else 404."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource.canonical == CATCH_ALL:
            continue
        match, methods = await resource.resolve(request)
        if match is None:
            allowed |= methods
    if allowed:
        raise method_not_allowed(request.method, request.path, allowed)
    raise page_not_found(request.path)


CATCH_ALL = "/{tail:.*}"


async def _journal_body(request: web.Request) -> Any:
    """The request body as the journal keeps it: parsed JSON with secrets redacted."""
    try:
        async with asyncio.timeout(None if request.content.is_eof() else request.app[BODY_TIMEOUT]):
            raw = await request.read()  # what the handler read, or the unread body now
    except web.HTTPException as exc:  # e.g. over the size limit: the handler never read it
        return f"<body not read: {exc.reason}>"
    except (ConnectionError, TimeoutError, HttpProcessingError, web.RequestPayloadError):
        return "<body not received>"
    try:
        return redact_body(load_json_again(raw))  # the handler parsed it: not again
    except ApiError:
        # Unparsed bytes could hold a secret; keep only their size.
        return f"<non-JSON body, {len(raw)} bytes>"

"""The remembered-list fast path: a repeated list call answered below aiohttp's request
machinery, from bytes the store already holds.

The hot request of load tests and polling clients is a repeated, body-less
`GET /api/v3/credential/list` (of the server's own state or of a namespace: its base URL,
its header, its tokens) whose answer the store remembers (same Authorization, same
query), on an idle keep-alive connection, with no fault armed. Anything else (another path
or method, a header that changes how the request is read, a body, pipelining, a partial
chunk, an uncached answer) goes through aiohttp as before; the answer is the same bytes
either way, journaled, logged and reported to the response observer alike.

It reads and writes a dozen private attributes of aiohttp's `RequestHandler`. `fence()`
checks, when a server starts, that this aiohttp has them and still uses them the way the
fast path assumes; where not, the server logs one line and serves everything through
aiohttp. docs/contributing/fast-path.md tells the whole story.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sized
from typing import Any, NamedTuple

import aiohttp
from aiohttp import abc, helpers, web
from aiohttp import http as aiohttp_http
from aiohttp.web_protocol import RequestHandler
from yarl import URL

from cadenza_mock.engine.auth import bearer_token
from cadenza_mock.engine.journal import kept_answer, redact_query_string
from cadenza_mock.engine.namespaces import DEFAULT_NAMESPACE, NAME_PATTERN, Namespace
from cadenza_mock.engine.state import MockState
from cadenza_mock.engine.store import Store
from cadenza_mock.http.access_log import add_line
from cadenza_mock.http.guard import BrowserGuard
from cadenza_mock.http.keys import GUARD, HINTS, NAMESPACES, STATE, STOPPING, URL_NAMESPACE_PREFIX
from cadenza_mock.http.market_api import KEPT_PATHS
from cadenza_mock.http.middleware import JSON, remembered_hints
from cadenza_mock.http.observer import ATTACHED, ObservedResponse, ResponseObserver
from cadenza_mock.http.trading_api import ORDER_LIST_PATH, PORTFOLIO_LIST_PATH

_LIST_PATH = "/api/v3/credential/list"
_LIST_PATH_BYTES = _LIST_PATH.encode()
_NS_PREFIX = URL_NAMESPACE_PREFIX.encode()
# The paths it answers: the list, the market reads whose answers are kept
# (engine/market_answers.py) and the order and portfolio lists (engine/trading_answers.py),
# by their bytes.
_TRADING_PATHS = (ORDER_LIST_PATH, PORTFOLIO_LIST_PATH)
_PATHS = {path.encode(): path for path in (_LIST_PATH, *KEPT_PATHS, *_TRADING_PATHS)}
# The first bytes of a request the fast path may answer (a cheap first look).
PREFIXES = (
    b"GET " + _LIST_PATH_BYTES,
    b"GET " + _NS_PREFIX,
    *(b"GET " + path.encode() for path in sorted(KEPT_PATHS)),
    *(b"GET " + path.encode() for path in _TRADING_PATHS),
)
_NAMESPACE_HEADER = b"x-cadenza-mock-namespace"
# Headers after which the request is not a plain body-less GET: aiohttp reads those.
# A web page's request (Origin, Sec-Fetch-Site): the guard's to judge (http/guard.py).
_NOT_PLAIN = frozenset(
    (
        b"content-length",
        b"transfer-encoding",
        b"expect",
        b"upgrade",
        b"origin",
        b"sec-fetch-site",
    )
)
# Headers aiohttp refuses to see twice (RFC 9110 singletons): a duplicate is its to refuse.
_SINGLETONS = frozenset(
    (
        b"content-location",
        b"content-range",
        b"content-type",
        b"etag",
        b"host",
        b"max-forwards",
        b"server",
        b"user-agent",
    )
)
# What the fast path answers is a strict subset of what aiohttp accepts: a header name of
# token characters (RFC 9110), a target of plain URL characters (no percent escapes), and
# far fewer header lines than aiohttp's limit of 128.
_TOKEN = re.compile(rb"[0-9A-Za-z!#$&'*+\-.^_`|~]+")
_PLAIN_TARGET = re.compile(rb"[0-9A-Za-z\-._~!$&'()*+,;=:@/?]+")
# A market read's query may hold well-formed percent escapes (clients escape `:` and `/`
# of an instrument id): kept answers are found by the raw query, and the journal gets
# the query aiohttp would decode from it.
_ESCAPED_TARGET = re.compile(rb"(?:[0-9A-Za-z\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})+")
_MAX_HEADER_LINES = 64
_KNOWN_LIMIT = 256
# `Connection: keep-alive` (what requests sends) is HTTP/1.1's default; any other value
# (close, upgrade) is aiohttp's to act on.
_ODD_BYTES = re.compile(rb"[^\t\x20-\x7e]")  # control bytes, non-ASCII: aiohttp's to judge
_MAX_PLAIN = 8000  # bytes; aiohttp's own limits (8190 per line, 128 headers) never bind
_UNSEEN: Any = object()  # request bytes never judged yet


def ends_plain(data: bytes) -> bool:
    """Whether a chunk leaves aiohttp's parser between requests: it ends a request's
    headers, and no request in it has a body or switches protocols."""
    if not data.endswith(b"\r\n\r\n"):
        return False
    lowered = data.lower()
    return not any(
        word in lowered for word in (b"content-length", b"transfer-encoding", b"upgrade")
    )


class PlainCall(NamedTuple):
    """A whole request that is a plain body-less list call the fast path may answer."""

    authorization: str | None
    query_string: str
    raw_headers: tuple[tuple[bytes, bytes], ...]
    url_namespace: str | None  # `/__ns/<name>/...`
    header_namespace: str | None  # X-Cadenza-Mock-Namespace
    path: str = _LIST_PATH  # the list, or a kept market read (without `/__ns/<name>`)
    raw_query: str = ""  # as sent: a kept market answer's key (query_string: decoded)


def plain_list_call(data: bytes, guard: BrowserGuard) -> PlainCall | None:
    """The list (or kept market read) call `data` holds; None for anything aiohttp must
    judge."""
    lines = data[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[2] != b"HTTP/1.1" or len(lines) > _MAX_HEADER_LINES:
        return None
    escaped = not _PLAIN_TARGET.fullmatch(parts[1])
    if escaped and not _ESCAPED_TARGET.fullmatch(parts[1]):
        return None
    path, _, query = parts[1].partition(b"?")
    target = namespace_target(path)
    if target is None:
        return None
    url_namespace, path = target
    known_path = _PATHS.get(path)
    if known_path is None or (escaped and (known_path == _LIST_PATH or b"%" in path)):
        return None
    headers = plain_headers(lines[1:], guard, _NOT_PLAIN)
    if headers is None:
        return None
    raw_query = query.decode()
    if known_path != _LIST_PATH:
        # The query string as aiohttp's parser gives it (http_parser.py: URL.build).
        query_string = URL.build(query_string=raw_query, encoded=True).query_string
    else:
        query_string = raw_query
    return PlainCall(
        headers.authorization,
        query_string,
        headers.raw_headers,
        url_namespace,
        headers.header_namespace,
        known_path,
        raw_query,
    )


def idle_transport(conn: RequestHandler) -> asyncio.Transport | None:
    """The connection's transport while it waits for its next request with nothing queued
    and its client reading; None otherwise (then only aiohttp may answer)."""
    waiter = conn._waiter
    if (
        waiter is None  # a request is in progress (or the connection is closing)
        or waiter.done()
        or conn._messages
        or conn._paused  # the client reads slowly: aiohttp waits for the drain
    ):
        return None
    transport: asyncio.Transport | None = conn.transport
    return transport


def namespace_target(path: bytes) -> tuple[str | None, bytes] | None:
    """(namespace, path) of a target under `/__ns/<name>/` as the runner's request factory
    reads it, (None, path) of any other; None for a malformed name (aiohttp's to answer)."""
    if not path.startswith(_NS_PREFIX):
        return None, path
    name, slash, rest = path[len(_NS_PREFIX) :].partition(b"/")
    if not slash or not NAME_PATTERN.fullmatch(name.decode("ascii", "replace")):
        return None
    return name.decode(), b"/" + rest


class PlainHeaders(NamedTuple):
    """What the fast paths read of a request's headers."""

    authorization: str | None
    header_namespace: str | None  # X-Cadenza-Mock-Namespace
    raw_headers: tuple[tuple[bytes, bytes], ...]  # as the journal keeps them
    length: int  # Content-Length; -1 without one


# Headers that decide whose call it is: aiohttp's to judge when sent twice.
_ONCE = frozenset((b"authorization", _NAMESPACE_HEADER, b"content-length"))


def plain_headers(
    lines: list[bytes], guard: BrowserGuard, refused: frozenset[bytes]
) -> PlainHeaders | None:
    """The header lines of a request a fast path may answer; None where aiohttp must read
    them (a name in `refused`, a duplicate it refuses, odd bytes, `Connection` other than
    keep-alive, a Host the guard refuses: its 403 comes from the ordinary path)."""
    raw_headers = []
    authorization = header_namespace = None
    length = -1
    seen: set[bytes] = set()
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name) or _ODD_BYTES.search(line):
            return None
        lowered = name.lower()
        if lowered in refused:
            return None
        if lowered in seen and (lowered in _SINGLETONS or lowered in _ONCE):
            return None
        seen.add(lowered)
        value = value.strip(b" \t")
        if lowered == b"connection" and value.lower() != b"keep-alive":
            return None
        if lowered == b"host" and not guard.host_allowed(value.decode()):
            return None
        if lowered == b"content-length":
            if not value.isdigit() or len(value) > 5:
                return None
            length = int(value)
        elif lowered == b"authorization":
            authorization = value.decode()
        elif lowered == _NAMESPACE_HEADER:
            header_namespace = value.decode().strip() or None  # "" names none
        raw_headers.append((name, value))
    return PlainHeaders(authorization, header_namespace, tuple(raw_headers), length)


# ----------------------------------------------------------------------------- the fence

# What the fast path reads or writes of a connection beyond aiohttp's public API. Each is
# a slot (or method) of `RequestHandler` or its `BaseProtocol` in the releases that have it.
_HANDLER_NEEDS = (
    "_waiter",  # pending while the connection waits for its next request
    "_messages",  # parsed requests waiting for the handler
    "_paused",  # the client reads slowly
    "transport",
    "_request_count",
    "_manager",  # the web.Server (requests_count)
    "_keepalive_timeout",
    "_next_keepalive_close_time",  # the keep-alive clock restarted after an answer
    "_keepalive_handle",
    "_process_keepalive",
    "_loop",
    "access_logger",
)
# aiohttp's own code must still use those names as the fast path assumes: it waits on
# `_waiter` and counts requests in `data_received`, and runs the keep-alive clock from
# `_next_keepalive_close_time` and `_keepalive_handle`.
_USED_BY = {
    "start": ("_waiter", "_messages", "_next_keepalive_close_time", "_keepalive_handle"),
    "data_received": ("_request_count", "_messages", "_waiter"),
    "_process_keepalive": ("_next_keepalive_close_time", "_keepalive_handle"),
}
# The values a fresh connection holds (None: any).
_FRESH: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("_waiter", lambda v: v is None or isinstance(v, asyncio.Future)),
    ("_messages", lambda v: isinstance(v, Sized)),
    ("_paused", lambda v: isinstance(v, bool)),
    ("_request_count", lambda v: type(v) is int),
    ("_keepalive_timeout", lambda v: isinstance(v, int | float)),
    ("_next_keepalive_close_time", lambda v: isinstance(v, int | float)),
    ("_keepalive_handle", lambda v: v is None),
    ("_process_keepalive", callable),
    ("_loop", lambda v: isinstance(v, asyncio.AbstractEventLoop)),
)


def fence(server: web.Server, handler: type[RequestHandler] = RequestHandler) -> str | None:
    """Why this aiohttp cannot carry the fast path (what it lacks, or uses otherwise);
    None if it can. `server`: the aiohttp server whose connections would carry it."""
    version = getattr(aiohttp, "__version__", "?")
    missing = [name for name in _HANDLER_NEEDS if not hasattr(handler, name)]
    if missing:
        return f"aiohttp {version}'s RequestHandler has no {', '.join(missing)}"
    for method, names in _USED_BY.items():
        code = getattr(getattr(handler, method, None), "__code__", None)
        unused = [n for n in names if code is None or n not in code.co_names]
        if unused:
            return f"aiohttp {version}'s RequestHandler.{method} does not use {', '.join(unused)}"
    if not callable(getattr(helpers, "rfc822_formatted_time", None)):
        return f"aiohttp {version} has no helpers.rfc822_formatted_time"
    if not isinstance(getattr(aiohttp_http, "SERVER_SOFTWARE", None), str):
        return f"aiohttp {version} has no http.SERVER_SOFTWARE"
    if not isinstance(getattr(abc.AbstractAccessLogger, "enabled", None), property):
        return f"aiohttp {version}'s AbstractAccessLogger has no enabled"
    if type(getattr(server, "requests_count", None)) is not int:
        return f"aiohttp {version}'s web.Server has no requests_count"
    try:
        fresh = handler(server, loop=asyncio.get_running_loop())
    except Exception as exc:  # a constructor that changed its signature
        return f"aiohttp {version}'s RequestHandler cannot be probed ({type(exc).__name__})"
    wrong = [name for name, fits in _FRESH if not fits(getattr(fresh, name, None))]
    if wrong:
        return f"aiohttp {version}'s RequestHandler holds other kinds of {', '.join(wrong)}"
    return None


# ------------------------------------------------------------------------- the answers


class FastPath:
    """The fast path of one server: its verdicts on request bytes, its count, and the
    observer it reports to (the one `make_app` attached, if any)."""

    def __init__(self, app: web.Application, observer: ResponseObserver | None) -> None:
        self._default: MockState = app[STATE]
        self._spaces = app.get(NAMESPACES)
        self._guard = app[GUARD]
        self._hints = app[HINTS]
        self._stopping = app[STOPPING]
        self._observer = observer
        self._date = helpers.rfc822_formatted_time
        self._software = aiohttp_http.SERVER_SOFTWARE
        self.answers = 0  # list calls answered from remembered bytes (tests read it)
        self.frame_answers = 0  # WebSocket queries answered below aiohttp (http/ws_fast.py)
        # Request bytes -> the verdict on them (bounded: _KNOWN_LIMIT).
        self._known: dict[bytes, PlainCall | None] = {}

    @staticmethod
    def for_app(app: web.Application) -> FastPath | None:
        """The app's fast path; None when a response hook other than the observer's is
        installed (only aiohttp's path runs hooks)."""
        attached = app.get(ATTACHED)
        hooks = list(app.on_response_prepare)
        if attached is not None and hooks == [attached.hook]:
            return FastPath(app, attached.observer)
        return None if hooks else FastPath(app, None)

    def _state_of(self, call: PlainCall) -> tuple[MockState, Namespace | None] | None:
        """The state the call is for, as the middleware resolves it (and its namespace);
        None where the ordinary path must answer (a 400, a 404, an idle namespace)."""
        spaces = self._spaces
        name = call.url_namespace or call.header_namespace
        if name is not None:
            if call.header_namespace not in (None, name):
                return None  # two names: the middleware's 400
            if name == DEFAULT_NAMESPACE:
                return self._default, None
            space = spaces.named(name) if spaces is not None else None
        elif spaces is None or not len(spaces):
            return self._default, None
        else:
            token = bearer_token(call.authorization)
            space = spaces.owner_of(token) if token is not None else None
            if space is None:
                return self._default, None
        if spaces is None or not spaces.live(space):
            return None
        assert space is not None
        return space.state, space

    def answer(self, conn: RequestHandler, data: bytes) -> bool:
        """Answer a plain repeated list call from the store's remembered bytes, journaled,
        logged and observed as the ordinary path would; False (nothing done) otherwise."""
        transport = idle_transport(conn)
        if transport is None or len(data) > _MAX_PLAIN or data.find(b"\r\n\r\n") != len(data) - 4:
            return False
        # A polling client sends the same bytes each time: their verdict is remembered.
        known = self._known
        call = known.get(data, _UNSEEN)
        if call is _UNSEEN:
            call = plain_list_call(data, self._guard)
            if len(known) >= _KNOWN_LIMIT:
                known.clear()
            known[data] = call
        if call is None:
            return False
        authorization, query_string, raw_headers, url_namespace, header_namespace, path, raw = call
        spaces = self._spaces
        if url_namespace is None and header_namespace is None and not spaces:
            state, space = self._default, None  # what nearly every call is: one lookup less
        else:
            found = self._state_of(call)
            if found is None:
                return False
            state, space = found
        store = state.store
        if state.faults.armed or state.stubs.armed or self._stopping.is_set():
            return False  # (before an order list's catch-up: the ordinary path may not run it)
        if path == _LIST_PATH:
            remembered = store.remembered_list(authorization or "", query_string)
        elif path in _TRADING_PATHS:
            remembered = _kept_trading_answer(store, authorization, path, raw)
        else:
            remembered = _kept_market_answer(store, authorization, path, raw)
        if remembered is None:
            return False
        if (
            query_string
            and self._hints
            and remembered_hints(store.profile, path, query_string) != ()
        ):
            return False  # never asked (the middleware computes them) or some to send
        started = time.perf_counter()
        user_id, body = remembered
        self.answers += 1  # before the client can see the answer (tests read it)
        self.send(conn, transport, state, space, "GET", path, query_string, raw_headers, None,
                  user_id, body, started)  # fmt: skip
        return True

    def send(
        self, conn: RequestHandler, transport: asyncio.Transport, state: MockState,
        space: Namespace | None, method: str, path: str, query_string: str,
        raw_headers: tuple[tuple[bytes, bytes], ...], journal_body: Any, user_id: str,
        body: bytes, started: float,
    ) -> None:  # fmt: skip
        """Write a 200 answer on the connection and do what the ordinary path does after
        one (keep-alive clock, request counts, journal, access line, response observer):
        one place for both fast paths (this one and http/fast_submit.py)."""
        spaces = self._spaces
        if space is not None and spaces is not None:
            spaces.touch(space)
        conn._request_count += 1
        manager = conn._manager
        if manager is not None:
            manager.requests_count += 1
        date = self._date()
        transport.writelines(
            (
                (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nDate: {date}\r\n"
                    f"Server: {self._software}\r\n\r\n"
                ).encode(),
                body,
            )
        )
        # As aiohttp's start() does after an answer: the keep-alive clock restarts.
        close_time = conn._loop.time() + conn._keepalive_timeout
        conn._next_keepalive_close_time = close_time
        if conn._keepalive_handle is None:
            conn._keepalive_handle = conn._loop.call_at(close_time, conn._process_keepalive)
        elapsed = time.perf_counter() - started
        if state.journal.limit:
            state.journal.record(
                (
                    state.clock.now_ms(),
                    method,
                    path,
                    query_string,
                    raw_headers,
                    journal_body,
                    200,
                    elapsed * 1000,
                    user_id,
                    None,
                    (),
                    kept_answer(body),
                )
            )
        logger = conn.access_logger
        if logger is not None and logger.enabled:
            target = f"{path}?{redact_query_string(query_string)}" if query_string else path
            whose = f" ns={state.namespace}" if state.namespace is not None else ""
            add_line(method, target, 200, elapsed, user_id, whose)
        if self._observer is not None:
            # The headers as aiohttp's `on_response_prepare` shows the ordinary answer's.
            headers = (
                ("Content-Type", JSON),
                ("Content-Length", str(len(body))),
                ("Date", date),
                ("Server", self._software),
            )
            self._observer(
                ObservedResponse(method, path, 200, body, JSON, state.store.profile, None,
                                 headers)
            )  # fmt: skip


def _kept_market_answer(
    store: Store, authorization: str | None, path: str, query_string: str
) -> tuple[str, bytes] | None:
    """(user id, bytes) of a market read whose answer the market keeps for this second
    (engine/market_answers.py), for a token that authenticates now; None otherwise (the
    ordinary path answers, and its 401 or its answer is then the one kept)."""
    token = bearer_token(authorization)
    found = store.lookup_token(token) if token is not None else None
    if found is None or found[1]:  # unknown, logged out or expired: the middleware's 401
        return None
    body = store.market.answers.kept((path, query_string), bytes)
    return None if body is None else (found[0].user_id, body)


def _kept_trading_answer(
    store: Store, authorization: str | None, path: str, query_string: str
) -> tuple[str, bytes] | None:
    """(user id, bytes) of an order or portfolio list the handler answered before for this
    caller and raw query, the orders brought up to date first (engine/trading_answers.py),
    for a token that authenticates now; None otherwise (the ordinary path answers)."""
    token = bearer_token(authorization)
    found = store.lookup_token(token) if token is not None else None
    if found is None or found[1]:  # unknown, logged out or expired: the middleware's 401
        return None
    user_id = found[0].user_id
    answers = store.trading.answers
    keep = answers.orders if path == ORDER_LIST_PATH else answers.portfolios
    body = keep.kept((user_id, query_string))
    return None if body is None else (user_id, body)

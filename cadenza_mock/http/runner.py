"""The connection layer under `make_app()`: what happens before a request reaches a route.

aiohttp answers a request its HTTP parser rejects (a bad header byte, a line over 8190
bytes, too many headers, an unknown method) with a plain-text 400 that quotes the
offending bytes, and logs a traceback holding the raw request line and headers. Either
can carry a token or a secret. Here such requests get the Cadenza envelope (400, errno
-19001) and one log line naming only the kind of problem. The same layer closes
connections whose request headers do not arrive within `header_timeout` seconds, so
half-sent requests (slowloris) cannot hold sockets open forever.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.web_protocol import RequestHandler
from yarl import URL

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import BAD_REQUEST, unknown_error
from cadenza_mock.engine.journal import kept_answer, redact_query_string
from cadenza_mock.engine.state import MockState
from cadenza_mock.engine.store import Store
from cadenza_mock.http.access_log import add_line
from cadenza_mock.http.guard import BrowserGuard
from cadenza_mock.http.keys import (
    DEFAULT_READ_TIMEOUT,
    GUARD,
    HINTS,
    MALFORMED,
    STATE,
    STOPPING,
    URL_NAMESPACE,
    URL_NAMESPACE_PREFIX,
)
from cadenza_mock.http.middleware import remembered_hints

log = logging.getLogger("cadenza_mock")

# Connections still open at shutdown get this long: SIGTERM must end the process in ~1 s.
SHUTDOWN_TIMEOUT = 0.5


def display_host(host: str) -> str:
    """The host a client on this machine reaches a server bound to `host` by (in URLs)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


# What the log line and the answer say, by the parser's exception: never its message,
# which quotes the request.
_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (http_exceptions.LineTooLong, "request line or header too long"),
    (http_exceptions.BadHttpMethod, "unknown HTTP method"),
    (http_exceptions.BadStatusLine, "malformed request line"),
    (http_exceptions.InvalidHeader, "invalid header"),
    (http_exceptions.InvalidURLError, "invalid URL"),
    (http_exceptions.ContentLengthError, "body shorter or longer than its Content-Length"),
    (http_exceptions.TransferEncodingError, "invalid chunked body"),
    (http_exceptions.BadHttpMessage, "malformed request"),
)


def describe_rejection(exc: BaseException | None) -> str:
    """The kind of a parser rejection, in words that quote nothing of the request."""
    message = getattr(exc, "message", "") or ""
    if isinstance(exc, http_exceptions.BadHttpMessage) and "Too many headers" in message:
        return "too many headers"
    for kind, words in _KINDS:
        if isinstance(exc, kind):
            return words
    return "malformed request"


# The hot request of load tests and polling clients, answered below aiohttp's request
# machinery: a repeated, body-less `GET /api/v3/credential/list` whose answer the store
# already holds (static token, same query), on an idle keep-alive connection, with no
# fault armed and no response hook installed. Anything else (another path or method, a
# header that changes how the request is read, a body, pipelining, a partial chunk, an
# uncached answer) goes through aiohttp as before; the answer is the same bytes either way.
_LIST_REQUEST = b"GET /api/v3/credential/list"
_LIST_PATH = "/api/v3/credential/list"
_LIST_PATH_BYTES = _LIST_PATH.encode()
# Headers after which the request is not a plain body-less GET: aiohttp reads those.
# A namespace header: the request is the namespace's, not the default state's.
# A web page's request (Origin, Sec-Fetch-Site): the guard's to judge (http/guard.py).
_NOT_PLAIN = frozenset(
    (
        b"content-length",
        b"transfer-encoding",
        b"expect",
        b"upgrade",
        b"x-cadenza-mock-namespace",
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
_MAX_HEADER_LINES = 64
_KNOWN_LIMIT = 256
# `Connection: keep-alive` (what requests sends) is HTTP/1.1's default; any other value
# (close, upgrade) is aiohttp's to act on.
_ODD_BYTES = re.compile(rb"[^\t\x20-\x7e]")  # control bytes, non-ASCII: aiohttp's to judge
_MAX_PLAIN = 8000  # bytes; aiohttp's own limits (8190 per line, 128 headers) never bind


def _ends_plain(data: bytes) -> bool:
    """Whether a chunk leaves aiohttp's parser between requests: it ends a request's
    headers, and no request in it has a body or switches protocols."""
    if not data.endswith(b"\r\n\r\n"):
        return False
    lowered = data.lower()
    return not any(
        word in lowered for word in (b"content-length", b"transfer-encoding", b"upgrade")
    )


# Errors in reading what a client sent, not in the server.
_CLIENTS_FAULT = (http_exceptions.HttpProcessingError, web.RequestPayloadError)


def _plain_list_call(
    data: bytes, guard: BrowserGuard
) -> tuple[str | None, str, tuple[tuple[bytes, bytes], ...]] | None:
    """(Authorization value, query string, raw headers) of a whole request that is a plain
    body-less list call the fast path may answer; None for anything aiohttp must judge."""
    lines = data[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if (
        len(parts) != 3
        or parts[2] != b"HTTP/1.1"
        or not _PLAIN_TARGET.fullmatch(parts[1])
        or len(lines) > _MAX_HEADER_LINES
    ):
        return None
    path, _, query = parts[1].partition(b"?")
    if path != _LIST_PATH_BYTES:
        return None
    raw_headers = []
    authorization = None
    seen: set[bytes] = set()
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name) or _ODD_BYTES.search(line):
            return None
        lowered = name.lower()
        if lowered in _NOT_PLAIN or (lowered in seen and lowered in _SINGLETONS):
            return None
        if lowered == b"authorization" and authorization is not None:
            return None
        seen.add(lowered)
        value = value.strip(b" \t")
        if lowered == b"connection" and value.lower() != b"keep-alive":
            return None
        if lowered == b"host" and not guard.host_allowed(value.decode()):
            return None  # the guard's 403 comes from the ordinary path
        if lowered == b"authorization":
            authorization = value.decode()
        raw_headers.append((name, value))
    return authorization, query.decode(), tuple(raw_headers)


class _Connection(RequestHandler):
    """One client connection: enveloped parser errors, a deadline on request headers."""

    def __init__(
        self,
        manager: Any,
        *,
        app: web.Application,
        header_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, **kwargs)
        self._app = app
        self._state: MockState = app[STATE]
        self._header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None
        self._seen_requests = 0
        # Every chunk so far left aiohttp's parser between requests (see _ends_plain):
        # only then may a chunk be answered without it.
        self._between_requests = True
        # Response hooks (the test suite's OpenAPI observer) must see every answer.
        self._fast = not app.on_response_prepare

    def _store_of(self) -> Store:
        return self._state.store

    def data_received(self, data: bytes) -> None:
        if self._between_requests:
            if self._fast and data.startswith(_LIST_REQUEST) and self._answer_remembered(data):
                return
            self._between_requests = _ends_plain(data)
        super().data_received(data)
        if self._request_count != self._seen_requests:
            # Headers of a request completed: its deadline is over.
            self._seen_requests = self._request_count
            self._cancel_header_timer()
        elif (
            data
            and self._header_timer is None
            and self._header_timeout > 0
            and self._current_request is None
            and not self._messages
        ):
            # Part of a request's headers arrived (not a body: no request is being read
            # or waiting): the rest must follow in time.
            self._header_timer = self._loop.call_later(
                self._header_timeout, self._headers_overdue, self._request_count
            )

    def _answer_remembered(self, data: bytes) -> bool:
        """Answer a plain repeated list call from the store's remembered bytes, journaled
        and logged as the middleware would; False (nothing done) for anything else."""
        waiter = self._waiter
        transport = self.transport
        if (
            waiter is None  # a request is in progress (or the connection is closing)
            or waiter.done()
            or self._messages
            or self._paused  # the client reads slowly: aiohttp waits for the drain
            or transport is None
            or len(data) > _MAX_PLAIN
            or data.find(b"\r\n\r\n") != len(data) - 4
        ):
            return False
        # A polling client sends the same bytes each time: their verdict is remembered.
        known = self._manager.plain_requests  # type: ignore[union-attr]
        parsed = known.get(data)
        if parsed is None:
            parsed = _plain_list_call(data, self._app[GUARD]) or ()
            if len(known) >= _KNOWN_LIMIT:
                known.clear()
            known[data] = parsed
        if not parsed:
            return False
        authorization, query_string, raw_headers = parsed
        state = self._state
        store = state.store
        remembered = store.remembered_list(authorization or "", query_string)
        if (
            remembered is None
            or state.faults.armed
            or state.stubs.armed
            or self._app[STOPPING].is_set()
        ):
            return False
        hinted = bool(query_string) and self._app[HINTS]
        if hinted and remembered_hints(store.profile, _LIST_PATH, query_string) != ():
            return False  # never asked (the middleware computes them) or some to send
        started = time.perf_counter()
        user_id, body = remembered
        self._cancel_header_timer()
        self._request_count += 1
        self._seen_requests = self._request_count
        self._manager.requests_count += 1  # type: ignore[union-attr]
        transport.writelines(
            (
                (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nDate: {rfc822_formatted_time()}\r\n"
                    f"Server: {SERVER_SOFTWARE}\r\n\r\n"
                ).encode(),
                body,
            )
        )
        # As aiohttp's start() does after an answer: the keep-alive clock restarts.
        close_time = self._loop.time() + self._keepalive_timeout
        self._next_keepalive_close_time = close_time
        if self._keepalive_handle is None:
            self._keepalive_handle = self._loop.call_at(close_time, self._process_keepalive)
        self._manager.fast_answers += 1  # type: ignore[union-attr]
        elapsed = time.perf_counter() - started
        if state.journal.limit:
            state.journal.record(
                (
                    state.clock.now_ms(),
                    "GET",
                    _LIST_PATH,
                    query_string,
                    raw_headers,
                    None,
                    200,
                    elapsed * 1000,
                    user_id,
                    None,
                    (),
                    kept_answer(body),
                )
            )
        if self.access_logger is not None and self.access_logger.enabled:
            target = (
                f"{_LIST_PATH}?{redact_query_string(query_string)}" if query_string else _LIST_PATH
            )
            add_line("GET", target, 200, elapsed, user_id)
        return True

    def _headers_overdue(self, count: int) -> None:
        self._header_timer = None
        if self._request_count == count and self.transport is not None:
            log.info(
                "closed a connection whose request headers took over %gs", self._header_timeout
            )
            self.transport.close()

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        # aiohttp's own error logs carry the exception, whose text may quote the request:
        # log what happened, not the text. A body the client broke (corrupt gzip) was
        # answered with a 400 already: the client's mistake, not the server's.
        exc = kw.get("exc_info")
        kind = type(exc).__name__ if isinstance(exc, BaseException) else "error"
        if isinstance(exc, _CLIENTS_FAULT):
            log.info("could not read a request body (%s)", kind)
            return
        log.error("connection error (%s); details not logged, they may quote the request", kind)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send an error")
        if status >= 500:
            log.error("unexpected %s answering a request", type(exc).__name__)
            err = unknown_error()
        else:
            words = describe_rejection(exc)
            log.info("rejected a malformed request from %s: %s", request.remote, words)
            err = BAD_REQUEST.error(words)
        request[MALFORMED] = True
        store = self._store_of()
        profile = store.profile
        request_id = store.next_request_id() if profile == "sdk" else None
        response = web.Response(
            status=err.status,
            body=wire.error_body(err, profile, request_id),
            content_type="application/json",
        )
        response.force_close()
        return response


def _namespaced(base_factory: Any) -> Any:
    """A request factory that serves `/__ns/<name>/...` as `/...` of namespace <name>: the
    base URL a client under test is given, so everything it sends (login included) reaches
    its namespace. Every layer above sees the plain path (routes, faults, journal)."""

    def make(message: Any, *args: Any, **kwargs: Any) -> web.BaseRequest:
        name = None
        target: str = message.path
        if target == "*":  # `OPTIONS *`: no route has it; the catch-all answers in the envelope
            target = "/*"
            message = message._replace(path=target, url=URL(target, encoded=True))
        elif target.startswith(URL_NAMESPACE_PREFIX):
            name, slash, rest = target[len(URL_NAMESPACE_PREFIX) :].partition("/")
            if name and slash:
                target = "/" + rest
                message = message._replace(path=target, url=URL(target, encoded=True))
            else:
                name = None
        request: web.BaseRequest = base_factory(message, *args, **kwargs)
        if name is not None:
            request[URL_NAMESPACE] = name
        return request

    return make


class _Server(web.Server):
    def __init__(self, base: web.Server, app: web.Application, header_timeout: float) -> None:
        super().__init__(
            base.request_handler,
            request_factory=_namespaced(base.request_factory),
            handler_cancellation=base.handler_cancellation,
            loop=base._loop,
            **base._kwargs,
        )
        self._app = app
        self._header_timeout = header_timeout
        self.fast_answers = 0  # list calls answered from remembered bytes (tests read it)
        # Request bytes -> the fast path's verdict on them (bounded: _KNOWN_LIMIT).
        self.plain_requests: dict[bytes, Any] = {}

    def __call__(self) -> RequestHandler:
        return _Connection(
            self,
            loop=self._loop,
            app=self._app,
            header_timeout=self._header_timeout,
            **self._kwargs,
        )


class MockRunner(web.AppRunner):
    """`web.AppRunner` whose connections are `_Connection`s: use it to serve `make_app()`."""

    def __init__(
        self,
        app: web.Application,
        *,
        header_timeout: float = DEFAULT_READ_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        self._header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        return _Server(base, self.app, self._header_timeout)

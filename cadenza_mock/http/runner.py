"""The connection layer under `make_app()`: what happens before a request reaches a route.

aiohttp answers a request its HTTP parser rejects (a bad header byte, a line over 8190
bytes, too many headers, an unknown method) with a plain-text 400 that quotes the
offending bytes, and logs a traceback holding the raw request line and headers. Either
can carry a token or a secret. Here such requests get the Cadenza envelope (400, errno
-19001) and one log line naming only the kind of problem. The same layer closes
connections whose request headers do not arrive within `header_timeout` seconds, so
half-sent requests (slowloris) cannot hold sockets open forever. A chunk that may be a
repeated list call goes to the fast path (http/fast_path.py) first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler
from yarl import URL

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import BAD_REQUEST, unknown_error
from cadenza_mock.engine.state import MockState
from cadenza_mock.engine.store import Store
from cadenza_mock.http.fast_path import PREFIXES, FastPath, ends_plain, fence
from cadenza_mock.http.fast_submit import POST_PREFIXES, SubmitPath, whole_request
from cadenza_mock.http.keys import (
    DEFAULT_READ_TIMEOUT,
    MALFORMED,
    STATE,
    URL_NAMESPACE,
    URL_NAMESPACE_PREFIX,
)
from cadenza_mock.http.ws_fast import FrameTap
from cadenza_mock.http.ws_fast import fence as frames_fence

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


# Errors in reading what a client sent, not in the server.
_CLIENTS_FAULT = (http_exceptions.HttpProcessingError, web.RequestPayloadError)


_FRAMES_FENCE = frames_fence()


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
        # Every chunk so far left aiohttp's parser between requests (see ends_plain):
        # only then may a chunk be answered without it.
        self._between_requests = True
        self._fast: FastPath | None = manager.fast_path
        self._submits: SubmitPath | None = manager.submit_path
        # A WebSocket's query frames may be answered below aiohttp (http/ws_fast.py).
        self.taps_frames = self._fast is not None and _FRAMES_FENCE
        self.frames: FrameTap | None = None
        # Called when the client goes: a delayed answer (a delay fault) stops waiting.
        self.on_lost: list[Callable[[], None]] = []

    def _store_of(self) -> Store:
        return self._state.store

    def data_received(self, data: bytes) -> None:
        frames = self.frames
        if frames is not None and frames.received(data):
            return
        if self._between_requests:
            fast = self._fast
            submits = self._submits
            if (fast is not None and data.startswith(PREFIXES) and fast.answer(self, data)) or (
                submits is not None
                and data.startswith(POST_PREFIXES)
                and submits.answer(self, data)
            ):
                self._cancel_header_timer()  # a whole request came and was answered
                self._seen_requests = self._request_count
                return
            # aiohttp itself feeds b"" when it resumes reading: no bytes, no change.
            if data:
                self._between_requests = ends_plain(data) or whole_request(data)
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
        for callback in tuple(self.on_lost):
            callback()

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
    def __init__(
        self, base: web.Server, app: web.Application, header_timeout: float, fast_path: bool
    ) -> None:
        super().__init__(
            base.request_handler,
            request_factory=_namespaced(base.request_factory),
            handler_cancellation=base.handler_cancellation,
            loop=base._loop,
            **base._kwargs,
        )
        self._app = app
        self._header_timeout = header_timeout
        self.fast_path: FastPath | None = None
        self.submit_path: SubmitPath | None = None  # http/fast_submit.py, beside it
        if fast_path:
            reason = fence(base)
            if reason is None:
                self.fast_path = FastPath.for_app(app)
                if self.fast_path is not None:
                    self.submit_path = SubmitPath(self.fast_path)
            else:
                log.warning(
                    "the list fast path is off: %s; every request goes through aiohttp", reason
                )

    @property
    def fast_answers(self) -> int:
        """List calls answered by the fast path so far (tests read it)."""
        return self.fast_path.answers if self.fast_path is not None else 0

    @property
    def frame_answers(self) -> int:
        """WebSocket queries answered below aiohttp so far (tests read it)."""
        return self.fast_path.frame_answers if self.fast_path is not None else 0

    def __call__(self) -> RequestHandler:
        return _Connection(
            self,
            loop=self._loop,
            app=self._app,
            header_timeout=self._header_timeout,
            **self._kwargs,
        )


class MockRunner(web.AppRunner):
    """`web.AppRunner` whose connections are `_Connection`s: use it to serve `make_app()`.
    `fast_path=False`: every request through aiohttp (`serve --no-fast-path`)."""

    def __init__(
        self,
        app: web.Application,
        *,
        header_timeout: float = DEFAULT_READ_TIMEOUT,
        fast_path: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        self._header_timeout = header_timeout
        self._fast_path = fast_path

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        return _Server(base, self.app, self._header_timeout, self._fast_path)

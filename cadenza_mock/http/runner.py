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
from collections.abc import Callable
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler

from cadenza_mock import wire
from cadenza_mock.engine.store import Store
from cadenza_mock.errors import BAD_REQUEST, unknown_error
from cadenza_mock.http.keys import DEFAULT_READ_TIMEOUT, MALFORMED, STATE

log = logging.getLogger("cadenza_mock")

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


class _Connection(RequestHandler):
    """One client connection: enveloped parser errors, a deadline on request headers."""

    def __init__(
        self,
        manager: Any,
        *,
        store_of: Callable[[], Store],
        header_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, **kwargs)
        self._store_of = store_of
        self._header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None
        self._seen_requests = 0

    def data_received(self, data: bytes) -> None:
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

    def log_exception(self, *args: Any, **kw: Any) -> None:
        # aiohttp's own error logs carry the exception, whose text may quote the request:
        # log what happened, not the text.
        exc = kw.get("exc_info")
        kind = type(exc).__name__ if isinstance(exc, BaseException) else "error"
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


class _Server(web.Server):
    def __init__(
        self, base: web.Server, store_of: Callable[[], Store], header_timeout: float
    ) -> None:
        super().__init__(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            loop=base._loop,
            **base._kwargs,
        )
        self._store_of = store_of
        self._header_timeout = header_timeout

    def __call__(self) -> RequestHandler:
        return _Connection(
            self,
            loop=self._loop,
            store_of=self._store_of,
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
        state = self.app[STATE]
        base = await super()._make_server()
        return _Server(base, lambda: state.store, self._header_timeout)

"""The submit fast path: a whole `POST /api/v3/tradeOrder/submit` that the order engine
accepts, answered below aiohttp's request machinery.

A trading client (and a load test) submits orders one after another on a kept-alive
connection, each request's headers and small JSON body in one chunk. aiohttp's parser,
request object, task, middleware and response writer cost more than the order itself;
here such a request is answered in the connection's `data_received`, by the very code the
handler runs (`trading_api.order_request`, `Trading.submit`, `trading_wire.trade_order`),
journaled, hinted, logged and observed as the ordinary path does it.

It answers only an order the engine places. Anything else goes through aiohttp, with
nothing changed: another path or method, a header that changes how the request is read,
a body not all in the chunk, a caller the token does not name, a body the schema refuses,
`awaitClosed`, near-miss hints to send, a fault or a stub armed, an account with a
`venue_behavior` (the scenario's or one set at run time: looked up at each request), and
every refusal of the engine (its checks come before any change: what it did before
refusing, bringing resting orders up to now and seeding a portfolio, the ordinary path
does again the same way). It rides on the list fast path
(http/fast_path.py): the same connection checks, the same fence, `--no-fast-path` turns
both off. docs/contributing/fast-path.md tells the whole story.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from aiohttp.web_protocol import RequestHandler

from cadenza_mock.contract import trading_wire, wire
from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.schemas import parse_body
from cadenza_mock.engine.hints import hints
from cadenza_mock.engine.journal import redact_body
from cadenza_mock.engine.order_checks import OrderRequest
from cadenza_mock.engine.order_lists import placed
from cadenza_mock.http.fast_path import (
    FastPath,
    PlainCall,
    idle_transport,
    namespace_target,
    plain_headers,
)
from cadenza_mock.http.guard import BrowserGuard
from cadenza_mock.http.keys import URL_NAMESPACE_PREFIX

SUBMIT_PATH = "/api/v3/tradeOrder/submit"
_SUBMIT_BYTES = SUBMIT_PATH.encode()
_NS_PREFIX = URL_NAMESPACE_PREFIX.encode()
# The first bytes of a request this path may answer (a cheap first look).
POST_PREFIXES = (b"POST " + _SUBMIT_BYTES, b"POST " + _NS_PREFIX)
_NAMESPACE_HEADER = b"x-cadenza-mock-namespace"
# Headers after which aiohttp must read the request: a body it decodes (Content-Encoding)
# or streams, a 100-continue to send, a protocol switch, a web page's request (the guard).
_NOT_PLAIN = frozenset(
    (
        b"transfer-encoding",
        b"content-encoding",
        b"expect",
        b"upgrade",
        b"origin",
        b"sec-fetch-site",
    )
)
_MAX_HEAD = 8000  # bytes of request line and headers; aiohttp's limits never bind
_MAX_BODY = 8000  # an order is a few hundred bytes
_MAX_HEADER_LINES = 64
_KNOWN_LIMIT = 256
_UNSEEN: Any = object()


class SubmitCall(NamedTuple):
    """The request line and headers of a submit this path may answer (its body apart)."""

    authorization: str | None
    raw_headers: tuple[tuple[bytes, bytes], ...]
    url_namespace: str | None
    header_namespace: str | None
    length: int  # Content-Length


def submit_head(head: bytes, guard: BrowserGuard) -> SubmitCall | None:
    """The submit call a request's head (request line and headers, no blank line) holds;
    None for anything aiohttp must judge."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[0] != b"POST" or parts[2] != b"HTTP/1.1":
        return None
    if len(lines) > _MAX_HEADER_LINES:
        return None
    target = namespace_target(parts[1])
    if target is None or target[1] != _SUBMIT_BYTES:  # no query, no escapes, no other call
        return None
    headers = plain_headers(lines[1:], guard, _NOT_PLAIN)
    if headers is None or not 0 < headers.length <= _MAX_BODY:
        return None
    authorization, header_namespace, raw_headers, length = headers
    return SubmitCall(authorization, raw_headers, target[0], header_namespace, length)


def whole_request(data: bytes) -> bool:
    """Whether a chunk is exactly one request with all of its Content-Length body (it
    leaves aiohttp's parser between requests, as http/fast_path.py's `ends_plain` says of
    body-less ones)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    lowered = data[:end].lower()
    if b"transfer-encoding" in lowered or b"upgrade" in lowered:
        return False
    at = lowered.find(b"\r\ncontent-length:")
    if at < 0 or lowered.find(b"\r\ncontent-length:", at + 1) >= 0:
        return False
    value = lowered[at + 17 :].split(b"\r\n", 1)[0].strip(b" \t")
    return value.isdigit() and len(data) == end + 4 + int(value)


class SubmitPath:
    """The submit fast path of one server (beside its list fast path)."""

    def __init__(self, fast: FastPath) -> None:
        self._fast = fast
        self.answers = 0  # submits answered here (tests read it)
        # Request heads -> the verdict on them (bounded): a client sends the same headers.
        self._known: dict[bytes, SubmitCall | None] = {}
        # Bodies -> (the parsed body, the engine's request) of those this path may take:
        # a client that sends the same order again costs a lookup, not a parse (bounded).
        self._bodies: dict[tuple[str, bytes], tuple[dict[str, Any], OrderRequest]] = {}
        self._handler: Any = None  # http/trading_api.py, imported on first use (lazy)

    def _parsed(self, profile: str, raw: bytes) -> tuple[dict[str, Any], OrderRequest] | None:
        """A body's parse and the engine's request, as the handler makes them; None for a
        body the ordinary path answers (a 400, awaitClosed, near-miss hints)."""
        try:
            body = parse_body(raw, profile, "submit_order")
        except ApiError:
            return None
        if body.get("awaitClosed") is True:
            return None  # it may wait: a handler's task
        # The middleware's hints look at the body the journal keeps: the same words.
        if self._fast._hints and hints(profile, "POST", SUBMIT_PATH, (), redact_body(body)):
            return None  # the hint header and log line: the ordinary path's
        handler = self._handler
        if handler is None:
            from cadenza_mock.http import trading_api

            handler = self._handler = trading_api
        request: OrderRequest = handler.order_request(body)
        return body, request

    def answer(self, conn: RequestHandler, data: bytes) -> bool:
        """Answer a whole submit the engine places, as the ordinary path would; False
        (nothing changed) for anything else."""
        fast = self._fast
        transport = idle_transport(conn)
        if transport is None:
            return False
        end = data.find(b"\r\n\r\n")
        if not 0 < end <= _MAX_HEAD:
            return False
        head = data[:end]
        known = self._known
        call = known.get(head, _UNSEEN)
        if call is _UNSEEN:
            call = submit_head(head, fast._guard)
            if len(known) >= _KNOWN_LIMIT:
                known.clear()
            known[head] = call
        if call is None or len(data) != end + 4 + call.length:
            return False
        authorization, raw_headers, url_namespace, header_namespace, _ = call
        spaces = fast._spaces
        space = None
        if url_namespace is None and header_namespace is None and not spaces:
            state = fast._default
        else:
            plain = PlainCall(authorization, "", (), url_namespace, header_namespace)
            found = fast._state_of(plain)
            if found is None:
                return False
            state, space = found
        if state.faults.armed or state.stubs.armed or fast._stopping.is_set():
            return False
        started = time.perf_counter()
        store = state.store
        raw = data[end + 4 :]
        try:
            user = store.user_for_token(authorization)
        except ApiError:
            return False  # the 401 comes from the ordinary path
        profile = store.profile
        key = (profile, raw)
        parsed = self._bodies.get(key)
        if parsed is None:
            parsed = self._parsed(profile, raw)
            if parsed is None:
                return False
            if len(self._bodies) >= _KNOWN_LIMIT:
                self._bodies.clear()
            self._bodies[key] = parsed
        body, request = parsed
        trading = store.trading
        if trading.behaviors and request.trading_account_id.lower() in trading.behaviors:
            return False  # a venue_behavior (scenario or run time): the ordinary path's
        journal_body = redact_body(body)  # what the journal keeps (a copy of its own)
        try:
            order = trading.submit(user, request)
        except Exception:  # a refusal (or a bug): the ordinary path answers it, from scratch
            return False
        # An order list answers its entry and the exits placed (engine/order_lists.py).
        answer = wire.success_body([trading_wire.trade_order(o) for o in placed(trading, order)])
        self.answers += 1  # before the client can see the answer (tests read it)
        fast.send(conn, transport, state, space, "POST", SUBMIT_PATH, "", raw_headers,
                  journal_body, user.user_id, answer, started)  # fmt: skip
        return True

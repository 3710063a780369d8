"""The WebSocket query fast path: a repeated RPC query answered below aiohttp's WebSocket
reader, from the answers the store and the market keep.

A client polling a query sends the same frame over and over (`{"id":N,"rpc":{...}}`),
waiting for each reply. When such a frame arrives alone in one chunk, on a connection
whose reader task is parked on the socket with nothing queued for it, the connection
(`http/runner.py`) hands the chunk here first: the frame is unmasked, the query run
(`rpc.call`, which answers from kept answers), the reply written and the call journaled
exactly as `http/ws.py` does, without aiohttp's reader, its message queue or a task
switch. Anything else (another command, several in a frame, a fragmented, compressed or
control frame, an armed fault, a scenario with recorded `replay:` answers, a closing or
unconnected client) goes to aiohttp as before.

To hand a chunk to aiohttp's reader only between frames, `FrameTap` follows the frame
boundaries of every chunk the reader gets from the upgrade on (its own state is not
readable: a C extension). It starts only when aiohttp holds no byte of the connection yet
(`RequestHandler._message_tail` empty before `prepare()`); `fence()` checks that name.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp.web_protocol import RequestHandler

from cadenza_mock.contract import wire
from cadenza_mock.engine.hints import rpc_hints
from cadenza_mock.engine.journal import redact_body
from cadenza_mock.http import rpc

if TYPE_CHECKING:
    from cadenza_mock.http.ws_session import WsClient

# {"id":N,"rpc":BODY} and nothing else: what a client polling a query sends.
_RPC_LINE = re.compile(r'\{"id":([1-9][0-9]{0,15}),"rpc":(\{.*\})\}')
_MAX_PAYLOAD = 4096  # a query's frame is small; anything larger is aiohttp's to read
_KNOWN_LIMIT = 256
_UNSEEN: Any = object()

Journal = Callable[..., None]


def install(
    protocol: Any, journal: Journal, hinted: bool, stopping: Callable[[], bool]
) -> FrameTap | None:
    """A tap on an upgrading connection (before `prepare()`), or None where there can be
    none: not our connection, the fast path off, or bytes already past the upgrade."""
    if not getattr(protocol, "taps_frames", False) or protocol._message_tail:
        return None
    tap = FrameTap(journal, hinted, stopping, protocol._fast)
    protocol.frames = tap
    return tap


def detach(protocol: Any) -> None:
    """The socket is done: its connection's chunks go to aiohttp alone again."""
    protocol.frames = None


def fence(handler: type[RequestHandler] = RequestHandler) -> bool:
    """Whether this aiohttp keeps the bytes that arrive before `prepare()` where the tap
    looks (`_message_tail`, fed to the WebSocket reader by `set_parser`)."""
    code = getattr(getattr(handler, "set_parser", None), "__code__", None)
    return (
        "_message_tail" in getattr(handler, "__slots__", ())
        and code is not None
        and "_message_tail" in code.co_names
    )


class _Verdict:
    """What a frame's `rpc` body asks: a cached or market query, its params as the journal
    shows them, and its near-miss hints (computed once per distinct body)."""

    __slots__ = ("data", "hints", "name", "params", "text")

    def __init__(self, name: str, data: Any, params: Any, hints: tuple[str, ...]) -> None:
        self.name, self.data, self.params, self.hints = name, data, params, hints
        self.text = wire.dumps_text(data)  # rpc.call's key of it


def _verdict(body: str, hinted: bool) -> _Verdict | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    name, data = parsed.get("method"), parsed.get("data", {})
    if not isinstance(name, str):
        return None
    method = rpc.METHODS.get(name)
    if method is None or not (method.cached or method.market) or not isinstance(data, dict):
        return None
    params = redact_body(data)
    hints = rpc_hints(name, method.params, params) if data and hinted else ()
    return _Verdict(name, data, params, hints)


def _unmasked(data: bytes) -> str | None:
    """The text of `data` if it is exactly one whole, final, masked, uncompressed text
    frame of at most _MAX_PAYLOAD bytes; None otherwise."""
    if len(data) < 6 or data[0] != 0x81 or not data[1] & 0x80:
        return None
    size = data[1] & 0x7F
    start = 2
    if size == 126:
        size = int.from_bytes(data[2:4], "big")
        start = 4
    elif size == 127:
        return None
    payload = data[start + 4 :]
    if len(payload) != size or size > _MAX_PAYLOAD or not size:
        return None
    mask = data[start : start + 4] * (size // 4 + 1)
    plain = int.from_bytes(payload, "big") ^ int.from_bytes(mask[:size], "big")
    try:
        return plain.to_bytes(size, "big").decode("utf-8")
    except UnicodeDecodeError:
        return None


class FrameTap:
    """One upgraded connection's frame boundaries, and its fast path once it is connected."""

    def __init__(
        self, journal: Journal, hinted: bool, stopping: Callable[[], bool], counter: Any
    ) -> None:
        self.client: WsClient | None = None  # set once the socket is open
        self._counter = counter  # its `frame_answers`: the server's count (tests read it)
        self._journal = journal
        self._hinted = hinted
        self._stopping = stopping
        self._skip = 0  # payload bytes of a frame aiohttp's reader is in the middle of
        self._head = b""  # the first bytes of a frame header aiohttp's reader holds
        self._known: dict[str, _Verdict | None] = {}
        self.answers = 0

    def received(self, data: bytes) -> bool:
        """Answer `data` if it is a query frame the fast path may answer (True); else
        follow it to aiohttp's reader (False: the caller hands it on)."""
        if not self._skip and not self._head and self._answer(data):
            return True
        client = self.client
        if client is not None:
            client.reading = False  # the reader may have a message to take first
        self._follow(data)
        return False

    def _follow(self, data: bytes) -> None:
        """Move the frame boundaries past `data` (what aiohttp's reader gets)."""
        if self._skip >= len(data):
            self._skip -= len(data)
            return
        buf = self._head + data[self._skip :]
        self._skip = 0
        at, end = 0, len(buf)
        while at < end:
            if end - at < 2:
                break
            size = buf[at + 1] & 0x7F
            header = 2 + (2 if size == 126 else 8 if size == 127 else 0)
            header += 4 if buf[at + 1] & 0x80 else 0
            if end - at < header:
                break
            if size == 126:
                size = int.from_bytes(buf[at + 2 : at + 4], "big")
            elif size == 127:
                size = int.from_bytes(buf[at + 2 : at + 10], "big")
            at += header
            if end - at < size:
                self._skip = size - (end - at)
                self._head = b""
                return
            at += size
        self._head = buf[at:]

    def _answer(self, data: bytes) -> bool:
        client = self.client
        if (
            client is None
            or not client.reading
            or client.user is None
            or client.closing is not None
            or client.lookahead is not None
            or client.state.retired
            or client.state.faults.armed
            or client.state.scenario.replay  # recorded answers come first (http/ws.py)
            or self._stopping()
        ):
            return False
        text = _unmasked(data)
        found = _RPC_LINE.fullmatch(text) if text is not None else None
        if found is None:
            return False
        body = found.group(2)
        verdict = self._known.get(body, _UNSEEN)
        if verdict is _UNSEEN:
            verdict = _verdict(body, self._hinted)
            if len(self._known) >= _KNOWN_LIMIT:
                self._known.clear()
            self._known[body] = verdict
        if verdict is None:
            return False
        started = time.perf_counter()
        state, user = client.state, client.user
        try:
            result = rpc.call(state.store, user, verdict.name, verdict.data, None, verdict.text)
        except Exception:  # an error (ApiError: in the result) is the ordinary path's
            return False
        reply = f'{{"id":{found.group(1)},"rpc":{{"data":{result}}}}}'
        client.send_text(reply)
        self.answers += 1
        self._counter.frame_answers += 1
        self._journal(
            state, "RPC", verdict.name, verdict.params, 200, started, user, verdict.hints, reply
        )
        return True

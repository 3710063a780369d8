"""The WebSocket endpoint's bounds: what one client may cost the server.

A client that sends and never reads, one huge frame of commands, a socket that never
connects, or thousands of sockets must not grow the server's memory without end, stall
other clients, or use up its file descriptors. Centrifugo has the same guards (its
`client_queue_max_size`, stale close delay, connection limit); the numbers here follow it.
No aiohttp in this module: `run/cli.py` reads its default without loading the server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

from cadenza_mock.contract import options

# Bytes waiting to be written to one client (Centrifugo's `client_queue_max_size`
# default). Replies: while more wait, the connection's next command does not run (and no
# frame is read); still more after SLOW_SECONDS, it is closed with 3008 `slow`. Pushes
# (which the client did not ask for, so cannot be held back): more than this many bytes
# of them waiting closes it at once.
QUEUE_MAX_BYTES = 1024 * 1024
SLOW_SECONDS = 5.0
# Newline-separated lines (commands) one frame may carry; more is a 3501 `bad request`.
MAX_COMMANDS_PER_FRAME = 100
# Commands one connection's reader runs at most before the others get a turn (a loop
# pass): every command of a frame but its first waits for one, and frames already read
# wait for one at least every this many commands.
YIELD_EVERY = 8
# Seconds an upgraded socket has to connect successfully; then 3502 `stale`.
CONNECT_TIMEOUT_SECONDS = 10.0
# Seconds a closing connection's close frame and handshake may take before the socket is
# cut: a client that stopped reading must not hold its socket open.
CLOSE_SECONDS = 2.0
# Open WebSocket connections per server (`serve --max-connections`); 0 refuses them all.
DEFAULT_MAX_CONNECTIONS = options.DEFAULT_MAX_CONNECTIONS
# How often a held reply (a delay fault) looks whether it should end early.
PAUSE_STEP_SECONDS = 0.05


def text_bytes(text: str) -> int:
    """The UTF-8 size of a frame's text (its length when ASCII, the usual case)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class Outbox:
    """What waits to be written to one socket, counted in bytes; the writer's one queue."""

    __slots__ = ("_drained", "_items", "_ready", "closed", "limit", "pushed", "size", "waiting")

    def __init__(self, limit: int = QUEUE_MAX_BYTES) -> None:
        self._items: deque[tuple[str, int, bool]] = deque()
        self._ready = asyncio.Event()
        self._drained = asyncio.Event()
        self.size = 0  # bytes waiting
        self.pushed = 0  # of which pushes
        self.limit = limit
        self.closed = False  # nothing more is queued; the writer ends when it is empty
        self.waiting = False  # the writer waits for the next text: it is writing nothing

    def put(self, text: str, *, push: bool = False) -> bool:
        """Queue `text`; False when the pushes waiting now pass the bound."""
        if self.closed:
            return True
        size = text_bytes(text)
        self._items.append((text, size, push))
        self.size += size
        if push:
            self.pushed += size
        self._ready.set()
        return self.pushed <= self.limit

    @property
    def full(self) -> bool:
        """More than the bound waits (a single reply larger than it alone does not count)."""
        return self.size > self.limit and len(self._items) > 1

    async def drained(self, seconds: float) -> bool:
        """Wait until the queue is no longer full (True), closed, or `seconds` passed."""
        if self.full and not self.closed:
            self._drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), seconds)
        return not self.full

    def close(self) -> None:
        self.closed = True
        self._ready.set()
        self._drained.set()

    def clear(self) -> None:
        """Drop what is queued (a slow client's backlog: its memory goes at once)."""
        self._items.clear()
        self.size = self.pushed = 0
        self._drained.set()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def idle(self) -> bool:
        """Nothing waits and the writer writes nothing: a text may go out at once."""
        return self.waiting and not self._items and not self.closed

    async def get(self) -> str | None:
        """The next text to write; None once closed and empty."""
        while not self._items:
            if self.closed:
                return None
            self._ready.clear()
            self.waiting = True
            try:
                await self._ready.wait()
            finally:
                self.waiting = False
        text, size, push = self._items.popleft()
        self.size -= size
        if push:
            self.pushed -= size
        if not self.full:
            self._drained.set()
        return text


class Connections:
    """How many WebSocket connections are open on a server, against its bound."""

    __slots__ = ("limit", "open")

    def __init__(self, limit: int = DEFAULT_MAX_CONNECTIONS) -> None:
        if limit < 0:
            raise ValueError(f"max connections must be 0 or more, not {limit!r}")
        self.limit = limit
        self.open = 0

    def admit(self) -> bool:
        """Count one more connection, or say no (the caller answers before upgrading)."""
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1


def frame_lines(text: str) -> list[str] | None:
    """The command lines of one text frame (blank ones dropped); None when it holds more
    than MAX_COMMANDS_PER_FRAME lines, found without splitting the whole frame."""
    lines = text.split("\n", MAX_COMMANDS_PER_FRAME)
    if len(lines) > MAX_COMMANDS_PER_FRAME and lines[-1].strip():
        return None
    return [line for line in lines if line.strip()]


async def pause(
    seconds: float, go_on: Callable[[], bool], wake: asyncio.Event | None = None
) -> bool:
    """asyncio.sleep(seconds) that ends early once `go_on()` is false (the server stops,
    the client went, the state was reset); True when the whole time passed. `wake`, set
    by whoever sees such an event first, makes it look at once instead of at the next
    step (a client that gave up is journaled before the retry it sends next)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if not go_on():
            return False
        if wake is None:
            await asyncio.sleep(min(left, PAUSE_STEP_SECONDS))
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), min(left, PAUSE_STEP_SECONDS))
    return go_on()

"""The WebSocket endpoint's bounds: what one client may cost the server.

A client that sends and never reads, one huge frame of commands, a socket that never
connects, or thousands of sockets must not grow the server's memory without end, stall
other clients, or use up its file descriptors. Centrifugo has the same guards (its
`client_queue_max_size`, stale close delay, connection limit); the numbers here follow it.
No aiohttp in this module: `cli.py` reads its default without loading the server.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

# Replies and pushes waiting for a client that does not read: past this many bytes the
# connection is closed with 3008 `slow` (Centrifugo's `client_queue_max_size` default).
QUEUE_MAX_BYTES = 1024 * 1024
# Newline-separated lines (commands) one frame may carry; more is a 3501 `bad request`.
MAX_COMMANDS_PER_FRAME = 100
# Seconds an upgraded socket has to connect successfully; then 3502 `stale`.
CONNECT_TIMEOUT_SECONDS = 10.0
# Seconds a closing connection's close frame and handshake may take before the socket is
# cut: a client that stopped reading must not hold its socket open.
CLOSE_SECONDS = 2.0
# Open WebSocket connections per server (`serve --max-connections`); 0 refuses them all.
DEFAULT_MAX_CONNECTIONS = 1000
# How often a held reply (a delay fault) looks whether it should end early.
PAUSE_STEP_SECONDS = 0.05


def text_bytes(text: str) -> int:
    """The UTF-8 size of a frame's text (its length when ASCII, the usual case)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class Outbox:
    """What waits to be written to one socket, bounded in bytes; the writer's one queue."""

    __slots__ = ("_items", "_ready", "closed", "limit", "size")

    def __init__(self, limit: int = QUEUE_MAX_BYTES) -> None:
        self._items: deque[str] = deque()
        self._ready = asyncio.Event()
        self.size = 0  # bytes queued
        self.limit = limit
        self.closed = False  # nothing more is queued; the writer ends when it is empty

    def put(self, text: str) -> bool:
        """Queue `text`; False when the queue is now over its bound (a reply larger than
        the bound alone still goes: only a backlog is refused)."""
        if self.closed:
            return True
        self._items.append(text)
        self.size += text_bytes(text)
        self._ready.set()
        return self.size <= self.limit or len(self._items) == 1

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    def clear(self) -> None:
        """Drop what is queued (a slow client's backlog: its memory goes at once)."""
        self._items.clear()
        self.size = 0

    def __len__(self) -> int:
        return len(self._items)

    async def get(self) -> str | None:
        """The next text to write; None once closed and empty."""
        while not self._items:
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        text = self._items.popleft()
        self.size -= text_bytes(text)
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


async def pause(seconds: float, go_on: Callable[[], bool]) -> bool:
    """asyncio.sleep(seconds) that ends early once `go_on()` is false (the server stops,
    the client went, the state was reset); True when the whole time passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if not go_on():
            return False
        await asyncio.sleep(min(left, PAUSE_STEP_SECONDS))
    return go_on()

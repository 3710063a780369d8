"""The per-request log line of `cadenza-mock serve`, written in batches.

A line per request through `logging` (a LogRecord, a formatter, a flush per line) cost
more than answering a cached list; here the line is formatted directly and the lines of
one busy moment go out in a single write, at most `FLUSH_DELAY` seconds later.
"""

from __future__ import annotations

import asyncio
import sys
import time
from time import time as _time
from typing import TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from cadenza_mock.engine.journal import redact_query_string
from cadenza_mock.http.keys import HINTS_GIVEN, MALFORMED, REQUEST_STATE, USER_ID
from cadenza_mock.http.middleware import hint_header

FLUSH_DELAY = 0.05


class _Lines:
    """Lines waiting for one write; flushed from the event loop, or at shutdown."""

    def __init__(self) -> None:
        self.stream: TextIO = sys.stdout
        self._pending: list[str] = []
        self._scheduled = False
        self.second = -1
        self.stamp = ""

    def new_second(self, second: int) -> None:
        """`2026-01-15 12:00:00`: the format of the server's other log lines (then `,ms`)."""
        self.second = second
        self.stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))

    def add(self, line: str) -> None:
        self._pending.append(line)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self.stream.write(text)
            self.stream.flush()


lines = _Lines()


def _quoted(text: str) -> str:
    """Near-miss hints as the header has them (ASCII, bounded), in double quotes."""
    return '"' + text.replace('"', '\\"') + '"'


class AccessLogger(AbstractAccessLogger):
    """One line per request: time, method, path with query, status, ms, user id, and
    the namespace (`ns=`) when it was not the server's own.

    Headers, tokens and bodies are never logged; secret-named query values are redacted.
    Near-miss hints close the line (`hint="..."`); they never echo a secret.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, elapsed: float) -> None:
        query = request.query_string
        target = f"{request.path}?{redact_query_string(query)}" if query else request.path
        # A request the parser rejected has no method or path of its own to show.
        method = "-" if request.get(MALFORMED) else request.method
        target = "<malformed request>" if method == "-" else target
        given = request.get(HINTS_GIVEN)
        hint = f" hint={_quoted(hint_header(given))}" if given else ""
        state = request.get(REQUEST_STATE)  # a namespace's request says whose it was
        if state is not None and state.namespace is not None:
            hint = f" ns={state.namespace}{hint}"
        add_line(method, target, response.status, elapsed, request.get(USER_ID), hint)


def add_line(
    method: str, target: str, status: int, elapsed: float, user: str | None, hint: str = ""
) -> None:
    """Queue one request's line (`target`: the path and redacted query, as shown)."""
    now = _time()
    second = int(now)
    if second != lines.second:
        lines.new_second(second)
    lines.add(
        f"{lines.stamp},{int((now - second) * 1000):03d} INFO {method} {target} "
        f"{status} {elapsed * 1000:.1f}ms{f' user={user}' if user else ''}{hint}\n"
    )

"""The journal live: `GET /__admin/requests/stream`, server-sent events (the dashboard's).

Bounded and cheap at rest: at most `--max-streams` are open at once; an idle one waits for
its event (a record, a clear, a reset, the server stopping, its client gone) and sends a
keep-alive comment now and then, never polls; an entry is serialized once for all the
streams of its state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from weakref import WeakKeyDictionary

from aiohttp import web

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import TOO_MANY_STREAMS
from cadenza_mock.engine.state import MockState
from cadenza_mock.http.admin import admin
from cadenza_mock.http.fault_acts import connected
from cadenza_mock.http.keys import MAX_STREAMS, STOPPING, STREAMS, state_of


@admin
async def stream_requests(request: web.Request) -> web.StreamResponse:
    """The journal as server-sent events: every kept entry, then each new one as it is
    recorded (`event: request`, `id:` its seq, `data:` the entry as GET /__admin/requests
    shows it); `event: cleared` when it is emptied. A reset or a load ends the stream
    after `event: reset` (a new run numbers from 1 again), so does the server stopping.

    At most `--max-streams` are open at once (a 429 past it). An idle one costs nothing:
    it waits for its event (a record, a reset, the server stopping, its client gone, as
    `watch_streams` finds) and writes a keep-alive comment every STREAM_KEEPALIVE s."""
    app = request.app
    if request.method == "HEAD":  # the headers alone: no stream to keep open
        response = web.StreamResponse(headers=_STREAM_HEADERS)
        await response.prepare(request)
        return response
    streams = app[STREAMS]
    if len(streams) >= app[MAX_STREAMS]:
        raise TOO_MANY_STREAMS.error(
            f"{app[MAX_STREAMS]} journal streams are open (the server's --max-streams); "
            "close one, or read GET /__admin/requests instead",
            headers={"Retry-After": "1"},  # a stream whose client left is gone within 1 s
        )
    state = state_of(request)
    journal = state.journal
    generation = state.generation
    wake = asyncio.Event()
    unwatch = journal.watch(wake.set)
    state.on_reset.append(wake.set)  # a reset, load, rollback or namespace drop ends it
    streams[wake] = request
    response = web.StreamResponse(headers=_STREAM_HEADERS)
    try:
        await response.prepare(request)
        await response.write(b"retry: 1000\n\n")
        sent, clears = 0, journal.clears
        while _streaming(request, state, generation):
            wake.clear()  # before reading: a record during the writes below wakes us
            if journal.clears != clears:
                clears = journal.clears
                await response.write(sse_frame("cleared", {}))
            for number, frame in _request_frames(state, sent):
                await response.write(frame)
                sent = number
            try:
                async with asyncio.timeout(STREAM_KEEPALIVE):
                    await wake.wait()
            except TimeoutError:  # a proxy in between must not take the quiet for a hang
                await response.write(b": keep-alive\n\n")
        if state.generation != generation:
            await response.write(sse_frame("reset", {"scenario": state.scenario.name}))
    except ConnectionError:  # the client went away (aiohttp's reset errors are these)
        pass
    finally:
        unwatch()
        state.on_reset.remove(wake.set)
        streams.pop(wake, None)
        if not journal.watchers:  # the state's last stream: its frames are nobody's
            _FRAMES.pop(state, None)
    return response


# The `event: request` frames of each streamed state's entries, made once for all its
# streams (else every record is built and serialized once per open stream), keyed by the
# run and the clears they belong to; the newest _FRAMES_KEPT or so are kept.
_FRAMES: WeakKeyDictionary[MockState, tuple[tuple[int, int], dict[int, bytes]]] = (
    WeakKeyDictionary()
)
_FRAMES_KEPT = 64


def _request_frames(state: MockState, sent: int) -> list[tuple[int, bytes]]:
    """(record number, frame) of the journal's kept entries recorded after the first
    `sent` (an entry recorded late, in its arrival place, still comes as a new event)."""
    journal = state.journal
    newest = journal.records
    if newest <= sent:
        return []
    key = (state.generation, journal.clears)
    made = _FRAMES.get(state)
    if made is None or made[0] != key:
        made = _FRAMES[state] = (key, {})
    frames = made[1]
    wanted = range(sent + 1, newest + 1)
    # Made since the last clear and within the journal's bound: all still kept.
    if len(wanted) <= journal.limit and all(number in frames for number in wanted):
        return [(number, frames[number]) for number in wanted]
    found = []
    for number, entry in journal.recorded_after(sent):
        frame = frames.get(number) or sse_frame("request", entry.to_json(), entry.seq)
        frames[number] = frame
        found.append((number, frame))
    if len(frames) > 2 * _FRAMES_KEPT:
        for number in [number for number in frames if number <= newest - _FRAMES_KEPT]:
            del frames[number]
    return found


_STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # a proxy in front must not hold events back
}
# Seconds between keep-alive comments on a quiet stream, and between the checks (one for
# all streams) that their clients are still there (a run and the server say when they end).
STREAM_KEEPALIVE = 15.0
_STREAM_CHECK = 1.0


async def watch_streams(app: web.Application) -> AsyncIterator[None]:
    """Wake the journal streams whose client has gone, so each ends and frees its place
    within a second: one task and one check a second for all of them."""
    streams = app[STREAMS]

    async def watch() -> None:
        while True:
            await asyncio.sleep(_STREAM_CHECK)
            for wake, request in list(streams.items()):
                if not connected(request):
                    wake.set()

    task = asyncio.ensure_future(watch())
    yield
    task.cancel()


def _streaming(request: web.Request, state: MockState, generation: int) -> bool:
    return (
        state.generation == generation and not request.app[STOPPING].is_set() and connected(request)
    )


def sse_frame(event: str, data: Any, event_id: int | None = None) -> bytes:
    """One server-sent event; the JSON is on one line, so one `data:` field holds it."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + wire.dumps(data) + b"\n\n"

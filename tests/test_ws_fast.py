"""The WebSocket query fast path (http/ws_fast.py) answers exactly as the reader task would.

A repeated RPC query frame, alone in its chunk on a connection whose reader waits on the
socket, is answered below aiohttp's WebSocket reader. Over real sockets: the replies and
the journal are the same with the fast path on and off, whatever the frames look like
(split across chunks, several in a chunk, several commands in a frame, pings between),
and it steps aside for faults, errors and changes of state.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cadenza_mock.run.server import MockServer

TOKEN = "alice-token"
BTC = "BINANCE:BTC/USDT"


def frame_answers(mock: MockServer) -> int:
    runner = mock._runner
    assert runner is not None and runner.server is not None
    return int(getattr(runner.server, "frame_answers"))  # noqa: B009 (our _Server's)


def frame(text: str, opcode: int = 0x1) -> bytes:
    """A masked client frame (RFC 6455 5.2)."""
    payload = text.encode()
    mask = os.urandom(4)
    size = len(payload)
    head = bytes((0x80 | opcode,)) + (
        bytes((0x80 | size,)) if size < 126 else bytes((0x80 | 126,)) + struct.pack("!H", size)
    )
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawSocket:
    """A WebSocket client on a plain socket: chunks are sent exactly as given."""

    def __init__(self, mock: MockServer) -> None:
        self.sock = socket.create_connection(("127.0.0.1", mock.port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /connection/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.send(frame(json.dumps({"id": 1, "connect": {"token": TOKEN}})))
        assert "connect" in self.reply()

    def send(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.sock.sendall(chunk)
            time.sleep(0.02)  # each its own chunk at the server (mostly)

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            more = self.sock.recv(65536)
            assert more, "the server closed the socket"
            self.buffer += more
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def reply(self) -> dict[str, Any]:
        """The next text frame's JSON (pongs skipped)."""
        while True:
            first, second = self._take(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._take(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._take(8))[0]
            payload = self._take(size)
            if first & 0x0F == 0x1:
                found: dict[str, Any] = json.loads(payload)
                return found

    def close(self) -> None:
        self.sock.close()


def rpc_line(command_id: int, method: str, data: dict[str, Any] | None = None) -> str:
    return json.dumps(
        {"id": command_id, "rpc": {"method": method, "data": data or {}}}, separators=(",", ":")
    )


# Calls repeated alone: queries the fast path takes, and what it must leave alone.
CALLS = [
    ("query.credential.list", None),
    ("query.ticker.list", None),
    ("query.orderbook.get", {"instrumentId": BTC}),
    ("query.orderbook.get", {"instrumentId": BTC, "depht": 3}),  # a hint, or an error
    ("query.orderbook.get", {"instrumentId": "NOPE:X/Y"}),  # an error in the result
    ("query.system.info", None),
    ("query.no.such", None),  # the protocol's 104
]


def conversation(mock: MockServer) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every call three times, in frames of every shape; the replies and the journal."""
    client = RawSocket(mock)
    replies: list[dict[str, Any]] = []
    try:
        command_id = 10
        for method, data in CALLS:
            for _ in range(3):  # alone, one chunk each: what the fast path takes
                command_id += 1
                client.send(frame(rpc_line(command_id, method, data)))
                replies.append(client.reply())
        whole = frame(rpc_line(100, "query.ticker.list"))
        client.send(whole[:3], whole[3:9], whole[9:])  # one frame split over three chunks
        replies.append(client.reply())
        client.send(frame(rpc_line(101, "query.credential.list")))
        replies.append(client.reply())
        two = frame(rpc_line(102, "query.ticker.list")) + frame(rpc_line(103, "query.venue.list"))
        client.send(two)  # two frames in one chunk
        replies += [client.reply(), client.reply()]
        lines = rpc_line(104, "query.ticker.list") + "\n" + rpc_line(105, "query.system.info")
        client.send(frame(lines))  # two commands in one frame
        replies += [client.reply(), client.reply()]
        client.send(frame("", opcode=0x9), frame(rpc_line(106, "query.ticker.list")))  # a ping
        replies.append(client.reply())
        big = frame(rpc_line(107, "query.orderbook.get", {"instrumentId": BTC, "x": "y" * 300}))
        client.send(big[:100], big[100:] + frame(rpc_line(108, "query.ticker.list")))
        replies += [client.reply(), client.reply()]
        for command_id in range(109, 112):  # and back to the plain case
            client.send(frame(rpc_line(command_id, "query.orderbook.get", {"instrumentId": BTC})))
            replies.append(client.reply())
    finally:
        client.close()
    journal = [
        (e.method, e.path, e.query, e.body, e.status, e.user_id, e.hints, e.response)
        for e in mock.requests
        if e.method == "RPC"
    ]
    return replies, journal


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(scenario="sdk") as server:
        yield server


def test_replies_and_journal_are_the_same_with_the_fast_path_on_and_off(
    mock: MockServer,
) -> None:
    with MockServer(scenario="sdk", fast_path=False) as ordinary:
        expected = conversation(ordinary)
        assert frame_answers(ordinary) == 0
    got = conversation(mock)
    assert [r["id"] for r in got[0]] == [r["id"] for r in expected[0]]
    assert got == expected
    assert frame_answers(mock) >= 3  # the repeats sent alone (timing decides how many)
    statuses = {entry[4] for entry in got[1]}
    assert 200 in statuses and statuses - {200}  # errors were journaled too


def test_a_fault_a_set_price_and_a_reset_are_seen_at_once(mock: MockServer) -> None:
    client = RawSocket(mock)
    try:
        book = []
        for command_id in range(10, 13):
            client.send(frame(rpc_line(command_id, "query.orderbook.get", {"instrumentId": BTC})))
            book.append(client.reply()["rpc"]["data"]["data"])
        assert book[0] == book[1] == book[2] and frame_answers(mock) >= 1
        mock.market.set_price(BTC, "1000")
        client.send(frame(rpc_line(13, "query.orderbook.get", {"instrumentId": BTC})))
        moved = client.reply()["rpc"]["data"]["data"]
        assert moved != book[0] and float(moved["bids"][0][0]) < 1100
        answered = frame_answers(mock)
        fault = {"match": {"path": "query.orderbook.get"}, "respond": {"status": 503}}
        mock.add_fault(fault)
        client.send(frame(rpc_line(14, "query.orderbook.get", {"instrumentId": BTC})))
        assert "error" in client.reply()["rpc"]["data"]
        assert frame_answers(mock) == answered  # a fault is the ordinary path's
    finally:
        client.close()


def test_the_rest_of_a_frame_is_never_taken_for_a_frame(mock: MockServer) -> None:
    """A frame's second chunk that holds, byte for byte, a query frame (its payload sent
    with a zero mask) belongs to the frame aiohttp is reading: it is never answered."""
    client = RawSocket(mock)
    try:
        client.send(frame(rpc_line(10, "query.ticker.list")))  # a query it answers later
        assert client.reply()["id"] == 10
        inner = frame(rpc_line(300, "query.ticker.list"))
        payload = b"x" * 20 + inner
        outer = bytes((0x82, len(payload))) + b"\0\0\0\0" + payload  # binary, zero mask
        # A whole query and the frame's start in one chunk: the reader answers the query
        # and waits again while aiohttp holds the frame's start.
        client.send(frame(rpc_line(11, "query.ticker.list")) + outer[: 6 + 20], inner)
        assert client.reply()["id"] == 11
        with pytest.raises(AssertionError, match="closed the socket"):
            while True:  # until the server closes: a binary frame ends the connection
                assert client.reply()["id"] != 300
    finally:
        client.close()


def test_an_aiohttp_that_feeds_early_bytes_elsewhere_gets_no_tap() -> None:
    """The tap starts only where it can see every byte aiohttp's WebSocket reader gets;
    on an aiohttp that keeps them under another name, every frame goes to aiohttp."""
    from aiohttp.web_protocol import RequestHandler

    from cadenza_mock.http import ws_fast

    assert ws_fast.fence()

    class Renamed(RequestHandler):
        __slots__ = ()

        def set_parser(self, parser: Any, data_received_cb: Any = None) -> None:
            del parser, data_received_cb

    assert not ws_fast.fence(Renamed)
    assert ws_fast.install(object(), lambda *a: None, True, lambda: False) is None


def test_a_recorded_query_is_answered_as_recorded_every_time() -> None:
    """A scenario's `replay:` answers come first (docs/recording.md): a repeated query
    frame is never answered from the engine behind them."""
    recorded = {"data": {"version": "3.0.1-uat"}}
    scenario = {
        "users": [{"email": "alice@example.com", "tokens": [TOKEN]}],
        "replay": [{"user": "alice@example.com", "method": "query.system.info",
                    "result": recorded}],
    }  # fmt: skip
    with MockServer(scenario=scenario) as mock:
        client = RawSocket(mock)
        try:
            answers = []
            for command_id in range(20, 26):
                client.send(frame(rpc_line(command_id, "query.system.info")))
                answers.append(client.reply())
                time.sleep(0.01)  # each frame alone, the reader parked: the fast path's case
        finally:
            client.close()
    assert [a["rpc"]["data"] for a in answers] == [recorded] * 6

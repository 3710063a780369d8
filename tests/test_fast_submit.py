"""The submit fast path (http/fast_submit.py) answers exactly as aiohttp would.

A whole `POST /api/v3/tradeOrder/submit` the engine places is answered below aiohttp's
request machinery (issue 28: submit+fill against a bare aiohttp app). Two servers of the
same scenario, one with the fast path and one without, get the same conversation over raw
sockets, one request at a time: every answer (Date aside), every journal entry (its
duration aside), the orders and the portfolio must be the same; and what the fast path
must leave to aiohttp (refusals, bad bodies, faults, hints, odd requests) is left to it.
The suite's OpenAPI observer sees every fast answer too.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from cadenza_mock.http.fast_submit import whole_request
from cadenza_mock.run.server import MockServer

SUBMIT = "/api/v3/tradeOrder/submit"
ACCOUNT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot (accounts.yaml)
TOKEN = "alice-token"


def order(**fields: Any) -> dict[str, Any]:
    found = {
        "tradingAccountId": ACCOUNT,
        "instrumentId": "BINANCE:BTC/USDT",
        "orderSide": "BUY",
        "orderType": "MARKET",
        "quantity": "0.001",
    }
    found.update(fields)
    return {k: v for k, v in found.items() if v is not None}


def post(body: Any, *, target: str = SUBMIT, extra: bytes = b"", token: str = TOKEN) -> bytes:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (
        (
            f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(raw)}\r\n"
        ).encode()
        + extra
        + b"\r\n"
        + raw
    )


def get(target: str) -> bytes:
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
    return head.encode() + b"\r\n"


class Conversation:
    """A kept-alive connection: send a request (in the chunks given), read its answer; a
    new connection after an answer that closes it."""

    def __init__(self, server: MockServer) -> None:
        self.port = server.port
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.buffer = b""

    def ask(self, *chunks: bytes) -> bytes:
        answer = self._ask(*chunks)
        if b"\r\nConnection: close" in answer.partition(b"\r\n\r\n")[0]:
            self.sock.close()
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.buffer = b""
            self._ask(get("/api/v3/tradeOrder/list"))  # the new one idle, as before
        return answer

    def _ask(self, *chunks: bytes) -> bytes:
        for chunk in chunks:
            self.sock.sendall(chunk)
        while True:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if sep:
                length = next(
                    (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                     if line.lower().startswith(b"content-length:")),
                    0,
                )  # fmt: skip
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    return _undated(head) + b"\r\n\r\n" + rest[:length]
            more = self.sock.recv(65536)
            if not more:
                return _undated(self.buffer)
            self.buffer += more

    def close(self) -> None:
        self.sock.close()


def _undated(head: bytes) -> bytes:
    return b"\r\n".join(line for line in head.split(b"\r\n") if not line.startswith(b"Date:"))


def submit_answers(server: MockServer) -> int:
    runner = server._runner
    assert runner is not None and runner.server is not None
    path = getattr(runner.server, "submit_path")  # noqa: B009 (our _Server's)
    return 0 if path is None else int(path.answers)


def journal(server: MockServer) -> list[dict[str, Any]]:
    """Every entry as the admin API serves it, its duration aside."""
    return [{k: v for k, v in e.to_json().items() if k != "durationMs"} for e in server.calls()]


@pytest.fixture
def pair() -> Iterator[tuple[MockServer, MockServer]]:
    with (
        MockServer(scenario="accounts") as fast,
        MockServer(scenario="accounts", fast_path=False) as ordinary,
    ):
        yield fast, ordinary


# The conversation: fills, a resting LIMIT, its cancel, keys, refusals, bad bodies.
_STEPS: list[tuple[str, tuple[bytes, ...]]] = [
    ("warm-up read", (get("/api/v3/tradeOrder/list"),)),
    ("market buy", (post(order()),)),
    ("market sell", (post(order(orderSide="SELL")),)),
    ("market buy again", (post(order()),)),
    ("two levels", (post(order(quantity="0.500")),)),
    ("resting limit", (post(order(orderType="LIMIT", limitPrice="30000.00")),)),
    ("ioc limit", (post(order(orderType="LIMIT", limitPrice="30000.00", timeInForce="IOC")),)),
    ("client order id", (post(order(clientOrderId="c-1")),)),
    ("the same client order id", (post(order(clientOrderId="c-1")),)),
    ("idempotency key", (post(order(orderSide="SELL", idempotencyKey="k-1")),)),
    ("the same idempotency key", (post(order(orderSide="SELL", idempotencyKey="k-1")),)),
    ("insufficient funds", (post(order(quantity="900.000")),)),
    ("off the lot grid", (post(order(quantity="0.0000001")),)),
    ("unknown instrument", (post(order(instrumentId="BINANCE:NOPE/USDT")),)),
    (
        "someone else's account",
        (post(order(tradingAccountId="00000000-0000-4000-8000-000000000000")),),
    ),
    ("invalid JSON", (post(b'{"tradingAccountId": '),)),
    ("schema refusal", (post(order(orderSide=7)),)),
    ("a near-miss field", (post(order(side="BUY")),)),
    ("bad token", (post(order(), token="nope"),)),
    ("awaitClosed", (post(order(awaitClosed=True)),)),
    ("body in its own chunk", (post(order())[:-10], post(order())[-10:])),
    ("two submits in one chunk", (post(order()) + post(order(orderSide="SELL")),)),
    ("query string", (post(order(), target=SUBMIT + "?x=1"),)),
    ("connection keep-alive", (post(order(), extra=b"Connection: keep-alive\r\n"),)),
    ("gzip body", (post(order(), extra=b"Content-Encoding: gzip\r\n"),)),
    ("stop loss", (post(order(orderSide="SELL", orderType="STOP_LOSS", stopPrice="30000.00")),)),
    (
        "take profit limit",
        (post(order(orderType="TAKE_PROFIT_LIMIT", stopPrice="30000.00", limitPrice="30000.00")),),
    ),
    ("stop on the wrong side", (post(order(orderType="STOP", stopPrice="30000.00")),)),
    ("stop without stopPrice", (post(order(orderType="STOP")),)),
    ("quote amount", (post(order(quantityType="QUOTE", quantity="500")),)),
    ("order list", (post(order(takeProfitPrice="90000.00", stopLossPrice="30000.00")),)),
    ("exit on the wrong side", (post(order(takeProfitPrice="30000.00")),)),
    ("orders after", (get("/api/v3/tradeOrder/list"),)),
    ("portfolio after", (get("/api/v3/tradingAccount/portfolio/list"),)),
]


def _converse(server: MockServer) -> list[bytes]:
    talk = Conversation(server)
    try:
        answers = []
        for _, chunks in _STEPS:
            answer = talk.ask(*chunks)
            if len(chunks) == 1 and chunks[0].count(b"POST ") == 2:
                answer += talk.ask()  # the second answer of the pipelined pair
            answers.append(answer)
        return answers
    finally:
        talk.close()


def test_a_conversation_gets_the_same_answers_journal_and_state_both_ways(
    pair: tuple[MockServer, MockServer],
) -> None:
    fast, ordinary = pair
    got, expected = _converse(fast), _converse(ordinary)
    for (step, _), mine, theirs in zip(_STEPS, got, expected, strict=True):
        assert mine == theirs, step
    assert submit_answers(ordinary) == 0
    # The placed orders after the first submit of the connection (the warm-up read made it
    # idle) were answered below aiohttp: at least the plain ones in a row.
    assert submit_answers(fast) >= 5
    assert journal(fast) == journal(ordinary)
    assert fast.orders() == ordinary.orders() and len(fast.orders()) >= 8
    assert fast.portfolio(ACCOUNT) == ordinary.portfolio(ACCOUNT)
    statuses = {step: a.split(b"\r\n", 1)[0] for (step, _), a in zip(_STEPS, got, strict=True)}
    assert statuses["insufficient funds"] == b"HTTP/1.1 400 Bad Request"
    assert statuses["stop loss"] == statuses["quote amount"] == b"HTTP/1.1 200 OK"
    assert statuses["stop on the wrong side"] == b"HTTP/1.1 400 Bad Request"
    assert statuses["exit on the wrong side"] == b"HTTP/1.1 400 Bad Request"
    listed = dict(zip((step for step, _ in _STEPS), got, strict=True))["order list"]
    assert listed.count(b'"contingencyType":"OTOCO"') == 3  # the entry and its two exits
    assert statuses["bad token"] == b"HTTP/1.1 401 Unauthorized"
    entries = fast.calls(SUBMIT)
    assert all(e.headers["authorization"] == "<redacted>" for e in entries)
    assert TOKEN not in json.dumps([e.to_json() for e in entries])


def test_refusals_bad_bodies_hints_and_odd_requests_are_left_to_aiohttp(
    pair: tuple[MockServer, MockServer],
) -> None:
    fast, _ = pair
    talk = Conversation(fast)
    try:
        talk.ask(get("/api/v3/tradeOrder/list"))
        # Whether the first one after aiohttp's answer is taken is a matter of timing (is
        # aiohttp waiting for the next request yet?); after a fast answer it always is.
        for side in ("BUY", "SELL", "BUY"):
            assert talk.ask(post(order(orderSide=side))).startswith(b"HTTP/1.1 200 OK")
        counted = submit_answers(fast)
        assert counted >= 2
        for step, chunks in _STEPS:
            if step in (
                "insufficient funds",
                "invalid JSON",
                "a near-miss field",
                "bad token",
                "awaitClosed",
                "query string",
                "schema refusal",
                "gzip body",
            ):
                talk.ask(*chunks)  # fmt: skip
        assert submit_answers(fast) == counted
        hinted = [e for e in fast.calls(SUBMIT) if isinstance(e.body, dict) and "side" in e.body]
        assert len(hinted) == 1 and hinted[0].hints  # the near-miss: hinted
        # And the connection is still the fast path's after them.
        for side in ("SELL", "BUY", "SELL"):
            assert talk.ask(post(order(orderSide=side))).startswith(b"HTTP/1.1 200 OK")
        assert submit_answers(fast) >= counted + 2
    finally:
        talk.close()


def test_faults_and_stubs_armed_go_through_aiohttp(pair: tuple[MockServer, MockServer]) -> None:
    fast, _ = pair
    talk = Conversation(fast)
    try:
        talk.ask(get("/api/v3/tradeOrder/list"))
        fast.fail_next(503, path=SUBMIT)
        failed = talk.ask(post(order()))
        assert failed.startswith(b"HTTP/1.1 503")
        assert submit_answers(fast) == 0  # the fault's answer was aiohttp's
        assert fast.orders() == []  # and placed nothing
        for side in ("BUY", "SELL", "BUY"):
            assert talk.ask(post(order(orderSide=side))).startswith(b"HTTP/1.1 200 OK")
        assert submit_answers(fast) >= 2 and len(fast.orders()) == 3
    finally:
        talk.close()


@pytest.mark.parametrize("way", ["base URL", "header"])
def test_a_namespaces_submits_are_its_own_both_ways(
    pair: tuple[MockServer, MockServer], way: str
) -> None:
    answers = []
    for server in pair:
        created = requests.post(server.url_for("/__admin/namespaces?namespace=desk"), timeout=10)
        assert created.ok, created.text  # on the server's own scenario
        target = "/__ns/desk" + SUBMIT if way == "base URL" else SUBMIT
        extra = b"X-Cadenza-Mock-Namespace: desk\r\n" if way == "header" else b""
        talk = Conversation(server)
        try:
            talk.ask(get("/api/v3/tradeOrder/list"))
            answers.append([talk.ask(post(order(), target=target, extra=extra)) for _ in range(3)])
        finally:
            talk.close()
        assert server.orders() == []  # the server's own state placed nothing
    assert answers[0] == answers[1] and all(a.startswith(b"HTTP/1.1 200 OK") for a in answers[0])
    assert submit_answers(pair[0]) >= 1


def test_the_serve_log_has_a_line_for_every_submit(serve) -> None:
    server = serve("--scenario", "accounts")
    url, _ = server.banner()
    with requests.Session() as session:
        for side in ("BUY", "SELL") * 3:
            placed = session.post(
                url + SUBMIT,
                json=order(orderSide=side),
                headers={"Authorization": "Bearer " + TOKEN},
            )
            assert placed.ok
    code, output = server.stop()
    lines = [line for line in output.splitlines() if f" POST {SUBMIT} 200 " in line]
    assert code == 0 and len(lines) == 6
    assert all(line.endswith("user=4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11") for line in lines)
    assert not any(TOKEN in line for line in lines)


@pytest.mark.parametrize(
    ("data", "whole"),
    [
        (post(order()), True),
        (post(order())[:-1], False),
        (post(order()) + b"x", False),
        (post(order()) + post(order()), False),
        (get("/api/v3/tradeOrder/list"), False),  # no body: ends_plain's
        (post(order(), extra=b"Transfer-Encoding: chunked\r\n"), False),
        (post(order(), extra=b"Content-Length: 3\r\n"), False),
        (post(order(), extra=b"Upgrade: websocket\r\n"), False),
    ],
)
def test_whole_request_knows_a_chunk_that_ends_between_requests(data: bytes, whole: bool) -> None:
    assert whole_request(data) is whole


def test_a_connection_that_submitted_keeps_the_list_fast_path(
    pair: tuple[MockServer, MockServer],
) -> None:
    """A whole request with a body leaves aiohttp's parser between requests: the list
    fast path may answer the next list call on that connection (it could not before)."""
    fast, _ = pair
    runner = fast._runner
    assert runner is not None and runner.server is not None
    talk = Conversation(fast)
    try:
        talk.ask(post(b"{}"))  # a 400 of aiohttp's, with a body
        lists = [talk.ask(get("/api/v3/credential/list")) for _ in range(4)]
    finally:
        talk.close()
    assert all(a == lists[0] and a.startswith(b"HTTP/1.1 200 OK") for a in lists)
    assert getattr(runner.server, "fast_answers") >= 2  # noqa: B009 (our _Server's)

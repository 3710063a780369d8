"""Slow and vanishing clients: half-sent requests are closed after the read timeout, a
body that never arrives is a 400, and neither stops a normal client being answered."""

from __future__ import annotations

import json
import socket
import time

import requests
from support import ALICE, LIST

from cadenza_mock import MockServer

CREATE = "/api/v3/credential/create"


def _connect(mock: MockServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", mock.port), timeout=10)


def test_half_sent_headers_are_closed_after_the_read_timeout():
    with MockServer("default", read_timeout=0.5) as mock:
        conn = _connect(mock)
        conn.sendall(b"GET /api/v3/credential/list HTTP/1.1\r\nHost: localhost\r\n")
        started = time.monotonic()
        assert conn.recv(100) == b""  # closed, no answer
        assert 0.4 < time.monotonic() - started < 5
        conn.close()


def test_a_body_that_never_arrives_is_400_after_the_read_timeout():
    with MockServer("default", read_timeout=0.5) as mock:
        conn = _connect(mock)
        conn.sendall(
            f"POST {CREATE} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"venue"'.encode()
        )
        answer = b""
        while not answer.endswith(b"}"):  # the envelope, without waiting for the close
            answer += conn.recv(65536)
        conn.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400")
        assert json.loads(body)["errno"] == -19001
        assert len(mock.credentials()) == 4


def test_slow_clients_do_not_stop_a_normal_one():
    with MockServer("default", read_timeout=30) as mock:
        slow = [_connect(mock) for _ in range(200)]
        for conn in slow:
            conn.sendall(b"GET /api/v3/credential/list HTTP/1.1\r\nHost: localhost\r\nX-A: ")
        started = time.monotonic()
        for _ in range(20):
            assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).ok
        assert time.monotonic() - started < 5
        for conn in slow:
            conn.close()


def test_a_client_that_vanishes_mid_body_leaves_the_server_answering():
    with MockServer("default") as mock:
        conn = _connect(mock)
        conn.sendall(
            f"POST {CREATE} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
            'Content-Length: 500\r\n\r\n{"venue": "BIN'.encode()
        )
        time.sleep(0.1)
        conn.close()
        assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).ok
        assert len(mock.credentials()) == 4
        mock.check_handler_errors()

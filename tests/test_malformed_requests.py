"""Requests aiohttp's parser rejects (bad bytes, oversized lines, unknown methods) are a
400 in the envelope, logged without the request; an undecodable admin token is a 401."""

from __future__ import annotations

import json
import re
import socket

import requests
from support import ALICE, LIST

from cadenza_mock import MockServer

CANARY = "Zq8canary-value-must-never-leave-41x"


def test_non_utf8_admin_token_is_the_same_401(serve):
    with MockServer("default", admin_token="adm1n") as mock:
        host, port = "127.0.0.1", mock.port
        with socket.create_connection((host, port), timeout=10) as conn:
            conn.sendall(
                b"GET /__admin/scenario HTTP/1.1\r\nHost: localhost\r\nX-Admin-Token: \xff\xfe\r\n"
                b"Connection: close\r\n\r\n"
            )
            answer = _read_all(conn)
        assert answer.startswith(b"HTTP/1.1 401")
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["errno"] == -19002
        mock.check_handler_errors()  # no crash behind it


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- parser errors

PARSER_REJECTS = {
    "non-ASCII in the query": f"GET {LIST}?apiSecret={CANARY}&x=\xc3\xa9 HTTP/1.1\r\n".encode(
        "latin-1"
    )
    + b"Host: localhost\r\n\r\n",
    "control byte in a header": f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
    f"X-Api-Secret: {CANARY}\x01\r\n\r\n".encode(),
    "NUL in the bearer token": f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
    f"Authorization: Bearer {CANARY}\x00\r\n\r\n".encode(),
    "header over 8190 bytes": f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
    f"Authorization: Bearer {CANARY}{'a' * 9000}\r\n\r\n".encode(),
    "request line over 8190 bytes": f"GET {LIST}?token={CANARY}{'a' * 9000} HTTP/1.1\r\n"
    "Host: localhost\r\n\r\n".encode(),
    "too many headers": (
        f"GET {LIST} HTTP/1.1\r\nHost: localhost\r\n"
        + "".join(f"X-H{i}: {CANARY}\r\n" for i in range(200))
        + "\r\n"
    ).encode(),
    "unknown method": f"BR{CANARY} {LIST} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(),
    "bad request line": f"{CANARY}\r\n\r\n".encode(),
}


def test_parser_rejects_are_enveloped_and_logged_without_the_request(serve):
    served = serve("--scenario", "default")
    url, _ = served.banner()
    host, port = url.removeprefix("http://").split(":")
    for case, raw in PARSER_REJECTS.items():
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(raw)
            answer = _read_all(conn)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert re.match(rb"HTTP/1\.[01] 400 ", head), (case, head)
        assert b"Content-Type: application/json" in head, case
        envelope = json.loads(body)
        assert envelope["errno"] == -19001 and envelope["success"] is False, case
        assert envelope["error"].startswith("Bad request: "), case
        assert CANARY.encode() not in answer, case
    # The server keeps answering everyone else.
    assert requests.get(url + LIST, headers=ALICE, timeout=10).status_code == 200
    code, output = served.stop()
    assert code == 0
    assert CANARY not in output
    assert "Traceback" not in output and "ERROR" not in output
    assert output.count("rejected a malformed request") == len(PARSER_REJECTS)

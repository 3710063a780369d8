"""The journal stream (GET /__admin/requests/stream) within bounds, over real sockets: at
most `--max-streams` open at once (a 429 in the envelope past it, a place freed as soon as
a client leaves), and an idle stream that costs nothing: it wakes for what happens and a
keep-alive comment, never to poll.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
import requests
from aiohttp.test_utils import TestClient
from support import ALICE, LIST, MakeClient, run_cli

from cadenza_mock.http import journal_stream

STREAM = "/__admin/requests/stream"
READ_TIMEOUT = 5.0


async def opened(client: TestClient, path: str = STREAM, **headers: str) -> Any:
    """An open stream, its first frame (`retry:`) read."""
    stream = await client.get(path, headers=headers)
    assert stream.status == 200, await stream.text()
    async with asyncio.timeout(READ_TIMEOUT):
        assert await stream.content.readuntil(b"\n\n") == b"retry: 1000\n\n"
    return stream


async def refused(response: Any, limit: int) -> None:
    assert response.status == 429, await response.text()
    assert response.headers["Retry-After"] == "1"
    answer = await response.json()
    assert answer["errno"] == -18011 and answer["data"] is None
    assert answer["error"] == (
        f"Too many streams: {limit} journal streams are open (the server's --max-streams); "
        "close one, or read GET /__admin/requests instead"
    )


async def test_streams_past_the_cap_are_refused_until_one_closes(make_client: MakeClient) -> None:
    client = await make_client("default", max_streams=2)
    assert (await client.post("/__admin/namespaces?namespace=ns")).status == 200
    first = await opened(client)
    second = await opened(client, "/__admin/namespaces/ns/requests/stream")  # one cap for all
    await refused(await client.get(STREAM), 2)
    await refused(await client.get(STREAM, headers={"X-Cadenza-Mock-Namespace": "ns"}), 2)
    head = await client.head(STREAM)  # the headers alone open nothing
    assert head.status == 200 and head.content_type == "text/event-stream"
    # The open ones still work: a request reaches the server's own stream.
    assert (await client.get(LIST, headers=ALICE)).status == 200
    async with asyncio.timeout(READ_TIMEOUT):
        frame = await first.content.readuntil(b"\n\n")
    assert frame.startswith(b"event: request\nid: 1\n")
    first.close()  # the client leaves: its place is free again within a second or so
    for _ in range(50):  # bounded: 5 s
        again = await client.get(STREAM)
        if again.status == 200:
            again.close()
            break
        await refused(again, 2)
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("a closed stream never freed its place")
    second.close()


async def test_an_idle_stream_waits_for_events_not_a_timer(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each turn of a stream's loop checks `_streaming`: counted, an idle stream turns
    once when it opens and once per record, however long it stays quiet."""
    turns = []
    streaming = journal_stream._streaming
    monkeypatch.setattr(
        journal_stream, "_streaming", lambda *args: turns.append(1) or streaming(*args)
    )
    client = await make_client("default")
    stream = await opened(client)
    await asyncio.sleep(1.6)  # three turns of the half-second poll this replaced
    assert len(turns) == 1
    assert (await client.get(LIST, headers=ALICE)).status == 200
    async with asyncio.timeout(READ_TIMEOUT):
        assert (await stream.content.readuntil(b"\n\n")).startswith(b"event: request")
    await asyncio.sleep(0.5)
    assert len(turns) == 2
    stream.close()


async def test_an_entry_is_serialized_once_for_all_the_streams(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    frame = journal_stream.sse_frame
    monkeypatch.setattr(
        journal_stream, "sse_frame", lambda event, *a: made.append(event) or frame(event, *a)
    )
    client = await make_client("default")
    streams = [await opened(client) for _ in range(3)]
    for _ in range(2):
        assert (await client.get(LIST, headers=ALICE)).status == 200
    got = []
    for stream in streams:
        async with asyncio.timeout(READ_TIMEOUT):
            got.append([await stream.content.readuntil(b"\n\n") for _ in range(2)])
        stream.close()
    assert got[0] == got[1] == got[2]
    assert [frame.split(b"\n")[:2] for frame in got[0]] == [
        [b"event: request", b"id: 1"],
        [b"event: request", b"id: 2"],
    ]
    assert made == ["request", "request"]  # not one per stream
    # A stream opened later gets the kept entries too, as they were sent before.
    late = await opened(client)
    async with asyncio.timeout(READ_TIMEOUT):
        assert [await late.content.readuntil(b"\n\n") for _ in range(2)] == got[0]
    late.close()


async def test_a_quiet_stream_gets_keep_alive_comments(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_stream, "STREAM_KEEPALIVE", 0.2)
    client = await make_client("default")
    stream = await opened(client)
    async with asyncio.timeout(READ_TIMEOUT):
        for _ in range(2):
            assert await stream.content.readuntil(b"\n\n") == b": keep-alive\n\n"
    stream.close()


def _raw_stream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
    sock.sendall(f"GET {STREAM} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 200 OK"), head
    return sock


def test_the_cap_in_serve_by_flag_and_variable(serve: Any) -> None:
    result = run_cli("serve", "--port", "0", "--max-streams", "many", timeout=30)
    assert result.returncode == 2 and "--max-streams" in result.stderr
    assert "expected an integer" in result.stderr and result.stdout == ""
    for args, env in ((["--max-streams", "1"], None), ([], {"CADENZA_MOCK_MAX_STREAMS": "1"})):
        served = serve("--quiet", *args, env=env)
        url, _ = served.banner()
        port = int(url.rsplit(":", 1)[1])
        sock = _raw_stream(port)
        over = requests.get(url + STREAM, timeout=10)
        assert over.status_code == 429 and "--max-streams" in over.json()["error"]
        sock.close()  # without a word: the server finds it gone
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with requests.get(url + STREAM, stream=True, timeout=10) as again:
                if again.status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("a stream whose client left kept its place")
        assert served.stop()[0] == 0

"""Market channel fan-out and idle cost: what a clock move costs 100 subscribers, and what
a server with no subscriber spends.

1. Fan-out. `cadenza-mock serve` (the bundled `default` scenario, its clock frozen) with an
   order book subscription on BINANCE:BTC/USDT; N WebSocket connections (default 100),
   each subscribed to `market:orderbook:BINANCE:BTC/USDT` and
   `market:ticker:BINANCE:BTC/USDT`, read by a minimal raw WebSocket client that times
   each frame as its bytes arrive (aiohttp's client would add its own parsing to every
   latency). Then M moves (`POST /__admin/clock {"advance": 1}`, one at a time): the
   delivery latency is, per subscriber and publication, the time from sending the POST
   to the arrival of the frame that holds it (so it includes the admin call). The table
   gives p50, p99 and max over all N x M x 2 publications, and every one is checked (the
   DIFF, then the ticker of the new instant, per subscriber).
   The same run measures a bare aiohttp app writing the same frame to N WebSockets on a
   POST (`BARE_FANOUT`), the floor of this machine.
2. Idle CPU. The server's process CPU time (user + system, /proc) over S seconds with no
   subscriber: a fresh server, and the fan-out server after its subscribers left (the
   market timer must have ended). `--baseline DIR` also measures a fresh server of another
   checkout (its package through PYTHONPATH), for a before column.

The server is pinned to core 0 (taskset, when there), the clients run here. Bounded: N
connections, M moves, 127.0.0.1 only; the servers are stopped at the end.

    python bench/bench_market_feed.py                  # about 40 s
    python bench/bench_market_feed.py --baseline DIR --write
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from _common import REPO_ROOT, machine_description, package_revision, write_section

TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ID = "BINANCE:BTC/USDT"
CHANNELS = (f"market:orderbook:{ID}", f"market:ticker:{ID}")

# The baseline: a bare aiohttp app that keeps N WebSockets and, on POST /move, writes the
# one frame our server sent for a move (the DIFF and the ticker, newline-separated) to each.
BARE_FANOUT = r"""
import sys
from aiohttp import web

text = open(sys.argv[2], "rb").read().decode()
sockets = []

async def websocket(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    sockets.append(ws)
    async for _ in ws:
        pass
    return ws

async def move(request):
    for ws in sockets:
        await ws.send_str(text)
    return web.Response(text="{}")

app = web.Application()
app.router.add_get("/connection/websocket", websocket)
app.router.add_post("/move", move)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(package_dir: Path, port: int) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "cadenza_mock", "serve", "--port", str(port), "--quiet"]
    if shutil.which("taskset"):
        args = ["taskset", "-c", "0", *args]
    env = {**os.environ, "PYTHONPATH": str(package_dir)}
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"serve did not listen on {port}")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _idle_cpu(pid: int, seconds: float) -> float:
    before = _cpu_seconds(pid)
    time.sleep(seconds)
    return _cpu_seconds(pid) - before


class _RawSocket(asyncio.Protocol):
    """A minimal WebSocket client: frames timed as their bytes arrive, so 100 of them cost
    this process little (aiohttp's client would add its own parsing to every latency)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.upgraded = False
        self.frames: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self.last = b""  # the last whole frame

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            assert head.startswith(b"HTTP/1.1 101"), head
            self.upgraded, self.buffer = True, rest
        while len(self.buffer) >= 2:
            size, at = self.buffer[1] & 0x7F, 2
            if size == 126:
                if len(self.buffer) < 4:
                    return
                size, at = int.from_bytes(self.buffer[2:4], "big"), 4
            elif size == 127:
                if len(self.buffer) < 10:
                    return
                size, at = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < at + size:
                return
            # One frame may hold several pushes, newline-separated (Centrifugo's batching).
            self.last = self.buffer[at : at + size]
            for line in self.last.split(b"\n"):
                self.frames.put_nowait((now, line))
            self.buffer = self.buffer[at + size :]

    def send(self, message: dict[str, object]) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        size = len(payload)
        head = (
            bytes([0x81, 0x80 | size])
            if size < 126
            else bytes([0x81, 0xFE]) + size.to_bytes(2, "big")
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None
        self.transport.write(head + mask + masked)

    async def next(self) -> tuple[float, dict[str, object]]:
        at, payload = await asyncio.wait_for(self.frames.get(), 10)
        found: dict[str, object] = json.loads(payload)
        return at, found


async def _raw(port: int) -> _RawSocket:
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_connection(_RawSocket, "127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    transport.write(
        (
            "GET /connection/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    return client


async def _fan_out(port: int, subscribers: int, moves: int) -> tuple[list[float], int, bytes]:
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        r = await session.post(
            f"{url}/api/v3/market/subscription/orderBook/subscribe",
            json={"instrumentId": ID},
            headers=AUTH,
        )
        assert r.status == 200, await r.text()
        sockets = []
        for _ in range(subscribers):
            client = await _raw(port)
            client.send({"id": 1, "connect": {"token": TOKEN}})
            assert "connect" in (await client.next())[1]
            for n, channel in enumerate(CHANNELS, 2):
                client.send({"id": n, "subscribe": {"channel": channel}})
            # Two replies and two first publications (the SNAPSHOT, the ticker).
            for _ in range(4):
                await client.next()
            sockets.append(client)
        latencies: list[float] = []
        checked = 0
        for _ in range(moves):
            sent = time.perf_counter()
            r = await session.post(f"{url}/__admin/clock", json={"advance": 1})
            assert r.status == 200
            for client in sockets:
                (t1, book), (t2, tick) = await client.next(), await client.next()
                book_push, tick_push = book["push"], tick["push"]
                assert isinstance(book_push, dict) and isinstance(tick_push, dict)
                assert book_push["channel"] == CHANNELS[0], book_push
                assert book_push["pub"]["data"]["updateType"] == "DIFF"
                assert tick_push["channel"] == CHANNELS[1], tick_push
                latencies += [(t1 - sent) * 1000, (t2 - sent) * 1000]
                checked += 2
        sample = sockets[0].last
        for client in sockets:
            assert client.transport is not None
            client.transport.close()
    return latencies, checked, sample


async def _bare_fan_out(port: int, subscribers: int, moves: int) -> list[float]:
    sockets = [await _raw(port) for _ in range(subscribers)]
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        await asyncio.sleep(0.5)  # every upgrade answered and kept
        for _ in range(moves):
            sent = time.perf_counter()
            r = await session.post(f"http://127.0.0.1:{port}/move")
            assert r.status == 200
            for client in sockets:
                (t1, _), (t2, _) = await client.next(), await client.next()
                latencies += [(t1 - sent) * 1000, (t2 - sent) * 1000]
    for client in sockets:
        assert client.transport is not None
        client.transport.close()
    return latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--moves", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--baseline", type=Path, help="another checkout, for a before column")
    parser.add_argument("--write", action="store_true", help="record in bench/README.md")
    args = parser.parse_args(argv)
    if not 1 <= args.subscribers <= 500 or not 1 <= args.moves <= 1000:
        parser.error("--subscribers 1..500, --moves 1..1000")

    load_before = os.getloadavg()[0]
    rows = []
    port = _free_port()
    server = _start(REPO_ROOT, port)
    try:
        fresh_idle = _idle_cpu(server.pid, args.idle_seconds)
        latencies, checked, sample = asyncio.run(_fan_out(port, args.subscribers, args.moves))
        time.sleep(1.5)  # the market timer ends at its next tick once nobody listens
        after_idle = _idle_cpu(server.pid, args.idle_seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows.append(
        (
            "idle CPU, fresh server, no subscriber (baseline: the checkout given)",
            "not measured",
            f"{fresh_idle * 1000:.0f} ms",
        )
    )
    rows.append(("idle CPU after the subscribers left", "", f"{after_idle * 1000:.0f} ms"))
    if args.baseline is not None:
        port = _free_port()
        base = _start(args.baseline.resolve(), port)
        try:
            base_idle = _idle_cpu(base.pid, args.idle_seconds)
        finally:
            base.terminate()
            base.wait(timeout=30)
        rows[0] = (rows[0][0], f"{base_idle * 1000:.0f} ms", rows[0][2])
    with tempfile.TemporaryDirectory() as folder:
        frame = Path(folder) / "frame.txt"
        frame.write_bytes(sample)
        port = _free_port()
        args_bare = [sys.executable, "-c", BARE_FANOUT, str(port), str(frame)]
        if shutil.which("taskset"):
            args_bare = ["taskset", "-c", "0", *args_bare]
        bare = subprocess.Popen(args_bare)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            bare_latencies = asyncio.run(_bare_fan_out(port, args.subscribers, args.moves))
        finally:
            bare.terminate()
            bare.wait(timeout=30)
    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    fan = (
        f"delivery after a clock move, {args.subscribers} subscribers x 2 channels "
        f"x {args.moves} moves, {checked} publications checked (baseline: a bare aiohttp "
        "app writing the same frame)"
    )
    spread = f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(latencies):.2f} ms"
    b50, b99 = _percentile(bare_latencies, 0.5), _percentile(bare_latencies, 0.99)
    bare_spread = f"p50 {b50:.2f} ms, p99 {b99:.2f} ms, max {max(bare_latencies):.2f} ms"
    rows.append((fan, bare_spread, spread))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python bench/bench_market_feed.py" + (
        " --baseline DIR" if args.baseline is not None else ""
    )
    lines = [
        "### Market channels (`bench_market_feed.py`)",
        "",
        f"{stamp}, {machine_description()}, package {package_revision()}; `{command}` "
        f"(idle over {args.idle_seconds:g} s of process CPU time; latencies from sending "
        "the admin clock POST to each frame's arrival; the machine's load average was "
        f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run).",
        "",
        "| measure | baseline | cadenza-mock |",
        "|---|---|---|",
        *(f"| {name} | {before} | {now} |" for name, before, now in rows),
    ]
    text = "\n".join(lines)
    print(text)
    print(f"(mean {statistics.fmean(latencies):.2f} ms)")
    if args.write:
        write_section("bench_market_feed", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

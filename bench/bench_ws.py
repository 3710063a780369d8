"""RPC round trips over the WebSocket API: cadenza-mock vs a bare aiohttp WebSocket echo.

`query.credential.list` on the bundled `sdk` scenario (profile sdk, 12 credentials) is
called by C client connections, each sending its next call when the previous reply
arrived. The baseline is a bare aiohttp WebSocket endpoint answering every frame with the
very bytes cadenza-mock answers (captured first, with the command id patched in), so the
difference is our own work: parsing the command, authentication state, the RPC table,
the engine, serialization and the journal. Both servers run as subprocesses pinned to
core 0 (taskset, when there), the clients in this process on core 1; runs alternate.

    python bench/bench_ws.py            # print the table
    python bench/bench_ws.py --write    # ...and record it in bench/README.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from _common import REPO_ROOT, machine_description, package_revision, write_section

WS_PATH = "/connection/websocket"
TOKEN = "alice-token"  # the bundled sdk scenario's static token
CALL = {"method": "query.credential.list", "data": {}}
RPC_BODY = json.dumps(CALL, separators=(",", ":"))

BARE_ECHO = r"""
import sys
from aiohttp import web

reply = open(sys.argv[2], "rb").read().decode()
head, tail = reply.split('"id":0', 1)

async def handler(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        # The same bytes, the command id copied in: the least a server can do.
        command_id = message.data[6:message.data.index(",")]
        await ws.send_str(head + '"id":' + command_id + tail)
    return ws

app = web.Application()
app.router.add_get("/connection/websocket", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pinned(args: list[str], core: int) -> list[str]:
    return ["taskset", "-c", str(core), *args] if shutil.which("taskset") else args


def _wait_up(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


async def _session(url: str) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(url)
    await ws.send_str(json.dumps({"id": 1, "connect": {"token": TOKEN}}))
    reply = json.loads((await ws.receive()).data)
    if "connect" not in reply and "rpc" not in reply:
        raise RuntimeError(f"connect refused: {reply}")
    return session, ws


async def _capture(url: str) -> str:
    """cadenza-mock's reply to the call, with the id set to 0 (the echo's template)."""
    session, ws = await _session(url)
    try:
        await ws.send_str(json.dumps({"id": 2, "rpc": CALL}, separators=(",", ":")))
        reply = json.loads((await ws.receive()).data)
        reply["id"] = 0
        return json.dumps(reply, separators=(",", ":"))
    finally:
        await ws.close()
        await session.close()


async def _load(url: str, connections: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def one() -> None:
        session, ws = await _session(url)
        command_id = 10
        try:
            while time.perf_counter() < stop_at:
                command_id += 1
                frame = f'{{"id":{command_id},"rpc":{RPC_BODY}}}'
                started = time.perf_counter()
                await ws.send_str(frame)
                message = await ws.receive()
                if message.type != aiohttp.WSMsgType.TEXT or '"rpc"' not in message.data:
                    raise RuntimeError(f"bad reply: {message}")
                latencies.append(time.perf_counter() - started)
        finally:
            await ws.close()
            await session.close()

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "calls": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="record in bench/README.md")
    args = parser.parse_args(argv)
    if shutil.which("taskset"):
        os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})

    ours_port, bare_port = _free_port(), _free_port()
    serve = [sys.executable, "-m", "cadenza_mock", "serve", "--scenario", "sdk", "--quiet"]
    ours = subprocess.Popen(
        _pinned([*serve, "--port", str(ours_port)], 0),
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bare: subprocess.Popen[bytes] | None = None
    try:
        _wait_up(ours_port)
        ours_url = f"ws://127.0.0.1:{ours_port}{WS_PATH}"
        with tempfile.TemporaryDirectory() as tmp:
            script, reply = Path(tmp, "echo.py"), Path(tmp, "reply.json")
            script.write_text(BARE_ECHO)
            reply.write_text(asyncio.run(_capture(ours_url)))
            bare = subprocess.Popen(
                _pinned([sys.executable, str(script), str(bare_port), str(reply)], 0),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait_up(bare_port)
            bare_url = f"ws://127.0.0.1:{bare_port}{WS_PATH}"
            results: dict[str, list[dict[str, float]]] = {"cadenza-mock": [], "bare aiohttp": []}
            for url in (ours_url, bare_url):  # warm-up
                asyncio.run(_load(url, args.connections, 1.0))
            for _ in range(args.runs):
                results["cadenza-mock"].append(
                    asyncio.run(_load(ours_url, args.connections, args.seconds))
                )
                results["bare aiohttp"].append(
                    asyncio.run(_load(bare_url, args.connections, args.seconds))
                )
    finally:
        for process in (ours, bare):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    ratios = sorted(
        o["per_s"] / b["per_s"]
        for o, b in zip(results["cadenza-mock"], results["bare aiohttp"], strict=True)
    )
    lines = [
        "### WebSocket RPC: query.credential.list",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}; "
        f"cadenza-mock at commit {package_revision()}.",
        "",
        f"Settings: {args.connections} client connections, each sending its next call when "
        f"the reply arrived; {args.runs} x {args.seconds:g} s runs alternating between the "
        "servers after a 1 s warm-up each; medians of the runs. Servers on core 0, clients "
        "on core 1. cadenza-mock is `serve --scenario sdk --quiet` (journal on).",
        "",
        f"Command: `python bench/bench_ws.py --connections {args.connections} "
        f"--seconds {args.seconds:g} --runs {args.runs} --write`",
        "",
        "| server | calls/s | p50 ms | p99 ms | ours / bare calls/s |",
        "|---|---|---|---|---|",
    ]
    for name in results:
        ratio = (
            f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
            if name == "cadenza-mock"
            else ""
        )
        lines.append(
            f"| {name} | {median(name, 'per_s'):,.0f} | {median(name, 'p50_ms'):.2f} "
            f"| {median(name, 'p99_ms'):.2f} | {ratio} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_section("bench_ws", table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

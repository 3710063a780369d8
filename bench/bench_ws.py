"""RPC round trips over the WebSocket API: cadenza-mock vs a bare aiohttp WebSocket echo.

Each method (`--methods`; default `query.credential.list`, `query.ticker.list` and
`query.orderbook.get` of BINANCE:BTC/USDT) on the bundled `sdk` scenario (profile sdk, 12
credentials, the default market, a frozen clock) is called by C client connections, each
sending its next call when the previous reply arrived. The baseline is a bare aiohttp
WebSocket endpoint answering every frame with the very bytes cadenza-mock answers
(captured first, with the command id patched in), so the difference is our own work:
parsing the command, authentication state, the RPC table, the engine, serialization and
the journal. `--baseline DIR` also measures the package of another checkout (a before
column). The servers run as subprocesses pinned to core 0 (taskset, when there), the
clients in this process on core 1; runs alternate; the servers' CPU time is read from
/proc, so calls per server CPU-second can be compared on a shared machine. 127.0.0.1
only; about methods x servers x (1 + runs x seconds) seconds (1 minute by default).

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
from bench_list import process_cpu_s

OURS = "cadenza-mock"
BEFORE = "cadenza-mock (baseline)"
BARE = "bare aiohttp"

WS_PATH = "/connection/websocket"
TOKEN = "alice-token"  # the bundled sdk scenario's static token
METHODS: dict[str, dict[str, str]] = {
    "query.credential.list": {},
    "query.ticker.list": {},
    "query.orderbook.get": {"instrumentId": "BINANCE:BTC/USDT"},
}

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


def _rpc_body(method: str) -> str:
    return json.dumps({"method": method, "data": METHODS.get(method, {})}, separators=(",", ":"))


async def _capture(url: str, rpc_body: str) -> str:
    """cadenza-mock's reply to the call, with the id set to 0 (the echo's template)."""
    session, ws = await _session(url)
    try:
        await ws.send_str(f'{{"id":2,"rpc":{rpc_body}}}')
        text = (await ws.receive()).data
        if not text.startswith('{"id":2,"rpc":{"data":') or '"error"' in text[:40]:
            raise RuntimeError(f"not an answer: {text[:300]}")
        return '{"id":0' + text[len('{"id":2') :]
    finally:
        await ws.close()
        await session.close()


async def _load(url: str, connections: int, seconds: float, rpc_body: str) -> dict[str, float]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def one() -> None:
        session, ws = await _session(url)
        command_id = 10
        try:
            while time.perf_counter() < stop_at:
                command_id += 1
                frame = f'{{"id":{command_id},"rpc":{rpc_body}}}'
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


def _server(argv: list[str], pythonpath: Path | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if pythonpath is not None:  # another checkout's package, not this tree's (-P)
        env["PYTHONPATH"] = str(pythonpath.resolve())
        argv = [argv[0], "-P", *argv[1:]]
    return subprocess.Popen(
        _pinned(argv, 0),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _measure(
    url: str, pid: int, connections: int, seconds: float, rpc_body: str
) -> dict[str, float]:
    cpu0 = process_cpu_s(pid)
    run = asyncio.run(_load(url, connections, seconds, rpc_body))
    run["per_cpu_s"] = run["calls"] / max(process_cpu_s(pid) - cpu0, 1e-9)
    return run


def bench_method(
    args: argparse.Namespace, method: str, tmp: Path
) -> dict[str, list[dict[str, float]]]:
    """Every server's runs of one method (the servers start and stop here)."""
    rpc_body = _rpc_body(method)
    serve = [sys.executable, "-m", "cadenza_mock", "serve", "--scenario", "sdk", "--quiet"]
    wanted: list[tuple[str, Path | None]] = [(OURS, None)]
    if args.baseline is not None:
        wanted.append((BEFORE, args.baseline))
    servers: list[tuple[str, str, subprocess.Popen[bytes]]] = []
    try:
        reply = ""
        for label, package in wanted:
            port = _free_port()
            servers.append(
                (
                    label,
                    f"ws://127.0.0.1:{port}{WS_PATH}",
                    _server([*serve, "--port", str(port)], package),
                )
            )
            _wait_up(port)
            got = asyncio.run(_capture(servers[-1][1], rpc_body))
            if reply and got != reply:
                raise RuntimeError(f"{label} answers other bytes than {OURS}")
            reply = got
        script, reply_file = tmp / "echo.py", tmp / "reply.json"
        script.write_text(BARE_ECHO)
        reply_file.write_text(reply)
        port = _free_port()
        bare = _server([sys.executable, str(script), str(port), str(reply_file)])
        servers.append((BARE, f"ws://127.0.0.1:{port}{WS_PATH}", bare))
        _wait_up(port)
        for _, url, process in servers:  # warm-up
            _measure(url, process.pid, args.connections, 1.0, rpc_body)
        results: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in servers}
        for _ in range(args.runs):
            for label, url, process in servers:
                run = _measure(url, process.pid, args.connections, args.seconds, rpc_body)
                print(f"  {method} {label}: {run['per_s']:,.0f} calls/s", file=sys.stderr)
                results[label].append(run)
        return results
    finally:
        for _, _, process in servers:
            process.terminate()
            process.wait(timeout=10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measured run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), help="RPC methods (default: %(default)s)"
    )
    parser.add_argument("--baseline", type=Path, help="another checkout to measure beside this one")
    parser.add_argument("--write", action="store_true", help="record in bench/README.md")
    args = parser.parse_args(argv)
    if shutil.which("taskset"):
        os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods:
            results[method] = bench_method(args, method, Path(tmp))

    baseline = " --baseline DIR" if args.baseline else ""
    lines = [
        "### WebSocket RPC: queries",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}; "
        f"cadenza-mock at commit {package_revision()}.",
        "",
        f"Settings: {args.connections} client connections, each sending its next call when "
        f"the reply arrived; {args.runs} x {args.seconds:g} s runs alternating between the "
        "servers after a 1 s warm-up each; medians of the runs. Servers on core 0, clients "
        "on core 1. cadenza-mock is `serve --scenario sdk --quiet` (journal on). Ratios: "
        "medians of the per-run ratios to the bare WebSocket; `per CPU-s`: calls per "
        "second of the server's CPU time.",
        "",
        f"Command: `python bench/bench_ws.py --connections {args.connections} "
        f"--seconds {args.seconds:g} --runs {args.runs}{baseline} --write`",
        "",
        "| method | server | calls/s | p50 ms | p99 ms | / bare | per CPU-s | / bare |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for method, runs in results.items():
        bare = runs[BARE]
        for name, mine in runs.items():
            pairs = list(zip(mine, bare, strict=True))
            ratio = statistics.median(m["per_s"] / b["per_s"] for m, b in pairs)
            cpu = statistics.median(m["per_cpu_s"] / b["per_cpu_s"] for m, b in pairs)
            lines.append(
                f"| `{method}` | {name} | {statistics.median(r['per_s'] for r in mine):,.0f} "
                f"| {statistics.median(r['p50_ms'] for r in mine):.2f} "
                f"| {statistics.median(r['p99_ms'] for r in mine):.2f} | {ratio:.2f} "
                f"| {statistics.median(r['per_cpu_s'] for r in mine):,.0f} | {cpu:.2f} |"
            )
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_section("bench_ws", table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

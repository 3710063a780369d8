"""What an abusive WebSocket client costs the server: memory and other clients' latency.

Four parts, each on a fresh `cadenza-mock serve --quiet` (bundled `default` scenario,
journal on) pinned to core 0; the abusive client runs in a child process and the
measuring clients in this one, both on core 1 (taskset, when there):

- slow reader: a connection that sends frames of 100 `query.credential.list` RPCs as
  fast as the socket takes them and never reads a reply, for `--seconds`; a connection
  the server cuts is replaced by a new one. Then the client goes (its process
  exits) and the server's RSS is read again after `--settle` seconds.
- pong flood: frames of 349,522 `{}` lines (1 MiB), sent before connect, as fast as the
  socket takes them; a closed connection is opened again.
- churn: `--churn` times open, connect, one RPC, close (20 at a time).
- idle: `--idle` connected sockets and `--stale` sockets that never connect, held 12 s;
  the server's CPU use over 5 idle seconds, and how many never-connecting sockets the
  server has closed by then.

The server's RSS (VmRSS) is read every 0.1 s: before the part, its peak during it, and
after. Other clients: one WebSocket client calling `query.system.info` and one REST client
listing credentials, each one call after another, during the abuse; their p50.
`--baseline DIR` runs every part against the checkout in DIR too (its package imported
through PYTHONPATH, the server started in DIR), for a before/after table. Bounded: a part
stops early when the server passes `--max-rss-mb`; everything targets 127.0.0.1.

    python bench/bench_ws_abuse.py                         # this tree, print the table
    git worktree add /tmp/ws-before 58cee10
    python bench/bench_ws_abuse.py --baseline /tmp/ws-before --write
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from _common import REPO_ROOT, machine_description, package_revision, write_section

WS_PATH = "/connection/websocket"
LIST_PATH = "/api/v3/credential/list"
TOKEN = "alice-token"  # the bundled default scenario's static token
CONNECT = json.dumps({"id": 1, "connect": {"token": TOKEN}})
PARTS = ("slow reader", "pong flood", "churn", "idle")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    fields = Path(f"/proc/{pid}/statm").read_text().split()
    return int(fields[1]) * PAGE / 2**20


def cpu_s(pid: int) -> float:
    """CPU seconds the process ran so far (its main thread, in nanoseconds, from the
    scheduler: finer than /proc/PID/stat's clock ticks)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if shutil.which("taskset") else argv


def rpc(command_id: int, method: str) -> str:
    return json.dumps({"id": command_id, "rpc": {"method": method, "data": {}}})


class Server:
    """`cadenza-mock serve` from `source` (None: this tree), output to a file."""

    def __init__(self, source: Path | None, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if source is not None:
            env["PYTHONPATH"] = str(source)
        cwd = source or REPO_ROOT  # `python -m` puts the working folder first on sys.path
        found = subprocess.run(
            [sys.executable, "-c", "import cadenza_mock; print(cadenza_mock.__file__)"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not Path(found).resolve().is_relative_to(cwd.resolve()):
            raise SystemExit(f"the server would import {found}, not the package in {cwd}")
        self.log = (work / f"serve-{self.port}.log").open("wb")
        argv = [sys.executable, "-m", "cadenza_mock", "serve", "--quiet", "--port"]
        self.proc = subprocess.Popen(
            pinned(0, [*argv, str(self.port)]),
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"serve did not start; see {self.log.name}") from None
                time.sleep(0.1)
        self.pid = self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


class RssWatch:
    """Samples the server's RSS every 0.1 s in a thread: the peak since the last mark."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, rss_mb(self.pid))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- the abusers
# Run in a child process (`--abuse KIND URL`): it prints one JSON line of what it saw.


async def slow_reader(url: str, seconds: float) -> dict[str, Any]:
    """Never reads: a send the server does not take within 0.5 s is counted and tried
    again; a connection the server cuts is replaced by a new one."""
    frame = "\n".join(rpc(n, "query.credential.list") for n in range(2, 102))
    connections = frames = blocked = cut = 0
    end = time.monotonic() + seconds
    kept = []  # sockets stay open until the process exits (it reads none of them)
    # Never closed: the process exits with it (a close would wait on blocked sends).
    session = aiohttp.ClientSession()
    print("ready", flush=True)
    while time.monotonic() < end:
        ws = await session.ws_connect(url + WS_PATH, max_msg_size=0, compress=0)
        kept.append(ws)
        connections += 1
        await ws.send_str(CONNECT)
        await ws.receive(timeout=10)
        # A send is never cancelled: aiohttp's drain waiter is shared by the next ones.
        sending: asyncio.Future[None] | None = None
        while time.monotonic() < end:
            sending = sending or asyncio.ensure_future(ws.send_str(frame))
            done, _ = await asyncio.wait([sending], timeout=0.5)
            if not done:
                blocked += 1  # the server stopped reading us
                continue
            failed, sending = done.pop().exception(), None
            if failed is not None:
                cut += 1
                break
            frames += 1
    return {
        "connections": connections,
        "frames": frames,
        "sends blocked 0.5 s": blocked,
        "connections cut": cut,
    }


async def pong_flood(url: str, seconds: float) -> dict[str, Any]:
    frame = "{}\n" * 349_522  # 1 MiB
    closes: Counter[str] = Counter()
    connections = frames = 0
    end = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        print("ready", flush=True)
        while time.monotonic() < end:
            ws = await session.ws_connect(url + WS_PATH, compress=0)
            connections += 1
            closed = asyncio.ensure_future(ws.receive())  # nothing comes back but a close
            try:
                while time.monotonic() < end and not closed.done():
                    await asyncio.wait_for(ws.send_str(frame), end - time.monotonic())
                    frames += 1
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                pass
            if closed.done() and not closed.cancelled() and closed.exception() is None:
                message = closed.result()
                closes[f"{message.data} {message.extra or ''}".strip()] += 1
            else:
                closed.cancel()
    return {"connections": connections, "frames": frames, "closes": dict(closes)}


async def churn(url: str, count: int) -> dict[str, Any]:
    done = failed = 0
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        print("ready", flush=True)

        async def one() -> None:
            nonlocal done, failed
            try:
                async with session.ws_connect(url + WS_PATH) as ws:
                    await ws.send_str(CONNECT)
                    await ws.receive(timeout=10)
                    await ws.send_str(rpc(2, "query.system.info"))
                    await ws.receive(timeout=10)
                done += 1
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                failed += 1

        for start in range(0, count, 20):
            await asyncio.gather(*(one() for _ in range(min(20, count - start))))
    return {"cycles": done, "failed": failed, "seconds": round(time.monotonic() - started, 2)}


async def idle(url: str, connected: int, stale: int) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = [await session.ws_connect(url + WS_PATH) for _ in range(connected + stale)]
        for ws in sockets[:connected]:
            await ws.send_str(CONNECT)
            await ws.receive(timeout=10)
        print("ready", flush=True)
        await asyncio.sleep(12)
        closed = 0
        for ws in sockets[connected:]:
            with contextlib.suppress(TimeoutError):
                message = await ws.receive(timeout=0.01)
                closed += message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        still = sum(1 for ws in sockets[:connected] if not ws.closed)
        for ws in sockets:
            await ws.close()
    return {"never-connecting closed": closed, "connected still open": still}


def abuse(argv: Sequence[str]) -> None:
    kind, url, *rest = argv
    numbers = [float(x) for x in rest]
    if kind == "slow":
        work = slow_reader(url, numbers[0])
    elif kind == "pong":
        work = pong_flood(url, numbers[0])
    elif kind == "churn":
        work = churn(url, int(numbers[0]))
    else:
        work = idle(url, int(numbers[0]), int(numbers[1]))

    async def run() -> None:
        found = await work
        print(json.dumps(found), flush=True)
        # Gone at once, every socket with it, unread data and all (no orderly close: a
        # send blocked on a socket the server no longer reads would hold it).
        os._exit(0)

    asyncio.run(run())


# --------------------------------------------------------------------------- the measurers


async def others(url: str, stop: asyncio.Event) -> tuple[list[float], list[float]]:
    """(WebSocket RPC ms, REST list ms) of two well-behaved clients until `stop`."""
    ws_ms: list[float] = []
    rest_ms: list[float] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        ws = await session.ws_connect(url + WS_PATH)
        await ws.send_str(CONNECT)
        await ws.receive(timeout=30)

        async def over_ws() -> None:
            n = 1
            while not stop.is_set():
                n += 1
                started = time.perf_counter()
                await ws.send_str(rpc(n, "query.system.info"))
                await ws.receive(timeout=30)
                ws_ms.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.005)

        async def over_rest() -> None:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            while not stop.is_set():
                started = time.perf_counter()
                async with session.get(url + LIST_PATH, headers=headers) as r:
                    await r.read()
                rest_ms.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.005)

        await asyncio.gather(over_ws(), over_rest())
        await ws.close()
    return ws_ms, rest_ms


def p50(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


async def run_part(part: str, server: Server, args: argparse.Namespace) -> dict[str, Any]:
    kind = {"slow reader": "slow", "pong flood": "pong", "churn": "churn", "idle": "idle"}[part]
    extra = {
        "slow": [args.seconds],
        "pong": [args.seconds],
        "churn": [args.churn],
        "idle": [args.idle, args.stale],
    }[kind]
    # Warm up both well-behaved paths, then read the starting point.
    stop = asyncio.Event()
    stop.set()
    await others(server.url, stop)
    await asyncio.sleep(0.5)
    result: dict[str, Any] = {"part": part, "rss before": rss_mb(server.pid)}
    watch = RssWatch(server.pid)
    child = await asyncio.create_subprocess_exec(
        *pinned(1, [sys.executable, __file__, "--abuse", kind, server.url, *map(str, extra)]),
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    stop = asyncio.Event()
    await child.stdout.readline()  # "ready": started (idle: every socket open)
    if kind == "idle":
        cpu = cpu_s(server.pid)
        await asyncio.sleep(5)
        result["idle cpu ms/s"] = round((cpu_s(server.pid) - cpu) * 1000 / 5, 3)
    measuring = asyncio.ensure_future(others(server.url, stop))
    started = time.monotonic()
    while child.returncode is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(child.wait(), 0.2)
        if watch.peak > args.max_rss_mb and child.returncode is None:
            child.kill()  # bounded: the machine comes first
            result["stopped at"] = f"{watch.peak:.0f} MB after {time.monotonic() - started:.1f} s"
    stop.set()
    ws_ms, rest_ms = await measuring
    line = (await child.stdout.read()).decode().strip().splitlines()
    result["client"] = json.loads(line[-1]) if line else {}
    result["rss peak"] = watch.peak
    await asyncio.sleep(args.settle)
    watch.stop()
    result["rss after"] = rss_mb(server.pid)
    result["others ws p50"] = p50(ws_ms)
    result["others rest p50"] = p50(rest_ms)
    result["others calls"] = len(ws_ms) + len(rest_ms)
    result["others max"] = max(ws_ms + rest_ms, default=None)
    return result


async def measure(source: Path | None, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    server = Server(source, work)
    try:  # the well-behaved clients alone first
        stop = asyncio.Event()
        measuring = asyncio.ensure_future(others(server.url, stop))
        await asyncio.sleep(2)
        stop.set()
        ws_ms, rest_ms = await measuring
        found["alone"] = {
            "others ws p50": p50(ws_ms),
            "others rest p50": p50(rest_ms),
            "others max": max(ws_ms + rest_ms),
        }
    finally:
        server.stop()
    for part in args.parts:
        server = Server(source, work)
        try:
            found[part] = await run_part(part, server, args)
        finally:
            server.stop()
        print(f"  {part}: {json.dumps(found[part])}", file=sys.stderr)
    return found


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(runs: list[tuple[str, dict[str, Any]]]) -> str:
    rows = [
        "| part | code | RSS before MB | RSS peak MB | RSS after MB "
        "| others' p50 ms (WS / REST) | others' max ms | what the abusive client saw |",
        "|---|---|---:|---:|---:|---|---:|---|",
    ]
    for label, found in runs:
        alone = found["alone"]
        rows.append(
            f"| alone (no abuse) | {label} | | | | {fmt(alone['others ws p50'], 2)} / "
            f"{fmt(alone['others rest p50'], 2)} | {fmt(alone['others max'])} | |"
        )
    for part in PARTS:
        for label, found in runs:
            if part not in found:
                continue
            r = found[part]
            seen = ", ".join(f"{k}: {v}" for k, v in r["client"].items())
            if "idle cpu ms/s" in r:
                seen += f"; server CPU while idle: {r['idle cpu ms/s']} ms/s"
            if "stopped at" in r:
                seen += f"; stopped at {r['stopped at']}"
            rows.append(
                f"| {part} | {label} | {fmt(r['rss before'])} | {fmt(r['rss peak'])} "
                f"| {fmt(r['rss after'])} | {fmt(r['others ws p50'], 2)} / "
                f"{fmt(r['others rest p50'], 2)} | {fmt(r['others max'])} | {seen} |"
            )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--abuse"]:
        abuse(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="a checkout to measure first (before)")
    parser.add_argument("--baseline-label", default="58cee10 (before)")
    parser.add_argument("--seconds", type=float, default=10.0, help="abuse per part (10)")
    parser.add_argument("--settle", type=float, default=3.0, help="wait before 'after' (3)")
    parser.add_argument("--churn", type=int, default=2000, help="connect/close cycles (2000)")
    parser.add_argument("--idle", type=int, default=500, help="idle connected sockets (500)")
    parser.add_argument("--stale", type=int, default=200, help="never-connecting ones (200)")
    parser.add_argument("--max-rss-mb", type=float, default=2048, help="stop a part here")
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--write", action="store_true", help="record in bench/README.md")
    args = parser.parse_args(argv)
    runs: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline is not None:
            print(f"baseline {args.baseline}", file=sys.stderr)
            runs.append((args.baseline_label, asyncio.run(measure(args.baseline, args, Path(tmp)))))
        print("this tree", file=sys.stderr)
        current = f"{package_revision()} (after)"
        runs.append((current, asyncio.run(measure(None, args, Path(tmp)))))
    command = "python bench/bench_ws_abuse.py " + " ".join(
        a if a != str(args.baseline) else "/tmp/ws-before" for a in argv
    )
    body = (
        "### WebSocket abuse: memory and other clients\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}.\n\n"
        f"Command: `{command.strip()}`\n\n"
        f"Settings: the `default` scenario, `serve --quiet` on core 0, the clients on core 1; "
        f"{args.seconds:g} s of abuse per part, RSS after read {args.settle:g} s after the "
        f"abusive client went; churn: {args.churn} cycles, 20 at a time; idle: {args.idle} "
        f"connected and {args.stale} never-connecting sockets held 12 s. `code`: the package "
        "measured (before: a checkout of that commit in a temporary worktree, imported "
        "through PYTHONPATH).\n\n" + table(runs) + "\n"
    )
    print(body)
    if args.write:
        write_section("bench_ws_abuse", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

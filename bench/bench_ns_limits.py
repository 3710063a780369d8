"""What a big namespace and idle journal streams cost everybody else.

One `python -m cadenza_mock serve --quiet` on 127.0.0.1; a probe client lists the server's
own credentials (`default` scenario, alice) back to back on one keep-alive connection for
the whole run, and its latencies are summed up per phase:

1. quiet: nothing else happens (3 s);
2. big namespace: another client creates a namespace from a 110-byte YAML body with
   `generate: N` credentials (default 200,000, the default `--max-records`), lists them
   twice with the namespace's token, and deletes the namespace; the server's RSS with it;
3. idle streams: the journal emptied, S raw connections (default 1,000) open
   `GET /__admin/requests/stream` and a thread reads whatever they are sent; the server's
   CPU use (from /proc) over 5 s with the probe paused (what idle streams cost by
   themselves), then the probe's latencies and the CPU over 5 s with it running (each
   answer it gets is a journal entry every open stream is sent).

The server is whatever `python -m cadenza_mock` imports: run it with PYTHONPATH set to
another checkout to measure that one (its working folder is a temporary one, so the
repository's own package does not shadow PYTHONPATH). A server with `--max-streams` is
started with `--max-streams S`, so both measure the cost of S streams; `--default-cap`
leaves its default (32: the others are refused).

    PYTHONPATH=/tmp/before python bench/bench_ns_limits.py --json before.json
    python bench/bench_ns_limits.py --json after.json
    python bench/bench_ns_limits.py --default-cap --json capped.json
    python bench/bench_ns_limits.py --write before.json after.json capped.json

About 1 minute per run; every phase is bounded in time and requests; stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import machine_description, write_section

ALICE = {"Authorization": "Bearer alice-token"}
LIST = "/api/v3/credential/list"
STREAM = "/__admin/requests/stream"
SLOW_MS = 100.0  # a probe answer slower than this counts as stalled


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def body(records: int) -> str:
    return (
        "users:\n  - email: gen@example.com\n    tokens: [gen-token]\n    credentials:\n"
        f"      - generate: {records}\n        venue: OKX\n"
    )


class Probe(threading.Thread):
    """Lists back to back on one connection; (start time, latency ms) of each answer."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.running = threading.Event()
        self.running.set()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            if not self.running.wait(0.1):
                continue
            started = time.monotonic()
            conn.request("GET", LIST, headers=ALICE)
            answer = conn.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f"probe got {answer.status}")
            self.samples.append((started, (time.monotonic() - started) * 1000))
            time.sleep(0.005)  # a client polling, not a load generator
        conn.close()

    def between(self, start: float, end: float) -> dict[str, float]:
        lat = sorted(ms for at, ms in self.samples if start <= at < end)
        if not lat:
            return {"answers": 0}
        return {
            "answers": len(lat),
            "p50": statistics.median(lat),
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "max": lat[-1],
            "slow": sum(ms > SLOW_MS for ms in lat),
        }


class Reader(threading.Thread):
    """Reads the streams as a client would (a stream nobody reads soon blocks on its full
    socket buffer and costs nothing more, which would flatter the server)."""

    def __init__(self, socks: list[socket.socket]) -> None:
        super().__init__(daemon=True)
        self.selector = selectors.DefaultSelector()
        for sock in socks:
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
        self.stop = threading.Event()
        self.read = 0

    def run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(timeout=0.1):
                with contextlib.suppress(BlockingIOError):
                    self.read += len(key.fileobj.recv(65536))  # type: ignore[union-attr]


def request(port: int, method: str, path: str, data: str | None = None, **headers: str) -> Any:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data.encode() if data is not None else None,
        method=method,
        headers=headers,
    )
    with urllib.request.urlopen(req, timeout=300) as resp:
        return resp.status, resp.read()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    help_text = subprocess.run(
        [sys.executable, "-m", "cadenza_mock", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    ).stdout
    capped = args.default_cap or "--max-streams" not in help_text
    extra = [] if capped else ["--max-streams", str(args.streams)]
    with tempfile.TemporaryDirectory() as work:
        server = subprocess.Popen(
            [sys.executable, "-m", "cadenza_mock", "serve", "--port", str(port), "--quiet", *extra],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            return _phases(args, port, server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)


def _phases(args: argparse.Namespace, port: int, pid: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        try:
            request(port, "GET", "/__admin/health")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    probe = Probe(port)
    probe.start()
    result: dict[str, Any] = {"records": args.records, "streams": args.streams}
    try:
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(3)
        result["quiet"] = probe.between(t0, time.monotonic())
        result["quiet_cpu_percent"] = round(
            100 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0), 1
        )
        rss_before = rss_mib(pid)
        t1 = time.monotonic()
        status, _ = request(
            port,
            "POST",
            "/__admin/namespaces?namespace=big",
            body(args.records),
            **{"Content-Type": "application/yaml"},
        )
        t2 = time.monotonic()
        lists = []
        for _ in range(2):
            started = time.monotonic()
            list_status, listed = request(port, "GET", LIST, Authorization="Bearer big.gen-token")
            lists.append(round(time.monotonic() - started, 2))
        t3 = time.monotonic()
        rss_after = rss_mib(pid)
        request(port, "DELETE", "/__admin/namespaces/big")
        time.sleep(1)
        result["namespace"] = {
            "create_status": status,
            "create_s": round(t2 - t1, 2),
            "list_status": list_status,
            "list_mib": round(len(listed) / 2**20, 1),
            "list_s": lists,
            "rss_mib": round(rss_after - rss_before),
            "probe": probe.between(t1, t3 + 1),
            "probe_create": probe.between(t1, t2),
            "probe_lists": probe.between(t2, t3),
        }
        probe.running.clear()
        time.sleep(0.5)
        request(port, "DELETE", "/__admin/requests")  # a new stream is sent what is kept
        socks, refused = [], 0
        for _ in range(args.streams):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(f"GET {STREAM} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = sock.recv(4096)
            if not head.startswith(b"HTTP/1.1 200"):
                refused += 1
            socks.append(sock)
        reader = Reader(socks)
        reader.start()
        time.sleep(1)
        cpu0, t4 = cpu_seconds(pid), time.monotonic()
        time.sleep(5)
        cpu1, t5 = cpu_seconds(pid), time.monotonic()
        probe.running.set()
        cpu2, t6 = cpu_seconds(pid), time.monotonic()
        time.sleep(5)
        cpu3, t7 = cpu_seconds(pid), time.monotonic()
        result["streams_phase"] = {
            "refused": refused,
            "idle_cpu_percent": round(100 * (cpu1 - cpu0) / (t5 - t4), 1),
            "cpu_percent": round(100 * (cpu3 - cpu2) / (t7 - t6), 1),
            "probe": probe.between(t6, t7),
        }
        reader.stop.set()
        reader.join(timeout=10)
        for sock in socks:
            sock.close()
        result["streams_phase"]["read_mib"] = round(reader.read / 2**20, 1)
    finally:
        probe.stop.set()
        probe.join(timeout=60)
    return result


def _ms(stats: dict[str, float]) -> str:
    return f"{stats['p50']:.1f} / {stats['p99']:.1f} / {stats['max']:.0f} ({stats['slow']:.0f})"


def table(before: dict[str, Any], after: dict[str, Any], capped: dict[str, Any]) -> str:
    runs = (before, after, capped)
    probes = [
        ("probe p50 / p99 / max ms (answers > 100 ms), nothing else", "quiet", None),
        ("... while a namespace is built, listed twice, deleted", "namespace", "probe"),
        ("... during the build alone", "namespace", "probe_create"),
        ("... during the two lists alone", "namespace", "probe_lists"),
        ("... with the journal streams open", "streams_phase", "probe"),
    ]
    lines = [
        "### Namespaces and streams: what the others see",
        "",
        f"Machine: {machine_description()}.",
        "Command: `python bench/bench_ns_limits.py [--default-cap] --json FILE` (before: "
        "commit 58cee10 through PYTHONPATH); one run each.",
        f"{before['records']:,} generated credentials in one namespace (a 110-byte request; "
        f"the default `--max-records` budget); {before['streams']:,} journal streams, read "
        "by one client thread (after: with `--max-streams "
        f"{after['streams']}` to see what so many cost, and with the default cap of 32).",
        "",
        "| | before | after | after, default cap |",
        "|---|---|---|---|",
    ]
    for label, phase, part in probes:
        cells = []
        for run in runs:
            stats = run[phase] if part is None else run[phase].get(part)
            cells.append(_ms(stats) if stats else "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    ns = [run["namespace"] for run in runs]
    streams = [run["streams_phase"] for run in runs]
    rows = [
        ("create the namespace (s)", [f"{n['create_s']}" for n in ns]),
        (
            f"list its {ns[0]['list_mib']} MiB, first / second (s)",
            [f"{n['list_s'][0]} / {n['list_s'][1]}" for n in ns],
        ),
        ("server RSS the namespace added (MiB)", [f"{n['rss_mib']}" for n in ns]),
        ("streams refused", [f"{s['refused']}" for s in streams]),
        ("server CPU, the probe alone", [f"{run['quiet_cpu_percent']} %" for run in runs]),
        (
            "server CPU, idle streams (probe paused)",
            [f"{s['idle_cpu_percent']} %" for s in streams],
        ),
        ("server CPU, streams and probe", [f"{s['cpu_percent']} %" for s in streams]),
    ]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--default-cap", action="store_true", help="no --max-streams")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--write",
        nargs=3,
        type=Path,
        metavar=("BEFORE", "AFTER", "CAPPED"),
        help="put the table of three --json files into bench/README.md",
    )
    args = parser.parse_args(argv)
    if args.write:
        runs = [json.loads(p.read_text()) for p in args.write]
        write_section("bench_ns_limits", table(*runs))
        return 0
    result = measure(args)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

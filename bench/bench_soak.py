"""Load and soak: mixed traffic, state growth, SIGTERM, slow clients.

Everything runs against `python -m cadenza_mock serve` on 127.0.0.1 in its default
configuration (access log on, journal on), started here and stopped here by PID:

1. Mixed load: N concurrent asyncio clients (aiohttp), each running the same cycle of
   ten requests (login, create, list by id, verify, rotate, list ACTIVE, token refresh,
   list by type and status, revoke, verify the revoked one) over and over. Any 5xx, any
   connection error and any status or body the operation should not give is an error.
2. Soak: the same load continued to a total request count, in segments of one
   "clients x requests per client" each; the server's VmRSS after every segment, then
   after `POST /__admin/reset` and one more segment on the reset state.
3. Shutdown: SIGTERM to a fresh server when idle, under load, and with a request held
   by a 600 s delay fault; time from the signal to the exit and the exit code.
4. Slow clients: a normal client's list latency with and without slowloris connections
   (request line sent, then a header trickled one byte per second).

    python bench/bench_soak.py --quick         # about 30 s, smoke run
    python bench/bench_soak.py                 # the full run, about 5 minutes
    python bench/bench_soak.py --write         # ...and record it in bench/README.md
    python bench/bench_soak.py --rev HEAD      # the committed package, not the working tree
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from _common import README, REPO_ROOT, machine_description, package_revision, write_section
from bench_list import (
    HEALTH_PATH,
    LIST_PATH,
    BenchError,
    Server,
    free_port,
    machine_busy_s,
    ours_argv,
    process_cpu_s,
    public_argv,
    wait_for_idle_machine,
)

API = "/api/v3"
CYCLE = (
    "login",
    "create",
    "list_ids",
    "verify",
    "rotate",
    "list_active",
    "refresh",
    "list_type",
    "revoke",
    "verify_revoked",
)
VENUES = ("BINANCE", "BYBIT", "COINBASE", "KRAKEN", "OKX")
PASSPHRASE_VENUES = {"OKX"}
DELAY_FAULT = {"match": {"path": LIST_PATH}, "delay": 600, "times": 1}
SHUTDOWN_LIMIT_S = 1.0  # what README "Container" promises: SIGTERM ends it in about 1 s
EXIT_WAIT_S = 15.0  # after this the server is SIGKILLed and the trial counts as a failure
# Lines in a server log that mean something went wrong inside it.
LOG_PROBLEM = re.compile(
    r"Traceback|Error handling request|Task exception|Task was destroyed|Unhandled|"
    r" ERROR | CRITICAL |Exception in callback"
)
ACCESS_5XX = re.compile(r" INFO [A-Z]+ \S+ (5\d\d) ")

QUICK = {
    "clients": 20,
    "requests_per_client": 100,
    "soak_total": 8_000,
    "shutdown_trials": 1,
    "shutdown_load_seconds": 1.0,
    "slowloris": 200,
    "slowloris_seconds": 12.0,
    "baseline_seconds": 3.0,
    "idle_wait": 0.0,
}
DEFAULTS = {
    "clients": 50,
    "requests_per_client": 1_000,
    "soak_total": 200_000,
    "shutdown_trials": 3,
    "shutdown_load_seconds": 2.0,
    "slowloris": 200,
    "slowloris_seconds": 15.0,
    "baseline_seconds": 5.0,
    "idle_wait": 15.0,
}


# --------------------------------------------------------------------------- helpers


def pct(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of samples; nan for none."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[max(1, min(len(ordered), math.ceil(q / 100 * len(ordered)))) - 1]


def rss_bytes(pid: int) -> int:
    """VmRSS of a process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise BenchError(f"no VmRSS in /proc/{pid}/status")


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f}"


def pinning_available(*cores: int) -> bool:
    """taskset present and every core in our affinity set; otherwise nothing is pinned."""
    if shutil.which("taskset") is None or not hasattr(os, "sched_getaffinity"):
        return False
    return all(core in os.sched_getaffinity(0) for core in cores)


class SoakServer(Server):
    """bench_list's Server (ready check, log tail, SIGTERM-then-SIGKILL stop), pinned only
    when taskset is available; adds a timed SIGTERM and the server's memory use."""

    def __init__(
        self, label: str, argv: list[str], core: int | None, log_dir: Path, src: Path
    ) -> None:
        self.label = label
        self.log_path = log_dir / f"{label.replace(' ', '_')}.log"
        self._log = self.log_path.open("wb")
        prefix = ["taskset", "-c", str(core)] if core is not None else []
        self.proc = subprocess.Popen(
            [*prefix, *argv],
            cwd=src,  # `python -m` imports cadenza_mock from here first
            stdin=subprocess.DEVNULL,
            stdout=self._log,  # a file, never a pipe: a full pipe would block the server
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(src)},
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def sigterm_and_wait(self) -> tuple[float | None, int | None]:
        """SIGTERM, then seconds until the process has exited and its exit code.

        A blocking waitpid in this thread (exact, unlike Popen.wait(timeout), which polls
        every 50 ms); a timer SIGKILLs the server if it is still there after EXIT_WAIT_S,
        and then the time is None.
        """
        killed = threading.Event()

        def kill() -> None:
            if self.proc.poll() is None:
                killed.set()
                self.proc.kill()

        timer = threading.Timer(EXIT_WAIT_S, kill)
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        timer.start()
        code = self.proc.wait()
        elapsed = time.perf_counter() - t0
        timer.cancel()
        return (None if killed.is_set() else elapsed), code

    def log_problems(self) -> tuple[list[str], int]:
        """Suspicious lines in the server's output (at most 20) and its count of 5xx lines."""
        if not self._log.closed:
            self._log.flush()
        problems, five_xx = [], 0
        with self.log_path.open(errors="replace") as log:
            for line in log:
                if ACCESS_5XX.search(line):
                    five_xx += 1
                elif LOG_PROBLEM.search(line) and len(problems) < 20:
                    problems.append(line.rstrip()[:300])
        return problems, five_xx


def start_server(args: argparse.Namespace, label: str, work: Path) -> tuple[SoakServer, str]:
    port = free_port()
    server = SoakServer(
        label,
        ours_argv(args.scenario, port),
        args.server_core if args.pin else None,
        work,
        args.src,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_ready(base + HEALTH_PATH, {})
    except BenchError:
        server.stop()
        raise
    return server, base


# --------------------------------------------------------------------------- mixed load


@dataclass
class Segment:
    """What one stretch of load did: latencies per operation, errors, resources."""

    label: str
    requests: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds
    by_op: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    created: int = 0
    sessions: int = 0
    wall_s: float = 0.0
    server_cpu: float = 0.0
    load_cpu: float = 0.0
    other_cpu: float = 0.0  # cores used by everything but the server and this script
    rss_after: int = 0
    truncated: bool = False
    events: list[tuple[float, bool]] | None = None  # (end time, ok), when asked for

    def record(self, op: str, elapsed: float, problem: str | None) -> None:
        self.requests += 1
        self.latencies.append(elapsed)
        self.by_op.setdefault(op, []).append(elapsed)
        if self.events is not None:
            self.events.append((time.perf_counter(), problem is None))
        if problem is not None:
            self.errors[problem.split(":", 1)[0]] += 1
            if len(self.examples) < 10:
                self.examples.append(problem)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def server_ms_per_request(self) -> float:
        return self.server_cpu * self.wall_s / self.requests * 1000 if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0

    def summary(self) -> dict[str, Any]:
        latencies = self.latencies
        kept = ("label", "requests", "wall_s", "created", "sessions", "server_cpu", "load_cpu")
        kept += ("server_ms_per_request", "other_cpu", "rss_after", "truncated")
        result = {name: getattr(self, name) for name in kept}
        result |= {"rps": self.rps, "errors": dict(self.errors), "error_examples": self.examples}
        result |= {
            "p50_ms": pct(latencies, 50) * 1000,
            "p99_ms": pct(latencies, 99) * 1000,
            "max_ms": max(latencies, default=float("nan")) * 1000,
        }
        result["by_op"] = {
            op: {"n": len(v), "p50_ms": pct(v, 50) * 1000, "p99_ms": pct(v, 99) * 1000}
            for op, v in self.by_op.items()
        }
        return result


Check = Callable[[Any], str | None]


class LoadClient:
    """One simulated client: the ten-request cycle, with the state it needs between steps.

    Credential calls use the access token of the client's current session (from login,
    then from each refresh); two of the three lists use the user's static scenario token,
    the path test suites take. Keys are unique per client and sequence number, so a 409
    can only be a server bug. After an error the client starts over with a login.
    """

    def __init__(self, cid: int, user: Any, http: aiohttp.ClientSession, base: str) -> None:
        self.cid = cid
        self.user = user
        self.http = http
        self.base = base
        self.static = {"Authorization": f"Bearer {user.tokens[0]}"}
        self.pos = 0
        self.seq = 0
        self.access = ""
        self.refresh_token = ""
        self.cred_id = ""
        self.venue = ""

    def restart(self) -> None:
        self.pos = 0
        self.access = self.refresh_token = self.cred_id = ""

    def _session_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    def _key(self, kind: str) -> str:
        self.seq += 1
        return f"soak{kind}{self.cid:03d}x{self.seq:08d}"

    def _secrets(self, key: str) -> dict[str, str]:
        body = {"apiKey": key, "apiSecret": f"secret-{key}"}
        if self.venue in PASSPHRASE_VENUES:
            body["apiPassphrase"] = f"pass-{key}"
        return body

    def _request(self, op: str) -> tuple[str, str, dict[str, str], Any, Check]:
        """method, path, headers, JSON body, and the check of the answer's payload."""

        def post(path: str, body: Any, check: Check, auth: dict[str, str] | None = None) -> Any:
            headers = self._session_auth() if auth is None else auth
            return ("POST", f"{API}/{path}", headers, body, check)

        def listed(query: str, auth: dict[str, str], **want: Any) -> Any:
            return ("GET", f"{LIST_PATH}?{query}", auth, None, lambda p: self._listed(p, **want))

        credential = {"credentialId": self.cred_id}
        if op == "login":
            login = {"email": self.user.email, "password": self.user.password}
            return post("auth/login", login, self._took_session, auth={})
        if op == "refresh":
            refresh = {"refreshToken": self.refresh_token}
            return post("auth/token/refresh", refresh, self._took_session, auth={})
        if op == "create":
            self.venue = VENUES[self.seq % len(VENUES)]
            key = self._key("c")
            body = {"venue": self.venue, "name": f"soak {self.cid}", "type": "EXCHANGE"}
            created = {**body, **self._secrets(key)}
            return post("credential/create", created, lambda p: self._created(p, key))
        if op == "rotate":
            key = self._key("r")
            masked = key[:6] + "***"
            return post(
                "credential/rotate",
                {**credential, **self._secrets(key)},
                lambda p: self._same(p, status="ACTIVE", apiKey=masked),
            )
        if op in ("verify", "verify_revoked"):
            want = "VERIFIED" if op == "verify" else "FAILED"
            return post("credential/verify", credential, lambda p: self._same(p, status=want))
        if op == "revoke":
            return post("credential/revoke", credential, lambda p: self._same(p, status="REVOKED"))
        if op == "list_ids":
            return listed(f"credentialIds={self.cred_id}", self.static, exact=True)
        if op == "list_active":
            return listed("status=ACTIVE", self._session_auth(), status="ACTIVE")
        if op == "list_type":
            return listed(
                "type=EXCHANGE&status=ACTIVE", self.static, status="ACTIVE", type="EXCHANGE"
            )
        raise AssertionError(op)

    # The checks: None when the payload is what the operation must answer.

    def _took_session(self, payload: Any) -> str | None:
        data = payload.get("data") or {}
        if not (data.get("accessToken") and data.get("refreshToken")):
            return "no accessToken/refreshToken in the session"
        self.access, self.refresh_token = data["accessToken"], data["refreshToken"]
        return None

    def _created(self, payload: Any, key: str) -> str | None:
        data = payload.get("data") or {}
        if data.get("status") != "ACTIVE" or data.get("apiKey") != key[:6] + "***":
            return "created credential not ACTIVE with the masked key"
        self.cred_id = data["credentialId"]
        return None

    def _same(self, payload: Any, **want: str) -> str | None:
        data = payload.get("data") or {}
        if data.get("credentialId") != self.cred_id:
            return "answer is about another credential"
        wrong = {k: data.get(k) for k, v in want.items() if data.get(k) != v}
        return f"expected {want}, got {wrong}" if wrong else None

    def _listed(self, payload: Any, exact: bool = False, **want: str) -> str | None:
        items = payload.get("data")
        if not isinstance(items, list):
            return "list data is not a list"
        ids = [item.get("credentialId") for item in items]
        if self.cred_id not in ids or (exact and ids != [self.cred_id]):
            return f"list does not hold the client's credential ({len(ids)} items)"
        if any(item.get(k) != v for item in items for k, v in want.items()):
            return f"list holds items not matching {want}"
        return None

    async def step(self, seg: Segment) -> None:
        op = CYCLE[self.pos]
        method, path, headers, body, check = self._request(op)
        t0 = time.perf_counter()
        try:
            async with self.http.request(method, self.base + path, headers=headers, json=body) as r:
                raw = await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            seg.record(op, time.perf_counter() - t0, f"connection error: {type(exc).__name__}")
            self.restart()
            return
        elapsed = time.perf_counter() - t0
        if status >= 500:
            problem: str | None = f"HTTP {status} on {op}: {raw[:200]!r}"
        elif status != 200:
            problem = f"unexpected HTTP {status} on {op}: {raw[:200]!r}"
        else:
            try:
                problem = check(json.loads(raw))
            except (ValueError, AttributeError) as exc:
                problem = f"unreadable answer: {exc}"
            if problem is not None:
                problem = f"unexpected answer to {op}: {problem}: {raw[:200]!r}"
        seg.record(op, elapsed, problem)
        if problem is not None:
            self.restart()
            return
        if op == "create":
            seg.created += 1
        elif op in ("login", "refresh"):
            seg.sessions += 1
        self.pos = (self.pos + 1) % len(CYCLE)


def load_users(scenario: str) -> list[Any]:
    from cadenza_mock.scenario import load_scenario

    users = [u for u in load_scenario(scenario).users if u.email and u.password and u.tokens]
    if not users:
        raise BenchError(
            f"scenario {scenario!r} has no user with email, password and a token; "
            "login and refresh need one (try --scenario multi-user)"
        )
    return users


def client_session(limit: int, timeout: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )


async def run_segment(
    clients: list[LoadClient], per_client: int, deadline: float, server: SoakServer, label: str
) -> Segment:
    seg = Segment(label)

    async def drive(client: LoadClient) -> None:
        for _ in range(per_client):
            if time.monotonic() > deadline:
                seg.truncated = True
                return
            await client.step(seg)

    busy0, cpu0, own0 = machine_busy_s(), process_cpu_s(server.pid), time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(drive(c) for c in clients))
    seg.wall_s = time.perf_counter() - t0
    server_s, own_s = process_cpu_s(server.pid) - cpu0, time.process_time() - own0
    seg.server_cpu = server_s / seg.wall_s
    seg.load_cpu = own_s / seg.wall_s
    seg.other_cpu = max(0.0, machine_busy_s() - busy0 - server_s - own_s) / seg.wall_s
    seg.rss_after = rss_bytes(server.pid)
    return seg


async def soak(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    users = load_users(args.scenario)
    server, base = start_server(args, "soak", work)
    result: dict[str, Any] = {"segments": []}
    try:
        per_segment = args.clients * args.requests_per_client
        n_segments = max(1, round(args.soak_total / per_segment))
        deadline = time.monotonic() + args.max_seconds
        async with client_session(args.clients, args.request_timeout) as http:
            clients = [
                LoadClient(i, users[i % len(users)], http, base) for i in range(args.clients)
            ]
            result["rss_start"] = rss_bytes(server.pid)
            done = 0
            for k in range(n_segments):
                label = f"{done + 1:,}-{done + per_segment:,}"
                seg = await run_segment(clients, args.requests_per_client, deadline, server, label)
                seg.label = f"{done + 1:,}-{done + seg.requests:,}"  # short if truncated
                done += seg.requests
                result["segments"].append(seg)
                print(
                    f"  soak {label}: {seg.rps:,.0f} req/s, p50 {pct(seg.latencies, 50) * 1e3:.1f}"
                    f" ms, p99 {pct(seg.latencies, 99) * 1e3:.1f} ms, {seg.error_count} errors,"
                    f" RSS {mib(seg.rss_after)} MiB, CPU server {seg.server_cpu:.2f} load"
                    f" {seg.load_cpu:.2f}",
                    file=sys.stderr,
                )
                if seg.truncated:
                    print(f"  soak stopped by --max-seconds after segment {k + 1}", file=sys.stderr)
                    break
            async with http.post(base + "/__admin/reset") as r:
                if r.status != 200:
                    raise BenchError(f"POST /__admin/reset answered {r.status}")
            result["rss_after_reset"] = rss_bytes(server.pid)
            for client in clients:
                client.restart()
            if not result["segments"][-1].truncated:
                seg = await run_segment(
                    clients,
                    args.requests_per_client,
                    time.monotonic() + args.max_seconds,
                    server,
                    "after reset",
                )
                result["reset_segment"] = seg
                print(
                    f"  after reset: {seg.rps:,.0f} req/s, {seg.error_count} errors,"
                    f" RSS {mib(seg.rss_after)} MiB",
                    file=sys.stderr,
                )
        result["rss_hwm"] = _vm_hwm(server.pid)
    finally:
        code_time = server.sigterm_and_wait() if server.proc.poll() is None else (None, None)
        server.stop()
        result["exit"] = code_time
        result["problems"], result["5xx"] = server.log_problems()
    return result


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


# --------------------------------------------------------------------------- shutdown


async def shutdown_idle(args: argparse.Namespace, work: Path, trial: int) -> dict[str, Any]:
    server, _ = start_server(args, f"shutdown idle {trial}", work)
    try:
        await asyncio.sleep(0.2)
        seconds, code = await asyncio.to_thread(server.sigterm_and_wait)
    finally:
        server.stop()
    return _stopped(server, seconds, code, "-")


async def shutdown_under_load(args: argparse.Namespace, work: Path, trial: int) -> dict[str, Any]:
    users = load_users(args.scenario)
    server, base = start_server(args, f"shutdown load {trial}", work)
    seg = Segment("shutdown", events=[])
    stop = asyncio.Event()
    try:
        async with client_session(args.clients, args.request_timeout) as http:
            clients = [
                LoadClient(i, users[i % len(users)], http, base) for i in range(args.clients)
            ]

            async def drive(client: LoadClient) -> None:
                while not stop.is_set():
                    await client.step(seg)

            tasks = [asyncio.create_task(drive(c)) for c in clients]
            await asyncio.sleep(args.shutdown_load_seconds)
            before = seg.requests
            signalled = time.perf_counter()
            # The clients keep sending until the server is gone, as real ones would.
            seconds, code = await asyncio.to_thread(server.sigterm_and_wait)
            stop.set()
            await asyncio.wait(tasks, timeout=args.request_timeout)
    finally:
        server.stop()
    assert seg.events is not None
    errors_before = sum(1 for t, ok in seg.events if t < signalled and not ok)
    after = [ok for t, ok in seg.events if t >= signalled]
    answered = sum(after)
    return _stopped(
        server,
        seconds,
        code,
        f"{answered} answered after the signal, {len(after) - answered} failed",
        requests_before=before,
        errors_before=errors_before,
        answered_after_signal=answered,
        failed_after_signal=len(after) - answered,
    )


def _stopped(server: Any, seconds: float, code: int, client: str, **extra: Any) -> dict[str, Any]:
    """One SIGTERM trial's row: how long, the exit code, what the client saw, the log."""
    problems, five_xx = server.log_problems()
    row = {"seconds": seconds, "code": code, "client": client}
    return {**row, **extra, "problems": problems, "5xx": five_xx}


async def shutdown_delayed(args: argparse.Namespace, work: Path, trial: int) -> dict[str, Any]:
    users = load_users(args.scenario)
    server, base = start_server(args, f"shutdown delayed {trial}", work)
    auth = {"Authorization": f"Bearer {users[0].tokens[0]}"}
    outcome = "?"
    try:
        async with client_session(4, args.request_timeout) as http:
            async with http.post(base + "/__admin/faults", json=DELAY_FAULT) as r:
                armed = await r.json()
                if r.status != 200:
                    raise BenchError(f"arming {DELAY_FAULT} answered {r.status}: {armed}")
            fault_id = armed["data"]["id"]

            async def held() -> str:
                t0 = time.perf_counter()
                try:
                    async with http.get(base + LIST_PATH, headers=auth) as resp:
                        await resp.read()
                        return f"HTTP {resp.status} after {time.perf_counter() - t0:.2f} s"
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    return f"{type(exc).__name__} after {time.perf_counter() - t0:.2f} s"

            task = asyncio.create_task(held())
            for _ in range(100):  # until the server holds the request (admin is never delayed)
                await asyncio.sleep(0.05)
                async with http.get(base + "/__admin/faults") as r:
                    faults = (await r.json())["data"]
                if any(f["id"] == fault_id and f["matched"] >= 1 for f in faults):
                    break
            else:
                raise BenchError("the delayed list request never reached the server's fault")
            seconds, code = await asyncio.to_thread(server.sigterm_and_wait)
            outcome = await asyncio.wait_for(task, timeout=args.request_timeout)
    finally:
        server.stop()
    return _stopped(server, seconds, code, outcome)


# --------------------------------------------------------------------------- slow clients


async def slowloris_slot(port: int, until: float, stats: Counter[str], held: list[float]) -> None:
    """One slowloris connection until `until`, opened again whenever the server closes it.

    Request line and Host at once, then one byte of a never-ending header per second.
    `held`: how long the server kept each connection it closed.
    """
    head = f"GET {LIST_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode()
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connect failed"] += 1
            await asyncio.sleep(1.0)
            continue
        stats["opened"] += 1
        opened = time.monotonic()
        try:
            writer.write(head)
            while time.monotonic() < until:
                try:  # the one-second pause, watching for the server closing or answering
                    got = await asyncio.wait_for(reader.read(1), timeout=1.0)
                except TimeoutError:
                    writer.write(b"a")
                    await writer.drain()
                    continue
                stats["answered by server" if got else "closed by server"] += 1
                held.append(time.monotonic() - opened)
                break
        except OSError:
            stats["closed by server"] += 1
            held.append(time.monotonic() - opened)
        finally:
            writer.close()


async def normal_client(base: str, auth: dict[str, str], seconds: float) -> dict[str, Any]:
    """Back-to-back list requests, alternating a kept-alive connection and a new one."""
    out: dict[str, Any] = {}
    timeout = aiohttp.ClientTimeout(total=5)
    kept = aiohttp.ClientSession(timeout=timeout)
    fresh = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(force_close=True))
    lat: dict[str, list[float]] = {"keep-alive": [], "new connection": []}
    errors: Counter[str] = Counter()
    url = f"{base}{LIST_PATH}?status=ACTIVE"
    async with kept, fresh:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for name, http in (("keep-alive", kept), ("new connection", fresh)):
                t0 = time.perf_counter()
                try:
                    async with http.get(url, headers=auth) as r:
                        await r.read()
                        if r.status != 200:
                            errors[f"{name} HTTP {r.status}"] += 1
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    errors[f"{name} {type(exc).__name__}"] += 1
                lat[name].append(time.perf_counter() - t0)
    for name, samples in lat.items():
        out[name] = {
            "n": len(samples),
            "p50_ms": pct(samples, 50) * 1000,
            "p99_ms": pct(samples, 99) * 1000,
            "max_ms": max(samples, default=float("nan")) * 1000,
        }
    out["errors"] = dict(errors)
    return out


async def slow_clients(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    users = load_users(args.scenario)
    auth = {"Authorization": f"Bearer {users[0].tokens[0]}"}
    server, base = start_server(args, "slowloris", work)
    port = int(base.rsplit(":", 1)[1])
    try:
        baseline = await normal_client(base, auth, args.baseline_seconds)
        stats: Counter[str] = Counter()
        until = time.monotonic() + args.slowloris_seconds
        held: list[float] = []
        slow = [
            asyncio.create_task(slowloris_slot(port, until, stats, held))
            for _ in range(args.slowloris)
        ]
        await asyncio.sleep(1.0)  # let them connect and start trickling
        during = await normal_client(base, auth, max(1.0, args.slowloris_seconds - 2.0))
        rss = rss_bytes(server.pid)
        await asyncio.wait(slow, timeout=args.slowloris_seconds + 5)
    finally:
        server.stop()
    problems, five_xx = server.log_problems()
    return {
        "without": baseline,
        "with": during,
        "slowloris": dict(stats),
        "held_s": sorted(held),
        "rss": rss,
        "problems": problems,
        "5xx": five_xx,
    }


# --------------------------------------------------------------------------- report


def ms(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def checks(res: dict[str, Any], args: argparse.Namespace) -> list[tuple[bool, str]]:
    """The expectations from the brief, each with whether this run met it."""
    segs: list[Segment] = res["soak"]["segments"]
    reset_seg: Segment | None = res["soak"].get("reset_segment")
    every = [*segs, *([reset_seg] if reset_seg else [])]
    errors = sum(s.error_count for s in every)
    out = [
        (
            errors == 0,
            f"mixed load and soak: {errors} errors in {sum(s.requests for s in every):,} requests",
        ),
        (not any(s.truncated for s in segs), "soak ran to its request count within --max-seconds"),
    ]
    logs = [res["soak"], res["slow"], *(t for case in res["shutdown"].values() for t in case)]
    problems = sum(len(x["problems"]) for x in logs)
    five_xx = sum(x["5xx"] for x in logs)
    out.append(
        (
            problems == 0 and five_xx == 0,
            f"server logs: {five_xx} 5xx access lines, {problems} traceback/error lines",
        )
    )
    if reset_seg is not None:
        grew = reset_seg.rss_after - segs[-1].rss_after
        out.append(
            (
                grew <= max(2 << 20, 0.05 * segs[-1].rss_after),
                f"RSS after a reset and {reset_seg.requests:,} more requests: "
                f"{'+' if grew >= 0 else ''}{mib(grew)} MiB against the end of the soak",
            )
        )
    for case, trials in res["shutdown"].items():
        slow = [t for t in trials if t["seconds"] is None or t["seconds"] > SHUTDOWN_LIMIT_S]
        codes = sorted({t["code"] for t in trials}, key=str)
        out.append(
            (
                not slow and codes == [0],
                f"SIGTERM {case}: {len(trials) - len(slow)}/{len(trials)} exited within "
                f"{SHUTDOWN_LIMIT_S:g} s, exit codes {codes}",
            )
        )
    loaded = res["shutdown"]["under load"]
    before = sum(t["errors_before"] for t in loaded)
    out.append(
        (
            before == 0,
            f"load before the SIGTERM: {before} errors in "
            f"{sum(t['requests_before'] for t in loaded):,} requests",
        )
    )
    slow = res["slow"]
    stalled = [
        name
        for name in ("keep-alive", "new connection")
        if slow["with"][name]["p99_ms"] > max(50.0, 5 * slow["without"][name]["p99_ms"])
    ]
    errs = sum(slow["with"]["errors"].values())
    out.append(
        (
            not stalled and errs == 0,
            f"normal client beside {args.slowloris} slowloris connections: "
            f"{errs} errors, p99 within 5x of the baseline"
            + (f" except {', '.join(stalled)}" if stalled else ""),
        )
    )
    return out


def render(args: argparse.Namespace, argv: Sequence[str], res: dict[str, Any]) -> str:
    soak_res = res["soak"]
    segs: list[Segment] = soak_res["segments"]
    reset_seg: Segment | None = soak_res.get("reset_segment")
    first, last = segs[0], segs[-1]
    created = sum(s.created for s in segs)
    sessions = sum(s.sessions for s in segs)
    rss0 = soak_res["rss_start"]
    pinned = (
        f"server pinned to core {args.server_core} (taskset), load generator to core "
        f"{args.load_core}"
        if args.pin
        else "nothing pinned (taskset or a second core missing)"
    )
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}; "
        f"cadenza-mock at commit {args.measured or package_revision()}.",
        "",
        f"Settings: scenario `{args.scenario}`, default serve configuration (access log to a "
        f"file, journal {1000} entries); {args.clients} asyncio clients (aiohttp, one "
        f"connection each) x {args.requests_per_client:,} requests per segment; {pinned}.",
        "",
        "Command: `" + shlex.join(["python", "bench/bench_soak.py", *public_argv(argv)]) + "`",
        "",
        "#### Mixed load and soak",
        "",
        "| requests | req/s | p50 ms | p99 ms | errors | credentials in store | sessions issued "
        "| server RSS MiB | server CPU ms/request | CPU: server | load | other |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(label: str, s: Segment | None, store: int, issued: int, rss: int) -> str:
        cells = (
            ["", "", "", ""]
            if s is None
            else [
                f"{s.rps:,.0f}",
                ms(pct(s.latencies, 50) * 1e3),
                ms(pct(s.latencies, 99) * 1e3),
                str(s.error_count),
            ]
        )
        cpu = (
            ["", "", "", ""]
            if s is None
            else [
                f"{s.server_ms_per_request:.2f}",
                *(f"{x:.2f}" for x in (s.server_cpu, s.load_cpu, s.other_cpu)),
            ]
        )
        return (
            "| " + " | ".join([label, *cells, f"{store:,}", f"{issued:,}", mib(rss), *cpu]) + " |"
        )

    store, issued = res["scenario_credentials"], 0
    lines.append(row("start", None, store, issued, rss0))
    for s in segs:
        store += s.created
        issued += s.sessions
        lines.append(row(s.label, s, store, issued, s.rss_after))
    if reset_seg is not None:
        store = res["scenario_credentials"]
        lines.append(row("`POST /__admin/reset`", None, store, 0, soak_res["rss_after_reset"]))
        lines.append(
            row(
                f"{reset_seg.requests:,} after reset",
                reset_seg,
                store + reset_seg.created,
                reset_seg.sessions,
                reset_seg.rss_after,
            )
        )
    total = sum(s.requests for s in segs)
    growth = last.rss_after - rss0
    steady = last.rss_after - first.rss_after
    steady_created = created - first.created
    lines += [
        "",
        f"- Throughput, last segment / first: {last.rps / first.rps:.2f} "
        f"({first.rps:,.0f} -> {last.rps:,.0f} req/s). Capacity (one core / server CPU per "
        f"request), last / first: {first.server_ms_per_request / last.server_ms_per_request:.2f}"
        f" ({1000 / first.server_ms_per_request:,.0f} -> "
        f"{1000 / last.server_ms_per_request:,.0f} req/s; {first.server_ms_per_request:.2f} -> "
        f"{last.server_ms_per_request:.2f} ms of server CPU per request); unlike req/s it "
        "hardly moves when other processes share the machine.",
        f"- RSS: {mib(rss0)} MiB at start, {mib(first.rss_after)} MiB after "
        f"{first.requests:,} requests, {mib(last.rss_after)} MiB after {total:,} "
        f"(peak {mib(soak_res['rss_hwm'])} MiB); growth {mib(growth)} MiB for {created:,} "
        f"credentials created and {sessions:,} sessions issued = "
        f"{growth / max(1, created):,.0f} bytes per created credential "
        + (
            f"({steady / max(1, steady_created):,.0f} from the end of the first segment on)."
            if len(segs) > 1
            else "."
        ),
        "- Each client cycles login, create, list `?credentialIds=<its id>`, verify, rotate, "
        "list `?status=ACTIVE`, refresh, list `?type=EXCHANGE&status=ACTIVE`, revoke, verify "
        "(FAILED). Latency is per request as the client sees it, "
        f"{args.clients} requests in flight "
        "(closed loop), so p50 is mostly queueing: about clients / req/s.",
        "",
        "Median latency per operation (ms), first and last segment:",
        "",
        "| operation | " + " | ".join(CYCLE) + " |",
        "|---|" + "---:|" * len(CYCLE),
    ]
    for s in [first] if first is last else [first, last]:
        lines.append(
            f"| {s.label} | "
            + " | ".join(ms(pct(s.by_op.get(op, []), 50) * 1e3) for op in CYCLE)
            + " |"
        )
    lines += [
        "",
        "#### SIGTERM",
        "",
        "| case | trials | time to exit, median ms | max ms | exit codes | the client saw |",
        "|---|---:|---:|---:|---|---|",
    ]
    for case, trials in res["shutdown"].items():
        times = [t["seconds"] for t in trials if t["seconds"] is not None]
        hung = len(trials) - len(times)
        codes = ", ".join(str(c) for c in sorted({t["code"] for t in trials}, key=str))
        if "answered_after_signal" in trials[0]:
            seen = (
                f"{sum(t['errors_before'] for t in trials)} errors before the signal; after it "
                f"{sum(t['answered_after_signal'] for t in trials)} answered, "
                f"{sum(t['failed_after_signal'] for t in trials)} failed (all trials)"
            )
        else:
            seen = "; ".join(dict.fromkeys(t["client"] for t in trials))
        med = f"{statistics.median(times) * 1e3:.0f}" if times else "-"
        top = f"{max(times) * 1e3:.0f}" if times else "-"
        if hung:
            top += f" ({hung} killed after {EXIT_WAIT_S:g} s)"
        lines.append(f"| {case} | {len(trials)} | {med} | {top} | {codes} | {seen} |")
    slow = res["slow"]
    st = slow["slowloris"]
    lines += [
        "",
        f"Under load: {args.clients} clients running the cycle for "
        f"{args.shutdown_load_seconds:g} s, then the signal. Delayed: a list request held by "
        f"`{json.dumps(DELAY_FAULT)}` (armed with `POST /__admin/faults`), the signal once "
        "the fault has matched it.",
        "",
        "#### Slow clients",
        "",
        f"A normal client sends back-to-back `GET {LIST_PATH}?status=ACTIVE`, alternating a "
        f"kept-alive connection and a new connection per request, for "
        f"{args.baseline_seconds:g} s alone, then for {max(1.0, args.slowloris_seconds - 2):g} s "
        f"beside {args.slowloris} slowloris connections (request line and Host sent, then one "
        f"byte of an endless header per second, for {args.slowloris_seconds:g} s).",
        "",
        "| normal client | slowloris | requests | p50 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for when, n in (("without", 0), ("with", args.slowloris)):
        for name in ("keep-alive", "new connection"):
            d = slow[when][name]
            errs = sum(v for k, v in slow[when]["errors"].items() if k.startswith(name))
            lines.append(
                f"| {name} | {n} | {d['n']:,} | {ms(d['p50_ms'])} | {ms(d['p99_ms'])} | "
                f"{ms(d['max_ms'])} | {errs} |"
            )
    lines += [
        "",
        f"Slowloris connections: {st.get('opened', 0)} opened (a closed one is opened again), "
        f"{st.get('connect failed', 0)} refused, {st.get('closed by server', 0)} closed and "
        f"{st.get('answered by server', 0)} answered by the server"
        + (
            f" after {statistics.median(slow['held_s']):.1f} s (median; "
            f"{min(slow['held_s']):.1f}-{max(slow['held_s']):.1f} s)"
            if slow["held_s"]
            else ""
        )
        + f"; server RSS with them {mib(slow['rss'])} MiB.",
        "",
        "#### Checks",
        "",
    ]
    lines += [f"- {'ok' if ok else '**FAILED**'}: {text}" for ok, text in res["checks"]]
    notes = []
    for s in [*segs, *([reset_seg] if reset_seg else [])]:
        notes += [f"{s.label}: {e}" for e in s.examples[:3]]
    for where, x in (("soak", soak_res), ("slowloris", slow)):
        notes += [f"{where} server log: {p}" for p in x["problems"][:5]]
    for case, trials in res["shutdown"].items():
        for t in trials:
            notes += [f"SIGTERM {case} server log: {p}" for p in t["problems"][:3]]
    if notes:
        lines += ["", "First errors and log lines:", ""]
        lines += [f"- `{n[:240]}`" for n in notes[:15]]
    return "\n".join(lines) + "\n"


def to_json(res: dict[str, Any]) -> dict[str, Any]:
    def conv(x: Any) -> Any:
        if isinstance(x, Segment):
            return x.summary()
        if isinstance(x, dict):
            return {k: conv(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [conv(v) for v in x]
        return x

    return conv(res)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="The defaults are the full run. --quick changes them to the smoke run's: "
        + ", ".join(f"--{k.replace('_', '-')} {v:g}" for k, v in QUICK.items())
        + ". Options given explicitly win over both.",
    )
    full = DEFAULTS

    def opt(name: str, kind: type, text: str) -> None:
        key = name.replace("-", "_")
        p.add_argument(f"--{name}", type=kind, default=None, help=f"{text} (default {full[key]:,})")

    opt("clients", int, "concurrent clients")
    opt("requests-per-client", int, "requests per client per segment; one segment = the mixed load")
    opt("soak-total", int, "requests in the whole soak, the first segment included")
    opt("shutdown-trials", int, "servers stopped per SIGTERM case")
    opt("shutdown-load-seconds", float, "seconds of load before the SIGTERM under load")
    opt("slowloris", int, "slowloris connections")
    opt("slowloris-seconds", float, "how long the slowloris connections stay")
    opt("baseline-seconds", float, "seconds of the normal client alone")
    opt(
        "idle-wait",
        float,
        "before the soak and the slow-client runs, wait up to this many seconds for other "
        "CPU use on the machine to drop below a quarter core; 0 skips",
    )
    p.add_argument("--quick", action="store_true", help="the ~30 s smoke run (see below)")
    p.add_argument(
        "--scenario",
        default="multi-user",
        help="bundled name or file; needs users with email, password and a token "
        "(default multi-user)",
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=420.0,
        help="the soak stops after this many seconds whatever its count (default 420)",
    )
    p.add_argument(
        "--request-timeout", type=float, default=30.0, help="per request, seconds (default 30)"
    )
    p.add_argument("--server-core", type=int, default=0, help="core for the server (default 0)")
    p.add_argument("--load-core", type=int, default=1, help="core for the clients (default 1)")
    p.add_argument(
        "--rev",
        help="measure this commit (exported with git archive into a temporary directory) "
        "instead of the working tree, e.g. --rev HEAD while someone edits cadenza_mock/",
    )
    p.add_argument("--log-dir", type=Path, help="keep the servers' logs here (default: discarded)")
    p.add_argument(
        "--write",
        action="store_true",
        help=f"record the results in {README.relative_to(REPO_ROOT)}",
    )
    p.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = p.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    for key, value in base.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("clients", "requests_per_client", "soak_total", "shutdown_trials"):
        if getattr(args, key) < 1:
            p.error(f"--{key.replace('_', '-')} must be at least 1")
    return args


async def run_all(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from cadenza_mock.scenario import load_scenario

    res: dict[str, Any] = {
        "scenario_credentials": len(load_scenario(args.scenario).credentials),
    }
    t0 = time.monotonic()
    print(
        f"mixed load and soak: {args.clients} clients, {args.soak_total:,} requests",
        file=sys.stderr,
    )
    wait_for_idle_machine(args.idle_wait)
    res["soak"] = await soak(args, work)
    print("slow clients", file=sys.stderr)
    wait_for_idle_machine(args.idle_wait)
    res["slow"] = await slow_clients(args, work)
    seconds, code = res["soak"]["exit"]
    after_soak = {"seconds": seconds, "code": code, "client": "-", "problems": [], "5xx": 0}
    res["shutdown"] = {
        "idle": [],
        "under load": [],
        "with a delayed request pending": [],
        "idle, after the soak (its full store)": [after_soak],
    }
    for trial in range(args.shutdown_trials):
        print(f"SIGTERM trial {trial + 1}/{args.shutdown_trials}", file=sys.stderr)
        res["shutdown"]["idle"].append(await shutdown_idle(args, work, trial))
        res["shutdown"]["under load"].append(await shutdown_under_load(args, work, trial))
        res["shutdown"]["with a delayed request pending"].append(
            await shutdown_delayed(args, work, trial)
        )
    res["seconds"] = time.monotonic() - t0
    res["checks"] = checks(res, args)
    return res


def export_revision(rev: str, into: Path) -> str:
    """`git archive` of the package and the scenarios at rev; returns the short commit."""
    try:
        short = subprocess.run(
            ["git", "rev-parse", "--short", f"{rev}^{{commit}}"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        into.mkdir()
        archive = subprocess.run(
            ["git", "archive", short, "cadenza_mock", "scenarios"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BenchError(f"cannot export revision {rev!r}: {exc}") from exc
    return short


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_soak."))
    args.src, args.measured = REPO_ROOT, None
    if args.rev:
        try:
            short = export_revision(args.rev, work / "src")
        except BenchError as exc:
            print(f"bench_soak: {exc}", file=sys.stderr)
            shutil.rmtree(work, ignore_errors=True)
            return 1
        args.src = work / "src"
        args.measured = f"{short} (`--rev {args.rev}`, exported with git archive)"
        sys.path.insert(0, str(args.src))  # load_scenario from the measured revision too
    args.pin = pinning_available(args.server_core, args.load_core) and (
        args.server_core != args.load_core
    )
    if args.pin:
        os.sched_setaffinity(0, {args.load_core})  # the server is started through taskset
    else:
        print("bench_soak: not pinning (needs taskset and two cores)", file=sys.stderr)
    try:
        res = asyncio.run(run_all(args, work))
    except BenchError as exc:
        print(f"bench_soak: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.log_dir:
            args.log_dir.mkdir(parents=True, exist_ok=True)
            for log in work.glob("*.log"):
                shutil.move(log, args.log_dir / log.name)
        shutil.rmtree(work, ignore_errors=True)
    text = render(args, argv, res)
    print(text)
    print(f"took {res['seconds']:.0f} s", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(to_json(res), indent=2, default=str))
    if args.write:
        write_section("bench_soak", "### Load, soak, SIGTERM, slow clients\n\n" + text)
        print(f"recorded in {README.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0 if all(ok for ok, _ in res["checks"]) else 3


if __name__ == "__main__":
    raise SystemExit(main())

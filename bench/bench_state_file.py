"""What a state-file write costs the other clients: `serve --state-file` holding 20,000
changed records (credentials created over the API), then written again and again while
probe clients measure their latency.

Per server and round: `cadenza-mock serve --quiet --state-file TMP` on core 0 (taskset)
with the `default` scenario; `--records` credentials created over HTTP (16 at a time);
then, once the file holds them all and has stopped changing, `--idle` seconds of probes
with no change (no write: the baseline), then `--writes` single changes `--gap` seconds
apart (each one a write of the whole file 0.5 s later) with the probes going on. The
probes are `--probes` clients in this process (core 1) each sending `GET /api/v3/health`
every 10 ms; a write is counted when the file's mtime changes. The table shows p50, p99
and max probe latency (ms) in each phase, medians over the rounds.

    python bench/bench_state_file.py [--baseline DIR] [--rounds 2] [--write]

`--baseline DIR` serves the cadenza_mock of another checkout too (PYTHONPATH=DIR), e.g.
`git worktree add /tmp/sf-before <commit>`; the servers alternate, each round on a fresh
server. About 1 minute per server and round with the defaults. 127.0.0.1 only; every
server is stopped (SIGTERM, then SIGKILL) before the script ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from _common import REPO_ROOT, machine_description, package_revision, write_section
from bench_list import BenchError, free_port

TOKEN = {"Authorization": "Bearer alice-token"}  # the default scenario's alice
DEADLINE_S = 600  # the whole run, whatever the arguments


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    writes: int = 0

    def row(self) -> tuple[float, float, float]:
        ordered = sorted(self.latencies)
        if not ordered:
            raise BenchError("no probe answered in a phase")
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return statistics.median(ordered), p99, ordered[-1]


@dataclass
class Run:
    label: str
    populate_s: float
    file_mb: float
    idle: Phase
    writing: Phase
    load: float  # the machine's 1-minute load average when the probes began


class Served:
    """One `serve` subprocess of the cadenza_mock found on `pythonpath`."""

    def __init__(self, pythonpath: Path, state: Path, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (work / "serve.log").open("wb")
        argv = [sys.executable, "-m", "cadenza_mock", "serve", "--quiet"]
        argv += ["--port", str(self.port), "--state-file", str(state)]
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        # cwd is the work folder: `-m` would otherwise put this checkout first on sys.path.
        env = {**os.environ, "PYTHONPATH": str(pythonpath), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*pin, *argv], cwd=work, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def check_source(pythonpath: Path, work: Path) -> None:
    """A server on `pythonpath` must import that checkout's cadenza_mock (checked, not
    assumed: an installed copy could win)."""
    code = "import cadenza_mock; print(cadenza_mock.__file__)"
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=work,
        env=env,
        text=True,
        capture_output=True,
        check=True,
        timeout=60,
    )
    found = Path(out.stdout.strip()).resolve()
    if not found.is_relative_to(pythonpath.resolve()):
        raise BenchError(f"PYTHONPATH={pythonpath} imports cadenza_mock from {found}")


def commit_of(checkout: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        text=True,
        capture_output=True,
        check=False,
    )
    return out.stdout.strip() or "unknown"


async def wait_ready(session: aiohttp.ClientSession, served: Served) -> None:
    for _ in range(300):
        if served.proc.poll() is not None:
            raise BenchError(f"serve exited with code {served.proc.returncode}")
        try:
            async with session.get(served.url + "/api/v3/health") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise BenchError("serve did not answer within 30 s")


async def create(session: aiohttp.ClientSession, url: str, index: int) -> None:
    body = {"venue": "BYBIT", "apiKey": f"benchKEY{index:012d}", "apiSecret": f"s{index}"}
    async with session.post(url + "/api/v3/credential/create", json=body, headers=TOKEN) as r:
        answer = await r.json()
        if not answer.get("success"):
            raise BenchError(f"create {index} failed: {answer}")


async def populate(session: aiohttp.ClientSession, url: str, records: int) -> None:
    queue = iter(range(records))

    async def worker() -> None:
        for index in queue:
            await create(session, url, index)

    await asyncio.gather(*(worker() for _ in range(16)))


def file_records(state: Path) -> int:
    try:
        return len(json.loads(state.read_bytes())["credentials"]["records"])
    except (OSError, ValueError, KeyError):
        return -1


async def settle(state: Path, records: int) -> None:
    """Until the file holds every record and has not changed for 2 s."""
    deadline = time.monotonic() + 120
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        stamp = state.stat().st_mtime_ns if state.exists() else None
        if stamp != last:
            last, since = stamp, time.monotonic()
        elif time.monotonic() - since > 2 and file_records(state) >= records:
            return
        await asyncio.sleep(0.1)
    raise BenchError("the state file did not settle within 120 s")


async def probe(session: aiohttp.ClientSession, url: str, phase: list[Phase]) -> None:
    while True:
        start = time.perf_counter()
        async with session.get(url + "/api/v3/health") as r:
            await r.read()
        phase[0].latencies.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.01)


async def count_writes(state: Path, phase: list[Phase]) -> None:
    last = state.stat().st_mtime_ns
    while True:
        await asyncio.sleep(0.02)
        stamp = state.stat().st_mtime_ns
        if stamp != last:
            last = stamp
            phase[0].writes += 1


async def one_run(label: str, pythonpath: Path, args: argparse.Namespace) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-state-") as folder:
        work = Path(folder)
        state = work / "state.json"
        served = Served(pythonpath, state, work)
        limits = aiohttp.TCPConnector(limit=64)
        try:
            async with aiohttp.ClientSession(connector=limits) as session:
                await wait_ready(session, served)
                started = time.monotonic()
                await populate(session, served.url, args.records)
                populate_s = time.monotonic() - started
                await settle(state, args.records)
                load = os.getloadavg()[0]
                idle, writing = Phase(), Phase()
                current = [idle]
                tasks = [
                    asyncio.create_task(probe(session, served.url, current))
                    for _ in range(args.probes)
                ]
                tasks.append(asyncio.create_task(count_writes(state, current)))
                await asyncio.sleep(args.idle)
                current[0] = writing
                for change in range(args.writes):
                    await create(session, served.url, args.records + change)
                    await asyncio.sleep(args.gap)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                size = state.stat().st_size / 1e6
        finally:
            served.stop()
    return Run(label, populate_s, size, idle, writing, load)


def _row(label: str, runs: list[Run]) -> str:
    idle = [r.idle.row() for r in runs]
    busy = [r.writing.row() for r in runs]

    def med(rows: list[tuple[float, float, float]], i: int) -> str:
        return f"{statistics.median(row[i] for row in rows):.1f}"

    writes = "/".join(str(r.writing.writes) for r in runs)
    idle_writes = "/".join(str(r.idle.writes) for r in runs)
    return (
        f"| {label} | {med(idle, 0)} | {med(idle, 1)} | {med(idle, 2)} | {idle_writes} "
        f"| {med(busy, 0)} | {med(busy, 1)} | {med(busy, 2)} | {writes} "
        f"| {runs[0].file_mb:.1f} |"
    )


def report(args: argparse.Namespace, servers: dict[str, list[Run]]) -> str:
    shown = [word for word in sys.argv[1:] if word != "--write"]
    if "--baseline" in shown:  # a temporary worktree: say what it held instead
        shown[shown.index("--baseline") + 1] = f"<worktree of {commit_of(args.baseline)}>"
    command = " ".join(["python bench/bench_state_file.py", *shown])
    lines = [
        "### State file: other clients' latency while it is written",
        "",
        f"Machine: {machine_description()}.",
        f"Command: `{command}`; package {package_revision()}.",
        f"{args.records:,} credentials created over HTTP, then {args.idle:g} s of probes "
        f"without a change and {args.writes} changes {args.gap:g} s apart (each a write of "
        f"the whole file); {args.probes} probe clients, `GET /api/v3/health` every 10 ms; "
        f"server on core 0, probes on core 1; ms, medians of {args.rounds} rounds (writes "
        "seen: per round). The machine is shared: its 1-minute load average as each "
        f"round's probes began: {_loads(servers)}.",
        "",
        "| server | idle p50 | idle p99 | idle max | writes | writing p50 | writing p99 "
        "| writing max | writes | file MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [_row(label, runs) for label, runs in servers.items()]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, list[Run]]:
    plan = [(f"after ({package_revision()})", REPO_ROOT)]
    if args.baseline:
        plan.insert(0, (f"before ({commit_of(args.baseline)})", args.baseline))
    servers: dict[str, list[Run]] = {label: [] for label, _ in plan}
    for round_number in range(args.rounds):
        for label, path in plan:
            run = await one_run(label, path, args)
            servers[label].append(run)
            print(
                f"round {round_number + 1} {label}: populated in {run.populate_s:.1f} s; "
                f"idle {_fmt(run.idle)}; writing {_fmt(run.writing)}",
                flush=True,
            )
    return servers


def _loads(servers: dict[str, list[Run]]) -> str:
    return "; ".join(
        f"{label.split(' ')[0]} " + ", ".join(f"{run.load:.1f}" for run in runs)
        for label, runs in servers.items()
    )


def _fmt(phase: Phase) -> str:
    p50, p99, most = phase.row()
    return f"p50 {p50:.1f} p99 {p99:.1f} max {most:.1f} ms, {phase.writes} writes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--writes", type=int, default=8)
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between changes")
    parser.add_argument("--idle", type=float, default=4.0, help="seconds without a change")
    parser.add_argument("--probes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", type=Path, help="another checkout to serve too")
    parser.add_argument("--write", action="store_true", help="record in bench/README.md")
    args = parser.parse_args()
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the probes beside the server, not on its core
    try:
        with tempfile.TemporaryDirectory() as folder:
            for path in [p for p in (args.baseline, REPO_ROOT) if p is not None]:
                check_source(path, Path(folder))
    except BenchError as exc:
        print(f"bench_state_file: {exc}", file=sys.stderr)
        return 2

    async def bounded() -> dict[str, list[Run]]:
        return await asyncio.wait_for(main_async(args), DEADLINE_S)

    try:
        servers = asyncio.run(bounded())
    except (BenchError, TimeoutError) as exc:
        print(f"bench_state_file: {exc or 'over the deadline'}", file=sys.stderr)
        return 2
    text = report(args, servers)
    print(text)
    if args.write:
        write_section("bench_state_file", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

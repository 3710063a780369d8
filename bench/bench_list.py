"""Throughput and latency of GET /api/v3/credential/list: cadenza-mock vs a bare aiohttp app.

For each scenario, cadenza-mock (`python -m cadenza_mock serve`) and bench/bare_app.py
serving the very same response bytes run side by side, both pinned to one core; wrk
(one thread, fixed connection count, pinned to another core) loads them alternately:
a warm-up run for each, then the measured runs. Both must answer 200 with identical
bodies before anything is measured.

    python bench/bench_list.py                    # print the results table
    python bench/bench_list.py --write            # ...and record it in bench/README.md
    python bench/bench_list.py --plot bench/list-throughput.svg \
        --scenarios default generated:100 generated:1000 many   # ...and draw the plot

A scenario is a bundled name or `generated:N` (one user with `generate: N` records).

Needs wrk (Debian: apt-get install wrk) and taskset (util-linux).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from _common import (
    BENCH_DIR,
    README,
    REPO_ROOT,
    machine_description,
    package_revision,
    write_section,
)

LIST_PATH = "/api/v3/credential/list"
BARE = "bare aiohttp"  # the reference every ratio is taken against: asyncio's own loop
BARE_UVLOOP = "bare aiohttp + uvloop"
OURS = "cadenza-mock"  # the default configuration: `--loop auto` runs uvloop where installed
GENERATED_PREFIX = "generated:"
HEALTH_PATH = "/__admin/health"

# wrk prints this line from the script's done() hook; parsing it beats scraping the
# human-readable report (units vary between us, ms and s there).
WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, ' ..
    '"connect": %.0f, "read": %.0f, "write": %.0f, "timeout": %.0f, "status": %.0f, ' ..
    '"p50_us": %.1f, "p90_us": %.1f, "p99_us": %.1f, "max_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


class BenchError(RuntimeError):
    """A precondition failed; the message says which and what to do."""


@dataclass
class WrkRun:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    status_errors: int
    server_cpu: float = 0.0  # cores the server used on average during the run
    other_cpu: float = 0.0  # cores used by everything but the server and wrk


@dataclass
class Row:
    scenario: str
    size: int
    server: str
    runs: list[WrkRun]
    records: int = 0  # credentials in the list answer

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """A server subprocess pinned to one core; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, label: str, argv: list[str], core: int, log_dir: Path) -> None:
        self.label = label
        self.log_path = log_dir / f"{label.replace(' ', '_')}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(core), *argv],
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def log_tail(self, lines: int = 20) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, url: str, headers: dict[str, str], retries: int = 150) -> None:
        for _ in range(retries):
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.label} exited with code {self.proc.returncode} before answering"
                    f" {url}; its output:\n{self.log_tail()}"
                )
            try:
                status, _ = fetch(url, headers)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(
            f"{self.label} did not answer 200 on {url} after {retries} tries;"
            f" its output:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for_idle_machine(max_wait: float, threshold: float = 0.25) -> None:
    """On a shared machine, give other jobs up to `max_wait` seconds to quieten down.

    Our servers idle between runs, so CPU use now is someone else's. Bounded: after
    `max_wait` the run goes ahead, and its `other_cpu` shows the interference.
    """
    deadline = time.monotonic() + max_wait
    while True:
        before = machine_busy_s()
        time.sleep(1.0)
        if machine_busy_s() - before < threshold or time.monotonic() >= deadline:
            return


def run_wrk(
    args: argparse.Namespace,
    url: str,
    headers: dict[str, str],
    duration: float,
    script: Path,
    server_pid: int,
) -> WrkRun:
    """One wrk run; also how much CPU the server and everything else on the machine used.

    The machine may be shared: other CPU use during a run is reported, not hidden.
    """
    cmd = [
        "taskset",
        "-c",
        str(args.wrk_core),
        "wrk",
        "-t1",
        f"-c{args.connections}",
        f"-d{duration:g}s",
        "--latency",
        f"--timeout={max(10.0, duration):g}s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    wait_for_idle_machine(args.idle_wait)
    busy0, server0, children0 = machine_busy_s(), process_cpu_s(server_pid), children_cpu_s()
    wall0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    wall = time.monotonic() - wall0
    server = process_cpu_s(server_pid) - server0
    other = machine_busy_s() - busy0 - server - (children_cpu_s() - children0)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    d = json.loads(line.removeprefix("WRKJSON "))
    duration_s = d["duration_us"] / 1e6
    return WrkRun(
        requests=int(d["requests"]),
        duration_s=duration_s,
        rps=d["requests"] / duration_s,
        p50_ms=d["p50_us"] / 1000,
        p90_ms=d["p90_us"] / 1000,
        p99_ms=d["p99_us"] / 1000,
        max_ms=d["max_us"] / 1000,
        socket_errors=int(d["connect"] + d["read"] + d["write"] + d["timeout"]),
        status_errors=int(d["status"]),
        server_cpu=server / wall,
        other_cpu=max(0.0, other / wall),
    )


def ours_argv(scenario: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cadenza_mock",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--scenario",
        scenario,
    ]


def scenario_source(scenario: str, work: Path) -> str:
    """What `serve --scenario` takes: the bundled name, or a file written for `generated:N`."""
    if not scenario.startswith(GENERATED_PREFIX):
        return scenario
    count = int(scenario.removeprefix(GENERATED_PREFIX))
    path = work / f"generated-{count}.yaml"
    path.write_text(
        f"seed: 1\nusers:\n  - tokens: [bench-token]\n    credentials:\n      - generate: {count}\n"
    )
    return str(path)


def first_token(source: str) -> str:
    try:
        from cadenza_mock import load_scenario
    except ImportError as exc:
        raise BenchError(
            f"cannot import cadenza_mock.load_scenario ({exc}); "
            "run `pip install -e .` in the repository first"
        ) from exc
    return load_scenario(source).users[0].tokens[0]


# scenario -> rounds thrown away because other processes were busy during them
discarded: dict[str, int] = {}


def bench_scenario(args: argparse.Namespace, scenario: str, work: Path, script: Path) -> list[Row]:
    source = scenario_source(scenario, work)
    token = first_token(source)
    auth = {"Authorization": f"Bearer {token}"}
    variants = [(OURS, [])]
    if not args.no_loop_variants:
        variants.append((f"{OURS} --loop asyncio", ["--loop", "asyncio"]))
    if args.quiet_variant:
        variants.append(("cadenza-mock --quiet", ["--quiet"]))
    if args.lean_variant:
        variants.append(
            ("cadenza-mock --quiet --journal-size 0", ["--quiet", "--journal-size", "0"])
        )
    targets: list[tuple[str, str, Server]] = []  # (label, list URL, server)
    body = b""
    try:
        for label, extra in variants:
            port = free_port()
            url = f"http://127.0.0.1:{port}{LIST_PATH}"
            server = Server(
                f"{label} {scenario}", [*ours_argv(source, port), *extra], args.server_core, work
            )
            targets.append((label, url, server))
            server.wait_ready(f"http://127.0.0.1:{port}{HEALTH_PATH}", {})
            status, got = fetch(url, auth)
            if status != 200:
                raise BenchError(
                    f"{label} answered {status} (not 200) on {LIST_PATH} for "
                    f"scenario {scenario!r}:\n{got[:500]!r}"
                )
            # The body must not depend on the request (a clock, a counter): wrk would then
            # measure something other than what is compared here.
            if fetch(url, auth) != (200, got) or (body and got != body):
                raise BenchError(f"{label} does not answer the same bytes to every request")
            body = got
        body_file = work / f"{scenario}.json"
        body_file.write_bytes(body)

        bares = [(BARE, "asyncio")]
        if not args.no_loop_variants:
            bares.append((BARE_UVLOOP, "uvloop"))
        for label, loop in bares:
            port = free_port()
            url = f"http://127.0.0.1:{port}{LIST_PATH}"
            bare = Server(
                f"{label} {scenario}",
                [
                    sys.executable,
                    str(BENCH_DIR / "bare_app.py"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--body",
                    str(body_file),
                    "--loop",
                    loop,
                ],
                args.server_core,
                work,
            )
            targets.append((label, url, bare))
            bare.wait_ready(url, {})
            bare_status, bare_body = fetch(url, auth)
            if bare_status != 200 or bare_body != body:
                raise BenchError(
                    f"{label} answered {bare_status} with {len(bare_body)} bytes; "
                    f"expected 200 with the {len(body)} bytes cadenza-mock served"
                )

        runs: dict[str, list[WrkRun]] = {label: [] for label, _, _ in targets}
        for label, url, server in targets:
            print(f"  {scenario}: warm-up {label} ({args.warmup:g}s)", file=sys.stderr)
            run_wrk(args, url, auth, args.warmup, script, server.proc.pid)
        kept = attempts = 0
        while kept < args.rounds and attempts < args.rounds + args.max_redo:
            attempts += 1
            round_runs: dict[str, WrkRun] = {}
            for label, url, server in targets:
                run = run_wrk(args, url, auth, args.duration, script, server.proc.pid)
                print(
                    f"  {scenario}: round {kept + 1}/{args.rounds} {label}: {run.rps:,.0f} req/s,"
                    f" p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms; CPU: server"
                    f" {run.server_cpu:.2f}, other {run.other_cpu:.2f} cores",
                    file=sys.stderr,
                )
                if run.status_errors:
                    raise BenchError(
                        f"{label} answered {run.status_errors} non-2xx responses "
                        f"under load; its output:\n{server.log_tail()}"
                    )
                round_runs[label] = run
            busiest = max(run.other_cpu for run in round_runs.values())
            redo_left = args.rounds + args.max_redo - attempts
            if busiest > args.max_other_cpu and redo_left >= args.rounds - kept:
                print(
                    f"  {scenario}: round discarded, other processes used {busiest:.2f} cores",
                    file=sys.stderr,
                )
                discarded[scenario] = discarded.get(scenario, 0) + 1
                continue
            kept += 1
            for label, run in round_runs.items():
                runs[label].append(run)
        records = len(json.loads(body)["data"])
        return [Row(scenario, len(body), label, runs[label], records) for label, _, _ in targets]
    finally:
        for _, _, server in reversed(targets):
            server.stop()


def fmt_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.2f} MiB"


def public_argv(argv: Sequence[str]) -> list[str]:
    """The command line as recorded: a local output path says nothing to a reader."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--json" and i + 1 < len(out):
            out[i + 1] = "FILE"
        elif arg.startswith("--json="):
            out[i] = "--json=FILE"
    return out


def render(args: argparse.Namespace, argv: Sequence[str], rows: list[Row]) -> str:
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}; "
        f"cadenza-mock at commit {package_revision()}.",
        "",
        f"Settings: wrk {wrk_version[1] if len(wrk_version) > 1 else '?'}, 1 thread, "
        f"{args.connections} connections, server on core {args.server_core}, "
        f"wrk on core {args.wrk_core}; per scenario a {args.warmup:g} s warm-up for each server, "
        f"then {args.rounds} x {args.duration:g} s measured runs alternating between the servers; "
        f"medians of the {args.rounds} runs. Before each run the script waits up to "
        f"{args.idle_wait:g} s for other CPU use on the machine to fall below a quarter core.",
        "",
        "Command: `" + shlex.join(["python", "bench/bench_list.py", *public_argv(argv)]) + "`",
        "",
        "| scenario | records | response size | server | req/s | p50 ms | p99 ms | server CPU "
        "| ours / bare req/s |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    bare = {r.scenario: r for r in rows if r.server == BARE}
    notes = []
    for r in rows:
        ratio = ""
        if r.server != BARE:
            # Each round's run sits next to the bare run of the same round, so the per-round
            # ratio cancels most drift on a shared machine; report its median and range.
            per_round = [o.rps / b.rps for o, b in zip(r.runs, bare[r.scenario].runs, strict=True)]
            ratio = f"{statistics.median(per_round):.2f}"
            if len(per_round) > 1:
                ratio += f" ({min(per_round):.2f}-{max(per_round):.2f})"
        server_cpu = statistics.median(run.server_cpu for run in r.runs)
        lines.append(
            f"| {r.scenario} | {r.records:,} | {fmt_size(r.size)} | {r.server} | {r.rps:,.0f} | "
            f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {server_cpu:.2f} | {ratio} |"
        )
        errors = sum(run.socket_errors for run in r.runs)
        if errors:
            notes.append(
                f"{r.scenario} / {r.server}: {errors} socket errors (timeouts etc.) "
                f"in the measured runs."
            )
    other = [run.other_cpu for r in rows for run in r.runs]
    lines += [
        "",
        "req/s, p50, p99 and server CPU (cores, from /proc) are medians over the runs; the "
        "ratio is the median of the per-round ratios (range in brackets). CPU used by other "
        f"processes on the machine during the measured runs: median {statistics.median(other):.2f},"
        f" max {max(other):.2f} cores."
        + "".join(
            f" {n} round(s) of {scenario} discarded and redone because other processes were"
            f" busy (> {args.max_other_cpu:g} cores)."
            for scenario, n in discarded.items()
        ),
    ]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--scenarios",
        nargs="+",
        default=["default", "many"],
        help="bundled scenario names (default: default many)",
    )
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    p.add_argument(
        "--warmup", type=int, default=5, help="seconds of warm-up per server (default 5)"
    )
    p.add_argument(
        "--rounds", type=int, default=5, help="measured runs per server, alternating (default 5)"
    )
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--server-core", type=int, default=0, help="core for the servers (default 0)")
    p.add_argument("--wrk-core", type=int, default=1, help="core for wrk (default 1)")
    p.add_argument(
        "--write",
        action="store_true",
        help=f"record the results in {README.relative_to(REPO_ROOT)}",
    )
    p.add_argument(
        "--quiet-variant",
        action="store_true",
        help="also measure `serve --quiet` (no access log) in the same alternation",
    )
    p.add_argument(
        "--lean-variant",
        action="store_true",
        help="also measure `serve --quiet --journal-size 0` (no access log, no journal): "
        "the load-test configuration",
    )
    p.add_argument(
        "--idle-wait",
        type=float,
        default=15.0,
        help="before each run, wait up to this many seconds for other CPU use on the machine "
        "to drop below a quarter core (default 15; 0 to skip)",
    )
    p.add_argument(
        "--max-other-cpu",
        type=float,
        default=0.3,
        help="discard and redo a round in which other processes used more than this many "
        "cores during any run (default 0.3)",
    )
    p.add_argument(
        "--max-redo",
        type=int,
        default=5,
        help="at most this many rounds per scenario are redone (default 5); after that, "
        "busy rounds are kept and the report shows the interference",
    )
    p.add_argument(
        "--no-loop-variants",
        action="store_true",
        help="measure only the default cadenza-mock and the bare app on asyncio (by default "
        "also `serve --loop asyncio` and the bare app on uvloop)",
    )
    p.add_argument(
        "--plot",
        type=Path,
        metavar="SVG",
        help="draw req/s and p99 against the records in the list, cadenza-mock vs the bare "
        "app, to this file (needs matplotlib: pip install matplotlib)",
    )
    p.add_argument("--json", type=Path, help="also write the raw per-run numbers here")
    return p.parse_args(argv)


def plot(rows: list[Row], path: Path, title: str) -> None:
    """Two panels sharing a log x axis (records in the answer): req/s and p99 latency."""
    try:
        import matplotlib

        matplotlib.use("svg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise BenchError(f"--plot needs matplotlib ({exc}): pip install matplotlib") from exc
    servers = [
        s
        for s in (OURS, f"{OURS} --loop asyncio", BARE, BARE_UVLOOP)
        if any(r.server == s for r in rows)
    ]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 6.5))
    for server in servers:
        mine = sorted((r for r in rows if r.server == server), key=lambda r: r.records)
        xs = [max(r.records, 1) for r in mine]
        style = "-" if server in (OURS, BARE) else "--"
        top.plot(xs, [r.rps for r in mine], style, marker="o", label=server)
        bottom.plot(xs, [r.p99_ms for r in mine], style, marker="o", label=server)
    top.set_ylabel("requests / s (median)")
    top.set_yscale("log")
    bottom.set_ylabel("p99 latency, ms (median)")
    bottom.set_yscale("log")
    bottom.set_xscale("log")
    bottom.set_xlabel("credentials in the list answer")
    top.legend(fontsize="small")
    top.grid(True, which="both", alpha=0.3)
    bottom.grid(True, which="both", alpha=0.3)
    top.set_title(title, fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(
                f"bench_list: {tool} not found (Debian: apt-get install "
                f"{'wrk' if tool == 'wrk' else 'util-linux'})",
                file=sys.stderr,
            )
            return 2
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench_list.") as tmp:
        work = Path(tmp)
        script = work / "report.lua"
        script.write_text(WRK_SCRIPT)
        try:
            for scenario in args.scenarios:
                rows += bench_scenario(args, scenario, work, script)
        except BenchError as exc:
            print(f"bench_list: {exc}", file=sys.stderr)
            return 1
    table = render(args, argv, rows)
    print(table)
    if args.plot:
        try:
            plot(
                rows,
                args.plot,
                "GET /api/v3/credential/list, wrk -t1 -c"
                f"{args.connections}, {datetime.now(UTC):%Y-%m-%d}",
            )
        except BenchError as exc:
            print(f"bench_list: {exc}", file=sys.stderr)
            return 1
        print(f"plot written to {args.plot}", file=sys.stderr)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "scenario": r.scenario,
                        "size": r.size,
                        "server": r.server,
                        "runs": [vars(run) for run in r.runs],
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
    if args.write:
        write_section("bench_list", "### GET /api/v3/credential/list\n\n" + table)
        print(f"recorded in {README.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Market reads under wrk: cadenza-mock vs a bare aiohttp app answering the same bytes.

`GET /api/v3/market/orderBook/get?instrumentId=BINANCE:BTC/USDT` and
`GET /api/v3/market/ticker/list` on the bundled `default` scenario (its clock is frozen,
so every answer is the same bytes). For each path, cadenza-mock (`serve`, access log and
journal on, as a user runs it), optionally the same server from another checkout
(`--baseline DIR`, for a before column) and bench/bare_app.py serving the bytes
cadenza-mock answered run pinned to one core; wrk (one thread, pinned to the other core)
loads them in turn: a warm-up each, then `--rounds` alternating runs. 127.0.0.1 only;
about (paths x servers x (warm-up + rounds x duration)) seconds: 1 minute with the
defaults, 1.5 with a baseline.

    python bench/bench_market.py                    # print the table
    python bench/bench_market.py --baseline DIR     # ...with a before column
    python bench/bench_market.py --write            # ...and record it in bench/README.md

Needs wrk (Debian: apt-get install wrk) and taskset (util-linux).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from _common import BENCH_DIR, machine_description, package_revision, write_section
from bench_list import (
    HEALTH_PATH,
    WRK_SCRIPT,
    BenchError,
    Server,
    WrkRun,
    fetch,
    first_token,
    free_port,
    ours_argv,
    run_wrk,
)

PATHS = (
    "/api/v3/market/orderBook/get?instrumentId=BINANCE:BTC/USDT",
    "/api/v3/market/ticker/list",
)
SCENARIO = "default"
OURS = "cadenza-mock"
BEFORE = "cadenza-mock (baseline)"
BARE = "bare aiohttp"


def _ours(label: str, port: int, core: int, work: Path, package: Path | None) -> Server:
    """`serve` of this tree, or of `package` (another checkout) through PYTHONPATH (`-P`:
    not this tree's, the working directory)."""
    if package is None:
        return Server(label, ours_argv(SCENARIO, port), core, work)
    argv = ours_argv(SCENARIO, port)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(package.resolve())
    try:
        return Server(label, [argv[0], "-P", *argv[1:]], core, work)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old


def bench_path(
    args: argparse.Namespace, target: str, work: Path, script: Path
) -> dict[str, list[WrkRun]]:
    auth = {"Authorization": f"Bearer {first_token(SCENARIO)}"}
    path = target.partition("?")[0]
    servers: list[tuple[str, str, Server]] = []
    try:
        body = b""
        wanted = [(OURS, None)] + ([(BEFORE, args.baseline)] if args.baseline else [])
        for label, package in wanted:
            port = free_port()
            server = _ours(label, port, args.server_core, work, package)
            servers.append((label, f"http://127.0.0.1:{port}{target}", server))
            server.wait_ready(f"http://127.0.0.1:{port}{HEALTH_PATH}", {})
            got = fetch(servers[-1][1], auth)
            if got[0] != 200 or fetch(servers[-1][1], auth) != got or (body and got[1] != body):
                raise BenchError(f"{label} does not answer 200 with the same bytes every time")
            body = got[1]
        body_file = work / "answer.json"
        body_file.write_bytes(body)
        port = free_port()
        bare_argv = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(port)]
        bare = Server(BARE, [*bare_argv, "--body", str(body_file), "--path", path], 0, work)
        servers.append((BARE, f"http://127.0.0.1:{port}{target}", bare))
        bare.wait_ready(servers[-1][1], {})
        if fetch(servers[-1][1], auth) != (200, body):
            raise BenchError(f"{BARE} does not answer the bytes cadenza-mock answered")
        for label, url, server in servers:
            print(f"  {path}: warm-up {label} ({args.warmup:g} s)", file=sys.stderr)
            run_wrk(args, url, auth, args.warmup, script, server.proc.pid)
        runs: dict[str, list[WrkRun]] = {label: [] for label, _, _ in servers}
        for round_no in range(args.rounds):
            for label, url, server in servers:
                run = run_wrk(args, url, auth, args.duration, script, server.proc.pid)
                if run.status_errors or run.socket_errors:
                    raise BenchError(f"{label}: errors under load; log:\n{server.log_tail()}")
                print(
                    f"  {path}: round {round_no + 1}/{args.rounds} {label}: {run.rps:,.0f} "
                    f"req/s, server {run.server_cpu:.2f} cores, others {run.other_cpu:.2f}",
                    file=sys.stderr,
                )
                runs[label].append(run)
        return runs
    finally:
        for _, _, server in reversed(servers):
            server.stop()


def _per_cpu(run: WrkRun) -> float:
    return run.rps / run.server_cpu if run.server_cpu else 0.0


def render(args: argparse.Namespace, results: dict[str, dict[str, list[WrkRun]]]) -> str:
    baseline = " --baseline DIR" if args.baseline else ""
    lines = [
        "### Market reads: order book and ticker list",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}; "
        f"cadenza-mock at commit {package_revision()}.",
        "",
        f"Settings: the `{SCENARIO}` scenario (frozen clock), `serve` with its defaults "
        "(access log and journal on); servers on core "
        f"{args.server_core}, wrk -t1 -c{args.connections} on core {args.wrk_core}; "
        f"{args.rounds} x {args.duration:g} s runs per server, alternating, after a "
        f"{args.warmup:g} s warm-up each; medians; ratios: medians of the per-round ratios "
        "to the bare app. `per CPU-s`: requests per second of server CPU, the figure to "
        "read on a shared machine (`others`: cores other processes used meanwhile).",
        "",
        f"Command: `python bench/bench_market.py --duration {args.duration:g} --rounds "
        f"{args.rounds}{baseline}`",
        "",
        "| path | server | req/s | p50 ms | p99 ms | / bare | per CPU-s | / bare | others |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target, runs in results.items():
        bare = runs[BARE]
        for label, mine in runs.items():
            ratio = statistics.median(m.rps / b.rps for m, b in zip(mine, bare, strict=True))
            cpu_ratio = statistics.median(
                _per_cpu(m) / _per_cpu(b) for m, b in zip(mine, bare, strict=True)
            )
            lines.append(
                f"| `{target}` | {label} | {statistics.median(r.rps for r in mine):,.0f} "
                f"| {statistics.median(r.p50_ms for r in mine):.2f} "
                f"| {statistics.median(r.p99_ms for r in mine):.2f} | {ratio:.2f} "
                f"| {statistics.median(_per_cpu(r) for r in mine):,.0f} | {cpu_ratio:.2f} "
                f"| {statistics.median(r.other_cpu for r in mine):.2f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=5, help="seconds per run (default 5)")
    p.add_argument("--warmup", type=float, default=2, help="warm-up seconds (default 2)")
    p.add_argument("--rounds", type=int, default=3, help="runs per server (default 3)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--server-core", type=int, default=0, help="servers' core (default 0)")
    p.add_argument("--wrk-core", type=int, default=1, help="wrk's core (default 1)")
    p.add_argument(
        "--idle-wait",
        type=float,
        default=5.0,
        help="wait up to this many seconds before each run for the machine to be idle (default 5)",
    )
    p.add_argument("--baseline", type=Path, help="another checkout to measure beside this one")
    p.add_argument("--paths", nargs="+", default=list(PATHS), help="paths with their query")
    p.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    p.add_argument("--json", type=Path, help="also write the raw per-run numbers here")
    args = p.parse_args(argv)
    results: dict[str, dict[str, list[WrkRun]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-market-") as tmp:
        work = Path(tmp)
        script = work / "report.lua"
        script.write_text(WRK_SCRIPT)
        try:
            for target in args.paths:
                results[target] = bench_path(args, target, work, script)
        except BenchError as exc:
            print(f"bench_market: {exc}", file=sys.stderr)
            return 2
    table = render(args, results)
    print(table)
    if args.json:
        raw = {t: {k: [vars(r) for r in v] for k, v in runs.items()} for t, runs in results.items()}
        args.json.write_text(json.dumps(raw, indent=1))
    if args.write:
        write_section("bench_market", table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

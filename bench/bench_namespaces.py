"""What namespaces cost a request: the credential list of the `default` scenario under
wrk, reached every way a namespace can be, beside the server's own state and a bare
aiohttp app serving the very same bytes (the reference of every ratio).

One `cadenza-mock serve --quiet` holds `--namespaces` namespaces (default 64, the default
bound); the one measured is the last created, so a token that must be looked up in each
namespace's sessions pays for all of them. The rows:

- server's own, fast path: the default namespace's repeated list (answered below aiohttp)
- server's own, by header: `X-Cadenza-Mock-Namespace: default`
- server's own, login token: a JWT the server issued (issued tokens' lists are never
  remembered: the ordinary path, for the server's own state as for a namespace's)
- namespace, base URL: `/__ns/<name>/api/v3/credential/list` with the scenario's token
- namespace, prefixed token: `Bearer <name>.alice-token` on the plain URL
- namespace, login token: a JWT the namespace issued (found by its sessions) on the plain URL

    python bench/bench_namespaces.py [--duration 5] [--rounds 3] [--write]

Needs wrk (Debian: apt-get install wrk) and taskset (util-linux); about 2 minutes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from _common import BENCH_DIR, README, REPO_ROOT, machine_description, write_section
from bench_list import (
    HEALTH_PATH,
    LIST_PATH,
    WRK_SCRIPT,
    BenchError,
    Server,
    WrkRun,
    fetch,
    free_port,
    run_wrk,
)

BARE = "bare aiohttp + uvloop"
PASSWORD = "correct-horse"  # the default scenario's alice


def _post(url: str, body: dict[str, str] | None = None) -> dict[str, object]:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, object] = json.loads(response.read())["data"]
        return answer


def targets(base: str, name: str, jwt: str, own_jwt: str) -> list[tuple[str, str, dict[str, str]]]:
    """(label, URL, headers) of each way to the same list answer."""
    own = {"Authorization": "Bearer alice-token"}
    return [
        ("server's own, fast path", base + LIST_PATH, own),
        (
            "server's own, by header",
            base + LIST_PATH,
            {**own, "X-Cadenza-Mock-Namespace": "default"},
        ),
        ("server's own, login token", base + LIST_PATH, {"Authorization": f"Bearer {own_jwt}"}),
        ("namespace, base URL", f"{base}/__ns/{name}{LIST_PATH}", own),
        (
            "namespace, prefixed token",
            base + LIST_PATH,
            {"Authorization": f"Bearer {name}.alice-token"},
        ),
        ("namespace, login token", base + LIST_PATH, {"Authorization": f"Bearer {jwt}"}),
    ]


def measure(args: argparse.Namespace, work: Path) -> list[tuple[str, list[WrkRun]]]:
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ours = Server(
        "cadenza-mock",
        [
            sys.executable,
            "-m",
            "cadenza_mock",
            "serve",
            "--port",
            str(port),
            "--quiet",
            "--max-namespaces",
            str(max(args.namespaces, 1)),
        ],
        args.server_core,
        work,
    )
    servers = [ours]
    try:
        ours.wait_ready(base + HEALTH_PATH, {})
        name = ""
        for index in range(args.namespaces):
            name = f"bench-{index}"
            _post(f"{base}/__admin/namespaces?namespace={name}")
        login = _post(
            f"{base}/__ns/{name}/api/v3/auth/login",
            {"email": "alice@example.com", "password": PASSWORD},
        )
        own_login = _post(
            f"{base}/api/v3/auth/login", {"email": "alice@example.com", "password": PASSWORD}
        )
        ways = targets(base, name, str(login["accessToken"]), str(own_login["accessToken"]))
        answers = {fetch(url, headers) for _, url, headers in ways}
        if len(answers) != 1 or next(iter(answers))[0] != 200:
            raise BenchError("the ways to the list do not all answer the same 200")
        body_file = work / "list.json"
        body_file.write_bytes(next(iter(answers))[1])
        bare_port = free_port()
        bare = Server(
            BARE,
            [
                sys.executable,
                str(BENCH_DIR / "bare_app.py"),
                "--port",
                str(bare_port),
                "--body",
                str(body_file),
                "--loop",
                "uvloop",
            ],
            args.server_core,
            work,
        )
        servers.append(bare)
        bare_url = f"http://127.0.0.1:{bare_port}{LIST_PATH}"
        bare.wait_ready(bare_url, {})
        plan = [(BARE, bare_url, {}, bare), *((*way, ours) for way in ways)]
        runs: dict[str, list[WrkRun]] = {label: [] for label, *_ in plan}
        for _label, url, headers, server in plan:
            run_wrk(args, url, headers, args.warmup, script, server.proc.pid)
        for round_number in range(args.rounds):
            for label, url, headers, server in plan:
                run = run_wrk(args, url, headers, args.duration, script, server.proc.pid)
                if run.status_errors or run.socket_errors:
                    raise BenchError(f"{label}: {run.status_errors} non-2xx, {run.socket_errors}")
                print(
                    f"  round {round_number + 1}/{args.rounds} {label}: {run.rps:,.0f} req/s, "
                    f"p99 {run.p99_ms:.2f} ms",
                    file=sys.stderr,
                )
                runs[label].append(run)
        return list(runs.items())
    finally:
        for server in reversed(servers):
            server.stop()


def render(args: argparse.Namespace, rows: list[tuple[str, list[WrkRun]]]) -> str:
    bare_runs = dict(rows)[BARE]
    lines = [
        f"Machine: {machine_description()}.",
        f"Command: `python bench/bench_namespaces.py --namespaces {args.namespaces} "
        f"--duration {args.duration:g} --rounds {args.rounds}`; wrk -t1 -c{args.connections}, "
        f"servers on core {args.server_core}, wrk on core {args.wrk_core}; medians of "
        f"{args.rounds} rounds, ratio = median of the per-round ratios to the bare app. "
        "Requests per CPU-second: req/s over the cores the server used (from /proc), which "
        "holds when other processes take the server's core; other CPU: cores the rest of "
        "the machine used meanwhile (median).",
        "",
        "| way in | req/s | p50 ms | p99 ms | / bare | req per CPU-s | / bare | other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, runs in rows:
        pairs = list(zip(runs, bare_runs, strict=True))
        ratios = [run.rps / bare.rps for run, bare in pairs]
        per_cpu = [run.rps / max(run.server_cpu, 1e-9) for run in runs]
        cpu_ratios = [
            (run.rps / max(run.server_cpu, 1e-9)) / (bare.rps / max(bare.server_cpu, 1e-9))
            for run, bare in pairs
        ]
        lines.append(
            f"| {label} | {statistics.median(r.rps for r in runs):,.0f} | "
            f"{statistics.median(r.p50_ms for r in runs):.2f} | "
            f"{statistics.median(r.p99_ms for r in runs):.2f} | {statistics.median(ratios):.2f} | "
            f"{statistics.median(per_cpu):,.0f} | {statistics.median(cpu_ratios):.2f} | "
            f"{statistics.median(r.other_cpu for r in runs):.2f} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--namespaces", type=int, default=64, help="namespaces to create (64)")
    p.add_argument("--duration", type=float, default=5, help="seconds per measured run (5)")
    p.add_argument("--warmup", type=float, default=2, help="warm-up seconds per way in (2)")
    p.add_argument("--rounds", type=int, default=3, help="measured rounds (3)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    p.add_argument("--server-core", type=int, default=0, help="core for the servers (0)")
    p.add_argument("--wrk-core", type=int, default=1, help="core for wrk (1)")
    p.add_argument("--idle-wait", type=float, default=15, help="seconds to wait for quiet")
    p.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    args = p.parse_args(argv)
    if args.namespaces < 1:
        p.error("--namespaces must be at least 1 (one is measured)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"bench_namespaces: {tool} not found", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="bench_namespaces.") as tmp:
        try:
            rows = measure(args, Path(tmp))
        except BenchError as exc:
            print(f"bench_namespaces: {exc}", file=sys.stderr)
            return 1
    table = render(args, rows)
    print(table)
    if args.write:
        write_section("bench_namespaces", "### Namespaces: the list, every way in\n\n" + table)
        print(f"recorded in {README.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

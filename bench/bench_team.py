"""The team deployment's throughput: the credential list of many namespaces through HAProxy
(deploy/haproxy.cfg as shipped) in front of three `serve` replicas, against one process
alone and one process behind the same HAProxy (the balancer's own cost), in the same run.

Each setup holds `--namespaces` namespaces of the `default` scenario (created through the
balancer, so each lands on the replica it hashes to); wrk cycles through their base URLs
(`/__ns/<name>/api/v3/credential/list`), so the load spreads as a team's CI jobs would.
Nothing is pinned: the three replicas, HAProxy and wrk share the machine's cores, and the
table says how many cores everything used. 127.0.0.1 only; stops by itself.

    python bench/bench_team.py [--duration 5] [--rounds 3] [--write]

Needs wrk, haproxy (Debian: apt-get install wrk haproxy); about 1.5 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from _common import README, REPO_ROOT, machine_description, write_section
from bench_list import (
    HEALTH_PATH,
    LIST_PATH,
    WRK_SCRIPT,
    BenchError,
    Server,
    WrkRun,
    fetch,
    free_port,
    process_cpu_s,
    run_wrk,
    wait_for_idle_machine,
)

CONFIG = REPO_ROOT / "deploy" / "haproxy.cfg"
ALICE = {"Authorization": "Bearer alice-token"}
ONE = "one process"
ONE_LB = "one process behind HAProxy"
THREE = "three replicas behind HAProxy"
REPLICAS = ("cadenza-mock-0", "cadenza-mock-1", "cadenza-mock-2")  # haproxy.cfg's servers
ALL_CORES = "0-1023"  # taskset: any core (Server pins; this pins to nothing)


def _serve(port: int, replica: str, work: Path) -> Server:
    argv = [sys.executable, "-m", "cadenza_mock", "serve", "--port", str(port), "--quiet"]
    return Server(f"replica {replica}", [*argv, "--replica-id", replica], ALL_CORES, work)


def _haproxy(port: int, replicas: list[int], work: Path, label: str) -> Server:
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    assert haproxy is not None
    env = {"CADENZA_LB_BIND": f"127.0.0.1:{port}"}
    for index, replica_port in enumerate(replicas):
        env[f"CADENZA_MOCK_REPLICA_{index}"] = f"127.0.0.1:{replica_port}"
    os.environ.update(env)  # Server passes the environment on
    try:
        return Server(label, [haproxy, "-db", "-f", str(CONFIG)], ALL_CORES, work)
    finally:
        for name in env:
            del os.environ[name]


def _lua(names: list[str], work: Path, label: str) -> Path:
    paths = ", ".join(f'"/__ns/{name}{LIST_PATH}"' for name in names)
    script = work / f"{label.replace(' ', '_')}.lua"
    script.write_text(
        f"local paths = {{{paths}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\nend\n' + WRK_SCRIPT
    )
    return script


class Setup:
    """Servers answering one URL, the namespaces made in them and wrk's script."""

    def __init__(self, label: str, servers: list[Server], url: str, names: list[str]) -> None:
        self.label, self.servers, self.url, self.names = label, servers, url, names
        self.script: Path | None = None

    def cpu(self) -> float:
        return sum(process_cpu_s(s.proc.pid) for s in self.servers if s.proc.poll() is None)


def _start(args: argparse.Namespace, work: Path) -> list[Setup]:
    names = [f"team-{i}" for i in range(args.namespaces)]
    ports = {label: free_port() for label in ("alone", "behind", *REPLICAS)}
    serving = {label: _serve(port, label, work) for label, port in ports.items()}
    # The replicas answer before HAProxy starts: it would mark them down meanwhile, and a
    # namespace created then would land on another replica than its name hashes to later.
    for label, server in serving.items():
        server.wait_ready(f"http://127.0.0.1:{ports[label]}{HEALTH_PATH}", {})
    lb_ports = [free_port(), free_port()]
    single_lb = _haproxy(lb_ports[0], [ports["behind"]] * 3, work, "haproxy one")
    team_lb = _haproxy(lb_ports[1], [ports[r] for r in REPLICAS], work, "haproxy three")
    setups = [
        Setup(ONE, [serving["alone"]], f"http://127.0.0.1:{ports['alone']}", names),
        Setup(ONE_LB, [serving["behind"], single_lb], f"http://127.0.0.1:{lb_ports[0]}", names),
        Setup(
            THREE,
            [*(serving[r] for r in REPLICAS), team_lb],
            f"http://127.0.0.1:{lb_ports[1]}",
            names,
        ),
    ]
    for setup in setups:
        setup.servers[-1].wait_ready(setup.url + HEALTH_PATH, {})
        for name in names:
            request = urllib.request.Request(
                f"{setup.url}/__admin/namespaces?namespace={name}", data=b"", method="POST"
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
        setup.script = _lua(names, work, setup.label)
    return setups


def _check(setups: list[Setup]) -> dict[str, int]:
    """Every setup answers every namespace's list with the same 200; replicas used."""
    bodies = {fetch(f"{s.url}/__ns/{name}{LIST_PATH}", ALICE) for s in setups for name in s.names}
    if len(bodies) != 1 or next(iter(bodies))[0] != 200:
        raise BenchError("the setups do not all answer the same 200 for every namespace")
    team = setups[-1]
    spread: dict[str, int] = {}
    for name in team.names:
        _status, body = fetch(f"{team.url}/__admin/namespaces/{name}/health", {})
        answer = json.loads(body)
        if answer["data"] is None:
            raise BenchError(f"{name}: {answer}")
        replica = str(answer["data"]["replica"])
        spread[replica] = spread.get(replica, 0) + 1
    return spread


def measure(args: argparse.Namespace, work: Path) -> tuple[list[tuple[str, list[WrkRun]]], str]:
    setups: list[Setup] = []
    try:
        setups = _start(args, work)
        spread = _check(setups)
        runs: dict[str, list[WrkRun]] = {s.label: [] for s in setups}
        no_wait = argparse.Namespace(**{**vars(args), "idle_wait": 0})
        for setup in setups:
            assert setup.script is not None
            run_wrk(args, setup.url + LIST_PATH, ALICE, args.warmup, setup.script, os.getpid())
        for round_number in range(args.rounds):
            for setup in setups:
                assert setup.script is not None
                # Wait for quiet here, not inside run_wrk: the CPU counts cover wrk's run only.
                wait_for_idle_machine(args.idle_wait)
                cpu0 = setup.cpu()
                run = run_wrk(
                    no_wait, setup.url + LIST_PATH, ALICE, args.duration, setup.script, os.getpid()
                )
                # Over wrk's own run (run_wrk waits a second for quiet first: servers idle).
                run.server_cpu = (setup.cpu() - cpu0) / run.duration_s
                # run_wrk's other_cpu: all but wrk and this script, so the setup's too.
                run.other_cpu = max(0.0, run.other_cpu - run.server_cpu)
                if run.status_errors or run.socket_errors:
                    raise BenchError(
                        f"{setup.label}: {run.status_errors} non-2xx, {run.socket_errors} errors"
                    )
                print(
                    f"  round {round_number + 1}/{args.rounds} {setup.label}: "
                    f"{run.rps:,.0f} req/s, p99 {run.p99_ms:.2f} ms",
                    file=sys.stderr,
                )
                runs[setup.label].append(run)
        held = ", ".join(f"{replica} {count}" for replica, count in sorted(spread.items()))
        return list(runs.items()), held
    finally:
        for setup in reversed(setups):
            for server in reversed(setup.servers):
                server.stop()


def render(args: argparse.Namespace, rows: list[tuple[str, list[WrkRun]]], held: str) -> str:
    alone = dict(rows)[ONE]
    lines = [
        f"Machine: {machine_description()}.",
        f"Command: `python bench/bench_team.py --namespaces {args.namespaces} "
        f"--duration {args.duration:g} --rounds {args.rounds}`; wrk -t1 -c{args.connections} "
        f"cycling through the {args.namespaces} namespaces' base URLs (namespaces per replica: "
        f"{held}); nothing pinned; medians of {args.rounds} rounds, ratio = median of the "
        "per-round ratios to one process. Setup CPU: cores the setup's processes (replicas "
        "and HAProxy) used; other CPU: cores the rest of the machine used meanwhile, wrk "
        "excluded (other people's work on a shared machine).",
        "",
        "| setup | req/s | p50 ms | p99 ms | / one process | setup CPU | other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, runs in rows:
        ratios = [run.rps / one.rps for run, one in zip(runs, alone, strict=True)]
        lines.append(
            f"| {label} | {statistics.median(r.rps for r in runs):,.0f} | "
            f"{statistics.median(r.p50_ms for r in runs):.2f} | "
            f"{statistics.median(r.p99_ms for r in runs):.2f} | {statistics.median(ratios):.2f} | "
            f"{statistics.median(r.server_cpu for r in runs):.2f} | "
            f"{statistics.median(r.other_cpu for r in runs):.2f} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--namespaces", type=int, default=12, help="namespaces per setup (12)")
    p.add_argument("--duration", type=float, default=5, help="seconds per measured run (5)")
    p.add_argument("--warmup", type=float, default=2, help="warm-up seconds per setup (2)")
    p.add_argument("--rounds", type=int, default=3, help="measured rounds (3)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    p.add_argument("--idle-wait", type=float, default=10, help="seconds to wait for quiet")
    p.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    args = p.parse_args(argv)
    args.wrk_core = ALL_CORES  # run_wrk pins wrk; here it may use any core
    if args.namespaces < 1:
        p.error("--namespaces must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    for tool, found in (("wrk", shutil.which("wrk")), ("taskset", shutil.which("taskset"))):
        if found is None:
            print(f"bench_team: {tool} not found", file=sys.stderr)
            return 2
    if haproxy is None:
        print("bench_team: haproxy not found (Debian: apt-get install haproxy)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_team.") as tmp:
        try:
            rows, held = measure(args, Path(tmp))
        except BenchError as exc:
            print(f"bench_team: {exc}", file=sys.stderr)
            return 1
    table = render(args, rows, held)
    print(table)
    if args.write:
        write_section("bench_team", "### A team: three replicas behind HAProxy\n\n" + table)
        print(f"recorded in {README.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Large scenarios: load time and peak memory for 1k/10k/100k credentials.

For each size, one scenario file with that many explicit records in YAML, and one with a
single user and `credentials: [{generate: N}]`. Each is measured in fresh processes:

1. the floor: `yaml.safe_load` of the same file, and `yaml.load(..., CSafeLoader)`
   (libyaml), in a fresh interpreter (import not counted);
2. `cadenza-mock validate FILE`, whole process (interpreter start included);
3. `cadenza-mock serve --scenario FILE` from spawn to the first 200 on the list endpoint,
   and the server's peak RSS (VmHWM) at that moment.

Times are wall clock; peak RSS from `wait4` (validate, the floors) or /proc (serve).

    python bench/bench_scale.py            # print the results
    python bench/bench_scale.py --write    # ...and record them in bench/README.md
    python bench/bench_scale.py --sizes 1000,10000 --reps 1
    python bench/bench_scale.py --baseline /tmp/base   # also time another checkout

`--baseline DIR` runs `validate` and `serve` a second time with DIR as the working
directory, so `python -m cadenza_mock` imports DIR/cadenza_mock (e.g. an older commit
unpacked by `git archive OLD cadenza_mock scenarios | tar -x -C DIR`): before and after
in the same run, on the same machine load.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import requests
from _common import README, REPO_ROOT, machine_description, package_revision, write_section

LIST_PATH = "/api/v3/credential/list"
TOKEN = "bench-token"
VENUES = ("BINANCE", "OKX", "BYBIT", "COINBASE", "KRAKEN")


def explicit_yaml(n: int) -> str:
    lines = ["seed: 1", "users:", f"  - tokens: [{TOKEN}]", "    credentials:"]
    for i in range(n):
        venue = VENUES[i % len(VENUES)]
        lines += [
            f"      - credentialId: {i:08x}-0000-4000-8000-{i:012x}",
            f"        venue: {venue}",
            f"        name: {venue.title()} key {i}",
            f"        apiKey: key{i:07d}abcdefghijklmnopqrstuvwxyz",
            f"        apiSecret: secret{i:07d}abcdefghijklmnop",
        ]
        if venue == "OKX":
            lines.append(f"        apiPassphrase: pass{i}")
        lines += [
            f'        createdAt: "2025-0{1 + i % 9}-1{i % 10}T12:00:00Z"',
            "        status: ACTIVE",
        ]
    return "\n".join(lines) + "\n"


def generated_yaml(n: int) -> str:
    return f"seed: 1\nusers:\n  - tokens: [{TOKEN}]\n    credentials:\n      - generate: {n}\n"


def run_timed(cmd: list[str], cwd: Path = REPO_ROOT) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{shlex.join(cmd)} failed ({proc.returncode}): {err[-500:]}")
    if proc.stderr:
        proc.stderr.close()
    return elapsed, usage.ru_maxrss // 1024


FLOOR = """
import sys, time, yaml
text = open(sys.argv[1], encoding="utf-8").read()
t0 = time.perf_counter()
yaml.load(text, Loader=yaml.{loader})
print(time.perf_counter() - t0)
"""


def floor(path: Path, loader: str) -> tuple[float, int]:
    code = FLOOR.format(loader=loader)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, cwd=REPO_ROOT
    )
    _, status, usage = os.wait4(proc.pid, 0)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"yaml.load with {loader} failed on {path}")
    return float(out), usage.ru_maxrss // 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_first_200(path: Path, timeout: float = 120.0, cwd: Path = REPO_ROOT) -> tuple[float, int]:
    """(spawn to first 200 on the list endpoint, server peak RSS in MB then)."""
    port = free_port()
    cmd = [sys.executable, "-m", "cadenza_mock", "serve", "--port", str(port)]
    cmd += ["--scenario", str(path), "--quiet"]
    url = f"http://127.0.0.1:{port}{LIST_PATH}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    session = requests.Session()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise SystemExit(f"serve exited ({proc.returncode}): {err[-500:]}")
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"serve {path} gave no 200 within {timeout} s")
            try:
                r = session.get(url, headers=headers, timeout=30)
            except requests.ConnectionError:
                time.sleep(0.005)
                continue
            if r.status_code == 200:
                elapsed = time.perf_counter() - t0
                break
            raise SystemExit(f"serve {path}: list answered {r.status_code}")
        rss = 0
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) // 1024
        return elapsed, rss
    finally:
        session.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,100000", help="record counts (1000,10000,100000)")
    p.add_argument("--reps", type=int, default=3, help="fresh processes per measurement (3)")
    p.add_argument(
        "--write",
        action="store_true",
        help=f"record the results in {README.relative_to(REPO_ROOT)}",
    )
    p.add_argument(
        "--baseline", type=Path, help="a folder holding another cadenza_mock/ to time as well"
    )
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        for n in sizes:
            for kind, text in (("explicit", explicit_yaml(n)), ("generate", generated_yaml(n))):
                path = Path(tmp) / f"{kind}-{n}.yaml"
                path.write_text(text, encoding="utf-8")
                print(f"{kind} {n} ...", file=sys.stderr)
                reps = max(1, args.reps if n < 100_000 or kind == "generate" else 1)
                pure = [floor(path, "SafeLoader") for _ in range(reps)]
                clib = [floor(path, "CSafeLoader") for _ in range(reps)]
                validate = [
                    run_timed([sys.executable, "-m", "cadenza_mock", "validate", str(path)])
                    for _ in range(reps)
                ]
                serve = [serve_first_200(path) for _ in range(reps)]
                before = ""
                if args.baseline is not None:
                    command = [sys.executable, "-m", "cadenza_mock", "validate", str(path)]
                    old_validate = [run_timed(command, args.baseline) for _ in range(reps)]
                    old_serve = [serve_first_200(path, cwd=args.baseline) for _ in range(reps)]
                    before = (
                        f" {median([t for t, _ in old_validate]):.2f} "
                        f"| {max(m for _, m in old_validate)} "
                        f"| {median([t for t, _ in old_serve]):.2f} "
                        f"| {max(m for _, m in old_serve)} |"
                    )
                rows.append(
                    f"| {n:,} | {kind} | {len(text) / 1e6:.2f} "
                    f"| {median([t for t, _ in pure]):.2f} | {median([t for t, _ in clib]):.2f} "
                    f"| {median([t for t, _ in validate]):.2f} "
                    f"| {max(m for _, m in validate)} "
                    f"| {median([t for t, _ in serve]):.2f} | {max(m for _, m in serve)} "
                    f"| {reps} |{before}"
                )
    body = "\n".join(
        [
            f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}; "
            f"cadenza-mock at commit {package_revision()}. Wall-clock medians over fresh "
            "processes; peak RSS is the largest seen.",
            "",
            "Command: `" + shlex.join(["python", "bench/bench_scale.py", *argv]) + "`",
            "",
            "Floors: `yaml.safe_load` (pure-Python PyYAML) and `yaml.load(..., CSafeLoader)` "
            "(libyaml) of the same file, parse only, import excluded. `validate`: the whole "
            "`cadenza-mock validate FILE` process. `serve`: spawn of `cadenza-mock serve` to "
            "the first 200 on the list endpoint. Explicit files: one user, N records with "
            "id, venue, name, keys, createdAt and status; generated: one user, "
            "`credentials: [{generate: N}]`."
            + (
                f" Baseline: the same commands run on `{args.baseline.name}/` (see `--baseline`)."
                if args.baseline is not None
                else ""
            ),
            "",
            "| records | scenario | file MB | safe_load s | CSafeLoader s | validate s "
            "| validate peak RSS MB | serve to first 200 s | serve peak RSS MB | reps |"
            + (
                " baseline validate s | baseline validate RSS MB | baseline serve s "
                "| baseline serve RSS MB |"
                if args.baseline is not None
                else ""
            ),
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
            + ("---:|---:|---:|---:|" if args.baseline is not None else ""),
            *rows,
        ]
    )
    print(body)
    if args.write:
        write_section("bench_scale", body)
        print(f"written to {README}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

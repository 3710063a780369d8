"""Start-up costs that matter to the pytest plugin: start, reset, import.

1. `MockServer` start to the first 200 on the list endpoint, against a bare aiohttp app
   started the same way (own thread and event loop, AppRunner + TCPSite on port 0)
   answering its first request; alternated, in the same process, imports already done.
2. `mock.reset()` on the default and many scenarios, on clean state and after a create.
3. `cadenza-mock serve` from spawn to the first 200 on the list endpoint, against
   `bare_app.py` spawned the same way serving the identical bytes; alternated.
4. Cold import in a fresh interpreter: `import cadenza_mock` (what every pytest run pays
   once the plugin is installed), `from cadenza_mock import MockServer`, against
   `import aiohttp.web`; plus cold first use (import, start, first 200) in a fresh
   interpreter for both.

    python bench/bench_startup.py            # print the results
    python bench/bench_startup.py --write    # ...and record them in bench/README.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from _common import README, REPO_ROOT, machine_description, package_revision, write_section
from aiohttp import web
from bare_app import make_bare_app

LIST_PATH = "/api/v3/credential/list"
CREATE_PATH = "/api/v3/credential/create"


def quantiles(samples: Sequence[float]) -> tuple[float, float]:
    """Median and 90th percentile (nearest rank)."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, max(0, round(0.9 * len(ordered)) - 1))]
    return statistics.median(ordered), p90


class BareThreadServer:
    """The baseline: what any aiohttp-in-a-thread test server must do at least."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BareThreadServer:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        assert self._runner is not None
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    async def _start(self) -> None:
        self._runner = web.AppRunner(make_bare_app(self.body), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"


# --- 1. start to first 200 ---------------------------------------------------------------


def time_start(scenario: str, reps: int, body: bytes) -> dict[str, list[float]]:
    from cadenza_mock import MockServer

    def once(make: Any, authenticated: bool, label: str) -> tuple[float, float]:
        """(start to first 200, stop) for one server built by `make()`."""
        t0 = time.perf_counter()
        server = make()
        server.__enter__()
        try:
            headers = server.auth_headers if authenticated else {}
            r = requests.get(server.url + LIST_PATH, headers=headers, timeout=30)
            t1 = time.perf_counter()
            if r.status_code != 200:
                raise SystemExit(f"{label} list answered {r.status_code}")
        finally:
            t2 = time.perf_counter()
            server.__exit__(None, None, None)
            t3 = time.perf_counter()
        return t1 - t0, t3 - t2

    def mock_once() -> tuple[float, float]:
        return once(lambda: MockServer(scenario=scenario), True, f"MockServer({scenario!r})")

    def bare_once() -> tuple[float, float]:
        return once(lambda: BareThreadServer(body), False, "bare app")

    out: dict[str, list[float]] = {
        "mock start": [],
        "mock stop": [],
        "bare start": [],
        "bare stop": [],
    }
    mock_once(), bare_once()  # warm-up: lazy imports, first scenario load, caches
    for _ in range(reps):
        start, stop = mock_once()
        out["mock start"].append(start)
        out["mock stop"].append(stop)
        start, stop = bare_once()
        out["bare start"].append(start)
        out["bare stop"].append(stop)
    return out


def list_body(scenario: str) -> bytes:
    from cadenza_mock import MockServer

    with MockServer(scenario=scenario) as m:
        r = requests.get(m.url + LIST_PATH, headers=m.auth_headers, timeout=30)
        if r.status_code != 200:
            raise SystemExit(f"MockServer({scenario!r}) list answered {r.status_code}: {r.text}")
        return r.content


# --- 2. reset ----------------------------------------------------------------------------


def time_reset(scenario: str, reps: int, dirty_reps: int) -> dict[str, list[float]]:
    from cadenza_mock import MockServer

    out: dict[str, list[float]] = {"clean": [], "after create": []}
    with MockServer(scenario=scenario) as m:
        session = requests.Session()
        session.headers.update(m.auth_headers)
        for _ in range(10):
            m.reset()
        for _ in range(reps):
            t0 = time.perf_counter()
            m.reset()
            out["clean"].append(time.perf_counter() - t0)
        new = {"venue": "BINANCE", "name": "bench", "apiKey": "A" * 64, "apiSecret": "B" * 64}
        for _ in range(dirty_reps):
            r = session.post(m.url + CREATE_PATH, json=new, timeout=30)
            if r.status_code != 200:
                print(
                    f"  reset after create skipped: create answered {r.status_code}",
                    file=sys.stderr,
                )
                out["after create"] = []
                break
            t0 = time.perf_counter()
            m.reset()
            out["after create"].append(time.perf_counter() - t0)
        session.close()
    return out


# --- 3. serve, spawned, to first 200 -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn_first_200(
    cmd: list[str], port: int, headers: dict[str, str], checkout: Path | None = None
) -> tuple[float, float]:
    """(seconds from spawning `cmd` to the first 200 on the list endpoint of `port`, CPU
    seconds the process used by then); with `checkout`, the package is imported from that
    directory (PYTHONPATH) instead. CPU time is what a busy machine inflates least."""
    env = None
    if checkout is not None:
        env = {**os.environ, "PYTHONPATH": str(checkout)}
    url = f"http://127.0.0.1:{port}{LIST_PATH}"
    session = requests.Session()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=checkout or REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{shlex.join(cmd)} exited with {proc.returncode}")
            if time.perf_counter() - t0 > 60:
                raise SystemExit(f"{shlex.join(cmd)} gave no 200 within 60 s")
            try:
                r = session.get(url, headers=headers, timeout=30)
            except requests.ConnectionError:
                time.sleep(0.002)
                continue
            if r.status_code != 200:
                raise SystemExit(f"{shlex.join(cmd)}: list answered {r.status_code}")
            wall = time.perf_counter() - t0
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            return wall, cpu
    finally:
        session.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def time_serve(reps: int, baseline: Path | None = None) -> dict[str, list[tuple[float, float]]]:
    """`cadenza-mock serve` (default scenario, --quiet) against `bare_app.py`, both spawned
    as `python FILE-or-module` and polled every 2 ms; alternated, one untimed round first.
    With `baseline` (another checkout), its `serve` is spawned in each round too."""
    from cadenza_mock.scenario import load_scenario

    token = load_scenario("default").users[0].tokens[0]
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, list[tuple[float, float]]] = {"serve": [], "baseline": [], "bare": []}
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "list.json"
        body.write_bytes(list_body("default"))
        for rep in range(reps + 1):
            port = _free_port()
            serve = [sys.executable, "-m", "cadenza_mock", "serve", "--quiet"]
            took = spawn_first_200([*serve, "--port", str(port)], port, headers)
            if rep:
                out["serve"].append(took)
            if baseline is not None:
                port = _free_port()
                took = spawn_first_200([*serve, "--port", str(port)], port, headers, baseline)
                if rep:
                    out["baseline"].append(took)
            port = _free_port()
            bare = [sys.executable, "bench/bare_app.py", "--body", str(body)]
            took = spawn_first_200([*bare, "--port", str(port)], port, {})
            if rep:
                out["bare"].append(took)
    return out


# --- 4. cold import and cold first use ---------------------------------------------------

TIMED_CHILD = """
import time
{setup}
t0 = time.perf_counter()
{stmt}
t1 = time.perf_counter()
import sys
print(t1 - t0, int('faker' in sys.modules), int('yaml' in sys.modules),
      int('aiohttp' in sys.modules))
"""

MOCK_FIRST_USE = f"""
from cadenza_mock import MockServer
with MockServer(scenario="default") as m:
    assert requests.get(m.url + "{LIST_PATH}", headers=m.auth_headers).status_code == 200
"""

# Self-contained so that the child imports nothing but aiohttp for it.
BARE_FIRST_USE = f"""
import asyncio, threading
from aiohttp import web
async def handler(request):
    return web.Response(body=b"[]", content_type="application/json")
loop, ready, box = asyncio.new_event_loop(), threading.Event(), {{}}
async def start():
    app = web.Application()
    app.router.add_get("{LIST_PATH}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    box["runner"], box["port"] = runner, runner.addresses[0][1]
def run():
    asyncio.set_event_loop(loop)
    loop.run_until_complete(start())
    ready.set()
    loop.run_forever()
    loop.run_until_complete(box["runner"].cleanup())
thread = threading.Thread(target=run, daemon=True)
thread.start()
ready.wait()
url = "http://127.0.0.1:%d{LIST_PATH}" % box["port"]
assert requests.get(url).status_code == 200
loop.call_soon_threadsafe(loop.stop)
thread.join()
"""

COLD_CASES: list[tuple[str, str, str]] = [
    # (label, setup not timed, statement timed)
    ("import cadenza_mock", "", "import cadenza_mock"),
    # pytest itself is loaded before its plugins, so it is not counted here.
    (
        "import cadenza_mock.pytest_plugin (pytest preloaded)",
        "import pytest",
        "import cadenza_mock.pytest_plugin",
    ),
    ("from cadenza_mock import MockServer", "", "from cadenza_mock import MockServer"),
    ("import aiohttp.web", "", "import aiohttp.web"),
    ("import yaml", "", "import yaml"),
    ("import faker", "", "import faker"),
    ("first use: MockServer('default') to first 200", "import requests", MOCK_FIRST_USE),
    ("first use: bare aiohttp thread to first 200", "import requests", BARE_FIRST_USE),
]


def run_child(setup: str, stmt: str) -> tuple[float, str] | str:
    code = TIMED_CHILD.format(setup=setup, stmt=stmt)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
    seconds, faker, yaml, aiohttp = proc.stdout.split()
    loaded = [n for n, f in (("aiohttp", aiohttp), ("yaml", yaml), ("faker", faker)) if f == "1"]
    return float(seconds), ", ".join(loaded) or "none"


def time_cold(reps: int) -> list[tuple[str, list[float], str]]:
    results: dict[str, list[float]] = {label: [] for label, _, _ in COLD_CASES}
    loaded: dict[str, str] = {}
    failed: dict[str, str] = {}
    for rep in range(reps + 1):  # the first round only warms the file cache and .pyc files
        for label, setup, stmt in COLD_CASES:
            if label in failed:
                continue
            got = run_child(setup, stmt)
            if isinstance(got, str):
                failed[label] = got
                continue
            if rep:
                results[label].append(got[0])
                loaded[label] = got[1]
    rows = []
    for label, _, _ in COLD_CASES:
        if label in failed:
            rows.append((label, [], f"failed: {failed[label]}"))
        else:
            rows.append((label, results[label], loaded[label]))
    return rows


def importtime_top(stmt: str, limit: int = 6) -> list[tuple[str, float]]:
    """The heaviest top-level packages `stmt` imports, by cumulative -X importtime."""

    def top_level(code: str) -> dict[str, float]:
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        per_package: dict[str, float] = {}
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            _, cumulative, name = line.removeprefix("import time:").split("|")
            if name.startswith("  "):  # nested: already counted in its top-level importer
                continue
            package = name.strip().split(".")[0]
            per_package[package] = per_package.get(package, 0.0) + int(cumulative) / 1000
        return per_package

    startup = top_level("pass")  # what the interpreter imports before running anything
    found = {k: v for k, v in top_level(stmt).items() if k not in startup}
    return sorted(found.items(), key=lambda kv: -kv[1])[:limit]


# --- report ------------------------------------------------------------------------------


def ms(x: float) -> str:
    return f"{x * 1e3:.1f}"


def us(x: float) -> str:
    return f"{x * 1e6:.1f}" if x < 1e-5 else f"{x * 1e6:.0f}"


def render(args: argparse.Namespace, argv: Sequence[str], sections: list[str]) -> str:
    head = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}; "
        f"cadenza-mock at commit {package_revision()}. Nothing pinned; times from "
        "`time.perf_counter()`, median and p90 (nearest rank) over the repetitions.",
        "",
        "Command: `" + shlex.join(["python", "bench/bench_startup.py", *argv]) + "`",
    ]
    return "\n".join(head) + "\n\n" + "\n\n".join(sections) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start-reps", type=int, default=50, help="start/stop repetitions (50)")
    p.add_argument(
        "--many-start-reps", type=int, default=5, help="start repetitions for the many scenario (5)"
    )
    p.add_argument("--reset-reps", type=int, default=2000, help="clean reset repetitions (2000)")
    p.add_argument(
        "--dirty-reps", type=int, default=200, help="reset-after-create repetitions (200)"
    )
    p.add_argument("--serve-reps", type=int, default=20, help="spawned serve/bare repetitions (20)")
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="also spawn `serve` from another checkout (e.g. `git worktree add DIR COMMIT`)",
    )
    p.add_argument("--cold-reps", type=int, default=10, help="fresh interpreters per case (10)")
    p.add_argument(
        "--write",
        action="store_true",
        help=f"record the results in {README.relative_to(REPO_ROOT)}",
    )
    args = p.parse_args(argv)

    try:
        from cadenza_mock import MockServer  # noqa: F401
    except ImportError as exc:
        print(
            f"bench_startup: cadenza_mock.MockServer is not available yet ({exc})", file=sys.stderr
        )
        return 1

    sections: list[str] = []

    # 1. start to first 200
    print("start/stop ...", file=sys.stderr)
    lines = [
        "#### MockServer start to first 200 on the list endpoint (same process, warm)",
        "",
        "Start = construct + enter + first `requests.get` of the list answered 200; "
        "stop = exit. The bare app serves the same bytes from a thread with its own loop "
        "(AppRunner + TCPSite on port 0). Alternated, after one untimed warm-up each.",
        "",
        "| scenario | server | reps | start median ms | start p90 ms "
        "| stop median ms | stop p90 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario, reps in (("default", args.start_reps), ("many", args.many_start_reps)):
        if reps <= 0:
            continue
        t = time_start(scenario, reps, list_body(scenario))
        for who, label in (("mock", "MockServer"), ("bare", "bare aiohttp thread")):
            s50, s90 = quantiles(t[f"{who} start"])
            e50, e90 = quantiles(t[f"{who} stop"])
            lines.append(
                f"| {scenario} | {label} | {reps} | {ms(s50)} | {ms(s90)} | {ms(e50)} | {ms(e90)} |"
            )
    sections.append("\n".join(lines))

    # 2. reset
    print("reset ...", file=sys.stderr)
    lines = [
        "#### `mock.reset()`",
        "",
        "Clean: reset with nothing changed. After create: one `POST /api/v3/credential/create` "
        "over HTTP (not timed), then the timed reset.",
        "",
        "| scenario | state before reset | reps | median µs | p90 µs |",
        "|---|---|---:|---:|---:|",
    ]
    for scenario in ("default", "many"):
        t = time_reset(scenario, args.reset_reps, args.dirty_reps)
        for kind, samples in t.items():
            if samples:
                m50, m90 = quantiles(samples)
                lines.append(f"| {scenario} | {kind} | {len(samples)} | {us(m50)} | {us(m90)} |")
            else:
                lines.append(f"| {scenario} | {kind} | 0 | n/a | n/a |")
    sections.append("\n".join(lines))

    # 3. serve, spawned
    if args.serve_reps > 0:
        print("serve spawn ...", file=sys.stderr)
        t = time_serve(args.serve_reps, args.baseline)
        lines = [
            "#### `cadenza-mock serve` from spawn to first 200",
            "",
            "`python -m cadenza_mock serve --quiet --port PORT` (default scenario) against "
            "`python bench/bare_app.py --port PORT --body FILE` serving the identical bytes: "
            "spawn to the first 200 on the list endpoint, polled every 2 ms, alternated after "
            "one untimed round; CPU: the process's user + system time by then (/proc, 10 ms "
            "ticks).",
            "",
            "| server | reps | median ms | p90 ms | CPU median ms | vs bare (median) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        rows = [("serve", "cadenza-mock serve (this checkout)")]
        if args.baseline is not None:
            rows.append(("baseline", f"cadenza-mock serve ({args.baseline.name})"))
        bare50 = quantiles([wall for wall, _ in t["bare"]])[0]
        for who, label in [*rows, ("bare", "bare_app.py")]:
            m50, m90 = quantiles([wall for wall, _ in t[who]])
            c50 = quantiles([cpu for _, cpu in t[who]])[0]
            lines.append(
                f"| {label} | {len(t[who])} | {ms(m50)} | {ms(m90)} | {ms(c50)} "
                f"| {m50 / bare50:.2f}x |"
            )
        sections.append("\n".join(lines))

    # 4. cold import / first use
    print("cold import ...", file=sys.stderr)
    lines = [
        "#### Cold import and first use in a fresh interpreter",
        "",
        "Each row runs in a new `python -c` (file cache warm, .pyc files present, one "
        "untimed round first); the timer starts after interpreter start-up. The plugin row "
        "imports pytest and the first-use rows import `requests` before the timer.",
        "",
        "| statement | reps | median ms | p90 ms | loaded afterwards (of aiohttp, yaml, faker) |",
        "|---|---:|---:|---:|---|",
    ]
    for label, samples, loaded in time_cold(args.cold_reps):
        if samples:
            c50, c90 = quantiles(samples)
            lines.append(f"| `{label}` | {len(samples)} | {ms(c50)} | {ms(c90)} | {loaded} |")
        else:
            lines.append(f"| `{label}` | 0 | n/a | n/a | {loaded} |")
    top = importtime_top("from cadenza_mock import MockServer")
    lines += [
        "",
        "Heaviest top-level imports of `from cadenza_mock import MockServer` "
        "(`-X importtime`, cumulative, one run): "
        + ", ".join(f"{name} {ms_:.0f} ms" for name, ms_ in top)
        + ".",
    ]
    sections.append("\n".join(lines))

    text = render(args, argv, sections)
    print(text)
    if args.write:
        write_section("bench_startup", "### Start-up, reset, import\n\n" + text)
        print(f"recorded in {README.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

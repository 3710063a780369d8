"""Trade orders under load: submit+fill (POST /api/v3/tradeOrder/submit, MARKET orders that
walk the book, BUY and SELL in turn) and the order list of 10,000 orders (GET
/api/v3/tradeOrder/list, pages of 1,000), each against a bare aiohttp app answering the
same request with the very bytes cadenza-mock answered, in the same run.

Both servers are pinned to core 0, wrk (one thread, 8 connections, 127.0.0.1 only) to
core 1; each side gets a warm-up run, then `--rounds` measured runs of `--seconds`
alternating. Each run also reads the server's CPU time (/proc/PID/stat): requests per
CPU-second compare the servers' own work even when other processes share core 0.
Bounded: about 2 minutes with the defaults, then everything stops.

    python bench/bench_orders.py            # print the table
    python bench/bench_orders.py --write    # ...and record it in bench/README.md

Needs wrk and taskset.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from _common import README, REPO_ROOT, machine_description, package_revision, write_section

ACCOUNT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot (accounts.yaml)
AUTH = "Bearer alice-token"
SUBMIT = "/api/v3/tradeOrder/submit"
LIST = "/api/v3/tradeOrder/list?limit=1000"
RESET = "/__admin/reset"
ORDERS = 10_000

BARE_APP = r"""
import sys
from aiohttp import web
method, path, body = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read()
async def handler(request):
    await request.read()
    return web.Response(body=body, content_type="application/json")
app = web.Application()
app.router.add_route(method, path.split("?")[0], handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[4]), access_log=None, print=None)
"""


def _order(side: str) -> str:
    return json.dumps(
        {
            "tradingAccountId": ACCOUNT,
            "instrumentId": "BINANCE:BTC/USDT",
            "orderSide": side,
            "orderType": "MARKET",
            "quantity": "0.001",
        }
    )


# BUY and SELL in turn: the balances stay where they were, less the fees.
_BUY, _SELL = json.dumps(_order("BUY")), json.dumps(_order("SELL"))
WRK_POST = (
    f'local bodies = {{{_BUY}, {_SELL}}}\nlocal n = 0\nwrk.method = "POST"\n'
    'wrk.headers["Content-Type"] = "application/json"\n'
    f'wrk.headers["Authorization"] = "{AUTH}"\n'
    "request = function()\n  n = n + 1\n"
    "  return wrk.format(nil, nil, nil, bodies[n % 2 + 1])\nend\n"
)
WRK_GET = f'wrk.headers["Authorization"] = "{AUTH}"\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def call(url: str, body: str | None = None) -> bytes:
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Authorization": AUTH})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as answer:
        found: bytes = answer.read()
        return found


def wait_ready(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def start(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: Path, seconds: int) -> float:
    done = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", "-c8", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    )
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if found is None or bad is not None:
        raise RuntimeError(f"wrk: {done.stdout}")
    return float(found.group(1))


def _run(url: str, script: Path, seconds: int, pid: int) -> tuple[float, float]:
    """(req/s, requests per CPU-second of the server): the second hardly moves when other
    processes share the server's core, the first does."""
    before = cpu_seconds(pid)
    rate = wrk(url, script, seconds)
    used = cpu_seconds(pid) - before
    return rate, rate * seconds / used if used > 0 else float("nan")


def _range(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def measure(
    name: str, ours: tuple[str, int], bare: tuple[str, int], script: Path, seconds: int,
    rounds: int, before_each: Callable[[], None] = lambda: None,
) -> list[str]:  # fmt: skip
    """`before_each` runs before each of our wrk runs (the submits reset the orders: past
    the mock's bound of 100,000 orders a submit is refused)."""
    before_each()
    wrk(ours[0], script, 2)
    wrk(bare[0], script, 2)
    mine, theirs = [], []
    for _ in range(rounds):
        before_each()
        mine.append(_run(ours[0], script, seconds, ours[1]))
        theirs.append(_run(bare[0], script, seconds, bare[1]))
    ratios = [m[0] / t[0] for m, t in zip(mine, theirs, strict=True)]
    per_cpu = [m[1] / t[1] for m, t in zip(mine, theirs, strict=True)]
    return [
        f"| {name} | cadenza-mock | {statistics.median(m[0] for m in mine):,.0f} | "
        f"{statistics.median(m[1] for m in mine):,.0f} | {_range(ratios)} | {_range(per_cpu)} |",
        f"| {name} | bare aiohttp | {statistics.median(t[0] for t in theirs):,.0f} | "
        f"{statistics.median(t[1] for t in theirs):,.0f} |  |  |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per measured run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs each (default 3)")
    parser.add_argument("--write", action="store_true", help="record the table in README.md")
    args = parser.parse_args(argv)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        mock = start(
            [sys.executable, "-m", "cadenza_mock", "serve", "--port", str(port),
             "--scenario", str(REPO_ROOT / "scenarios" / "accounts.yaml")]
        )  # fmt: skip
        servers = [mock]
        try:
            wait_ready(f"{base}/__admin/health")
            post_script, get_script = folder / "post.lua", folder / "get.lua"
            post_script.write_text(WRK_POST)
            get_script.write_text(WRK_GET)

            def reset() -> None:
                call(base + RESET, "{}")

            def submit_case() -> tuple[bytes, Callable[[], None]]:
                return call(base + SUBMIT, _order("BUY")), reset

            def list_case() -> tuple[bytes, Callable[[], None]]:
                reset()
                for n in range(ORDERS):  # the list: 10,000 orders of this account
                    call(base + SUBMIT, _order("SELL" if n % 2 else "BUY"))
                answer = call(base + LIST)
                assert json.loads(answer)["pagination"]["total"] == ORDERS
                return answer, lambda: None

            cases = [
                ("submit + fill (MARKET)", "POST", SUBMIT, submit_case, post_script),
                (f"order list ({ORDERS:,} orders, pages of 1,000)", "GET", LIST, list_case,
                 get_script),
            ]  # fmt: skip
            for name, method, path, prepare, script in cases:
                body, before_each = prepare()
                bare_port = free_port()
                (folder / "body").write_bytes(body)
                (folder / "bare.py").write_text(BARE_APP)
                bare = start(
                    [sys.executable, str(folder / "bare.py"), method, path,
                     str(folder / "body"), str(bare_port)]
                )  # fmt: skip
                servers.append(bare)
                bare_url = f"http://127.0.0.1:{bare_port}"
                wait_ready_any(bare_url)
                rows += measure(
                    name, (base + path, mock.pid), (bare_url + path, bare.pid), script,
                    args.seconds, args.rounds, before_each,
                )  # fmt: skip
                size = len(body)
                rows[-2] = rows[-2].replace("| cadenza-mock |", f"| cadenza-mock ({size:,} B) |")
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=10)
    table = "\n".join(
        [
            "| call | server | req/s | req per CPU-s | ours / bare req/s | ours / bare per CPU-s |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )
    text = (
        "### Orders (bench_orders.py)\n\n"
        f"{machine_description()}, cadenza_mock at {package_revision()}; "
        f"`python bench/bench_orders.py --seconds {args.seconds} --rounds {args.rounds}` "
        "(wrk -t1 -c8, servers on core 0, wrk on core 1; median of the runs, the ratios' "
        "range in brackets; requests per CPU-second of the server, from /proc, hold when "
        "other work shares the core, req/s do not):\n\n" + table
    )
    print(text)
    if args.write:
        write_section("bench_orders", text, README)
    return 0


def wait_ready_any(url: str) -> None:
    """Up once it answers anything at all (the bare app's one route may be a POST)."""
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


if __name__ == "__main__":
    raise SystemExit(main())

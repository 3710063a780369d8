"""`cadenza-mock record`: a proxy to a real Cadenza that writes what it saw as a scenario.

Runs until SIGINT or SIGTERM, then writes `--out` (a scenario `serve` loads: see
scenario/recording.py) and checks it loads, printing what it holds.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from aiohttp import web

from cadenza_mock.engine.recording import Recording
from cadenza_mock.http.proxy import UPSTREAM, proxy_app, ws_url_of
from cadenza_mock.http.runner import display_host
from cadenza_mock.run.foreground import start_listening


def check_upstream(url: str, what: str) -> str | None:
    """The one-line problem with an upstream URL (no scheme, no host), or None."""
    schemes = ("ws://", "wss://") if what == "--ws-upstream" else ("http://", "https://")
    if not url.startswith(schemes) or len(url) <= len(url.split("//")[0]) + 2:
        return f"{what} {url!r}: expected {schemes[0]}HOST[:PORT] or {schemes[1]}HOST[:PORT]"
    return None


def record(upstream: str, ws_upstream: str | None, out: Path, host: str, port: int) -> int:
    for url, what in ((upstream, "--upstream"), (ws_upstream, "--ws-upstream")):
        problem = check_upstream(url, what) if url is not None else None
        if problem is not None:
            print(f"cadenza-mock record: {problem}", file=sys.stderr)
            return 2
    if not out.parent.is_dir():
        print(f"cadenza-mock record: --out {out}: no folder {out.parent}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    recording = Recording(upstream.rstrip("/"))
    app = proxy_app(upstream, ws_upstream, recording)
    code = asyncio.run(_run(app, host, port, ws_upstream or ws_url_of(upstream), out))
    if code:
        return code
    return _write(recording, out)


async def _run(app: web.Application, host: str, port: int, ws_upstream: str, out: Path) -> int:
    runner = web.AppRunner(app, access_log=None)
    stop = await start_listening(runner, host, port)
    if stop is None:
        return 1
    bound = runner.addresses[0][1]
    url = f"http://{display_host(host)}:{bound}"
    upstream = app[UPSTREAM]
    print(
        f"cadenza-mock record: proxying {url} -> {upstream}\n"
        f"  ws     {url.replace('http', 'ws', 1)}/connection/websocket -> {ws_upstream}\n"
        f"  out    {out}  (written at stop: Ctrl-C or SIGTERM)",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


def _write(recording: Recording, out: Path) -> int:
    from cadenza_mock.contract.errors import ScenarioError
    from cadenza_mock.scenario import load_scenario

    out.write_text(recording.yaml_text(), encoding="utf-8")
    try:
        scenario = load_scenario(out)
    except ScenarioError as exc:
        print(f"cadenza-mock record: {out} was written but does not load:\n{exc}", file=sys.stderr)
        return 1
    print(
        f"cadenza-mock record: wrote {out} ({scenario.profile} profile, "
        f"{len(scenario.users)} users, {len(scenario.credentials)} credentials, "
        f"{len(scenario.trading_accounts)} trading accounts, {len(scenario.replay)} replayed "
        f"queries); serve it with: cadenza-mock serve --scenario {out}",
        flush=True,
    )
    return 0

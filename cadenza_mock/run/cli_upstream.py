"""The `cadenza-mock` subcommands that talk to a real Cadenza: `record` (a proxy that writes
what it saw as a scenario) and `drift` (its read-only answers against the mock's document).
Apart from cli.py, whose options are `serve`'s; these take none of them.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from cadenza_mock.contract.model import PROFILE_NAMES
from cadenza_mock.run.cli_env import DEFAULTS, ENV_PREFIX, _integer


def add_record(commands: Any) -> None:
    record = commands.add_parser(
        "record",
        help="proxy to a real Cadenza and write what it saw as a scenario",
        description="Serve a proxy to --upstream (REST) and --ws-upstream (the WebSocket): "
        "each call goes on, its answer comes back unchanged. At stop (Ctrl-C, SIGTERM) what "
        "was seen is written to --out as a scenario 'serve' loads, every token, password and "
        "secret replaced (see the Recording page of the docs).",
    )
    record.add_argument(
        "--upstream", required=True, metavar="URL", help="the REST base URL to forward to"
    )
    record.add_argument(
        "--ws-upstream",
        metavar="URL",
        default=None,
        help="the WebSocket endpoint to forward to (default: ws(s)://<upstream's host>"
        "/connection/websocket)",
    )
    record.add_argument(
        "--out", required=True, metavar="FILE.yaml", help="the scenario file to write at stop"
    )
    record.add_argument(
        "--host", default=DEFAULTS.host, help="address to bind (default: %(default)s)"
    )
    record.add_argument(
        "--port",
        type=_integer,
        default=DEFAULTS.port,
        help="TCP port; 0 picks a free one (default: %(default)s)",
    )
    record.set_defaults(handler=_record)


def add_drift(commands: Any) -> None:
    drift = commands.add_parser(
        "drift",
        help="check a real Cadenza's read-only answers against the mock's document",
        description="Call the read-only operations of --against (the credential and trading "
        "account lists, the operation list, health, the API root, and the WebSocket's "
        "queries) and compare each answer with the mock's own OpenAPI/AsyncAPI document of "
        "--profile. Exits 1 when anything differs, 0 when nothing does; never writes to the "
        "service, never prints the token.",
    )
    drift.add_argument("--against", required=True, metavar="URL", help="the REST base URL")
    drift.add_argument(
        "--token",
        default=None,
        help=f"an access token of the service (default: the {ENV_PREFIX}TOKEN variable, "
        "which keeps it out of `ps` and CI logs)",
    )
    drift.add_argument(
        "--profile",
        choices=PROFILE_NAMES,
        default="docs",
        help="the wire profile whose document the answers are checked against "
        "(default: %(default)s)",
    )
    drift.add_argument(
        "--ws-upstream",
        metavar="URL",
        default=None,
        help="the WebSocket endpoint (default: ws(s)://<--against's host>/connection/websocket)",
    )
    drift.add_argument(
        "--json", action="store_true", help="print the report as JSON (for CI), not as text"
    )
    drift.set_defaults(handler=_drift)


def _drift(args: argparse.Namespace) -> int:
    from cadenza_mock.run.drift import drift

    token = args.token if args.token is not None else os.environ.get(f"{ENV_PREFIX}TOKEN", "")
    return drift(args.against, token, args.profile, args.json, args.ws_upstream)


def _record(args: argparse.Namespace) -> int:
    from cadenza_mock.run.record import record

    return record(args.upstream, args.ws_upstream, Path(args.out), args.host, args.port)

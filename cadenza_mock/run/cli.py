"""The `cadenza-mock` command: serve, validate, scenarios (record and drift: cli_upstream.py).

Every `serve` option can also come from a CADENZA_MOCK_<OPTION> environment variable (how
the container is configured); a command-line flag wins over the variable.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cadenza_mock.contract.model import PROFILE_NAMES
from cadenza_mock.contract.options import ServerOptions
from cadenza_mock.run.cli_env import (
    DEFAULTS,
    ENV_PREFIX,
    EnvDefault,
    EnvFlag,
    EnvList,
    _apply_env,
    _for,
    _integer,
    _seconds,
    _word_list,
)
from cadenza_mock.run.cli_upstream import add_drift, add_record
from cadenza_mock.version import LOOP_CHOICES, version_line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cadenza-mock",
        description="Offline emulator of the Cadenza credential API, driven by YAML scenarios.",
        epilog="Run 'cadenza-mock COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    env_options: list[EnvDefault] = []
    serve = commands.add_parser(
        "serve",
        help="run the mock server",
        description="Serve the emulated Cadenza API (and the admin API under /__admin/) "
        "until interrupted. Prints the URL and a ready-to-paste curl line.",
        epilog="Every option can also be set as CADENZA_MOCK_<OPTION> in the environment; "
        "a flag given on the command line wins.",
    )

    def option(*flags: str, **kwargs: Any) -> None:
        action = serve.add_argument(*flags, **kwargs)
        if isinstance(action, EnvDefault):
            env_options.append(action)

    option(
        "--host",
        action=EnvDefault,
        default=DEFAULTS.host,
        help="address to bind; use 0.0.0.0 to accept connections from other hosts "
        "(default: %(default)s)",
    )
    option(
        "--port",
        action=EnvDefault,
        convert=_for("port", _integer),
        default=DEFAULTS.port,
        help="TCP port; 0 picks a free one (default: %(default)s)",
    )
    option(
        "--scenario",
        action=EnvDefault,
        default=DEFAULTS.scenario,
        help="bundled scenario name (see 'cadenza-mock scenarios') or path to a YAML "
        "scenario file (default: %(default)s)",
    )
    option(
        "--seed",
        action=EnvDefault,
        convert=_integer,
        default=None,
        help="override the scenario's seed for generated data",
    )
    option(
        "--profile",
        action=EnvDefault,
        choices=PROFILE_NAMES,
        default=None,
        help="wire profile: 'docs' (HTTP reference pages) or 'sdk' (the official generated "
        "client); overrides the scenario's 'profile' key",
    )
    option(
        "--watch",
        action=EnvFlag,
        help="reload the scenario file when it changes (state resets; a broken edit is "
        "reported and the previous scenario keeps serving)",
    )
    option(
        "--admin-token",
        action=EnvDefault,
        default=None,
        help="require this value in the X-Admin-Token header of /__admin/ calls (a flag "
        "shows in `ps`; the variable or --admin-token-file do not)",
    )
    option(
        "--admin-token-file",
        action=EnvDefault,
        default=None,
        metavar="PATH",
        help="read the admin token from this file's first line (stripped), so it is not on "
        "the command line; not together with --admin-token",
    )
    option(
        "--scenario-dir",
        action=EnvList,
        metavar="DIR",
        help="a folder whose scenario files the admin API may load (repeatable; the "
        "variable takes several, separated by ':'); default: the folder of --scenario "
        "when it is a file. Bundled scenarios are always allowed, nothing else is",
    )
    option(
        "--admin-open",
        action=EnvFlag,
        help="allow the admin API without --admin-token on a non-loopback --host (only on "
        "a network you trust: anyone who reaches the port can then reset and load "
        "scenarios); without it such a server answers 403 on /__admin/ except health",
    )
    option(
        "--allow-origin",
        action=EnvList,
        split=_word_list,
        metavar="ORIGIN",
        help="let web pages from this origin (scheme://host:port, e.g. "
        "http://localhost:5173; '*' for any) call the mock, with CORS headers; repeatable, "
        "the variable takes several separated by commas. Without it a request that carries "
        "another site's Origin header is refused (403): any page you visit could "
        "otherwise drive a mock on your machine. Clients outside a browser are unaffected",
    )
    option(
        "--allow-host",
        action=EnvList,
        split=_word_list,
        metavar="NAME",
        help="on a loopback --host, also answer requests whose Host header is NAME "
        "(repeatable; '*' for any); by default only localhost, loopback addresses and the "
        "bound address are answered, which keeps DNS-rebinding pages out",
    )
    option(
        "--journal-size",
        action=EnvDefault,
        convert=_for("journal_size", _integer),
        default=DEFAULTS.journal_size,
        help="how many requests the journal (/__admin/requests) keeps; 0 turns it off, "
        "for load tests (default: %(default)s)",
    )
    option(
        "--read-timeout",
        action=EnvDefault,
        convert=_for("read_timeout", _seconds),
        default=DEFAULTS.read_timeout,
        metavar="SECONDS",
        help="close a connection whose request headers, or answer 400 to a request whose "
        "body, take longer than this to arrive (default: %(default)s)",
    )
    option(
        "--quiet",
        action=EnvFlag,
        help="do not log one line per request",
    )
    option(
        "--no-hints",
        action=EnvFlag,
        help="do not point out near-miss parameters and fields (the other profile's names, "
        "typos) in the journal, the access log and the X-Cadenza-Mock-Hint header",
    )
    option(
        "--no-fast-path",
        action=EnvFlag,
        help="answer repeated list calls, market reads, WebSocket queries and order "
        "submits through aiohttp's request handling too, rather than below it (the "
        "same answers, slower); the fast path is on by default, and off by itself on an "
        "aiohttp it does not fit",
    )
    option(
        "--max-namespaces",
        action=EnvDefault,
        convert=_for("max_namespaces", _integer),
        default=DEFAULTS.max_namespaces,
        metavar="N",
        help="how many namespaces (isolated mocks, POST /__admin/namespaces) may exist at "
        "once; 0 turns them off (default: %(default)s)",
    )
    option(
        "--namespace-idle",
        action=EnvDefault,
        convert=_for("namespace_idle", _seconds),
        default=DEFAULTS.namespace_idle,
        metavar="SECONDS",
        help="drop a namespace nobody used for this long; one with a request in flight, "
        "an open WebSocket connection or journal stream is in use (default: %(default)g)",
    )
    option(
        "--max-records",
        action=EnvDefault,
        convert=_for("max_records", _integer),
        default=DEFAULTS.max_records,
        metavar="N",
        help="how many records (credentials, trading accounts, their history) all namespaces "
        "may hold together; a scenario that would pass it is refused (default: %(default)s)",
    )
    option(
        "--max-streams",
        action=EnvDefault,
        convert=_for("max_streams", _integer),
        default=DEFAULTS.max_streams,
        metavar="N",
        help="how many live journal streams (GET /__admin/requests/stream, the dashboard) may "
        "be open at once (default: %(default)s)",
    )
    option(
        "--tls",
        action=EnvFlag,
        help="serve HTTPS (and WSS) with a certificate for localhost, 127.0.0.1 and ::1 made "
        "at start by a throwaway CA; the banner prints the CA bundle clients must trust",
    )
    option(
        "--tls-ca-file",
        action=EnvDefault,
        default=None,
        metavar="PATH",
        help="with --tls: write the CA bundle here (default: a new temporary folder)",
    )
    option(
        "--tls-cert",
        action=EnvDefault,
        default=None,
        metavar="PEM",
        help="serve HTTPS with this certificate chain (with --tls-key) instead",
    )
    option(
        "--tls-key",
        action=EnvDefault,
        default=None,
        metavar="PEM",
        help="the private key of --tls-cert",
    )
    option(
        "--state-file",
        action=EnvDefault,
        default=None,
        metavar="PATH",
        help="keep what clients change (credentials, trading accounts, logins, the clock) in "
        "this JSON file: restored at start, written shortly after each change and at exit. "
        "It holds no secret (keys as masked form and salted fingerprint). A file that is "
        "corrupt, not a state file or another scenario's stops the start and is left as it is",
    )
    option(
        "--loop",
        action=EnvDefault,
        choices=LOOP_CHOICES,
        default=DEFAULTS.loop,
        help="event loop: 'auto' runs uvloop where it is installed, asyncio's own loop "
        "elsewhere; the banner says which runs (default: %(default)s)",
    )
    option(
        "--max-connections",
        action=EnvDefault,
        convert=_for("max_connections", _integer),
        default=DEFAULTS.max_connections,
        metavar="N",
        help="how many WebSocket connections may be open at once; one more is answered "
        "503 before the upgrade, 0 turns the WebSocket API off (default: %(default)s)",
    )
    option(
        "--replica-id",
        action=EnvDefault,
        convert=_for("replica_id", str),
        default=DEFAULTS.replica_id,
        metavar="NAME",
        help="this server's name among replicas behind a balancer (docs/team.md): health "
        "and the namespace answers of the admin API carry it as 'replica' (default: none)",
    )
    option(
        "--market-interval",
        action=EnvDefault,
        convert=_for("market_interval", _seconds),
        default=DEFAULTS.market_interval,
        metavar="SECONDS",
        help="how often the market:* channels publish while the clock runs (a clock move "
        "publishes at once; no timer runs without a subscriber) (default: %(default)s)",
    )
    option(
        "--upstream",
        action=EnvDefault,
        default=None,
        metavar="URL",
        help="forward what the mock does not emulate (the operations answered 501) and the "
        "requests of stubs with 'proxy: true' to this base URL (a real Cadenza), and "
        "journal them; default: none (501)",
    )
    serve.set_defaults(handler=_serve, subparser=serve, env_options=tuple(env_options))

    add_record(commands)
    add_drift(commands)

    validate = commands.add_parser(
        "validate",
        help="check scenario files and report every problem",
        description="Load each scenario file as the server would and print every problem as "
        "file:line:column: message. Exits 1 if any file has a problem.",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="scenario YAML file(s)")
    validate.add_argument(
        "--profile",
        choices=PROFILE_NAMES,
        default=None,
        help="validate as if served with this wire profile",
    )
    validate.set_defaults(handler=_validate)

    scenarios = commands.add_parser(
        "scenarios",
        help="list the bundled scenarios, their files, or print one",
        usage="cadenza-mock scenarios [-h] [--paths] [show NAME]",
        description="List the scenarios that ship with cadenza-mock, by name, with their "
        "descriptions. Serve one with 'cadenza-mock serve --scenario NAME'; copy one to "
        "start your own with 'cadenza-mock scenarios show NAME > mine.yaml'.",
    )
    scenarios.add_argument(
        "--paths",
        action="store_true",
        help="print the installed file of each bundled scenario instead, one per line",
    )
    scenario_commands = scenarios.add_subparsers(
        dest="scenarios_command", title="commands", metavar="show NAME"
    )
    show = scenario_commands.add_parser(
        "show",
        prog="cadenza-mock scenarios show",
        help="print a bundled scenario's YAML",
        description="Print the YAML of a bundled scenario, to copy and edit.",
    )
    show.add_argument("name", metavar="NAME", help="a name from 'cadenza-mock scenarios'")
    scenarios.set_defaults(handler=_scenarios, subparser=scenarios)
    show.set_defaults(handler=_show, subparser=show)
    return parser


def _serve(args: argparse.Namespace) -> int:
    # No collector passes over the server's modules as they load (serve_forever freezes
    # them with the scenario's records, then turns the collector back on).
    gc.disable()
    from cadenza_mock.run.foreground import serve_forever

    folder = _scenario_folder(args)
    if folder is not None:
        print(folder, file=sys.stderr)
        return 2
    options = options_from(args)
    if args.admin_token_file is not None:
        token, problem = _admin_token_from(args, args.admin_token_file)
        if problem is not None:
            print(f"{args.subparser.prog}: {problem}", file=sys.stderr)
            return 2
        options = options.replace(admin_token=token)
    return serve_forever(options)


def options_from(args: argparse.Namespace) -> ServerOptions:
    """The ServerOptions `serve`'s parsed arguments ask for: each field from its flag
    (`--no-X` flags turn field X off; a repeatable flag not given keeps the default)."""
    values: dict[str, Any] = {}
    for name in ServerOptions.names():
        flag = ServerOptions.flag(name)
        value = getattr(args, flag.removeprefix("--").replace("-", "_"))
        if flag.startswith("--no-"):
            value = not value
        elif value is None and getattr(DEFAULTS, name) is not None:
            value = getattr(DEFAULTS, name)
        values[name] = value
    return ServerOptions(**values)


class _Version(argparse._VersionAction):
    """`--version`, worked out only when asked: finding the event loop's version reads
    package metadata, which every `serve` start would otherwise pay for."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        self.version = version_line()
        super().__call__(parser, namespace, values, option_string)


def _admin_token_from(args: argparse.Namespace, path: str) -> tuple[str, str | None]:
    """(the token, None) read from `--admin-token-file`, or ("", the one-line problem);
    a problem never quotes the file's content."""
    from_env: set[str] = getattr(args, "from_env", set())
    given = "--admin-token-file"
    if "admin_token_file" in from_env:
        given = f"{ENV_PREFIX}ADMIN_TOKEN_FILE"
    if args.admin_token is not None:
        other = f"{ENV_PREFIX}ADMIN_TOKEN" if "admin_token" in from_env else "--admin-token"
        return "", f"{given} and {other} both give the admin token; use one"
    try:
        with open(Path(path).expanduser(), encoding="utf-8") as file:
            first = file.readline().strip()
    except UnicodeDecodeError:
        return "", f"{given} {path}: cannot read it (not UTF-8 text)"
    except OSError as exc:
        return "", f"{given} {path}: cannot read it ({exc.strerror or type(exc).__name__})"
    except ValueError:  # a path this system cannot even ask about (a NUL byte)
        return "", f"{given} {path!r}: not a usable path"
    if not first:
        return "", f"{given} {path}: its first line is empty (it must hold the admin token)"
    return first, None


def _validate(args: argparse.Namespace) -> int:
    from cadenza_mock.contract.errors import ScenarioError
    from cadenza_mock.scenario import load_scenario

    failed = 0
    for file in args.files:
        try:
            scenario = load_scenario(file, profile=args.profile)
        except ScenarioError as exc:
            failed += 1
            for issue in exc.issues:
                print(issue, file=sys.stderr)
            continue
        print(
            f"{file}: ok ({scenario.profile} profile, {len(scenario.users)} users, "
            f"{len(scenario.credentials)} credentials, {len(scenario.faults)} faults)"
        )
    if failed:
        print(f"{failed} of {len(args.files)} file(s) have problems", file=sys.stderr)
    return 1 if failed else 0


def _scenario_folder(args: argparse.Namespace) -> str | None:
    """The one-line error for `--scenario DIR` (the container's `CADENZA_MOCK_SCENARIO=
    /scenarios` slip), naming where the value came from; None when it is no folder."""
    from cadenza_mock.contract.errors import ScenarioError
    from cadenza_mock.scenario import load_scenario

    source = str(args.scenario)
    try:
        if not Path(source).expanduser().is_dir():
            return None
    except (OSError, ValueError):  # not a path this system can even ask about
        return None
    try:
        load_scenario(source)  # the loader's own words for a folder, listing its files
    except ScenarioError as exc:
        message = exc.issues[0].message if exc.issues else str(exc)
    else:
        return None
    given = f"--scenario {source}"
    if "scenario" in getattr(args, "from_env", ()):
        given = f"{ENV_PREFIX}SCENARIO={source!r}"
    if "e.g." in message:  # it holds scenario files: the admin API could load them all
        message += f"; --scenario-dir {source} lets the admin API load them"
    return f"{args.subparser.prog}: {given}: {message}"


def _scenarios(args: argparse.Namespace) -> int:
    from cadenza_mock.scenario import bundled_descriptions, bundled_names, bundled_path

    if args.paths:
        for name in bundled_names():
            print(bundled_path(name))
        return 0
    entries = bundled_descriptions()
    width = max((len(name) for name, _ in entries), default=0)
    for name, description in entries:
        print(f"{name:<{width}}  {description}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from cadenza_mock.contract.errors import ScenarioError
    from cadenza_mock.scenario import bundled_path

    try:
        path = bundled_path(args.name)
    except ScenarioError as exc:
        print(f"{args.subparser.prog}: {exc.issues[0].message}", file=sys.stderr)
        return 2
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        _apply_env(args.subparser, args)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # here, so a closed pipe is caught below, not at exit
    except BrokenPipeError:
        # The reader stopped early (`cadenza-mock scenarios --paths | head -1`): what it
        # read is what it wanted. No traceback; later flushes go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())

"""`ServerOptions`: every `serve` option in one place, with its default, its check and a
line of doc.

The CLI builds one from argparse (each field is a flag and a CADENZA_MOCK_<FIELD>
variable), `MockServer` from its keywords, and `make_app()` / `serve_forever()` take it,
so a new option is one field here rather than a keyword threaded through three layers.
It lives in `contract/` because both `http/` (make_app) and `run/` (cli, server) read it;
it imports nothing heavier than the standard library, so `--help` stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cadenza_mock.contract.model import PROFILE_NAMES
from cadenza_mock.version import LOOP_CHOICES

# Defaults that other modules also name (re-exported there under their old names).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_JOURNAL_SIZE = 1000
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_NAMESPACES = 64
DEFAULT_NAMESPACE_IDLE = 1800.0
# Records (credentials, trading accounts, their history) all namespaces may hold together:
# about 1.5 KiB each (200,000 generated credentials: 310 MB), whatever clients ask for.
DEFAULT_MAX_RECORDS = 200_000
DEFAULT_MAX_STREAMS = 32
DEFAULT_MAX_CONNECTIONS = 1000
# Seconds between the market channels' publications on a running clock (http/ws_market.py).
DEFAULT_MARKET_INTERVAL = 1.0
MAX_MARKET_INTERVAL = 3600.0

# A --replica-id: safe in a JSON answer and a log line (a StatefulSet pod's name fits).
REPLICA_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")

MAX_READ_TIMEOUT = 3600.0
MAX_NAMESPACE_IDLE = 7 * 24 * 3600.0

Check = Callable[[Any], None]

# ----------------------------------------------------------------- the checks
# A check raises ValueError with a message that does not repeat the value: the caller
# shows it, as `argument --port: '70000': port must be 0 to 65535`.


def check_port(value: int) -> None:
    if not 0 <= value <= 65535:
        raise ValueError("port must be 0 to 65535")


def check_non_negative(value: int) -> None:
    if value < 0:
        raise ValueError("must be 0 or more")


def check_replica_id(value: str | None) -> None:
    if value is not None and not REPLICA_ID_PATTERN.fullmatch(value):
        raise ValueError(
            "must be 1 to 63 letters, digits, dots, dashes or underscores (a pod's name)"
        )


def check_url(value: str | None) -> None:
    if value is not None and not (
        value.startswith(("http://", "https://")) and len(value.split("//", 1)[1]) > 0
    ):
        raise ValueError("expected http://HOST[:PORT] or https://HOST[:PORT]")


def seconds_up_to(most: float) -> Check:
    """A check of a positive number of seconds, at most `most`."""

    def check(value: float) -> None:
        if not 0 < value <= most:
            raise ValueError(f"must be more than 0 and at most {most:g} seconds")

    return check


def one_of(choices: Sequence[str], *, optional: bool = False) -> Check:
    def check(value: str | None) -> None:
        if value is None and optional:
            return
        if value not in choices:
            raise ValueError(f"choose from {', '.join(choices)}")

    return check


def _option(default: Any, doc: str, *, flag: str = "", check: Check | None = None) -> Any:
    """A field with its doc line, its CLI flag (default: `--field-name`) and its check."""
    return field(default=default, metadata={"doc": doc, "flag": flag, "check": check})


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How a server is run. Every field is a `serve` flag and a CADENZA_MOCK_<FIELD>
    variable (see `flag()`); invalid values raise ValueError at construction."""

    host: str = _option(DEFAULT_HOST, "address to bind (a loopback one answers loopback names)")
    port: int = _option(DEFAULT_PORT, "TCP port; 0 picks a free one", check=check_port)
    scenario: str = _option("default", "bundled scenario name or path to a YAML scenario file")
    seed: int | None = _option(None, "the scenario's seed for generated data, overridden")
    profile: str | None = _option(
        None,
        "wire profile 'docs' or 'sdk'; None: the scenario's",
        check=one_of(PROFILE_NAMES, optional=True),
    )
    watch: bool = _option(False, "reload the scenario file when it changes")
    admin_token: str | None = _option(None, "the X-Admin-Token /__admin/ calls must carry")
    admin_open: bool = _option(False, "admin API without a token on a non-loopback host")
    scenario_dirs: tuple[str | Path, ...] | None = _option(
        None, "folders whose scenario files the admin API may load", flag="--scenario-dir"
    )
    allow_origins: tuple[str, ...] = _option(
        (), "web origins whose pages may call the mock (CORS)", flag="--allow-origin"
    )
    allow_hosts: tuple[str, ...] = _option(
        (), "Host names a loopback server answers besides loopback", flag="--allow-host"
    )
    journal_size: int = _option(
        DEFAULT_JOURNAL_SIZE, "requests the journal keeps; 0: off", check=check_non_negative
    )
    read_timeout: float = _option(
        DEFAULT_READ_TIMEOUT,
        "seconds request headers, then a body, may take to arrive",
        check=seconds_up_to(MAX_READ_TIMEOUT),
    )
    quiet: bool = _option(False, "no access log line per request")
    hints: bool = _option(True, "report near-miss parameters and fields", flag="--no-hints")
    fast_path: bool = _option(
        True, "answer repeated list calls from remembered bytes", flag="--no-fast-path"
    )
    max_namespaces: int = _option(
        DEFAULT_MAX_NAMESPACES,
        "namespaces that may exist at once; 0: none",
        check=check_non_negative,
    )
    namespace_idle: float = _option(
        DEFAULT_NAMESPACE_IDLE,
        "seconds after which an unused namespace is dropped",
        check=seconds_up_to(MAX_NAMESPACE_IDLE),
    )
    max_records: int = _option(
        DEFAULT_MAX_RECORDS, "records all namespaces may hold together", check=check_non_negative
    )
    max_streams: int = _option(
        DEFAULT_MAX_STREAMS, "live journal streams open at once", check=check_non_negative
    )
    tls: bool = _option(False, "HTTPS and WSS with a generated localhost certificate")
    # (`_option` returns a dataclasses.field, which ruff's RUF009 cannot tell.)
    tls_ca_file: str | Path | None = _option(None, "where a generated CA bundle goes")  # noqa: RUF009
    tls_cert: str | Path | None = _option(None, "your own certificate chain")  # noqa: RUF009
    tls_key: str | Path | None = _option(None, "the private key of tls_cert")  # noqa: RUF009
    state_file: str | Path | None = _option(None, "the state's file across restarts")  # noqa: RUF009
    loop: str = _option("auto", "event loop: auto, uvloop or asyncio", check=one_of(LOOP_CHOICES))
    max_connections: int = _option(
        DEFAULT_MAX_CONNECTIONS,
        "WebSocket connections open at once; 0: none",
        check=check_non_negative,
    )
    replica_id: str | None = _option(
        None, "this server's name among replicas behind a balancer", check=check_replica_id
    )
    market_interval: float = _option(
        DEFAULT_MARKET_INTERVAL,
        "seconds between market channel publications on a running clock",
        check=seconds_up_to(MAX_MARKET_INTERVAL),
    )
    upstream: str | None = _option(
        None, "where not-emulated operations and `proxy` stubs are forwarded", check=check_url
    )

    def __post_init__(self) -> None:
        # Sequences kept as tuples: the value is frozen, and a list given stays the caller's.
        for name in ("scenario_dirs", "allow_origins", "allow_hosts"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        for item in fields(self):
            check: Check | None = item.metadata["check"]
            if check is not None:
                try:
                    check(getattr(self, item.name))
                except ValueError as exc:
                    raise ValueError(f"{item.name}: {exc}") from None

    def replace(self, **changes: Any) -> ServerOptions:
        """A copy with `changes` (checked as a new value is)."""
        return replace(self, **changes)

    @staticmethod
    def flag(name: str) -> str:
        """The `serve` flag of field `name` (`max_records` -> `--max-records`)."""
        return _FLAGS[name]

    @staticmethod
    def names() -> tuple[str, ...]:
        """The fields, in declaration order (the order of `serve --help`)."""
        return tuple(_FIELDS)

    @staticmethod
    def doc(name: str) -> str:
        """Field `name`'s line of doc."""
        return str(_FIELDS[name].metadata["doc"])

    @staticmethod
    def check(name: str) -> Check | None:
        """Field `name`'s check (the CLI runs it on flags and variables too), if any."""
        check: Check | None = _FIELDS[name].metadata["check"]
        return check


_FIELDS = {item.name: item for item in fields(ServerOptions)}
_FLAGS = {
    name: item.metadata["flag"] or "--" + name.replace("_", "-") for name, item in _FIELDS.items()
}

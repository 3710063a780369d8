"""What a fault action is: one class that parses its own `faults:` key, says on which
transports it means something, decides whether it fires, and performs itself.

An action registers itself by subclassing `FaultAction` with its key
(`class Drop(FaultAction, key="drop")`), as respx's patterns do: the parser, the engine,
the transports, the OpenAPI schema and the README table know no action by name, they ask
`ACTIONS` (`cadenza_mock.scenario.fault_actions`). No aiohttp here: an action performs itself
through `Call`, the few things a transport can do to one call, which `http/middleware.py`
(HTTP) and `http/ws.py` (the upgrade and RPCs) each implement once.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Protocol

import yaml

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.operation_type import WS_PATH
from cadenza_mock.scenario.nodes import Problems, mapping, scalar

# The transports a call comes by: an HTTP request, the WebSocket upgrade (an HTTP GET of
# WS_PATH whose answer has no body), an RPC over an open WebSocket (method "RPC", the RPC
# method as its path).
HTTP = "http"
UPGRADE = "upgrade"
RPC = "rpc"
TRANSPORTS = (HTTP, UPGRADE, RPC)
EVERY_TRANSPORT = frozenset(TRANSPORTS)
TRANSPORT_NAMES = {HTTP: "an HTTP call", UPGRADE: "the WebSocket upgrade", RPC: "a WebSocket RPC"}
RPC_PREFIXES = ("command.", "query.")
# Longest delay a fault may ask for: a typo (500 instead of 0.5) should not hang a suite.
MAX_DELAY_SECONDS = 600.0


def transport_of(method: str, path: str) -> str:
    """Which transport a call (as the engine's RequestView describes it) came by."""
    if method == "RPC":
        return RPC
    return UPGRADE if path == WS_PATH else HTTP


def named_transports(methods: tuple[str, ...], path: str | None) -> frozenset[str]:
    """The transports whose calls a fault's `match.method` and `match.path` can name: an
    RPC has no HTTP method, the upgrade is a GET of WS_PATH, an HTTP path starts with '/'."""
    found = set()
    glob = path is not None and any(ch in path for ch in "*?[")
    if not methods and (path is None or not path.startswith("/")):
        found.add(RPC)
    if (not methods or "GET" in methods) and (
        path is None or path == WS_PATH or (glob and fnmatch.fnmatchcase(WS_PATH, path))
    ):
        found.add(UPGRADE)
    if path is None or (path != WS_PATH and not path.startswith(RPC_PREFIXES)):
        found.add(HTTP)
    return frozenset(found)


class Call(Protocol):
    """What an action can do to the one call it fired on. The engine's `Decision` records
    it; each transport carries out each of these in one place."""

    def fail(self, error: ApiError) -> None:
        """Answer with this error instead of running the handler (HTTP: the envelope;
        RPC: the error inside the RPC's result)."""

    def drop(self, close: tuple[int, str] | None = None) -> None:
        """No answer: the connection goes. `close`: a WebSocket close frame (code, reason)
        instead of a connection cut as a network failure cuts it."""

    def venue(self, outcome: str) -> None:
        """What the venue answers if the call's verify or connect reaches it."""

    def cut(self) -> None:
        """The real answer, cut in half."""

    def trickle(self, chunk_delay: float, chunks: int) -> None:
        """The real answer in `chunks` pieces, `chunk_delay` seconds apart (HTTP only)."""


class FaultAction:
    """One action of the `faults:` vocabulary. Subclasses are frozen dataclasses holding
    the action's normalized fields, registered by `key`."""

    __slots__ = ()
    key: ClassVar[str]
    # The README's Actions table: the key as written, what it does, what a client sees,
    # and what it does to a WebSocket RPC (tests/test_fault_actions.py checks the table).
    usage: ClassVar[str]
    effect: ClassVar[str]
    client_sees: ClassVar[str]
    on_rpc: ClassVar[str]
    # The JSON Schema of the key's value (the OpenAPI document's AdminFault). Only what the
    # parser also enforces: anything the schema refuses, the parser must refuse too.
    schema: ClassVar[Mapping[str, Any]]
    # Where the action means something; a fault naming only other transports is refused
    # at load with `refusals[transport]` saying why.
    transports: ClassVar[frozenset[str]] = EVERY_TRANSPORT
    refusals: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, key: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # `@dataclass(slots=True)` builds the class again (without the keyword): that
        # second class, the one the module keeps, replaces the first.
        key = key or cls.__dict__.get("key", "")
        if key:
            cls.key = key
            ACTIONS.register(cls)

    @classmethod
    def parse(cls, node: yaml.Node, path: str, problems: Problems) -> FaultAction | None:
        """The action from its key's value, or None with the problems recorded (located)."""
        raise NotImplementedError

    def to_json(self) -> Any:
        """The normalized value of the key: what GET /__admin/faults shows, and can be
        posted back unchanged."""
        raise NotImplementedError

    def supported(self) -> frozenset[str]:
        """The transports this action (with these fields) means something on."""
        return self.transports

    def applies(self, transport: str, path: str, path_given: bool) -> bool:
        """Whether a call matching the fault's `match` is one this action acts on; a call
        it does not apply to is not counted (nor uses up `times`)."""
        return transport in self.supported()

    def admit(self, memory: dict[str, Any], caller: Callable[[], str], now_ms: int) -> float | None:
        """Whether the action fires on a call its schedule let through: None if not, else
        seconds for a Retry-After (0.0 when it has none). `memory` is the armed fault's,
        fresh at each reset; `caller` names the caller (a user id, or its token)."""
        return 0.0

    def perform(self, call: Call, retry_seconds: float) -> None:
        raise NotImplementedError


class Registry:
    """The registered actions by key, in registration order (the order messages list)."""

    def __init__(self) -> None:
        self._actions: dict[str, type[FaultAction]] = {}

    def register(self, action: type[FaultAction]) -> None:
        known = self._actions.get(action.key)
        rebuilt = known is not None and known.__qualname__ == action.__qualname__
        if (known is not None and not rebuilt) or action.key == "delay":
            raise ValueError(f"fault action {action.key!r} is registered twice")
        self._actions[action.key] = action

    def __getitem__(self, key: str) -> type[FaultAction]:
        return self._actions[key]

    def __iter__(self) -> Iterator[type[FaultAction]]:
        return iter(self._actions.values())

    def __len__(self) -> int:
        return len(self._actions)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._actions)


ACTIONS = Registry()


# --------------------------------------------------------------------------- field readers


def number(node: yaml.Node, path: str, problems: Problems) -> float | None:
    found: float | None = scalar(node, path, (int, float), problems)
    if found is not None and not math.isfinite(found):
        problems.add(node, path, f"expected a finite number, got {found!r}")
        return None
    return found


def count(node: yaml.Node, path: str, minimum: int, problems: Problems) -> int | None:
    found: int | None = scalar(node, path, int, problems)
    if found is not None and found < minimum:
        problems.add(node, path, f"expected an integer >= {minimum}, got {found}")
        return None
    return found


def seconds(node: yaml.Node, path: str, problems: Problems) -> float | None:
    found = number(node, path, problems)
    if found is not None and not 0 <= found <= MAX_DELAY_SECONDS:
        problems.add(node, path, f"expected 0 to {MAX_DELAY_SECONDS:g} seconds, got {found!r}")
        return None
    return found


def flag(node: yaml.Node, path: str, key: str, problems: Problems) -> bool:
    """`key: true`, the form of an action without fields; False with a problem if not."""
    on = scalar(node, path, bool, problems)
    if on is False:
        problems.add(node, path, f"`{key}: false` does nothing; remove the key")
    return on is True


def fields_with(
    node: yaml.Node, path: str, keys: tuple[str, ...], needed: str, why: str, problems: Problems
) -> dict[str, yaml.Node] | None:
    """A mapping of `keys` that must hold `needed` (else `why` is the problem)."""
    fields = mapping(node, path, keys, problems)
    if fields is not None and needed not in fields:
        problems.add(node, path, why)
        return None
    return fields


def given(**fields: Any) -> dict[str, Any]:
    """The fields that were given (not None), in order: the normalized JSON form."""
    return {key: value for key, value in fields.items() if value is not None}

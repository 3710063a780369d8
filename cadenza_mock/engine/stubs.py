"""Ad-hoc stubs: answers a test declares for a method and path of the emulated API, given
before the emulation (as respx routes and WireMock stubs are), per state (so per
namespace), cleared by every reset and load.

Pure data and matching (no aiohttp): the HTTP layer asks `Stubs.match()` and sends what
the returned `Stub` holds. Bounded: MAX_STUBS stubs and MAX_STUB_BYTES of bodies per
state, so a loop that stubs without end cannot grow the server's memory.
"""

from __future__ import annotations

import builtins
import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cadenza_mock.contract.bounds import (
    FRAMING,
    HEADER_NAME,
    HEADER_VALUE,
    MAX_HEADER_VALUE,
    MAX_PATH,
    MAX_STUB_HEADERS,
    MAX_STUBS,
    NO_BODY_STATUSES,
    PATH_PATTERN,
)
from cadenza_mock.contract.operation_type import API_PREFIX
from cadenza_mock.engine.journal import REDACTED, is_secret_name, redact_body
from cadenza_mock.scenario.faults import METHODS
from cadenza_mock.scenario.nodes import close_match

MAX_STUB_BYTES = 1024 * 1024  # all of one state's stub bodies together
KEYS = ("method", "path", "status", "json", "headers", "times", "proxy")
_HEADER_NAME = re.compile(HEADER_NAME)
_PATH = re.compile(PATH_PATTERN)
_SHOWN = 80


class StubLimitError(ValueError):
    """The state holds MAX_STUBS stubs (or MAX_STUB_BYTES of bodies) already."""


def _shown(text: str) -> str:
    """A client's text as a message shows it: ASCII, cut when long (never a body value)."""
    return ascii(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


@dataclass(frozen=True, slots=True)
class StubSpec:
    """A validated stub: what it matches and the answer it sends."""

    method: str
    path: str
    status: int = 200
    body: bytes | None = None  # the JSON answer, encoded once
    headers: tuple[tuple[str, str], ...] = ()
    times: int | None = None  # None: every matching request
    proxy: bool = False  # forwarded to `serve --upstream` instead of answered


def parse_stub(spec: Mapping[str, Any], caller: str = "stub") -> StubSpec:
    """A StubSpec from `{method, path, status?, json?, headers?, times?}` (the admin
    body, or `mock.stub()`'s arguments). TypeError or ValueError naming the key; values of
    `json` and `headers` are never shown."""
    if not isinstance(spec, Mapping):
        raise TypeError(f"{caller}: expected an object with {', '.join(KEYS)}")
    unknown = [str(key) for key in spec if key not in KEYS]
    if unknown:
        close = close_match(unknown[0], KEYS)
        hint = f"; did you mean {close!r}?" if close else ""
        raise ValueError(
            f"{caller}: unknown key {_shown(unknown[0])} (allowed: {', '.join(KEYS)}){hint}"
        )
    method = spec.get("method")
    if not isinstance(method, str):
        raise TypeError(f"{caller}: method must be a string like 'GET'")
    if method not in METHODS:
        hint = f"; did you mean {method.upper()!r}?" if method.upper() in METHODS else ""
        raise ValueError(
            f"{caller}: unknown method {_shown(method)} (allowed: {', '.join(METHODS)}){hint}"
        )
    path = spec.get("path")
    if not isinstance(path, str):
        raise TypeError(f"{caller}: path must be a string like '{API_PREFIX}/market/venue/list'")
    if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")) or len(path) > MAX_PATH:
        raise ValueError(
            f"{caller}: path {_shown(path)} is not under {API_PREFIX}/ (stubs answer the "
            f"emulated API only; at most {MAX_PATH} characters)"
        )
    if not _PATH.match(path):
        raise ValueError(
            f"{caller}: path {_shown(path)}: a path only (no query or fragment; ASCII; "
            "'*' matches any characters)"
        )
    status = _integral(spec.get("status", 200))
    if not isinstance(status, int) or isinstance(status, bool):
        raise TypeError(f"{caller}: status must be an integer like 200")
    if not 200 <= status <= 599:
        raise ValueError(f"{caller}: status {status} is out of range (200 to 599)")
    body = _body(spec.get("json"), status, caller)
    headers = _headers(spec.get("headers"), caller)
    times = _integral(spec.get("times"))
    if times is not None and (not isinstance(times, int) or isinstance(times, bool)):
        raise TypeError(f"{caller}: times must be an integer (or None: every request)")
    if times is not None and times < 1:
        raise ValueError(f"{caller}: times must be 1 or more (or None: every request)")
    proxy = spec.get("proxy", False)
    if not isinstance(proxy, bool):
        raise TypeError(f"{caller}: proxy must be true or false")
    if proxy and (body is not None or headers or ("status" in spec and status != 200)):
        raise ValueError(
            f"{caller}: a proxy stub sends the upstream's answer: no status, json or headers"
        )
    return StubSpec(method, path, status, body, headers, times, proxy)


def _integral(value: Any) -> Any:
    """201.0 as 201: JSON does not tell them apart (JSON Schema's integer accepts both)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _body(value: Any, status: int, caller: str) -> bytes | None:
    if value is None:
        return None
    if status in NO_BODY_STATUSES:
        raise ValueError(f"{caller}: status {status} carries no body; leave json out")
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        # The json module's messages name types, never values.
        reason = str(exc)[:_SHOWN] if not isinstance(exc, RecursionError) else "nested too deep"
        raise ValueError(f"{caller}: json is not JSON-serialisable ({reason})") from None
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_STUB_BYTES:
        raise ValueError(
            f"{caller}: json is {len(encoded)} bytes encoded; at most {MAX_STUB_BYTES}"
        )
    return encoded


def _headers(value: Any, caller: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise TypeError(f"{caller}: headers must be an object of names to string values")
    if len(value) > MAX_STUB_HEADERS:
        raise ValueError(f"{caller}: at most {MAX_STUB_HEADERS} headers, got {len(value)}")
    found = []
    for name, header in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValueError(f"{caller}: header name {_shown(str(name))} is not a valid name")
        if name.lower() in FRAMING:
            raise ValueError(f"{caller}: header {name!r} is set by the server, not by a stub")
        if not isinstance(header, str):
            raise TypeError(f"{caller}: header {name!r}: the value must be a string")
        if len(header) > MAX_HEADER_VALUE or not re.match(HEADER_VALUE, header):
            raise ValueError(
                f"{caller}: header {name!r}: the value must be printable ASCII, at most "
                f"{MAX_HEADER_VALUE} characters"
            )
        found.append((name, header))
    return tuple(found)


@dataclass(slots=True)
class Stub:
    """One armed stub with its counters."""

    id: str
    spec: StubSpec
    remaining: int | None = None
    hits: int = 0
    glob: bool = field(default=False)

    def __post_init__(self) -> None:
        self.remaining = self.spec.times
        self.glob = "*" in self.spec.path

    @property
    def armed(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def matches(self, method: str, path: str) -> bool:
        wanted = self.spec.method
        if method != wanted and not (method == "HEAD" and wanted == "GET"):
            return False
        if self.glob:
            return fnmatch.fnmatchcase(path, self.spec.path)
        return path == self.spec.path

    def to_json(self) -> dict[str, Any]:
        """As the admin API lists it: secret-named fields and headers never shown."""
        spec = self.spec
        body = redact_body(json.loads(spec.body)) if spec.body is not None else None
        return {
            "id": self.id,
            "method": spec.method,
            "path": spec.path,
            "status": spec.status,
            "json": body,
            "headers": {k: REDACTED if is_secret_name(k) else v for k, v in spec.headers},
            "times": spec.times,
            "proxy": spec.proxy,
            "remaining": self.remaining,
            "hits": self.hits,
        }


class Stubs:
    """One state's stubs, newest first when matching (a later stub overrides an earlier
    one, as in WireMock); used-up ones stay listed until the bound needs their room."""

    def __init__(self) -> None:
        self._stubs: list[Stub] = []
        self._made = 0

    def __len__(self) -> int:
        return len(self._stubs)

    @property
    def armed(self) -> bool:
        """Whether any stub is held: what every request checks first (one attribute read)."""
        return bool(self._stubs)

    def add(self, spec: StubSpec) -> Stub:
        """Arm `spec`; StubLimitError when the bound is reached (nothing changes then)."""
        size = len(spec.body or b"")
        while len(self._stubs) >= MAX_STUBS or self._bytes() + size > MAX_STUB_BYTES:
            spent = next((s for s in self._stubs if not s.armed), None)
            if spent is None:
                raise StubLimitError(
                    f"at most {MAX_STUBS} stubs and {MAX_STUB_BYTES} bytes of stub bodies "
                    f"per namespace (held: {len(self._stubs)}); remove some, or reset"
                )
            self._stubs.remove(spent)  # a used-up stub makes room
        self._made += 1
        stub = Stub(f"stub-{self._made}", spec)
        self._stubs.append(stub)
        return stub

    def _bytes(self) -> int:
        return sum(len(s.spec.body or b"") for s in self._stubs)

    def match(self, method: str, path: str) -> Stub | None:
        """The newest armed stub for this request, counted as used; None: the emulation."""
        for stub in reversed(self._stubs):
            if stub.armed and stub.matches(method, path):
                stub.hits += 1
                if stub.remaining is not None:
                    stub.remaining -= 1
                return stub
        return None

    def list(self) -> list[Stub]:
        return list(self._stubs)

    def ids(self) -> builtins.list[str]:
        return [stub.id for stub in self._stubs]

    def remove(self, stub_id: str) -> bool:
        for stub in self._stubs:
            if stub.id == stub_id:
                self._stubs.remove(stub)
                return True
        return False

    def clear(self) -> int:
        cleared = len(self._stubs)
        self._stubs.clear()
        return cleared

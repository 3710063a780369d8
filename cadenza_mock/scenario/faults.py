"""The `faults:` vocabulary: validated here, evaluated by `cadenza_mock.engine.faults`.

A fault is data: an optional `match`, one action (`respond`, `rate_limit`, `drop`,
`malformed`, `slow_body`, `venue`, optionally preceded by a `delay`, or a `delay` alone) and an
optional schedule (`times`, `after`, `probability`). The same parser reads an entry of a
scenario file, the body of `POST /__admin/faults` (JSON or YAML) and a dict handed to
`MockServer.add_fault()`, so the three are written exactly alike and fail alike.

`parse_fault` returns the normalized form: a plain dict written in the same vocabulary
(defaults filled in), so `GET /__admin/faults` shows what will happen and the dict can be
posted back unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from cadenza_mock.contract import errors as e
from cadenza_mock.contract.errors import ScenarioError, ScenarioIssue
from cadenza_mock.contract.model import VENUE_OUTCOMES, User
from cadenza_mock.scenario.fault_spec import (
    DelayRange,
    FaultSpec,
    Match,
    RateLimit,
    Respond,
    SlowBody,
    VenueOutcome,
)
from cadenza_mock.scenario.nodes import (
    Problems,
    compose,
    describe,
    enum,
    from_data,
    join,
    mapping,
    scalar,
    suggest,
    value,
)

FAULT_KEYS = (
    "id",
    "match",
    "respond",
    "delay",
    "rate_limit",
    "drop",
    "malformed",
    "slow_body",
    "venue",
    "times",
    "after",
    "probability",
)
MATCH_KEYS = ("method", "path", "query", "user", "token", "header")
RESPOND_KEYS = ("status", "errno", "error", "code", "headers")
DELAY_KEYS = ("min", "max")
RATE_LIMIT_KEYS = ("requests", "window", "retry_after")
SLOW_BODY_KEYS = ("chunk_delay", "chunks")
# Actions that decide the answer; `delay` only holds the request back before it.
TERMINAL_ACTIONS = ("respond", "rate_limit", "drop", "malformed", "slow_body", "venue")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Longest delay a fault may ask for: a typo (500 instead of 0.5) should not hang a suite.
MAX_DELAY_SECONDS = 600.0
DEFAULT_SLOW_CHUNKS = 10
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEADER_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def default_error(status: int) -> tuple[int, str, str]:
    """(errno, message, code) the catalogue gives an injected error of this HTTP status."""
    return e.fault_default(status)


def is_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def unknown_user(wanted: str, users: Sequence[User]) -> str | None:
    """Why a fault's `match.user` (an id or an email, any case) can never fire among these
    users, or None if one of them is it. The one rule for scenario files and run-time
    faults alike: such a fault would only show up as a puzzling pass."""
    for user in users:
        if wanted == user.user_id or wanted.lower() == user.email.lower():
            return None
    known = ", ".join(user.email for user in users) or "none"
    return f"no user {wanted!r} in this scenario (users: {known})"


# --------------------------------------------------------------------------- parsing


def parse_fault(
    node: yaml.Node, path: str, problems: Problems, users: Sequence[User] | None = None
) -> FaultSpec | None:
    """One `faults:` entry -> its typed spec, or None (problems recorded, located).

    `users`: the scenario's users, when the fault belongs to a scenario file, so that a
    `match.user` naming none of them is reported at its line (run-time faults are checked
    against the loaded scenario by `Faults.arm`).
    """
    fields = mapping(node, path, FAULT_KEYS, problems)
    if fields is None:
        return None
    before = len(problems.issues)
    result: dict[str, Any] = {}
    if "id" in fields:
        fid = scalar(fields["id"], join(path, "id"), str, problems)
        if fid is not None and not _ID_RE.match(fid):
            problems.add(
                fields["id"],
                join(path, "id"),
                f"fault id {fid!r} must be 1-64 letters, digits, '_', '.' or '-'",
            )
        result["id"] = fid
    if "match" in fields:
        result["match"] = _match(fields["match"], join(path, "match"), problems, users)

    actions = [key for key in TERMINAL_ACTIONS if key in fields]
    if len(actions) > 1:
        problems.add(
            fields[actions[1]],
            join(path, actions[1]),
            f"a fault has one action, got {' and '.join(actions)} "
            "(only `delay` combines with another action)",
        )
    if not actions and "delay" not in fields:
        problems.add(
            node,
            path,
            "a fault needs an action: respond, delay, rate_limit, drop, malformed, slow_body "
            "or venue",
        )
    if "delay" in fields:
        result["delay"] = _delay(fields["delay"], join(path, "delay"), problems)
    action: Any = None
    if "respond" in fields:
        action = _respond(fields["respond"], join(path, "respond"), problems)
    if "rate_limit" in fields:
        action = _rate_limit(fields["rate_limit"], join(path, "rate_limit"), problems)
    for flag in ("drop", "malformed"):
        if flag in fields:
            on = scalar(fields[flag], join(path, flag), bool, problems)
            if on is False:
                problems.add(
                    fields[flag], join(path, flag), f"`{flag}: false` does nothing; remove the key"
                )
            action = flag
    if "slow_body" in fields:
        action = _slow_body(fields["slow_body"], join(path, "slow_body"), problems)
    if "venue" in fields:
        outcome = enum(
            fields["venue"], join(path, "venue"), VENUE_OUTCOMES, problems, "venue outcome"
        )
        action = VenueOutcome(outcome) if outcome is not None else None

    if "times" in fields:
        result["times"] = _count(fields["times"], join(path, "times"), 1, problems)
    if "after" in fields:
        result["after"] = _count(fields["after"], join(path, "after"), 0, problems)
    if "probability" in fields:
        p = _number(fields["probability"], join(path, "probability"), problems)
        if p is not None and not 0 <= p <= 1:
            problems.add(fields["probability"], join(path, "probability"), "expected 0 to 1")
        result["probability"] = p
    if len(problems.issues) != before:
        return None
    return FaultSpec(action=action, **result)


def _number(node: yaml.Node, path: str, problems: Problems) -> float | None:
    number: float | None = scalar(node, path, (int, float), problems)
    if number is not None and not math.isfinite(number):
        problems.add(node, path, f"expected a finite number, got {number!r}")
        return None
    return number


def _count(node: yaml.Node, path: str, minimum: int, problems: Problems) -> int | None:
    number: int | None = scalar(node, path, int, problems)
    if number is not None and number < minimum:
        problems.add(node, path, f"expected an integer >= {minimum}, got {number}")
        return None
    return number


def _seconds(node: yaml.Node, path: str, problems: Problems) -> float | None:
    seconds = _number(node, path, problems)
    if seconds is not None and not 0 <= seconds <= MAX_DELAY_SECONDS:
        problems.add(node, path, f"expected 0 to {MAX_DELAY_SECONDS:g} seconds, got {seconds!r}")
        return None
    return seconds


def _one_or_list(node: yaml.Node, path: str, problems: Problems) -> list[tuple[str, yaml.Node]]:
    """A string, or a non-empty list of strings (`method: GET` or `method: [GET, POST]`)."""
    if isinstance(node, yaml.SequenceNode):
        if not node.value:
            problems.add(node, path, "expected at least one value")
        result = []
        for index, item in enumerate(node.value):
            text = scalar(item, join(path, index), str, problems)
            if text is not None:
                result.append((text, item))
        return result
    text = scalar(node, path, str, problems)
    return [(text, node)] if text is not None else []


def _free_mapping(node: yaml.Node, path: str, problems: Problems) -> dict[str, yaml.Node]:
    """A mapping whose keys are the user's (query parameters, header names)."""
    if not isinstance(node, yaml.MappingNode):
        problems.add(node, path, f"expected a mapping, got {describe(node)}")
        return {}
    result: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or not key:
            problems.add(key_node, path, "keys must be non-empty strings")
        elif key in result:
            problems.add(key_node, join(path, key), "key given twice")
        else:
            result[key] = value_node
    return result


def _match(
    node: yaml.Node, path: str, problems: Problems, users: Sequence[User] | None = None
) -> Match:
    fields = mapping(node, path, MATCH_KEYS, problems) or {}
    result: dict[str, Any] = {}
    if "method" in fields:
        methods = []
        for text, item in _one_or_list(fields["method"], join(path, "method"), problems):
            upper = text.upper()
            if upper not in METHODS:
                problems.add(
                    item, join(path, "method"), f"unknown method {text!r}{suggest(upper, METHODS)}"
                )
            methods.append(upper)
        result["methods"] = tuple(methods)
    if "path" in fields:
        route = scalar(fields["path"], join(path, "path"), str, problems)
        # A WebSocket RPC is matched by its method name, as an HTTP call by its path.
        if route is not None and not route.startswith(("/", "*", "command.", "query.")):
            problems.add(
                fields["path"],
                join(path, "path"),
                f"expected a path starting with '/' (exact, or a glob like "
                f"/api/v3/credential/*) or a WebSocket RPC method (query.credential.list, "
                f"command.credential.*), got {route!r}",
            )
        result["path"] = route
    if "query" in fields:
        query: dict[str, str] = {}
        for key, raw in _free_mapping(fields["query"], join(path, "query"), problems).items():
            got = value(raw) if isinstance(raw, yaml.ScalarNode) else None
            if isinstance(got, bool) or not isinstance(got, str | int | float):
                problems.add(
                    raw, join(join(path, "query"), key), f"expected a string, got {describe(raw)}"
                )
                continue
            query[key] = str(got)
        result["query"] = tuple(query.items())
    for key in ("user", "token"):
        if key in fields:
            text = scalar(fields[key], join(path, key), str, problems)
            if text is not None and not text:
                problems.add(fields[key], join(path, key), "cannot be empty")
            elif text is not None and key == "user" and users is not None:
                problem = unknown_user(text, users)
                if problem is not None:
                    problems.add(fields[key], join(path, key), problem)
            result[key] = text
    if "header" in fields:
        names = []
        for text, item in _one_or_list(fields["header"], join(path, "header"), problems):
            if not _HEADER_RE.match(text):
                problems.add(item, join(path, "header"), f"not a header name: {text!r}")
            names.append(text)
        result["headers"] = tuple(names)
    return Match(**result)


def _fields_with(
    node: yaml.Node, path: str, keys: tuple[str, ...], needed: str, why: str, problems: Problems
) -> dict[str, yaml.Node] | None:
    """A mapping of `keys` that must hold `needed` (else `why` is the problem)."""
    fields = mapping(node, path, keys, problems)
    if fields is not None and needed not in fields:
        problems.add(node, path, why)
        return None
    return fields


def _respond(node: yaml.Node, path: str, problems: Problems) -> Respond | None:
    fields = _fields_with(
        node, path, RESPOND_KEYS, "status", "needs a status (400 to 599)", problems
    )
    if fields is None:
        return None
    status = scalar(fields["status"], join(path, "status"), int, problems)
    if status is None:
        return None
    if not 400 <= status <= 599:
        problems.add(
            fields["status"],
            join(path, "status"),
            f"expected an error status 400 to 599, got {status} "
            "(the error envelope is only sent with an error status)",
        )
        return None
    errno, message, code = default_error(status)
    if "errno" in fields:
        errno = scalar(fields["errno"], join(path, "errno"), int, problems)
        if errno == 0:
            problems.add(fields["errno"], join(path, "errno"), "errno 0 means success")
        row = e.kind_of(status, errno) if errno is not None else None
        if row is not None:  # a catalogue error named by its errno: its message and code
            message, code = row.message, row.code
    if "error" in fields:
        message = scalar(fields["error"], join(path, "error"), str, problems)
    if "code" in fields:
        code = scalar(fields["code"], join(path, "code"), str, problems)
    # Clients honour Retry-After on a 429; the real service sends it (cadenza-api.md).
    headers: dict[str, str] | None = {"Retry-After": "1"} if status == 429 else None
    if "headers" in fields:
        given: dict[str, str] = {}
        hpath = join(path, "headers")
        for key, raw in _free_mapping(fields["headers"], hpath, problems).items():
            got = value(raw) if isinstance(raw, yaml.ScalarNode) else None
            if not _HEADER_RE.match(key):
                problems.add(raw, join(hpath, key), f"not a header name: {key!r}")
            elif key.lower() in _FRAMING_HEADERS:
                problems.add(
                    raw,
                    join(hpath, key),
                    f"{key} is set by the server itself (the body is the Cadenza envelope); "
                    "use `malformed` or `slow_body` to break the body",
                )
            elif isinstance(got, bool) or not isinstance(got, str | int | float):
                problems.add(raw, join(hpath, key), f"expected a string, got {describe(raw)}")
            else:
                given[key] = str(got)
        headers = {**(headers or {}), **given}
    return Respond(
        status, errno, message, code, tuple(headers.items()) if headers is not None else None
    )


# Headers that describe the body or the connection: a fault setting them would make the
# answer unparseable in ways no real server produces.
_FRAMING_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding", "connection"})


def _delay(node: yaml.Node, path: str, problems: Problems) -> float | DelayRange | None:
    if isinstance(node, yaml.MappingNode):
        fields = mapping(node, path, DELAY_KEYS, problems) or {}
        if set(fields) != set(DELAY_KEYS):
            problems.add(node, path, "a delay range needs both min and max (seconds)")
            return None
        low = _seconds(fields["min"], join(path, "min"), problems)
        high = _seconds(fields["max"], join(path, "max"), problems)
        if low is not None and high is not None and low > high:
            problems.add(fields["max"], join(path, "max"), f"max {high!r} is below min {low!r}")
        return DelayRange(low, high) if low is not None and high is not None else None
    if not isinstance(node, yaml.ScalarNode):
        problems.add(node, path, f"expected seconds or {{min, max}}, got {describe(node)}")
        return None
    return _seconds(node, path, problems)


def _rate_limit(node: yaml.Node, path: str, problems: Problems) -> RateLimit | None:
    if isinstance(node, yaml.ScalarNode):
        word = value(node)
        if word != "always":
            problems.add(
                node,
                path,
                f"expected `always` or {{requests, window, retry_after}}, got {describe(node)}",
            )
            return None
        return RateLimit()
    fields = mapping(node, path, RATE_LIMIT_KEYS, problems)
    if fields is None:
        return None
    result: dict[str, Any] = {}
    if ("requests" in fields) != ("window" in fields):
        problems.add(
            node,
            path,
            "a token bucket needs both requests and window (N requests per window seconds); "
            "leave both out to limit every request",
        )
    if "requests" in fields:
        result["requests"] = _count(fields["requests"], join(path, "requests"), 1, problems)
    if "window" in fields:
        window = _number(fields["window"], join(path, "window"), problems)
        if window is not None and window <= 0:
            problems.add(fields["window"], join(path, "window"), "expected seconds > 0")
        result["window"] = window
    if "retry_after" in fields:
        result["retry_after"] = _count(
            fields["retry_after"], join(path, "retry_after"), 0, problems
        )
    return RateLimit(**result)


def _slow_body(node: yaml.Node, path: str, problems: Problems) -> SlowBody | None:
    why = "needs chunk_delay (seconds between chunks)"
    fields = _fields_with(node, path, SLOW_BODY_KEYS, "chunk_delay", why, problems)
    if fields is None:
        return None
    pause = _seconds(fields["chunk_delay"], join(path, "chunk_delay"), problems)
    chunks = DEFAULT_SLOW_CHUNKS
    if "chunks" in fields:
        chunks = _count(fields["chunks"], join(path, "chunks"), 2, problems) or chunks
    return SlowBody(pause, chunks) if pause is not None else None


# --------------------------------------------------------------------------- other sources


def parse_fault_text(text: str, name: str = "<request body>") -> FaultSpec:
    """A fault written as JSON or YAML text (the admin API's body); problems cite `name`."""
    node = compose(text, name, "JSON/YAML")
    if node is None:
        raise ScenarioError([ScenarioIssue(name, 1, 1, "empty body; send one fault")])
    if isinstance(node, yaml.SequenceNode):
        raise ScenarioError(
            [ScenarioIssue(name, 1, 1, "send one fault (a mapping) per request, not a list")]
        )
    problems = Problems()
    fault = parse_fault(node, "", problems)
    if problems.issues or fault is None:
        raise ScenarioError(problems.issues)
    return fault


def parse_fault_dict(spec: Mapping[str, Any], name: str = "fault") -> FaultSpec:
    """A fault given as a Python dict (`MockServer.add_fault`); problems name the key path."""
    if not isinstance(spec, Mapping):
        raise TypeError(f"a fault is a mapping like {{'respond': {{'status': 500}}}}, got {spec!r}")
    problems = Problems(name)
    fault = parse_fault(from_data(dict(spec), name), "", problems)
    if problems.issues or fault is None:
        raise ScenarioError(problems.issues)
    return fault


# --------------------------------------------------------------------------- shorthands


def _match_of(path: str | None, method: str | None) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if path is not None:
        match["path"] = path
    if method is not None:
        match["method"] = method
    return match


def fail_spec(
    status: int = 500,
    errno: int | None = None,
    error: str | None = None,
    *,
    path: str | None = None,
    method: str | None = None,
    times: int | None = 1,
) -> dict[str, Any]:
    """The fault behind `fail_next()`: an error envelope for the next `times` matching calls
    (None: every call). errno and error default from the catalogue for `status`."""
    respond: dict[str, Any] = {"status": status}
    if errno is not None:
        respond["errno"] = errno
    if error is not None:
        respond["error"] = error
    spec: dict[str, Any] = {"respond": respond}
    if match := _match_of(path, method):
        spec["match"] = match
    if times is not None:
        spec["times"] = times
    return spec


def delay_spec(
    seconds: float | tuple[float, float],
    *,
    path: str | None = None,
    method: str | None = None,
    times: int | None = 1,
) -> dict[str, Any]:
    """The fault behind `delay_next()`: hold the next `times` matching calls back, then
    answer normally; a (min, max) pair draws each delay from the seeded generator."""
    delay: Any = seconds
    if isinstance(seconds, tuple):
        delay = {"min": seconds[0], "max": seconds[1]}
    spec: dict[str, Any] = {"delay": delay}
    if match := _match_of(path, method):
        spec["match"] = match
    if times is not None:
        spec["times"] = times
    return spec


def drop_spec(
    *,
    path: str | None = None,
    method: str | None = None,
    times: int | None = 1,
) -> dict[str, Any]:
    """The fault behind `drop_next()`: close the connection of the next `times` matching
    calls without an answer (the client sees a reset), as `drop: true` in a scenario."""
    spec: dict[str, Any] = {"drop": True}
    if match := _match_of(path, method):
        spec["match"] = match
    if times is not None:
        spec["times"] = times
    return spec


def rate_limit_spec(
    retry_after: int | None = None,
    *,
    path: str | None = None,
    method: str | None = None,
    times: int | None = 1,
) -> dict[str, Any]:
    """The fault behind `rate_limit_next()`: the catalogue's 429 with `Retry-After` for the
    next `times` matching calls; `retry_after` seconds fixes the header (default 1)."""
    limit: Any = "always" if retry_after is None else {"retry_after": retry_after}
    spec: dict[str, Any] = {"rate_limit": limit}
    if match := _match_of(path, method):
        spec["match"] = match
    if times is not None:
        spec["times"] = times
    return spec

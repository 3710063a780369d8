"""The `faults:` vocabulary: validated here, evaluated by `cadenza_mock.engine.faults`.

A fault is data: an optional `match`, one action (a key of the registry in
`scenario/fault_actions/`: respond, rate_limit, drop, ...; optionally preceded by a
`delay`, or a `delay` alone) and an optional schedule (`times`, `after`, `probability`).
Each action parses its own key; this module reads the rest and refuses an action on a
transport where it means nothing (`slow_body` on a WebSocket RPC). The same parser reads
an entry of a scenario file, the body of `POST /__admin/faults` (JSON or YAML) and a dict handed to
`MockServer.add_fault()`, so the three are written exactly alike and fail alike.

`parse_fault` returns a typed `FaultSpec` (defaults filled in) whose `to_json()` is the
normalized form in the same vocabulary, so `GET /__admin/faults` shows what will happen
and what it shows can be posted back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from cadenza_mock.contract import errors as e
from cadenza_mock.contract.bounds import METHODS as METHODS
from cadenza_mock.contract.errors import ScenarioError, ScenarioIssue
from cadenza_mock.contract.model import User
from cadenza_mock.scenario.fault_actions import (
    ACTIONS,
    TRANSPORT_NAMES,
    TRANSPORTS,
    FaultAction,
    named_transports,
)
from cadenza_mock.scenario.fault_actions.base import count, number, seconds
from cadenza_mock.scenario.fault_actions.respond import HEADER_RE, free_mapping
from cadenza_mock.scenario.fault_spec import DelayRange, FaultSpec, Match
from cadenza_mock.scenario.nodes import (
    Problems,
    compose,
    describe,
    from_data,
    join,
    mapping,
    scalar,
    suggest,
    value,
)

# Actions that decide the answer (the registry's keys); `delay` only holds the request
# back before one of them, or alone.
TERMINAL_ACTIONS = ACTIONS.keys
FAULT_KEYS = ("id", "match", TERMINAL_ACTIONS[0], "delay", *TERMINAL_ACTIONS[1:])
FAULT_KEYS += ("times", "after", "probability")
MATCH_KEYS = ("method", "path", "query", "user", "token", "header")
DELAY_KEYS = ("min", "max")

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEADER_RE = HEADER_RE


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
        first, *rest = TERMINAL_ACTIONS
        listed = ", ".join([first, "delay", *rest[:-1]])
        problems.add(node, path, f"a fault needs an action: {listed} or {rest[-1]}")
    if "delay" in fields:
        result["delay"] = _delay(fields["delay"], join(path, "delay"), problems)
    action: FaultAction | None = None
    for key in actions:
        action = ACTIONS[key].parse(fields[key], join(path, key), problems)
    if action is not None and len(problems.issues) == before:
        _refuse_where_meaningless(action, result.get("match"), fields, path, problems)

    if "times" in fields:
        result["times"] = count(fields["times"], join(path, "times"), 1, problems)
    if "after" in fields:
        result["after"] = count(fields["after"], join(path, "after"), 0, problems)
    if "probability" in fields:
        p = number(fields["probability"], join(path, "probability"), problems)
        if p is not None and not 0 <= p <= 1:
            problems.add(fields["probability"], join(path, "probability"), "expected 0 to 1")
        result["probability"] = p
    if len(problems.issues) != before:
        return None
    return FaultSpec(action=action, **result)


def _refuse_where_meaningless(
    action: FaultAction,
    match: Match | None,
    fields: dict[str, yaml.Node],
    path: str,
    problems: Problems,
) -> None:
    """An action whose `match` names only calls of transports it means nothing on (a
    `slow_body` of an RPC) would be silently ignored: refused here, saying why."""
    match = match or Match()
    named = named_transports(match.methods, match.path)
    if named & action.supported():
        return
    why = " or ".join(
        f"on {TRANSPORT_NAMES[t]} ({action.refusals.get(t, 'nothing to act on')})"
        for t in TRANSPORTS
        if t in named
    )
    problems.add(fields[action.key], join(path, action.key), f"has no meaning {why}")


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
        for key, raw in free_mapping(fields["query"], join(path, "query"), problems).items():
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


def _delay(node: yaml.Node, path: str, problems: Problems) -> float | DelayRange | None:
    if isinstance(node, yaml.MappingNode):
        fields = mapping(node, path, DELAY_KEYS, problems) or {}
        if set(fields) != set(DELAY_KEYS):
            problems.add(node, path, "a delay range needs both min and max (seconds)")
            return None
        low = seconds(fields["min"], join(path, "min"), problems)
        high = seconds(fields["max"], join(path, "max"), problems)
        if low is not None and high is not None and low > high:
            problems.add(fields["max"], join(path, "max"), f"max {high!r} is below min {low!r}")
        return DelayRange(low, high) if low is not None and high is not None else None
    if not isinstance(node, yaml.ScalarNode):
        problems.add(node, path, f"expected seconds or {{min, max}}, got {describe(node)}")
        return None
    return seconds(node, path, problems)


# --------------------------------------------------------------------------- the docs

# `delay` is no action of the registry (it combines with one), but has its row in the table.
DELAY_ROW = (
    "`delay: 0.5` or `delay: {min: 0.1, max: 0.3}`",
    "hold the request back (seconds, at most 600; a range draws from the seeded generator), "
    "then answer normally, or perform the fault's other action",
    "a slow answer, or a client timeout (`asyncio.TimeoutError` in aiohttp, "
    "`requests.exceptions.ReadTimeout`, `httpx.ReadTimeout`)",
    "holds the reply back (until the client closes, the mock is reset or the server stops: "
    "then no reply is sent and the connection closes); on the upgrade, holds it back",
)


def actions_table() -> str:
    """The README's Actions table, from the registry (tests/test_fault_actions.py checks
    that the README shows exactly this)."""
    rows = [(a.usage, a.effect, a.client_sees, a.on_rpc) for a in ACTIONS]
    rows.insert(1, DELAY_ROW)
    lines = ["| key | effect | what a client sees | on a WebSocket RPC |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


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


def malformed_spec(
    *,
    path: str | None = None,
    method: str | None = None,
    times: int | None = 1,
) -> dict[str, Any]:
    """The fault behind `malformed_next()`: the real answer of the next `times` matching
    calls with its body cut in half, as `malformed: true` in a scenario."""
    spec: dict[str, Any] = {"malformed": True}
    if match := _match_of(path, method):
        spec["match"] = match
    if times is not None:
        spec["times"] = times
    return spec

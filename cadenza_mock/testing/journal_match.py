"""Selecting journal entries and saying what they were: the filters of `calls()` and the
assertions of `MockHandle`, strict mode's "unknown request", the failure summaries."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlencode

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.contract.model import User
from cadenza_mock.engine.faults import Fault, RequestView
from cadenza_mock.engine.journal import JournalEntry, redact_body, redact_query_values
from cadenza_mock.scenario.faults import METHODS, parse_fault_dict
from cadenza_mock.scenario.nodes import close_match

QueryLike = Mapping[str, str | int | float]
# What a journal entry's method can be: HTTP's, or RPC for a WebSocket call.
# A WebSocket RPC is journaled as method RPC (the RPC method as path), a channel subscribe
# as SUBSCRIBE (the channel as path).
WS_METHODS = ("RPC", "SUBSCRIBE")
JOURNAL_METHODS = (*METHODS, *WS_METHODS)
# How many requests an assertion message lists (the newest; the count of the others).
SUMMARY_LIMIT = 20


class CallFilter:
    """What `calls()` and the assertions select: method, path, query parameters (by the
    faults' own matcher, so `match.path` globs mean the same here) and a JSON body subset.

    Bad filters raise ValueError or TypeError naming the argument, as a bad fault does.
    """

    def __init__(
        self,
        caller: str,
        path: str | None = None,
        *,
        method: str | None = None,
        query: QueryLike | None = None,
        json: Any = None,
    ) -> None:
        if method is not None and not isinstance(method, str):
            raise TypeError(f"{caller}: method must be a string like 'GET', got {method!r}")
        if query is not None and not isinstance(query, Mapping):
            raise TypeError(f"{caller}: query must be a dict like {{'limit': '1'}}, got {query!r}")
        self.path = path
        self.method = method.upper() if method is not None else None
        if self.method is not None and self.method not in JOURNAL_METHODS:
            close = close_match(self.method, JOURNAL_METHODS)
            hint = f"; did you mean {close!r}?" if close else ""
            raise ValueError(
                f"{caller}: unknown method {method!r} (allowed: {', '.join(JOURNAL_METHODS)}){hint}"
            )
        self.query = {str(k): str(v) for k, v in query.items()} if query is not None else None
        self.json = json
        # A WebSocket command is journaled as RPC or SUBSCRIBE, which no HTTP fault names.
        self._rpc = self.method in WS_METHODS
        # A channel (a subscribe's path) is matched here, by glob: faults never match one.
        self._channel = path if self.method == "SUBSCRIBE" else None
        match: dict[str, Any] = {}
        if path is not None and self._channel is None:
            match["path"] = path
        if self.method is not None and not self._rpc:
            match["method"] = self.method
        if query is not None:
            match["query"] = dict(query)
        try:
            spec = parse_fault_dict({"match": match, "drop": True}, caller)
        except ScenarioError as exc:
            problem = str(exc).replace(f"{caller}: match.", f"{caller}: ")
            raise ValueError(problem) from None
        self._matcher = Fault(caller, spec, "journal", 0, 0)

    def matches(self, entry: JournalEntry) -> bool:
        if self._rpc and entry.method != self.method:
            return False
        if self._channel is not None and not fnmatchcase(entry.path, self._channel):
            return False
        view = RequestView(entry.method, entry.path, entry.query, entry.headers)
        if not self._matcher.matches(view, _nobody):
            return False
        return self.json is None or json_contains(entry.body, self.json)

    def describe(self) -> str:
        """`GET /path?limit=1 json {...}`: the filters, secrets redacted like the journal."""
        words = [self.method] if self.method else []
        path = self.path or "any path"
        if self.query:
            path += "?" + urlencode(redact_query_values(self.query), safe="<>*/")
        words.append(path)
        if self.json is not None:
            words.append(f"with JSON {redact_body(self.json)!r}")
        return " ".join(words)


def _nobody() -> User | None:
    return None  # journal filters never match on the user


def json_contains(actual: Any, wanted: Any) -> bool:
    """Whether `wanted` is in `actual`: dicts as subsets at any depth, lists item by item,
    other values equal (a JSON true is not a 1)."""
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and json_contains(actual[key], value) for key, value in wanted.items()
        )
    if isinstance(wanted, list | tuple):
        return (
            isinstance(actual, list)
            and len(actual) == len(wanted)
            and all(json_contains(a, w) for a, w in zip(actual, wanted, strict=True))
        )
    if isinstance(actual, bool) != isinstance(wanted, bool):
        return False
    return bool(actual == wanted)


def _known_route(method: str, path: str) -> bool:
    """Whether the emulated API has this operation (RPC: this WebSocket method)."""
    if method == "SUBSCRIBE":
        from cadenza_mock.engine.subscriptions import CHANNEL_PREFIX

        return path.startswith((CHANNEL_PREFIX, "market:"))  # a 404 there: nothing by that id
    if method == "RPC":
        from cadenza_mock.http.rpc import METHODS

        return path in METHODS
    from cadenza_mock.contract.operations import OPERATIONS

    wanted = "GET" if method == "HEAD" else method
    return any(op.method == wanted and op.path == path for op in OPERATIONS)


def _unknown(entry: JournalEntry) -> bool:
    if entry.hints:
        return True
    if entry.status not in (404, 405):
        return False
    if entry.fault is not None and (":respond" in entry.fault or ":stub" in entry.fault):
        return False  # the test armed that answer itself
    return entry.status == 405 or not _known_route(entry.method, entry.path)


def _describe_unknown(entry: JournalEntry) -> str:
    """`GET /path?a=1 -> 404 (unknown route)`, then one indented `hint:` line per hint."""
    line = f"{_request_line(entry)} -> {entry.status}"
    if entry.status == 405:
        line += " (wrong method)"
    elif entry.status == 404 and not _known_route(entry.method, entry.path):
        line += " (unknown route)"
    return "\n".join([line, *(f"    hint: {hint}" for hint in entry.hints)])


def _request_line(entry: JournalEntry) -> str:
    """`GET /path?a=1`: the journal's (already redacted) query."""
    if not entry.query:
        return f"{entry.method} {entry.path}"
    return f"{entry.method} {entry.path}?{urlencode(entry.query, doseq=True, safe='<>*/')}"


def summarize(entries: list[JournalEntry], *, bodies: bool = False) -> str:
    """`GET /path?a=1 -> 200, ...`, the newest SUMMARY_LIMIT: enough to see what happened,
    never a header; the (redacted) JSON body only when the assertion was about bodies."""
    if not entries:
        return "none"
    shown = entries[-SUMMARY_LIMIT:]
    parts = []
    for entry in shown:
        part = f"{_request_line(entry)} -> {entry.status}"
        if bodies and entry.body is not None:
            part += f" JSON {entry.body!r}"
        parts.append(part)
    earlier = len(entries) - len(shown)
    return ("" if not earlier else f"({earlier} earlier not shown) ") + ", ".join(parts)

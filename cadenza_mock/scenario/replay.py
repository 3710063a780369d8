"""`replay:`: recorded WebSocket RPC exchanges (`cadenza-mock record` writes them) that
`serve` answers from before the engine: a `query.*` call of that user with those params
(its secrets redacted by the caller, as they were written) gets the recorded result or error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from cadenza_mock.contract.model import User
from cadenza_mock.contract.wire import dumps_text
from cadenza_mock.scenario.nodes import Problems, items, join, mapping, scalar, value

EXCHANGE_KEYS = ("user", "method", "params", "result", "error")
# (user id, method, params as canonical JSON) -> the RPC reply's `data` (or reply-level
# `error`) as JSON text, marked by its first element: "rpc" or "error".
ReplayKey = tuple[str, str, str]
Replay = Mapping[ReplayKey, tuple[str, str]]


def replay_key(user_id: str, method: str, params: Any) -> ReplayKey:
    """How a call is looked up: by its params as the file gives them (a served call's
    redacted first, as the recording wrote them: the caller does that)."""
    return (user_id, method, json.dumps(params or {}, sort_keys=True))


def read_replay(node: yaml.Node, users: list[User], problems: Problems) -> Replay:
    found: dict[ReplayKey, tuple[str, str]] = {}
    by_email = {user.email.lower(): user for user in users}
    for index, entry in items(node, "replay", problems):
        path = join("replay", index)
        fields = mapping(entry, path, EXCHANGE_KEYS, problems)
        if fields is None:
            continue
        missing = [name for name in ("user", "method") if name not in fields]
        if missing or ("result" in fields) == ("error" in fields):
            problems.add(entry, path, "an exchange gives user, method, and result or error")
            continue
        email = scalar(fields["user"], join(path, "user"), str, problems)
        method = scalar(fields["method"], join(path, "method"), str, problems)
        if email is None or method is None:
            continue
        user = by_email.get(email.lower())
        if user is None:
            problems.add(fields["user"], join(path, "user"), f"no user {email!r} in this scenario")
            continue
        params = value(fields["params"]) if "params" in fields else {}
        if "error" in fields:
            answer = ("error", dumps_text(value(fields["error"])))
        else:
            answer = ("rpc", dumps_text(value(fields["result"])))
        found[replay_key(user.user_id, method, params)] = answer
    return found

"""Near-miss hints: what a request most likely meant, when it used names or values the
active wire profile does not know.

The real API ignores unknown query parameters and body fields, so the mock answers as it
does; but a tester whose client speaks the other profile (`credentialStatus` under docs),
misspells a name (`limt`) or sends another profile's value (`CREATED` under docs) would
otherwise learn nothing. Each such name gets one short hint; the HTTP layer puts them in
the journal, the access log and the `X-Cadenza-Mock-Hint` header, and strict mode fails a
test on any of them.

What an operation knows comes from the single sources: its row in the route table
(operations.py; its query `params`, which the parsers read, and the names it `ignored`),
the request schemas (schemas.py) and the profile enums (model.py). Hints never echo a
value that is not a short, enum-like value of an enum field, so no secret can reach one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from cadenza_mock.contract.model import PROFILE_NAMES, PROFILES
from cadenza_mock.contract.operations import ADMIN_PREFIX, OPERATIONS, Operation
from cadenza_mock.contract.schemas import component_schema
from cadenza_mock.engine.journal import is_secret_name
from cadenza_mock.engine.query import Domain, query_parameters
from cadenza_mock.scenario.nodes import close_match

# Where the HTTP transport sends them; proxies and clients take 8 KiB header lines, and a
# hint header stays well below that.
HINT_HEADER = "X-Cadenza-Mock-Hint"
MAX_HINT_HEADER = 1024

# At most this many hints per request; the rest are counted in a last one.
MAX_HINTS = 20
# Names longer than this are shown cut, and never compared for near spellings.
_SHOWN = 40
_CUTOFF = 0.75  # difflib ratio of a near spelling: 'limt'/'limit' 0.89, 'typ'/'type' 0.86
# What a value must look like to be echoed: a short enum-like word, never free text.
_ENUM_LIKE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_QUERY = "query parameter"
_BODY = "body field"
_RPC = "RPC param"
_NOTHING = {_BODY: "body", _RPC: "params"}

Vocabulary = Mapping[str, Domain]


@cache
def _routes() -> dict[tuple[str, str], Operation]:
    """The emulated API's operations by (method, path); the admin API gets no hints, nor
    do the operations not emulated (their vocabulary is not declared)."""
    return {
        (op.method, op.path): op
        for op in OPERATIONS
        if op.emulated and not op.path.startswith(ADMIN_PREFIX)
    }


@cache
def _query_vocabulary(op: Operation, profile: str) -> Vocabulary:
    return query_parameters(op.operation_id, profile, PROFILES[profile])


@cache
def _body_vocabulary(op: Operation, profile: str) -> Vocabulary:
    if op.body is None:
        return {}
    return _enums(component_schema(profile, op.body).get("properties", {}))


Group = tuple[str, Vocabulary, Vocabulary, Mapping[Any, Any]]


def hints(
    profile: str, method: str, path: str, query: Iterable[tuple[str, str]], body: Any
) -> tuple[str, ...]:
    """Hints for one request to `method path` in `profile` with these query pairs and this
    (parsed) JSON body; () for a request the profile fully knows, or no known operation."""
    known = _known(("GET" if method == "HEAD" else method), path, profile)
    if known is None:
        return ()
    op, other, query_here, query_there, body_here, body_there = known
    pairs = tuple(query)
    fields = _fields(body)
    shape = _shape(fields, body_here)
    key = None if shape is None else (profile, method, path, pairs, shape)
    found = _remembered.get(key) if key is not None else None
    if found is not None:
        return found
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    groups: list[Group] = [
        (_QUERY, query_here, query_there, values),
        (_BODY, body_here, body_there, fields),
    ]
    found = _collect(groups, op.where, profile, other, op.ignored)
    if key is not None:
        if len(_remembered) >= _REMEMBERED_LIMIT:
            _remembered.clear()
        _remembered[key] = found
    return found


# Hints by what decides them: the query, the body's field names in order and the values of
# its enum fields (no other value reaches a hint). A client repeating a call with other
# quantities, ids or prices costs a lookup, not a walk of the vocabularies.
_remembered: dict[tuple[Any, ...], tuple[str, ...]] = {}
_REMEMBERED_LIMIT = 4096
_SCALARS = (str, int, float, bool, type(None))


def _shape(fields: Mapping[Any, Any], here: Vocabulary) -> tuple[Any, ...] | None:
    """What of a body decides its hints; None: too big or odd to remember."""
    if len(fields) > 64:
        return None
    shape: list[Any] = []
    for name, value in fields.items():
        if not isinstance(name, str):
            return None
        if here.get(name):  # an enum field: its value may earn a hint
            if not isinstance(value, _SCALARS):
                return None
            shape.append((name, type(value), value))
        else:
            shape.append(name)
    return tuple(shape)


class _Known:
    """What one operation knows under one profile and the other; built once, because
    hashing an Operation (a caching key) walks all of its fields on every request."""

    __slots__ = ("ignored", "where")

    def __init__(self, op: Operation) -> None:
        self.where = f"{op.method} {op.path}"
        self.ignored = op.ignored


_known_by_route: dict[
    tuple[str, str, str], tuple[_Known, str, Vocabulary, Vocabulary, Vocabulary, Vocabulary] | None
] = {}


def _known(
    method: str, path: str, profile: str
) -> tuple[_Known, str, Vocabulary, Vocabulary, Vocabulary, Vocabulary] | None:
    key = (method, path, profile)
    if key in _known_by_route:
        return _known_by_route[key]
    op = _routes().get((method, path))
    found = None
    if op is not None and profile in PROFILES:
        other = next(p for p in PROFILE_NAMES if p != profile)
        found = (
            _Known(op),
            other,
            _query_vocabulary(op, profile),
            _query_vocabulary(op, other),
            _body_vocabulary(op, profile),
            _body_vocabulary(op, other),
        )
    if len(_known_by_route) < 4096:  # only known routes and profiles are worth keeping
        _known_by_route[key] = found
    return found


def rpc_hints(method: str, params_schema: Mapping[str, Any], data: Any) -> tuple[str, ...]:
    """Hints for one WebSocket RPC's `data` against its params schema (rpc.py): near
    spellings, miscased enum values and unknown params. The WebSocket API has one
    vocabulary, so there is no other profile to point at."""
    fields = _fields(data)
    if not fields:
        return ()
    here = _enums(params_schema.get("properties", {}))
    return _collect([(_RPC, here, {}, fields)], f"RPC {method}", "", "")


def channel_hints(channel: str, fed: bool) -> tuple[str, ...]:
    """A WebSocket subscribe to a channel nothing feeds yet: the channels page's
    server-side subscription comes first (engine.subscriptions and
    engine.market_subscriptions say which are fed). Only asked for a channel that names
    one of the caller's accounts, or an instrument the market has: shown whole."""
    if fed:
        return ()
    if channel.startswith("market:"):  # an order book channel (engine.market_feed)
        return (
            f"channel {channel!a} carries nothing until its instrument has an active order "
            "book subscription: call POST /api/v3/market/subscription/orderBook/subscribe or "
            "RPC command.market.subscription.orderbook.subscribe first",
        )
    return (
        f"channel {channel!a} carries nothing until its trading account has an active "
        "subscription: call POST /api/v3/tradingAccount/subscription/subscribe or RPC "
        "command.trading_account.subscribe first",
    )


def _fields(body: Any) -> Mapping[Any, Any]:
    return body if isinstance(body, dict) else {}


def _enums(properties: Mapping[str, Any]) -> Vocabulary:
    """{field: its enum values or None} of a JSON Schema's properties."""
    return {
        name: tuple(schema["enum"]) if isinstance(schema, dict) and "enum" in schema else None
        for name, schema in properties.items()
    }


def _collect(
    groups: list[Group],
    where: str,
    profile: str,
    other: str,
    ignored: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """At most one hint per name given, MAX_HINTS in all (the rest counted in one more).
    `ignored`: query parameters the operation is often given but ignores, with why."""
    found: list[str] = []
    left = 0  # unknown names past MAX_HINTS, counted only
    for kind, here, there, given in groups:
        for key, raw in given.items():
            name = str(key)
            if len(found) >= MAX_HINTS:
                left += name not in here
                continue
            if kind == _QUERY and ignored and name in ignored:
                found.append(f"{kind} {name!r} is ignored: {ignored[name]}")
                continue
            hint = _name_hint(kind, name, here, there, where, profile, other)
            if hint is None and here.get(name):
                hint = _values_hint(kind, name, raw, here, there, profile, other)
            if hint is not None:
                found.append(hint)
    if left:
        found.append(f"and {left} more unknown names (the journal entry has them all)")
    return tuple(found)


# ------------------------------------------------------------------------------- names


def _show(text: str) -> str:
    """A client's text as a hint shows it: quoted, ASCII, cut when long."""
    return ascii(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def _normalized(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _takes(kind: str, where: str, here: Vocabulary) -> str:
    if here:
        return f"{where} takes: {', '.join(here)}"
    return f"{where} takes {'no query parameters' if kind == _QUERY else 'no ' + _NOTHING[kind]}"


def _near(name: str, choices: Iterable[str]) -> str | None:
    """The choice `name` is a near spelling of (case-insensitive), if any."""
    if len(name) > _SHOWN:
        return None
    return close_match(name, choices, _CUTOFF)


def _counterpart(name: str, here: Vocabulary, there: Vocabulary) -> str | None:
    """What `here` calls the other profile's `name`: the name one ends with the other
    (`credentialStatus`/`status`, `nickname`/`name`), preferring names only `here` has."""
    low = name.lower()

    def related(candidate: str) -> bool:
        other = candidate.lower()
        return other != low and (other.endswith(low) or low.endswith(other))

    for pool in ([k for k in here if k not in there], list(here)):
        matches = [k for k in pool if related(k)]
        if matches:
            return matches[0]
    return None


def _name_hint(
    kind: str,
    name: str,
    here: Vocabulary,
    there: Vocabulary,
    where: str,
    profile: str,
    other: str,
) -> str | None:
    if name in here:
        return None
    shown = _show(name)
    if name in there:
        return _other_profile_name(kind, shown, name, here, there, where, profile, other)
    normalized = _normalized(name)
    for known in here:
        if _normalized(known) == normalized:  # case or separators only: 'Status', 'limit_'
            return f"{kind} {shown}: did you mean {known!r}?"
    for known in there:
        if _normalized(known) == normalized:
            return _other_profile_name(kind, shown, known, here, there, where, profile, other)
    near = _near(name, [*here, *there])
    if near is not None and near in here:
        return f"{kind} {shown}: did you mean {near!r}?"
    if near is not None:
        return _other_profile_name(kind, shown, near, here, there, where, profile, other)
    return f"unknown {kind} {shown} ({_takes(kind, where, here)})"


def _other_profile_name(
    kind: str,
    shown: str,
    known: str,
    here: Vocabulary,
    there: Vocabulary,
    where: str,
    profile: str,
    other: str,
) -> str:
    """The hint for a name of the other profile (`known`, as that profile spells it)."""
    if shown == repr(known):
        what = f"{kind} {shown} is the {other} profile's name"
    else:
        what = f"{kind} {shown} looks like the {other} profile's {known!r}"
    counterpart = _counterpart(known, here, there)
    if counterpart is not None:
        return f"{what}; the {profile} profile calls it {counterpart!r}"
    near = _near(known, here)
    if near is not None:
        return f"{what}; the {profile} profile does not take it; did you mean {near!r}?"
    return f"{what}; the {profile} profile does not take it ({_takes(kind, where, here)})"


# ------------------------------------------------------------------------------ values


def _article(profile: str) -> str:
    return "an" if profile == "sdk" else "a"  # "an es-dee-kay", "a docs"


def _values_hint(
    kind: str,
    name: str,
    raw: Any,
    here: Vocabulary,
    there: Vocabulary,
    profile: str,
    other: str,
) -> str | None:
    """One hint for the first value of an enum field this profile does not spell."""
    if is_secret_name(name):
        return None
    allowed = here.get(name) or ()
    counterpart = name if name in there else _counterpart(name, there, here)
    theirs = there.get(counterpart) if counterpart else None
    for value in raw if isinstance(raw, list) else [raw]:
        if not isinstance(value, str):
            continue
        text = value.strip() if kind == _QUERY else value  # as the query parsers read it
        if text in allowed or not _ENUM_LIKE.fullmatch(text):
            continue  # a value that is no enum word gets the answer's 400, not a hint
        switch = f"this server speaks {profile} (set profile: {other} or --profile {other})"
        if theirs and text in theirs:
            return f"{kind} {name!r}: {text!r} is {_article(other)} {other}-profile value; {switch}"
        # A domain both profiles share (`?profile=`, RPC params) is nobody's profile value.
        profiled = profile and theirs != allowed
        start = f"{kind} {name!r}: {text!r} is not " + (
            f"{_article(profile)} {profile}-profile value" if profiled else "an allowed value"
        )
        near = _near(text, allowed)
        if near is not None:
            return f"{start}; did you mean {near!r}?"
        near = _near(text, theirs or ())
        if near is not None:
            return f"{start}; {near!r} is {_article(other)} {other}-profile one; {switch}"
    return None

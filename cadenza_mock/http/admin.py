"""The admin API under /__admin/: health, reset, scenario, journal, clock, stored
credentials and trading accounts, faults, snapshots, namespaces.

It is how a container or a `--cadenza-url` test run is steered from outside; answers use
the same envelope as the emulated API so one client helper reads both.
"""

from __future__ import annotations

import asyncio
import hmac
import math
from collections.abc import Awaitable, Callable
from functools import partial, wraps
from pathlib import Path
from typing import Any

from aiohttp import web

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import (
    ACCOUNT_NOT_FOUND,
    ADMIN_DISABLED,
    CREDENTIAL_NOT_FOUND,
    FAULT_NOT_FOUND,
    INVALID_BODY,
    INVALID_FAULT,
    INVALID_SCENARIO,
    SNAPSHOT_NOT_FOUND,
    VALIDATION_FAILED,
    ApiError,
    ScenarioError,
    unauthorized,
)
from cadenza_mock.contract.schemas import load_json
from cadenza_mock.engine.accounts import account_sort_key
from cadenza_mock.engine.clock import LAST_MS, MAX_ADVANCE_SECONDS, instant_ms
from cadenza_mock.engine.journal import MAX_IDLE_WAIT
from cadenza_mock.engine.namespaces import Namespace
from cadenza_mock.engine.state import MockState, Prepared, ScenarioSource
from cadenza_mock.http.keys import (
    ADMIN_LOCKED,
    ADMIN_TOKEN,
    NAMESPACE_HEADER,
    NAMESPACES,
    REPLICA_ID,
    state_of,
    uptime,
)
from cadenza_mock.http.middleware import named_namespace, ok, read_body
from cadenza_mock.scenario import Scenario
from cadenza_mock.scenario.declared import built_records
from cadenza_mock.scenario.faults import parse_fault_text
from cadenza_mock.scenario.sources import bundled_dir
from cadenza_mock.version import __version__

AdminHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refuse_when_locked(request: web.Request) -> None:
    """403 when the admin API is off (beyond loopback without a token): the admin calls
    and the dashboard's page both answer it."""
    if request.app.get(ADMIN_LOCKED):
        raise ADMIN_DISABLED.error(
            "the admin API is off on a server listening beyond loopback without an "
            "admin token; start it with --admin-token (or --admin-open on a network "
            "you trust); in the container set CADENZA_MOCK_ADMIN_TOKEN (or "
            "CADENZA_MOCK_ADMIN_OPEN=1)"
        )


def admin(handler: AdminHandler) -> AdminHandler:
    """Require the admin token when the server was started with one."""

    @wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        refuse_when_locked(request)
        expected = request.app.get(ADMIN_TOKEN)
        if expected:
            given = request.headers.get("X-Admin-Token", "")
            # Header bytes that are not UTF-8 arrive as surrogate escapes: compare the bytes
            # the client sent, so any wrong token is the same 401.
            sent = given.encode("utf-8", "surrogateescape")
            if not hmac.compare_digest(sent, expected.encode("utf-8", "surrogateescape")):
                raise unauthorized(
                    "admin API needs the X-Admin-Token header set to the admin token"
                )
        # Only now: whether a namespace exists is the admin token holder's business.
        named_namespace(request)
        return await handler(request)

    return checked


async def _text(request: web.Request) -> str:
    """The body as UTF-8 text whatever charset the request claims; 400 if it is not."""
    try:
        return (await read_body(request, fenced=False)).decode("utf-8")
    except UnicodeDecodeError:
        raise INVALID_BODY.error("not UTF-8 text") from None


def scenario_summary(scenario: Scenario, state: MockState) -> dict[str, Any]:
    """What a client needs to drive a scenario: its users and their static tokens."""
    counts: dict[str, int] = {}
    for cred in state.store.all_credentials():
        counts[cred.user_id] = counts.get(cred.user_id, 0) + 1
    return {
        "name": scenario.name,
        "description": scenario.description,
        "source": scenario.source,
        "extends": list(scenario.extends),
        "profile": scenario.profile,
        "seed": scenario.seed,
        "now": scenario.now,
        "users": users_json(scenario, counts),
    }


def users_json(scenario: Scenario, counts: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """A scenario's users and their static tokens (with `counts`: their credentials)."""
    found = []
    for user in scenario.users:
        entry: dict[str, Any] = {
            "id": user.user_id,
            "email": user.email,
            "tokens": list(user.tokens),
            "expiredTokens": list(user.expired_tokens),
        }
        if counts is not None:
            entry["credentialCount"] = counts.get(user.user_id, 0)
        found.append(entry)
    return found


# Health stays open even with --admin-token: container and orchestrator probes call it
# without credentials, and it reveals nothing a client could misuse.
async def health(request: web.Request) -> web.Response:
    state = named_namespace(request) or state_of(request)
    return ok(
        _replica(
            request,
            {
                "status": "ok",
                "version": __version__,
                "scenario": state.scenario.name,
                "profile": state.scenario.profile,
                "uptimeSeconds": round(uptime(request.app), 3),
            },
        )
    )


def _replica(request: web.Request, answer: dict[str, Any]) -> dict[str, Any]:
    """`answer` with the server's `--replica-id`, if it has one: through a balancer in
    front of several servers, it says which one answered (and holds a namespace)."""
    replica = request.app.get(REPLICA_ID)
    if replica is not None:
        answer["replica"] = replica
    return answer


@admin
async def reset(request: web.Request) -> web.Response:
    state = state_of(request)
    state.reset()
    return ok({"scenario": state.scenario.name})


@admin
async def get_scenario(request: web.Request) -> web.Response:
    state = state_of(request)
    return ok(scenario_summary(state.scenario, state))


@admin
async def put_scenario(request: web.Request) -> web.Response:
    """Load a bundled name (`?name=` or JSON `{"name": ...}`), an inline JSON scenario
    (`{"scenario": {...}}`) or a YAML document body. A bad one leaves the old one serving.

    Names and paths (and `extends` in bodies) reach only bundled scenarios and the server's
    scenario folders. The scenario is built in a worker thread: a large one does not stop
    the server answering others meanwhile.
    """
    state = state_of(request)
    source, is_text = await _scenario_source(request)
    if source is None:
        raise INVALID_SCENARIO.error("empty body; send YAML, JSON or ?name=")
    return await _switch(request, state, source, text=is_text)


async def _switch(
    request: web.Request,
    state: MockState,
    source: ScenarioSource,
    *,
    text: bool = False,
    confined: bool = True,
) -> web.Response:
    """Build a scenario and its store in a worker thread and load it; a bad one is a 400
    and the old one keeps serving. A namespace's must fit the record budget (a 429 before
    anything is built when what it declares does not)."""
    spaces = request.app[NAMESPACES]
    room = spaces.records_left(replacing=state) if state.namespace is not None else None

    def prepare() -> Prepared:
        if room is None:
            return state.prepare(state.parse(source, confined=confined, text=text))
        parsed = spaces.parse_within(state, source, room, text=text, confined=confined)
        return state.prepare(parsed)  # a namespace's has its own tokens

    prepared = await _built(prepare, "scenario rejected, the previous one is still loaded")
    if room is not None:  # other namespaces may have grown meanwhile
        spaces.check_budget(built_records(prepared[0]), spaces.records_left(replacing=state))
    loaded = state.install(prepared)
    return ok(scenario_summary(loaded, state))


async def _scenario_source(request: web.Request) -> tuple[Any, bool]:
    """(source, is YAML text) of a scenario named by `?name=`, a JSON body or a YAML body;
    (None, False) for no scenario at all (an empty body)."""
    raw = await _text(request)
    name = request.query.get("name")
    if name is not None:
        return name, False
    if not raw:  # whatever its Content-Type says (curl -X POST -H 'Content-Type: ...')
        return None, False
    if request.content_type == "application/json":
        return _json_scenario(raw), False
    if not raw.strip():
        return None, False
    return raw, True


async def _built(build: Callable[[], Any], rejected: str) -> Any:
    """Run a scenario build in a worker thread (a large one does not stop the server
    answering others); a bad scenario is a 400 that starts with `rejected`."""
    try:
        return await asyncio.get_running_loop().run_in_executor(None, build)
    except ScenarioError as exc:
        raise INVALID_SCENARIO.error(f"{rejected}:\n{exc}") from None


@admin
async def reload_scenario(request: web.Request) -> web.Response:
    """Read the loaded scenario's file again (as --watch does on an edit): the dashboard's
    reload button. One built from a body has no file: a 400 saying so."""
    state = state_of(request)
    try:
        origin = state.scenario.origin()
    except ValueError as exc:
        raise INVALID_SCENARIO.error(str(exc)) from None
    path = Path(origin)
    # A bundled one by its name, so it keeps it; any other file the server loaded already,
    # so it needs no confinement to be read again.
    source = path.stem if path.resolve().parent == bundled_dir().resolve() else origin
    return await _switch(request, state, source, confined=False)


def _json_scenario(raw: str) -> Any:
    body = load_json(raw)
    if isinstance(body, dict) and set(body) == {"name"} and isinstance(body["name"], str):
        return body["name"]
    if isinstance(body, dict) and set(body) == {"scenario"} and isinstance(body["scenario"], dict):
        return body["scenario"]
    raise INVALID_SCENARIO.error(
        'body must be {"name": "<bundled name or path>"} or {"scenario": {...}}'
    )


@admin
async def get_requests(request: web.Request) -> web.Response:
    journal = state_of(request).journal
    return ok([entry.to_json() for entry in journal.entries()])


@admin
async def delete_requests(request: web.Request) -> web.Response:
    state_of(request).journal.clear()
    return ok({"cleared": True})


# How long GET /__admin/requests/idle waits without ?timeout= (at most MAX_IDLE_WAIT).
DEFAULT_IDLE_WAIT = 5.0


@admin
async def wait_idle(request: web.Request) -> web.Response:
    """Wait until no API request of this state is in flight, at most `?timeout=` seconds:
    a remote test's journal read then sees the call its client gave up on. Says the
    journal's bound too (what a count assertion's message names)."""
    raw = request.query.get("timeout", str(DEFAULT_IDLE_WAIT))
    try:
        timeout = float(raw)
    except ValueError:
        timeout = math.nan
    if not 0 <= timeout <= MAX_IDLE_WAIT:  # also NaN and infinities
        raise VALIDATION_FAILED.error(
            f"timeout must be a number of seconds from 0 to {MAX_IDLE_WAIT:g}"
        )
    journal = state_of(request).journal
    idle = await journal.wait_idle(timeout)
    return ok({"idle": idle, "inFlight": journal.in_flight, "journalSize": journal.limit})


def clock_json(state: MockState) -> dict[str, Any]:
    now = state.clock.now_ms()
    return {
        "now": now,
        "nowDateTime": wire.iso_ms(now),
        "frozen": state.clock.frozen_ms is not None,
        "offsetMs": state.clock.offset_ms,
    }


@admin
async def get_clock(request: web.Request) -> web.Response:
    return ok(clock_json(state_of(request)))


@admin
async def advance_clock(request: web.Request) -> web.Response:
    """Move the mock's clock forward: `{"advance": seconds}` or `?advance=seconds` (the
    query wins; a body sent with it must still be valid). Neither: 0, the clock as is.
    `{"now": ms or ISO, "frozen": bool}` first puts it at `now`, stopped or running
    (either alone: where it stands / as it is), as `mock.set_now()` and `freeze()` do.
    Everything is checked before anything moves."""
    state = state_of(request)
    text = await _text(request)
    given: list[Any] = []
    body: dict[str, Any] = {}
    if text:  # whitespace alone is not JSON either
        loaded = load_json(text)
        if not isinstance(loaded, dict):
            raise _bad_advance('the body must be a JSON object like {"advance": 60}')
        body = loaded
        if "advance" in body:
            given.append(body["advance"])
    if "advance" in request.query:
        given.append(request.query["advance"])
    seconds = 0.0
    for raw in given:
        seconds = _seconds(raw)
    placed = _placed(state, body)
    start = placed[0] if placed is not None else state.clock.now_ms()
    # Far enough that the ISO twins (datetime) could no longer be rendered: a 400, not a
    # broken clock.
    if seconds * 1000 > LAST_MS - start:
        raise _bad_advance("that would move the clock past the year 9999")
    if placed is not None:
        state.clock.set_now(placed[0], frozen=placed[1])
    state.clock.advance(seconds)
    return ok(clock_json(state))


def _placed(state: MockState, body: dict[str, Any]) -> tuple[int, bool | None] | None:
    """Where a body's `now` and `frozen` put the clock (None: neither given)."""
    if "now" not in body and "frozen" not in body:
        return None
    frozen = body.get("frozen")
    if "frozen" in body and not isinstance(frozen, bool):  # null too: say it, or leave it out
        raise _bad_advance(f"frozen must be true or false, got {frozen!r}")
    try:
        at = instant_ms(body["now"], "now") if "now" in body else state.clock.now_ms()
    except ValueError as exc:
        raise _bad_advance(str(exc)) from None
    return at, frozen


def _seconds(raw: Any) -> float:
    try:
        if isinstance(raw, bool):  # JSON true is not a number of seconds
            raise ValueError
        seconds = float(raw)
    except (TypeError, ValueError, OverflowError):
        seconds = math.nan
    if not 0 <= seconds <= MAX_ADVANCE_SECONDS:  # also NaN and infinities
        raise _bad_advance(f"advance must be a number of seconds from 0 to {MAX_ADVANCE_SECONDS}")
    return seconds


def _bad_advance(why: str) -> ApiError:
    return VALIDATION_FAILED.error(why)


@admin
async def get_credentials(request: web.Request) -> web.Response:
    """Stored credentials as tests inspect them (secrets never included); `?user=` filters."""
    state = state_of(request)
    user = request.query.get("user")
    mask_keep = state.scenario.mask_keep
    records = [
        wire.credential_inspect(c, mask_keep)
        for c in state.store.all_credentials()
        if user is None or c.user_id == user or state.store.users[c.user_id].email == user
    ]
    return ok(records)


@admin
async def get_credential(request: web.Request) -> web.Response:
    state = state_of(request)
    cred = state.store.find(request.match_info["credentialId"])
    if cred is None:
        raise CREDENTIAL_NOT_FOUND.error()
    return ok(wire.credential_inspect(cred, state.scenario.mask_keep))


@admin
async def get_trading_accounts(request: web.Request) -> web.Response:
    """Stored trading accounts as tests inspect them, createdAt then id; `?user=` (id or
    email) filters, as for credentials."""
    state = state_of(request)
    store = state.store
    user = request.query.get("user")
    enums = store.accounts.enums
    records = [
        wire.account_inspect(account, enums)
        for account in sorted(store.accounts.all(), key=account_sort_key)
        if user is None or user in (account.user_id, store.users[account.user_id].email)
    ]
    return ok(records)


@admin
async def get_trading_account(request: web.Request) -> web.Response:
    accounts = state_of(request).store.accounts
    account = accounts.find(request.match_info["tradingAccountId"])
    if account is None:
        raise ACCOUNT_NOT_FOUND.error()
    return ok(wire.account_inspect(account, accounts.enums))


@admin
async def post_fault(request: web.Request) -> web.Response:
    """Arm one fault, written exactly like an entry of a scenario's `faults:` list (JSON or
    YAML body); answer its id and normalized form. A bad fault is a 400 naming the problem."""
    state = state_of(request)
    raw = await _text(request)
    if request.content_type == "application/json":
        load_json(raw)
    try:
        spec = parse_fault_text(raw, "<request body>")
        fault = state.faults.arm(spec, state.scenario.users)
    except ScenarioError as exc:
        raise INVALID_FAULT.error("fault rejected:\n" + str(exc)) from None
    except ValueError as exc:
        raise INVALID_FAULT.error(str(exc)) from None
    return ok(fault.to_json())


@admin
async def get_faults(request: web.Request) -> web.Response:
    """Every fault, armed or used up, in evaluation order, with its counters."""
    return ok([fault.to_json() for fault in state_of(request).faults.list()])


@admin
async def delete_faults(request: web.Request) -> web.Response:
    """Disarm every fault; the scenario's own come back on the next reset."""
    return ok({"cleared": state_of(request).faults.clear()})


@admin
async def delete_fault(request: web.Request) -> web.Response:
    faults = state_of(request).faults
    fault_id = request.match_info["faultId"]
    if not faults.remove(fault_id):
        armed = ", ".join(faults.ids()) or "none"
        raise FAULT_NOT_FOUND.error(message=f"No fault {fault_id!r} (faults: {armed})")
    return ok({"cleared": 1, "id": fault_id})


@admin
async def post_snapshot(request: web.Request) -> web.Response:
    """Remember data, clock and faults (not the journal) under a new id."""
    state = state_of(request)
    return ok({"id": state.snapshot(), "scenario": state.scenario.name})


@admin
async def restore_snapshot(request: web.Request) -> web.Response:
    state = state_of(request)
    snapshot_id = request.match_info["snapshotId"]
    try:
        state.rollback(snapshot_id)
    except KeyError:
        known = ", ".join(state.snapshot_ids) or "none since the scenario was loaded"
        raise SNAPSHOT_NOT_FOUND.error(
            message=f"No snapshot {snapshot_id!r} (snapshots: {known})"
        ) from None
    return ok({"id": snapshot_id, "scenario": state.scenario.name})


def namespace_json(space: Namespace, idle_seconds: float) -> dict[str, Any]:
    """A namespace as listings show it: no token (the create answer and the namespace's
    own scenario summary have those, for whoever holds the admin token)."""
    state = space.state
    return {
        "name": space.name,
        "scenario": state.scenario.name,
        "profile": state.scenario.profile,
        "createdAt": wire.iso_ms(space.created_at_ms),
        "requests": space.requests,
        "records": space.records,
        "idleExpirySeconds": idle_seconds,
        "admin": f"/__admin/namespaces/{space.name}",
    }


@admin
async def post_namespace(request: web.Request) -> web.Response:
    """A new namespace on a scenario (`?name=`, JSON or YAML body; none: the server's
    own), named by `?namespace=` or given a fresh name. Answers its users' tokens.

    Name, bound and record budget are checked before anything is built; the scenario and
    its store are built in a worker thread (a large one stops nobody), and checked again
    on the loop, where the namespace is added."""
    spaces = request.app[NAMESPACES]
    source, is_text = await _scenario_source(request)
    if source is None:
        source = spaces.default.scenario
    name, incarnation, room = spaces.reserve(request.query.get("namespace"))
    build = partial(spaces.build, source, name, incarnation, room, text=is_text)
    built = await _built(build, "scenario rejected, no namespace was created")
    space = spaces.add(built)  # on the loop: requests read the set
    state = space.state
    summary = _replica(request, namespace_json(space, spaces.idle_seconds))
    summary["header"] = {NAMESPACE_HEADER: space.name}
    summary["users"] = users_json(state.scenario)
    return ok(summary)


@admin
async def get_namespaces(request: web.Request) -> web.Response:
    spaces = request.app[NAMESPACES]
    spaces.expire()
    return ok([_replica(request, namespace_json(space, spaces.idle_seconds)) for space in spaces])


@admin
async def delete_namespace(request: web.Request) -> web.Response:
    space = request.app[NAMESPACES].drop(request.match_info["name"])
    return ok({"deleted": space.name})

"""`cadenza-mock drift`: the real service's read-only answers against the mock's document.

GETs only (the credential and trading account lists, the operation list, health, the API
root) and the WebSocket's queries (`query.*` RPCs): nothing is written upstream. Each
answer is compared by specs/drift.py; the report names kinds, places and JSON types,
never a value that could be a secret, and the token is scrubbed from it besides.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aiohttp

from cadenza_mock.contract.model import PROFILE_NAMES
from cadenza_mock.http.proxy import ws_url_of
from cadenza_mock.specs.drift import Difference, collapse, rest_differences, rpc_differences

READS = (
    ("/api/v3/credential/list", True),
    ("/api/v3/tradingAccount/list", True),
    ("/api/v3/tradingAccount/operation/list", True),
    ("/api/v3/health", False),
    ("/api/v3", True),
)
QUERIES = ("query.credential.list", "query.trading_account.list", "query.system.info")
SECONDS = 15.0


def drift(against: str, token: str, profile: str, as_json: bool, ws_url: str | None) -> int:
    """Print the report; 0 without differences, 1 with any, 2 for a usage problem."""
    from cadenza_mock.run.record import check_upstream

    problem = check_upstream(against, "--against") or (
        check_upstream(ws_url, "--ws-upstream") if ws_url else None
    )
    if problem is not None or profile not in PROFILE_NAMES or not token:
        why = problem or ("--token is empty" if not token else f"--profile {profile!r}")
        print(f"cadenza-mock drift: {why}", file=sys.stderr)
        return 2
    checked, found = asyncio.run(_check(against, ws_url or ws_url_of(against), token, profile))
    if as_json:
        text = json.dumps(
            {
                "against": against,
                "profile": profile,
                "checked": checked,
                "drift": bool(found),
                "differences": [d.to_json() for d in found],
            },
            indent=2,
        )
    else:
        text = report(against, profile, checked, found)
    print(text.replace(token, "<token>"))
    return 1 if found else 0


def report(against: str, profile: str, checked: list[str], found: list[Difference]) -> str:
    failing = list(dict.fromkeys(d.operation for d in found))
    lines = [
        f"cadenza-mock drift: {against} against the mock's {profile} profile: "
        + (
            f"{len(found)} difference(s) in {len(failing)} of {len(checked)} answers"
            if found
            else f"no difference in {len(checked)} answers"
        )
    ]
    for operation in failing:
        lines.append(operation)
        lines += [f"  {d.line()}" for d in found if d.operation == operation]
    same = [op for op in checked if op not in failing]
    if same:
        lines.append("as documented: " + ", ".join(same))
    return "\n".join(lines)


async def _check(
    against: str, ws_url: str, token: str, profile: str
) -> tuple[list[str], list[Difference]]:
    checked: list[str] = []
    found: list[Difference] = []
    timeout = aiohttp.ClientTimeout(total=SECONDS)
    async with aiohttp.ClientSession(
        timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        for path, with_token in READS:
            operation = f"GET {path}"
            checked.append(operation)
            headers = {"Authorization": f"Bearer {token}"} if with_token else {}
            try:
                async with session.get(against.rstrip("/") + path, headers=headers) as answer:
                    status, raw = answer.status, await answer.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                found.append(_no_answer(operation, exc))
                continue
            try:
                body = json.loads(raw)
            except ValueError:
                found.append(Difference(operation, "envelope", "", "a JSON body", "another body"))
                continue
            keys = list(body) if isinstance(body, dict) else None
            found += rest_differences(profile, path, status, keys, body)
        checked += [f"RPC {method}" for method in QUERIES]
        found += await _queries(session, ws_url, token)
    return checked, collapse(found)


def _no_answer(operation: str, exc: BaseException) -> Difference:
    return Difference(operation, "status", "", "an answer", f"none ({type(exc).__name__})")


async def _queries(session: aiohttp.ClientSession, ws_url: str, token: str) -> list[Difference]:
    """The WebSocket queries, over one connection (the Centrifugo protocol, JSON)."""
    found: list[Difference] = []
    try:
        async with session.ws_connect(ws_url, heartbeat=None) as socket:
            await socket.send_str(json.dumps({"id": 1, "connect": {"token": token}}))
            connected = await _reply(socket, 1)
            if not isinstance(connected, dict) or "connect" not in connected:
                code = (
                    connected.get("error", {}).get("code") if isinstance(connected, dict) else None
                )
                return [
                    Difference(f"RPC {method}", "status", "", "a connect reply", f"error {code}")
                    for method in QUERIES
                ]
            for number, method in enumerate(QUERIES, 2):
                await socket.send_str(
                    json.dumps({"id": number, "rpc": {"method": method, "data": {}}})
                )
                reply = await _reply(socket, number)
                if reply is None:
                    found.append(Difference(f"RPC {method}", "status", "", "a reply", "none"))
                else:
                    found += rpc_differences(method, reply)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return [_no_answer(f"RPC {method}", exc) for method in QUERIES]
    return found


async def _reply(socket: aiohttp.ClientWebSocketResponse, wanted: int) -> Any:
    """The reply with id `wanted` (pings answered, pushes skipped); None if the socket
    closes first."""
    async with asyncio.timeout(SECONDS):
        async for message in socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            for line in str(message.data).splitlines():
                try:
                    reply = json.loads(line)
                except ValueError:
                    continue
                if reply == {}:
                    await socket.send_str("{}")  # a ping: the pong
                elif isinstance(reply, dict) and reply.get("id") == wanted:
                    return reply
    return None

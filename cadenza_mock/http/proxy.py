"""Forwarding to a real Cadenza (or another mock): REST requests and the Centrifugo
WebSocket, answers passed back unchanged. `cadenza-mock record` serves `proxy_app()` and
hands what it sees to a `Recording`.

A caller's token is held only while its call is forwarded: the recording gets a keyed
fingerprint of it (and a JWT's subject), never the token; RPC params are redacted as soon
as they are read. Logs name the method, the path (never the query) and the status.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web
from multidict import CIMultiDict

from cadenza_mock.contract import wire
from cadenza_mock.contract.errors import SERVICE_UNAVAILABLE, ApiError
from cadenza_mock.contract.operation_type import WS_PATH
from cadenza_mock.engine.journal import redact_body
from cadenza_mock.engine.recording import Exchange, Fingerprints, Recording, token_subject

log = logging.getLogger("cadenza_mock")

# Headers that describe one hop, not the message: never forwarded either way.
HOP_BY_HOP = frozenset(
    name.lower()
    for name in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Host",
        "Content-Length",
        "Accept-Encoding",
        "Content-Encoding",
    )
)
UPSTREAM_SECONDS = 30.0

SESSION = web.AppKey("cadenza_proxy_session", aiohttp.ClientSession)
RECORDING = web.AppKey("cadenza_recording", Recording)
FINGERPRINTS = web.AppKey("cadenza_fingerprints", Fingerprints)
UPSTREAM = web.AppKey("cadenza_upstream", str)
WS_UPSTREAM = web.AppKey("cadenza_ws_upstream", str)


def ws_url_of(upstream: str) -> str:
    """The WebSocket endpoint beside a REST base URL (http -> ws, https -> wss)."""
    return upstream.rstrip("/").replace("http", "ws", 1) + WS_PATH


def _headers(pairs: Iterable[tuple[str, str]]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in pairs if k.lower() not in HOP_BY_HOP)


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def forward(
    request: web.Request, session: aiohttp.ClientSession, upstream: str
) -> tuple[web.Response, bytes]:
    """`request` sent on to `upstream` (same method, path, query, headers, body); its answer
    as a response for the client, and the body (for whoever watches). An upstream that
    does not answer raises the catalogue's 503 (the caller's envelope path sends it)."""
    body = await request.read()
    url = upstream.rstrip("/") + request.rel_url.raw_path_qs
    try:
        async with session.request(
            request.method,
            url,
            headers=_headers(request.headers.items()),
            data=body or None,
            allow_redirects=False,
        ) as answer:
            data = await answer.read()
            headers = _headers(answer.headers.items())
            status = answer.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        log.warning(
            "upstream did not answer %s %s (%s)", request.method, request.path, type(exc).__name__
        )
        raise SERVICE_UNAVAILABLE.error("the upstream did not answer") from None
    return web.Response(status=status, body=data, headers=headers), data


async def _who(app: web.Application, token: str) -> tuple[str, str | None]:
    """(fingerprint, subject) of a token: a JWT's `sub`, or for a token the recording has
    not seen, the `id` upstream's GET /api/v3/auth/user answers for it (a read, once)."""
    fingerprint = app[FINGERPRINTS].of(token)
    subject = token_subject(token)
    recording = app.get(RECORDING)
    if subject is None and recording is not None and not recording.knows(fingerprint):
        url = app[UPSTREAM].rstrip("/") + "/api/v3/auth/user"
        try:
            async with app[SESSION].get(url, headers={"Authorization": f"Bearer {token}"}) as who:
                data = (await who.json(content_type=None) or {}).get("data") if who.ok else None
        except (TimeoutError, aiohttp.ClientError, ValueError, AttributeError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            subject = data["id"]
            recording.saw_user(recording.subject_for(fingerprint, subject), data)
    return fingerprint, subject


async def _rest(request: web.Request) -> web.StreamResponse:
    token = _bearer(request)
    prints = request.app[FINGERPRINTS]
    caller = await _who(request.app, token) if token else None
    del token  # from here on, only its fingerprint
    try:
        response, body = await forward(request, request.app[SESSION], request.app[UPSTREAM])
    except ApiError as err:  # the record proxy has no store: the docs profile's envelope
        response, body = (
            web.Response(status=err.status, body=wire.error_body(err, "docs", None)),
            b"",
        )
        response.content_type = "application/json"
    log.info("%s %s -> %d", request.method, request.path, response.status)
    recording = request.app.get(RECORDING)
    if recording is not None and 200 <= response.status < 300 and body:
        _record(recording, prints, request.path, caller, body)
    return response


def _record(
    recording: Recording,
    prints: Fingerprints,
    path: str,
    caller: tuple[str, str | None] | None,
    body: bytes,
) -> None:
    if path.endswith(("/auth/login", "/auth/token/refresh")):
        try:
            data = json.loads(body).get("data")
        except (ValueError, AttributeError):
            return
        if isinstance(data, dict) and isinstance(data.get("accessToken"), str):
            recording.logged_in(prints.of(data["accessToken"]), data.get("user"))
        return
    if path.endswith("/credential/verify"):
        return  # a verify result is no record
    subject = recording.subject_for(*caller) if caller is not None else None
    recording.saw_answer(subject, path, body)


class _Tap:
    """One proxied WebSocket connection's view: who connected, which RPCs are pending."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.recording = app.get(RECORDING)
        self.subject: str | None = None
        self.pending: dict[int, tuple[str, Any]] = {}

    async def from_client(self, text: str) -> None:
        for command in _lines(text):
            body = command.get("connect") or command.get("refresh")
            if isinstance(body, dict) and isinstance(body.get("token"), str) and self.recording:
                self.subject = self.recording.subject_for(*await _who(self.app, body["token"]))
            rpc = command.get("rpc")
            if isinstance(rpc, dict) and isinstance(command.get("id"), int):
                params = redact_body(rpc.get("data", {}))
                self.pending[command["id"]] = (str(rpc.get("method", "")), params)

    async def from_upstream(self, text: str) -> None:
        for reply in _lines(text):
            command_id = reply.get("id")
            asked = self.pending.pop(command_id, None) if isinstance(command_id, int) else None
            if asked is None or self.recording is None or self.subject is None:
                continue
            method, params = asked
            if isinstance(reply.get("rpc"), dict):
                exchange = Exchange(method, params, result=reply["rpc"].get("data"))
            elif isinstance(reply.get("error"), dict):
                exchange = Exchange(method, params, error=reply["error"])
            else:
                continue
            self.recording.saw_rpc(self.subject, exchange)


def _lines(text: str) -> list[dict[str, Any]]:
    """The JSON commands or replies of one frame (Centrifugo batches them by lines)."""
    found = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            found.append(item)
    return found


async def _websocket(request: web.Request) -> web.StreamResponse:
    client = web.WebSocketResponse(autoping=True)
    await client.prepare(request)
    tap = _Tap(request.app)
    try:
        upstream = await request.app[SESSION].ws_connect(request.app[WS_UPSTREAM])
    except (TimeoutError, aiohttp.ClientError) as exc:
        log.warning("upstream WebSocket did not answer (%s)", type(exc).__name__)
        await client.close(code=1011, message=b"upstream unreachable")
        return client
    log.info("WebSocket connection proxied")

    async def pump(source: Any, target: Any, watch: Any) -> None:
        async for message in source:
            if message.type == WSMsgType.TEXT:
                await watch(message.data)
                await target.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                await target.send_bytes(message.data)
            else:
                break

    tasks = [
        asyncio.ensure_future(pump(client, upstream, tap.from_client)),
        asyncio.ensure_future(pump(upstream, client, tap.from_upstream)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        close_code = upstream.close_code
        await upstream.close()
        if not client.closed:
            await client.close(code=close_code or 1000)
    return client


async def _session(app: web.Application) -> Any:
    timeout = aiohttp.ClientTimeout(total=UPSTREAM_SECONDS)
    # No cookie jar: a cookie one caller got must not ride along with the next caller's call.
    jar = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(timeout=timeout, cookie_jar=jar) as session:
        app[SESSION] = session
        yield


def proxy_app(
    upstream: str, ws_upstream: str | None, recording: Recording | None
) -> web.Application:
    """An app forwarding every REST request to `upstream` and the WebSocket endpoint to
    `ws_upstream` (default: beside `upstream`), feeding `recording` when given."""
    app = web.Application()
    app[UPSTREAM] = upstream
    app[WS_UPSTREAM] = ws_upstream or ws_url_of(upstream)
    app[FINGERPRINTS] = Fingerprints()
    if recording is not None:
        app[RECORDING] = recording
    app.cleanup_ctx.append(_session)

    async def route(request: web.Request) -> web.StreamResponse:
        if request.path == WS_PATH and request.headers.get("Upgrade", "").lower() == "websocket":
            return await _websocket(request)
        return await _rest(request)

    app.router.add_route("*", "/{tail:.*}", route)
    return app


def pass_through(app: web.Application, upstream: str) -> None:
    """`serve --upstream`: a session to `upstream` for the not-emulated operations and the
    `proxy` stubs (http/stub_answer.py forwards them)."""
    from cadenza_mock.http.stub_answer import PASS_THROUGH

    app[PASS_THROUGH] = upstream
    app.cleanup_ctx.append(_session)

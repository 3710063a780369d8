"""Handlers of the emulated Cadenza API: parse, ask the engine, return prebuilt bytes."""

from __future__ import annotations

from aiohttp import web

from cadenza_mock.engine.query import NO_FILTER, parse_list_query
from cadenza_mock.http.keys import STATE, USER_ID

JSON = "application/json"


async def list_credentials(request: web.Request) -> web.Response:
    store = request.app[STATE].store
    user = store.user_for_token(request.headers.get("Authorization"))
    request[USER_ID] = user.user_id
    where = (
        parse_list_query(request.query.items(), store.profile, store.enums)
        if request.query_string
        else NO_FILTER
    )
    return web.Response(body=store.list_body(user.user_id, where), content_type=JSON)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v3/credential/list", list_credentials),
    ]

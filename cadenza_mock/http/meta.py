"""GET /api/v3/openapi.json: the OpenAPI document of what this mock serves.

No authentication, like the docs pages of most APIs: a client generator or schemathesis
must be able to fetch it before it has a token.
"""

from __future__ import annotations

from aiohttp import web

from cadenza_mock.contract.errors import invalid_argument
from cadenza_mock.contract.model import PROFILE_NAMES
from cadenza_mock.http.keys import state_of
from cadenza_mock.http.middleware import json_response
from cadenza_mock.specs.asyncapi import asyncapi_json
from cadenza_mock.specs.openapi import openapi_json


async def openapi_document(request: web.Request) -> web.Response:
    """The served scenario's profile, or `?profile=docs|sdk`."""
    values = request.query.getall("profile", [])
    if len(values) > 1:
        raise invalid_argument("profile", "given more than once; pass one value", PROFILE_NAMES)
    profile = values[0].strip() if values else state_of(request).store.profile
    if profile not in PROFILE_NAMES:
        problem = "must not be empty" if not profile else f"unknown value {profile!r}"
        raise invalid_argument("profile", problem, PROFILE_NAMES)
    return json_response(openapi_json(profile))


async def asyncapi_document(request: web.Request) -> web.Response:
    """The WebSocket API's AsyncAPI document (the same for both profiles)."""
    return json_response(asyncapi_json())

"""The Operation row and the path prefixes, apart from the tables of rows so that those
(operation_rows_api.py, operation_rows_admin.py) and operations.py can all import them.

A row is the one declaration of an operation: the server's route, the OpenAPI document's
operation (`specs/openapi.py` only assembles rows), the query parameters the parsers read
and near-miss hints know, the fault matcher's venue calls and the RPC twin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypeVar

from cadenza_mock.contract.errors import (
    ADMIN_DISABLED,
    BAD_REQUEST,
    BODY_TOO_LARGE,
    HOST_NOT_ALLOWED,
    INVALID_ARGUMENT,
    INVALID_JSON,
    NAMESPACE_NOT_FOUND,
    NOT_EMULATED,
    ORIGIN_NOT_ALLOWED,
    RATE_LIMITED,
    UNAUTHORIZED,
    UNKNOWN_ERROR,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_FAILED,
    ErrorKind,
)

API_PREFIX = "/api/v3"
ADMIN_PREFIX = "/__admin"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
NAMESPACES_PATH = f"{ADMIN_PREFIX}/namespaces"
WS_PATH = "/connection/websocket"  # the WebSocket API (Centrifugo protocol)

# bearer: the caller's access token; public: no token (login, the document); admin: the
# admin API (X-Admin-Token when the server has one); probe: open even then (health);
# page: the dashboard's files, open without a token but off when the admin API is.
Auth = Literal["bearer", "public", "admin", "probe", "page"]
# What an armed fault may answer on the emulated API, besides its documented `default`.
INJECTED = (RATE_LIMITED, UNKNOWN_ERROR)

# The dashboard's files (cadenza_mock/dashboard) served at {ADMIN_PREFIX}/ui/<name>, with
# their content types; GET {ADMIN_PREFIX}/ui is index.html.
DASHBOARD_ASSETS = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
    "favicon.svg": "image/svg+xml",  # asked for by every browser; else a journaled 404
}

# The events of GET {ADMIN_PREFIX}/requests/stream.
SSE_EVENTS = ("request", "cleared", "reset")

Schema = Mapping[str, Any]
T = TypeVar("T")
# A fact the same in both wire profiles, or one per profile ({"docs": ..., "sdk": ...}).
Profiled: TypeAlias = T | Mapping[str, T]


def in_profile(value: Profiled[T], profile: str) -> T:
    """The profile's own value of a `Profiled` fact."""
    if isinstance(value, Mapping):
        found: T = value[profile]
        return found
    return value


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter an operation reads: the parsers (engine/query.py, the handlers) read
    `name`, near-miss hints know it (with `domain`, its enum values) and the document
    states it (unless `documented` is false: read, but not the profile's own)."""

    name: str
    schema: Schema
    description: str | None = None
    where: Literal["query", "path"] = "query"
    # Its enum values for hints: a ProfileEnums attribute ("types", "venues"...), the
    # values themselves, or None (not an enum).
    domain: str | tuple[str, ...] | None = None
    documented: bool = True
    form: bool = False  # an array given as the parameter repeated (style form, explode)
    example: str | None = None
    required: bool = False  # a query parameter the call cannot do without (a 400)

    def openapi(self) -> dict[str, Any]:
        """The parameter as the OpenAPI document states it."""
        found: dict[str, Any] = {"name": self.name, "in": self.where}
        if self.where == "path" or self.required:
            found["required"] = True
        if self.form:
            found["style"] = "form"
            found["explode"] = True
        found["schema"] = dict(self.schema)
        if self.description is not None:
            found["description"] = self.description
        if self.example is not None:
            found["example"] = self.example
        return found


@dataclass(frozen=True, slots=True)
class Answer:
    """What a 200 carries, as the document states it (and the suite checks every answer
    against): the envelope's `data`, or a whole body of another shape."""

    data: Schema | None = None
    envelope_extra: Schema = field(default_factory=dict)  # optional keys after the four
    whole: Schema | None = None  # the JSON body's schema, when it is not the envelope
    content: Schema | None = None  # {media type: {schema}}: an answer that is not JSON
    links: Schema | None = None  # OpenAPI links: what can be done next with the answer
    headers: Schema | None = None  # response headers besides the near-miss hint
    summary_extra: str = ""  # appended to the row's summary in this profile


@dataclass(frozen=True, slots=True)
class Operation:
    """One route: where it is, who handles it, what it is called, what it may answer."""

    method: str
    path: str
    handler: str  # "<module>.<function>" in cadenza_mock.http
    operation_id: str
    summary: str
    tag: str  # credentials, auth, meta, admin
    errors: tuple[ErrorKind, ...] = ()  # its own; those of its kind are added by `answers`
    body: str | None = None  # the JSON request body's schema (components), when required
    reads_body: bool = False  # reads a body of its own shape (admin: YAML or JSON)
    auth: Auth = "bearer"
    # Works on the namespace a call names (header, URL): False for the dashboard's files,
    # one page for the whole server.
    namespaced: bool = True
    # What the 200 carries, per profile where the profiles differ.
    answer: Profiled[Answer] = field(default=Answer(), compare=False)
    # Its query and path parameters in document order (query ones: exactly what the
    # parsers read; hints call every other name unknown), per profile where they differ.
    params: Profiled[tuple[Param, ...]] = field(default=(), compare=False)
    # Query parameters it is often given but ignores, with why (a near-miss hint says so).
    ignored: Mapping[str, str] = field(default_factory=dict, compare=False)
    # A body of its own shape (reads_body), as the document states it: its requestBody.
    body_doc: Schema | None = field(default=None, compare=False)
    # Reaches the venue behind Cadenza: where a `venue:` fault without a path acts.
    venue: bool = False
    # Its WebSocket RPC twin (http/rpc.py's METHODS), which calls the same engine method.
    rpc: str | None = None
    # False: documented by Cadenza, not emulated yet (operation_rows_documented.py): routed
    # and documented, answers NOT_EMULATED (501) unless a test stubs it.
    emulated: bool = True

    def answer_in(self, profile: str) -> Answer:
        return in_profile(self.answer, profile)

    def params_in(self, profile: str) -> tuple[Param, ...]:
        return in_profile(self.params, profile)

    @property
    def answers(self) -> tuple[ErrorKind, ...]:
        """Every error this operation can answer, its own and those that come with its
        kind: any request can be malformed; a body can be bad or too big; a bearer can be
        wrong; an admin call can need a token, or the admin API be off; any call can name
        a namespace that does not exist, or malformed or contradictory ones; any call can come
        from a web page or through a name the server does not answer to."""
        found = [BAD_REQUEST, *self.errors, ORIGIN_NOT_ALLOWED, HOST_NOT_ALLOWED]
        if not self.emulated:
            found.append(NOT_EMULATED)
        if self.namespaced:
            found += [INVALID_ARGUMENT, NAMESPACE_NOT_FOUND]
        if self.body is not None or self.reads_body:
            found += [INVALID_JSON, BODY_TOO_LARGE]
        if self.body is not None:
            found.append(VALIDATION_FAILED)
        if self.auth == "bearer":
            found += [UNAUTHORIZED, *INJECTED]
        if self.auth == "admin":
            found += [UNAUTHORIZED, ADMIN_DISABLED]
            if self.method in ("POST", "PUT"):  # any body it is sent must say JSON or YAML
                found.append(UNSUPPORTED_MEDIA_TYPE)
        if self.auth == "page":
            found.append(ADMIN_DISABLED)
        return tuple(dict.fromkeys(found))

"""The Operation row and the path prefixes, apart from the tables of rows so that those
(operation_rows_api.py, operation_rows_admin.py) and operations.py can all import them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cadenza_mock.contract.errors import (
    ADMIN_DISABLED,
    BAD_REQUEST,
    BODY_TOO_LARGE,
    HOST_NOT_ALLOWED,
    INVALID_ARGUMENT,
    INVALID_JSON,
    NAMESPACE_NOT_FOUND,
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

    @property
    def answers(self) -> tuple[ErrorKind, ...]:
        """Every error this operation can answer, its own and those that come with its
        kind: any request can be malformed; a body can be bad or too big; a bearer can be
        wrong; an admin call can need a token, or the admin API be off; any call can name
        a namespace that does not exist, or malformed or contradictory ones; any call can come
        from a web page or through a name the server does not answer to."""
        found = [BAD_REQUEST, *self.errors, ORIGIN_NOT_ALLOWED, HOST_NOT_ALLOWED]
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

"""The error catalogue: every error the mock answers is one row here, and the one error type
every failure becomes.

A row fixes the HTTP status, the Cadenza errno (negative over HTTP; the WebSocket API
sends its absolute value), the sdk profile's `details.code`, the default message and its
meaning. Handlers and the engine raise `ROW.error(...)`; one function turns an `ApiError`
into the envelope; the OpenAPI document, the README table and the fault defaults are
derived from the rows. Adding an error is adding a row. Scenario problems are a separate
type because they are reported to people (file:line:column), not to HTTP clients.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """A failure the emulated API reports in its error envelope."""

    def __init__(
        self,
        status: int,
        errno: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errno = errno
        self.message = message
        # `code` feeds the sdk profile's `details.code` (e.g. INVALID_TOKEN).
        self.code = code
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.errno}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """One row of the catalogue."""

    status: int
    errno: int
    code: str  # the sdk profile's details.code
    message: str  # the default message; a detail is appended after ': '
    meaning: str  # when it is sent (the OpenAPI document and README say this)

    @property
    def positive_code(self) -> int:
        """The code as the WebSocket API reports it (same absolute value)."""
        return -self.errno

    def error(
        self,
        detail: str | None = None,
        *,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiError:
        """The ApiError to raise: `Message: detail`, or a whole `message` of its own."""
        text = message or (f"{self.message}: {detail}" if detail else self.message)
        return ApiError(self.status, self.errno, text, code=self.code, headers=headers)


E = ErrorKind
# errno values from the Cadenza error-code pages (see README "Errors"); one row a line:
# status, errno, sdk code, default message, meaning.
BAD_REQUEST = E(400, -19001, "BAD_REQUEST", "Bad request", "malformed request or late body")
INVALID_ARGUMENT = E(400, -22015, "INVALID_ARGUMENT", "Invalid argument", "bad query parameter")
INVALID_STATE = E(400, -22015, "INVALID_STATE", "Invalid argument", "not allowed in this status")
NOT_REVOCABLE = E(400, -130001, "INVALID_STATE", "Invalid argument", "no revoke in this status")
SUBSCRIPTION_NOT_FOUND = E(
    400,
    -22015,
    "INVALID_ARGUMENT",
    "Invalid argument",
    "unsubscribe: no such subscription of yours",
)
ALREADY_REVOKED = E(400, -130001, "ALREADY_REVOKED", "Credential is already revoked", "revoked")
VALIDATION_FAILED = E(400, -19004, "VALIDATION_ERROR", "Form validation failed", "bad body field")
EMAIL_TAKEN = E(400, -19004, "USER_ALREADY_EXISTS", "Form validation failed", "email registered")
INVALID_SCENARIO = E(400, -19004, "INVALID_SCENARIO", "Form validation failed", "bad scenario")
INVALID_FAULT = E(400, -19004, "INVALID_FAULT", "Form validation failed", "bad fault (admin API)")
INVALID_STUB = E(400, -19004, "INVALID_STUB", "Form validation failed", "bad stub (admin API)")
BODY_TOO_LARGE = E(413, -19004, "HTTP_ERROR", "Request Entity Too Large", "body over 1 MiB")
UNSUPPORTED_MEDIA_TYPE = E(
    415, -19004, "HTTP_ERROR", "Unsupported Media Type", "admin body not JSON or YAML"
)
INVALID_JSON = E(400, -19005, "INVALID_JSON", "Invalid JSON", "not JSON, or nested over 64 levels")
INVALID_BODY = E(400, -19005, "INVALID_BODY", "Invalid body", "admin body that is not UTF-8")
UNAUTHORIZED = E(401, -19002, "INVALID_TOKEN", "Unauthorized", "bad or expired bearer/admin token")
INVALID_LOGIN = E(401, -100001, "INVALID_CREDENTIALS", "Invalid login credentials", "bad login")
INVALID_REFRESH_TOKEN = E(401, -100003, "INVALID_TOKEN", "Invalid refresh token", "bad refresh")
PERMISSION_DENIED = E(403, -22018, "PERMISSION_DENIED", "Permission denied", "another user's")
ADMIN_DISABLED = E(403, -22018, "ADMIN_DISABLED", "Permission denied", "admin API off (no token)")
ORIGIN_NOT_ALLOWED = E(403, -22018, "ORIGIN_NOT_ALLOWED", "Permission denied", "web page's Origin")
HOST_NOT_ALLOWED = E(403, -22018, "HOST_NOT_ALLOWED", "Permission denied", "foreign Host header")
CREDENTIAL_NOT_FOUND = E(404, -22016, "NOT_FOUND", "Credential not found", "unknown credentialId")
ACCOUNT_NOT_FOUND = E(404, -22016, "NOT_FOUND", "Trading account not found", "unknown account")
INSTRUMENT_NOT_FOUND = E(404, -22016, "NOT_FOUND", "Instrument not found", "unknown instrumentId")
SECURITY_NOT_FOUND = E(404, -22016, "NOT_FOUND", "Security not found", "unknown securityId")
PAGE_NOT_FOUND = E(404, -19003, "NOT_FOUND", "Page not found", "unknown route")
FAULT_NOT_FOUND = E(404, -19003, "NOT_FOUND", "No fault", "unknown fault id (admin API)")
SNAPSHOT_NOT_FOUND = E(404, -19003, "NOT_FOUND", "No snapshot", "unknown snapshot id (admin API)")
NAMESPACE_NOT_FOUND = E(404, -19003, "NOT_FOUND", "No namespace", "unknown namespace")
STUB_NOT_FOUND = E(404, -19003, "NOT_FOUND", "No stub", "unknown stub id (admin API)")
VENUE_NOT_FOUND = E(404, -19003, "NOT_FOUND", "No venue", "a venue without a market (admin)")
METHOD_NOT_ALLOWED = E(405, -19003, "METHOD_NOT_ALLOWED", "Method not allowed", "wrong method")
ALREADY_EXIST = E(409, -22017, "ALREADY_EXISTS", "Already exist", "apiKey already on that venue")
ALREADY_CONNECTED = E(409, -22017, "ALREADY_EXISTS", "Already exist", "account already connected")
NAMESPACE_EXISTS = E(409, -22017, "ALREADY_EXISTS", "Already exist", "namespace name taken")
RATE_LIMITED = E(429, -18011, "RATE_LIMITED", "Rate limit exceeded", "rate limit; see Retry-After")
TOO_MANY_LOGINS = E(429, -100002, "RATE_LIMITED", "Too many login attempts", "login rate limit")
TOO_MANY_NAMESPACES = E(
    429, -18011, "RATE_LIMITED", "Too many namespaces", "namespace bound reached (admin API)"
)
RECORD_BUDGET = E(
    429, -18011, "RATE_LIMITED", "Record budget exceeded", "namespaces' records (admin API)"
)
TOO_MANY_STREAMS = E(
    429, -18011, "RATE_LIMITED", "Too many streams", "journal stream bound (admin API)"
)
TOO_MANY_STUBS = E(429, -18011, "RATE_LIMITED", "Too many stubs", "stub bound reached (admin API)")
UNKNOWN_ERROR = E(500, -22000, "INTERNAL", "Unknown error", "server error (or a bug, logged)")
# Cadenza has no errno for an operation a server lacks; the page-not-found errno says the
# mock has no page there, though Cadenza documents one (a client branching on errno sees
# a missing route, which it is, here).
NOT_EMULATED = E(
    501, -19003, "NOT_IMPLEMENTED", "Not emulated", "documented by Cadenza, not emulated: stub it"
)
# What the venue behind Cadenza answers (the error-codes page); faults name them by errno.
EXCHANGE_ERROR = E(502, -18004, "EXCHANGE_ERROR", "Exchange error", "venue error")
VENUE_AUTH = E(401, -18005, "AUTHENTICATION_ERROR", "Authentication error", "venue refused keys")
NETWORK_ERROR = E(502, -18009, "NETWORK_ERROR", "Network error", "venue unreachable")
DDOS_PROTECTION = E(503, -18010, "DDOS_PROTECTION", "DDOS protection", "venue shields itself")
VENUE_UNAVAILABLE = E(503, -18012, "EXCHANGE_NOT_AVAILABLE", "Exchange not available", "venue")
MAINTENANCE = E(503, -18013, "ON_MAINTENANCE", "On maintenance", "venue in maintenance")
VENUE_TIMEOUT = E(504, -18015, "REQUEST_TIMEOUT", "Request timeout", "venue did not answer")
INVALID_API_KEY = E(401, -18022, "INVALID_API_KEY", "Invalid API key", "venue rejects the key")
# Trading (the error-codes page's 18xxx rows the order engine answers; engine/orders.py).
ORDER_TYPE_NOT_SUPPORTED = E(
    400, -18001, "ORDER_TYPE_NOT_SUPPORTED", "Order type not supported", "not the instrument's"
)
ORDER_SIDE_NOT_SUPPORTED = E(
    400, -18002, "ORDER_SIDE_NOT_SUPPORTED", "Order side not supported", "orderSide UNKNOWN"
)
TIME_IN_FORCE_NOT_SUPPORTED = E(
    400, -18003, "TIME_IN_FORCE_NOT_SUPPORTED", "Time in force not supported", "not allowed"
)
INSUFFICIENT_FUNDS = E(400, -18006, "INSUFFICIENT_FUNDS", "Insufficient funds", "free too low")
INVALID_ORDER = E(400, -18007, "INVALID_ORDER", "Invalid order", "off the lot/tick grid, bounds")
ORDER_NOT_CANCELABLE = E(400, -18007, "INVALID_ORDER", "Invalid order", "cancel of a closed order")
SYMBOL_NOT_FOUND = E(404, -18017, "SYMBOL_NOT_FOUND", "Symbol not found", "not on the venue")
ORDER_NOT_FOUND = E(404, -18018, "ORDER_NOT_FOUND", "Order not found", "unknown tradeOrderId")
ORDER_REJECTED = E(400, -18025, "ORDER_REJECTED", "Order rejected", "instrument not ACTIVE")
QUOTE_EXPIRED = E(400, -18025, "ORDER_REJECTED", "Order rejected", "an expired or used RFQ quote")
QUOTE_NOT_FOUND = E(404, -22016, "NOT_FOUND", "Quote not found", "unknown quoteId")
SERVICE_UNAVAILABLE = E(503, -19006, "SERVICE_UNAVAILABLE", "Service unavailable", "web layer")
LOCK_NOT_ACQUIRED = E(503, -22014, "LOCK_NOT_ACQUIRED", "Lock not acquired", "concurrent use")
TOO_MANY_CONNECTIONS = E(
    503, -19006, "SERVICE_UNAVAILABLE", "Service unavailable", "WebSocket connection bound"
)
del E

CATALOGUE: tuple[ErrorKind, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, ErrorKind)
)

# What an injected `respond: {status: N}` answers when it gives no errno or message.
_FAULT_DEFAULTS: dict[int, tuple[ErrorKind, str | None]] = {
    400: (INVALID_ARGUMENT, None),
    401: (UNAUTHORIZED, "invalid token"),
    403: (PERMISSION_DENIED, None),
    404: (CREDENTIAL_NOT_FOUND, None),
    409: (ALREADY_EXIST, None),
    429: (RATE_LIMITED, None),
}


def kind_of(status: int, errno: int) -> ErrorKind | None:
    """The catalogue row with this status and errno, if there is one."""
    return next((k for k in CATALOGUE if (k.status, k.errno) == (status, errno)), None)


def fault_default(status: int) -> tuple[int, str, str]:
    """(errno, message, code) of an injected error of this status, from the catalogue."""
    kind, detail = _FAULT_DEFAULTS.get(status, (UNKNOWN_ERROR, None))
    if status < 500 and status not in _FAULT_DEFAULTS:
        return VALIDATION_FAILED.errno, VALIDATION_FAILED.message, BAD_REQUEST.code
    return kind.errno, f"{kind.message}: {detail}" if detail else kind.message, kind.code


def allowed(values: Iterable[str]) -> str:
    """Render an allowed-values list the same way in every message."""
    return ", ".join(values)


def invalid_argument(
    param: str, problem: str, allowed_values: Iterable[str] | None = None
) -> ApiError:
    """400 for a bad query parameter, naming it and what it accepts."""
    detail = f"{param}: {problem}"
    if allowed_values is not None:
        detail += f" (allowed: {allowed(allowed_values)})"
    return INVALID_ARGUMENT.error(detail)


def unauthorized(reason: str) -> ApiError:
    return UNAUTHORIZED.error(reason)


def page_not_found(path: str) -> ApiError:
    return PAGE_NOT_FOUND.error(path)


def method_not_allowed(method: str, path: str, allowed_methods: Iterable[str]) -> ApiError:
    # Cadenza documents no errno for 405; the page-not-found errno says why.
    methods = sorted(allowed_methods)
    return METHOD_NOT_ALLOWED.error(
        f"{method} {path} (allowed: {allowed(methods)})", headers={"Allow": ", ".join(methods)}
    )


def unknown_error() -> ApiError:
    return UNKNOWN_ERROR.error()


@dataclass(frozen=True, slots=True)
class ScenarioIssue:
    """One problem in a scenario file, located for humans."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        # Line 0 means "no position" (a missing file, an extends cycle): no fake `:0:0`.
        if self.line <= 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ScenarioError(ValueError):
    """A scenario could not be loaded; `issues` lists every problem found."""

    def __init__(self, issues: list[ScenarioIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

    def to_json(self) -> dict[str, Any]:
        return {
            "issues": [
                {"file": i.file, "line": i.line, "column": i.column, "message": i.message}
                for i in self.issues
            ]
        }

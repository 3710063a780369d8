"""Every operation the mock serves, declared once: the aiohttp routes (`http/app.py`) and
the OpenAPI paths (`openapi.py`) are both derived from `OPERATIONS`.

Adding an endpoint is one row here, one handler (named by `handler`) and the engine method
it calls. No aiohttp import: the document is built without a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cadenza_mock.errors import (
    ACCOUNT_NOT_FOUND,
    ADMIN_DISABLED,
    ALREADY_CONNECTED,
    ALREADY_EXIST,
    ALREADY_REVOKED,
    BAD_REQUEST,
    BODY_TOO_LARGE,
    CREDENTIAL_NOT_FOUND,
    EMAIL_TAKEN,
    EXCHANGE_ERROR,
    FAULT_NOT_FOUND,
    HOST_NOT_ALLOWED,
    INVALID_API_KEY,
    INVALID_ARGUMENT,
    INVALID_BODY,
    INVALID_FAULT,
    INVALID_JSON,
    INVALID_LOGIN,
    INVALID_REFRESH_TOKEN,
    INVALID_SCENARIO,
    INVALID_STATE,
    LOCK_NOT_ACQUIRED,
    MAINTENANCE,
    NAMESPACE_EXISTS,
    NAMESPACE_NOT_FOUND,
    NETWORK_ERROR,
    NOT_REVOCABLE,
    ORIGIN_NOT_ALLOWED,
    PAGE_NOT_FOUND,
    PERMISSION_DENIED,
    RATE_LIMITED,
    RECORD_BUDGET,
    SNAPSHOT_NOT_FOUND,
    SUBSCRIPTION_NOT_FOUND,
    TOO_MANY_LOGINS,
    TOO_MANY_NAMESPACES,
    TOO_MANY_STREAMS,
    UNAUTHORIZED,
    UNKNOWN_ERROR,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_FAILED,
    VENUE_TIMEOUT,
    VENUE_UNAVAILABLE,
    ErrorKind,
)

API_PREFIX = "/api/v3"
ADMIN_PREFIX = "/__admin"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
NAMESPACES_PATH = f"{ADMIN_PREFIX}/namespaces"

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

# bearer: the caller's access token; public: no token (login, the document); admin: the
# admin API (X-Admin-Token when the server has one); probe: open even then (health);
# page: the dashboard's files, open without a token but off when the admin API is.
Auth = Literal["bearer", "public", "admin", "probe", "page"]
# What an armed fault may answer on the emulated API, besides its documented `default`.
_INJECTED = (RATE_LIMITED, UNKNOWN_ERROR)


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
            found += [UNAUTHORIZED, *_INJECTED]
        if self.auth == "admin":
            found += [UNAUTHORIZED, ADMIN_DISABLED]
            if self.method in ("POST", "PUT"):  # any body it is sent must say JSON or YAML
                found.append(UNSUPPORTED_MEDIA_TYPE)
        if self.auth == "page":
            found.append(ADMIN_DISABLED)
        return tuple(dict.fromkeys(found))


_OWNED = (PERMISSION_DENIED, CREDENTIAL_NOT_FOUND)
_OWNED_ACCOUNT = (PERMISSION_DENIED, ACCOUNT_NOT_FOUND, INVALID_STATE)
# What the venue may answer when verify or connect reaches it (scenario and fault `venue`).
_VENUE = (
    INVALID_API_KEY,
    MAINTENANCE,
    VENUE_TIMEOUT,
    NETWORK_ERROR,
    RATE_LIMITED,
    LOCK_NOT_ACQUIRED,
    VENUE_UNAVAILABLE,
    EXCHANGE_ERROR,
)
_CREDENTIAL = f"{API_PREFIX}/credential"
_ACCOUNT = f"{API_PREFIX}/tradingAccount"
_AUTH = f"{API_PREFIX}/auth"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        f"{_CREDENTIAL}/list",
        "api.list_credentials",
        "listCredentials",
        "The caller's credentials, revoked ones included, createdAt then id order",
        "credentials",
        (INVALID_ARGUMENT,),
    ),
    Operation(
        "POST",
        f"{_CREDENTIAL}/create",
        "api.create_credential",
        "createCredential",
        "Register a venue key; answers the new credential with its key masked",
        "credentials",
        (ALREADY_EXIST,),
        body="CreateCredentialRequest",
    ),
    Operation(
        "POST",
        f"{_CREDENTIAL}/verify",
        "api.verify_credentials",
        "verifyCredential",
        "Check stored keys against the (emulated) venue",
        "credentials",
        (*_OWNED, *_VENUE),
        body="VerifyCredentialRequest",
    ),
    Operation(
        "POST",
        f"{_CREDENTIAL}/rotate",
        "api.rotate_credential",
        "rotateCredential",
        "Replace a credential's secrets; updatedAt moves, the old key stops verifying",
        "credentials",
        (ALREADY_REVOKED, INVALID_STATE, *_OWNED, ALREADY_EXIST),
        body="RotateCredentialRequest",
    ),
    Operation(
        "POST",
        f"{_CREDENTIAL}/revoke",
        "api.revoke_credential",
        "revokeCredential",
        "Revoke a credential for good (status REVOKED, revokedAt set)",
        "credentials",
        (ALREADY_REVOKED, NOT_REVOCABLE, *_OWNED),
        body="RevokeCredentialRequest",
    ),
    Operation(
        "POST",
        f"{_ACCOUNT}/connect",
        "api.connect_trading_account",
        "connectTradingAccount",
        "Connect an external account that the caller's verified credentials reach",
        "trading accounts",
        (*_OWNED, ALREADY_REVOKED, INVALID_STATE, ALREADY_CONNECTED, ALREADY_EXIST, *_VENUE),
        body="ConnectTradingAccountRequest",
    ),
    Operation(
        "POST",
        f"{_ACCOUNT}/disconnect",
        "api.disconnect_trading_account",
        "disconnectTradingAccount",
        "Disconnect (archive) a trading account; connecting again makes a new one",
        "trading accounts",
        _OWNED_ACCOUNT,
        body="TradingAccountIdRequest",
    ),
    Operation(
        "POST",
        f"{_ACCOUNT}/enable",
        "api.enable_trading_account",
        "enableTradingAccount",
        "Enable a disabled trading account",
        "trading accounts",
        _OWNED_ACCOUNT,
        body="TradingAccountIdRequest",
    ),
    Operation(
        "POST",
        f"{_ACCOUNT}/disable",
        "api.disable_trading_account",
        "disableTradingAccount",
        "Disable a trading account (it stays connected)",
        "trading accounts",
        _OWNED_ACCOUNT,
        body="TradingAccountIdRequest",
    ),
    Operation(
        "POST",
        f"{_ACCOUNT}/update",
        "api.update_trading_account",
        "updateTradingAccount",
        "Rename a trading account",
        "trading accounts",
        _OWNED_ACCOUNT,
        body="UpdateTradingAccountRequest",
    ),
    Operation(
        "GET",
        f"{_ACCOUNT}/list",
        "api.list_trading_accounts",
        "listTradingAccounts",
        "The caller's trading accounts, disconnected ones included, createdAt then id order",
        "trading accounts",
        (INVALID_ARGUMENT,),
    ),
    Operation(
        "GET",
        f"{_ACCOUNT}/operation/list",
        "api.list_account_operations",
        "listTradingAccountOperations",
        "What happened to the caller's trading accounts, newest first",
        "trading accounts",
        (INVALID_ARGUMENT,),
    ),
    Operation(
        "POST",
        f"{_ACCOUNT}/subscription/subscribe",
        "subscriptions_api.subscribe_trading_account",
        "subscribeTradingAccount",
        "Stream a live trading account: its channel carries events while this is ACTIVE",
        "trading accounts",
        _OWNED_ACCOUNT,
        body="SubscribeTradingAccountRequest",
    ),
    Operation(
        "POST",
        f"{_ACCOUNT}/subscription/unsubscribe",
        "subscriptions_api.unsubscribe_trading_account",
        "unsubscribeTradingAccount",
        "End a subscription (by id, or every active one of an account): TERMINATED",
        "trading accounts",
        (SUBSCRIPTION_NOT_FOUND,),
        body="UnsubscribeTradingAccountRequest",
    ),
    Operation(
        "GET",
        f"{_ACCOUNT}/subscription/list",
        "subscriptions_api.list_trading_account_subscriptions",
        "listTradingAccountSubscriptions",
        "The caller's active trading account subscriptions, createdAt then id order",
        "trading accounts",
        (INVALID_ARGUMENT,),
    ),
    Operation(
        "POST",
        f"{_AUTH}/login",
        "api.login",
        "login",
        "Log in with a scenario user's email and password",
        "auth",
        (INVALID_LOGIN, TOO_MANY_LOGINS, *_INJECTED),
        body="LoginRequest",
        auth="public",
    ),
    Operation(
        "POST",
        f"{_AUTH}/token/refresh",
        "api.refresh_token",
        "refreshToken",
        "Trade a refresh token (used up by this call) for a new session",
        "auth",
        (INVALID_REFRESH_TOKEN, *_INJECTED),
        body="RefreshTokenRequest",
        auth="public",
    ),
    Operation(
        "POST",
        f"{_AUTH}/signup",
        "api.signup",
        "signup",
        "Register a user (a password of 8 characters or more) and log them in",
        "auth",
        (EMAIL_TAKEN, *_INJECTED),
        body="SignupRequest",
        auth="public",
    ),
    Operation(
        "POST",
        f"{_AUTH}/recover",
        "api.recover",
        "recoverPassword",
        "Ask for a password recovery mail: answered alike for any address (none is sent)",
        "auth",
        _INJECTED,
        body="RecoverRequest",
        auth="public",
    ),
    Operation(
        "POST",
        f"{_AUTH}/logout",
        "api.logout",
        "logout",
        "End the session of the bearer access token",
        "auth",
    ),
    Operation(
        "GET",
        f"{_AUTH}/user",
        "api.current_user",
        "getUser",
        "The user the bearer token belongs to",
        "auth",
    ),
    Operation(
        "PUT",
        f"{_AUTH}/user",
        "api.update_user",
        "updateUser",
        "Change the caller's email, password or metadata (merged into userMetadata)",
        "auth",
        (EMAIL_TAKEN,),
        body="UpdateUserRequest",
    ),
    Operation(
        "GET",
        OPENAPI_PATH,
        "meta.openapi_document",
        "getOpenApiDocument",
        "This document, for the running scenario's profile or the one asked for",
        "meta",
        (INVALID_ARGUMENT,),
        auth="public",
    ),
    Operation(
        "GET",
        f"{API_PREFIX}/asyncapi.json",
        "meta.asyncapi_document",
        "getAsyncApiDocument",
        "The AsyncAPI document of the WebSocket API at /connection/websocket",
        "meta",
        auth="public",
    ),
    Operation(
        "GET",
        f"{API_PREFIX}/health",
        "api.health",
        "getHealth",
        "Service health, without a token (the mock is healthy while it answers)",
        "meta",
        auth="public",
    ),
    Operation(
        "GET",
        API_PREFIX,
        "api.root",
        "getRoot",
        "What answers here: the emulated API's name, version, description, documentation",
        "meta",
    ),
    # ----------------------------------------------------------------- the admin API
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/health",
        "admin.health",
        "adminHealth",
        "Liveness, version, scenario, uptime",
        "admin",
        auth="probe",
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/reset",
        "admin.reset",
        "adminReset",
        "Back to the loaded scenario's pristine state (data, clock, journal)",
        "admin",
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/scenario",
        "admin.get_scenario",
        "adminGetScenario",
        "The loaded scenario",
        "admin",
        auth="admin",
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/scenario/reload",
        "admin.reload_scenario",
        "adminReloadScenario",
        "Read the loaded scenario's file again (state reset); a bad edit is a 400 and the "
        "old one keeps serving; one loaded from a body has no file (400)",
        "admin",
        (INVALID_SCENARIO, RECORD_BUDGET),
        auth="admin",
    ),
    Operation(
        "PUT",
        f"{ADMIN_PREFIX}/scenario",
        "admin.put_scenario",
        "adminPutScenario",
        "Load a scenario: ?name=, JSON {name} or {scenario}, or a YAML body; "
        "a bad one is a 400 naming file:line and the old one keeps serving",
        "admin",
        (INVALID_SCENARIO, INVALID_BODY, RECORD_BUDGET),
        reads_body=True,
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/requests",
        "admin.get_requests",
        "adminGetRequests",
        "The journal, newest last, secrets redacted",
        "admin",
        auth="admin",
    ),
    Operation(
        "DELETE",
        f"{ADMIN_PREFIX}/requests",
        "admin.delete_requests",
        "adminDeleteRequests",
        "Empty the journal",
        "admin",
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/requests/stream",
        "journal_stream.stream_requests",
        "adminStreamRequests",
        "The journal live, as server-sent events: the kept entries, then each new one; "
        "ends on a reset, a load or the server stopping; at most --max-streams at once",
        "admin",
        (TOO_MANY_STREAMS,),
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/clock",
        "admin.get_clock",
        "adminGetClock",
        "The mock's clock",
        "admin",
        auth="admin",
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/clock",
        "admin.advance_clock",
        "adminAdvanceClock",
        "Move the clock forward: {advance: seconds} or ?advance=seconds",
        "admin",
        (VALIDATION_FAILED, INVALID_BODY),
        reads_body=True,
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/credentials",
        "admin.get_credentials",
        "adminListCredentials",
        "Stored credentials for assertions, secrets excluded",
        "admin",
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/credentials/{{credentialId}}",
        "admin.get_credential",
        "adminGetCredential",
        "One stored credential, secrets excluded",
        "admin",
        (CREDENTIAL_NOT_FOUND,),
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/trading-accounts",
        "admin.get_trading_accounts",
        "adminListTradingAccounts",
        "Stored trading accounts for assertions, createdAt then id order",
        "admin",
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/trading-accounts/{{tradingAccountId}}",
        "admin.get_trading_account",
        "adminGetTradingAccount",
        "One stored trading account",
        "admin",
        (ACCOUNT_NOT_FOUND,),
        auth="admin",
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/faults",
        "admin.post_fault",
        "adminArmFault",
        "Arm one fault (written like a scenario faults: entry); a bad one is a 400",
        "admin",
        (INVALID_FAULT, INVALID_BODY),
        reads_body=True,
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/faults",
        "admin.get_faults",
        "adminListFaults",
        "Every fault, armed or used up, in evaluation order, with its counters",
        "admin",
        auth="admin",
    ),
    Operation(
        "DELETE",
        f"{ADMIN_PREFIX}/faults",
        "admin.delete_faults",
        "adminClearFaults",
        "Disarm every fault (the scenario's own come back on reset)",
        "admin",
        auth="admin",
    ),
    Operation(
        "DELETE",
        f"{ADMIN_PREFIX}/faults/{{faultId}}",
        "admin.delete_fault",
        "adminDeleteFault",
        "Disarm one fault by id",
        "admin",
        (FAULT_NOT_FOUND,),
        auth="admin",
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/snapshots",
        "admin.post_snapshot",
        "adminTakeSnapshot",
        "Remember data, clock and faults (not the journal); answers the snapshot's id",
        "admin",
        auth="admin",
    ),
    Operation(
        "POST",
        f"{ADMIN_PREFIX}/snapshots/{{snapshotId}}/restore",
        "admin.restore_snapshot",
        "adminRestoreSnapshot",
        "Back to a snapshot taken since the scenario was loaded (it stays usable)",
        "admin",
        (SNAPSHOT_NOT_FOUND,),
        auth="admin",
    ),
    Operation(
        "POST",
        f"{NAMESPACES_PATH}",
        "admin.post_namespace",
        "adminCreateNamespace",
        "A new isolated namespace on a scenario; answers its name and its users' tokens",
        "admin",
        (INVALID_SCENARIO, INVALID_BODY, INVALID_ARGUMENT, NAMESPACE_EXISTS, TOO_MANY_NAMESPACES),
        reads_body=True,
        auth="admin",
    ),
    Operation(
        "GET",
        f"{NAMESPACES_PATH}",
        "admin.get_namespaces",
        "adminListNamespaces",
        "The namespaces besides the server's own (no tokens)",
        "admin",
        auth="admin",
    ),
    Operation(
        "DELETE",
        f"{NAMESPACES_PATH}/{{name}}",  # the one to drop, not the one the call is for
        "admin.delete_namespace",
        "adminDeleteNamespace",
        "Drop a namespace: its data, journal and connections end",
        "admin",
        (INVALID_ARGUMENT,),
        auth="admin",
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/ui",
        "ui.page",
        "adminDashboard",
        "The dashboard (HTML); its data comes from the admin API, which needs the token",
        "admin",
        auth="page",
        namespaced=False,
    ),
    Operation(
        "GET",
        f"{ADMIN_PREFIX}/ui/{{asset}}",
        "ui.asset",
        "adminDashboardAsset",
        "A file of the dashboard: app.js, style.css, favicon.svg, index.html (the page again)",
        "admin",
        (PAGE_NOT_FOUND,),
        auth="page",
        namespaced=False,
    ),
)

# Every other admin operation is also served under NAMESPACES_PATH/{namespace}: that
# namespace's reset, scenario, journal and so on (the X-Cadenza-Mock-Namespace header
# does the same on the plain paths).
NAMESPACED_ADMIN: tuple[Operation, ...] = tuple(
    op
    for op in OPERATIONS
    if op.path.startswith(ADMIN_PREFIX)
    and not op.path.startswith(NAMESPACES_PATH)
    and op.namespaced
)


def namespaced_path(path: str) -> str:
    """`/__admin/reset` -> `/__admin/namespaces/{namespace}/reset`."""
    return f"{NAMESPACES_PATH}/{{namespace}}{path.removeprefix(ADMIN_PREFIX)}"


def plain_path(path: str) -> str:
    """`/__admin/namespaces/team-a/reset` -> `/__admin/reset` (namespaced_path undone, on
    a request's path); any other path as it is."""
    name, slash, rest = path.removeprefix(NAMESPACES_PATH + "/").partition("/")
    if not path.startswith(NAMESPACES_PATH + "/") or not (name and slash and rest):
        return path
    return f"{ADMIN_PREFIX}/{rest}"

"""The emulated Cadenza API's rows of the route table (credentials, trading accounts and
their subscriptions, auth, meta), apart from the admin API's to keep each table readable.

Each row is the operation's one declaration: route, handler, errors, body, what a 200
carries per profile, query parameters (query_params.py), venue, RPC twin."""

from __future__ import annotations

from typing import Any

from cadenza_mock.contract.errors import (
    ACCOUNT_NOT_FOUND,
    ALREADY_CONNECTED,
    ALREADY_EXIST,
    ALREADY_REVOKED,
    CREDENTIAL_NOT_FOUND,
    EMAIL_TAKEN,
    EXCHANGE_ERROR,
    INVALID_API_KEY,
    INVALID_ARGUMENT,
    INVALID_LOGIN,
    INVALID_REFRESH_TOKEN,
    INVALID_STATE,
    LOCK_NOT_ACQUIRED,
    MAINTENANCE,
    NETWORK_ERROR,
    NOT_REVOCABLE,
    PERMISSION_DENIED,
    RATE_LIMITED,
    SUBSCRIPTION_NOT_FOUND,
    TOO_MANY_LOGINS,
    VENUE_TIMEOUT,
    VENUE_UNAVAILABLE,
)
from cadenza_mock.contract.json_schema import EPOCH_MS, ISO_MS, ref, strict
from cadenza_mock.contract.model import PROFILE_NAMES
from cadenza_mock.contract.operation_type import (
    API_PREFIX,
    INJECTED,
    OPENAPI_PATH,
    Answer,
    Operation,
    Schema,
)
from cadenza_mock.contract.query_params import (
    ACCOUNT_LIST,
    CREDENTIAL_LIST,
    DOCUMENT_PROFILE,
    OPERATION_LIST,
    SUBSCRIPTION_LIST,
    UNPAGED,
)

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


def _credential_links(profile: str) -> dict[str, Any]:
    """What can be done next with the credential a call answered (OpenAPI links).

    A `requestBody` names only the field the answer provides, a runtime expression embedded
    in the body; the caller (or a fuzzer such as schemathesis) supplies the rest.
    """
    answered = "$response.body#/data/credentialId"
    ids: Any = [answered] if profile == "sdk" else answered
    verify_field = "credentialIds" if profile == "sdk" else "credentialId"

    def link(operation_id: str, description: str, **target: Any) -> dict[str, Any]:
        return {"operationId": operation_id, "description": description, **target}

    return {
        "verify": link("verifyCredential", "Verify its keys", requestBody={verify_field: ids}),
        "rotate": link(
            "rotateCredential",
            "Replace its secrets (apiKey, apiSecret from the caller)",
            requestBody={"credentialId": answered},
        ),
        "revoke": link("revokeCredential", "Revoke it", requestBody={"credentialId": answered}),
        "inspect": link(
            "adminGetCredential",
            "The stored record (admin API)",
            parameters={"path.credentialId": answered},
        ),
    }


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(name)}


# The sdk's lists add `pagination` to the envelope (the trading account lists'; the
# credential list's is a pagination of one page).
_PAGED: dict[str, Schema] = {"docs": {}, "sdk": {"pagination": ref("Pagination")}}
_CREDENTIAL_ANSWER: dict[str, Answer] = {
    p: Answer(ref("Credential"), links=_credential_links(p)) for p in PROFILE_NAMES
}
_ACCOUNT_ANSWER = Answer(ref("TradingAccount"))
_SUBSCRIPTION_ANSWER = Answer(ref("TradingAccountSubscription"))
_SESSION = Answer(ref("Session"))
_USER = Answer(ref("User"))
# Health and root report the API version emulated; the mock's own release is here.
_MOCK_VERSION = {
    "X-Cadenza-Mock-Version": {
        "description": "cadenza-mock's own release (the body's version is the emulated API's)",
        "schema": {"type": "string"},
    }
}
_HEALTH_STATUS = {"status": {"enum": ["healthy", "degraded", "unhealthy"]}}
_HEALTH = strict(
    {
        **_HEALTH_STATUS,
        "timestamp": EPOCH_MS,
        "isoDateTime": ISO_MS,
        "version": {"type": "string"},
        "checks": {"type": "object", "additionalProperties": strict(dict(_HEALTH_STATUS))},
    }
)
_ROOT = strict(
    {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "description": {"type": "string"},
        "documentation": {"type": "string"},
    }
)

API_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        f"{_CREDENTIAL}/list",
        "api.list_credentials",
        "listCredentials",
        "The caller's credentials, revoked ones included, createdAt then id order",
        "credentials",
        (INVALID_ARGUMENT,),
        answer={p: Answer(_array("Credential"), _PAGED[p]) for p in PROFILE_NAMES},
        params=CREDENTIAL_LIST,
        ignored=UNPAGED,
        rpc="query.credential.list",
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
        answer=_CREDENTIAL_ANSWER,
        rpc="command.credential.create",
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
        answer={
            "docs": Answer(
                {
                    "oneOf": [ref("VerifyResult"), _array("VerifyResult")],
                    "description": "one result for {credentialId}, a list for {credentialIds}",
                }
            ),
            "sdk": Answer(
                _array("TradingAccount"), summary_extra=": the trading accounts they reach"
            ),
        },
        venue=True,
        rpc="command.credential.verify",
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
        answer=_CREDENTIAL_ANSWER,
        rpc="command.credential.rotate",
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
        answer={"docs": Answer(ref("RevokedCredential")), "sdk": Answer(ref("Credential"))},
        rpc="command.credential.revoke",
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
        answer=_ACCOUNT_ANSWER,
        venue=True,
        rpc="command.trading_account.connect",
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
        answer={"docs": Answer(ref("DisconnectedTradingAccount")), "sdk": _ACCOUNT_ANSWER},
        rpc="command.trading_account.disconnect",
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
        answer=_ACCOUNT_ANSWER,
        rpc="command.trading_account.enable",
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
        answer=_ACCOUNT_ANSWER,
        rpc="command.trading_account.disable",
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
        answer=_ACCOUNT_ANSWER,
        rpc="command.trading_account.update",
    ),
    Operation(
        "GET",
        f"{_ACCOUNT}/list",
        "api.list_trading_accounts",
        "listTradingAccounts",
        "The caller's trading accounts, disconnected ones included, createdAt then id order",
        "trading accounts",
        (INVALID_ARGUMENT,),
        answer={p: Answer(_array("TradingAccount"), _PAGED[p]) for p in PROFILE_NAMES},
        params=ACCOUNT_LIST,
        rpc="query.trading_account.list",
    ),
    Operation(
        "GET",
        f"{_ACCOUNT}/operation/list",
        "api.list_account_operations",
        "listTradingAccountOperations",
        "What happened to the caller's trading accounts, newest first",
        "trading accounts",
        (INVALID_ARGUMENT,),
        answer={p: Answer(_array("AccountOperation"), _PAGED[p]) for p in PROFILE_NAMES},
        params=OPERATION_LIST,
        rpc="query.trading_account.operation.list",
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
        answer=_SUBSCRIPTION_ANSWER,
        rpc="command.trading_account.subscribe",
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
        answer=_SUBSCRIPTION_ANSWER,
        rpc="command.trading_account.unsubscribe",
    ),
    Operation(
        "GET",
        f"{_ACCOUNT}/subscription/list",
        "subscriptions_api.list_trading_account_subscriptions",
        "listTradingAccountSubscriptions",
        "The caller's active trading account subscriptions, createdAt then id order",
        "trading accounts",
        (INVALID_ARGUMENT,),
        answer=Answer(_array("TradingAccountSubscription")),
        params=SUBSCRIPTION_LIST,
        rpc="query.trading_account.subscription.list",
    ),
    Operation(
        "POST",
        f"{_AUTH}/login",
        "api.login",
        "login",
        "Log in with a scenario user's email and password",
        "auth",
        (INVALID_LOGIN, TOO_MANY_LOGINS, *INJECTED),
        body="LoginRequest",
        auth="public",
        answer=_SESSION,
    ),
    Operation(
        "POST",
        f"{_AUTH}/token/refresh",
        "api.refresh_token",
        "refreshToken",
        "Trade a refresh token (used up by this call) for a new session",
        "auth",
        (INVALID_REFRESH_TOKEN, *INJECTED),
        body="RefreshTokenRequest",
        auth="public",
        answer=_SESSION,
    ),
    Operation(
        "POST",
        f"{_AUTH}/signup",
        "api.signup",
        "signup",
        "Register a user (a password of 8 characters or more) and log them in",
        "auth",
        (EMAIL_TAKEN, *INJECTED),
        body="SignupRequest",
        auth="public",
        answer=_SESSION,
    ),
    Operation(
        "POST",
        f"{_AUTH}/recover",
        "api.recover",
        "recoverPassword",
        "Ask for a password recovery mail: answered alike for any address (none is sent)",
        "auth",
        INJECTED,
        body="RecoverRequest",
        auth="public",
        answer=Answer({"const": "ok"}),
    ),
    Operation(
        "POST",
        f"{_AUTH}/logout",
        "api.logout",
        "logout",
        "End the session of the bearer access token",
        "auth",
        answer=Answer({"type": "string"}),
    ),
    Operation(
        "GET",
        f"{_AUTH}/user",
        "api.current_user",
        "getUser",
        "The user the bearer token belongs to",
        "auth",
        answer=_USER,
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
        answer=_USER,
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
        answer=Answer(whole={"type": "object", "required": ["openapi", "paths"]}),
        params=DOCUMENT_PROFILE,
    ),
    Operation(
        "GET",
        f"{API_PREFIX}/asyncapi.json",
        "meta.asyncapi_document",
        "getAsyncApiDocument",
        "The AsyncAPI document of the WebSocket API at /connection/websocket",
        "meta",
        auth="public",
        answer=Answer(whole={"type": "object", "required": ["asyncapi", "channels"]}),
    ),
    Operation(
        "GET",
        f"{API_PREFIX}/health",
        "api.health",
        "getHealth",
        "Service health, without a token (the mock is healthy while it answers)",
        "meta",
        auth="public",
        answer=Answer(whole=_HEALTH, headers=_MOCK_VERSION),
        rpc="query.system.check",
    ),
    Operation(
        "GET",
        API_PREFIX,
        "api.root",
        "getRoot",
        "What answers here: the emulated API's name, version, description, documentation",
        "meta",
        answer=Answer(_ROOT, headers=_MOCK_VERSION),
        rpc="query.system.info",
    ),
)

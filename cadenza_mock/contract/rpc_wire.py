"""JSON shapes of the WebSocket API: the platform document's `rpc*` schemas.

Apart from `wire.py` because the WebSocket API spells things its own way: ISO-8601 times
instead of milliseconds, `externalAccountId`, results wrapped in `{data}` (or `{error}`),
errors as `{code, message, temporary}` with the positive code of the REST API's catalogue
row. Never an `apiKey`: the mock never answers `withSecret` data. What the document does
not make nullable is left out when absent, never sent as null.

The WebSocket API is documented only in the sdk vocabulary (the official `Rpc*` models
reject anything else), so it speaks it whatever the scenario's REST profile: a docs-profile
scenario's values are mapped here, one table each (see the README's WebSocket section):
venues BYBIT, COINBASE and KRAKEN (no sdk counterpart) are MOCK; credential types EXCHANGE
and BROKER (keys with a secret, both) are API_KEY; the FUTURES account type is MARGIN.
Statuses need no table: docs credential statuses are sdk ones, and the engine keeps trading
account statuses in sdk names (docs' DISABLED is INACTIVE).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import AccountOperation, Credential, Subscription, TradingAccount
from cadenza_mock.contract.wire import iso_ms
from cadenza_mock.engine.subscriptions import ACCOUNT_UPDATED, CREDENTIAL_UPDATED, ChannelEvent

# docs-profile values -> the sdk's; sdk values pass unchanged.
VENUES = {"BYBIT": "MOCK", "COINBASE": "MOCK", "KRAKEN": "MOCK"}
CREDENTIAL_TYPES = {"EXCHANGE": "API_KEY", "BROKER": "API_KEY"}
ACCOUNT_TYPES = {"FUTURES": "MARGIN"}
# The engine's operation types -> the document's tradingAccountOperationType; the others
# (UPDATE, CREDENTIAL_REVOKE, CREDENTIAL_ROTATE) have no counterpart: operationType is left
# out, and `tags` always names the REST API's operationType.
OPERATION_TYPES = {name: name for name in ("CONNECT", "DISCONNECT", "ENABLE", "DISABLE")}


def venue(name: str) -> str:
    return VENUES.get(name, name)


def credential_type(name: str) -> str:
    return CREDENTIAL_TYPES.get(name, name)


def named(wanted: str, values: Iterable[str], table: Mapping[str, str]) -> frozenset[str]:
    """The scenario's values (`values`) that the WebSocket API calls `wanted`: what a
    filter or param in the sdk vocabulary means for a docs-profile scenario."""
    return frozenset(v for v in values if table.get(v, v) == wanted)


def _present(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}


def credential(cred: Credential) -> dict[str, Any]:
    """rpcTradingAccountCredential (without the secret fields, whatever was asked)."""
    return _present(
        {
            "credentialId": cred.credential_id,
            "nickname": cred.name,
            "credentialType": credential_type(cred.type),
            "status": cred.status,
            "venue": venue(cred.venue),
            "createdAt": iso_ms(cred.created_at),
            "updatedAt": iso_ms(cred.updated_at),
            "revokedAt": iso_ms(cred.revoked_at),
            "withInfo": True,
            "withSecret": False,
        }
    )


def trading_account(account: TradingAccount, creds: list[Credential]) -> dict[str, Any]:
    """rpcTradingAccount (statuses in the engine's names, which are the sdk's)."""
    return {
        "tradingAccountId": account.trading_account_id,
        "userId": account.user_id,
        "nickname": account.nickname,
        "externalAccountId": account.external_id,
        "venue": venue(account.venue),
        "status": account.status,
        "accountType": ACCOUNT_TYPES.get(account.account_type, account.account_type),
        "externalAccountType": account.external_account_type,
        "credentials": [credential(c) for c in creds],
        "createdAt": iso_ms(account.created_at),
        "updatedAt": iso_ms(account.updated_at),
    }


def subscription(sub: Subscription) -> dict[str, Any]:
    """rpcSubscription (it has no tradingAccountId: the call or channel names it)."""
    return {
        "subscriptionId": sub.subscription_id,
        "venue": venue(sub.venue),
        "subscriptionType": sub.subscription_type,
        "status": sub.status,
        "createdAt": iso_ms(sub.created_at),
        "updatedAt": iso_ms(sub.updated_at),
    }


def operation(op: AccountOperation) -> dict[str, Any]:
    """rpcTradingAccountOperationHistory."""
    return _present(
        {
            "tradingAccountHistoryId": op.operation_id,
            "tradingAccountId": op.trading_account_id,
            "timestamp": iso_ms(op.created_at),
            "operationType": OPERATION_TYPES.get(op.operation_type),
            "operateBy": op.user_id,
            "tags": [op.operation_type],
        }
    )


def pagination(page: Mapping[str, object]) -> dict[str, object]:
    """rpcPagination: what is absent (no next cursor) left out."""
    return {k: v for k, v in page.items() if v is not None}


def event(found: ChannelEvent, creds: list[Credential]) -> dict[str, Any]:
    """A publication's data: the document's rpc*UpdatedEvent, `{data: <record>}` (no name:
    the record's own ids tell them apart). `creds`: an account's, for its event."""
    record = found.record
    if found.payload is not None:  # a trading event: made by the order engine
        return {"data": dict(found.payload)}
    if found.name == CREDENTIAL_UPDATED and isinstance(record, Credential):
        return {"data": credential(record)}
    if found.name == ACCOUNT_UPDATED and isinstance(record, TradingAccount):
        return {"data": trading_account(record, creds)}
    assert isinstance(record, Subscription), found
    return {"data": subscription(record)}


def error(err: ApiError) -> dict[str, Any]:
    """rpcError: the catalogue row's code made positive; 5xx and 429 are temporary, but
    501 (not emulated): retrying never helps."""
    return {
        "code": abs(err.errno),
        "message": err.message,
        "temporary": (err.status >= 500 and err.status != 501) or err.status == 429,
    }


def error_result(err: ApiError) -> dict[str, Any]:
    """An rpc*Result that failed: `{error}` (its `data` is not nullable: left out). It is
    the RPC's result, so a client reads it as Rpc*Result.from_dict(result.data).error and
    centrifuge-python raises nothing; only protocol errors are reply-level."""
    return {"error": error(err)}

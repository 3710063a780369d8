"""JSON shapes of the WebSocket API: the official client's `Rpc*` models.

Apart from `wire.py` because the WebSocket API spells things its own way: ISO-8601 times
instead of milliseconds, `externalAccountId`, results wrapped in `{data}`, errors as
`{code, message, temporary}` with the positive code of the REST API's catalogue row.
Never an `apiKey`: the mock never answers `withSecret` data.
"""

from __future__ import annotations

from typing import Any

from cadenza_mock.errors import ApiError
from cadenza_mock.model import Credential, ProfileEnums, TradingAccount
from cadenza_mock.wire import iso_ms


def credential(cred: Credential) -> dict[str, Any]:
    """RpcTradingAccountCredential (without the secret fields, whatever was asked)."""
    return {
        "credentialId": cred.credential_id,
        "nickname": cred.name,
        "credentialType": cred.type,
        "status": cred.status,
        "venue": cred.venue,
        "createdAt": iso_ms(cred.created_at),
        "updatedAt": iso_ms(cred.updated_at),
        "revokedAt": iso_ms(cred.revoked_at),
        "withInfo": True,
        "withSecret": False,
    }


def trading_account(
    account: TradingAccount, creds: list[Credential], enums: ProfileEnums
) -> dict[str, Any]:
    """RpcTradingAccount."""
    return {
        "tradingAccountId": account.trading_account_id,
        "userId": account.user_id,
        "nickname": account.nickname,
        "externalAccountId": account.external_id,
        "venue": account.venue,
        "status": enums.account_status_out(account.status),
        "accountType": account.account_type,
        "externalAccountType": account.external_account_type,
        "credentials": [credential(c) for c in creds],
        "createdAt": iso_ms(account.created_at),
        "updatedAt": iso_ms(account.updated_at),
    }


def credential_event(cred: Credential) -> dict[str, Any]:
    """The `event.credential.updated` publication (RpcCredentialUpdatedEvent)."""
    return {"method": "event.credential.updated", "data": credential(cred)}


def error(err: ApiError) -> dict[str, Any]:
    """RpcError: the catalogue row's code made positive; 5xx and 429 are temporary."""
    return {
        "code": abs(err.errno),
        "message": err.message,
        "temporary": err.status >= 500 or err.status == 429,
    }


def error_reply(command_id: int, err: ApiError) -> dict[str, Any]:
    return {"id": command_id, "error": error(err)}

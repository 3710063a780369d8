"""What `cadenza-mock record` saw, as a scenario this mock serves.

The proxy (http/proxy.py) hands each answer it forwarded to a `Recording`, with the
caller named by a fingerprint of its token (a keyed hash whose key lives as long as the
process): the token itself never reaches this module. Users are kept by the token's
subject (a JWT's `sub`, else the user an answer names), credentials and trading accounts
as explicit records in the profile the upstream spoke, every secret replaced by
`REDACTED_VALUE`; each user gets a fresh token of its own. Answered queries over the
WebSocket become the scenario's `replay:` list (scenario/replay.py serves it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import yaml

from cadenza_mock.contract.model import IDENTITIES, PROFILES, base_venue
from cadenza_mock.engine.journal import redact_body

# What stands for a secret the recording did not keep (apiSecret and apiPassphrase of a
# record whose masked apiKey is kept: OKX records need all three).
REDACTED_VALUE = "REDACTED"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_SDK_CREDENTIAL = ("credentialType", "nickname", "createdAtDateTime")
_DOCS_CREDENTIAL = ("type", "name", "userId", "apiKey")
_CREDENTIAL_FIELDS = {
    "docs": ("credentialId", "venue", "name", "type", "apiKey", "status"),
    "sdk": ("credentialId", "venue", "nickname", "credentialType", "status"),
}
_STAMPS = ("createdAt", "updatedAt", "revokedAt")
_ACCOUNT_FIELDS = (
    "tradingAccountId",
    "externalTradingAccountId",
    "nickname",
    "accountType",
    "externalAccountType",
    "status",
    "createdAt",
    "updatedAt",
)


class Fingerprints:
    """A token's stand-in: HMAC-SHA256 under a key made at start and never written."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def of(self, token: str) -> str:
        return hmac.new(self._key, token.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def token_subject(token: str) -> str | None:
    """A JWT's `sub` claim (unverified: it names, it does not authorise), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    sub = payload.get("sub") if isinstance(payload, dict) else None
    return sub if isinstance(sub, str) and sub else None


@dataclass
class _User:
    subject: str
    user_id: str | None = None
    email: str | None = None
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Records seen only in WebSocket answers (their own shape: ISO times, `externalAccountId`).
    rpc_credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    rpc_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Exchange:
    """One answered WebSocket RPC: params redacted; `result` or `error` as the reply had."""

    method: str
    params: Any
    result: Any = None
    error: Any = None


class Recording:
    """Everything seen, by user; `scenario()` is the file's content."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.profile: str | None = None
        self._users: dict[str, _User] = {}  # by subject, in order of first sight
        self._subjects: dict[str, str] = {}  # token fingerprint -> subject
        self._replay: dict[tuple[str, str, str], Exchange] = {}

    # ------------------------------------------------------------- who is calling

    def subject_for(self, fingerprint: str, jwt_subject: str | None) -> str:
        """The subject a token speaks for: its JWT `sub`, else one seen before for it (a
        login answer names its user), else a new `caller-N`."""
        subject = jwt_subject or self._subjects.get(fingerprint)
        if subject is None:
            subject = f"caller-{len(self._users) + 1}"
        self._subjects[fingerprint] = subject
        if subject not in self._users:
            user = _User(subject)
            if _UUID.match(subject):
                user.user_id = subject.lower()
            self._users[subject] = user
        return subject

    def knows(self, fingerprint: str) -> bool:
        return fingerprint in self._subjects

    def logged_in(self, fingerprint: str, user: Any) -> None:
        """A login or refresh answer: its new access token (by fingerprint) is this user."""
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            return
        subject = self.subject_for(fingerprint, user["id"])
        self.saw_user(subject, user)

    def saw_user(self, subject: str, user: Any) -> None:
        if not isinstance(user, dict):
            return
        found = self._users[subject]
        if isinstance(user.get("id"), str) and _UUID.match(user["id"]):
            found.user_id = user["id"].lower()
        if isinstance(user.get("email"), str) and "@" in user["email"]:
            found.email = user["email"]

    # ------------------------------------------------------------- what was answered

    def saw_answer(self, subject: str | None, path: str, body: bytes) -> None:
        """A successful REST answer's body: the records it shows, kept."""
        try:
            document = json.loads(body)
        except ValueError:
            return
        if not isinstance(document, dict) or document.get("success") is False:
            return
        data = document.get("data")
        if path.endswith(("/auth/login", "/auth/token/refresh")) and isinstance(data, dict):
            return  # handled by the proxy, which fingerprints the new token
        if subject is None:
            return
        if path.endswith("/auth/user"):
            self.saw_user(subject, data)
        elif path.startswith("/api/v3/credential/"):
            self._credentials(subject, data)
        elif path.startswith("/api/v3/tradingAccount/") and "/operation/" not in path:
            if "pagination" in document:
                self._spoke("sdk")
            self._accounts(subject, data)

    def saw_rpc(self, subject: str, exchange: Exchange) -> None:
        """An answered RPC: a query is kept for `replay:`, a list's records as records."""
        if exchange.method.startswith("query."):
            key = (subject, exchange.method, json.dumps(exchange.params, sort_keys=True))
            self._replay[key] = exchange
        result = exchange.result if isinstance(exchange.result, dict) else {}
        data = result.get("data")
        user = self._users[subject]
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("tradingAccountId"), str):
                user.rpc_accounts[item["tradingAccountId"]] = item
                if isinstance(item.get("userId"), str) and _UUID.match(item["userId"]):
                    user.user_id = item["userId"].lower()
                credentials = [c for c in item.get("credentials") or () if isinstance(c, dict)]
            else:
                credentials = [item]
            for credential in credentials:
                if isinstance(credential.get("credentialId"), str):
                    user.rpc_credentials[credential["credentialId"]] = credential

    def _spoke(self, profile: str) -> None:
        if self.profile is None:
            self.profile = profile

    def _credentials(self, subject: str, data: Any) -> None:
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get("credentialId"), str):
                self._credential(subject, item)

    def _credential(self, subject: str, item: dict[str, Any]) -> None:
        if any(name in item for name in _SDK_CREDENTIAL):
            self._spoke("sdk")
        elif any(name in item for name in _DOCS_CREDENTIAL):
            self._spoke("docs")
        user = self._users[subject]
        if isinstance(item.get("userId"), str) and _UUID.match(item["userId"]):
            user.user_id = item["userId"].lower()
        user.credentials[item["credentialId"]] = item

    def _accounts(self, subject: str, data: Any) -> None:
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get("tradingAccountId"), str):
                self._users[subject].accounts[item["tradingAccountId"]] = item
                for credential in item.get("credentials") or ():
                    if isinstance(credential, dict) and "credentialId" in credential:
                        self._credential(subject, credential)

    # ------------------------------------------------------------- the file

    def scenario(self) -> dict[str, Any]:
        profile = self.profile or "docs"
        users = []
        replay = []
        skipped = 0
        for number, user in enumerate(self._users.values(), 1):
            entry: dict[str, Any] = {}
            if user.user_id:
                entry["id"] = user.user_id
            entry["email"] = user.email or f"recorded-{number}@example.com"
            entry["tokens"] = [f"recorded-{secrets.token_urlsafe(12)}"]
            seen = dict(user.credentials)
            for key, rpc in user.rpc_credentials.items():
                if key not in seen:
                    converted = _from_rpc_credential(rpc, profile)
                    if converted is None:
                        skipped += 1
                    else:
                        seen[key] = converted
            credentials = [_credential_record(item, profile) for item in seen.values()]
            if credentials:
                entry["credentials"] = credentials
            accounts = []
            taken: set[tuple[str, str]] = set()
            found = dict(user.accounts)
            for key, rpc in user.rpc_accounts.items():
                if key not in found and (converted := _from_rpc_account(rpc, profile)):
                    found[key] = converted
            for item in found.values():
                record = _account_record(item, user, taken)
                if record is None:
                    skipped += 1
                else:
                    accounts.append(record)
            if accounts:
                entry["trading_accounts"] = accounts
            users.append(entry)
            for (subject, _, _), exchange in self._replay.items():
                if subject == user.subject:
                    replay.append(_exchange_record(entry["email"], exchange))
        description = f"recorded from {self.upstream} by cadenza-mock record"
        if skipped:
            description += f" ({skipped} records the {profile} profile cannot hold left out)"
        document: dict[str, Any] = {"description": description, "profile": profile}
        document["users"] = users
        if replay:
            document["replay"] = replay
        return document

    def yaml_text(self) -> str:
        header = (
            "# Recorded by `cadenza-mock record` (see docs/recording.md).\n"
            f"# Redacted: every token (each user has a new one), password, apiSecret and\n"
            f"# apiPassphrase ({REDACTED_VALUE!r} where a record needs one), and every secret\n"
            "# in RPC params ('<redacted>'); API keys are kept only as the masked form served.\n"
        )
        return header + yaml.safe_dump(
            self.scenario(), sort_keys=False, allow_unicode=True, width=100
        )


def _credential_record(item: dict[str, Any], profile: str) -> dict[str, Any]:
    record = {name: item[name] for name in _CREDENTIAL_FIELDS[profile] if name in item}
    for name in _STAMPS:
        if isinstance(item.get(name), (int, str)):  # ms, or an RPC answer's ISO-8601
            record[name] = item[name]
    api_key = record.get("apiKey")
    if api_key is not None and not (isinstance(api_key, str) and api_key.endswith("***")):
        del record["apiKey"]  # only a masked key is kept
    if "apiKey" in record:  # a record that gives its key gives its secrets: placeholders
        record["apiSecret"] = REDACTED_VALUE
        if record.get("venue") == "OKX":
            record["apiPassphrase"] = REDACTED_VALUE
    return record


def _from_rpc_credential(rpc: dict[str, Any], profile: str) -> dict[str, Any] | None:
    """A credential of a WebSocket answer as the REST answer of `profile` shows it; None
    when its status is not one of that profile's."""
    enums = PROFILES[profile]
    if rpc.get("status") not in enums.statuses or rpc.get("venue") not in enums.venues:
        return None
    name, kind = ("nickname", "credentialType") if profile == "sdk" else ("name", "type")
    item = {"credentialId": rpc["credentialId"], "venue": rpc["venue"], "status": rpc["status"]}
    if isinstance(rpc.get("nickname"), str):
        item[name] = rpc["nickname"]
    if rpc.get("credentialType") in enums.types:
        item[kind] = rpc["credentialType"]
    item.update({stamp: rpc[stamp] for stamp in _STAMPS if isinstance(rpc.get(stamp), str)})
    return item


def _from_rpc_account(rpc: dict[str, Any], profile: str) -> dict[str, Any] | None:
    """A trading account of a WebSocket answer in the REST answer's sdk shape (which names
    its credentials and external account); None when the profile has not its status."""
    enums = PROFILES[profile]
    status = enums.account_status_out(str(rpc.get("status")))
    if status not in enums.account_statuses:
        return None
    item = {
        "tradingAccountId": rpc["tradingAccountId"],
        "externalTradingAccountId": rpc.get("externalAccountId"),
        "credentials": rpc.get("credentials") or [],
        "status": status,
    }
    if rpc.get("accountType") in enums.account_types:
        item["accountType"] = rpc["accountType"]
    names = ("nickname", "externalAccountType", "createdAt", "updatedAt")
    item.update({name: rpc[name] for name in names if isinstance(rpc.get(name), str)})
    return item


def _account_record(
    item: dict[str, Any], user: _User, taken: set[tuple[str, str]]
) -> dict[str, Any] | None:
    """An account as a record. The sdk's answer names its credentials and external account;
    the docs profile's does not: then one of the user's credentials on its venue backs it
    (an ACTIVE one unless it is DISCONNECTED) on an external account of that venue not yet
    taken (its accountType's word first). None when no credential fits."""
    backing = [c["credentialId"] for c in item.get("credentials") or () if isinstance(c, dict)]
    record: dict[str, Any] = {"tradingAccountId": item["tradingAccountId"]}
    if backing and item.get("externalTradingAccountId"):
        record["credentials"] = backing
        record.update({name: item[name] for name in _ACCOUNT_FIELDS[1:] if name in item})
        return record
    venue, live = item.get("venue"), item.get("status") != "DISCONNECTED"
    fitting = [
        c["credentialId"]
        for c in user.credentials.values()
        if c.get("venue") == venue and (c.get("status") == "ACTIVE" or not live)
    ]
    identities = IDENTITIES.get(base_venue(str(venue)), ("spot",))
    wanted = str(item.get("accountType", "")).lower()
    ordered = sorted(identities, key=lambda identity: identity != wanted)
    for credential in fitting:
        for identity in ordered:
            if not live or (credential, identity) not in taken:
                if live:
                    taken.add((credential, identity))
                record["credentials"] = [credential]
                record["externalTradingAccountId"] = identity
                if "name" in item:
                    record["nickname"] = item["name"]
                for name in ("accountType", "status", "createdAt", "updatedAt"):
                    if name in item:
                        record[name] = item[name]
                return record
    return None


def _exchange_record(email: str, exchange: Exchange) -> dict[str, Any]:
    record: dict[str, Any] = {"user": email, "method": exchange.method}
    record["params"] = redact_body(exchange.params)
    if exchange.error is not None:
        record["error"] = exchange.error
    else:
        record["result"] = exchange.result
    return record

"""Shared by the WebSocket contract tests (test_websocket_contract.py, test_websocket_events.py):
the sdk scenario they run on, raw frames and the helpers that open sockets and accounts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from centrifuge import Client

WS = "/connection/websocket"
ACCOUNT = "/api/v3/tradingAccount"
ALICE_TOKEN, BOB_TOKEN = "alice-token", "bob-token"
ALICE = {"Authorization": f"Bearer {ALICE_TOKEN}"}
BOB = {"Authorization": f"Bearer {BOB_TOKEN}"}
ALICE_CRED = "21111111-1111-4111-8111-111111111111"
BOB_CRED = "26666666-6666-4666-8666-666666666666"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
SECRETS = ("contract-secret-alice-1", "contract-secret-bob-2", "contract-rotated-3")
KEYS = ("contractALICEkey0123456789", "contractBOBkey0123456789ab", "contractNEWkey0123456789")
USER_DATA = "TRADING_ACCOUNT.SUBSCRIPTION.USER_DATA"
PORTFOLIO = "TRADING_ACCOUNT.SUBSCRIPTION.PORTFOLIO"
ACCOUNT_EVENT = "rpcTradingAccountUpdatedEvent"
CREDENTIAL_EVENT = "rpcCredentialUpdatedEvent"
SUBSCRIPTION_EVENT = "rpcTradingAccountSubscriptionUpdatedEvent"


def user_record(email: str, token: str, cred: str, key: str, secret: str) -> dict[str, Any]:
    return {
        "email": email,
        "tokens": [token],
        "credentials": [
            {
                "credentialId": cred,
                "venue": "BINANCE",
                "credentialType": "API_KEY",
                "status": "ACTIVE",
                "apiKey": key,
                "apiSecret": secret,
            }
        ],
    }


SCENARIO: dict[str, Any] = {
    "profile": "sdk",
    "seed": 24,
    "now": "2026-03-01T00:00:00Z",
    "users": [
        user_record("alice@example.com", ALICE_TOKEN, ALICE_CRED, KEYS[0], SECRETS[0]),
        user_record("bob@example.com", BOB_TOKEN, BOB_CRED, KEYS[1], SECRETS[1]),
    ],
}


def ws_url(mock: Any) -> str:
    return str(mock.make_url(WS)).replace("http://", "ws://", 1)


async def centrifuge(mock: Any, token: str = ALICE_TOKEN) -> Client:
    client = Client(ws_url(mock), token=token)
    await client.connect()
    await client.ready(timeout=5)
    return client


class Socket:
    """Raw frames: a reply or push at a time, each parsed."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[str] = []  # every text received, for the no-secret checks
        self._next = 10

    async def send(self, command: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(command))

    async def frame(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.receive(), 5)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        self.seen.append(message.data)
        found: dict[str, Any] = json.loads(message.data)
        return found

    async def call(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send one command; its reply (pushes that come first are not expected here)."""
        self._next += 1
        await self.send({"id": self._next, **command})
        reply = await self.frame()
        assert reply.get("id") == self._next, reply
        return reply

    async def rpc(self, method: str, data: Any) -> dict[str, Any]:
        return await self.call({"rpc": {"method": method, "data": data}})

    async def closed_with(self) -> int | None:
        message = await asyncio.wait_for(self.ws.receive(), 5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        return self.ws.close_code


async def open_socket(mock: Any, token: str | None = ALICE_TOKEN) -> Socket:
    socket = Socket(await mock.ws_connect(WS))
    if token is not None:
        await socket.send({"id": 1, "connect": {"token": token, "name": "contract"}})
        reply = await socket.frame()
        assert "connect" in reply, reply
    return socket


async def connect_account(
    mock: Any, headers: dict[str, str] = ALICE, cred: str = ALICE_CRED
) -> str:
    r = await mock.post(
        f"{ACCOUNT}/connect",
        json={"credentialIds": [cred], "externalTradingAccountId": "spot"},
        headers=headers,
    )
    answer = await r.json()
    assert answer["success"], answer
    return str(answer["data"]["tradingAccountId"])


async def journal_of(mock: Any, method: str) -> list[dict[str, Any]]:
    entries = (await (await mock.get("/__admin/requests")).json())["data"]
    return [e for e in entries if e["method"] == method]

"""The order book subscription RPC methods: the REST twins' engine calls
(engine/market_subscriptions.py), so the rules and errors are the twins'; results in the
document's rpcSubscription shape. Instruments are chosen as the market queries choose them
(`instrumentIds`, or `venue` and `symbols`)."""

from __future__ import annotations

from typing import Any

from cadenza_mock.contract import market_wire
from cadenza_mock.contract.errors import invalid_argument
from cadenza_mock.contract.model import User
from cadenza_mock.engine.store import Store
from cadenza_mock.http.rpc_market import _chosen


def _ids(store: Store, p: dict[str, Any]) -> list[str] | None:
    """The chosen instrument ids (None: none chosen), as given: an unknown one is the
    twin's 404 (a venue alone, or symbols alone, choose the instruments that match)."""
    if not any(name in p for name in ("instrumentIds", "venue", "symbols")):
        return None
    if "instrumentIds" not in p and "venue" in p and "symbols" in p:
        return [f"{p['venue']}:{symbol}" for symbol in p["symbols"]]  # unknown: the 404
    return [v for _, v in _chosen(store, p) if v]


def subscribe(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    ids = _ids(store, p)
    if not ids:
        raise invalid_argument(
            "instrumentIds", "required: instrumentIds, or venue and symbols naming instruments"
        )
    made = store.market_subscriptions.subscribe(user, ids)
    return {"data": [market_wire.rpc_market_subscription(s) for s in made]}


def unsubscribe(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    ended = store.market_subscriptions.unsubscribe(
        user, subscription_id=p.get("subscriptionId"), instrument_id=p.get("instrumentId")
    )
    return {"data": market_wire.rpc_market_subscription(ended)}


def subscription_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    found = store.market_subscriptions.listed(user, _ids(store, p))
    return {"data": [market_wire.rpc_market_subscription(s) for s in found]}

"""The market's RPC queries: each translates its params into its REST twin's query
parameters and calls the same reader (engine/market_query.py), so the rules and errors are
the twin's. None is cached with the state version: the answers move with the clock, and
the market keeps them per clock second instead (`rpc.call`, engine/market_answers.py)."""

from __future__ import annotations

from typing import Any

from cadenza_mock.contract import market_wire
from cadenza_mock.contract.errors import invalid_argument
from cadenza_mock.contract.model import User
from cadenza_mock.engine import market_control, market_query
from cadenza_mock.engine.store import Store

Pairs = list[tuple[str, str]]
# query.kline.list names no interval or limit in the document: these, as GET /kline/get's.
KLINE_DEFAULT_INTERVAL = "1m"


def _pairs(p: dict[str, Any], *names: str) -> Pairs:
    found: Pairs = []
    for name in names:
        given = p.get(name)
        if isinstance(given, list):
            found += [(name, str(v)) for v in given]
        elif given is not None:
            found.append((name, str(given)))
    return found


def _chosen(store: Store, p: dict[str, Any]) -> Pairs:
    """instrumentIds, or the instruments of `venue` and `symbols`, as the twin's ids."""
    if "instrumentIds" in p or not ("venue" in p or "symbols" in p):
        return _pairs(p, "instrumentIds")
    listed = market_query.instrument_list(
        store.market, [*_pairs(p, "venue", "symbols"), ("limit", "1000")], store.enums
    )
    ids = [i["instrumentId"] for i in listed["data"]]
    return [("instrumentIds", i) for i in ids] or [("instrumentIds", "")]


def venue_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    return {"data": [v["venue"] for v in market_query.venue_list(store.market)]}


def instrument_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    names = ("venue", "symbols", "securityType", "instrumentStatus", "limit", "offset")
    body = market_query.instrument_list(store.market, _pairs(p, *names), store.enums)
    return {"data": [market_wire.rpc_instrument(i) for i in body["data"]]}


def security_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    body = market_query.security_list(
        store.market, [*_pairs(p, "venue"), ("limit", "1000")], store.enums
    )
    wanted = p.get("securities")
    return {
        "data": [
            market_wire.rpc_security(s)
            for s in body["data"]
            if wanted is None or s["symbol"] in wanted
        ]
    }


def order_book(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    return {"data": market_query.order_book(store.market, _pairs(p, "instrumentId", "depth"))}


def order_book_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    pairs = [*_chosen(store, p), *_pairs(p, "depth")]
    if ("instrumentIds", "") in pairs:
        return {"data": []}
    return {"data": market_query.order_book_list(store.market, pairs)}


def ticker_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    pairs = _chosen(store, p)
    if ("instrumentIds", "") in pairs:
        return {"data": []}
    return {"data": market_query.ticker_list(store.market, [*pairs, ("limit", "1000")])["data"]}


def kline_list(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    """One kline per chosen instrument (every instrument when none is chosen)."""
    pairs = _chosen(store, p)
    if ("instrumentIds", "") in pairs:
        return {"data": []}
    ids = [v for _, v in pairs] or list(store.market.instruments)
    interval = ("interval", str(p.get("interval", KLINE_DEFAULT_INTERVAL)))
    limit = _pairs(p, "limit")
    return {
        "data": [
            market_query.kline(store.market, [("instrumentId", i), interval, *limit])
            for i in ids
            if i in store.market.instruments
        ]
    }


# ----------------------------------------------------------------- commands


def _venue(store: Store, p: dict[str, Any]) -> str:
    """The venue as REST's body schema checks it: one of the profile's."""
    venue = str(p["venue"])
    if venue not in store.enums.venues:
        raise invalid_argument("venue", f"unknown value {venue!r}", store.enums.venues)
    return venue


def _rpc_instrument(store: Store, spec: Any) -> dict[str, Any]:
    return market_wire.rpc_instrument(market_wire.instrument(spec, store.market.status(spec)))


def instrument_sync(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    total = market_control.sync_instruments(store.market, _venue(store, p), p.get("symbols"))
    return {"data": {"total": total}}


def instrument_enable(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    spec = market_control.set_status(store.market, p["instrumentId"], "ACTIVE")
    return {"data": _rpc_instrument(store, spec)}


def instrument_disable(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    spec = market_control.set_status(store.market, p["instrumentId"], "DISABLED")
    return {"data": _rpc_instrument(store, spec)}


def instrument_delete(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    spec = market_control.delete_instrument(store.market, p["instrumentId"])
    return {"data": _rpc_instrument(store, spec)}


def security_sync(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    synced = market_control.sync_securities(store.market, _venue(store, p))
    wanted = p.get("securities")
    return {
        "data": [
            market_wire.rpc_security(market_wire.security(*found))
            for found in synced
            if wanted is None or found[1] in wanted
        ]
    }


def security_delete(store: Store, user: User, p: dict[str, Any], _: str | None) -> Any:
    market_control.delete_securities(store.market, list(p["securityIds"]))
    return {}

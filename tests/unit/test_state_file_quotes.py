"""RFQ quotes in the state file (format version 4): the `trading` part's `quotes` and a
QUOTED order's `quoteId`, without a server. Written as declared, read back whole, absent
from older files (which stand for none), and a bad value names its place with nothing
changed. Over a real restart: tests/test_rfq_restart.py."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from cadenza_mock import StateFileError
from cadenza_mock.engine import persist
from cadenza_mock.engine import persist_format as fmt
from cadenza_mock.engine.order_checks import OrderRequest
from cadenza_mock.engine.quoted import rfq
from cadenza_mock.engine.quotes import QuoteRequest
from cadenza_mock.engine.state import MockState

SPOT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot account (accounts.yaml)
BTC = "BINANCE:BTC/USDT"


def _traded() -> MockState:
    """The accounts scenario with two quotes: one taken by a QUOTED order, one open."""
    state = MockState("accounts")
    alice = state.store.users.by_email("alice@example.com")
    assert alice is not None
    trading = state.store.trading
    taken = rfq(trading, alice, QuoteRequest(SPOT, "BUY", instrument_id=BTC, quantity="0.01"))
    ask = QuoteRequest(SPOT, "SELL", instrument_id=BTC, quantity="0.02", request_id="r-1")
    rfq(trading, alice, ask)
    req = OrderRequest(SPOT, BTC, "BUY", "QUOTED", "0.01", quote_id=taken.quote_id)
    trading.submit(alice, req)
    return state


def _document(state: MockState) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(persist.encode(persist.state_document(state)))
    return found


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "writtenAt"}


def test_quotes_and_a_quoted_orders_quote_id_are_written_as_declared_and_read_back() -> None:
    document = _document(_traded())
    part = document["trading"]
    assert document["version"] == fmt.VERSION == 6
    assert list(part) == [key.name for key in fmt.TRADING]
    quotes = part["quotes"]
    assert [list(q) for q in quotes] == [[key.name for key in fmt.QUOTE]] * 2
    taken, open_ = quotes
    assert taken["acceptedAt"] is not None and open_["acceptedAt"] is None
    assert open_["quoteRequestId"] == "r-1" and open_["orderSide"] == "SELL"
    (order,) = part["orders"]
    assert list(order) == [key.name for key in fmt.TRADE_ORDER]
    assert order["orderType"] == "QUOTED" and order["quoteId"] == taken["quoteId"]
    again = MockState("accounts")
    persist.restore(again, document)
    trading = again.store.trading
    assert set(trading.quotes.by_id) == {q["quoteId"] for q in quotes}
    assert trading.quotes.by_request[(SPOT, "r-1")].quote_id == open_["quoteId"]
    assert _without_time(_document(again)) == _without_time(document)


def test_a_version_3_file_stands_for_no_quotes() -> None:
    """A version 3 file has neither `quotes` nor `quoteId`: read as none (a QUOTED order it
    holds keeps no quote id)."""
    document = _document(_traded())
    document["version"] = 3
    del document["trading"]["quotes"]
    for order in document["trading"]["orders"]:
        del order["quoteId"]
    state = MockState("accounts")
    persist.restore(state, document)
    trading = state.store.trading
    assert trading.quotes.by_id == {} and len(trading.orders) == 1
    assert next(iter(trading.orders.values())).quote_id is None


def _quote0(d: dict[str, Any]) -> dict[str, Any]:
    quote: dict[str, Any] = d["trading"]["quotes"][0]
    return quote


DAMAGES: list[tuple[Callable[[dict[str, Any]], object], str]] = [
    (lambda d: d["trading"].pop("quotes"), r"trading\.quotes: missing"),
    (lambda d: d["trading"].update(quotes={}), r"trading\.quotes: expected list"),
    (lambda d: d["trading"].update(quotes=[1]), r"trading\.quotes\[0\]: expected an object"),
    (lambda d: _quote0(d).pop("expireAt"), r"trading\.quotes\[0\]\.expireAt: missing"),
    (lambda d: _quote0(d).update(price="NaN"), r"trading\.quotes\[0\]\.price: expected a dec"),
    (lambda d: _quote0(d).update(quantity="0"), r"trading\.quotes\[0\]\.quantity: expected a "),
    (lambda d: _quote0(d).update(orderSide="HOLD"), r"trading\.quotes\[0\]\.orderSide: "),
    (lambda d: _quote0(d).update(instrumentId="X:Y/Z"), r"trading\.quotes\[0\]\.instrumentId"),
    (lambda d: _quote0(d).update(acceptedAt=-1), r"trading\.quotes\[0\]\.acceptedAt: expected"),
    (lambda d: _quote0(d).update(expireAt=0), r"trading\.quotes\[0\]\.expireAt: expected an"),
    (
        lambda d: d["trading"]["quotes"].append(copy.deepcopy(_quote0(d))),
        r"trading\.quotes\[2\]\.quoteId: a quote of this id comes earlier",
    ),
    (
        lambda d: d["trading"]["orders"][0].update(quoteId="0b9e2d4c-1111-4aaa-8bbb-123456789abc"),
        r"trading\.orders\[0\]\.quoteId: no quote of trading\.quotes has this id",
    ),
    (lambda d: d["trading"]["orders"][0].pop("quoteId"), r"trading\.orders\[0\]\.quoteId: miss"),
]


@pytest.mark.parametrize(("damage", "place"), DAMAGES)
def test_a_bad_quote_names_its_place_and_changes_nothing(
    damage: Callable[[dict[str, Any]], object], place: str
) -> None:
    document = _document(_traded())
    state = MockState("accounts")
    persist.restore(state, copy.deepcopy(document))
    before = _without_time(_document(state))
    damage(document)
    with pytest.raises(StateFileError, match=place):
        persist.restore(state, document, "state file")
    assert _without_time(_document(state)) == before


def test_a_quote_alone_is_a_change_the_file_keeps() -> None:
    """A quote with no order yet still moves the change mark (the writer's cue) and is in
    the document."""
    state = MockState("accounts")
    alice = state.store.users.by_email("alice@example.com")
    assert alice is not None
    mark = persist.change_mark(state)
    assert "trading" not in persist.state_document(state)
    quote = rfq(
        state.store.trading, alice, QuoteRequest(SPOT, "BUY", instrument_id=BTC, quantity="0.01")
    )
    assert persist.change_mark(state) != mark
    (kept,) = persist.state_document(state)["trading"]["quotes"]
    assert kept["quoteId"] == quote.quote_id and kept["price"] == format(quote.price, "f")

"""The official Python client against the mock (sdk profile): every trading and portfolio
answer, and the market reads they lean on, must pass the client's own models (pydantic,
strict strings, the document's enums); a refusal must reach it as an ApiException
carrying the envelope. The client is generated from the platform's document (see
tests/official_client.py); the walkthrough on docs/trading.md runs through it as well
(tests/test_docs.py). A model the client refuses is a fidelity bug of the sdk profile: fix
the mock, never the client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cadenza_mock.run.server import MockServer

BINANCE = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"  # the sdk scenario's active Binance key
BTC = "BINANCE:BTC/USDT"


@pytest.fixture(scope="module")
def cc(official_client: Path) -> Iterator[Any]:
    """The generated `cadenza_client` module, imported from its folder."""
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(official_client))
    import cadenza_client

    yield cadenza_client
    mp.undo()


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer("sdk") as server:
        yield server


@pytest.fixture
def api(cc: Any, mock: MockServer) -> Iterator[Any]:
    mock.reset()
    with cc.ApiClient(cc.Configuration(host=mock.url, access_token=mock.token)) as client:
        yield client


def _account(cc: Any, api: Any) -> str:
    request = cc.ConnectTradingAccountRequest(
        credential_ids=[BINANCE], external_trading_account_id="spot"
    )
    found = cc.TradingAccountApi(api).connect_trading_account(request)
    assert found.success and found.data.status == cc.TradingAccountStatus.ACTIVE
    account: str = str(found.data.trading_account_id)
    return account


def _order(cc: Any, account: str, **fields: Any) -> Any:
    return cc.SubmitTradeOrderRequest(trading_account_id=account, instrument_id=BTC, **fields)


def test_orders_of_every_kind_and_the_list_pass_the_clients_models(cc: Any, api: Any) -> None:
    trading = cc.TradingApi(api)
    account = _account(cc, api)
    side = cc.OrderSide
    made = [
        trading.submit_trade_order(_order(cc, account, order_side=side.BUY, **fields)).data[0]
        for fields in (
            {"order_type": cc.OrderType.MARKET, "quantity": "0.01"},
            {"order_type": cc.OrderType.LIMIT, "limit_price": "60000.00", "quantity": "0.01"},
            {
                "order_type": cc.OrderType.LIMIT,
                "limit_price": "60000.00",
                "quantity": "0.01",
                "time_in_force": cc.TimeInForce.IOC,
            },
            {
                "order_type": cc.OrderType.LIMIT_MAKER,
                "limit_price": "61000.00",
                "quantity": "0.02",
                "client_order_id": "maker-1",
            },
        )
    ]
    statuses = [o.status for o in made]
    assert statuses == [
        cc.OrderStatus.FILLED,
        cc.OrderStatus.ACCEPTED,
        cc.OrderStatus.EXPIRED,
        cc.OrderStatus.ACCEPTED,
    ]
    cancel = cc.CancelTradeOrderRequest(
        trading_account_id=account, trade_order_id=made[1].trade_order_id
    )
    assert trading.cancel_trade_order(cancel).data.cancel_reason is not None
    page = trading.list_trade_orders(limit=2)
    assert len(page.data) == 2 and page.pagination.total == 4 and page.pagination.has_next
    rest = trading.list_trade_orders(limit=2, cursor=page.pagination.cursor)
    listed = {o.trade_order_id for o in [*page.data, *rest.data]}
    assert listed == {o.trade_order_id for o in made}
    (open_,) = trading.list_trade_orders(order_status=cc.OrderStatus.ACCEPTED).data
    assert open_.trade_order_id == made[3].trade_order_id
    execution = made[0].executions[0]
    assert execution.venue == cc.Venue.BINANCE and execution.fees[0].asset == "USDT"


def test_portfolios_move_and_pass_the_clients_models(cc: Any, api: Any) -> None:
    portfolios = cc.TradingAccountPortfolioApi(api)
    account = _account(cc, api)
    (before,) = portfolios.list_trading_account_portfolios(trading_account_id=account).data
    order = _order(cc, account, order_side=cc.OrderSide.SELL, order_type="MARKET", quantity="1")
    order.instrument_id = "BINANCE:ETH/USDT"
    sold = cc.TradingApi(api).submit_trade_order(order).data[0]
    assert sold.status == cc.OrderStatus.FILLED
    (after,) = portfolios.list_trading_account_portfolios(venue=cc.Venue.BINANCE).data
    held = {p.security_symbol: p for p in after.positions}
    was = {p.security_symbol: p for p in before.positions}
    assert float(held["ETH"].quantity) == float(was["ETH"].quantity) - 1
    assert held["ETH"].position_side == cc.PositionSide.LONG
    assert after.summary.currency == "USDT" and after.venue == cc.Venue.BINANCE
    usdt = {b.security_symbol: b for b in after.balances}["USDT"]
    assert float(usdt.free) > 1_000_000  # what the sale brought, less its fee


def test_an_rfq_quote_and_the_quoted_order_that_takes_it(cc: Any, api: Any) -> None:
    trading = cc.TradingApi(api)
    account = _account(cc, api)
    request = cc.QuoteRfqRequest(
        dealer_account_id=account,
        instrument_id=BTC,
        order_side=cc.OrderSide.BUY,
        quantity="0.01",
        quote_request_id="q-1",
    )
    quote = trading.quote_rfq(request).data
    assert quote.status == cc.QuoteStatus.CREATED and quote.expire_at > quote.created_at
    taken = trading.submit_trade_order(
        _order(
            cc,
            account,
            order_side=cc.OrderSide.BUY,
            order_type=cc.OrderType.QUOTED,
            quote_id=quote.quote_id,
            quantity="0.01",
        )
    ).data[0]
    assert taken.status == cc.OrderStatus.FILLED and taken.quote_id == quote.quote_id
    assert trading.quote_rfq(request).data.status == cc.QuoteStatus.ACCEPTED


def test_the_market_reads_an_order_needs_pass_the_clients_models(cc: Any, api: Any) -> None:
    market = cc.MarketApi(api)
    (instrument,) = [
        i
        for i in market.list_market_instruments(venue=cc.Venue.BINANCE).data
        if i.instrument_id == BTC
    ]
    assert cc.OrderType.LIMIT in instrument.order_types
    book = market.get_market_order_book(instrument_id=BTC).data
    ticker = market.get_market_ticker(instrument_id=BTC).data
    assert book.asks and book.bids and ticker.instrument_id == BTC


@pytest.mark.parametrize(
    ("call", "status", "errno"),
    [
        ("unknown order", 404, -18018),
        ("unknown symbol", 404, -18017),
        ("no funds", 400, -18006),
        ("bad quantity", 400, -18007),
    ],
)
def test_refusals_reach_the_client_as_an_api_exception(
    cc: Any, api: Any, call: str, status: int, errno: int
) -> None:
    trading = cc.TradingApi(api)
    account = _account(cc, api)
    buy = {"order_side": cc.OrderSide.BUY, "order_type": cc.OrderType.MARKET}
    calls = {
        "unknown order": lambda: trading.cancel_trade_order(
            cc.CancelTradeOrderRequest(
                trading_account_id=account, trade_order_id="00000000-0000-4000-8000-000000000000"
            )
        ),
        "unknown symbol": lambda: trading.submit_trade_order(
            cc.SubmitTradeOrderRequest(
                trading_account_id=account, instrument_id="BINANCE:NOPE/USDT", quantity="1", **buy
            )
        ),
        "no funds": lambda: trading.submit_trade_order(_order(cc, account, quantity="100", **buy)),
        "bad quantity": lambda: trading.submit_trade_order(
            _order(cc, account, quantity="0.000001", **buy)
        ),
    }
    with pytest.raises(cc.ApiException) as refused:
        calls[call]()
    body = json.loads(refused.value.body)
    assert refused.value.status == status and body["errno"] == errno, body
    assert body["success"] is False and body["details"]["code"]
    assert trading.list_trade_orders().data == []  # nothing was placed

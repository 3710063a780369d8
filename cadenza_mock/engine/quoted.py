"""RFQ on the order engine: `rfq` prices a quote from the book for the caller's ACTIVE
trading account; `submit_quoted` fills a QUOTED order whole at its quote's price while
the quote lives (the quote is then ACCEPTED: one order per quote). Every refusal comes
before any change, as for every other submit."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from cadenza_mock.contract.bounds import MAX_QUOTES
from cadenza_mock.contract.errors import (
    INSUFFICIENT_FUNDS,
    INVALID_ORDER,
    ORDER_REJECTED,
    ORDER_SIDE_NOT_SUPPORTED,
    QUOTE_EXPIRED,
    QUOTE_NOT_FOUND,
)
from cadenza_mock.contract.model import TradingAccount, User
from cadenza_mock.engine.fills import BUY, SELL, ceil, walk_book
from cadenza_mock.engine.order_checks import OrderRequest, check_quantity
from cadenza_mock.engine.orders import ACCEPTED, SUBMITTED, Order, Trading
from cadenza_mock.engine.quotes import (
    DEFAULT_TTL_S,
    MAX_TTL_S,
    QUOTE_ACCEPTED,
    Quote,
    QuoteRequest,
    quote_price,
)
from cadenza_mock.engine.quotes import QUOTE_EXPIRED as EXPIRED_STATUS
from cadenza_mock.engine.venue_acts import NORMAL


def _positive(value: str, what: str) -> Decimal:
    try:
        found = Decimal(value)
    except InvalidOperation:
        found = Decimal(0)
    if not found.is_finite() or found <= 0:
        raise INVALID_ORDER.error(f'{what}: expected a decimal > 0 such as "0.01"')
    return found


def rfq(trading: Trading, user: User, req: QuoteRequest) -> Quote:
    """A quote for the trader's account (traderAccountId, else dealerAccountId: the mock's
    dealer is the emulated book) priced by walking the book for the quantity now."""
    trading.catch_up()
    account = trading._active(user, req.trader_account_id or req.dealer_account_id)
    acct = account.trading_account_id.lower()
    if req.request_id is not None and (acct, req.request_id) in trading.quotes.by_request:
        return trading.quotes.by_request[(acct, req.request_id)]  # the same request id
    if len(trading.quotes.by_id) >= MAX_QUOTES:
        raise INVALID_ORDER.error(f"the mock holds at most {MAX_QUOTES:,} quotes until a reset")
    if req.side not in (BUY, SELL):
        raise ORDER_SIDE_NOT_SUPPORTED.error(f"{req.side} (allowed: BUY, SELL)")
    instrument_id = req.instrument_id
    if instrument_id is None and req.base_asset and req.quote_asset:
        instrument_id = f"{account.venue}:{req.base_asset}/{req.quote_asset}"
    spec = trading._instrument(account, instrument_id)
    now = trading._clock.now_ms()
    if req.ttl is not None and req.expire_at is not None:
        raise INVALID_ORDER.error("ttl and expireAt exclude each other: give one")
    expire_at = now + 1000 * (req.ttl if req.ttl is not None else DEFAULT_TTL_S)
    if req.expire_at is not None:
        if not now < req.expire_at <= now + 1000 * MAX_TTL_S:
            raise INVALID_ORDER.error(f"expireAt must be after now and at most {MAX_TTL_S} s later")
        expire_at = req.expire_at
    book = trading.market.book(spec, spec.depth, now)
    given = req.quantity
    if given is None:
        if req.quote_quantity is None:
            raise INVALID_ORDER.error("quantity or quoteQuantity is required")
        best = (book.asks if req.side == BUY else book.bids)[:1]
        if not best:
            raise ORDER_REJECTED.error(f"the book of {spec.instrument_id} is empty")
        amount = _positive(req.quote_quantity, "quoteQuantity")
        whole = (amount / (spec.pip_size * best[0][0]) / spec.lot_size).to_integral_value(
            ROUND_FLOOR
        )
        given = format(whole * spec.lot_size, "f")
    qty = check_quantity(
        spec, OrderRequest(account.trading_account_id, instrument_id, req.side, "QUOTED", given)
    )
    lots = int(qty / spec.lot_size)
    takes = walk_book(book, req.side, lots, None)
    if sum(t.lots for t in takes) < lots:
        raise ORDER_REJECTED.error(
            f"the book of {spec.instrument_id} cannot fill {qty} now: no quote"
        )
    cost = sum((spec.pip_size * t.price * spec.lot_size * t.lots for t in takes), Decimal(0))
    quote = Quote(
        trading.quotes.new_id(),
        account.trading_account_id,
        req.dealer_account_id,
        user.user_id,
        spec,
        req.side,
        qty,
        quote_price(spec, req.side, cost, qty),
        now,
        expire_at,
        request_id=req.request_id,
        pricing_profile_id=req.pricing_profile_id,
    )
    trading.quotes.add(quote)
    trading.changed = True  # a state file keeps quotes (engine/persist_trading.py)
    trading.version += 1
    return quote


def find_quote(trading: Trading, user: User, quote_id: str) -> Quote:
    quote = trading.quotes.find(quote_id)
    if quote is None or quote.user_id != user.user_id:
        raise QUOTE_NOT_FOUND.error(quote_id)
    return quote


def submit_quoted(
    trading: Trading, user: User, account: TradingAccount, req: OrderRequest
) -> Order:
    """A QUOTED order: the quote's side, instrument and quantity at the quote's price
    (taker fee), FILLED at once, while the quote is CREATED."""
    if req.quote_id is None:
        raise INVALID_ORDER.error("quoteId is required for a QUOTED order")
    quote = find_quote(trading, user, req.quote_id)
    if quote.trading_account_id.lower() != account.trading_account_id.lower():
        raise QUOTE_NOT_FOUND.error(f"{req.quote_id} is not a quote of this trading account")
    now = trading._clock.now_ms()
    status = quote.status(now)
    if status == QUOTE_ACCEPTED:
        raise QUOTE_EXPIRED.error(f"quote {quote.quote_id} was taken already")
    if status == EXPIRED_STATUS:
        raise QUOTE_EXPIRED.error(f"quote {quote.quote_id} expired at {quote.expire_at}")
    spec = trading._instrument(account, quote.spec.instrument_id)
    if req.side != quote.side or (
        req.instrument_id is not None and req.instrument_id != spec.instrument_id
    ):
        raise INVALID_ORDER.error(
            f"the quote is a {quote.side} of {spec.instrument_id}: the order must be too"
        )
    qty = check_quantity(spec, req)
    if qty != quote.quantity:
        raise INVALID_ORDER.error(f"quantity {qty}: the quote is for {quote.quantity}")
    taker = trading.fees(account.trading_account_id, spec.venue)[1]
    trading.behaviors.get(account.trading_account_id.lower(), NORMAL).refuse()
    needed, asset = (
        (ceil(qty * quote.price * (1 + taker)), spec.quote)
        if quote.side == BUY
        else (qty, spec.base)
    )
    pf = trading.portfolio(account)
    if pf.free(asset) < needed:
        raise INSUFFICIENT_FUNDS.error(
            f"the order needs {needed.normalize():f} {asset}, the account has "
            f"{pf.free(asset).normalize():f} free"
        )
    order = Order(
        trading._new_id("order"),
        account.trading_account_id,
        user.user_id,
        spec,
        quote.side,
        "QUOTED",
        req.time_in_force or "FOK",
        qty,
        None,
        now,
        client_order_id=req.client_order_id,
        idempotency_key=req.idempotency_key,
        updated_at=now,
        checked_ms=now,
        quote_id=quote.quote_id,
    )
    trading._move(order, SUBMITTED, now)
    trading._move(order, ACCEPTED, now)
    trading._fill(order, pf, quote.price, qty, taker, now)
    quote.accepted_at = now
    trading.orders[order.order_id.lower()] = order
    trading.register_keys(order)
    trading._changed(order, pf)
    return order

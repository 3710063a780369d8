"""How `state-v2-trading.json` was made: run with the code of main at 938be97 (the state
file's format version 2, its `trading` part not declared yet), `python
make_state_v2_trading.py OUT`. Kept for the record only: alice's Binance spot account
with a filled MARKET BUY, a resting LIMIT BUY far under the market, a cancelled LIMIT SELL
and a clock moved on."""

import sys
from pathlib import Path

from cadenza_mock.engine import persist
from cadenza_mock.engine.order_checks import OrderRequest
from cadenza_mock.engine.state import MockState

ACCOUNT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot (accounts.yaml)


def main(out: str) -> None:
    state = MockState("accounts")
    trading = state.store.trading
    alice = state.scenario.users[0]

    def order(side: str, kind: str, qty: str, price: str | None = None) -> str:
        made = trading.submit(
            alice,
            OrderRequest(ACCOUNT, "BINANCE:BTC/USDT", side, kind, qty, limit_price=price,
                         time_in_force=None if price is None else "GTC",
                         client_order_id=f"fixture-{side}-{kind}-{qty}"),
        )  # fmt: skip
        return made.order_id

    order("BUY", "MARKET", "0.01")
    order("BUY", "LIMIT", "0.01", "1000")
    cancelled = order("SELL", "LIMIT", "0.003", "900000")
    trading.cancel(alice, ACCOUNT, cancelled)
    state.clock.advance(60)
    Path(out).write_bytes(persist.encode(persist.state_document(state)))


if __name__ == "__main__":
    main(sys.argv[1])

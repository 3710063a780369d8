"""How `state-v1-default.json` was made: run with the code of main at e5819c5 (before the
state file had its own declared record format), `python make_state_v1.py OUT`. Kept for
the record only; running it with later code would prove nothing about old files."""

import sys
from pathlib import Path

from cadenza_mock.engine import persist
from cadenza_mock.engine.state import MockState

BINANCE_ID = "660e8400-e29b-41d4-a716-446655440000"  # alice's explicit BINANCE record
BINANCE_SPOT_KEY = "7843ed3a-2966-4484-8fd5-1ae511c53f52"


def main(out: str) -> None:
    state = MockState("default")
    store = state.store
    alice = state.scenario.users[0]
    made = store.create(
        alice, venue="BYBIT", api_key="bybitFIXTUREkey011", api_secret="a", name="bybit bot"
    )
    store.rotate(alice, made.credential_id, api_key="bybitFIXTUREkey022", api_secret="b")
    okx = store.create(
        alice, venue="OKX", api_key="okxFIXTUREkey00033", api_secret="c", api_passphrase="p"
    )
    store.revoke(alice, okx.credential_id)
    store.revoke(alice, BINANCE_ID)
    account = store.connect(alice, [BINANCE_SPOT_KEY], external_id="spot")
    store.update_account(alice, account.trading_account_id, "renamed")
    store.sessions.login("alice@example.com", "correct-horse")
    carol = store.sessions.signup("carol@example.com", "carol-pass", {"team": "qa"})
    store.users.update(carol.user, email="carol2@example.com", metadata={"x": 1})
    store.logout("Bearer alice-token")
    state.clock.advance(5)
    Path(out).write_bytes(persist.encode(persist.state_document(state)))


if __name__ == "__main__":
    main(sys.argv[1])

"""Writes tests/data/state-v1-*.json with the state-file code of main at e5819c5."""
import json, sys
from pathlib import Path
from cadenza_mock.engine import persist
from cadenza_mock.engine.state import MockState

BINANCE_ID = "660e8400-e29b-41d4-a716-446655440000"

def changed(scenario):
    state = MockState(scenario)
    store = state.store
    alice = state.scenario.users[0]
    made = store.create(alice, venue="BYBIT", api_key="bybitFIXTUREkey011", api_secret="a", name="bybit bot")
    store.rotate(alice, made.credential_id, api_key="bybitFIXTUREkey022", api_secret="b")
    other = store.create(alice, venue="OKX", api_key="okxFIXTUREkey00033", api_secret="c", api_passphrase="p")
    store.revoke(alice, other.credential_id)
    return state, store, alice

state, store, alice = changed("default")
store.revoke(alice, BINANCE_ID)
acct = store.connect(alice, ["7843ed3a-2966-4484-8fd5-1ae511c53f52"], external_id="spot")
store.update_account(alice, acct.trading_account_id, "renamed")
store.sessions.login("alice@example.com", "correct-horse")
s = store.sessions.signup("carol@example.com", "carol-pass", {"team": "qa"})
store.users.update(s.user, email="carol2@example.com", metadata={"x": 1})
store.logout("Bearer alice-token")
state.clock.advance(5)
Path(sys.argv[1]).write_bytes(persist.encode(persist.state_document(state)))

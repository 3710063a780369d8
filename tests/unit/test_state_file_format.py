"""The state file's own record format (`engine/persist_format.py`), without a server: a
file written by an earlier release still reads, the file holds what its rows declare and
nothing of the wire shapes, and every model field is either kept or said not to be."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from cadenza_mock import StateFileError
from cadenza_mock.contract import wire
from cadenza_mock.contract.model import AccountOperation, Credential, TradingAccount, User
from cadenza_mock.engine import persist
from cadenza_mock.engine import persist_format as fmt
from cadenza_mock.engine.auth import IssuedToken
from cadenza_mock.engine.orders import Execution, Order
from cadenza_mock.engine.portfolio import Balance, Portfolio, Position
from cadenza_mock.engine.quotes import Quote
from cadenza_mock.engine.state import MockState

DATA = Path(__file__).resolve().parent.parent / "data"
# Written by main at e5819c5 (tests/data/make_state_v1.py), before the format was declared.
V1 = DATA / "state-v1-default.json"
ROWS: dict[str, tuple[type, tuple[fmt.Key, ...]]] = {
    "Credential": (Credential, fmt.CREDENTIAL),
    "TradingAccount": (TradingAccount, fmt.TRADING_ACCOUNT),
    "AccountOperation": (AccountOperation, fmt.ACCOUNT_OPERATION),
    "IssuedToken": (IssuedToken, fmt.ISSUED_TOKEN),
    "User": (User, fmt.USER),
    "Order": (Order, fmt.TRADE_ORDER),
    "Execution": (Execution, fmt.EXECUTION),
    "Portfolio": (Portfolio, fmt.PORTFOLIO),
    "Balance": (Balance, fmt.BALANCE),
    "Position": (Position, fmt.POSITION),
    "Quote": (Quote, fmt.QUOTE),
}
# Written by main at 938be97 (tests/data/make_state_v2_trading.py): format version 2 with
# the `trading` part it held before the part was declared (version 3).
V2_TRADING = DATA / "state-v2-trading.json"


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "writtenAt"}


def _restored_from(path: Path, scenario: str = "default") -> MockState:
    document = persist.read_document(path)
    assert document is not None
    state = MockState(scenario)
    persist.restore(state, document, f"state file {path}")
    return state


def test_a_version_1_file_from_before_the_declared_format_is_read_whole() -> None:
    old = json.loads(V1.read_bytes())
    state = _restored_from(V1)
    again = json.loads(persist.encode(persist.state_document(state)))
    # Key order aside (the old writer followed the wire's), the same document comes out,
    # at this version, with the market as loaded (version 2 added it).
    assert again.pop("version") == fmt.VERSION and old.pop("version") == 1
    assert again.pop("market") == {
        "originMs": state.store.market.origin_ms,
        "instruments": [],
        "deletedSecurities": [],
        "venues": [],
    }
    assert _without_time(again) == _without_time(old)
    store = state.store
    okx = next(c for c in old["credentials"]["records"] if c["venue"] == "OKX")
    assert store.find(okx["credentialId"]).status == "REVOKED"
    assert store.users.by_email("carol2@example.com") is not None
    assert state.clock.offset_ms == old["clock"]["offsetMs"] == 5000
    assert old["tradingAccounts"]["records"] and old["sessions"]["tokens"]


def test_records_are_written_in_the_declared_keys_and_order() -> None:
    state = _restored_from(V1)
    document = persist.state_document(state)
    parts = {
        fmt.CREDENTIAL: document["credentials"]["records"],
        fmt.TRADING_ACCOUNT: document["tradingAccounts"]["records"],
        fmt.ACCOUNT_OPERATION: document["tradingAccounts"]["operations"],
        fmt.ISSUED_TOKEN: document["sessions"]["tokens"],
        fmt.USER: document["users"]["records"],
    }
    for keys, records in parts.items():
        assert records
        for record in records:
            assert list(record) == [key.name for key in keys]


def test_a_wire_field_does_not_reach_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs wire shape growing a field (as an API release may) leaves the file as is."""
    state = _restored_from(V1)
    before = persist.encode(persist.state_document(state))
    shape = wire.credential_docs
    monkeypatch.setattr(wire, "credential_docs", lambda *a, **k: {**shape(*a, **k), "new": 1})
    assert _without_time(json.loads(persist.encode(persist.state_document(state)))) == (
        _without_time(json.loads(before))
    )


@pytest.mark.parametrize("name", sorted(ROWS))
def test_every_model_field_is_kept_or_said_not_to_be(name: str) -> None:
    """A field added to a record must be declared in the file (or listed as not kept, with
    the reason): else the state file would silently forget it over a restart."""
    cls, keys = ROWS[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    kept = {key.attr for key in keys if key.attr is not None}
    not_kept = set(fmt.NOT_KEPT.get(name, {}))
    assert kept <= fields, f"{name}: rows name no such field: {kept - fields}"
    assert fields - kept - not_kept == set(), f"{name}: fields neither kept nor listed"
    assert not kept & not_kept


def test_a_key_newer_than_the_file_reads_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The versioning rule: a row added in version 2 reads its default from a version 1
    file, and is required in a version 2 file."""
    added = fmt.Key("note", (str,), None, since=2, default="none given")
    rows = (*fmt.ACCOUNT_OPERATION, added)
    old = json.loads(V1.read_bytes())["tradingAccounts"]["operations"][0]
    values = persist._Reader("test", version=1).values(rows, old, "op")
    assert values["note"] == "none given"
    assert values["operation_id"] == old["operationId"]
    with pytest.raises(StateFileError, match=r"op\.note: missing"):
        persist._Reader("test", version=2).values(rows, old, "op")


def test_upgrade_steps_run_in_turn_up_to_the_version_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fmt, "VERSION", 3)
    monkeypatch.setattr(
        fmt,
        "UPGRADES",
        {
            2: lambda d: {**d, "steps": [*d.get("steps", []), 2]},
            3: lambda d: {**d, "steps": [*d.get("steps", []), 3]},
        },
    )
    assert fmt.upgrade({}, 1)["steps"] == [2, 3]
    assert fmt.upgrade({}, 2)["steps"] == [3]
    assert "steps" not in fmt.upgrade({}, 3)
    assert fmt.readable() == "versions 1 to 3"


@pytest.mark.parametrize("version", [0, 7, "1", None, True])
def test_a_version_this_code_does_not_read_is_refused(tmp_path: Path, version: object) -> None:
    document = json.loads(V1.read_bytes())
    document["version"] = version
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    with pytest.raises(StateFileError, match=r"this cadenza-mock reads versions 1 to 6"):
        persist.read_document(path)


def test_a_version_2_file_with_orders_is_read_whole_and_written_as_declared() -> None:
    old = json.loads(V2_TRADING.read_bytes())
    state = _restored_from(V2_TRADING, "accounts")
    trading = state.store.trading
    statuses = sorted((o.order_type, o.status) for o in trading.orders.values())
    assert statuses == [("LIMIT", "ACCEPTED"), ("LIMIT", "CANCELLED"), ("MARKET", "FILLED")]
    again = json.loads(persist.encode(persist.state_document(state)))
    assert again["version"] == fmt.VERSION == 6 and old["version"] == 2
    # Version 4 added RFQ quotes, a QUOTED order's quoteId and what a late or slow venue
    # still owes an order (engine/venue_timing.py): the file had none.
    owed = {"quoteId": None, "fillDueAt": None, "cancelDueAt": None}
    owed |= {"quantityType": "BASE", "stopPrice": None, "triggeredAt": None}  # version 5
    owed |= {"orderListId": None, "contingencyType": None, "exitOf": None, "exits": []}  # 6
    assert again["trading"] == {
        **old["trading"],
        "orders": [{**o, **owed} for o in old["trading"]["orders"]],
        "quotes": [],
    }
    part = again["trading"]
    assert list(part) == [key.name for key in fmt.TRADING]
    records = {
        fmt.TRADE_ORDER: part["orders"],
        fmt.EXECUTION: [e for o in part["orders"] for e in o["executions"]],
        fmt.PORTFOLIO: part["portfolios"],
        fmt.BALANCE: [b for p in part["portfolios"] for b in p["balances"]],
        fmt.POSITION: [p for f in part["portfolios"] for p in f["positions"]],
    }
    for keys, found in records.items():
        assert found
        for record in found:
            assert list(record) == [key.name for key in keys]


def test_a_file_without_the_trading_part_stands_for_no_orders() -> None:
    document = json.loads(V2_TRADING.read_bytes())
    del document["trading"]
    state = MockState("accounts")
    persist.restore(state, document)
    assert state.store.trading.orders == {} and state.store.trading.portfolios == {}
    assert "trading" not in persist.state_document(state)


def _order0(d: dict[str, Any]) -> dict[str, Any]:
    order: dict[str, Any] = d["trading"]["orders"][0]
    return order


@pytest.mark.parametrize(
    ("damage", "place"),
    [
        (lambda d: d["trading"].update(orders={}), r"trading\.orders: expected list"),
        (lambda d: d["trading"].pop("portfolios"), r"trading\.portfolios: missing"),
        (lambda d: _order0(d).update(quantity="lots"), r"trading\.orders\[0\]\.quantity: "),
        (lambda d: _order0(d).update(status="DONE"), r"trading\.orders\[0\]\.status: "),
        (lambda d: _order0(d).update(createdAt=-1), r"trading\.orders\[0\]\.createdAt: "),
        (
            lambda d: _order0(d)["executions"][0].update(fee="NaN"),
            r"trading\.orders\[0\]\.executions\[0\]\.fee: expected a decimal",
        ),
        (
            lambda d: _order0(d).update(fillDueAt="soon"),
            r"trading\.orders\[0\]\.fillDueAt: expected int or null",
        ),
        (
            lambda d: [o.update(cancelDueAt=1) for o in d["trading"]["orders"]],
            r"trading\.orders\[\d\]\.status: only an open order awaits a venue's fill or cancel",
        ),
        (
            lambda d: d["trading"]["portfolios"][0]["balances"][0].update(free=None),
            r"trading\.portfolios\[0\]\.balances\[0\]\.free: expected str",
        ),
    ],
)
def test_bad_trading_input_names_its_place_and_changes_nothing(damage: Any, place: str) -> None:
    document = json.loads(V2_TRADING.read_bytes())
    state = _restored_from(V2_TRADING, "accounts")
    before = persist.encode(persist.state_document(state))
    damage(document)
    with pytest.raises(StateFileError, match=place):
        persist.restore(state, document, "state file")
    after = persist.encode(persist.state_document(state))
    assert _without_time(json.loads(after)) == _without_time(json.loads(before))

"""The operation rows as the one declaration of an operation: what the server, the fault
matcher, the hints and the RPC table take from them agrees with what they declare."""

from __future__ import annotations

import re
from collections import Counter

import doc_examples
import pytest

from cadenza_mock.contract.model import PROFILE_NAMES, PROFILES
from cadenza_mock.contract.operation_type import Answer
from cadenza_mock.contract.operations import ADMIN_PREFIX, API_PREFIX, OPERATIONS
from cadenza_mock.contract.rpc_params import PARAMS
from cadenza_mock.engine.faults import venue_calls
from cadenza_mock.engine.query import query_parameters
from cadenza_mock.http.rpc import METHODS
from cadenza_mock.specs.openapi import openapi_document


def test_every_rpc_twin_names_one_method_of_the_rpc_table() -> None:
    twins = Counter(op.rpc for op in OPERATIONS if op.rpc is not None)
    assert set(twins) <= set(METHODS)
    assert [name for name, count in twins.items() if count > 1] == []
    assert not any(op.rpc for op in OPERATIONS if op.path.startswith(ADMIN_PREFIX))


def test_every_rpc_method_has_its_params_schema_and_only_those() -> None:
    assert set(METHODS) == set(PARAMS)
    assert {name for name, m in METHODS.items() if m.cached} <= {
        name for name in METHODS if name.startswith("query.")
    }


def test_the_venue_fault_acts_on_the_rows_that_reach_the_venue() -> None:
    assert venue_calls() == {
        "/api/v3/credential/verify",
        "/api/v3/tradingAccount/connect",
        "command.credential.verify",
        "command.trading_account.connect",
    }
    assert all(op.method == "POST" and op.body is not None for op in OPERATIONS if op.venue)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_each_query_parameter_is_declared_once_and_documented_from_its_row(profile: str) -> None:
    paths = openapi_document(profile)["paths"]
    for op in OPERATIONS:
        params = op.params_in(profile)
        names = [(p.where, p.name) for p in params]
        assert len(names) == len(set(names)), op.operation_id
        stated = paths[op.path][op.method.lower()].get("parameters", [])
        stated_names = [p["name"] for p in stated if "$ref" not in p]
        assert stated_names == [p.name for p in params if p.documented], op.operation_id
        read = query_parameters(op.operation_id, profile, PROFILES[profile])
        assert list(read) == [p.name for p in params if p.where == "query"]
        for name, domain in read.items():
            schema = (
                next(s for s in stated if s.get("name") == name) if name in stated_names else None
            )
            if domain is not None and schema is not None and "enum" in schema["schema"]:
                assert schema["schema"]["enum"] == list(domain), (op.operation_id, name)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_operation_declares_what_its_answer_carries(profile: str) -> None:
    for op in OPERATIONS:
        answer = op.answer_in(profile)
        if not op.emulated:  # answers 501 until its row is written (test_not_emulated.py)
            assert answer == Answer() and op.body is None and op.params == (), op.operation_id
            continue
        assert (answer.data, answer.whole, answer.content) != (None, None, None), op.operation_id
        # A body of its own shape is documented from the row; a JSON body names its schema.
        assert not (op.body is not None and op.body_doc is not None), op.operation_id
        if op.body_doc is not None:
            assert op.reads_body, op.operation_id


def test_the_rpc_methods_table_is_the_rpc_table_with_the_rows_twins() -> None:
    """The docs' RPC methods table names every method of http/rpc.py's table, once, and as
    its REST twin the operation whose row names it (`rpc=`)."""
    rows = doc_examples.table("RPC methods", "method")
    assert rows, "no RPC methods table"
    shown: dict[str, tuple[str, str]] = {}
    for row in rows:
        method = re.fullmatch(r"`([a-z_.]+)`", row["method"])
        twin = re.fullmatch(r"`(GET|POST|PUT|DELETE) (/[^`]*)`.*", row["REST twin"])
        assert method and twin, f"a row whose method or twin is not `...`: {row}"
        path = twin[2] if twin[2].startswith(API_PREFIX) else API_PREFIX + twin[2]
        assert method[1] not in shown, f"{method[1]} is listed twice"
        shown[method[1]] = (twin[1], path)
    assert sorted(shown) == sorted(METHODS), "the RPC methods table and rpc.METHODS differ"
    twins = {op.rpc: (op.method, op.path) for op in OPERATIONS if op.rpc}
    assert {m: shown[m] for m in twins} == twins
    # A method with no row of its own (query.trade_order.get: one order) names as its twin
    # the row that answers the same thing (the list, filtered): a served row.
    routes = {(op.method, op.path) for op in OPERATIONS}
    assert all(shown[m] in routes for m in set(shown) - set(twins))

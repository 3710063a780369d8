"""The shortcuts a request body's parse takes (contract/schemas.py) give the answers the
full checks give: the journal reuses the handler's parse, the nesting walk and the
lone-surrogate check are skipped only where they cannot find anything."""

from __future__ import annotations

import json
import uuid

import pytest

from cadenza_mock.contract import schemas
from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.schemas import MAX_JSON_DEPTH, REQUEST_SCHEMAS, load_json_again


def test_no_request_schema_has_a_default_for_the_validator_to_fill() -> None:
    """The journal keeps the handler's parse of a body: validation must not change it."""
    for profile, operations in REQUEST_SCHEMAS.items():
        for operation, schema in operations.items():
            assert '"default"' not in json.dumps(schema), (profile, operation)


def test_the_journal_gets_the_handlers_parse_of_the_same_bytes_once() -> None:
    ids = {"tradingAccountId": str(uuid.uuid4()), "tradeOrderId": str(uuid.uuid4())}
    raw = json.dumps(ids).encode()
    body = schemas.parse_body(raw, "docs", "cancel_order")
    assert load_json_again(raw) is body  # no second parse
    again = load_json_again(raw)  # taken once: then parsed afresh
    assert again == body and again is not body
    other = bytearray(raw)
    schemas.parse_body(bytes(other), "docs", "cancel_order")
    assert load_json_again(raw) == body  # equal bytes, not these: parsed afresh


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\ud800"}',  # an escape
        '{"a": "\ud800"}'.encode("utf-8", "surrogatepass"),  # raw bytes of one
        '{"a": "\ud800"}'.encode("utf-16", "surrogatepass"),  # another encoding of JSON
    ],
)
def test_a_lone_surrogate_is_refused_however_it_is_written(raw: bytes) -> None:
    with pytest.raises(ApiError, match="lone surrogate"):
        schemas.parse_body(raw, "docs", "cancel_order")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_nesting_past_the_limit_is_refused_in_every_encoding(encoding: str) -> None:
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(ApiError, match="nested deeper"):
        schemas.load_json(deep.encode(encoding))
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert schemas.load_json(at_limit.encode(encoding)) is not None

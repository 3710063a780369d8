"""Trading account, operation and subscription list queries, and paging, as the engine
reads them (no server): defaults and bounds per profile, the sdk's cursor, filters, and
the 400 for every value it cannot read. test_query.py covers the credential list's."""

from __future__ import annotations

import pytest

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import OPERATION_TYPES, PROFILES
from cadenza_mock.engine.query import (
    MAX_OFFSET,
    Page,
    parse_account_query,
    parse_operation_query,
    parse_subscription_query,
    query_parameters,
)

DOCS = PROFILES["docs"]
SDK = PROFILES["sdk"]
ID = "7C9E6679-7425-40DE-944B-E07FC1F90AE7"


def refused(call, *args) -> str:
    """The message of the 400 (-22015) that `call(*args)` raises."""
    with pytest.raises(ApiError) as caught:
        call(*args)
    assert (caught.value.status, caught.value.errno) == (400, -22015), caught.value
    return caught.value.message


# --------------------------------------------------------------------------- Page


@pytest.mark.parametrize(
    ("offset", "limit", "total", "cut"),
    [
        (0, None, 7, (0, 7)),  # no limit: every match
        (0, 3, 7, (0, 3)),
        (6, 3, 7, (6, 7)),  # the last page is short
        (9, 3, 7, (7, 7)),  # past the end: empty, never negative
        (0, 5, 0, (0, 0)),
    ],
)
def test_a_page_cuts_its_slice_of_the_matches(offset, limit, total, cut):
    assert Page(offset, limit).cut(total) == cut


def test_pagination_gives_the_next_offset_as_cursor_until_the_last_page():
    assert Page(0, 3).pagination(7) == {
        "offset": 0,
        "limit": 3,
        "total": 7,
        "cursor": "3",
        "hasNext": True,
    }
    last = Page(6, 3).pagination(7)
    assert last == {"offset": 6, "limit": 3, "total": 7, "hasNext": False}
    assert "cursor" not in last  # absent, never null
    assert Page().pagination(4)["limit"] == 4  # no limit: the page is everything


# --------------------------------------------------------------------------- accounts


def test_account_pages_default_to_10_in_docs_and_50_in_sdk():
    assert parse_account_query([], "docs", DOCS).page == Page(0, 10)
    assert parse_account_query([], "sdk", SDK).page == Page(0, 50)


@pytest.mark.parametrize(("profile", "most"), [("docs", 100), ("sdk", 1000)])
def test_the_account_page_limit_runs_from_1_to_the_profiles_most(profile, most):
    enums = PROFILES[profile]
    assert parse_account_query([("limit", str(most))], profile, enums).page.limit == most
    assert parse_account_query([("limit", "1")], profile, enums).page.limit == 1
    for bad in ("0", str(most + 1), "-1", "ten", "1.5", "\u00b2", "\u0663"):
        message = refused(parse_account_query, [("limit", bad)], profile, enums)
        assert f"is not an integer from 1 to {most}" in message


def test_an_offset_takes_up_to_18_ascii_digits():
    top = str(MAX_OFFSET)
    assert len(top) == 18
    assert parse_account_query([("offset", top)], "sdk", SDK).page.offset == MAX_OFFSET
    message = refused(parse_account_query, [("offset", "9" * 5000)], "sdk", SDK)
    assert len(message) < 200  # a huge value is not echoed whole


def test_account_filters_read_in_each_profile():
    docs = parse_account_query(
        [("venue", "OKX"), ("status", "DISABLED"), ("tradingAccountId", ID)], "docs", DOCS
    )
    assert docs.venues == {"OKX"}
    assert docs.statuses == {"INACTIVE"}  # docs' DISABLED is the engine's INACTIVE
    assert docs.trading_account_ids == {ID.lower()}
    sdk = parse_account_query([("accountStatus", "LOCKED"), ("tenantId", " t ")], "sdk", SDK)
    assert sdk.statuses == {"LOCKED"} and sdk.tenant_ids == {" t "}  # tenant taken as given
    # Each profile's status name only: the other is an unknown parameter, ignored.
    assert parse_account_query([("accountStatus", "LOCKED")], "docs", DOCS).statuses is None


@pytest.mark.parametrize(
    ("pairs", "words"),
    [
        ([("venue", "NASDAQ")], "venue: unknown value 'NASDAQ'"),
        ([("venue", "OKX"), ("venue", "OKX")], "given more than once"),
        ([("status", " ")], "status: must not be empty"),
        ([("tradingAccountId", "not-a-uuid")], "'not-a-uuid' is not a UUID"),
        ([("userId", "x" * 100)], "'" + "x" * 40 + "...' is not a UUID"),
        ([("tenantId", "")], "tenantId: must not be empty"),
    ],
)
def test_account_filters_refuse_what_they_cannot_read(pairs, words):
    assert words in refused(parse_account_query, pairs, "docs", DOCS)


# --------------------------------------------------------------------------- operations


def test_operation_queries_read_type_time_range_and_the_sdk_cursor():
    found = parse_operation_query(
        [("operationType", "CONNECT"), ("startTime", "5"), ("endTime", "3"), ("cursor", "20")],
        "sdk",
        OPERATION_TYPES,
    )
    assert found.operation_types == {"CONNECT"}
    assert (found.start, found.end) == (5, 3)  # an empty range matches nothing, no error
    assert found.page == Page(20, 50)
    both = parse_operation_query([("cursor", "20"), ("offset", "4")], "sdk", OPERATION_TYPES)
    assert both.page.offset == 4  # offset wins over cursor
    assert "operationType: unknown value 'BUY'" in refused(
        parse_operation_query, [("operationType", "BUY")], "sdk", OPERATION_TYPES
    )


def test_subscription_queries_read_one_account_and_a_page():
    assert parse_subscription_query([]) == (None, Page(0, 50))
    account, page = parse_subscription_query([("tradingAccountId", ID), ("limit", "1000")])
    assert account == ID.lower() and page == Page(0, 1000)
    assert "from 1 to 1000" in refused(parse_subscription_query, [("limit", "1001")])


# --------------------------------------------------------------------------- declared names


@pytest.mark.parametrize(
    ("operation", "parse"),
    [
        ("listTradingAccounts", lambda p, e, pairs: parse_account_query(pairs, p, e)),
        (
            "listTradingAccountOperations",
            lambda p, e, pairs: parse_operation_query(pairs, p, OPERATION_TYPES),
        ),
    ],
    ids=["accounts", "operations"],
)
@pytest.mark.parametrize("profile", ["docs", "sdk"])
def test_every_declared_parameter_is_one_the_parser_reads(operation, parse, profile):
    """A junk value of each declared name is refused: the parser reads every name the
    near-miss hints and the OpenAPI document call known."""
    enums = PROFILES[profile]
    declared = query_parameters(operation, profile, enums)
    assert declared
    for name in declared:
        junk = "" if name == "tenantId" else "\u00b2not-valid"  # tenantId is free text
        assert name in refused(parse, profile, enums, [(name, junk)])
    # An undeclared name is ignored, as by the real service.
    assert parse(profile, enums, [("noSuchName", "\u00b2")]) == parse(profile, enums, [])

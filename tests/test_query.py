"""Property tests of the list query parser (engine/query.py), without a server."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadenza_mock.contract.errors import ApiError
from cadenza_mock.contract.model import PROFILES
from cadenza_mock.engine.query import NO_FILTER, parse_list_query

DOCS = PROFILES["docs"]
SDK = PROFILES["sdk"]
uuids = st.uuids().map(str)


@given(
    ctype=st.none() | st.sampled_from(DOCS.types),
    status=st.none() | st.sampled_from(DOCS.statuses),
    ids=st.none() | st.lists(uuids, min_size=1, max_size=5),
    upper=st.booleans(),
    noise=st.lists(st.tuples(st.sampled_from(["page", "x", "Type"]), st.text()), max_size=3),
)
def test_valid_docs_queries_parse(ctype, status, ids, upper, noise):
    pairs = list(noise)
    if ctype is not None:
        pairs.append(("type", ctype))
    if status is not None:
        pairs.append(("status", status))
    if ids is not None:
        pairs.append(("credentialIds", ",".join(i.upper() if upper else i for i in ids)))
    where = parse_list_query(pairs, "docs", DOCS)
    assert where.types == (None if ctype is None else frozenset({ctype}))
    assert where.statuses == (None if status is None else frozenset({status}))
    assert where.credential_ids == (None if ids is None else frozenset(ids))
    if not pairs or all(k not in ("type", "status", "credentialIds") for k, _ in pairs):
        assert where == NO_FILTER
    hash(where)  # it is the response cache key


@given(
    ctype=st.sampled_from(SDK.types),
    status=st.sampled_from(SDK.statuses),
    ids=st.lists(uuids, min_size=1, max_size=4),
)
def test_valid_sdk_queries_parse(ctype, status, ids):
    pairs = [("credentialType", ctype), ("credentialStatus", status)]
    pairs += [("credentialIds", i) for i in ids]  # the sdk's repeated form
    where = parse_list_query(pairs, "sdk", SDK)
    assert where.types == {ctype} and where.statuses == {status}
    assert where.credential_ids == frozenset(ids)


def bad_enum(choices: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.text(max_size=12).filter(lambda t: t.strip() not in choices)


@given(
    param=st.sampled_from(["type", "status"]),
    data=st.data(),
)
def test_invalid_enum_values_are_400(param, data):
    choices = DOCS.types if param == "type" else DOCS.statuses
    text = data.draw(bad_enum(choices))
    with pytest.raises(ApiError) as info:
        parse_list_query([(param, text)], "docs", DOCS)
    err = info.value
    assert (err.status, err.errno) == (400, -22015)
    assert err.message.startswith(f"Invalid argument: {param}:")
    assert f"(allowed: {', '.join(choices)})" in err.message


def not_a_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) != text.lower() or len(text) != 36
    except ValueError:
        return True


@given(
    good=st.lists(uuids, max_size=3),
    bad=st.text(alphabet=st.characters(blacklist_characters=","), max_size=40).filter(
        lambda t: t.strip() and not_a_uuid(t.strip())
    ),
    position=st.integers(0, 3),
)
def test_any_malformed_id_in_the_list_is_400(good, bad, position):
    parts = list(good)
    parts.insert(min(position, len(parts)), bad)
    with pytest.raises(ApiError) as info:
        parse_list_query([("credentialIds", ",".join(parts))], "docs", DOCS)
    assert (info.value.status, info.value.errno) == (400, -22015)
    assert "credentialIds" in info.value.message
    assert "(allowed: comma-separated UUIDs)" in info.value.message


@given(good=st.lists(uuids, min_size=1, max_size=3), position=st.integers(0, 3))
def test_an_empty_element_is_400(good, position):
    parts = list(good)
    parts.insert(min(position, len(parts)), " ")
    with pytest.raises(ApiError, match="credentialIds"):
        parse_list_query([("credentialIds", ",".join(parts))], "docs", DOCS)


@given(param=st.sampled_from(["type", "status"]), data=st.data())
def test_a_repeated_single_value_parameter_is_400(param, data):
    choices = DOCS.types if param == "type" else DOCS.statuses
    values = data.draw(st.lists(st.sampled_from(choices), min_size=2, max_size=3))
    with pytest.raises(ApiError, match="more than once"):
        parse_list_query([(param, v) for v in values], "docs", DOCS)

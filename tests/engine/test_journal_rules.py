"""The journal as the engine keeps it (no server): numbering across clears and restarts,
the bound, what is kept of an answer, and redaction on the way out."""

from __future__ import annotations

import json

import pytest

from cadenza_mock.engine.journal import (
    MAX_KEPT_ANSWER,
    REDACTED,
    Headers,
    Journal,
    kept_answer,
    redact_body,
    redact_query_string,
)


def recorded(path: str = "/p", *, query: str = "", headers=(), body=None, answer=None) -> tuple:
    """What the HTTP layer hands `Journal.record` for one answered request."""
    return (1000, "GET", path, query, headers, body, 200, 1.23456, None, None, (), answer)


def paths(journal: Journal, after: int = 0) -> list[tuple[int, str]]:
    return [(e.seq, e.path) for e in journal.entries_after(after)]


def test_entries_are_numbered_and_the_oldest_fall_off_past_the_limit():
    journal = Journal(limit=3)
    for n in range(5):
        journal.record(recorded(f"/{n}"))
    assert paths(journal) == [(3, "/2"), (4, "/3"), (5, "/4")]
    assert journal.last_seq == 5
    assert paths(journal, after=4) == [(5, "/4")]
    assert paths(journal, after=1) == paths(journal)  # fallen off: what is kept
    assert paths(journal, after=5) == []


def test_a_clear_keeps_the_numbering_and_a_restart_begins_again():
    journal = Journal()
    journal.record(recorded("/a"))
    journal.clear()
    journal.record(recorded("/b"))
    assert paths(journal) == [(2, "/b")] and journal.clears == 1
    journal.restart()
    journal.record(recorded("/c"))
    assert paths(journal) == [(1, "/c")]


def test_a_negative_limit_is_refused():
    with pytest.raises(ValueError, match="0 \\(off\\) or more"):
        Journal(limit=-1)


def test_watchers_hear_every_change_until_they_stop():
    journal = Journal()
    heard: list[int] = []
    stop = journal.watch(lambda: heard.append(journal.last_seq))
    journal.record(recorded())
    journal.clear()
    journal.restart()
    assert heard == [1, 1, 0] and journal.watchers == 1
    stop()
    journal.record(recorded())
    assert heard == [1, 1, 0] and journal.watchers == 0


def test_headers_and_queries_are_redacted_when_read():
    journal = Journal()
    raw = (
        (b"Authorization", b"Bearer alice-token"),
        (b"X-Api-Secret", b"s3"),
        (b"X-Api-Key", b"abcdef123456"),
        (b"Accept", b"*/*"),
    )
    journal.record(recorded(query="api_secret=s3&status=ACTIVE&status=REVOKED", headers=raw))
    (entry,) = journal.entries()
    assert entry.headers.to_json() == {
        "Authorization": REDACTED,
        "X-Api-Secret": REDACTED,
        "X-Api-Key": "abcdef***",
        "Accept": "*/*",
    }
    assert entry.headers["authorization"] == REDACTED  # names are case-insensitive
    assert entry.query == {"api_secret": [REDACTED], "status": ["ACTIVE", "REVOKED"]}
    assert entry.duration_ms == 1.235
    assert "alice-token" not in json.dumps(entry.to_json())


def test_bodies_are_redacted_at_any_depth_and_keys_masked():
    body = {
        "apiKey": "abcdef123456",
        "nested": [{"apiPassphrase": "p"}, {"refresh_token": "t", "name": "n"}],
        "apiSecret": {"even": "a dict"},
        "clientApiKey": 7,  # not a string: nothing to mask, so nothing shown
    }
    assert redact_body(body) == {
        "apiKey": "abcdef***",
        "nested": [{"apiPassphrase": REDACTED}, {"refresh_token": REDACTED, "name": "n"}],
        "apiSecret": REDACTED,
        "clientApiKey": REDACTED,
    }


def test_a_log_lines_query_string_is_redacted_only_where_it_names_a_secret():
    assert redact_query_string("status=ACTIVE&x=1") == "status=ACTIVE&x=1"
    assert redact_query_string("password=hunter2&x=1") == f"password={REDACTED}&x=1"
    assert "hunter2" not in redact_query_string("a=1&Api-Secret=hunter2")


def test_answers_are_kept_up_to_the_bound_and_their_tokens_redacted():
    small = b'{"data":{"accessToken":"jwt","user":{"email":"a@example.com"}}}'
    assert kept_answer(small) is small  # no copy
    big = b"x" * (MAX_KEPT_ANSWER + 1)
    assert kept_answer(big) == MAX_KEPT_ANSWER + 1
    assert kept_answer(None) is None
    journal = Journal()
    for answer in (small, kept_answer(big), b"not json", None):
        journal.record(recorded(answer=answer))
    kept = [entry.response for entry in journal.entries()]
    assert kept == [
        {"data": {"accessToken": REDACTED, "user": {"email": "a@example.com"}}},
        f"<answer of {MAX_KEPT_ANSWER + 1} bytes, not kept>",
        "<non-JSON answer, 8 bytes>",
        None,
    ]


def test_headers_compare_and_iterate_as_sent():
    headers = Headers([("X-One", "1"), ("accept", "*/*")])
    assert list(headers) == ["X-One", "accept"]
    assert headers["x-one"] == headers["X-ONE"] == "1"
    assert "ACCEPT" in headers and 1 not in headers
    with pytest.raises(KeyError):
        headers["missing"]

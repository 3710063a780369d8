"""A bounded record of the requests the mock answered, with secrets and tokens redacted.

Tests assert on it (`mock.requests`), the admin API serves it; neither must ever expose a
secret. Bodies are redacted before they are kept; headers and query strings are kept raw
(they are the HTTP parser's own objects, which keeps recording cheap) and redacted by the
only way out, `Journal.entries()`.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

from cadenza_mock.contract import options
from cadenza_mock.contract.bounds import MAX_IDLE_WAIT as MAX_IDLE_WAIT
from cadenza_mock.contract.wire import mask_api_key

REDACTED = "<redacted>"
# Answers up to this size are kept with their entry (a reference to the bytes sent, no
# copy); a larger one only as its size, so a journal of huge lists stays small.
MAX_KEPT_ANSWER = 8 * 1024  # a journal of 1,000 entries holds 8 MB of answers at most
# Requests a journal keeps unless told otherwise (`--journal-size`).
DEFAULT_JOURNAL_SIZE = 1000
# The longest one wait for requests in flight may take on the server (GET
# /__admin/requests/idle); a client waiting longer asks again.

# Live journal streams (the admin API's server-sent events) open at once (`--max-streams`).
DEFAULT_MAX_STREAMS = options.DEFAULT_MAX_STREAMS
RawHeaders = tuple[tuple[bytes, bytes], ...]
Recorded = tuple[Any, ...]
# Words that make a body field, query parameter or header a secret wherever they appear,
# compared case- and separator-insensitively (apiSecret, api_secret, X-Api-Secret).
_SECRET_WORDS = ("secret", "passphrase", "password", "token", "authorization", "cookie")


def _normalized(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def is_secret_name(name: str) -> bool:
    normalized = _normalized(name)
    return any(word in normalized for word in _SECRET_WORDS)


def _is_api_key(name: str) -> bool:
    return _normalized(name).endswith("apikey")


# Field names known to be neither secret nor an API key: most bodies repeat the same few,
# and the two normalized comparisons cost more than the lookup. Bounded: clients name them.
_PLAIN_NAMES: set[str] = set()
_PLAIN_LIMIT = 4096


def redact_value(name: str, value: Any) -> Any:
    """What a field called `name` may show: secrets replaced, API keys masked."""
    if name in _PLAIN_NAMES:
        return redact_body(value) if isinstance(value, (Mapping, list)) else value
    if is_secret_name(name):
        return REDACTED
    if _is_api_key(name):
        return mask_api_key(value) if isinstance(value, str) else REDACTED
    if len(_PLAIN_NAMES) < _PLAIN_LIMIT:
        _PLAIN_NAMES.add(name)
    return redact_body(value)


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: redact_value(k, v) for k, v in headers}


def redact_query_values(query: Mapping[str, str]) -> dict[str, str]:
    """One value per parameter (a `calls(query=...)` filter) as a message may show it."""
    return {k: redact_value(k, v) for k, v in query.items()}


def redact_query(query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {k: [redact_value(k, v) for v in values] for k, values in query.items()}


def redact_query_string(query_string: str) -> str:
    """The raw query string for a log line, with secret-named values replaced."""
    if not query_string or not any(
        word in query_string.lower() for word in (*_SECRET_WORDS, "apikey", "api_key")
    ):
        return query_string
    return urlencode(
        [(k, redact_value(k, v)) for k, v in parse_qsl(query_string, keep_blank_values=True)],
        safe="<>*",
    )


def redact_body(body: Any) -> Any:
    """Secrets replaced, API keys masked, at any depth."""
    if isinstance(body, Mapping):
        return {key: redact_value(str(key), value) for key, value in body.items()}
    if isinstance(body, list):
        return [redact_body(item) for item in body]
    return body


class Headers(Mapping[str, str]):
    """A request's headers as the journal shows them: read-only, names case-insensitive.

    Clients differ in how they spell a header (`authorization`, `Authorization`); a test
    asserting on `call.headers["Authorization"]` must not depend on which one it used.
    Iteration, `to_json()` and equality keep the names as the client sent them.
    """

    __slots__ = ("_by_name", "_index")

    def __init__(self, headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        self._by_name: dict[str, str] = {}
        self._index: dict[str, str] = {}  # lower-cased name -> the name as sent
        for name, value in pairs:
            self._by_name[name] = value
            self._index[name.lower()] = name

    def __getitem__(self, name: str) -> str:
        if not isinstance(name, str):
            raise KeyError(name)
        return self._by_name[self._index.get(name.lower(), name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __repr__(self) -> str:
        return f"Headers({self._by_name!r})"

    def to_json(self) -> dict[str, str]:
        """A plain dict, names as sent (what the admin API serves)."""
        return dict(self._by_name)


@dataclass(slots=True)
class JournalEntry:
    """One answered request, as tests and the admin API see it."""

    seq: int
    time_ms: int
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers  # case-insensitive: `call.headers["authorization"]` works too
    body: Any
    status: int
    duration_ms: float
    user_id: str | None = None
    fault: str | None = None
    # Near-miss hints: what the request likely meant (another profile's name, a typo).
    hints: tuple[str, ...] = ()
    # What the mock answered: the JSON body with tokens redacted (keys are masked on the
    # wire already), a note for a large or non-JSON one, None when nothing was sent.
    response: Any = None

    def __post_init__(self) -> None:
        # An entry built by hand (a test double, an old pickle) may bring a plain dict.
        if not isinstance(self.headers, Headers):
            self.headers = Headers(self.headers)

    def to_json(self) -> dict[str, Any]:
        """camelCase, like every other JSON the mock serves."""
        return {
            "seq": self.seq,
            "time": self.time_ms,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers.to_json(),
            "body": self.body,
            "status": self.status,
            "durationMs": self.duration_ms,
            "userId": self.user_id,
            "fault": self.fault,
            "hints": list(self.hints),
            "response": self.response,
        }


class Journal:
    """Newest last; the oldest entries fall off past `limit` (0 turns the journal off).

    Recording is on every request's path, reading is rare: a request is kept as the tuple
    of what it already has (raw headers, raw query string) and the redacted, parsed
    `JournalEntry` is built when someone reads. Bodies are different: the caller redacts
    them before they are kept, so no secret a client sent is ever stored.

    Entries are kept in the order their requests arrived, not the order they ended: a
    request takes a ticket (`arrive()`) when it comes in and is numbered by it, so a
    delayed call its client gave up on stays before the retry that followed it. Tickets
    not yet recorded or `leave()`-ed are the requests in flight (`in_flight`).
    """

    def __init__(self, limit: int = DEFAULT_JOURNAL_SIZE) -> None:
        if limit < 0:
            raise ValueError(f"journal limit must be 0 (off) or more, got {limit!r}")
        self.limit = limit
        # (seq, record number, raw): seq is the arrival ticket, the record number says in
        # which order entries were recorded (what a live stream follows).
        self._entries: deque[tuple[int, int, Recorded]] = deque(maxlen=limit or 1)
        self._arrived = 0  # tickets handed out since the last restart (the seqs)
        self._recorded = 0  # entries recorded since the last restart
        self._newest = 0  # the highest seq recorded since the last restart
        self._in_flight: set[int] = set()
        self._run = 0  # which run (restart) a ticket belongs to
        # Called after every change (a record, a clear, a restart): the live stream of the
        # admin API waits on them. Empty unless someone watches, so recording pays one check.
        self._watchers: list[Callable[[], None]] = []
        self.clears = 0  # how often clear() emptied it: a live reader says so too

    def arrive(self) -> tuple[int, int]:
        """A ticket for a request that has just come in: it is in flight until `record()`
        or `leave()` takes the ticket back."""
        self._arrived += 1
        self._in_flight.add(self._arrived)
        return self._run, self._arrived

    def leave(self, ticket: tuple[int, int]) -> None:
        """The request of `ticket` ends without an entry (a reset fenced it, say)."""
        run, seq = ticket
        if run == self._run and seq in self._in_flight:
            self._in_flight.discard(seq)
            if self._watchers:
                self._changed()

    @property
    def in_flight(self) -> int:
        """Requests that arrived in this run and have not been recorded (or left) yet."""
        return len(self._in_flight)

    def record(self, request: Recorded, ticket: tuple[int, int] | None = None) -> None:
        """Keep one answered request: (time ms, method, path, query string, raw headers,
        redacted body, status, duration ms, user id, fault note[, hints[, answer]]), the
        answer as `kept_answer()` made it; in its ticket's place (none: it arrives now)."""
        if ticket is None:
            self._arrived += 1
            seq = self._arrived
        else:
            run, seq = ticket
            if run != self._run:  # a request of the run before a restart: not this one's
                return
            self._in_flight.discard(seq)
        self._recorded += 1
        item = (seq, self._recorded, request)
        entries = self._entries
        if seq > self._newest:
            self._newest = seq
            entries.append(item)
        else:  # it arrived before entries already kept: it goes in before them
            at = len(entries)
            while at and entries[at - 1][0] > seq:
                at -= 1
            if len(entries) == entries.maxlen:
                if at == 0:  # older than everything kept: it would fall off at once
                    self._changed_if_watched()
                    return
                entries.popleft()
                at -= 1
            entries.insert(at, item)
        self._changed_if_watched()

    def _changed_if_watched(self) -> None:
        if self._watchers:
            self._changed()

    def entries(self) -> list[JournalEntry]:
        return self.entries_after(0)

    @property
    def last_seq(self) -> int:
        """The seq of the newest entry recorded since the last restart (0: none yet)."""
        return self._newest

    @property
    def records(self) -> int:
        """How many entries were recorded since the last restart (a live stream's cursor:
        an entry recorded late, in its arrival place, is still a new record)."""
        return self._recorded

    def entries_after(self, seq: int) -> list[JournalEntry]:
        """The kept entries numbered above `seq`, oldest first: only those are built."""
        return [_entry(number, *raw) for number, _, raw in self._entries if number > seq]

    def recorded_after(self, records: int) -> list[tuple[int, JournalEntry]]:
        """(record number, entry) of the kept entries recorded after the first `records`,
        in the order they were recorded."""
        found = sorted((rec, seq, raw) for seq, rec, raw in self._entries if rec > records)
        return [(rec, _entry(seq, *raw)) for rec, seq, raw in found]

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no request of this run is in flight (True), or `timeout` s passed."""
        if not self._in_flight:
            return True
        idle = asyncio.Event()

        def check() -> None:
            if not self._in_flight:
                idle.set()

        unwatch = self.watch(check)
        try:
            async with asyncio.timeout(timeout):
                await idle.wait()
        except TimeoutError:
            return not self._in_flight
        finally:
            unwatch()
        return True

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` after every change until the returned function is called."""
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback)

    @property
    def watchers(self) -> int:
        """How many watch the journal now (a stream that ended must leave none behind)."""
        return len(self._watchers)

    def _changed(self) -> None:
        for callback in tuple(self._watchers):
            callback()

    def clear(self) -> None:
        """Forget the entries; numbering goes on (DELETE /__admin/requests)."""
        self._entries.clear()
        self.clears += 1
        self._changed()

    def restart(self) -> None:
        """Forget the entries and number the next one 1: a reset or a scenario load starts
        a new run, whose journal reads the same whatever ran before it. Requests still in
        flight belong to the run before: they are fenced off and never recorded."""
        self._entries.clear()
        self._arrived = self._recorded = self._newest = 0
        self._in_flight.clear()
        self._run += 1
        self._changed()


def kept_answer(body: bytes | str | None) -> bytes | str | int | None:
    """What a journal entry keeps of an answer's body: the object itself (no copy) up to
    MAX_KEPT_ANSWER, else only its size in bytes. Parsed only when someone reads."""
    if body is None or len(body) <= MAX_KEPT_ANSWER:
        return body
    return len(body) if isinstance(body, bytes) else len(body.encode("utf-8", "replace"))


def _response(answer: bytes | str | int | None) -> Any:
    if answer is None:
        return None
    if isinstance(answer, int):
        return f"<answer of {answer} bytes, not kept>"
    try:
        return _redact_answer(json.loads(answer))
    except ValueError:  # a truncated (malformed fault) or non-JSON answer
        size = len(answer) if isinstance(answer, bytes) else len(answer.encode("utf-8", "replace"))
        return f"<non-JSON answer, {size} bytes>"


def _redact_answer(body: Any) -> Any:
    """An answer's secret-named fields (a login's tokens) replaced, at any depth; its API
    keys are masked on the wire already, and stay exactly as the client got them."""
    if isinstance(body, Mapping):
        return {
            key: REDACTED if is_secret_name(str(key)) else _redact_answer(value)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [_redact_answer(item) for item in body]
    return body


def _entry(
    seq: int,
    time_ms: int,
    method: str,
    path: str,
    query_string: str,
    raw_headers: RawHeaders,
    body: Any,
    status: int,
    duration_ms: float,
    user_id: str | None,
    fault: str | None,
    hints: tuple[str, ...] = (),
    answer: bytes | str | int | None = None,
) -> JournalEntry:
    return JournalEntry(
        seq=seq,
        time_ms=time_ms,
        method=method,
        path=path,
        query=redact_query(parse_qs(query_string, keep_blank_values=True)),
        headers=Headers(
            redact_headers(
                (
                    name.decode("utf-8", "surrogateescape"),
                    value.decode("utf-8", "surrogateescape"),
                )
                for name, value in raw_headers
            )
        ),
        body=body,
        status=status,
        duration_ms=round(duration_ms, 3),
        user_id=user_id,
        fault=fault,
        hints=hints,
        response=_response(answer),
    )

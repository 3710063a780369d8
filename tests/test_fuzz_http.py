"""Fuzzing the HTTP surface with bad input at scale.

Hypothesis draws requests to every endpoint of the emulated API and of the admin API, in
both wire profiles (bundled scenario `default`: docs profile; `sdk`: sdk profile): wrong
methods and near-miss paths, malformed and repeated query parameters, percent-encoding
and unicode junk, invalid and deeply nested JSON, 400+ digit numbers, wrong types, NUL
bytes, lone surrogates (`"\\ud800"`), bodies over 1 MiB, huge and odd headers, odd
Authorization values, and raw bytes in the request line and headers that HTTP clients
refuse to send. Every request goes over a raw socket, so nothing is cleaned up on the way.

Properties, for every answer:

- it is the Cadenza envelope: `application/json`, keys data/success/errno/error first
  (the sdk profile's errors add `details`), `success` false with a negative errno on an
  error, and the status is a 2xx or a 4xx (no fault is armed, so never a 5xx);
- after an error, the state is byte-identical: alice's `GET /api/v3/credential/list`, and
  `GET /__admin/credentials`, `/__admin/scenario`, `/__admin/faults` and `/__admin/clock`
  (the clock is frozen in both scenarios). A 2xx may change state; the next example
  starts from the pristine scenario again;
- the journal still renders (`GET /__admin/requests` is a 200) and no handler crashed.

Besides the random requests, two deterministic sweeps send every broken body of
`WHOLE_BODIES` and `CORNER_BODIES` (over 1 MiB: a 413 wherever the body is read) to every
endpoint that reads one.

The in-process tests share one module-scoped `MockServer` per scenario, reset between
examples; one test runs the same requests against a `cadenza-mock serve --port 0`
subprocess and checks that its whole output holds no traceback. Examples are derandomized
(no example database), so CI runs the same inputs every time. Corner cases the random
requests once hit (see the end of the file) have plain tests of their own.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest
from _api import DETAILS_KEYS
from hypothesis import given, settings
from hypothesis import strategies as st
from support import FUZZ

from cadenza_mock import MockServer

# --------------------------------------------------------------------------- settings

SETTINGS = FUZZ
API_EXAMPLES = 200  # per profile
ADMIN_EXAMPLES = 200  # per profile
RAW_EXAMPLES = 150  # per profile
SERVED_EXAMPLES = 100  # against the subprocess, both profiles
SOCKET_TIMEOUT = 20.0  # seconds an answer may take: far more than any of these needs

SCENARIOS = {"default": "docs", "sdk": "sdk"}
LIST = "/api/v3/credential/list"
ALICE_TOKEN = "alice-token"  # alice's static token in both scenarios
ALICE = f"Bearer {ALICE_TOKEN}"
MIB = 1 << 20

# Ids in the bundled scenarios (default: docs; sdk: sdk), and ones in neither.
DOCS_IDS = [
    "660e8400-e29b-41d4-a716-446655440000",
    "82eb2374-634d-418a-9a46-01745e724b71",
    "fe6a2a17-543f-463b-8143-5abb327fa110",  # REVOKED
]
SDK_IDS = ["3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"]
OTHER_IDS = [
    "00000000-0000-4000-8000-000000000000",
    "00000000-0000-0000-0000-000000000000",
    "660E8400-E29B-41D4-A716-446655440000",  # a known id in upper case
    "660e8400e29b41d4a716446655440000",  # without dashes
    "{660e8400-e29b-41d4-a716-446655440000}",
    "660e8400-e29b-41d4-a716-44665544000",  # one digit short
]
IDS = DOCS_IDS + SDK_IDS + OTHER_IDS

# --------------------------------------------------------------------------- raw client


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]  # names lower-cased, in order
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        return values[-1] if values else None


class NoAnswer(AssertionError):
    """The server closed the connection or let it time out without a complete answer."""


def _recv(conn: socket.socket, buffer: bytearray) -> bool:
    """Read more into `buffer`; False at the end of the stream."""
    try:
        chunk = conn.recv(65536)
    except ConnectionResetError:
        return False
    except TimeoutError:
        raise NoAnswer(f"no complete answer within {SOCKET_TIMEOUT}s") from None
    buffer.extend(chunk)
    return bool(chunk)


def _read_answer(conn: socket.socket, head_only: bool) -> Answer:
    buffer = bytearray()
    while True:
        while b"\r\n\r\n" not in buffer:
            if not _recv(conn, buffer):
                raise NoAnswer(f"connection closed after {bytes(buffer[:200])!r}")
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        assert len(parts) >= 2 and parts[0].startswith("HTTP/"), status_line
        status = int(parts[1])
        headers = []
        for line in lines:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        if 100 <= status < 200:  # `Expect: 100-continue` gets an interim answer first
            buffer = bytearray(rest)
            continue
        break
    answer = Answer(status, headers, b"")
    body = bytearray(rest)
    if head_only:
        return answer
    length = answer.header("content-length")
    if (answer.header("transfer-encoding") or "").lower() == "chunked":
        answer.body = _dechunk(conn, body)
    elif length is not None:
        while len(body) < int(length):
            if not _recv(conn, body):
                raise NoAnswer(f"body cut at {len(body)} of {length} bytes")
        answer.body = bytes(body[: int(length)])
    else:
        while _recv(conn, body):
            pass
        answer.body = bytes(body)
    return answer


def _dechunk(conn: socket.socket, buffer: bytearray) -> bytes:
    out = bytearray()
    while True:
        while b"\r\n" not in buffer:
            if not _recv(conn, buffer):
                raise NoAnswer("chunked body cut")
        size_line, _, rest = bytes(buffer).partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        buffer = bytearray(rest)
        while len(buffer) < size + 2:
            if not _recv(conn, buffer):
                raise NoAnswer("chunked body cut")
        if size == 0:
            return bytes(out)
        out += buffer[:size]
        buffer = buffer[size + 2 :]


def exchange(port: int, data: bytes, *, head_only: bool = False) -> Answer:
    """Send `data` as is on a fresh connection and read one answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as conn:
        # Answered (e.g. 413) and closed before taking all of a large body: read on.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(data)
        return _read_answer(conn, head_only)


def http_request(
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes | None,
) -> bytes:
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if body is not None:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def get(port: int, target: str, authorization: str | None = None) -> Answer:
    headers = [(b"Authorization", authorization.encode())] if authorization else []
    return exchange(port, http_request(b"GET", target.encode(), headers, None))


# --------------------------------------------------------------------------- properties

ENVELOPE = ["data", "success", "errno", "error"]


def shown(data: bytes, limit: int = 600) -> str:
    text = repr(data[:limit])
    return text + (f"... ({len(data)} bytes)" if len(data) > limit else "")


def assert_envelope(answer: Answer, profile: str, request: bytes) -> dict[str, Any]:
    """The Cadenza envelope with a 2xx or a 4xx; `request` is shown when it is not."""
    where = f"\nrequest: {shown(request)}\nanswer: {answer.status} {shown(answer.body)}"
    assert 200 <= answer.status < 300 or 400 <= answer.status < 500, "status" + where
    content_type = (answer.header("content-type") or "").split(";")[0].strip()
    assert content_type == "application/json", f"Content-Type {content_type!r}" + where
    try:
        payload = json.loads(answer.body.decode("utf-8"))
    except ValueError as exc:
        raise AssertionError(f"not JSON ({exc})" + where) from None
    assert isinstance(payload, dict) and list(payload)[:4] == ENVELOPE, "envelope" + where
    if answer.status >= 400:
        assert payload["success"] is False and payload["data"] is None, where
        errno = payload["errno"]
        assert isinstance(errno, int) and not isinstance(errno, bool) and errno < 0, where
        assert isinstance(payload["error"], str) and payload["error"], where
        extra = ["details"] if profile == "sdk" else []
        assert list(payload)[4:] == extra, "keys" + where
        if extra:
            details = payload["details"]
            assert isinstance(details, dict) and list(details) == DETAILS_KEYS, where
            assert isinstance(details["code"], str) and details["code"], where
    else:
        assert payload["success"] is True, where
        assert payload["errno"] == 0 and payload["error"] is None, where
    return payload


STATE_VIEWS = ("/__admin/credentials", "/__admin/scenario", "/__admin/faults", "/__admin/clock")


def snapshot(port: int) -> dict[str, bytes]:
    """What an error must leave byte-identical: alice's list and the admin views."""
    views = {}
    for target, authorization in [(LIST, ALICE)] + [(v, None) for v in STATE_VIEWS]:
        answer = get(port, target, authorization)
        assert answer.status == 200, (target, answer.status, answer.body[:300])
        views[target] = answer.body
    return views


def check(
    port: int, profile: str, request: bytes, before: dict[str, bytes], *, head_only: bool = False
) -> Answer:
    """Send one fuzzed request and check every property above; `before` is the snapshot
    of the state the request meets."""
    answer = exchange(port, request, head_only=head_only)
    if head_only:
        where = f"\nrequest: {shown(request)}\nanswer: {answer.status} {answer.headers}"
        assert 200 <= answer.status < 300 or 400 <= answer.status < 500, where
        assert (answer.header("content-type") or "").startswith("application/json"), where
    else:
        assert_envelope(answer, profile, request)
    journal = get(port, "/__admin/requests")
    assert journal.status == 200, (journal.status, journal.body[:300], shown(request))
    assert json.loads(journal.body)["success"] is True
    if answer.status >= 400:
        after = snapshot(port)
        for view, data in before.items():
            assert after[view] == data, (
                f"{answer.status} {shown(answer.body, 300)} changed {view}\n"
                f"request: {shown(request)}\nbefore: {shown(data)}\nafter: {shown(after[view])}"
            )
    return answer


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def pristine(request: pytest.FixtureRequest):
    """One MockServer per scenario for the whole module, put back before every example."""
    with MockServer(request.param) as mock:
        yield Pristine(request.param, mock)


class Pristine:
    """Puts an in-process mock back to its scenario before every example."""

    def __init__(self, name: str, mock: MockServer) -> None:
        self.name = name
        self.mock = mock
        self.base = mock.scenario
        self.profile = SCENARIOS[name]
        self.before: dict[str, bytes] | None = None

    def __call__(self) -> dict[str, bytes]:
        """Restore, and return the snapshot of the restored state.

        Every restore gives the same state, so the snapshot is taken once: a request
        that changed state and reported an error still differs from it.
        """
        if self.mock.scenario is not self.base:  # an admin PUT loaded another one
            self.mock.load(self.name)
        self.mock.reset()
        self.mock.clear_handler_errors()  # (a failed example may have left one)
        if self.before is None:
            self.before = snapshot(self.mock.port)
        return self.before

    def run(self, request: bytes, *, head_only: bool = False) -> Answer:
        before = self()
        try:
            answer = check(self.mock.port, self.profile, request, before, head_only=head_only)
        except AssertionError:
            self.mock.check_handler_errors()  # the crash behind a 500, if there was one
            raise
        self.mock.check_handler_errors()
        return answer


# --------------------------------------------------------------------------- strategies

# Text of every kind, surrogates excluded (they cannot be percent-encoded or sent raw).
plain_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\u0085",
    "\u2028",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "é",
    "e\u0301",
    "😀",
    "\U0001d54f" * 10,  # mathematical double-struck X
    "\u202e" + "txt.exe",
    "null",
    "true",
    "0",
    "-1",
    "1e400",
    "nan",
    "Infinity",
    "0x10",
    "1" * 400,
    "-" + "9" * 450,
    "' OR 1=1 --",
    "<script>",
    "${jndi:ldap://x}",
    "%s%n",
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows",
    "~root",
    "a" * 5000,
    "alice@example.com",
    "correct-horse",
    ALICE_TOKEN,
    "alice-expired-token",
    "BINANCE",
    "OKX",
    "ACTIVE",
    "REVOKED",
    "CREATED",
    "EXPIRED",
    "EXCHANGE",
    "API_KEY",
    "default",
    "sdk",
    "empty",
    *IDS,
]
junk_text = st.one_of(plain_text, st.sampled_from(NASTY_STRINGS))

# JSON text fragments that json.dumps never writes.
RAW_JSON_VALUES = [
    "1" * 400,
    "-" + "9" * 450,
    "1" + "0" * 400 + ".5",
    "0." + "0" * 400 + "1",
    "1e400",
    "-1e400",
    "1e-400",
    "1E+9999999999",
    "NaN",
    "Infinity",
    "-Infinity",
    '"\\ud800"',
    '"\\udc00"',
    '"\\udfff\\ud800"',
    '"x\\ud800y"',
    '"\\ud83d\\ude00"',  # a valid pair
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\/\\b\\f"',
    '"\x00"',  # raw control characters in a string: invalid JSON
    '"\n"',
    '"\\x41"',
    '"\\u12"',
    "01",
    "+1",
    ".5",
    "0x1F",
    "'single'",
    '"unterminated',
    "tru",
    "[1,]",
    "{,}",
    '{"a":1,"a":2}',
    "[" * 100 + "]" * 100,
    "[" * 2000 + "]" * 2000,
    '{"a":' * 300 + "1" + "}" * 300,
]

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**450), max_value=10**450),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=24),  # surrogates included: json.dumps writes them as \\udxxx
    st.sampled_from(NASTY_STRINGS),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(NASTY_STRINGS)), inner, max_size=4
        ),
    ),
    max_leaves=10,
)


@st.composite
def raw_json(draw: st.DrawFn, value: Any) -> str:
    """`value` as JSON text, ASCII-escaped or not; sometimes a hand-made fragment instead."""
    if draw(st.integers(0, 5)) == 5:
        return draw(st.sampled_from(RAW_JSON_VALUES))
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


@st.composite
def json_object(draw: st.DrawFn, template: dict[str, Any], extra_keys: tuple[str, ...]) -> str:
    """A mutation of `template` (a valid body): fields dropped, retyped, spliced, added."""
    fields = dict(template)
    keys = list(template) + list(extra_keys)
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.one_of(st.sampled_from(keys), junk_text)) if keys else draw(junk_text)
        action = draw(st.sampled_from(["drop", "value", "value", "nested"]))
        if action == "drop":
            fields.pop(key, None)
        elif action == "nested":
            fields[key] = draw(json_value)
        else:
            fields[key] = draw(st.one_of(json_scalar, st.lists(st.sampled_from(IDS), max_size=3)))
    parts = [
        json.dumps(key, ensure_ascii=draw(st.booleans())) + ":" + draw(raw_json(value))
        for key, value in fields.items()
    ]
    return "{" + ",".join(parts) + "}"


def _deep(depth: int, style: str) -> bytes:
    if style == "list":
        return b"[" * depth + b"1" + b"]" * depth
    if style == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    if style == "unclosed":
        return b"[" * depth
    if style == "mixed":
        return b'[{"a":' * (depth // 2) + b"null" + b"}]" * (depth // 2)
    # nested under a field the endpoint reads
    return b'{"credentialId":' + b"[" * depth + b'"x"' + b"]" * depth + b"}"


# Whole bodies that are broken as a whole.
WHOLE_BODIES: list[Callable[[], bytes]] = [
    lambda: b"",
    lambda: b"   \r\n\t ",
    lambda: b"null",
    lambda: b"[]",
    lambda: b'"a string"',
    lambda: b"12",
    lambda: b"{}",
    lambda: b"{} trailing",
    lambda: b"{}{}",
    lambda: b'{"credentialId": "a", "credentialId": "b"}',
    lambda: b"\xef\xbb\xbf{}",  # UTF-8 byte order mark
    lambda: '{"email": "a"}'.encode("utf-16"),
    lambda: b'{"email": "\xff\xfe", "password": "x"}',  # not UTF-8
    lambda: b'{"email": "\xed\xa0\x80", "password": "x"}',  # an encoded surrogate
    lambda: b'{"email": "\xc0\xaf", "password": "x"}',  # overlong encoding
    lambda: b"\x00" * 16,
    lambda: b'{"venue": "BINANCE"\x00}',
    lambda: b"venue=BINANCE&apiKey=k&apiSecret=s",
    lambda: b"--zz\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--zz--\r\n",
    lambda: b"<?xml version='1.0'?><a/>",
    lambda: b"!!python/object/apply:os.system ['true']",
    lambda: b"!!python/object:os.system x",
    lambda: b"&a [*a]",
    lambda: b"*undefined",
    lambda: b"a: !!int x",
    lambda: b"a: !!timestamp 2026-13-45",
    lambda: b"a: b\na: c",
    lambda: b"--- a\n--- b",
    lambda: b"%YAML 9.9\n--- a",
    lambda: b"a:\n\t- b",
    lambda: b"seed: " + b"9" * 5000,
    lambda: b"{a: 1",
    lambda: b"description: a\x07b",
    lambda: b"\x00users: []",
    lambda: b"x" * (MIB + 1),
    lambda: b'{"name": "' + b"a" * MIB + b'"}',
    lambda: b"[" + b"1," * (MIB // 2) + b"1]",
    lambda: b" " * (MIB + 16) + b"{}",
]
DEPTHS = [65, 100, 500, 1000, 3000, 10000, 100000]
whole_body = st.one_of(
    st.sampled_from(WHOLE_BODIES).map(lambda make: make()),
    st.builds(
        _deep,
        st.sampled_from(DEPTHS),
        st.sampled_from(["list", "object", "unclosed", "mixed", "field"]),
    ),
    st.binary(max_size=64),
)


def body_for(template: dict[str, Any] | None, extra_keys: tuple[str, ...] = ()) -> Any:
    """Bodies for an endpoint: none, a mutated valid one, or something broken as a whole."""
    choices = [st.none(), whole_body]
    if template is not None:
        mutated = json_object(template, extra_keys).map(
            lambda text: text.encode("utf-8", "surrogatepass")
        )
        choices += [mutated, mutated]
    return st.one_of(choices)


# Authorization values: valid, expired, malformed, oversized, not ASCII.
AUTHORIZATIONS: list[bytes | None] = [
    None,
    ALICE.encode(),
    ALICE.encode(),
    b"Bearer alice-expired-token",
    b"Bearer",
    b"Bearer ",
    b"Bearer  " + ALICE_TOKEN.encode(),
    b"bearer " + ALICE_TOKEN.encode(),
    b"BEARER " + ALICE_TOKEN.encode(),
    b"Bearer " + ALICE_TOKEN.encode() + b" extra",
    b"Bearer " + ALICE_TOKEN.encode() + b",Bearer x",
    b"Bearer alice-token\t",
    b"Bearer\talice-token",
    b"Bearer ALICE-TOKEN",
    b"Basic YWxpY2U6eA==",
    b"Token alice-token",
    b"alice-token",
    b"Bearer nope",
    b"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiI0YjZmMGQxZSJ9.",
    b"Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
    b"Bearer rt_000000000000000000000000",
    b"Bearer \xc3\xa9\xf0\x9f\x98\x80",  # UTF-8 text
    b"Bearer \xe9\xff\xfe",  # neither UTF-8 nor ASCII
    b"Bearer \xed\xa0\x80",  # an encoded surrogate
    b"Bearer " + b"A" * 4000,
    b"Bearer " + b"A" * 9000,  # over aiohttp's 8190-byte field limit
    b"Bearer %00",
    b"Bearer " + b"alice-token" * 50,
]
authorization = st.one_of(
    st.sampled_from(AUTHORIZATIONS),
    plain_text.map(lambda text: b"Bearer " + text.encode("utf-8")),
)
CONTENT_TYPES: list[bytes | None] = [
    None,
    b"application/json",
    b"application/json",
    b"application/yaml",
    b"text/plain",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=zz",
    b"application/json; charset=utf-16",
    b"application/json; charset=latin-1",
    b"application/json; charset=nonsense",
    b"APPLICATION/JSON",
    b"application/json;;;",
    b";",
    b"*/*",
    b"application/\xff",
]
EXTRA_HEADERS: list[tuple[bytes, bytes]] = [
    (b"X-Admin-Token", b"guess"),
    (b"X-Chaos", b"1"),
    (b"Cookie", b"session=alice-token"),
    (b"Accept", b"text/plain"),
    (b"Accept", b"application/xml"),
    (b"Accept-Encoding", b"gzip, br"),
    (b"Accept-Charset", b"utf-16"),
    (b"Expect", b"100-continue"),
    (b"Expect", b"nothing"),
    (b"Content-Encoding", b"identity"),
    (b"Content-Encoding", b"gzip"),
    (b"Content-Encoding", b"nonsense"),
    (b"Content-Encoding", b"deflate"),
    (b"Content-Encoding", b"br"),
    (b"Connection", b"keep-alive"),
    (b"Connection", b"Upgrade"),
    (b"Upgrade", b"websocket"),
    (b"Upgrade", b"h2c"),
    (b"X-Forwarded-For", b"::1, 999.0.0.1"),
    (b"X-HTTP-Method-Override", b"DELETE"),
    (b"Range", b"bytes=0-1"),
    (b"If-None-Match", b"*"),
    (b"Origin", b"null"),
    (b"X-Long", b"v" * 8000),
    (b"X-Too-Long", b"v" * 9000),
    (b"X-Utf8", "é😀".encode()),
    (b"X-Latin1", b"\xe9\xff"),
    (b"X-Empty", b""),
    (b"Authorization", ALICE.encode()),  # (a second one, when one is drawn too)
    (b"Authorization", b"Bearer nope"),
]
header_name = st.text(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    min_size=1,
    max_size=20,
).map(str.encode)
header_value = st.binary(max_size=40).map(
    lambda value: value.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"").strip()
)


@st.composite
def headers(draw: st.DrawFn, content_type: bytes | None) -> list[tuple[bytes, bytes]]:
    found: list[tuple[bytes, bytes]] = []
    auth = draw(authorization)
    if auth is not None:
        found.append((b"Authorization", auth))
    kind = draw(st.sampled_from(CONTENT_TYPES)) if draw(st.integers(0, 2)) == 2 else content_type
    if kind is not None:
        found.append((b"Content-Type", kind))
    found += draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=2))
    found += draw(st.lists(st.tuples(header_name, header_value), max_size=2))
    if draw(st.integers(0, 40)) == 40:
        found += [(b"X-Many-%d" % n, b"v") for n in range(draw(st.sampled_from([60, 200])))]
    return found


QUERY_KEYS = [
    "status",
    "type",
    "credentialIds",
    "credentialType",
    "credentialStatus",
    "offset",
    "limit",
    "cursor",
    "name",
    "advance",
    "user",
    "profile",
    "id",
    "credentialId",
    "",
]
QUERY_VALUES = [
    "ACTIVE",
    "REVOKED",
    "CREATED",
    "EXPIRED",
    "EXCHANGE",
    "BROKER",
    "API_KEY",
    ",".join(DOCS_IDS),
    ",".join(SDK_IDS + DOCS_IDS),
    DOCS_IDS[0] + ",",
    "," + DOCS_IDS[0],
    ",,",
    "-1",
    "0",
    "1",
    "1000",
    "1001",
    "1.5",
    "1e3",
    "1" * 400,
    "-" + "9" * 400,
    "1e400",
    "nan",
    "inf",
    "-0",
    "0x10",
    " 1",
    "\uff11",  # a full-width digit
    "٣",  # an Arabic-Indic digit
    "docs",
    "sdk",
    "xml",
    "empty",
    "revoked",
    "multi-user",
    "default",
    "../scenarios/default.yaml",
    "/etc/passwd",
    "alice@example.com",
]
# Query pieces written by hand: broken escapes, encoded invalid UTF-8, odd separators.
RAW_QUERY_PARTS = [
    "%",
    "%%",
    "%zz",
    "%2",
    "%ED%A0%80",  # an encoded surrogate
    "%C0%AF",  # overlong
    "%FF%FE",
    "%00",
    "%0A%0D",
    "%u0041",
    "%E2%82",  # truncated UTF-8
    "+",
    "&",
    "=",
    "==",
    ";",
    "a=1;b=2",
    "status[]=ACTIVE",
    "status[0]=ACTIVE",
    "status=ACTIVE%00",
    "status=%41CTIVE",
    "status=active",
    "credentialIds=%2C",
    "limit=%31",
    "limit=1%00",
    "offset=%2D1",
    "name=%2E%2E%2Fdefault",
    "name=default%00",
    "advance=1%20",
    "%73tatus=REVOKED",
    "?",
    "??a=1",
]


@st.composite
def query_string(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 5))
        if kind == 5:
            parts.append(draw(st.sampled_from(RAW_QUERY_PARTS)))
            continue
        key = draw(st.one_of(st.sampled_from(QUERY_KEYS), plain_text))
        value = draw(st.one_of(st.sampled_from(QUERY_VALUES), junk_text.filter(_no_surrogate)))
        encode = quote_plus if kind == 1 else lambda text: quote(text, safe="")
        if kind == 2:
            parts.append(encode(key))  # a key without `=`
        else:
            parts.append(f"{encode(key)}={encode(value)}")
        if draw(st.integers(0, 4)) == 4:
            parts.append(parts[-1])  # the same parameter again
    return "&".join(parts)


def _no_surrogate(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


PATH_MUTATIONS: list[Callable[[str], str]] = [
    lambda p: p + "/",
    lambda p: p.upper(),
    lambda p: "/" + p,
    lambda p: p.replace("/", "//", 2),
    lambda p: p.replace("e", "%65", 1),
    lambda p: p.replace("/", "%2F", 2),
    lambda p: p + "%00",
    lambda p: p + "%ED%A0%80",
    lambda p: p + "/..",
    lambda p: p + "/../list",
    lambda p: p.replace("/api", "/api/."),
    lambda p: p + ";jsessionid=1",
    lambda p: p[:-1],
    lambda p: p + "x",
    lambda p: p + "/" + "a" * 4000,
    lambda p: p + "/%C3%A9%F0%9F%98%80",
    lambda p: p + "#fragment",
]


@st.composite
def target(draw: st.DrawFn, path: str, fills: Any = None) -> str:
    if "{}" in path:
        fill = draw(
            fills
            if fills is not None
            else st.one_of(
                st.sampled_from(IDS),
                st.sampled_from(["", "%00", "%ED%A0%80", "..", "%2F", "a" * 5000, "*", "all"]),
                plain_text.map(lambda text: quote(text, safe="")),
            )
        )
        path = path.replace("{}", fill)
    if draw(st.integers(0, 5)) == 5:
        path = draw(st.sampled_from(PATH_MUTATIONS))(path)
    query = draw(query_string())
    return path + ("?" + query if query else "")


OTHER_METHODS = [b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"TRACE", b"HEAD"]


@st.composite
def method(draw: st.DrawFn, usual: str) -> bytes:
    if draw(st.integers(0, 6)) == 6:
        return draw(st.sampled_from([*OTHER_METHODS, b"FOO", b"get", b"M-SEARCH", b"PROPFIND"]))
    return usual.encode()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # `{}` marks a path parameter
    template: dict[str, Any] | None = None  # a body it accepts, for mutation
    extra_keys: tuple[str, ...] = ()
    content_type: bytes | None = None


CREATE_BODY = {
    "venue": "BINANCE",
    "apiKey": "fuzzKey0123456789abcdef",
    "apiSecret": "fuzz-secret",
    "credentialType": "API_KEY",  # sdk; the docs profile ignores it
    "name": "fuzzed",
    "nickname": "fuzzed",
}
API_ENDPOINTS = [
    Endpoint("GET", LIST),
    Endpoint(
        "POST",
        "/api/v3/credential/create",
        CREATE_BODY,
        ("apiPassphrase", "type", "status", "credentialId", "userId", "createdAt"),
        b"application/json",
    ),
    Endpoint(
        "POST",
        "/api/v3/credential/verify",
        {"credentialId": DOCS_IDS[0], "credentialIds": [DOCS_IDS[0], SDK_IDS[0]]},
        (),
        b"application/json",
    ),
    Endpoint(
        "POST",
        "/api/v3/credential/rotate",
        {"credentialId": DOCS_IDS[1], "apiKey": "rotatedKey0123456789", "apiSecret": "s"},
        ("apiPassphrase", "venue"),
        b"application/json",
    ),
    Endpoint(
        "POST",
        "/api/v3/credential/revoke",
        {"credentialId": SDK_IDS[0]},
        ("credentialIds",),
        b"application/json",
    ),
    Endpoint(
        "POST",
        "/api/v3/auth/login",
        {"email": "alice@example.com", "password": "correct-horse"},
        ("refreshToken",),
        b"application/json",
    ),
    Endpoint(
        "POST",
        "/api/v3/auth/token/refresh",
        {"refreshToken": "rt_000000000000000000000000"},
        ("accessToken",),
        b"application/json",
    ),
    Endpoint("POST", "/api/v3/auth/logout"),
    Endpoint("GET", "/api/v3/auth/user"),
]
SCENARIO_NAMES = ["default", "sdk", "empty", "revoked", "multi-user", "auth-errors", "flaky"]
SMALL_SCENARIO = {
    "description": "fuzz",
    "seed": 1,
    "users": [{"email": "fuzz@example.com", "tokens": ["fuzz-token"], "credentials": []}],
}
FAULT = {
    "id": "fuzz",
    "match": {"method": "GET", "path": "/api/v3/credential/*"},
    "respond": {"status": 503, "error": "Maintenance"},
    "times": 1,
}
ADMIN_ENDPOINTS = [
    Endpoint("GET", "/__admin/health"),
    Endpoint("POST", "/__admin/reset"),
    Endpoint("GET", "/__admin/scenario"),
    Endpoint(
        "PUT",
        "/__admin/scenario",
        {"scenario": SMALL_SCENARIO},
        ("name", "users", "description", "seed", "now", "profile", "extends", "faults"),
        b"application/json",
    ),
    Endpoint(
        "PUT",
        "/__admin/scenario",
        {"name": "empty"},
        ("scenario", "extends"),
        b"application/json",
    ),
    Endpoint(
        "PUT",
        "/__admin/scenario",
        SMALL_SCENARIO,
        ("extends", "profile", "now", "mask_keep", "faults", "colour"),
        b"application/yaml",
    ),
    Endpoint("GET", "/__admin/requests"),
    Endpoint("DELETE", "/__admin/requests"),
    Endpoint(
        "POST",
        "/__admin/faults",
        FAULT,
        ("delay", "rate_limit", "drop", "malformed", "slow_body", "after", "probability"),
        b"application/json",
    ),
    Endpoint("POST", "/__admin/faults", FAULT, ("delay", "drop"), b"application/yaml"),
    Endpoint("GET", "/__admin/faults"),
    Endpoint("DELETE", "/__admin/faults"),
    Endpoint("DELETE", "/__admin/faults/{}"),
    Endpoint("GET", "/__admin/clock"),
    Endpoint("POST", "/__admin/clock", {"advance": 1}, ("seconds",), b"application/json"),
    Endpoint("GET", "/__admin/credentials"),
    Endpoint("GET", "/__admin/credentials/{}"),
]
# The admin PUT by name and clock POST also read the query: names and amounts there.
ADMIN_QUERY_HINTS = {
    "/__admin/scenario": st.sampled_from([*SCENARIO_NAMES, "nope", "../default", "%00"]),
    "/__admin/clock": st.sampled_from(["1", "-1", "1e400", "nan", "1" * 400, "3600", "x"]),
}


@st.composite
def endpoint_request(
    draw: st.DrawFn, endpoints: list[Endpoint], in_process: bool = True
) -> tuple[bytes, bool]:
    """(request bytes, whether it is a HEAD) for one of `endpoints`."""
    endpoint = draw(st.sampled_from(endpoints))
    verb = draw(method(endpoint.method))
    where = draw(target(endpoint.path))
    hint = ADMIN_QUERY_HINTS.get(endpoint.path)
    if hint is not None and endpoint.method in ("PUT", "POST") and draw(st.integers(0, 3)) == 3:
        key = "name" if endpoint.path.endswith("scenario") else "advance"
        where += ("&" if "?" in where else "?") + f"{key}={quote(draw(hint), safe='%')}"
    body = draw(body_for(endpoint.template, endpoint.extra_keys))
    return http_request(verb, where.encode(), draw(headers(endpoint.content_type)), body), (
        verb == b"HEAD"
    )


# --------------------------------------------------------------------------- raw bytes

# Bytes clients refuse to put in a request line or header: the parser must reject them
# in the envelope (400 -19001), or accept them and the API answer as usual.
RAW_METHODS = [b"GET", b"POST", b"PUT", b"DELETE", b"G\x00T", b"GET\t", b"", b"\xff", b"GE T"]
RAW_VERSIONS = [
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/2.0",
    b"HTTP/9.9",
    b"HTTP/1",
    b"http/1.1",
    b"HTTP/1.1 extra",
    b"",
]
RAW_PIECES = [
    b"\x00",
    b"\x01",
    b"\x07",
    b"\x1b",
    b"\x7f",
    b"\x80",
    b"\xff",
    b"\xc3\xa9",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b" ",
    b"\t",
    b"#",
    b"?",
    b"%",
    b"\\",
    b"//",
    b"..",
    b'"',
    b"<>",
    b"{}",
    b"|",
    b"^",
    b"`",
]
raw_bytes = st.one_of(
    st.lists(st.sampled_from(RAW_PIECES), min_size=1, max_size=4).map(b"".join),
    st.binary(min_size=1, max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)
RAW_HEADER_LINES = [
    b"X-Nul: a\x00b",
    b"X-Bell: \x07",
    b"X-Del: \x7f",
    b"X-Obs: \x80\xff",
    b"X-Bad Name: 1",
    b"X\x00Nul: 1",
    b": no-name",
    b"no-colon",
    b" folded: 1",
    b"\tfolded: 1",
    b"X-Cr: a\rb",
    b"X-Lf: a\nb",
    b"Host: second.example",
    b"Authorization: Bearer alice\x00token",
    b"Authorization: Bearer \xff\xfe",
    b"Authorization: " + ALICE.encode(),
    b"Content-Length: abc",
    b"Content-Length: -1",
    b"Content-Length: 1, 1",
    b"Content-Length: 0",
    b"Content-Length: " + b"9" * 30,
    b"Transfer-Encoding: gzip",
    b"Transfer-Encoding: chunked, identity",
    b"X-Big: " + b"a" * 9000,
    b"A" * 9000 + b": 1",
]


@st.composite
def raw_request(draw: st.DrawFn) -> tuple[bytes, bool]:
    endpoint = draw(st.sampled_from(API_ENDPOINTS + ADMIN_ENDPOINTS))
    verb = draw(st.one_of(st.just(endpoint.method.encode()), st.sampled_from(RAW_METHODS)))
    path = draw(target(endpoint.path)).encode()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(path)))
        path = path[:cut] + draw(raw_bytes) + path[cut:]
    version = draw(st.sampled_from(RAW_VERSIONS)) if draw(st.integers(0, 4)) == 4 else b"HTTP/1.1"
    lines = [verb + b" " + path + (b" " + version if version else b""), b"Host: 127.0.0.1"]
    lines.append(b"Connection: close")
    auth = draw(authorization)
    if auth is not None:
        lines.append(b"Authorization: " + auth)
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(RAW_HEADER_LINES)))
        else:
            name, value = draw(header_name), draw(raw_bytes)
            lines.append(name + b": " + value)
    body = b""
    framing = draw(st.sampled_from(["none", "length", "chunked", "bad-chunked"]))
    payload = draw(body_for(endpoint.template)) or b"{}"
    if len(payload) > 4096:
        payload = payload[:4096]
    if framing == "length":
        lines.append(b"Content-Length: %d" % len(payload))
        body = payload
    elif framing == "chunked":
        lines.append(b"Transfer-Encoding: chunked")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
    elif framing == "bad-chunked":
        lines.append(b"Transfer-Encoding: chunked")
        body = draw(
            st.sampled_from([b"zz\r\n{}\r\n0\r\n\r\n", b"-1\r\n\r\n", b"1;\x00\r\nx\r\n0\r\n\r\n"])
        )
    separator = b"\n" if draw(st.integers(0, 9)) == 9 else b"\r\n"
    return separator.join(lines) + b"\r\n\r\n" + body, verb == b"HEAD"


# --------------------------------------------------------------------------- tests


@settings(SETTINGS, max_examples=API_EXAMPLES)
@given(request=endpoint_request(API_ENDPOINTS))
def test_api_answers_bad_input_in_the_envelope_and_keeps_state(pristine, request):
    payload, head = request
    pristine.run(payload, head_only=head)


@settings(SETTINGS, max_examples=ADMIN_EXAMPLES)
@given(request=endpoint_request(ADMIN_ENDPOINTS))
def test_admin_api_answers_bad_input_in_the_envelope_and_keeps_state(pristine, request):
    payload, head = request
    pristine.run(payload, head_only=head)


@settings(SETTINGS, max_examples=RAW_EXAMPLES)
@given(request=raw_request())
def test_raw_request_line_and_header_bytes_are_enveloped(pristine, request):
    payload, head = request
    pristine.run(payload, head_only=head)


# Deterministic corners, every endpoint in both profiles: bodies over 1 MiB (413 where
# the body is read), nesting thousands deep, a lone surrogate, a 400-digit number.
CORNER_BODIES = {
    "over-1MiB": b"x" * (MIB + 1),
    "over-1MiB-json": b'{"credentialId": "' + b"a" * (2 * MIB) + b'"}',
    "deep-5000": _deep(5000, "list"),
    "deep-object-2000": _deep(2000, "object"),
    "surrogate": b'{"credentialId": "\\ud800", "email": "\\udfff", "refreshToken": "\\ud800"}',
    "digits-400": b'{"credentialId": ' + b"7" * 400 + b', "advance": ' + b"7" * 400 + b"}",
    "nul": b'{"credentialId": "\\u0000", "email": "a\\u0000b", "password": "\\u0000"}',
}


ENDPOINTS = API_ENDPOINTS + ADMIN_ENDPOINTS
BODY_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if endpoint.template is not None]


def corner_requests(
    body: bytes, in_process: bool, endpoints: list[Endpoint] = ENDPOINTS
) -> list[tuple[Endpoint, bytes]]:
    """`body` sent to each of `endpoints` as alice, with the content type it expects."""
    found = []
    for endpoint in endpoints:
        path = endpoint.path.replace("{}", DOCS_IDS[0])
        content_type = endpoint.content_type or b"application/json"
        headers = [(b"Authorization", ALICE.encode()), (b"Content-Type", content_type)]
        found.append(
            (endpoint, http_request(endpoint.method.encode(), path.encode(), headers, body))
        )
    return found


def check_corner(endpoint: Endpoint, body: bytes, answer: Answer) -> None:
    """A body over 1 MiB is a 413 wherever the body is read (elsewhere: answered as usual)."""
    if len(body) > MIB and endpoint.template is not None:
        assert answer.status == 413, (endpoint, answer.status, answer.body[:200])


@pytest.mark.parametrize("body", list(CORNER_BODIES), ids=list(CORNER_BODIES))
def test_corner_bodies_on_every_endpoint(pristine, body):
    for endpoint, request in corner_requests(CORNER_BODIES[body], in_process=True):
        check_corner(endpoint, CORNER_BODIES[body], pristine.run(request))


def test_every_broken_body_on_every_endpoint_that_reads_one(pristine):
    for make in WHOLE_BODIES:
        body = make()
        for endpoint, request in corner_requests(body, in_process=True, endpoints=BODY_ENDPOINTS):
            check_corner(endpoint, body, pristine.run(request))


# --------------------------------------------------------------------------- subprocess


@pytest.mark.slow
def test_served_subprocess_logs_no_traceback(serve):
    """The same fuzzing against `cadenza-mock serve`, switching profiles on the way; its
    whole output (banner, access log, warnings) must hold no traceback."""
    served = serve("--scenario", "default")
    url, _ = served.banner()
    port = urlsplit(url).port
    assert port is not None
    loaded: dict[str, str | None] = {"name": "default"}
    pristine_views: dict[str, dict[str, bytes]] = {}

    def pristine(name: str) -> dict[str, bytes]:
        if loaded["name"] != name:
            put = http_request(b"PUT", f"/__admin/scenario?name={name}".encode(), [], None)
            answer = exchange(port, put)
            assert answer.status == 200, answer.body[:300]
            loaded["name"] = name
        answer = exchange(port, http_request(b"POST", b"/__admin/reset", [], None))
        assert answer.status == 200, answer.body[:300]
        if name not in pristine_views:
            pristine_views[name] = snapshot(port)
        return pristine_views[name]

    def run(name: str, request: bytes, head_only: bool = False) -> Answer:
        answer = check(port, SCENARIOS[name], request, pristine(name), head_only=head_only)
        if answer.status < 300:
            loaded["name"] = None  # it may have loaded another scenario: load ours again
        return answer

    # Every broken body on every endpoint that reads one, in both profiles, and the
    # bodies over 1 MiB.
    for name in sorted(SCENARIOS):
        oversized = [body for body in CORNER_BODIES.values() if len(body) > MIB]
        for body in [make() for make in WHOLE_BODIES] + oversized:
            for endpoint, request in corner_requests(body, False, BODY_ENDPOINTS):
                check_corner(endpoint, body, run(name, request))

    requests = st.one_of(
        endpoint_request(API_ENDPOINTS, in_process=False),
        endpoint_request(ADMIN_ENDPOINTS, in_process=False),
        raw_request(),
    )

    @settings(SETTINGS, max_examples=SERVED_EXAMPLES)
    @given(name=st.sampled_from(sorted(SCENARIOS)), request=requests)
    def fuzz(name: str, request: tuple[bytes, bool]) -> None:
        payload, head = request
        run(name, payload, head)

    try:
        fuzz()
    finally:
        code, output = served.stop()
    assert code == 0, output[-3000:]
    for needle in ("Traceback", "unexpected error"):
        lines = [line for line in output.splitlines() if needle in line]
        assert not lines, f"{needle!r} in the server's output:\n" + _around(output, needle)


def _around(output: str, needle: str, width: int = 3000) -> str:
    at = output.find(needle)
    return output[max(0, at - 200) : at + width]


# --------------------------------------------------------------------------- corner cases
# Each once answered outside the envelope (a 417 or 500), without the sdk's `details`, or
# with an undocumented 413; pinned here by plain tests.


def test_an_unknown_expectation_is_answered_in_the_envelope(pristine):
    request = http_request(b"GET", LIST.encode(), [(b"Expect", b"nothing")], None)
    pristine.run(request)


@pytest.mark.parametrize("coding", [b"gzip", b"deflate"])
def test_a_body_that_does_not_decode_is_a_400(pristine, coding):
    request = http_request(
        b"POST",
        b"/api/v3/auth/token/refresh",
        [(b"Content-Encoding", coding)],
        b'{"refreshToken": "x"}',
    )
    pristine.run(request)


@pytest.mark.parametrize(
    "content_type, body", [(b"text/yaml", b""), (b"application/json", b"{}")], ids=["empty", "json"]
)
def test_sdk_admin_scenario_errors_have_details(content_type, body):
    with MockServer("sdk") as mock:
        headers = [(b"Content-Type", content_type)]
        answer = exchange(mock.port, http_request(b"PUT", b"/__admin/scenario", headers, body))
    assert answer.status == 400
    assert "details" in json.loads(answer.body), answer.body


@pytest.mark.parametrize("profile", sorted(set(SCENARIOS.values())))
def test_the_document_lists_413_for_admin_bodies(profile):
    from cadenza_mock.specs.openapi import openapi_document

    paths = openapi_document(profile)["paths"]
    missing = [
        f"{verb} {path}"
        for verb, path in (
            ("PUT", "/__admin/scenario"),
            ("POST", "/__admin/faults"),
            ("POST", "/__admin/clock"),
        )
        if "413" not in paths[path][verb.lower()]["responses"]
    ]
    assert not missing

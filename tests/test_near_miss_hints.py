"""Near-miss hints (engine/hints.py) over real sockets: the header, the journal (handle
and admin API), the access log line of `cadenza-mock serve`, hints off, answers unchanged,
secrets never shown. (Not test_hints.py: test_plugin.py writes a pytester file of that name.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from support import ALICE, FUZZ, LIST

from cadenza_mock import MockServer
from cadenza_mock.contract.model import PROFILES
from cadenza_mock.contract.operations import ADMIN_PREFIX, OPERATIONS
from cadenza_mock.engine.hints import MAX_HINTS, hints
from cadenza_mock.engine.query import query_parameters
from cadenza_mock.http.middleware import HINT_HEADER, MAX_HINT_HEADER, hint_header
from cadenza_mock.specs.openapi import openapi_document

CREATE = "/api/v3/credential/create"
VERIFY = "/api/v3/credential/verify"
ACCOUNTS = "/api/v3/tradingAccount/list"
CONNECT = "/api/v3/tradingAccount/connect"
SECRET = "Hunter2-Sup3r-S3cret"  # enum-like on purpose: it must still never be echoed


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, MockServer]]:
    """One running mock per profile (the default scenario serves in both)."""
    with MockServer(profile="docs") as docs, MockServer(profile="sdk") as sdk:
        yield {"docs": docs, "sdk": sdk}


@pytest.fixture
def mocks(servers: dict[str, MockServer]) -> dict[str, MockServer]:
    for mock in servers.values():
        mock.reset()
    return servers


def send(mock: MockServer, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(method, mock.url + path, headers=ALICE, timeout=10, **kw)


# (profile, method, path, query, body, the one hint expected)
CASES = [
    # the other profile's names
    (
        "docs",
        "GET",
        LIST,
        {"credentialStatus": "ACTIVE"},
        None,
        "query parameter 'credentialStatus' is the sdk profile's name; "
        "the docs profile calls it 'status'",
    ),
    (
        "sdk",
        "GET",
        LIST,
        {"status": "ACTIVE"},
        None,
        "query parameter 'status' is the docs profile's name; "
        "the sdk profile calls it 'credentialStatus'",
    ),
    (
        "docs",
        "GET",
        LIST,
        {"limit": "1"},
        None,
        "query parameter 'limit' is ignored: the credential list does not page: it answers "
        "every match (the official document gives it no limit or offset)",
    ),
    (
        "sdk",
        "GET",
        LIST,
        {"offset": "5"},
        None,
        "query parameter 'offset' is ignored: the credential list does not page: it answers "
        "every match (the official document gives it no limit or offset)",
    ),
    (
        "sdk",
        "GET",
        ACCOUNTS,
        {"status": "ACTIVE"},
        None,
        "query parameter 'status' is the docs profile's name; "
        "the sdk profile calls it 'accountStatus'",
    ),
    (
        "docs",
        "POST",
        CREATE,
        None,
        {"venue": "BINANCE", "apiKey": "k" * 20, "apiSecret": SECRET, "nickname": "bot"},
        "body field 'nickname' is the sdk profile's name; the docs profile calls it 'name'",
    ),
    (
        "sdk",
        "POST",
        CREATE,
        None,
        {"venue": "BINANCE", "credentialType": "API_KEY", "name": "bot"},
        "body field 'name' is the docs profile's name; the sdk profile calls it 'nickname'",
    ),
    (
        "sdk",
        "POST",
        VERIFY,
        None,
        {"credentialId": "660e8400-e29b-41d4-a716-446655440000"},
        "body field 'credentialId' is the docs profile's name; the sdk profile does not take "
        "it; did you mean 'credentialIds'?",
    ),
    # near spellings
    (
        "docs",
        "GET",
        LIST,
        {"stauts": "ACTIVE"},
        None,
        "query parameter 'stauts': did you mean 'status'?",
    ),
    ("sdk", "GET", ACCOUNTS, {"limt": "1"}, None, "query parameter 'limt': did you mean 'limit'?"),
    (
        "docs",
        "GET",
        LIST,
        {"Status": "ACTIVE"},
        None,
        "query parameter 'Status': did you mean 'status'?",
    ),
    (
        "sdk",
        "POST",
        CREATE,
        None,
        {"venu": "OKX", "credentialType": "API_KEY"},
        "body field 'venu': did you mean 'venue'?",
    ),
    # the other profile's values, and case-only mistakes
    (
        "docs",
        "GET",
        LIST,
        {"status": "CREATED"},
        None,
        "query parameter 'status': 'CREATED' is an sdk-profile value; "
        "this server speaks docs (set profile: sdk or --profile sdk)",
    ),
    (
        "sdk",
        "GET",
        LIST,
        {"credentialType": "EXCHANGE"},
        None,
        "query parameter 'credentialType': 'EXCHANGE' is a docs-profile value; "
        "this server speaks sdk (set profile: docs or --profile docs)",
    ),
    (
        "docs",
        "POST",
        CREATE,
        None,
        {"venue": "binance", "apiKey": "k" * 20, "apiSecret": SECRET},
        "body field 'venue': 'binance' is not a docs-profile value; did you mean 'BINANCE'?",
    ),
    (
        "sdk",
        "POST",
        CREATE,
        None,
        {"venue": "COINBASE", "credentialType": "API_KEY"},
        "body field 'venue': 'COINBASE' is a docs-profile value; "
        "this server speaks sdk (set profile: docs or --profile docs)",
    ),
    (
        "sdk",
        "GET",
        LIST,
        {"credentialStatus": "active"},
        None,
        "query parameter 'credentialStatus': 'active' is not an sdk-profile value; "
        "did you mean 'ACTIVE'?",
    ),
    (
        "docs",
        "GET",
        ACCOUNTS,
        {"venue": "B2C2"},
        None,
        "query parameter 'venue': 'B2C2' is an sdk-profile value; "
        "this server speaks docs (set profile: sdk or --profile sdk)",
    ),
    (
        "sdk",
        "GET",
        "/api/v3/openapi.json",
        {"profile": "SDK"},
        None,
        "query parameter 'profile': 'SDK' is not an allowed value; did you mean 'sdk'?",
    ),
    # names no profile knows
    (
        "docs",
        "GET",
        LIST,
        {"foo": "1"},
        None,
        "unknown query parameter 'foo' (GET /api/v3/credential/list takes: type, status, "
        "credentialIds)",
    ),
    (
        "sdk",
        "GET",
        LIST,
        {"foo": "1"},
        None,
        "unknown query parameter 'foo' (GET /api/v3/credential/list takes: credentialType, "
        "credentialStatus, credentialIds)",
    ),
    (
        "sdk",
        "POST",
        CREATE,
        {"dryRun": "1"},
        {"venue": "OKX", "credentialType": "API_KEY", "colour": "red"},
        "unknown query parameter 'dryRun' (POST /api/v3/credential/create takes no query "
        "parameters)",
    ),
    (
        "docs",
        "GET",
        "/api/v3/auth/user",
        None,
        {"x": 1},
        "unknown body field 'x' (GET /api/v3/auth/user takes no body)",
    ),
]


def _id(case: tuple[Any, ...]) -> str:
    profile, method, path, query, body, _ = case
    names = ",".join({**(query or {}), **(body or {})})
    return f"{profile}-{method}-{path.rsplit('/', 1)[-1]}-{names}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_each_kind_of_hint_reaches_header_and_journal(
    mocks: dict[str, MockServer], case: tuple[Any, ...]
) -> None:
    profile, method, path, query, body, expected = case
    mock = mocks[profile]
    r = send(mock, method, path, params=query, json=body)
    header = r.headers.get(HINT_HEADER)
    assert header is not None and header.startswith(expected), header
    entry = mock.requests[-1]
    assert entry.hints[0] == expected
    assert header == hint_header(entry.hints)
    admin = requests.get(mock.url + "/__admin/requests", timeout=10).json()["data"][-1]
    assert admin["hints"] == list(entry.hints)


def test_a_request_the_profile_knows_gets_no_hint(mocks: dict[str, MockServer]) -> None:
    for profile, query in (
        ("docs", {"status": "ACTIVE", "type": "EXCHANGE"}),
        ("sdk", {"credentialStatus": "ACTIVE", "credentialType": "API_KEY"}),
    ):
        mock = mocks[profile]
        # First a hinted call: its header must not stick to the (prebuilt) answers after it.
        assert HINT_HEADER in send(mock, "GET", LIST, params={"foo": "1"}).headers
        for path, params in ((LIST, query), (LIST, None), ("/api/v3/health", None)):
            r = send(mock, "GET", path, params=params)
            assert r.ok and HINT_HEADER not in r.headers
            assert mock.requests[-1].hints == ()
    docs = mocks["docs"]
    body = {"venue": "OKX", "apiKey": "k" * 20, "apiSecret": SECRET, "apiPassphrase": SECRET}
    r = send(docs, "POST", CREATE, json=body)
    assert r.ok and HINT_HEADER not in r.headers and docs.requests[-1].hints == ()


def test_several_hints_are_joined_and_the_header_is_bounded(mocks: dict[str, MockServer]) -> None:
    mock = mocks["docs"]
    r = send(mock, "GET", LIST, params={"credentialStatus": "ACTIVE", "limt": "1"})
    assert mock.requests[-1].hints == (
        "query parameter 'credentialStatus' is the sdk profile's name; "
        "the docs profile calls it 'status'",
        "unknown query parameter 'limt' (GET /api/v3/credential/list takes: type, status, "
        "credentialIds)",
    )
    assert r.headers[HINT_HEADER] == "; ".join(mock.requests[-1].hints)
    many = {f"unknown{i}": "x" for i in range(200)}
    r = send(mock, "GET", LIST, params=many)
    found = mock.requests[-1].hints
    assert len(found) == MAX_HINTS + 1 and found[-1].startswith("and 180 more unknown names")
    assert len(r.headers[HINT_HEADER]) == MAX_HINT_HEADER
    assert r.headers[HINT_HEADER].endswith("...")


def test_client_text_in_a_hint_is_ascii_and_cut(mocks: dict[str, MockServer]) -> None:
    mock = mocks["docs"]
    name = "stätus\r\nX-Injected: 1" + "z" * 100
    r = send(mock, "GET", LIST, params={name: "1"})
    header = r.headers[HINT_HEADER]
    assert header.isascii() and "X-Injected" not in r.headers
    assert "\\xe4" in header and "..." in header and "z" * 50 not in header


def test_admin_calls_never_get_hints(mocks: dict[str, MockServer]) -> None:
    mock = mocks["docs"]
    r = requests.get(mock.url + "/__admin/requests", params={"credentialStatus": "x"}, timeout=10)
    assert r.ok and HINT_HEADER not in r.headers


def test_hints_come_without_a_journal() -> None:
    with MockServer(journal_limit=0) as mock:
        r = send(mock, "GET", LIST, params={"credentialStatus": "ACTIVE"})
        assert "credentialStatus" in r.headers[HINT_HEADER]
        assert mock.requests == []


def test_hints_off_changes_nothing_else() -> None:
    """With and without hints the answers are the same bytes, and the same as without the
    unknown names (the real API ignores them); hints off sends no header, journals none."""
    requests_to_send: list[tuple[str, str, dict[str, str] | None, Any]] = [
        ("GET", LIST, {"credentialStatus": "ACTIVE", "foo": "1"}, None),
        ("GET", LIST, {"status": "CREATED"}, None),
        ("POST", CREATE, {"x": "1"}, {"venue": "OKX", "apiKey": "k" * 20, "apiSecret": "s"}),
        (
            "POST",
            CREATE,
            None,
            {"venue": "BINANCE", "apiKey": "q" * 20, "apiSecret": "s", "nickname": "n"},
        ),
        ("GET", ACCOUNTS, {"accountStatus": "ACTIVE"}, None),
    ]

    def answers(mock: MockServer) -> list[tuple[int, bytes]]:
        return [
            (r.status_code, r.content)
            for r in (send(mock, m, p, params=q, json=b) for m, p, q, b in requests_to_send)
        ]

    with MockServer() as on, MockServer(hints=False) as off:
        plain = send(on, "GET", LIST).content
        with_hints, without = answers(on), answers(off)
        assert with_hints == without
        assert all(entry.hints for entry in on.requests[1:])
        assert all(entry.hints == () for entry in off.requests)
        r = send(off, "GET", LIST, params={"credentialStatus": "ACTIVE"})
        assert HINT_HEADER not in r.headers
    assert with_hints[0] == (200, plain)


def test_no_secret_value_ever_appears(mocks: dict[str, MockServer]) -> None:
    for profile, mock in mocks.items():
        sent = [
            send(mock, "GET", LIST, params={"apiSecret": SECRET, "passphrase": SECRET}),
            send(mock, "GET", LIST, params={"apiSecrett": SECRET, "status": SECRET}),
            send(
                mock,
                "POST",
                CREATE,
                params={"apiPassphrase": SECRET},
                json={
                    "venue": "OKX",
                    "credentialType": "API_KEY",
                    "apiKey": SECRET,
                    "apiSecret": SECRET,
                    "apiPasphrase": SECRET,
                    "secretKey": SECRET,
                    "password": SECRET,
                },
            ),
            send(
                mock, "POST", CONNECT, json={"venue": "OKX", "apiSecret": SECRET, "apiKey": SECRET}
            ),
        ]
        for r in sent:
            assert SECRET not in r.headers.get(HINT_HEADER, ""), profile
        assert all(SECRET not in hint for e in mock.requests for hint in e.hints)
        assert any("apiPasphrase" in hint for e in mock.requests for hint in e.hints)


# ------------------------------------------------------------------ WebSocket RPCs


async def _rpc_hints(make_client: Any, hints_on: bool) -> list[list[str]]:
    from centrifuge import Client

    app = await make_client("default", profile="sdk", hints=hints_on)
    url = str(app.make_url("/connection/websocket")).replace("http://", "ws://", 1)
    client = Client(url, token="alice-token")
    await client.connect()
    await client.ready(timeout=5)
    try:
        await client.rpc("query.credential.list", {"credentialTyp": "API_KEY", "limit": 1})
        await client.rpc("query.credential.list", {"credentialType": "API_KEY"})
        failed = await client.rpc(  # a Cadenza error: inside the RPC's result
            "command.credential.rotate",
            {"credentialId": UNKNOWN_ID, "apiKey": SECRET, "apiSecret": SECRET},
        )
        assert failed.data["error"]["code"] == 19004  # credentialType is required
    finally:
        await client.disconnect()
    journal = (await (await app.get("/__admin/requests")).json())["data"]
    return [entry["hints"] for entry in journal if entry["method"] == "RPC"]


UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def test_rpc_params_get_hints_in_the_journal(make_client: Any) -> None:
    found = await _rpc_hints(make_client, True)
    assert found[0] == [
        "RPC param 'credentialTyp': did you mean 'credentialType'?",
        "unknown RPC param 'limit' (RPC query.credential.list takes: credentialIds, venue, "
        "credentialType, status, pagination)",
    ]
    assert found[1] == []
    assert found[2][0].startswith("unknown RPC param 'apiSecret' (RPC command.credential.rotate")
    assert SECRET not in json.dumps(found)
    assert await _rpc_hints(make_client, False) == [[], [], []]


# ------------------------------------------------------------------ the access log


def _request_line(output: str, needle: str) -> str:
    lines = [line for line in output.splitlines() if needle in line and " INFO " in line]
    assert lines, output
    return lines[-1]


def test_the_access_log_line_ends_with_the_hints(serve: Any) -> None:
    served = serve()
    url, token = served.banner()
    auth = {"Authorization": f"Bearer {token}"}
    r = requests.get(url + LIST, params={"credentialStatus": "ACTIVE"}, headers=auth, timeout=10)
    body = {"venue": "binance", "apiKey": "k" * 20, "apiSecret": SECRET, "apiPasphrase": SECRET}
    requests.post(url + CREATE, json=body, headers=auth, params={"apiSecret": SECRET}, timeout=10)
    requests.get(url + LIST, headers=auth, timeout=10)
    code, output = served.stop()
    assert code == 0
    line = _request_line(output, "credentialStatus=ACTIVE")
    assert line.endswith(f' hint="{r.headers[HINT_HEADER]}"'), line
    create = _request_line(output, CREATE)
    assert "unknown query parameter 'apiSecret' (POST /api/v3/credential/create" in create
    assert "body field 'venue': 'binance' is not a docs-profile value" in create
    assert "did you mean 'apiPassphrase'?" in create
    assert SECRET not in output
    assert "hint=" not in _request_line(output, f"GET {LIST} 200")  # the bare list call


@pytest.mark.parametrize(
    ("args", "env"), [(["--no-hints"], None), ([], {"CADENZA_MOCK_NO_HINTS": "1"})]
)
def test_no_hints_turns_them_off(serve: Any, args: list[str], env: dict[str, str] | None) -> None:
    served = serve(*args, env=env)
    url, token = served.banner()
    auth = {"Authorization": f"Bearer {token}"}
    r = requests.get(url + LIST, params={"credentialStatus": "ACTIVE"}, headers=auth, timeout=10)
    assert r.ok and HINT_HEADER not in r.headers
    journal = requests.get(url + "/__admin/requests", timeout=10).json()["data"]
    assert journal[-1]["hints"] == []
    code, output = served.stop()
    assert code == 0
    assert "hint=" not in _request_line(output, "credentialStatus=ACTIVE")


# ------------------------------------------------------------------ single sources


def test_query_vocabulary_matches_the_openapi_document() -> None:
    """The query parameters hints know are those the document states (the operation
    list's `cursor`, documented for the sdk, is read by both profiles); none gets a hint."""
    for profile in ("docs", "sdk"):
        paths = openapi_document(profile)["paths"]
        for op in OPERATIONS:
            if op.path.startswith(ADMIN_PREFIX) or op.method != "GET":
                continue
            parameters = paths[op.path]["get"].get("parameters", [])
            documented = {p["name"] for p in parameters if p.get("in") == "query"}
            known = set(query_parameters(op.operation_id, profile, PROFILES[profile]))
            assert documented <= known and known - documented <= {"cursor"}, op.path
            assert hints(profile, "GET", op.path, [(n, "") for n in known], None) == ()


def test_every_operation_body_names_a_request_schema() -> None:
    """hints find an operation's fields through schemas.COMPONENT_NAMES: it must name the
    schemas the OpenAPI document publishes, for every operation with a body."""
    from cadenza_mock.contract.schemas import COMPONENT_NAMES, REQUEST_SCHEMAS, component_schema
    from cadenza_mock.specs.openapi_schemas import component_schemas

    bodies = {op.body for op in OPERATIONS if op.body is not None}
    assert bodies == set(COMPONENT_NAMES.values())
    for profile in ("docs", "sdk"):
        published = component_schemas(profile)
        for key, name in COMPONENT_NAMES.items():
            assert (
                published[name] == REQUEST_SCHEMAS[profile][key] == component_schema(profile, name)
            )


# ------------------------------------------------------------------ properties

_TEXT = st.text(max_size=30)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10,
)
_PATHS = sorted({op.path for op in OPERATIONS} | {"/api/v3/nowhere"})


@FUZZ
@given(
    profile=st.sampled_from(["docs", "sdk"]),
    method=st.sampled_from(["GET", "HEAD", "POST", "DELETE"]),
    path=st.sampled_from(_PATHS),
    query=st.lists(st.tuples(_TEXT, _TEXT), max_size=6),
    body=_JSON | st.dictionaries(_TEXT, _JSON, max_size=6),
)
def test_hints_never_raise(
    profile: str, method: str, path: str, query: list[tuple[str, str]], body: Any
) -> None:
    found = hints(profile, method, path, query, body)
    assert isinstance(found, tuple) and len(found) <= MAX_HINTS + 1
    header = hint_header(found)
    assert header.isascii() and len(header) <= MAX_HINT_HEADER
    assert "\r" not in header and "\n" not in header


@pytest.fixture(scope="module")
def hintless() -> Iterator[MockServer]:
    with MockServer(profile="docs", hints=False) as mock:
        yield mock


@FUZZ
@given(
    query=st.lists(st.tuples(_TEXT, _TEXT), max_size=4),
    body=st.dictionaries(_TEXT, _JSON, max_size=4),
)
def test_any_query_and_body_answer_as_without_hints(
    servers: dict[str, MockServer],
    hintless: MockServer,
    query: list[tuple[str, str]],
    body: dict[str, Any],
) -> None:
    on = servers["docs"]
    # Both from their scenario's pristine state: other tests share the module's servers.
    on.reset()
    hintless.reset()
    for method, path in (("GET", LIST), ("POST", VERIFY), ("POST", CREATE)):
        got = [send(m, method, path, params=query, data=json.dumps(body)) for m in (on, hintless)]
        assert (got[0].status_code, got[0].content) == (got[1].status_code, got[1].content)
        header = got[0].headers.get(HINT_HEADER, "")
        assert header.isascii() and len(header) <= MAX_HINT_HEADER
        assert header == hint_header(on.requests[-1].hints)
        assert HINT_HEADER not in got[1].headers
    on.reset()
    hintless.reset()


def test_the_openapi_document_declares_the_hint_header() -> None:
    from cadenza_mock.specs.openapi import openapi_document

    for profile in ("docs", "sdk"):
        document = openapi_document(profile)
        header = document["components"]["headers"]["NearMissHint"]
        assert header["schema"] == {"type": "string", "maxLength": MAX_HINT_HEADER}
        for path, item in document["paths"].items():
            for operation in item.values():
                declared = {
                    status: HINT_HEADER in response.get("headers", {})
                    for status, response in operation["responses"].items()
                    if status != "default"
                }
                # Every answer of the emulated API may carry hints; the admin API's never.
                assert set(declared.values()) == {not path.startswith("/__admin")}, path

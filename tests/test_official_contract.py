"""The platform's own contract: schemathesis with Cadenza's OpenAPI document (the one the
official clients are generated from) over every REST operation the mock serves.

The document is not ours and is never copied into this repository: it is read from
`../shared/cadenza-openapi.yaml` beside the checkout (CI has it there); elsewhere these
tests skip and say so. Its operations are filtered to the ones the mock's route table
(cadenza_mock/operations.py) serves, so an operation served later is checked the day it
is added. The mock serves the `sdk` profile (the official clients' vocabulary) and is
reset before each case: a logout or revoke in one case cannot change the next.

Every answer, to valid calls and to invalid ones, must conform: response schema, status
code, content type and headers as the document declares them; invalid data rejected;
an operation that needs a token refuses a call without one; undeclared methods refused.
Bounded and deterministic: a fixed seed, a few fuzzed cases per operation on top of
schemathesis' example and coverage cases. A longer local run:

    CADENZA_OFFICIAL_EXAMPLES=200 python -m pytest tests/test_official_contract.py -p no:randomly
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from support import REPO

from cadenza_mock.operations import API_PREFIX, OPERATIONS
from cadenza_mock.server import MockServer

OFFICIAL = REPO.parent / "shared" / "cadenza-openapi.yaml"
EXAMPLES = int(os.environ.get("CADENZA_OFFICIAL_EXAMPLES", "8"))
SEED = 20260115
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "unsupported_method",
]
HYPOTHESIS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# The mock's own operations of the emulated API (its documents and the asyncapi are the
# mock's; the official document does not have them).
SERVED = {(op.method, op.path) for op in OPERATIONS if op.path.startswith(API_PREFIX)}

pytestmark = pytest.mark.skipif(
    not OFFICIAL.is_file(),
    reason=f"the platform's OpenAPI document is not at {OFFICIAL} (it is read from "
    "../shared beside the checkout, never copied into it)",
)


def official_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }


@pytest.fixture(autouse=True)
def _schemathesis_node_id(request: pytest.FixtureRequest) -> None:
    # As in test_schemathesis.py: pytest 9.2 has no `Node._nodeid`, schemathesis reads it.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture(scope="module")
def mock() -> Any:
    with MockServer(scenario="sdk") as server:
        yield server
        server.check_handler_errors()


@pytest.fixture(scope="module")
def official(mock: MockServer) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": mock.url,
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "generation": {"max-examples": EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
            "auth": {"openapi": {"SupabaseOAuth2BearerAuth": {"bearer": mock.token}}},
        }
    )
    return schemathesis.openapi.from_path(OFFICIAL, config=config)


def served(ctx: Any) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in SERVED


# The filter goes on the lazy schema: schemathesis drops one set on the fixture's.
schema = schemathesis.pytest.from_fixture("official").include(served)


def test_every_served_operation_is_in_the_official_document() -> None:
    """The filter above checks what both have: the mock serves nothing the platform's
    document lacks (else that operation would escape this module)."""
    import yaml

    document = yaml.safe_load(Path(OFFICIAL).read_text(encoding="utf-8"))
    mine = {(m, p) for m, p in SERVED if not p.endswith((".json",))}
    assert mine - official_operations(document) == set()
    assert len(mine) >= 21  # the 18 served before issue 24, and signup, recover, user update


@schema.parametrize()
@HYPOTHESIS
def test_every_answer_conforms_to_the_official_document(case: Any, mock: MockServer) -> None:
    mock.reset()
    with requests.Session() as session:
        case.call_and_validate(session=session)

"""Every operation the mock serves, declared once: the aiohttp routes (`http/app.py`), the
OpenAPI paths (`specs/openapi.py`), the near-miss hints' query vocabulary, the venue
fault's calls and the RPC twins are all derived from `OPERATIONS`.

Adding an endpoint is one row in `operation_rows_api.py` (the admin API's: in
`operation_rows_admin.py`; the documented ones not emulated yet, one line each, in
`operation_rows_documented.py`), one handler (named by `handler`) and the engine method it
calls (docs/contributing/add-endpoint.md); the `Operation` type and the path prefixes are
in `operation_type.py`. No aiohttp import: the document is built without a server.
"""

from __future__ import annotations

from cadenza_mock.contract.operation_rows_admin import ADMIN_OPERATIONS
from cadenza_mock.contract.operation_rows_api import API_OPERATIONS
from cadenza_mock.contract.operation_rows_documented import DOCUMENTED_OPERATIONS
from cadenza_mock.contract.operation_rows_market import MARKET_OPERATIONS
from cadenza_mock.contract.operation_rows_market_feed import MARKET_FEED_OPERATIONS
from cadenza_mock.contract.operation_rows_trading import (
    ADMIN_TRADING_OPERATIONS,
    TRADING_OPERATIONS,
)
from cadenza_mock.contract.operation_type import ADMIN_PREFIX as ADMIN_PREFIX
from cadenza_mock.contract.operation_type import API_PREFIX as API_PREFIX
from cadenza_mock.contract.operation_type import DASHBOARD_ASSETS as DASHBOARD_ASSETS
from cadenza_mock.contract.operation_type import NAMESPACES_PATH as NAMESPACES_PATH
from cadenza_mock.contract.operation_type import OPENAPI_PATH as OPENAPI_PATH
from cadenza_mock.contract.operation_type import SSE_EVENTS as SSE_EVENTS
from cadenza_mock.contract.operation_type import Auth as Auth
from cadenza_mock.contract.operation_type import Operation as Operation

OPERATIONS: tuple[Operation, ...] = (
    *API_OPERATIONS,
    *MARKET_OPERATIONS,
    *MARKET_FEED_OPERATIONS,
    *TRADING_OPERATIONS,
    *DOCUMENTED_OPERATIONS,
    *ADMIN_OPERATIONS,
    *ADMIN_TRADING_OPERATIONS,
)

# Every other admin operation is also served under NAMESPACES_PATH/{namespace}: that
# namespace's reset, scenario, journal and so on (the X-Cadenza-Mock-Namespace header
# does the same on the plain paths).
NAMESPACED_ADMIN: tuple[Operation, ...] = tuple(
    op
    for op in OPERATIONS
    if op.path.startswith(ADMIN_PREFIX)
    and not op.path.startswith(NAMESPACES_PATH)
    and op.namespaced
)


def namespaced_path(path: str) -> str:
    """`/__admin/reset` -> `/__admin/namespaces/{namespace}/reset`."""
    return f"{NAMESPACES_PATH}/{{namespace}}{path.removeprefix(ADMIN_PREFIX)}"


def plain_path(path: str) -> str:
    """`/__admin/namespaces/team-a/reset` -> `/__admin/reset` (namespaced_path undone, on
    a request's path); any other path as it is."""
    name, slash, rest = path.removeprefix(NAMESPACES_PATH + "/").partition("/")
    if not path.startswith(NAMESPACES_PATH + "/") or not (name and slash and rest):
        return path
    return f"{ADMIN_PREFIX}/{rest}"

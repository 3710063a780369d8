"""The dashboard at /__admin/ui: its page and assets, shipped in the package (no build
step, no CDN).

The files carry no data, so they load without the admin token; every figure on the page
comes from admin calls, which need it. When the admin API is off (beyond loopback without
a token) the page is off too: it would be useless, and it says where an admin API lives.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aiohttp import web

from cadenza_mock.contract.errors import PAGE_NOT_FOUND
from cadenza_mock.contract.operations import DASHBOARD_ASSETS
from cadenza_mock.http.admin import refuse_when_locked

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
# No inline script or style, nothing from elsewhere: journal entries carry strings any
# client chose, and the page shows them as text; the policy is the second fence.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


@cache
def _read(name: str) -> bytes:
    return (DASHBOARD_DIR / name).read_bytes()


def _serve(name: str) -> web.Response:
    return web.Response(
        body=_read(name), content_type=DASHBOARD_ASSETS[name], charset="utf-8", headers=_HEADERS
    )


async def page(request: web.Request) -> web.Response:
    refuse_when_locked(request)
    return _serve("index.html")


async def asset(request: web.Request) -> web.Response:
    refuse_when_locked(request)
    name = request.match_info["asset"]
    if name not in DASHBOARD_ASSETS:
        files = ", ".join(DASHBOARD_ASSETS)
        raise PAGE_NOT_FOUND.error(message=f"No dashboard file {name!r} (files: {files})")
    return _serve(name)

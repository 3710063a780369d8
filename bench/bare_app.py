"""The baseline for bench_list.py: a bare aiohttp app serving one prebuilt JSON body.

It does the least aiohttp can do for the route: no auth, no middleware, no access log,
the bytes built once at start-up. Whatever cadenza-mock serves slower than this is our
own overhead.

    python bench/bare_app.py --port 8181 --body response.json
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

DEFAULT_PATH = "/api/v3/credential/list"


def make_bare_app(body: bytes, path: str = DEFAULT_PATH) -> web.Application:
    """One GET route answering `body` as application/json."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get(path, handler)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="file with the response bytes")
    parser.add_argument("--path", default=DEFAULT_PATH, help=f"route (default {DEFAULT_PATH})")
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="event loop (default: asyncio's own, as a plain aiohttp app runs)",
    )
    args = parser.parse_args(argv)

    app = make_bare_app(args.body.read_bytes(), args.path)
    loop = None
    if args.loop == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None, loop=loop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

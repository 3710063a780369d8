"""Who may drive the mock from a browser: Origin, Host and admin body checks.

A mock on a developer's laptop is reachable by every web page they visit. A page cannot
read a cross-origin answer, but it can send one: a "simple" POST with a `text/plain` body
needs no preflight, and DNS rebinding makes a hostile name resolve to 127.0.0.1 so that
its requests even look same-origin. So, before anything acts:

- a request whose `Origin` is neither the server's own nor allowed (`--allow-origin`) is
  refused with 403, on every route and on the WebSocket upgrade; non-browser clients send
  no `Origin` and are unaffected;
- a server bound to a loopback address answers only `Host` values that name loopback, the
  bound address or an `--allow-host` name (what DNS rebinding cannot forge);
- an admin POST or PUT body must be labelled JSON or YAML (415), which a browser cannot
  send cross-origin without a preflight that the Origin check refuses.

Answers to allowed origins carry the CORS headers a browser app under test needs, and
preflight `OPTIONS` requests are answered here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web
from multidict import CIMultiDict

from cadenza_mock.contract.errors import (
    HOST_NOT_ALLOWED,
    ORIGIN_NOT_ALLOWED,
    UNSUPPORTED_MEDIA_TYPE,
    ApiError,
)

ANY = "*"
# Admin bodies come as one of these (the parameters, such as charset, aside).
ADMIN_BODY_TYPES = frozenset(
    (
        "application/json",
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/x-yaml",
    )
)
# What a browser app may send and read (the CORS answer names them).
_ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
_ALLOW_HEADERS = "Authorization, Content-Type, X-Admin-Token, X-Cadenza-Mock-Namespace"
_EXPOSE_HEADERS = "X-Cadenza-Mock-Hint, Retry-After, X-Cadenza-Mock-Version"
_PREFLIGHT_MAX_AGE = "600"
_SHOWN = 100  # characters of a refused value quoted back
_MEMO_LIMIT = 256


class OriginError(ValueError):
    """An `--allow-origin` value that is not an origin."""


def normalize_origin(text: str) -> str:
    """`scheme://host[:port]` as browsers send it: lower case, no default port, no path.

    `*` (any origin) and `null` (sandboxed frames, `file:` pages) are kept as they are.
    """
    value = text.strip()
    if value in (ANY, "null"):
        return value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise OriginError(f"{text!r} is not an origin ({exc})") from None
    if not parts.scheme or not parts.hostname:
        raise OriginError(f"{text!r} is not an origin: write it as scheme://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise OriginError(f"{text!r} is not an origin: no path, query or user part")
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
    return f"{scheme}://{host}" if port is None or port == default else f"{scheme}://{host}:{port}"


def host_name(host_header: str) -> str:
    """The name part of a `Host` value (`[::1]:8080` -> `::1`) or of a bind address, lower
    case."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") > 1:  # a bare IPv6 address (a bind address such as ::1)
        return value
    name, _, _ = value.partition(":")
    return name.rstrip(".")


def is_loopback_name(name: str) -> bool:
    """`localhost`, a `.localhost` name (browsers resolve both to loopback themselves), or
    a loopback address."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass
class BrowserGuard:
    """The Origin and Host rules of one app (see the module docstring)."""

    allow_origins: frozenset[str] = frozenset()
    allow_hosts: frozenset[str] = frozenset()
    # The address the server listens on; Host is checked only when it is loopback.
    bound_host: str | None = "127.0.0.1"
    _hosts_seen: dict[str, bool] = field(default_factory=dict, repr=False)

    @classmethod
    def from_options(
        cls,
        allow_origins: Iterable[str] = (),
        allow_hosts: Iterable[str] = (),
        bound_host: str | None = "127.0.0.1",
    ) -> BrowserGuard:
        """Raises OriginError for an origin it cannot read."""
        return cls(
            frozenset(normalize_origin(o) for o in allow_origins),
            frozenset(host_name(h) if h.strip() != ANY else ANY for h in allow_hosts),
            bound_host,
        )

    @property
    def checks_host(self) -> bool:
        bound = self.bound_host
        return (
            bound is not None
            and is_loopback_name(host_name(bound))
            and ANY not in (self.allow_hosts)
        )

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a request with this `Host` is answered (no Host: not a browser)."""
        if host_header is None:
            return True
        # Remembered per Host value, whether checked or not: `checks_host` parses the
        # bound address, too dear for every request.
        known = self._hosts_seen.get(host_header)
        if known is None:
            name = host_name(host_header)
            bound = host_name(self.bound_host or "")
            known = (
                not self.checks_host
                or is_loopback_name(name)
                or name == bound
                or name in self.allow_hosts
            )
            if len(self._hosts_seen) >= _MEMO_LIMIT:
                self._hosts_seen.clear()
            self._hosts_seen[host_header] = known
        return known

    def cors_for(self, origin: str, host_header: str | None) -> Mapping[str, str] | None:
        """None for the server's own origin (nothing to add); the CORS headers for an
        allowed one. ApiError 403 for any other."""
        try:
            normalized = normalize_origin(origin)
        except OriginError:
            normalized = origin
        if host_header is not None and _authority(normalized) == host_header.strip().lower():
            return None  # the dashboard and anything else the server itself serves
        if ANY in self.allow_origins or normalized in self.allow_origins:
            return {
                "Access-Control-Allow-Origin": origin,
                "Vary": "Origin",
                "Access-Control-Expose-Headers": _EXPOSE_HEADERS,
            }
        raise ORIGIN_NOT_ALLOWED.error(
            f"requests from web pages at {_shown(origin)} are refused; "
            "start the mock with --allow-origin ORIGIN to allow a browser app"
        )

    def check(self, request: web.BaseRequest) -> Mapping[str, str] | None:
        """Before anything acts: ApiError 403 for a foreign Host or Origin; the CORS
        headers to add to the answer (None: none)."""
        headers = request.headers
        host = headers.get("Host")
        if not self.host_allowed(host):
            raise HOST_NOT_ALLOWED.error(
                f"Host {_shown(host or '')} does not name this server; a server bound to "
                "loopback answers only loopback names (start it with --allow-host NAME)"
            )
        origin = headers.get("Origin")
        if origin is not None:
            return self.cors_for(origin, host)
        # No Origin: a browser still says where a no-cors request (an image, a script)
        # comes from. A link the user follows (a navigation) is theirs.
        site = headers.get("Sec-Fetch-Site")
        if site in ("cross-site", "same-site") and headers.get("Sec-Fetch-Mode") != "navigate":
            raise ORIGIN_NOT_ALLOWED.error(
                "a request a web page made without its Origin is refused (Sec-Fetch-Site: "
                f"{site}); start the mock with --allow-origin ORIGIN to allow a browser app"
            )
        return None


def preflight(request: web.BaseRequest, cors: Mapping[str, str]) -> web.Response:
    """The answer to a browser's CORS preflight from an allowed origin."""
    headers = CIMultiDict(cors)
    headers["Access-Control-Allow-Methods"] = _ALLOW_METHODS
    asked = request.headers.get("Access-Control-Request-Headers")
    headers["Access-Control-Allow-Headers"] = asked[:1000] if asked else _ALLOW_HEADERS
    headers["Access-Control-Max-Age"] = _PREFLIGHT_MAX_AGE
    headers["Vary"] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    return web.Response(status=204, headers=headers)


def is_preflight(request: web.BaseRequest) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def check_admin_body(request: web.BaseRequest) -> None:
    """ApiError 415 for an admin POST/PUT body not labelled JSON or YAML."""
    if request.method not in ("POST", "PUT") or not request.body_exists:
        return
    if request.content_type in ADMIN_BODY_TYPES or request.content_type.endswith("+json"):
        return
    given = request.headers.get("Content-Type")
    raise UNSUPPORTED_MEDIA_TYPE.error(
        f"an admin body must be sent as application/json or application/yaml, not "
        f"{_shown(given) if given else 'without a Content-Type'}"
    )


def _authority(origin: str) -> str:
    """`http://127.0.0.1:8080` -> `127.0.0.1:8080` (compared with the Host header)."""
    return origin.partition("://")[2]


def _shown(value: str) -> str:
    text = "".join(c if " " <= c <= "~" else "?" for c in value[:_SHOWN])
    return repr(text + ("..." if len(value) > _SHOWN else ""))


def refusal(request: web.BaseRequest, guard: BrowserGuard | None) -> ApiError | None:
    """The guard's 403 for `request`, if any, without raising (the WebSocket upgrade)."""
    if guard is None:
        return None
    try:
        guard.check(request)
    except ApiError as err:
        return err
    return None

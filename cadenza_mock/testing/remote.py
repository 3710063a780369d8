"""`RemoteMock`: the fixture API for a mock that is already running elsewhere.

`pytest --cadenza-url http://host:port` (the container, or `cadenza-mock serve` in another
terminal) steers that server through its admin API, so the same tests run unchanged. Only
the standard library is used: remote mode needs no HTTP client dependency and no aiohttp.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from cadenza_mock.contract.model import User
from cadenza_mock.engine.journal import MAX_IDLE_WAIT, Headers, JournalEntry
from cadenza_mock.engine.stubs import StubSpec
from cadenza_mock.scenario import Scenario, is_bundled_name
from cadenza_mock.scenario.faults import parse_fault_dict
from cadenza_mock.testing.handle import (
    MockHandle,
    ScenarioCache,
    SourceLike,
    describe_source,
    source_key,
)

DEFAULT_TIMEOUT = 10.0
# Where a pytest run takes the admin token from (named in the 401/403 advice).
ADMIN_TOKEN_OPTION = "--cadenza-admin-token"
ADMIN_TOKEN_ENV = "CADENZA_MOCK_ADMIN_TOKEN"


class RemoteError(RuntimeError):
    """The remote mock refused an admin call (`status`: its HTTP status) or could not be
    reached (`status` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def entry_from_json(data: Mapping[str, Any]) -> JournalEntry:
    """A JournalEntry from the admin API's camelCase JSON (`GET /__admin/requests`)."""
    return JournalEntry(
        seq=int(data["seq"]),
        time_ms=int(data["time"]),
        method=str(data["method"]),
        path=str(data["path"]),
        query={str(k): [str(v) for v in vs] for k, vs in (data.get("query") or {}).items()},
        headers=Headers({str(k): str(v) for k, v in (data.get("headers") or {}).items()}),
        body=data.get("body"),
        status=int(data["status"]),
        duration_ms=float(data.get("durationMs") or 0.0),
        user_id=data.get("userId"),
        fault=data.get("fault"),
        hints=tuple(str(hint) for hint in data.get("hints") or ()),
        response=data.get("response"),
    )


def user_from_json(data: Mapping[str, Any]) -> User:
    """A User from the admin scenario summary (id, email, tokens; never a password)."""
    return User(
        user_id=str(data["id"]),
        email=str(data.get("email") or ""),
        tokens=tuple(data.get("tokens") or ()),
        expired_tokens=tuple(data.get("expiredTokens") or ()),
    )


class RemoteMock(MockHandle):
    """A running cadenza-mock at `url`, driven over `/__admin/` like a local MockServer.

    Scenarios are validated locally first (same file:line errors as in-process), then sent:
    a bundled name by name, a file as its YAML text, a dict as JSON. A file's `extends`
    must therefore name a bundled scenario, since the server cannot see local files.
    """

    def __init__(
        self,
        url: str,
        *,
        admin_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        scenario_cache: ScenarioCache | None = None,
        ca_file: str | Path | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"cadenza-mock URL must look like http://host:port, got {url!r}")
        self._url = f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"
        self.admin_token = admin_token
        self.timeout = timeout
        self.scenarios = scenario_cache or ScenarioCache()
        self._summary: dict[str, Any] | None = None
        self._scenario: Scenario | None = None
        self._journal_size: int | None = None
        # An https:// server's CA bundle (None: the system's trust store, SSL_CERT_FILE).
        self._ca_file = Path(ca_file) if ca_file is not None else None
        self._context: ssl.SSLContext | None = None
        # The namespace this object steers (open_namespace); None: the server's own state.
        self.namespace: str | None = None

    # ----------------------------------------------------------------- transport

    def _admin(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        query: Mapping[str, str] | None = None,
        wait: float = 0.0,
    ) -> Any:
        where = f"namespaces/{self.namespace}/{path}" if self.namespace and path else path
        url = f"{self._url}/__admin/{where}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.admin_token:
            headers["X-Admin-Token"] = self.admin_token
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout + wait, context=self.ssl_context
            ) as response:
                payload = json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            advice = _token_advice(exc.code, self.admin_token is not None)
            raise RemoteError(
                f"cadenza-mock at {self._url} refused {method} /__admin/{where}: "
                f"HTTP {exc.code}: {_error_message(exc)}{advice}",
                exc.code,
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLError):
                raise RemoteError(
                    f"cadenza-mock at {self._url}: TLS failed ({reason}); give the CA bundle "
                    "that verifies it (the server's --tls-ca-file) to --cadenza-ca-file or "
                    "CADENZA_CA_FILE (RemoteMock(ca_file=...))"
                ) from None
            raise RemoteError(
                f"cannot reach cadenza-mock at {self._url} ({reason}); is it running?"
            ) from None
        if isinstance(payload, Mapping) and "data" in payload:
            return payload["data"]
        return payload

    @property
    def ca_bundle(self) -> Path | None:
        """The CA bundle given for an https:// server (`--cadenza-ca-file`), else None."""
        return self._ca_file if self._url.startswith("https://") else None

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context trusting `ca_bundle` (the system's store without one); None
        over plain HTTP."""
        if not self._url.startswith("https://"):
            return None
        if self._context is None:
            cafile = str(self._ca_file) if self._ca_file is not None else None
            self._context = ssl.create_default_context(cafile=cafile)
        return self._context

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Check the server answers /__admin/health; RemoteError says why not."""
        self.health()
        return self

    def stop(self) -> None:
        """Nothing to stop: the server belongs to whoever started it (a namespace this
        object opened is closed)."""
        self.close_namespace()

    def open_namespace(self, name: str | None = None) -> str:
        """Steer a new namespace of the server of its own (on the server's scenario until
        `load()`): `url` becomes its base URL, `users` its tokens, and no other client of
        the server sees or changes its state. RemoteError if the server has none to give
        (an older server, or `--max-namespaces 0`, or its bound reached)."""
        self.close_namespace()
        created = self._admin("POST", "namespaces", query={"namespace": name} if name else None)
        self.namespace = str(created["name"])
        self._summary = None
        return self.namespace

    def close_namespace(self) -> None:
        """Delete the namespace `open_namespace` made (if any); back to the server's own."""
        name, self.namespace = self.namespace, None
        if name is not None:
            self._summary = None
            # Gone already (expired, or the server restarted): nothing left to free.
            with contextlib.suppress(RemoteError):
                self._admin("DELETE", f"namespaces/{urllib.parse.quote(name, safe='')}")

    def health(self) -> dict[str, Any]:
        """The server's /__admin/health answer (status, version, scenario, profile)."""
        return dict(self._admin("GET", "health"))

    # ----------------------------------------------------------------- what tests use

    @property
    def url(self) -> str:
        """The base URL for the code under test: the namespace's (`/__ns/<name>`) once one
        is open, else the server's."""
        return f"{self._url}/__ns/{self.namespace}" if self.namespace else self._url

    @property
    def scenario(self) -> Scenario:
        """The scenario last loaded through this object, as validated locally."""
        if self._scenario is None:
            raise LookupError("no scenario loaded through this RemoteMock yet; call load()")
        return self._scenario

    def _current_summary(self) -> dict[str, Any]:
        if self._summary is None:
            self._summary = dict(self._admin("GET", "scenario"))
        return self._summary

    @property
    def users(self) -> list[User]:
        """The users the server reports for its loaded scenario (authoritative over ours)."""
        return [user_from_json(u) for u in self._current_summary().get("users", [])]

    @property
    def profile(self) -> str:
        return str(self._current_summary().get("profile", ""))

    def load(self, scenario: SourceLike) -> Scenario:
        local = self.scenarios.get(scenario)  # ScenarioError before the server is touched
        body, content_type, query = _payload(scenario, local)
        self._summary = dict(
            self._admin("PUT", "scenario", body=body, content_type=content_type, query=query)
        )
        self._scenario = local
        self._current_key = source_key(scenario)
        return local

    def reset(self) -> None:
        self._admin("POST", "reset")

    @property
    def requests(self) -> list[JournalEntry]:
        return [entry_from_json(e) for e in self._admin("GET", "requests")]

    def clear_requests(self) -> None:
        self._admin("DELETE", "requests")

    def _in_flight_after(self, timeout: float) -> int:
        # The server waits at most MAX_IDLE_WAIT per call: longer waits take several.
        loop_end = time.monotonic() + timeout
        while True:
            left = max(0.0, min(loop_end - time.monotonic(), MAX_IDLE_WAIT))
            answer = self._admin(
                "GET", "requests/idle", query={"timeout": f"{left:.3f}"}, wait=left
            )
            if answer["idle"] or time.monotonic() >= loop_end:
                return int(answer["inFlight"])

    def _set_clock(self, at_ms: int | None, frozen: bool | None) -> int:
        wanted: dict[str, Any] = {}
        if at_ms is not None:
            wanted["now"] = at_ms
        if frozen is not None:
            wanted["frozen"] = frozen
        body = json.dumps(wanted).encode()
        return int(self._admin("POST", "clock", body=body, content_type="application/json")["now"])

    @property
    def journal_size(self) -> int | None:
        """The server's `--journal-size` (asked once: it does not change while it runs)."""
        if self._journal_size is None:
            answer = self._admin("GET", "requests/idle", query={"timeout": "0"})
            self._journal_size = int(answer["journalSize"])
        return self._journal_size

    def add_fault(self, spec: Mapping[str, Any]) -> str:
        parse_fault_dict(spec, "add_fault")  # same located errors as in-process, nothing sent
        body = json.dumps(dict(spec)).encode()
        return str(self._admin("POST", "faults", body=body, content_type="application/json")["id"])

    def remove_fault(self, fault_id: str) -> None:
        self._admin("DELETE", f"faults/{urllib.parse.quote(fault_id, safe='')}")

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def _add_stub(self, spec: dict[str, Any], parsed: StubSpec) -> str:
        body = json.dumps(spec).encode()
        return str(self._admin("POST", "stubs", body=body, content_type="application/json")["id"])

    def remove_stub(self, stub_id: str) -> None:
        self._admin("DELETE", f"stubs/{urllib.parse.quote(stub_id, safe='')}")

    def clear_stubs(self) -> None:
        self._admin("DELETE", "stubs")

    @property
    def stubs(self) -> list[dict[str, Any]]:
        return list(self._admin("GET", "stubs"))

    def snapshot(self) -> str:
        return str(self._admin("POST", "snapshots")["id"])

    def rollback(self, snapshot: str) -> None:
        self._admin("POST", f"snapshots/{urllib.parse.quote(snapshot, safe='')}/restore")

    @property
    def faults(self) -> list[dict[str, Any]]:
        return list(self._admin("GET", "faults"))

    def advance(self, seconds: float) -> int:
        body = json.dumps({"advance": seconds}).encode()
        return int(self._admin("POST", "clock", body=body, content_type="application/json")["now"])

    @property
    def now_ms(self) -> int:
        return int(self._admin("GET", "clock")["now"])

    def credentials(self, user: str | None = None) -> list[dict[str, Any]]:
        return list(self._admin("GET", "credentials", query={"user": user} if user else None))

    def _market(self, instrument_id: str | None = None, price: str | None = None) -> Any:
        if instrument_id is None:
            return self._admin("GET", "market")
        body = json.dumps({"instrumentId": instrument_id, "price": price}).encode()
        return self._admin("POST", "market/price", body=body, content_type="application/json")

    def _market_control(self, name: str, body: dict[str, Any]) -> Any:
        raw = json.dumps(body).encode()
        return self._admin("POST", f"market/{name}", body=raw, content_type="application/json")

    def _venue_behavior(
        self, body: dict[str, Any] | None, trading_account_id: str | None = None
    ) -> Any:
        if body is None:
            query = {"tradingAccountId": trading_account_id} if trading_account_id else None
            return self._admin("GET", "venue-behavior", query=query)
        raw = json.dumps(body).encode()
        return self._admin("POST", "venue-behavior", body=raw, content_type="application/json")

    def trading_accounts(self, user: str | None = None) -> list[dict[str, Any]]:
        query = {"user": user} if user else None
        return list(self._admin("GET", "trading-accounts", query=query))

    def orders(
        self, user: str | None = None, trading_account_id: str | None = None
    ) -> list[dict[str, Any]]:
        query = {"user": user} if user else {}
        if trading_account_id:
            query["tradingAccountId"] = trading_account_id
        return list(self._admin("GET", "orders", query=query or None))

    def portfolio(self, trading_account_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._admin("GET", f"portfolios/{trading_account_id}")
        return found

    def __repr__(self) -> str:
        loaded = self._scenario.name if self._scenario else None
        return f"<RemoteMock {self._url} scenario={loaded!r}>"


def _payload(
    source: SourceLike, local: Scenario
) -> tuple[bytes | None, str | None, dict[str, str] | None]:
    """(body, content type, query) of the PUT /__admin/scenario that loads `source`."""
    if isinstance(source, Scenario):
        source = source.origin()
    if isinstance(source, Mapping):
        return (
            json.dumps({"scenario": dict(source)}, default=str).encode(),
            "application/json",
            None,
        )
    if isinstance(source, str) and is_bundled_name(source):
        return None, None, {"name": source}
    path = Path(local.source or source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RemoteError(f"cannot read scenario {describe_source(source)}: {exc}") from None
    return text.encode(), "application/yaml", None


def _token_advice(status: int, token_given: bool) -> str:
    """What to do about a 401/403 from the admin API; never shows the token itself."""
    if status not in (401, 403):
        return ""
    where = (
        f"{ADMIN_TOKEN_OPTION} TOKEN or {ADMIN_TOKEN_ENV}=TOKEN "
        "(RemoteMock(admin_token=...) outside pytest)"
    )
    if token_given:
        return (
            f"; the admin token given was refused: pass the server's own --admin-token "
            f"value with {where}"
        )
    return (
        f"; the server wants an admin token: pass the value it was started with "
        f"(serve --admin-token) as {where}"
    )


def _error_message(exc: urllib.error.HTTPError) -> str:
    """The envelope's message, or the raw reason when the body is not our JSON."""
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        return str(exc.reason)
    if isinstance(body, Mapping):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
        details = body.get("details")
        if isinstance(details, Mapping) and isinstance(details.get("message"), str):
            return str(details["message"])
    return str(exc.reason)

"""`mock.stub(...)`: what a test holds to answer a request its own way, before the
emulation (respx's routes, WireMock's stubs), the same in-process and remote.

The stub is checked here first (engine/stubs.py's rules), so a bad one raises TypeError or
ValueError naming the argument in either mode, and nothing is sent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from cadenza_mock.engine.stubs import StubSpec, parse_stub


class StubsHandle(ABC):
    """The stub half of the fixture API (MockHandle inherits it)."""

    def stub(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
        proxy: bool = False,
    ) -> str:
        """Answer `method path` with `status`, the `json` body (None: no body) and
        `headers`, before the emulation, for the next `times` calls (None: every call);
        return the stub's id. The newest matching stub wins; `*` in `path` matches any
        characters; GET stubs answer HEAD too. A stub answers without looking at the
        token; it is journaled like any call (its entry's `fault` is `<id>:stub`) and
        cleared by `reset()`, so by the fixture before each test."""
        if isinstance(method, str):
            method = method.upper()  # as requests and httpx take it
        spec: dict[str, Any] = {"method": method, "path": path, "status": status}
        if json is not None:
            spec["json"] = json
        if headers is not None:
            spec["headers"] = dict(headers) if isinstance(headers, Mapping) else headers
        if times is not None:
            spec["times"] = times
        if proxy:  # forwarded to the server's upstream (`serve --upstream`), not answered
            spec = {
                "method": method,
                "path": path,
                "proxy": True,
                **({"times": times} if times else {}),
            }
        return self._add_stub(spec, parse_stub(spec, "stub"))

    @abstractmethod
    def _add_stub(self, spec: dict[str, Any], parsed: StubSpec) -> str:
        """Arm a checked stub (`spec` as the admin API takes it); its id."""

    @abstractmethod
    def remove_stub(self, stub_id: str) -> None:
        """Remove one stub by id."""

    @abstractmethod
    def clear_stubs(self) -> None:
        """Remove every stub."""

    @property
    @abstractmethod
    def stubs(self) -> list[dict[str, Any]]:
        """Every stub, armed or used up, with its counters, as `GET /__admin/stubs` lists
        them (secret-named fields and headers shown redacted)."""

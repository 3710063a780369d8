"""A bounded record of the requests the mock answered, with secrets and tokens redacted.

Tests assert on it (`mock.requests`), the admin API serves it; neither must ever expose a
secret, so redaction happens when an entry is written, not when it is read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cadenza_mock.wire import mask_api_key

REDACTED = "<redacted>"
# Body fields that carry secrets anywhere in the API (create, rotate, login, refresh).
SECRET_FIELDS = frozenset(
    {
        "apiSecret",
        "apiPassphrase",
        "password",
        "refreshToken",
        "accessToken",
        "secret",
        "passphrase",
    }
)
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-admin-token", "proxy-authorization"})


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers}


def redact_body(body: Any) -> Any:
    """Secrets replaced, apiKey masked, at any depth."""
    if isinstance(body, Mapping):
        result = {}
        for key, value in body.items():
            if key in SECRET_FIELDS:
                result[key] = REDACTED
            elif key == "apiKey" and isinstance(value, str):
                result[key] = mask_api_key(value)
            else:
                result[key] = redact_body(value)
        return result
    if isinstance(body, list):
        return [redact_body(item) for item in body]
    return body


@dataclass(slots=True)
class JournalEntry:
    """One answered request, as tests and the admin API see it."""

    seq: int
    time_ms: int
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int
    duration_ms: float
    user_id: str | None = None
    fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """camelCase, like every other JSON the mock serves."""
        return {
            "seq": self.seq,
            "time": self.time_ms,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "durationMs": self.duration_ms,
            "userId": self.user_id,
            "fault": self.fault,
        }


class Journal:
    """Newest last; the oldest entries fall off past `limit`."""

    def __init__(self, limit: int = 1000) -> None:
        if limit < 1:
            raise ValueError(f"journal limit must be at least 1, got {limit!r}")
        self.limit = limit
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        self._seq = 0
        self.dropped = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, entry: JournalEntry) -> None:
        if len(self._entries) == self.limit:
            self.dropped += 1
        self._entries.append(entry)

    def entries(self) -> list[JournalEntry]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self.dropped = 0

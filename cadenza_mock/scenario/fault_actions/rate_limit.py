"""`rate_limit`: the catalogue's 429 with Retry-After, always or past a token bucket."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from cadenza_mock.contract.errors import RATE_LIMITED
from cadenza_mock.scenario.fault_actions.base import (
    Call,
    FaultAction,
    count,
    given,
    number,
)
from cadenza_mock.scenario.nodes import Problems, describe, join, mapping, value

RATE_LIMIT_KEYS = ("requests", "window", "retry_after")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at_ms: int


@dataclass(frozen=True, slots=True)
class RateLimit(FaultAction, key="rate_limit"):
    """429 with Retry-After: always (`requests` None) or past a per-user token bucket."""

    requests: int | None = None
    window: float | None = None  # seconds in which `requests` calls are allowed
    retry_after: int | None = None  # fixed Retry-After; else the time until a token is back

    usage = "`rate_limit: {requests: N, window: S, retry_after?: R}` or `rate_limit: always`"
    effect = (
        "`always`: every matching call is a 429 -18011, `Retry-After: 1`. A bucket: a token "
        "bucket per user (per token if it is unknown), N calls refilled at N per S seconds of "
        "the mock clock; then 429 -18011 with `Retry-After` = seconds until the next token "
        "(or R)"
    )
    client_sees = (
        "429 until the bucket refills; with a frozen clock, advance it (`POST /__admin/clock`)"
    )
    on_rpc = (
        "the 429's error inside the RPC's result (code 18011, temporary); on the upgrade, "
        "the 429 answers it"
    )
    schema: ClassVar[Mapping[str, Any]] = {
        "anyOf": [
            {"const": "always"},
            {
                "type": "object",
                "properties": {
                    "requests": {"type": "integer", "minimum": 1},
                    "window": {"type": "number", "exclusiveMinimum": 0},
                    "retry_after": {"type": "integer", "minimum": 0},
                },
                "additionalProperties": False,
            },
        ]
    }

    @classmethod
    def parse(cls, node: yaml.Node, path: str, problems: Problems) -> RateLimit | None:
        if isinstance(node, yaml.ScalarNode):
            if value(node) != "always":
                problems.add(
                    node,
                    path,
                    f"expected `always` or {{requests, window, retry_after}}, got {describe(node)}",
                )
                return None
            return cls()
        fields = mapping(node, path, RATE_LIMIT_KEYS, problems)
        if fields is None:
            return None
        result: dict[str, Any] = {}
        if ("requests" in fields) != ("window" in fields):
            problems.add(
                node,
                path,
                "a token bucket needs both requests and window (N requests per window "
                "seconds); leave both out to limit every request",
            )
        if "requests" in fields:
            result["requests"] = count(fields["requests"], join(path, "requests"), 1, problems)
        if "window" in fields:
            window = number(fields["window"], join(path, "window"), problems)
            if window is not None and window <= 0:
                problems.add(fields["window"], join(path, "window"), "expected seconds > 0")
            result["window"] = window
        if "retry_after" in fields:
            result["retry_after"] = count(
                fields["retry_after"], join(path, "retry_after"), 0, problems
            )
        return cls(**result)

    def to_json(self) -> str | dict[str, Any]:
        found = given(requests=self.requests, window=self.window, retry_after=self.retry_after)
        return found or "always"

    def admit(self, memory: dict[str, Any], caller: Callable[[], str], now_ms: int) -> float | None:
        """Always, or when the caller's bucket is empty: then the seconds until a token is
        back (a call the bucket lets through is not counted toward `times`)."""
        if not self.requests or not self.window:
            return 0.0
        capacity = float(self.requests)
        rate = capacity / self.window  # tokens per second
        key = caller()
        bucket = memory.get(key)
        if bucket is None:
            bucket = memory[key] = _Bucket(capacity, now_ms)
        elapsed = max(0, now_ms - bucket.at_ms) / 1000
        bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
        bucket.at_ms = now_ms
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / rate

    def perform(self, call: Call, retry_seconds: float) -> None:
        given_after = self.retry_after
        retry_after = given_after if given_after is not None else max(1, math.ceil(retry_seconds))
        call.fail(RATE_LIMITED.error(headers={"Retry-After": str(retry_after)}))

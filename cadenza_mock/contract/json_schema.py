"""Small JSON Schema building blocks shared by the operation rows (their parameters and
answers) and the OpenAPI document's component schemas (`specs/openapi_schemas.py`, which
re-exports them): below both, so a row can state its answer without importing specs/."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cadenza_mock.contract.schemas import UUID_PATTERN

EPOCH_MS = {"type": "integer", "minimum": 0, "description": "milliseconds since the epoch"}
ISO_MS = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
    "description": "ISO-8601 UTC with milliseconds, the twin of the integer field",
}
UUID = {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
_UUID_BARE = UUID_PATTERN.removeprefix("^").removesuffix("$")
UUID_LIST = f"^{_UUID_BARE}(,{_UUID_BARE})*$"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def strict(properties: dict[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    """An object with exactly these keys: a leaked field (a secret!) fails validation."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
    }


def loose(properties: dict[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    """An object that may grow (admin answers are ours and gain fields over time)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
    }

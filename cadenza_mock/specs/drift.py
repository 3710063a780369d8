"""What `cadenza-mock drift` finds: an answer of the real service compared with the mock's
own document for that profile (the OpenAPI document, specs/openapi.py; the AsyncAPI
document's RPC reply for the WebSocket queries), difference by difference.

A small JSON Schema walker rather than a validator: it names each difference by kind (an
unknown or missing field, a type, an enum value, a constraint, the envelope, the status)
at its place, which is what a report a person reads needs. No aiohttp, no network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from cadenza_mock.specs.asyncapi import asyncapi_json
from cadenza_mock.specs.openapi import ENVELOPE_KEYS, openapi_document

KINDS = ("status", "envelope", "unknown field", "missing field", "type", "enum", "constraint")
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
# Where a list's items stop being looked at: one report per kind and place is enough.
_ITEMS_LOOKED_AT = 50


@dataclass(frozen=True, slots=True)
class Difference:
    """One way an answer departs from the document."""

    operation: str  # "GET /api/v3/credential/list", "RPC query.credential.list"
    kind: str  # one of KINDS
    where: str  # a JSON pointer into the answer ("" for the whole of it)
    expected: str
    found: str
    count: int = 1  # list items showing it (`where` then says `*` for the index)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "kind": self.kind,
            "where": self.where,
            "expected": self.expected,
            "found": self.found,
            "count": self.count,
        }

    def line(self) -> str:
        place = self.where or "(the answer)"
        items = f" ({self.count} items)" if self.count > 1 else ""
        return f"{self.kind:<13} {place}: expected {self.expected}, found {self.found}{items}"


def collapse(found: list[Difference]) -> list[Difference]:
    """One difference per place in a list's items (`/data/*/name`), counted: fifty
    credentials lacking one field are one line, not fifty."""
    counted: dict[tuple[str, str, str, str, str], int] = {}
    for item in found:
        where = re.sub(r"/\d+(?=/|$)", "/*", item.where)
        key = (item.operation, item.kind, where, item.expected, item.found)
        counted[key] = counted.get(key, 0) + 1
    return [Difference(*key, count=count) for key, count in counted.items()]


def _describe(value: Any) -> str:
    """A value's JSON type, never the value itself (it may be a secret)."""
    for name, kinds in _TYPES.items():
        if isinstance(value, kinds) and not (isinstance(value, bool) and name != "boolean"):
            return name
    return type(value).__name__


def _shown(value: Any) -> str:
    """An enum or const value as the report shows it: short scalars only."""
    if isinstance(value, str) and len(value) <= 40 and re.fullmatch(r"[\w.\-:/ ]*", value):
        return repr(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    return f"a {_describe(value)}"


class Walker:
    """Differences of one instance against one schema of `document`."""

    def __init__(self, document: Mapping[str, Any], operation: str) -> None:
        self.document = document
        self.operation = operation

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            node: Any = self.document
            for part in str(schema["$ref"]).removeprefix("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def _diff(self, kind: str, where: str, expected: str, found: str) -> Difference:
        return Difference(self.operation, kind, where, expected, found)

    def walk(self, schema: Mapping[str, Any], value: Any, where: str = "") -> Iterator[Difference]:
        schema = self._resolve(schema)
        if "anyOf" in schema or "oneOf" in schema:
            options = list(schema.get("anyOf") or schema.get("oneOf") or ())
            rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            found = [list(self.walk({**rest, **option}, value, where)) for option in options]
            if found and all(found):
                yield from min(found, key=len)  # the closest option's differences
            return
        yield from self._type(schema, value, where)

    def _type(self, schema: Mapping[str, Any], value: Any, where: str) -> Iterator[Difference]:
        wanted = schema.get("type")
        if wanted is not None:
            names = [wanted] if isinstance(wanted, str) else list(wanted)
            if not any(_is(value, name) for name in names):
                yield self._diff("type", where, " or ".join(names), _describe(value))
                return
        if "const" in schema and value != schema["const"]:
            yield self._diff("enum", where, _shown(schema["const"]), _shown(value))
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(_shown(v) for v in schema["enum"][:12])
            yield self._diff("enum", where, f"one of {allowed}", _shown(value))
        yield from self._constraints(schema, value, where)
        excluded = schema.get("not")
        if excluded is not None and not any(True for _ in self.walk(excluded, value, where)):
            fields = ", ".join(self._resolve(excluded).get("required", ())) or "this shape"
            yield self._diff("envelope", where, f"not {fields} here too", fields)
        if isinstance(value, dict):
            yield from self._object(schema, value, where)
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value[:_ITEMS_LOOKED_AT]):
                yield from self.walk(schema["items"], item, f"{where}/{index}")

    def _constraints(
        self, schema: Mapping[str, Any], value: Any, where: str
    ) -> Iterator[Difference]:
        if isinstance(value, str):
            pattern = schema.get("pattern")
            if pattern is not None and not re.search(pattern, value):
                yield self._diff("constraint", where, f"a string matching {pattern}", "another")
            if len(value) < schema.get("minLength", 0):
                yield self._diff(
                    "constraint", where, f"at least {schema['minLength']} chars", "fewer"
                )
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                yield self._diff("constraint", where, f">= {schema['minimum']}", "less")
            if "maximum" in schema and value > schema["maximum"]:
                yield self._diff("constraint", where, f"<= {schema['maximum']}", "more")

    def _object(
        self, schema: Mapping[str, Any], value: dict[str, Any], where: str
    ) -> Iterator[Difference]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                yield self._diff("missing field", f"{where}/{name}", "present", "absent")
        for name, item in value.items():
            if name in properties:
                yield from self.walk(properties[name], item, f"{where}/{name}")
            elif schema.get("additionalProperties") is False:
                yield self._diff(
                    "unknown field", f"{where}/{name}", "no such field", _describe(item)
                )


def _is(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(name, (object,)))


@cache
def _document(profile: str) -> dict[str, Any]:
    return openapi_document(profile)


@cache
def _asyncapi() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(asyncapi_json())
    return document


def rest_differences(
    profile: str, path: str, status: int, keys: list[str] | None, body: Any
) -> list[Difference]:
    """An answer of GET `path` (its status, its top-level keys in order, its parsed body)
    against the mock's document of `profile`."""
    document = _document(profile)
    operation = f"GET {path}"
    walker = Walker(document, operation)
    responses = document["paths"][path]["get"]["responses"]
    answer = responses.get(str(status))
    if answer is None:
        documented = ", ".join(code for code in responses if code != "default")
        return [Difference(operation, "status", "", f"one of {documented}", str(status))]
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return []
    found = list(walker.walk(schema, body))
    if isinstance(body, dict) and keys is not None and set(ENVELOPE_KEYS) <= set(keys):
        order = [key for key in keys if key in ENVELOPE_KEYS]
        if order != list(ENVELOPE_KEYS):
            found.insert(
                0,
                Difference(operation, "envelope", "", ", ".join(ENVELOPE_KEYS), ", ".join(order)),
            )
    return found


def rpc_differences(method: str, reply: Any) -> list[Difference]:
    """A reply to an RPC query against the AsyncAPI document's reply of that method."""
    document = _asyncapi()
    key = method.replace(".", "_")
    message = document["channels"]["connection"]["messages"].get(f"{key}_reply")
    operation = f"RPC {method}"
    if message is None:
        return [Difference(operation, "status", "", "a method the mock knows", "another")]
    return list(Walker(document, operation).walk(message["payload"], reply))

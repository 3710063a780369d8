"""WebSocket frames checked against the platform's own OpenAPI document (test support).

The document (`cadenza-openapi.yaml`, "Algo724 Cadenza Fermata API" 3.0.1, from which the
official clients are generated) is read from `../shared` beside the repository; it is not
ours and is never copied here. Where it is absent, a test that needs it skips, saying why.

Its `rpc*` and `ws*` schemas are OpenAPI 3.0 (nullable, open objects); checked here with
jsonschema after two changes: `nullable: true` admits null (and nothing else does), and,
unless asked otherwise, an object accepts only the properties the document names, so a
field no source has (an invented `method` key) fails.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from support import REPO

DOCUMENT = REPO.parent / "shared" / "cadenza-openapi.yaml"
_URN = "urn:cadenza-platform"


@cache
def _document() -> dict[str, Any] | None:
    if not DOCUMENT.is_file():
        return None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with DOCUMENT.open(encoding="utf-8") as f:
        loaded: dict[str, Any] = yaml.load(f, Loader=loader)
    return loaded


def require_document() -> dict[str, Any]:
    """The platform document, or skip: it lives beside the repository, not in it."""
    found = _document()
    if found is None:
        pytest.skip(
            f"the platform's OpenAPI document is not at {DOCUMENT} (it is read from "
            "../shared beside the repository and never copied into it)"
        )
    return found


def _converted(node: Any, closed: bool, composed: bool = False) -> Any:
    """OpenAPI 3.0 -> JSON Schema: nullable made explicit; objects closed when `closed`
    (not the members of an allOf, which each name only part of the properties)."""
    if isinstance(node, list):
        return [_converted(item, closed, composed) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _converted(value, closed, key == "allOf")
        for key, value in node.items()
        if key not in ("nullable", "example", "examples", "discriminator")
    }
    if closed and not composed and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _registry(closed: bool) -> Registry:
    doc = require_document()
    schemas = _converted(copy.deepcopy(doc["components"]["schemas"]), closed)
    contents = {"components": {"schemas": schemas}}
    return Registry().with_resource(
        _URN, Resource.from_contents(contents, default_specification=DRAFT202012)
    )


def problems(name: str, instance: Any, *, closed: bool = True) -> list[str]:
    """What is wrong with `instance` as the document's component schema `name` (with its
    fields only when `closed`); [] when it conforms."""
    schema = {"$ref": f"{_URN}#/components/schemas/{name}"}
    validator = Draft202012Validator(
        schema, registry=_registry(closed), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
        for e in validator.iter_errors(instance)
    ]


def assert_shape(name: str, instance: Any, *, closed: bool = True) -> None:
    found = problems(name, instance, closed=closed)
    assert not found, f"not a {name}: {found}\n{instance!r}"[:2000]


def rpc_schema(method: str, kind: str) -> str:
    """`rpcListCredentialsResult` for ("query.credential.list", "Result"), from the stem
    each RPC method names (cadenza_mock.http.rpc.METHODS)."""
    from cadenza_mock.http.rpc import METHODS

    return f"rpc{METHODS[method].schema}{kind}"


def assert_reply(reply: dict[str, Any]) -> None:
    """A whole reply frame is a wsReply (its RPC payload checked on its own: the document's
    wsRPCResult_data is a oneOf of open objects that several results would match)."""
    frame = copy.deepcopy(reply)
    if isinstance(frame.get("rpc"), dict):
        frame["rpc"] = {}
    assert_shape("wsReply", frame)


def assert_rpc_result(method: str, reply: dict[str, Any]) -> dict[str, Any]:
    """A reply to RPC `method`: a wsReply whose `rpc.data` is the method's Rpc*Result;
    that result is returned."""
    assert_reply(reply)
    assert set(reply) == {"id", "rpc"}, reply
    result: dict[str, Any] = reply["rpc"]["data"]
    assert_shape(rpc_schema(method, "Result"), result)
    return result


def assert_event(name: str, push: dict[str, Any]) -> dict[str, Any]:
    """A push frame is a wsReply with a wsPush publication whose data is the document's
    `name` event (rpcTradingAccountUpdatedEvent, ...); the event is returned."""
    assert_shape("wsReply", push)
    data: dict[str, Any] = push["push"]["pub"]["data"]
    assert_shape(name, data)
    return data

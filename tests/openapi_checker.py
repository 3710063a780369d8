"""Checks responses the mock sent against its OpenAPI document (test support, not shipped).

jsonschema (Draft 2020-12, as OpenAPI 3.1 uses) validates bodies; beyond the schema it
checks what JSON Schema cannot say: the status is documented for the operation, the
required headers are there, and the envelope's keys come in the documented order.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cadenza_mock.contract.model import PROFILE_NAMES
from cadenza_mock.contract.operations import OPENAPI_PATH
from cadenza_mock.http.observer import ObservedResponse
from cadenza_mock.specs.openapi import ENVELOPE_KEYS, openapi_document

_INJECTED_POINTER = "/components/responses/InjectedError/content/application~1json/schema"
# Headers a status must carry (the Cadenza API reference: 429 has Retry-After; HTTP: 405 has Allow).
_REQUIRED_HEADERS = {429: "retry-after", 405: "allow"}
# Long instances (a 10,000-record list) would drown the report; a prefix says enough.
_MESSAGE_LIMIT = 300

# Faults whose body is deliberately not a valid answer, and a test's stubs (whatever it
# declared): not validated, only counted.
WS_PATH = "/connection/websocket"
EXEMPT_FAULTS = frozenset({"malformed", "drop", "slow_body", "stub", "upstream"})


class ResponseChecker:
    """Checks responses against the documents (jsonschema, Draft 2020-12 as OpenAPI 3.1).

    Needs the `test` extra (jsonschema). Beyond the schema it checks what JSON Schema
    cannot say: the status is documented for the operation, and the envelope's keys come
    in the documented order.
    """

    def __init__(self) -> None:
        self._validator_class = Draft202012Validator
        self._documents = {p: openapi_document(p) for p in PROFILE_NAMES}
        self._registries = {
            p: Registry().with_resource(
                f"urn:cadenza-mock:openapi:{p}",
                Resource.from_contents(doc, default_specification=DRAFT202012),
            )
            for p, doc in self._documents.items()
        }
        self._cache: dict[tuple[str, str], Any] = {}
        # Templated paths ({credentialId}) as regexes; literal paths are looked up directly.
        # A segment matches as the router's does (aiohttp: no '/', '{' or '}'), so a path
        # like /__admin/credentials/{id} is the 404 of an unknown route, not a 405.
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^{}/]+", re.escape(path)) + "$"), path)
            for path in self._documents[PROFILE_NAMES[0]]["paths"]
            if "{" in path
        ]

    def _template(self, path: str) -> str:
        """The document's path (template) a request path falls under; itself if none."""
        for pattern, template in self._templates:
            if pattern.match(path):
                return template
        return path

    def _validator(self, profile: str, pointer: str) -> Any:
        key = (profile, pointer)
        validator = self._cache.get(key)
        if validator is None:
            schema = {"$ref": f"urn:cadenza-mock:openapi:{profile}#{pointer}"}
            validator = self._validator_class(schema, registry=self._registries[profile])
            self._cache[key] = validator
        return validator

    def _content_types(self, pointer: str) -> list[str]:
        """The media types documented beside the JSON schema `pointer` names."""
        if not pointer.startswith("/paths/"):
            return []
        node: Any = self._documents[PROFILE_NAMES[0]]
        parts = pointer.split("/")[1:-3]  # up to the response: .../responses/<status>
        for part in parts:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return list(node.get("content", {}))

    def _response_pointer(self, seen: ObservedResponse) -> tuple[str | None, str | None]:
        """JSON pointer of the schema for this response, or (None, why not)."""
        if seen.fault is not None and seen.status >= 400:
            # An armed error fault answers whatever status and errno it was given.
            return _INJECTED_POINTER, None
        paths = self._documents[seen.profile]["paths"]
        method = "get" if seen.method.upper() == "HEAD" else seen.method.lower()
        template = self._template(seen.path)
        item = paths.get(template)
        if item is None or method not in item:
            # Routing errors: undocumented path 404, undocumented method 405; a web page's
            # request the guard refuses (any method: a CORS preflight is an OPTIONS) 403.
            expected = 404 if item is None else 405
            if seen.status not in (expected, 403):
                return None, f"{seen.method} {seen.path} is not documented (status {seen.status})"
            return _INJECTED_POINTER, None
        responses = item[method]["responses"]
        path_key = template.replace("~", "~0").replace("/", "~1")
        if str(seen.status) in responses:
            base = f"/paths/{path_key}/{method}/responses/{seen.status}"
            return f"{base}/content/application~1json/schema", None
        return None, (
            f"{seen.method} {seen.path} answered {seen.status}, which the document does not "
            f"list (documented: {', '.join(k for k in responses if k != 'default')})"
        )

    def problems(self, seen: ObservedResponse) -> list[str]:
        """What is wrong with one response; empty when it conforms."""
        if seen.fault in EXEMPT_FAULTS:
            return []
        if seen.method.upper() == "HEAD" or seen.status == 204:
            return []  # no body to check
        if seen.path == OPENAPI_PATH and seen.status == 200:
            return []  # the document itself; tests validate it with openapi-spec-validator
        if seen.path == WS_PATH:
            return []  # the WebSocket API (and its refused upgrades): not REST, not in the document
        pointer, why = self._response_pointer(seen)
        if pointer is None:
            return [why or "undocumented response"]
        documented = self._content_types(pointer)
        if documented and "application/json" not in documented:
            # The dashboard's files and the journal stream: the type is all there is to check.
            if (seen.content_type or "") not in documented:
                return [f"content type {seen.content_type!r}, expected one of {documented}"]
            return []
        if seen.body is None:
            return ["response body was not observable (streamed) and no fault is marked"]
        if not (seen.content_type or "").startswith("application/json"):
            return [f"content type {seen.content_type!r}, expected application/json"]
        try:
            body = json.loads(seen.body)
        except ValueError as exc:
            return [f"body is not JSON ({exc}) and no malformed-body fault is marked"]
        found = [
            f"{'/'.join(str(p) for p in err.absolute_path) or '<body>'}: "
            f"{err.message[:_MESSAGE_LIMIT]}"
            for err in self._validator(seen.profile, pointer).iter_errors(body)
        ]
        header = _REQUIRED_HEADERS.get(seen.status)
        if header and header not in {name.lower() for name, _ in seen.headers}:
            found.append(f"status {seen.status} without the {header} header")
        if isinstance(body, dict) and "success" in body:  # health alone is not enveloped
            keys = tuple(body)[: len(ENVELOPE_KEYS)]
            if keys != ENVELOPE_KEYS:
                found.append(f"envelope keys in order {keys}, expected {ENVELOPE_KEYS}")
        return found

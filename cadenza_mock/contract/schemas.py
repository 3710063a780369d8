"""Request bodies of the emulated API, declared once as JSON Schema per profile.

The same declarations validate requests (compiled by fastjsonschema) and feed the OpenAPI
document, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

# Imported with this module, not lazily: the compiled validators raise this module's
# exception class, and a lazy import could bind another copy (pytester's in-process runs
# drop and re-import modules) so that the except clause below would miss it.
import fastjsonschema

from cadenza_mock.contract.errors import INVALID_JSON, VALIDATION_FAILED, allowed
from cadenza_mock.contract.model import PROFILES
from cadenza_mock.contract.trading_enums import (
    ORDER_SIDES,
    ORDER_TYPES_ALL,
    QUANTITY_ROUNDINGS,
    QUANTITY_TYPES,
    TIME_IN_FORCE_ALL,
)

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

_TEXT = {"type": "string", "minLength": 1}
_EXITS = ("takeProfit", "stopLoss")  # a submit's attached exits (engine/order_lists.py)
_UUID = {"type": "string", "pattern": UUID_PATTERN}
# One @ with something either side and no blank: what `format: email` checkers accept. The
# blanks are spelt out: `\s` means more characters to Python than to JSON Schema's regexes.
_EMAIL = {"type": "string", "pattern": "^[^@ \t\r\n]+@[^@ \t\r\n]+$", "maxLength": 320}
_PASSWORD = {"type": "string", "minLength": 8}


def _object(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    # Unknown body fields are ignored, as by the real service.
    return {"type": "object", "properties": properties, "required": required, **extra}


def _build(profile: str) -> dict[str, dict[str, Any]]:
    enums = PROFILES[profile]
    venue = {"type": "string", "enum": list(enums.venues)}
    ctype = {"type": "string", "enum": list(enums.types)}
    ids = {"type": "array", "items": _UUID, "minItems": 1}
    # Venues whose keys come with a passphrase: the create body needs it whenever it carries
    # an apiKey (declared here so the OpenAPI document states the rule too).
    passphrase_rule = {
        "if": {
            "properties": {"venue": {"enum": sorted(enums.passphrase_venues)}},
            "required": ["venue", "apiKey"],
        },
        "then": {"required": ["apiPassphrase"]},
    }
    secrets = {"apiKey": _TEXT, "apiSecret": _TEXT, "apiPassphrase": _TEXT}
    if profile == "sdk":
        create = _object(
            {"venue": venue, "credentialType": ctype, "nickname": {"type": "string"}, **secrets},
            ["venue", "credentialType"],
            **passphrase_rule,
        )
        verify = _object({"credentialIds": ids}, ["credentialIds"])
    else:
        create = _object(
            {"venue": venue, "type": ctype, "name": {"type": "string"}, **secrets},
            ["venue", "apiKey", "apiSecret"],
            **passphrase_rule,
        )
        verify = {
            "type": "object",
            "properties": {"credentialId": _UUID, "credentialIds": ids},
            "anyOf": [{"required": ["credentialId"]}, {"required": ["credentialIds"]}],
        }
    account_id = {"tradingAccountId": _UUID}
    by_credentials: dict[str, Any] = {
        "venue": venue,
        "credentialIds": ids,
        "externalTradingAccountId": _TEXT,
        "nickname": {"type": "string"},
    }
    if profile == "sdk":
        # The official document: "For exchange venues, credentialIds and
        # externalTradingAccountId are required. For Fermata venue, only venue is required."
        connect: dict[str, Any] = {
            "type": "object",
            "properties": {**by_credentials, "dealerAccountId": _UUID},
            "anyOf": [
                {"required": ["credentialIds", "externalTradingAccountId"]},
                {"required": ["venue"], "properties": {"venue": {"const": "FERMATA"}}},
            ],
        }
        update = _object({**account_id, "nickname": {"type": "string"}}, ["tradingAccountId"])
    else:
        # The reference page connects with venue keys; the guide with verified credentials.
        connect = {
            "type": "object",
            "properties": {
                **by_credentials,
                **secrets,
                "name": {"type": "string"},
                "accountType": {"type": "string", "enum": list(enums.account_types)},
            },
            "anyOf": [
                {"required": ["credentialIds", "externalTradingAccountId"]},
                {"required": ["venue", "apiKey", "apiSecret"]},
            ],
            **passphrase_rule,
        }
        update = _object(
            {**account_id, "name": {"type": "string"}, "nickname": {"type": "string"}},
            ["tradingAccountId"],
        )
    return {
        "connect": connect,
        "account": _object(account_id, ["tradingAccountId"]),
        "update": update,
        "create": create,
        "verify": verify,
        "rotate": _object(
            {"credentialId": _UUID, **secrets}, ["credentialId", "apiKey", "apiSecret"]
        ),
        "revoke": _object({"credentialId": _UUID}, ["credentialId"]),
        "login": _object({"email": _TEXT, "password": _TEXT}, ["email", "password"]),
        "refresh": _object({"refreshToken": _TEXT}, ["refreshToken"]),
        # The official document's auth bodies: an address (format email), a password of
        # at least 8 characters, metadata an object.
        "signup": _object(
            {"email": _EMAIL, "password": _PASSWORD, "metadata": {"type": "object"}},
            ["email", "password"],
        ),
        "recover": _object({"email": _EMAIL}, ["email"]),
        "user_update": _object(
            {"email": _EMAIL, "password": _PASSWORD, "metadata": {"type": "object"}}, []
        ),
        # Trading account subscriptions: the platform document's bodies, in both profiles.
        "subscribe": _object(account_id, ["tradingAccountId"]),
        "unsubscribe": {
            **_object(
                {**account_id, "subscriptionId": _UUID, "instrumentId": {"type": "string"}}, []
            ),
            "anyOf": [{"required": ["subscriptionId"]}, {"required": ["tradingAccountId"]}],
        },
        # Order book subscriptions (subscribeMarketOrderBookRequest, unsubscribeRequest).
        "market_subscribe": _object({"instrumentId": _TEXT}, ["instrumentId"]),
        "market_unsubscribe": {
            **_object({"subscriptionId": _UUID, "instrumentId": _TEXT}, []),
            "anyOf": [{"required": ["subscriptionId"]}, {"required": ["instrumentId"]}],
        },
        # Trade orders: the platform document's bodies, in both profiles.
        "submit_order": _object(
            {
                **account_id,
                "instrumentId": {"type": "string"},
                "idempotencyKey": {"type": "string"},
                "clientOrderId": {"type": "string"},
                "orderSide": {"type": "string", "enum": list(ORDER_SIDES)},
                "orderType": {"type": "string", "enum": list(ORDER_TYPES_ALL)},
                "limitPrice": {"type": "string"},
                "stopPrice": {"type": "string"},
                **{f"{k}{p}Price": {"type": "string"} for k in _EXITS for p in ("", "Limit")},
                **{f"{k}TimeInForce": {"type": "string"} for k in _EXITS},
                "quantity": {"type": "string"},
                "quantityType": {"type": "string", "enum": list(QUANTITY_TYPES)},
                "quantityRounding": {"type": "string", "enum": list(QUANTITY_ROUNDINGS)},
                "timeInForce": {"type": "string", "enum": list(TIME_IN_FORCE_ALL)},
                "expireAt": {"type": "integer", "minimum": 0},
                "awaitClosed": {"type": "boolean"},
                "quoteId": _UUID,
            },
            ["orderSide", "orderType", "quantity", "tradingAccountId"],
        ),
        # RFQ (quoteRfqRequest): ttl in seconds (1..300), expireAt an ISO date-time.
        "quote_rfq": _object(
            {
                "dealerAccountId": _UUID,
                "traderAccountId": _UUID,
                "instrumentId": _TEXT,
                "baseAsset": _TEXT,
                "quoteAsset": _TEXT,
                "orderSide": {"type": "string", "enum": list(ORDER_SIDES)},
                "quantity": {"type": "string"},
                "quoteQuantity": {"type": "string"},
                "quoteRequestId": _TEXT,
                "ttl": {"type": "integer", "minimum": 1, "maximum": 300},
                "expireAt": {"type": "string", "format": "date-time"},
                "pricingProfileId": _UUID,
            },
            ["dealerAccountId", "orderSide"],
        ),
        "cancel_order": _object(
            {**account_id, "tradeOrderId": _UUID}, ["tradeOrderId", "tradingAccountId"]
        ),
        # The market's write operations: the platform document's bodies, in both profiles.
        "market_sync": _object(
            {"venue": venue, "symbols": {"type": "array", "items": _TEXT}}, ["venue", "symbols"]
        ),
        "market_instrument": _object({"instrumentId": _TEXT}, ["instrumentId"]),
        "security_sync": _object({"venue": venue}, ["venue"]),
        "security_delete": _object({"securityId": _TEXT}, ["securityId"]),
    }


REQUEST_SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {p: _build(p) for p in PROFILES}
# The OpenAPI component each request schema is published as; an operation's `body`
# (operations.py) names one, which is how near-miss hints find the fields it reads.
COMPONENT_NAMES = {
    "create": "CreateCredentialRequest",
    "verify": "VerifyCredentialRequest",
    "rotate": "RotateCredentialRequest",
    "revoke": "RevokeCredentialRequest",
    "login": "LoginRequest",
    "refresh": "RefreshTokenRequest",
    "connect": "ConnectTradingAccountRequest",
    "account": "TradingAccountIdRequest",
    "update": "UpdateTradingAccountRequest",
    "signup": "SignupRequest",
    "recover": "RecoverRequest",
    "user_update": "UpdateUserRequest",
    "subscribe": "SubscribeTradingAccountRequest",
    "unsubscribe": "UnsubscribeTradingAccountRequest",
    "market_subscribe": "SubscribeMarketOrderBookRequest",
    "market_unsubscribe": "UnsubscribeMarketOrderBookRequest",
    "submit_order": "SubmitTradeOrderRequest",
    "cancel_order": "CancelTradeOrderRequest",
    "quote_rfq": "QuoteRfqRequest",
    "market_sync": "SyncMarketInstrumentsRequest",
    "market_instrument": "MarketInstrumentIdRequest",
    "security_sync": "SyncMarketSecuritiesRequest",
    "security_delete": "DeleteMarketSecurityRequest",
}


def component_schema(profile: str, component: str) -> dict[str, Any]:
    """The request schema an operation's `body` names (`"CreateCredentialRequest"`)."""
    for key, name in COMPONENT_NAMES.items():
        if name == component:
            return REQUEST_SCHEMAS[profile][key]
    raise KeyError(component)


@cache
def _validator(profile: str, operation: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(REQUEST_SCHEMAS[profile][operation])


def _field(name: str) -> str:
    return name.removeprefix("data.").removeprefix("data") or "body"


def _option(rule: dict[str, Any]) -> str:
    """One way to give a body: `credentialIds and externalTradingAccountId`, `venue FERMATA`."""
    fixed = {k: v["const"] for k, v in rule.get("properties", {}).items() if "const" in v}
    return " and ".join(f"{f} {fixed[f]}" if f in fixed else f for f in rule["required"])


def explain(exc: Any, body: Any, schema: dict[str, Any]) -> str:
    """A message naming the field and what it accepts, like the real API's -19004."""
    rule, name, definition = exc.rule, _field(exc.name), exc.rule_definition
    if rule == "required":
        missing = [f for f in definition if f not in body]
        why = f" for {body['venue']}" if missing == ["apiPassphrase"] and "venue" in body else ""
        return f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required{why}"
    if rule == "anyOf" and name == "body":
        options = [_option(r) for r in schema.get("anyOf", [])]
        if all(" " not in option for option in options):
            return f"{' or '.join(options)} is required"
        return "give " + ", or ".join(options)
    if rule == "type":
        return f"{name} must be of type {definition}"
    if rule == "enum":
        return f"{name} must be one of {allowed(definition)}"
    if rule == "pattern":
        return f"{name} must be an email address" if "@" in definition else f"{name} must be a UUID"
    if rule == "minLength":
        return (
            f"{name} must be at least {definition} characters"
            if definition > 1
            else (f"{name} must not be empty")
        )
    if rule == "maxLength":
        return f"{name} must be at most {definition} characters"
    if rule == "minItems":
        return f"{name} must not be empty"
    return f"{name}: {exc.message.removeprefix('data.').removeprefix('data ')}"


def _encodable(value: Any) -> bool:
    """No lone surrogates anywhere: they cannot be stored, compared or sent back as UTF-8."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# No request of the API nests anywhere near this deep; deeper JSON is refused before
# anything (validation, the journal's redaction, a state file's reader) walks it.
MAX_JSON_DEPTH = 64


class JsonLimitError(ValueError):
    """JSON refused although its syntax may be fine: nested deeper than MAX_JSON_DEPTH, or
    an integer too long to convert. `line` and `column` (1-based) say where, when found."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(problem)
        self.problem, self.line, self.column = problem, line, column


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


# Strings (skipped whole), brackets and numbers: enough to find where a limit was passed.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]|-?(\d+)(\.\d+)?([eE][-+]?\d+)?')


def _where(raw: bytes | str, deep: bool) -> tuple[int, int] | None:
    """(line, column) of the first bracket past MAX_JSON_DEPTH (`deep`) or of the first
    integer too long to convert; run only once the parse has refused, so it may be slow."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    limit = sys.get_int_max_str_digits()
    depth = 0
    for token in _TOKENS.finditer(text):
        kind = token.group()[0]
        if kind in "[{":
            depth += 1
            found = deep and depth > MAX_JSON_DEPTH
        elif kind in "]}":
            depth -= 1
            found = False
        else:  # a string, or a number: an integer is one without fraction or exponent
            digits, fraction, exponent = token.groups()
            integer = digits is not None and fraction is None and exponent is None
            found = not deep and integer and 0 < limit < len(digits)
        if found:
            at = token.start()
            return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
    return None


def _brackets(raw: bytes | str) -> int:
    """At least the deepest nesting `raw` can hold (each `{` or `[` of any of JSON's
    encodings holds its ASCII byte): a body with fewer needs no walk."""
    if isinstance(raw, str):
        return raw.count("{") + raw.count("[")
    return raw.count(b"{") + raw.count(b"[")


def decode_json(raw: bytes | str) -> Any:
    """Parsed JSON within the limits every JSON input shares (request bodies, the state
    file): json.JSONDecodeError for bad syntax, UnicodeDecodeError for bytes that are not
    UTF-8, JsonLimitError for nesting deeper than MAX_JSON_DEPTH or an integer too long to
    convert (both would otherwise end in a RecursionError or ValueError deep inside)."""
    deep = f"nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except RecursionError:
        raise JsonLimitError(deep, *(_where(raw, True) or ())) from None
    except ValueError:  # int(): more digits than sys.get_int_max_str_digits()
        problem = f"an integer longer than {sys.get_int_max_str_digits()} digits"
        raise JsonLimitError(problem, *(_where(raw, False) or ())) from None
    if _brackets(raw) > MAX_JSON_DEPTH and _depth_exceeds(value, MAX_JSON_DEPTH):
        raise JsonLimitError(deep, *(_where(raw, True) or ()))
    return value


def load_json(raw: bytes | str) -> Any:
    """Parsed JSON, or the API's 400 Invalid JSON: for bad syntax, bytes that are not
    UTF-8, numbers too long to convert, or nesting deeper than MAX_JSON_DEPTH."""
    try:
        return decode_json(raw)
    except JsonLimitError as exc:
        if exc.problem.startswith("nested"):
            raise INVALID_JSON.error(exc.problem) from None
        raise INVALID_JSON.error() from None
    except ValueError:  # bad syntax, not UTF-8
        raise INVALID_JSON.error() from None


# The last body parse_body parsed, by the identity of its bytes: the journal and the hints
# (http/middleware.py) look at the same bytes right after the handler, and need not parse
# them again. One slot, compared by identity: another thread's bytes are never these.
# Nothing changes a parsed body (no request schema has a default for the validator to fill).
_last_parsed: tuple[bytes, Any] | None = None


def load_json_again(raw: bytes) -> Any:
    """load_json(raw), taken from parse_body's parse when it parsed these very bytes last."""
    global _last_parsed
    last = _last_parsed
    if last is None or last[0] is not raw:
        return load_json(raw)
    _last_parsed = None
    return last[1]


def parse_body(raw: bytes, profile: str, operation: str) -> dict[str, Any]:
    """The request body as a dict, or the 400 the API gives for it (never echoing values)."""
    global _last_parsed
    body = load_json(raw) if raw.strip() else None
    if body is not None:
        _last_parsed = (raw, body)
    # Only a \u escape or non-ASCII bytes can make a lone surrogate: else no need to look.
    if not (raw.isascii() and b"\\u" not in raw) and not _encodable(body):
        raise VALIDATION_FAILED.error(
            "text must be valid Unicode (a lone surrogate such as \\ud800 is not)"
        )
    if not isinstance(body, dict):
        raise VALIDATION_FAILED.error("body must be a JSON object")
    try:
        _validator(profile, operation)(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        schema = REQUEST_SCHEMAS[profile][operation]
        raise VALIDATION_FAILED.error(explain(exc, body, schema)) from None
    return body

"""Every key a scenario file may give, declared once per record: its name, type, default,
how a simple value is read and checked, and the line that documents it.

The builders take their allowed keys (and so the unknown-key and did-you-mean messages),
the other profile's spellings, the `generate:` entries' keys and every simple value from
here; the admin API's OpenAPI schema of a scenario body (`specs/openapi_schemas.py`)
takes its keys and descriptions from here; and the README's scenario-key tables must say
what these rows say (`tests/unit/test_scenario_key_table.py` compares them). A key with
rules of its own (an id unique in the scenario, a venue of the profile, a choice of
weights) declares its name and doc here and is read by its builder.

Order matters: a table's order is the order the allowed keys are listed in messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from cadenza_mock.contract.model import PROFILE_NAMES, VENUE_OUTCOMES
from cadenza_mock.contract.wire import DEFAULT_MASK_KEEP
from cadenza_mock.scenario.nodes import (
    Problems,
    enum,
    join,
    scalar,
    secret,
    string_list,
    timestamp_ms,
    value,
)

# What a reader returns for a value it reported as wrong (None may be a valid value).
BAD: Any = object()
Reader = Callable[[yaml.Node, str, Problems], Any]


@dataclass(frozen=True, slots=True)
class ScenarioKey:
    """One key of a scenario record."""

    name: str
    doc: str  # what it means, as the README's table says it (Markdown)
    type: str = ""  # as the README's table names it
    default: str = ""  # as the README's table says it (where the table has the column)
    alias_of: str | None = None  # the other profile's spelling of that key: give one
    twin_of: str | None = None  # the sdk's ISO twin of that ms key: read too, must agree
    in_generate: bool = False  # also a key of a `generate: N` entry
    # A simple key: read and checked by `read` (BAD when it reported a problem), `value`
    # when absent or bad, set as the record's attribute `attr`. None: its builder reads it.
    read: Reader | None = None
    attr: str | None = None
    value: Any = None


# ----------------------------------------------------------------- readers


def _checked(result: Any) -> Any:
    return BAD if result is None else result


def _text(node: yaml.Node, path: str, problems: Problems) -> Any:
    return _checked(scalar(node, path, str, problems))


def _integer(node: yaml.Node, path: str, problems: Problems) -> Any:
    return _checked(scalar(node, path, int, problems))


def _flag(node: yaml.Node, path: str, problems: Problems) -> Any:
    return _checked(scalar(node, path, bool, problems))


def _secret(node: yaml.Node, path: str, problems: Problems) -> Any:
    return _checked(secret(node, path, problems))


def _time_or_null(node: yaml.Node, path: str, problems: Problems) -> Any:
    if isinstance(node, yaml.ScalarNode) and value(node) is None:
        return None
    return _checked(timestamp_ms(node, path, problems))


def _profile(node: yaml.Node, path: str, problems: Problems) -> Any:
    return _checked(enum(node, path, PROFILE_NAMES, problems, "profile"))


def _not_negative(node: yaml.Node, path: str, problems: Problems) -> Any:
    number = scalar(node, path, int, problems)
    if number is not None and number < 0:
        problems.add(node, path, "cannot be negative")
        return BAD
    return _checked(number)


def _role(node: yaml.Node, path: str, problems: Problems) -> Any:
    text = scalar(node, path, str, problems)
    return BAD if text is None else text or ROLE


def _strings(node: yaml.Node, path: str, problems: Problems) -> Any:
    return tuple(text for text, _ in string_list(node, path, problems))


def _venue_outcome(node: yaml.Node, path: str, problems: Problems) -> Any:
    return _checked(enum(node, path, VENUE_OUTCOMES, problems, "venue outcome"))


ROLE = "authenticated"
_STAMP_DOC = (
    'ms since the epoch or ISO-8601 (`"2023-12-20T06:10:35.110Z"`); the ISO twins of the sdk '
    "profile are read too and must agree with the integer; createdAt <= updatedAt <= "
    "revokedAt is checked, and a REVOKED record without `revokedAt` gets `revokedAt = "
    "updatedAt`"
)
_ACCOUNT_STAMP_DOC = (
    "ms or ISO-8601; `createdAt` defaults to the newest backing credential's, `updatedAt` "
    "to `createdAt`, a DISCONNECTED account's `disconnectedAt` to `updatedAt`"
)
_SECRET_DOC = (
    "stored, never served; OKX records that give `apiKey` or `apiSecret` must also give "
    "`apiPassphrase`"
)
_ACCOUNT_TYPE_DOC = (
    "default from the identity (the profile's `SPOT`, `MARGIN`, `CREDIT` or `FUTURES`; the "
    "identity upper-cased)"
)
_TIME = "ms int or ISO-8601"

# ----------------------------------------------------------------- the tables

TOP: tuple[ScenarioKey, ...] = (
    ScenarioKey(
        "description",
        "shown by `cadenza-mock scenarios` and `GET /__admin/scenario`",
        "string",
        '`""`',
        read=_text,
        attr="description",
        value="",
    ),
    ScenarioKey(
        "seed",
        "seed of every generated value (`serve --seed` overrides it)",
        "int",
        "`0`",
        read=_integer,
        attr="seed",
        value=0,
    ),
    ScenarioKey(
        "now",
        "freezes the mock's clock; generated timestamps fall in the year before it. Without "
        "it (or `null`, which also unfreezes a scenario it `extends`) the clock runs in real "
        "time and generated timestamps fall in the year before 2026-01-01T00:00:00Z, so data "
        "never depends on the day you run. Issued tokens follow the wall clock either way "
        "(see [Time](time.md))",
        _TIME + ", or `null`",
        "none",
        read=_time_or_null,
        attr="now",
    ),
    ScenarioKey(
        "extends", "start from another scenario, see below", "bundled name or path", "none"
    ),
    ScenarioKey(
        "profile",
        "wire profile (`serve --profile` overrides it); decides the allowed venues, types and "
        "statuses",
        "`docs` or `sdk`",
        "`docs`",
        read=_profile,
        attr="profile",
        value="docs",
    ),
    ScenarioKey(
        "mask_keep",
        "characters of `apiKey` kept before `***` (never more than half the key)",
        "int >= 0",
        f"`{DEFAULT_MASK_KEEP}`",
        read=_not_negative,
        attr="mask_keep",
        value=DEFAULT_MASK_KEEP,
    ),
    ScenarioKey(
        "venues",
        "what each venue answers when verify or connect reaches it (see [Venue outcomes]"
        "(trading-accounts.md#venue-outcomes)), e.g. `{OKX: maintenance}`",
        "mapping venue -> outcome",
        "`{}`",
    ),
    ScenarioKey(
        "market",
        "the market's instruments per venue (see [Market data](market.md#the-market-key)); "
        "without it, a few majors on each of the profile's exchanges",
        "mapping venue -> list or `default`",
        "the default catalogue",
    ),
    ScenarioKey("users", "the users, below", "list", "`[]`"),
    ScenarioKey("faults", "faults armed at load (see [Faults](faults.md))", "list", "`[]`"),
    ScenarioKey(
        "replay",
        "recorded WebSocket queries answered as recorded (`cadenza-mock record` writes them; "
        "see [Recording](recording.md#replayed-websocket-queries))",
        "list",
        "`[]`",
    ),
)

# An entry of a venue's list under `market:` (read by scenario/market.py).
INSTRUMENT: tuple[ScenarioKey, ...] = (
    ScenarioKey(
        "symbol",
        "`BASE/QUOTE`; unique per venue (the id is `VENUE:BASE/QUOTE`)",
        "string",
        "required",
    ),
    ScenarioKey(
        "price",
        "where the walk starts, rounded to the tick",
        "decimal",
        "the catalogue's for a major, else required",
        in_generate=True,
    ),
    ScenarioKey(
        "spread",
        "best ask minus best bid, a fraction of the price (at least one tick)",
        "decimal >= 0",
        "`0.0002`",
        in_generate=True,
    ),
    ScenarioKey("depth", "book levels per side", "int 1..1000", "`20`", in_generate=True),
    ScenarioKey(
        "volatility",
        "a day's standard deviation of the walk, a fraction of the starting price",
        "decimal >= 0",
        "`0.02`",
        in_generate=True,
    ),
    ScenarioKey("pipSize", "the tick: every price is a multiple", "decimal > 0", "from the price"),
    ScenarioKey("lotSize", "every quantity is a multiple", "decimal > 0", "from the price"),
    ScenarioKey(
        "minNotional",
        "the smallest order value, in the quote asset",
        "decimal > 0",
        "`5` (OKX `1`)",
    ),
    ScenarioKey(
        "status",
        "`ACTIVE`, `INACTIVE`, `DISABLED` or `DELISTED`",
        "string",
        "`ACTIVE`",
        in_generate=True,
    ),
    ScenarioKey(
        "halted",
        "halted from the load on: price, book and ticker frozen, status read `INACTIVE` "
        "(see [Controlling the market](#controlling-the-market))",
        "bool",
        "`false`",
        in_generate=True,
    ),
    ScenarioKey("description", "a human-readable line", "string", "`BASE against QUOTE on VENUE`"),
    ScenarioKey("externalSymbol", "the venue's own spelling", "string", "the venue's style"),
)

USER: tuple[ScenarioKey, ...] = (
    ScenarioKey(
        "id", "the `userId` of the user's records", "UUID", "generated from seed + position"
    ),
    ScenarioKey(
        "email",
        "for `POST /api/v3/auth/login`; unique across users",
        "string",
        "generated (`first.last@example.com`)",
    ),
    ScenarioKey(
        "password",
        "for login; never served, logged or journalled",
        "string",
        "none",
        read=_secret,
        attr="password",
    ),
    ScenarioKey(
        "role", "the auth user's role", "string", f"`{ROLE}`", read=_role, attr="role", value=ROLE
    ),
    ScenarioKey(
        "tenant_id",
        "the user's `appMetadata.tenantId`; the account list's `tenantId` filter matches it",
        "string",
        "none (`null`)",
        read=_text,
        attr="tenant_id",
    ),
    ScenarioKey(
        "environments",
        "the user's `appMetadata.environments`",
        "list of strings",
        "`[]`",
        read=_strings,
        attr="environments",
        value=(),
    ),
    ScenarioKey(
        "tokens",
        "valid bearer tokens; unique across all users",
        "list of strings",
        "one generated `cmk_...` token",
    ),
    ScenarioKey(
        "expired_tokens",
        "tokens answered with `401 Unauthorized: token expired`",
        "list of strings",
        "`[]`",
    ),
    ScenarioKey(
        "credentials", "explicit records and `generate:` entries, in any mix", "list", "`[]`"
    ),
    ScenarioKey(
        "trading_accounts",
        "the user's trading accounts, connected through their credentials (below)",
        "list",
        "`[]`",
    ),
)

CREDENTIAL: tuple[ScenarioKey, ...] = (
    ScenarioKey("credentialId", "a UUID, unique in the scenario", "UUID"),
    ScenarioKey(
        "userId",
        "must equal the user it is listed under (allowed so pasted records validate)",
        "UUID",
    ),
    ScenarioKey(
        "venue",
        "required; one of the profile's venues (docs: BINANCE, OKX, BYBIT, COINBASE, KRAKEN)",
        "string",
        in_generate=True,
    ),
    ScenarioKey("name", "display name (give one of the two, not both)", "string"),
    ScenarioKey("nickname", "", "string", alias_of="name"),
    ScenarioKey(
        "type",
        "docs: EXCHANGE (default) or BROKER; sdk: API_KEY (default), TOKEN, HMAC, OAUTH, RSA, "
        "ED25519",
        "string",
        in_generate=True,
    ),
    ScenarioKey("credentialType", "", "string", alias_of="type"),
    ScenarioKey(
        "apiKey",
        "stored whole, served masked; a key already ending in `***` (pasted from a response, "
        "e.g. `abc123***`) is served as is",
        "string",
    ),
    ScenarioKey("apiSecret", _SECRET_DOC, "string"),
    ScenarioKey("apiPassphrase", _SECRET_DOC, "string"),
    ScenarioKey(
        "status",
        "docs: ACTIVE (default) or REVOKED; sdk: CREATED, ACTIVE, EXPIRED, REVOKED",
        "string",
        in_generate=True,
    ),
    ScenarioKey("createdAt", _STAMP_DOC, _TIME),
    ScenarioKey("updatedAt", _STAMP_DOC, _TIME),
    ScenarioKey("revokedAt", _STAMP_DOC, _TIME),
    ScenarioKey("createdAtDateTime", "", "ISO-8601", twin_of="createdAt"),
    ScenarioKey("updatedAtDateTime", "", "ISO-8601", twin_of="updatedAt"),
    ScenarioKey("revokedAtDateTime", "", "ISO-8601", twin_of="revokedAt"),
    ScenarioKey(
        "keys_valid",
        "`false` makes verify report FAILED (default `true`)",
        "bool",
        in_generate=True,
        read=_flag,
        attr="keys_valid",
        value=True,
    ),
    ScenarioKey(
        "venue_outcome",
        "what the venue answers for these keys: `ok` (default), `invalid_keys`, `maintenance`, "
        "`timeout`, `network_error`, `rate_limited`, `lock_not_acquired`, `unavailable`, "
        "`exchange_error` (see [Venue outcomes](trading-accounts.md#venue-outcomes)); "
        "it wins over the "
        "scenario's `venues:` entry",
        "string",
        in_generate=True,
        read=_venue_outcome,
        attr="venue_outcome",
        value="ok",
    ),
)

TRADING_ACCOUNT: tuple[ScenarioKey, ...] = (
    ScenarioKey("tradingAccountId", "a UUID, unique in the scenario (default: seeded)", "UUID"),
    ScenarioKey("userId", "must equal the user it is listed under", "UUID"),
    ScenarioKey(
        "venue",
        "defaults to the credentials' venue, and must equal it",
        "string",
        in_generate=True,
    ),
    ScenarioKey(
        "externalTradingAccountId",
        "an identity the venue's keys reach (`spot`, `margin`, `futures`, `trading`, ...; "
        "default: the first not held by a live account)",
        "string",
    ),
    ScenarioKey("nickname", "default `<credential name> <identity>`", "string"),
    ScenarioKey("name", "", "string", alias_of="nickname"),
    ScenarioKey("accountType", _ACCOUNT_TYPE_DOC, "string"),
    ScenarioKey("externalAccountType", _ACCOUNT_TYPE_DOC, "string"),
    ScenarioKey(
        "status",
        "docs: `ACTIVE` (default), `DISABLED`, `DISCONNECTED`; sdk: the seven of "
        "`TradingAccountStatus`",
        "string",
        in_generate=True,
    ),
    ScenarioKey(
        "credentials",
        "required (unless `generate:`): this user's credentials, by `credentialId` (any case) "
        "or by name; all on one venue",
        "list of strings",
    ),
    ScenarioKey("credentialIds", "", "list of strings", alias_of="credentials"),
    ScenarioKey("createdAt", _ACCOUNT_STAMP_DOC, _TIME),
    ScenarioKey("updatedAt", _ACCOUNT_STAMP_DOC, _TIME),
    ScenarioKey("disconnectedAt", _ACCOUNT_STAMP_DOC, _TIME),
    ScenarioKey("createdAtDateTime", "", "ISO-8601", twin_of="createdAt"),
    ScenarioKey("updatedAtDateTime", "", "ISO-8601", twin_of="updatedAt"),
    ScenarioKey(
        "balances",
        'its portfolio\'s starting balances, asset -> decimal (`{USDT: "5000", BTC: "0.1"}`); '
        "default: the seeded default portfolio (see [Trading](trading.md))",
        "mapping",
    ),
    ScenarioKey(
        "venue_behavior",
        "how its venue treats its orders: `reject: true` (-18025), `timeout: true` (504 "
        "-18015), `partial: 0.5` (what an order takes at once, as a fraction), `maker_fee`, "
        "`taker_fee` (rates), `fill_delay: 2` and `cancel_delay: 2` (seconds on the mock "
        "clock, 0 to 86400: a late fill, a slow cancel); default: the venue fills at once, "
        "at its fees (see [Trading](trading.md#venue-behaviours))",
        "mapping",
    ),
)

# The key that makes an entry of `credentials:` or `trading_accounts:` N generated records.
GENERATE = ScenarioKey("generate", "make this many records, drawn from the seed", "int >= 0")

# Every table, by what the README's section about it is called.
TABLES: Mapping[str, tuple[ScenarioKey, ...]] = {
    "Top-level keys": TOP,
    "User keys": USER,
    "Explicit credential records": CREDENTIAL,
    "Trading account records": TRADING_ACCOUNT,
    "Market instrument keys": INSTRUMENT,
}


# ----------------------------------------------------------------- what builders ask


def names(table: tuple[ScenarioKey, ...]) -> tuple[str, ...]:
    """The keys an entry may give, in the order messages list them."""
    return tuple(key.name for key in table)


def generate_names(table: tuple[ScenarioKey, ...]) -> tuple[str, ...]:
    """The keys a `generate: N` entry may give."""
    return (GENERATE.name, *(key.name for key in table if key.in_generate))


def aliases(table: tuple[ScenarioKey, ...]) -> dict[str, str]:
    """The other profile's spellings: alias -> the key it means."""
    return {key.name: key.alias_of for key in table if key.alias_of is not None}


def read_declared(
    table: tuple[ScenarioKey, ...], fields: dict[str, yaml.Node], path: str, problems: Problems
) -> tuple[dict[str, Any], bool]:
    """The table's simple keys as the record's attributes (absent ones: their default),
    in table order; False if one was wrong (the problem is reported)."""
    values: dict[str, Any] = {}
    ok = True
    for key in table:
        if key.read is None or key.attr is None:
            continue
        if key.name not in fields:
            values[key.attr] = key.value
            continue
        read = key.read(fields[key.name], join(path, key.name), problems)
        if read is BAD:
            ok = False
            read = key.value
        values[key.attr] = read
    return values, ok


_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def description(key: ScenarioKey, table: tuple[ScenarioKey, ...]) -> str:
    """A key's doc line as plain text (links dropped), for the OpenAPI document."""
    if key.alias_of is not None:
        return f"the other profile's name of `{key.alias_of}` (give one of the two)"
    if key.twin_of is not None:
        return f"the ISO-8601 twin of `{key.twin_of}` (must agree with it)"
    text = _LINK.sub(r"\1", key.doc)
    given = ", ".join(part for part in (key.type, key.default and f"default {key.default}") if part)
    return f"{given}: {text}" if given else text


def row_groups(table: tuple[ScenarioKey, ...]) -> list[list[ScenarioKey]]:
    """The table's keys grouped as the README shows them: keys sharing a doc line in one
    row, each alias and twin in the row of the key it spells."""
    groups: dict[str, list[ScenarioKey]] = {}
    row_of: dict[str, str] = {}
    for key in table:
        meant = key.alias_of or key.twin_of
        if meant is not None:
            groups[row_of[meant]].append(key)
            continue
        groups.setdefault(key.doc, []).append(key)
        row_of[key.name] = key.doc
    return list(groups.values())

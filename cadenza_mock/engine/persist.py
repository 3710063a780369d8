"""The state file of `serve --state-file`: what requests changed, kept over a restart.

A JSON document that names the scenario it belongs to and holds only what requests changed
since the load (credentials created, rotated, revoked; trading accounts and their history;
login sessions; logged-out tokens; users signup added or PUT /auth/user changed; the
clock's advance; the market's changes, engine/market_persist.py), never the scenario
itself, so its size follows the changes, not the scenario. It never holds a secret: like
Cadenza's "encrypted at rest", an API key is kept as its masked form plus a salted
fingerprint, a secret, passphrase, password or token as a fingerprint only (the salt is in
the file), so a leaked state file leaks no key or secret a client handed over, and the
store still recognises a key, password or token after a restart (see
`engine.fingerprints`). Tokens the mock issued are drawn from the scenario's seed by
design (reruns are byte-identical): whoever has the scenario can derive them with or
without this file, and they open only this mock. The journal, faults armed at run time and
snapshots are not kept.

Transport-free and per `MockState` (`serve` keeps the server's own; namespaces live in
memory only). The file's bytes, its atomic replace and its lock are `engine.persist_io`'s;
its records' keys and the format's version are `engine.persist_format`'s, not the API's.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from cadenza_mock.contract.model import (
    AccountOperation,
    Credential,
    TradingAccount,
    User,
    venue_account,
)
from cadenza_mock.contract.schemas import JsonLimitError, decode_json
from cadenza_mock.contract.wire import mask_api_key
from cadenza_mock.engine import persist_format as fmt
from cadenza_mock.engine.auth import IssuedToken
from cadenza_mock.engine.clock import LAST_MS
from cadenza_mock.engine.fingerprints import (
    MARKER,
    SALT_BYTES,
    fingerprint,
    is_marker,
    key_marker,
    marker,
    secret_marker,
)
from cadenza_mock.engine.market_persist import market_json, read_market
from cadenza_mock.engine.persist_io import RecordLines as RecordLines
from cadenza_mock.engine.persist_io import StateFileError as StateFileError
from cadenza_mock.engine.persist_io import StateLock as StateLock
from cadenza_mock.engine.persist_io import check_writable as check_writable
from cadenza_mock.engine.persist_io import encode as encode
from cadenza_mock.engine.persist_io import write_file as write_file
from cadenza_mock.engine.persist_trading import read_trading, trading_json
from cadenza_mock.engine.state import MockState
from cadenza_mock.engine.store import Store, StoreChanges
from cadenza_mock.scenario import Scenario

FORMAT = fmt.FORMAT
VERSION = fmt.VERSION
T = TypeVar("T")
_SALT = re.compile(f"[0-9a-fA-F]{{{2 * SALT_BYTES}}}")


# ----------------------------------------------------------------- what is compared


def change_mark(state: MockState) -> tuple[int, ...]:
    """Differs whenever anything a state file keeps may have changed: a writer compares it
    (a few attribute reads) instead of being told of every change by every transport."""
    store = state.store
    return (
        state.generation,
        id(store),
        *store.version,
        store.sessions.version,
        store.trading.version,
        state.clock.offset_ms,
        store.market.version,
    )


def scenario_identity(scenario: Scenario) -> dict[str, Any]:
    """Which scenario a state file belongs to: restored on any other, it would be wrong."""
    return {"name": scenario.name, "profile": scenario.profile, "seed": scenario.seed}


def _describe(identity: Mapping[str, Any]) -> str:
    return (
        f"{identity.get('name')!r} ({identity.get('profile')} profile, seed {identity.get('seed')})"
    )


# ----------------------------------------------------------------- state -> document


def _digest_of(value: str, make: Callable[[str], str]) -> str:
    """The fingerprint (hex) of a value a record holds: a restored record already holds a
    marker; any other value is fingerprinted now."""
    held = value if is_marker(value) else make(value)
    return held.removeprefix(MARKER)


def _key_digest(api_key: str, venue: str, salt: bytes) -> str:
    return _digest_of(api_key, lambda v: key_marker(salt, venue, v))


def _credential_json(
    cred: Credential, salt: bytes, from_scenario: Callable[[str], bool], mask_keep: int
) -> Any:
    def optional(value: str | None, kind: str) -> str | None:
        if value is None:
            return None
        return _digest_of(value, lambda v: secret_marker(salt, kind, v))

    pristine = from_scenario(cred.credential_id)
    return fmt.record_json(
        fmt.CREDENTIAL,
        cred,
        apiKey=cred.pasted_masked_key or mask_api_key(cred.api_key, mask_keep),
        keyFingerprint=_key_digest(cred.api_key, cred.venue, salt) if cred.api_key else None,
        secretFingerprint=optional(cred.api_secret, "apiSecret"),
        passphraseFingerprint=optional(cred.api_passphrase, "apiPassphrase"),
        # A scenario record's venue account follows from the scenario; a created one's is a
        # digest of its key, kept as a fingerprint of that digest.
        venueAccount=None if pristine else _venue_account_json(venue_account(cred), salt),
    )


def _venue_account_json(account: str, salt: bytes) -> str:
    return _digest_of(account, lambda v: marker(fingerprint(salt, "venueAccount", v)))


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """What a state file keeps, taken between requests in a few reads and list copies (no
    fingerprint, no encoding): records are frozen, so a worker thread can build the
    document from it while requests go on changing the state."""

    mark: tuple[int, ...]
    scenario: Scenario
    store: Store  # read for its scenario's ids only (fixed when it was built)
    salt: bytes
    offset_ms: int
    changes: StoreChanges
    connects: int
    accounts: list[TradingAccount]
    operations: list[AccountOperation]
    issued: int
    tokens: list[IssuedToken]
    market: dict[str, Any]  # JSON-ready (engine/market_persist.py)
    trading: dict[str, Any] = dataclasses.field(default_factory=dict)  # orders, portfolios


def snapshot(state: MockState) -> Snapshot:
    """The state's changes as they are now (call where requests are served, between them)."""
    store = state.store
    connects, accounts, operations = store.accounts.changes()
    issued, tokens = store.sessions.issued_tokens()
    return Snapshot(
        change_mark(state),
        state.scenario,
        store,
        store.salt,
        state.clock.offset_ms,
        store.changes(),
        connects,
        accounts,
        operations,
        issued,
        tokens,
        market_json(store.market),
        trading_json(store.trading) if store.trading.changed else {},
    )


def state_document(state: MockState) -> dict[str, Any]:
    """The state file's document for this state (JSON-ready, no secret in it)."""
    return document_of(snapshot(state))


def document_of(snap: Snapshot, lines: RecordLines | None = None) -> dict[str, Any]:
    """The state file's document for a snapshot (JSON-ready, no secret in it): the costly
    part (a fingerprint or three per record), safe in a worker thread. With `lines`, each
    record is its line, made again only for records changed since `lines` last saw them
    (for `encode` only)."""
    salt = snap.salt
    changes = snap.changes
    mask_keep = snap.scenario.mask_keep
    pristine = snap.store.from_scenario
    if lines is not None:
        lines.begin(snap.store, salt)
    keep: Callable[[object, Callable[[], Any]], Any] = lines.line if lines else _made
    document = {
        "format": FORMAT,
        "version": VERSION,
        "writtenAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "scenario": scenario_identity(snap.scenario),
        "salt": salt.hex(),
        "clock": {"offsetMs": snap.offset_ms},
        "credentials": {
            "created": changes.created,
            "records": [
                keep(cred, partial(_credential_json, cred, salt, pristine, mask_keep))
                for cred in changes.records
            ],
            "rotatedAway": [
                [venue, _key_digest(key, venue, salt)] for venue, key in changes.rotated_away
            ],
            "loggedOutTokens": [fingerprint(salt, token) for token in changes.logged_out],
        },
        "tradingAccounts": {
            "connects": snap.connects,
            "records": [
                keep(account, partial(_account_json, account, salt)) for account in snap.accounts
            ],
            "operations": [
                keep(op, partial(fmt.record_json, fmt.ACCOUNT_OPERATION, op))
                for op in snap.operations
            ],
        },
        "sessions": {
            "issued": snap.issued,
            "tokens": [fmt.record_json(fmt.ISSUED_TOKEN, token) for token in snap.tokens],
        },
        "users": {
            "signups": changes.signups,
            "records": [_user_json(user, snap.store, salt) for user in changes.users],
        },
        "market": snap.market,
    }
    if snap.trading:
        document["trading"] = snap.trading
    if lines is not None:
        lines.end()
    return document


def _user_json(user: User, store: Store, salt: bytes) -> dict[str, Any]:
    """A user signup added or PUT /auth/user changed: the password as a fingerprint."""
    held = store.users.password_marker(user, salt)
    fingerprint_hex = held.removeprefix(MARKER) if held is not None else None
    return fmt.record_json(fmt.USER, user, passwordFingerprint=fingerprint_hex)


def _users(read: _Reader, document: Mapping[str, Any], state: MockState) -> tuple[int, list[User]]:
    """The state file's users (none in a file written before signup existed)."""
    if "users" not in document:
        return 0, []
    part = read.get(document, "users", dict, "document")
    users: list[User] = []
    for place, obj in read.items(part, "records", "users"):
        values = read.values(fmt.USER, obj, place)
        held = values.pop("passwordFingerprint")
        pristine = state.store.users.pristine.get(values["user_id"])
        users.append(
            User(
                **values,
                password=marker(held) if held is not None else None,
                # a scenario user keeps its static tokens (ended ones are loggedOutTokens)
                tokens=pristine.tokens if pristine else (),
                expired_tokens=pristine.expired_tokens if pristine else (),
            )
        )
    emails = [u.email.lower() for u in users]
    if len(set(emails)) != len(emails):
        raise read.fail("users.records", "two users with one email")
    return read.get(part, "signups", int, "users"), users


def _made(record: object, make: Callable[[], Any]) -> Any:
    return make()


def _account_json(account: TradingAccount, salt: bytes) -> dict[str, Any]:
    venue_account_hex = _venue_account_json(account.venue_account, salt)
    return fmt.record_json(fmt.TRADING_ACCOUNT, account, venueAccount=venue_account_hex)


# ----------------------------------------------------------------- document -> state


class _Reader:
    """Typed access to a parsed document; every problem names its place in the file."""

    def __init__(self, where: str, version: int = VERSION) -> None:
        self.where = where
        self.version = version  # of the file: keys added since are not in it

    def fail(self, place: str, problem: str) -> StateFileError:
        return StateFileError(
            f"{self.where}: {place}: {problem}; the file is damaged (restore it from a backup, "
            "or move it away to start from the scenario)"
        )

    def get(self, obj: Any, key: str, kinds: type | tuple[type, ...], place: str) -> Any:
        if not isinstance(obj, dict):
            raise self.fail(place, "expected an object")
        if key not in obj:
            raise self.fail(f"{place}.{key}", "missing")
        value = obj[key]
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        # bool is an int in Python; a count or a time given as true is still wrong.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise self.fail(f"{place}.{key}", f"expected {names}")
        # Every number the file holds is a time in ms or a count: a time past the year 9999
        # could not be shown (the ISO twins), and neither could a count that large.
        if type(value) is int and not 0 <= value <= LAST_MS:
            raise self.fail(f"{place}.{key}", f"expected a whole number from 0 to {LAST_MS}")
        return value

    def items(self, obj: Any, key: str, place: str) -> list[tuple[str, Any]]:
        values: list[Any] = self.get(obj, key, list, place)
        return [(f"{place}.{key}[{i}]", value) for i, value in enumerate(values)]

    def values(self, keys: tuple[fmt.Key, ...], obj: Any, place: str) -> dict[str, Any]:
        """A record's values by attribute (by key for keys without one), each type-checked
        as its row says; a key newer than the file, its row's default."""
        values: dict[str, Any] = {}
        for key in keys:
            if self.version < key.since and isinstance(obj, dict) and key.name not in obj:
                value = key.default
            else:
                value = self.get(obj, key.name, key.kinds, place)
            if isinstance(value, list):
                if not all(isinstance(v, str) for v in value):
                    raise self.fail(f"{place}.{key.name}", "expected a list of strings")
                value = tuple(value)
            values[key.attr or key.name] = value
        return values

    def record(self, cls: type[T], keys: tuple[fmt.Key, ...], obj: Any, place: str) -> T:
        """A record whose every key holds an attribute, as is."""
        return cls(**self.values(keys, obj, place))


def read_document(path: Path) -> dict[str, Any] | None:
    """The parsed state file, None if there is none; StateFileError for one that is not
    ours (corrupt, foreign, another version)."""
    where = f"state file {path}"
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None  # none yet (a place that cannot hold one is `check_writable`'s to say)
    except IsADirectoryError:
        raise StateFileError(f"{where}: is a folder; give the path of a file in it") from None
    except OSError as exc:
        raise StateFileError(f"{where}: cannot be read: {exc.strerror or exc}") from None
    advice = "move it away (or use another state file) to start from the scenario"
    try:
        document = decode_json(data)
    except JsonLimitError as exc:
        at = f"line {exc.line}, column {exc.column}: " if exc.line is not None else ""
        raise StateFileError(
            f"{where}: {at}{exc.problem}, which no state file holds; it was edited or is not "
            f"a state file; {advice}"
        ) from None
    except UnicodeDecodeError:
        raise StateFileError(
            f"{where}: not a cadenza-mock state file (not text); {advice}"
        ) from None
    except json.JSONDecodeError as exc:
        raise StateFileError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            f"it may have been cut short or edited; {advice}"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateFileError(
            f'{where}: not a cadenza-mock state file (no "format": "{FORMAT}"); {advice}'
        )
    version = document.get("version")
    if type(version) is not int or not fmt.FIRST_VERSION <= version <= VERSION:
        raise StateFileError(
            f"{where}: state file version {version!r}, this cadenza-mock reads "
            f"{fmt.readable()}; use the cadenza-mock that wrote it, or {advice}"
        )
    return fmt.upgrade(document, version)


def check_scenario(document: Mapping[str, Any], scenario: Scenario, where: str) -> None:
    """StateFileError unless the document was written for this scenario."""
    theirs = document.get("scenario")
    ours = scenario_identity(scenario)
    if theirs != ours:
        shown = _describe(theirs) if isinstance(theirs, dict) else "an unnamed scenario"
        raise StateFileError(
            f"{where}: written for scenario {shown}, not {_describe(ours)}; serve that "
            "scenario to keep its state, or use another state file to start afresh"
        )


def restore(state: MockState, document: Mapping[str, Any], where: str = "state file") -> None:
    """Put the state a document describes back into `state` (its scenario as loaded, then
    the document's changes). Everything is checked before anything changes: StateFileError
    leaves `state` as it was."""
    check_scenario(document, state.scenario, where)
    version = document.get("version", VERSION)
    read = _Reader(where, version if isinstance(version, int) else VERSION)
    # As written: SALT_BYTES random bytes in hex. An empty or short salt would make every
    # fingerprint easy to guess, or (empty) equal for values that differ.
    salt_hex = read.get(document, "salt", str, "document")
    if not _SALT.fullmatch(salt_hex):
        raise read.fail("document.salt", f"expected {2 * SALT_BYTES} hex digits")
    salt = bytes.fromhex(salt_hex)
    offset = read.get(read.get(document, "clock", dict, "document"), "offsetMs", int, "clock")
    if offset > state.clock.offset_ms + state.clock.room_ms():  # the offset replaces its own
        raise read.fail("clock.offsetMs", "moves the clock past the year 9999")
    part = read.get(document, "credentials", dict, "document")
    signups, restored_users = _users(read, document, state)
    changes = dataclasses.replace(
        _credential_changes(read, part, state, salt), signups=signups, users=restored_users
    )
    accounts_part = read.get(document, "tradingAccounts", dict, "document")
    resolve = _venue_accounts(state, salt)
    accounts = []
    for place, obj in read.items(accounts_part, "records", "tradingAccounts"):
        values = read.values(fmt.TRADING_ACCOUNT, obj, place)
        held_account = values.pop("venueAccount")
        accounts.append(TradingAccount(**values, venue_account=resolve(held_account)))
    operations = [
        read.record(AccountOperation, fmt.ACCOUNT_OPERATION, obj, place)
        for place, obj in read.items(accounts_part, "operations", "tradingAccounts")
    ]
    connects = read.get(accounts_part, "connects", int, "tradingAccounts")
    sessions_part = read.get(document, "sessions", dict, "document")
    tokens = [
        read.record(IssuedToken, fmt.ISSUED_TOKEN, obj, place)
        for place, obj in read.items(sessions_part, "tokens", "sessions")
    ]
    issued = read.get(sessions_part, "issued", int, "sessions")
    users = {*state.store.users.pristine, *(u.user_id for u in restored_users)}
    for owner in [*(a.user_id for a in accounts), *(o.user_id for o in operations)]:
        if owner not in users:
            raise read.fail("tradingAccounts", f"user {owner!r} is not in the scenario")
    for token in tokens:
        if token.user_id not in users:
            raise read.fail("sessions", f"user {token.user_id!r} is not in the scenario")
    records = {c.credential_id.lower() for c in changes.records}
    for account in accounts:
        for cid in account.credential_ids:
            if cid.lower() not in records and not state.store.from_scenario(cid):
                raise read.fail("tradingAccounts", f"credential {cid} is in no record")
    market = read_market(read, document, state.store.market)
    apply_trading = read_trading(
        document.get("trading"), state.store.trading, read.fail, read.version
    )
    # Checked; from here on nothing fails.
    store = state.store
    try:
        store.apply(changes, salt)
    except ValueError as exc:
        raise read.fail("credentials", str(exc)) from None
    store.accounts.apply(connects, accounts, operations)
    store.sessions.restore(salt, issued, tokens)
    state.clock.offset_ms = offset
    if market is not None:
        market.apply(store.market)
    if apply_trading is not None:
        apply_trading()


def _strings(read: _Reader, obj: Any, key: str, place: str) -> list[str]:
    values = read.get(obj, key, list, place)
    if not all(isinstance(v, str) for v in values):
        raise read.fail(f"{place}.{key}", "expected a list of strings")
    return list(values)


def _venue_accounts(state: MockState, salt: bytes) -> Callable[[str], str]:
    """Maps a venue account's fingerprint back to the account: a scenario record's (so that
    keys a user added again after a restart still reach the scenario's accounts), or, for a
    key only requests gave, the marker itself (the same on every record that held it)."""
    known: dict[str, str] = {}

    def resolve(digest: str) -> str:
        if not known:  # built once, and only for a file that names any venue account
            for cred in state.scenario.credentials:
                account = venue_account(cred)
                known[fingerprint(salt, "venueAccount", account)] = account
        return known.get(digest, marker(digest))

    return resolve


def _credential_changes(read: _Reader, part: Any, state: MockState, salt: bytes) -> StoreChanges:
    scenario = state.scenario
    store = state.store
    resolve = _venue_accounts(state, salt)
    records: list[Credential] = []
    for place, obj in read.items(part, "records", "credentials"):
        values = read.values(fmt.CREDENTIAL, obj, place)
        cid = values["credential_id"]
        key = values.pop("keyFingerprint")
        masked = values.pop("apiKey")
        if key is not None and not masked.endswith("***"):
            raise read.fail(f"{place}.apiKey", "expected a masked key (ending in ***)")
        secret = values.pop("secretFingerprint")
        passphrase = values.pop("passphraseFingerprint")
        held_account = values.pop("venueAccount")
        original = store.find(cid) if store.from_scenario(cid) else None
        if original is not None:
            account = venue_account(original)
        elif held_account is not None:
            account = resolve(held_account)
        else:
            raise read.fail(f"{place}.venueAccount", "missing for a created credential")
        records.append(
            Credential(
                **values,
                api_key=marker(key) if key is not None else "",
                api_secret=marker(secret) if secret is not None else None,
                api_passphrase=marker(passphrase) if passphrase is not None else None,
                pasted_masked_key=masked if key is not None else None,
                venue_account=account,
            )
        )
        enums = scenario.enums
        if records[-1].status not in enums.statuses or records[-1].venue not in enums.venues:
            raise read.fail(place, f"status or venue not of the {scenario.profile} profile")
    rotated: list[tuple[str, str]] = []
    for place, pair in read.items(part, "rotatedAway", "credentials"):
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise read.fail(place, "expected [venue, keyFingerprint]")
        rotated.append((pair[0], marker(pair[1])))
    static = {
        fingerprint(salt, token): token
        for user in scenario.users
        for token in (*user.tokens, *user.expired_tokens)
    }
    logged_out = []
    for digest in _strings(read, part, "loggedOutTokens", "credentials"):
        if digest not in static:
            raise read.fail("credentials.loggedOutTokens", "a token that is not in the scenario")
        logged_out.append(static[digest])
    created = read.get(part, "created", int, "credentials")
    return StoreChanges(records, created, rotated, logged_out)

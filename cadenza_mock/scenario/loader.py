"""YAML scenario files -> validated `Scenario` objects.

Resolution: a Mapping is an inline scenario, a name without a path separator or `.yaml`
suffix is a bundled scenario, anything else is a file path. `extends` is merged at the
node level so that problems in either file keep their own file:line:column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from cadenza_mock.errors import ScenarioError, ScenarioIssue
from cadenza_mock.model import PROFILE_NAMES, PROFILES, Credential, ProfileEnums, User
from cadenza_mock.scenario import generate as gen
from cadenza_mock.scenario.nodes import (
    Problems,
    compose,
    describe,
    enum,
    items,
    join,
    mapping,
    scalar,
    string_list,
    suggest,
    value,
)
from cadenza_mock.wire import DEFAULT_MASK_KEEP

TOP_KEYS = ("description", "seed", "now", "extends", "profile", "mask_keep", "users", "faults")
USER_KEYS = ("id", "email", "password", "role", "tokens", "expired_tokens", "credentials")
RECORD_KEYS = (
    "credentialId",
    "userId",
    "venue",
    "name",
    "nickname",
    "type",
    "credentialType",
    "apiKey",
    "apiSecret",
    "apiPassphrase",
    "status",
    "createdAt",
    "updatedAt",
    "revokedAt",
    "createdAtDateTime",
    "updatedAtDateTime",
    "revokedAtDateTime",
    "keys_valid",
)
GENERATE_KEYS = ("generate", "venue", "type", "status", "keys_valid")
# Keys that mean the same field in the two profiles' vocabularies.
_ALIASES = {"nickname": "name", "credentialType": "type"}
# One load builds at most this many credentials (generated and explicit): a bound on the
# memory and time one scenario (or one admin call) can ask for.
MAX_CREDENTIALS = 200_000


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: everything the store needs to build its pristine state."""

    name: str
    description: str = ""
    source: str | None = None  # file path, or None for inline/bundled-by-dict
    seed: int = 0
    now: int | None = None  # frozen clock, ms since the epoch
    profile: str = "docs"
    mask_keep: int = DEFAULT_MASK_KEEP
    users: tuple[User, ...] = ()
    credentials: tuple[Credential, ...] = ()
    faults: tuple[dict[str, Any], ...] = ()
    extends: tuple[str, ...] = field(default=())  # chain of base scenarios, nearest first

    @property
    def enums(self) -> ProfileEnums:
        return PROFILES[self.profile]

    @property
    def token(self) -> str | None:
        """The first valid token of the first user: what `serve` prints and fixtures use."""
        for user in self.users:
            if user.tokens:
                return user.tokens[0]
        return None


# --------------------------------------------------------------------------- sources


def bundled_dir() -> Path:
    """Bundled scenarios: inside the wheel, or the repository's `scenarios/` in a checkout."""
    packaged = Path(__file__).resolve().parent.parent / "_bundled"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "scenarios"


def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def bundled_descriptions() -> list[tuple[str, str]]:
    result = []
    for name in bundled_names():
        text = (bundled_dir() / f"{name}.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        result.append((name, str(data.get("description", "")).strip()))
    return result


def is_bundled_name(source: str) -> bool:
    """`"revoked"` names a bundled scenario; anything with a slash or a YAML suffix is a path."""
    return "/" not in source and "\\" not in source and not source.endswith((".yaml", ".yml"))


# The one answer for a source outside what the caller may read: it says neither whether
# the path exists nor anything of its content.
NOT_ALLOWED = (
    "scenario not allowed: load a bundled name or a file inside the server's scenario "
    "folder(s) (see --scenario-dir)"
)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Confinement:
    """Where a scenario named by someone outside the process (the admin API) may be read:
    bundled scenarios and files under `roots`, after resolving symlinks and `..`."""

    roots: tuple[Path, ...] = ()

    @classmethod
    def of(cls, folders: Iterable[str | Path]) -> Confinement:
        return cls(tuple(Path(folder).expanduser().resolve() for folder in folders))

    def admits(self, path: Path) -> bool:
        try:
            real = path.resolve()
        except (OSError, ValueError, RuntimeError):
            return False
        return any(real.is_relative_to(root) for root in (*self.roots, bundled_dir().resolve()))


def _refused() -> ScenarioError:
    return ScenarioError([ScenarioIssue("<scenario>", 0, 0, NOT_ALLOWED)])


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # ENAMETOOLONG, an embedded NUL...
        return False


def _resolve(
    source: str | Path, relative_to: Path | None, confined: Confinement | None
) -> tuple[Path, str]:
    """(file, display name) for a bundled name or a path; ScenarioError if neither exists,
    or if `confined` does not admit it (one fixed answer, whatever the path)."""
    text = str(source)
    if isinstance(source, str) and is_bundled_name(text):
        if confined is not None and not _NAME_RE.fullmatch(text):
            raise _refused()
        path = bundled_dir() / f"{text}.yaml"
        if _is_file(path):
            return path, text
        if confined is None:
            candidates = [(relative_to / text) if relative_to else Path(text)]
        else:
            folders = list(confined.roots) if relative_to is None else [relative_to]
            candidates = [
                folder / f"{text}{ext}" for folder in folders for ext in (".yaml", ".yml")
            ]
        for candidate in candidates:
            if _is_file(candidate) and (confined is None or confined.admits(candidate)):
                return candidate, str(candidate)
        message = f"no bundled scenario {text!r}{suggest(text, bundled_names())}"
        raise ScenarioError([ScenarioIssue(text, 0, 0, message)])
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # `~nobody/...`: no such home
        path = Path(text)
    if not path.is_absolute():
        base = relative_to
        if base is None and confined is not None:
            if not confined.roots:
                raise _refused()
            base = confined.roots[0]
        if base is not None:
            path = base / path
    if confined is not None and not confined.admits(path):
        raise _refused()
    if not _is_file(path):
        raise ScenarioError([ScenarioIssue(str(path), 0, 0, "no such scenario file")])
    return path, str(path)


def _merge(base: yaml.MappingNode, child: yaml.MappingNode) -> yaml.MappingNode:
    """The child's keys replace the base's, except `users` and `faults`, which are appended."""
    merged: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in base.value:
        merged[str(key_node.value)] = (key_node, value_node)
    for key_node, value_node in child.value:
        key = str(key_node.value)
        old = merged.get(key)
        if (
            key in ("users", "faults")
            and old is not None
            and isinstance(old[1], yaml.SequenceNode)
            and isinstance(value_node, yaml.SequenceNode)
        ):
            value_node = yaml.SequenceNode(
                old[1].tag,
                old[1].value + value_node.value,
                value_node.start_mark,
                value_node.end_mark,
            )
        merged[key] = (key_node, value_node)
    merged.pop("extends", None)
    return yaml.MappingNode(child.tag, list(merged.values()), child.start_mark, child.end_mark)


def _document(
    source: str | Path | Mapping[str, Any] | _Text,
    relative_to: Path | None,
    chain: list[str],
    confined: Confinement | None,
) -> tuple[yaml.Node, str, str | None, list[str]]:
    """The merged root node, the display name, the file path and the `extends` chain."""
    if isinstance(source, _Text):
        text, name, path, here = source.text, source.name, None, relative_to
        identity = name
    elif isinstance(source, Mapping):
        try:
            text = yaml.safe_dump(dict(source), sort_keys=False, allow_unicode=True)
        except yaml.YAMLError:
            message = "not a scenario: values must be plain data (str, int, float, bool, None, "
            raise ScenarioError(
                [ScenarioIssue("<inline>", 0, 0, message + "lists and dicts)")]
            ) from None
        name, path, here = "<inline>", None, relative_to
        identity = name
    else:
        file, name = _resolve(source, relative_to, confined)
        path, here = str(file), file.parent
        # Compare resolved paths: `a.yaml` and `./sub/../a.yaml` are the same file, and a
        # cycle spelled differently each time must not recurse until the path is too long.
        identity = str(file.resolve())
        if identity in chain:
            raise ScenarioError(
                [ScenarioIssue(path, 0, 0, "extends cycle: " + " -> ".join([*chain, identity]))]
            )
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(
                [ScenarioIssue(str(file), 0, 0, "not a scenario: the file is not UTF-8 text")]
            ) from None
        except OSError as exc:
            raise ScenarioError(
                [ScenarioIssue(str(file), 0, 0, f"cannot read: {exc.strerror or exc}")]
            ) from None
    node = compose(text, path or name)
    if node is None:  # an empty file is an empty scenario
        node = yaml.MappingNode("tag:yaml.org,2002:map", [], None, None)
    bases: list[str] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value != "extends":
                continue
            problems = Problems()
            base_source = scalar(value_node, "extends", str, problems)
            if base_source is None:
                raise ScenarioError(problems.issues)
            try:
                base_node, base_name, _, base_chain = _document(
                    base_source, here, [*chain, identity], confined
                )
            except ScenarioError as exc:
                # Problems without a position (missing file, cycle) are reported at this
                # `extends:` line; located ones (YAML errors in the base) keep their own.
                mark = value_node.start_mark
                raise ScenarioError(
                    [
                        issue
                        if issue.line
                        else ScenarioIssue(
                            mark.name, mark.line + 1, mark.column + 1, f"extends: {issue}"
                        )
                        for issue in exc.issues
                    ]
                ) from None
            if isinstance(base_node, yaml.MappingNode):
                node = _merge(base_node, node)
            bases = [base_name, *base_chain]
    return node, name, path, bases


# --------------------------------------------------------------------------- public


def load_scenario(
    source: str | Path | Mapping[str, Any] | Scenario = "default",
    *,
    profile: str | None = None,
    seed: int | None = None,
    confined: Confinement | None = None,
) -> Scenario:
    """Load and validate a scenario; raise ScenarioError listing every problem found.

    `profile` and `seed` override the file's keys (the CLI's --profile and --seed).
    `confined` limits the files it may read, `extends` included: the admin API passes the
    server's scenario folders; code in the process itself may read anything.
    """
    if isinstance(source, Scenario) and profile is None and seed is None:
        return source
    if isinstance(source, Scenario):
        raise TypeError("profile/seed overrides need a scenario source, not a loaded Scenario")
    return _load(source, profile, seed, confined)


def _load(
    source: str | Path | Mapping[str, Any] | _Text,
    profile: str | None,
    seed: int | None,
    confined: Confinement | None,
) -> Scenario:
    """The one way from a source to a Scenario, for files, names, dicts and text alike."""
    if profile is not None and profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r} (allowed: {', '.join(PROFILE_NAMES)})")
    node, name, path, bases = _document(source, None, [], confined)
    problems = Problems()
    scenario = _build(node, name, path, tuple(bases), problems, profile, seed)
    if problems.issues or scenario is None:
        raise ScenarioError(_in_file_order(problems.issues))
    return scenario


def _in_file_order(issues: list[ScenarioIssue]) -> list[ScenarioIssue]:
    """Problems sorted by file and position, as an editor's problem list reads them."""
    return sorted(issues, key=lambda i: (i.file, i.line, i.column))


def validate_file(path: str | Path) -> list[ScenarioIssue]:
    """Every problem in one scenario file (empty list: it is valid)."""
    try:
        load_scenario(Path(path))
    except ScenarioError as exc:
        return exc.issues
    return []


# --------------------------------------------------------------------------- building


_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def is_uuid(text: str) -> bool:
    return bool(_UUID_RE.fullmatch(text))


# Timestamps must stay renderable as ISO-8601 (the sdk twins) with room for the clock to
# move: from 1971 (generated data reaches 400 days back from `now`) to the year 9000.
FIRST_MS = 400 * 86_400_000
LAST_MS = 221_845_392_000_000  # 9000-01-01T00:00:00Z


def _timestamp_ms(node: yaml.Node, path: str, problems: Problems) -> int | None:
    """Integer ms, or an ISO-8601 string / YAML timestamp (UTC unless it says otherwise)."""
    raw = value(node) if isinstance(node, yaml.ScalarNode) else None
    result: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        result = raw
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raw = None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        raw = datetime(raw.year, raw.month, raw.day)
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raw = raw.replace(tzinfo=UTC)
        result = int(raw.timestamp() * 1000)
    if result is None:
        problems.add(
            node,
            path,
            "expected milliseconds since the epoch or an ISO-8601 time like 2026-01-15T12:00:00Z",
        )
        return None
    if not FIRST_MS <= result <= LAST_MS:
        problems.add(node, path, "out of range: give a time between 1971 and 9000")
        return None
    return result


def _secret(node: yaml.Node, path: str, problems: Problems) -> str | None:
    """A secret string (apiKey, apiSecret, apiPassphrase, password): like `scalar`, but a
    wrong value is never quoted back, since error messages reach logs and HTTP clients."""
    if isinstance(node, yaml.ScalarNode):
        result = value(node)
        if isinstance(result, str):
            return result
        problems.add(
            node, path, f"expected str, got {type(result).__name__} (value not shown: a secret)"
        )
        return None
    problems.add(node, path, f"expected str, got {describe(node)}")
    return None


class _Builder:
    """State shared while building one scenario: uniqueness checks across users."""

    def __init__(
        self, problems: Problems, enums: ProfileEnums, seed: int, reference_ms: int
    ) -> None:
        self.problems = problems
        self.enums = enums
        self.seed = seed
        self.reference_ms = reference_ms
        self.tokens: set[str] = set()
        self.emails: set[str] = set()
        self.user_ids: set[str] = set()
        self.credential_ids: set[str] = set()

    def user(self, node: yaml.Node, path: str, index: int) -> tuple[User, list[Credential]] | None:
        fields = mapping(node, path, USER_KEYS, self.problems)
        if fields is None:
            return None
        rng = gen.rng_for(self.seed, "user", index)
        user_id = gen.uuid4_from(rng)
        if "id" in fields:
            given = scalar(fields["id"], join(path, "id"), str, self.problems)
            if given is not None and not is_uuid(given):
                self.problems.add(fields["id"], join(path, "id"), f"expected a UUID, got {given!r}")
            user_id = given or user_id
        if user_id in self.user_ids:
            self.problems.add(
                fields.get("id", node), join(path, "id"), f"user id {user_id} given twice"
            )
        self.user_ids.add(user_id)

        # Generated only when absent: it needs Faker, whose import costs ~180 ms of start-up.
        email = None
        if "email" in fields:
            email = scalar(fields["email"], join(path, "email"), str, self.problems)
        if email is None:
            email = gen.email(gen.rng_for(self.seed, "user", index, "email"))
        elif "@" not in email:
            self.problems.add(
                fields["email"], join(path, "email"), f"not an email address: {email!r}"
            )
        if email.lower() in self.emails:
            self.problems.add(
                fields.get("email", node), join(path, "email"), f"email {email!r} used by two users"
            )
        self.emails.add(email.lower())

        password = None
        if "password" in fields:
            password = _secret(fields["password"], join(path, "password"), self.problems)
        role = "authenticated"
        if "role" in fields:
            role = scalar(fields["role"], join(path, "role"), str, self.problems) or role

        tokens = self._tokens(fields, path, "tokens")
        expired = self._tokens(fields, path, "expired_tokens")
        if "tokens" not in fields:
            tokens = [gen.token(gen.rng_for(self.seed, "user", index, "token"))]

        user = User(
            user_id=user_id,
            email=email,
            password=password,
            tokens=tuple(tokens),
            expired_tokens=tuple(expired),
            role=role,
            created_at=self.reference_ms - 400 * gen.DAY_MS,
        )
        credentials: list[Credential] = []
        if "credentials" in fields:
            cred_path = join(path, "credentials")
            for entry_index, entry in items(fields["credentials"], cred_path, self.problems):
                credentials.extend(
                    self.credential_entry(
                        entry, join(cred_path, entry_index), user, index, entry_index
                    )
                )
        seen_keys: dict[tuple[str, str], str] = {}
        for cred in credentials:
            if cred.api_key.endswith("***"):
                continue  # pasted masked keys cannot be compared
            previous = seen_keys.setdefault((cred.venue, cred.api_key), cred.credential_id)
            if previous != cred.credential_id:
                self.problems.add(
                    fields.get("credentials"),
                    join(path, "credentials"),
                    f"two credentials of this user share one {cred.venue} apiKey "
                    f"({previous} and {cred.credential_id}); the API rejects that (409)",
                )
        return user, credentials

    def _tokens(self, fields: dict[str, yaml.Node], path: str, key: str) -> list[str]:
        if key not in fields:
            return []
        result = []
        for text, item in string_list(fields[key], join(path, key), self.problems):
            if not text.strip():
                self.problems.add(item, join(path, key), "a token cannot be empty")
            elif text in self.tokens:
                self.problems.add(
                    item,
                    join(path, key),
                    f"token {text!r} is given twice (tokens must be unique across users)",
                )
            else:
                self.tokens.add(text)
                result.append(text)
        return result

    def _choice(self, node: yaml.Node, path: str, choices: tuple[str, ...], what: str) -> Any:
        """A fixed value, a list to choose from, or a {value: weight} mapping."""
        if isinstance(node, yaml.SequenceNode):
            picked = [
                enum(item, join(path, i), choices, self.problems, what)
                for i, item in enumerate(node.value)
            ]
            if not picked:
                self.problems.add(node, path, "an empty list leaves nothing to choose from")
            return picked if picked and None not in picked else None
        if isinstance(node, yaml.MappingNode):
            weights: dict[str, float] = {}
            for key_node, weight_node in node.value:
                key = enum(key_node, path, choices, self.problems, what)
                weight = scalar(
                    weight_node, join(path, str(key_node.value)), (int, float), self.problems
                )
                if weight is not None and weight < 0:
                    self.problems.add(
                        weight_node, join(path, str(key_node.value)), "a weight cannot be negative"
                    )
                    weight = None
                if key is None or weight is None:
                    return None
                weights[key] = weight
            if not weights or sum(weights.values()) <= 0:
                self.problems.add(node, path, "weights must add up to more than 0")
                return None
            return weights
        return enum(node, path, choices, self.problems, what)

    def credential_entry(
        self, node: yaml.Node, path: str, user: User, user_index: int, entry_index: int
    ) -> list[Credential]:
        if isinstance(node, yaml.MappingNode) and any(k.value == "generate" for k, _ in node.value):
            return self._generated(node, path, user, user_index, entry_index)
        record = self._explicit(node, path, user, user_index, entry_index)
        return [record] if record is not None else []

    def _generated(
        self, node: yaml.Node, path: str, user: User, user_index: int, entry_index: int
    ) -> list[Credential]:
        fields = mapping(node, path, GENERATE_KEYS, self.problems)
        if fields is None:
            return []
        count = scalar(fields["generate"], join(path, "generate"), int, self.problems)
        if count is not None and count < 0:
            self.problems.add(fields["generate"], join(path, "generate"), "cannot be negative")
            count = None
        e = self.enums
        venue: Any = (
            list(e.venues[:5])
            if "venue" not in fields
            else self._choice(fields["venue"], join(path, "venue"), e.venues, "venue")
        )
        ctype: Any = (
            e.default_type
            if "type" not in fields
            else self._choice(fields["type"], join(path, "type"), e.types, "type")
        )
        status: Any = (
            "ACTIVE"
            if "status" not in fields
            else self._choice(fields["status"], join(path, "status"), e.statuses, "status")
        )
        keys_valid = True
        if "keys_valid" in fields:
            keys_valid = scalar(fields["keys_valid"], join(path, "keys_valid"), bool, self.problems)
        if count is None or venue is None or ctype is None or status is None or keys_valid is None:
            return []
        records = []
        for n in range(count):
            rng = gen.rng_for(self.seed, "user", user_index, "credential", entry_index, n)
            records.append(
                self._make(
                    rng,
                    user,
                    gen.pick(rng, venue),
                    gen.pick(rng, ctype),
                    gen.pick(rng, status),
                    keys_valid,
                )
            )
        return records

    def _make(
        self,
        rng: Any,
        user: User,
        venue: str,
        ctype: str,
        status: str,
        keys_valid: bool,
        **given: Any,
    ) -> Credential:
        """One record: generated values unless `given` overrides them."""
        credential_id = given.get("credential_id") or gen.uuid4_from(rng)
        created, updated = gen.timestamps(rng, self.reference_ms)
        revoked = given.get("revoked_at")
        # Generated stamps bend around given ones so a partial record stays consistent:
        # createdAt <= updatedAt <= revokedAt, and revoking sets updatedAt = revokedAt.
        if "updated_at" in given:
            updated = given["updated_at"]
        elif revoked is not None:
            updated = revoked
        if "created_at" in given:
            created = given["created_at"]
            if "updated_at" not in given and revoked is None:
                updated = max(updated, created)
        else:
            created = min(created, updated)
        if status == self.enums.revoked_status and revoked is None:
            revoked = updated
        self.credential_ids.add(credential_id)
        return Credential(
            credential_id=credential_id,
            user_id=user.user_id,
            venue=venue,
            name=given.get("name") or gen.credential_name(rng, venue),
            type=ctype,
            api_key=given.get("api_key") or gen.api_key(rng, venue),
            status=status,
            created_at=created,
            updated_at=updated,
            revoked_at=revoked,
            api_secret=given.get("api_secret") or gen.api_secret(rng, venue),
            api_passphrase=given.get("api_passphrase")
            or (gen.passphrase(rng) if venue in self.enums.passphrase_venues else None),
            keys_valid=keys_valid,
            pasted_masked_key=pasted
            if (pasted := given.get("api_key") or "").endswith("***")
            else None,
        )

    def _explicit(
        self, node: yaml.Node, path: str, user: User, user_index: int, entry_index: int
    ) -> Credential | None:
        fields = mapping(node, path, RECORD_KEYS, self.problems)
        if fields is None:
            return None
        p = self.problems
        ok = True
        for alias, canonical in _ALIASES.items():
            if alias in fields and canonical in fields:
                p.add(
                    fields[alias], join(path, alias), f"give {alias!r} or {canonical!r}, not both"
                )
                ok = False
            elif alias in fields:
                fields[canonical] = fields.pop(alias)
        if "venue" not in fields:
            p.add(node, path, "a credential needs a venue (or `generate: N` to make several)")
            return None
        e = self.enums
        venue = enum(fields["venue"], join(path, "venue"), e.venues, p, "venue")
        ctype = e.default_type
        if "type" in fields:
            ctype = enum(fields["type"], join(path, "type"), e.types, p, "type")
        status = "ACTIVE"
        if "status" in fields:
            status = enum(fields["status"], join(path, "status"), e.statuses, p, "status")
        given: dict[str, Any] = {}
        for key, attr in (
            ("name", "name"),
            ("apiKey", "api_key"),
            ("apiSecret", "api_secret"),
            ("apiPassphrase", "api_passphrase"),
        ):
            if key in fields:
                text = (
                    scalar(fields[key], join(path, key), str, p)
                    if key == "name"
                    else _secret(fields[key], join(path, key), p)
                )
                if text is not None and not text:
                    p.add(fields[key], join(path, key), "cannot be empty")
                    text = None
                ok = ok and text is not None
                given[attr] = text
        if "credentialId" in fields:
            cid = scalar(fields["credentialId"], join(path, "credentialId"), str, p)
            if cid is not None and not is_uuid(cid):
                p.add(
                    fields["credentialId"],
                    join(path, "credentialId"),
                    f"expected a UUID, got {cid!r}",
                )
                cid = None
            elif cid is not None and cid in self.credential_ids:
                p.add(
                    fields["credentialId"],
                    join(path, "credentialId"),
                    f"credentialId {cid} given twice",
                )
                cid = None
            ok = ok and cid is not None
            given["credential_id"] = cid
        if "userId" in fields:
            owner = scalar(fields["userId"], join(path, "userId"), str, p)
            if owner is not None and owner != user.user_id:
                p.add(
                    fields["userId"],
                    join(path, "userId"),
                    f"userId {owner!r} differs from the user it is listed under ({user.user_id})",
                )
                ok = False
        for key, attr in (
            ("createdAt", "created_at"),
            ("updatedAt", "updated_at"),
            ("revokedAt", "revoked_at"),
        ):
            # A pasted sdk record carries ISO twins (createdAtDateTime...): they count as
            # the same field, and must agree with the integer one when both are given.
            twin = key + "DateTime"
            stamps = {}
            for name in (key, twin):
                if name in fields and value(fields[name]) is not None:
                    stamps[name] = _timestamp_ms(fields[name], join(path, name), p)
            if not stamps:
                continue
            if None in stamps.values():
                ok = False
                continue
            if len(set(stamps.values())) > 1:
                p.add(fields[twin], join(path, twin), f"{twin} and {key} disagree")
                ok = False
                continue
            given[attr] = next(iter(stamps.values()))
        keys_valid = True
        if "keys_valid" in fields:
            keys_valid = scalar(fields["keys_valid"], join(path, "keys_valid"), bool, p)
        if venue is None or ctype is None or status is None or keys_valid is None or not ok:
            return None
        if (
            venue in e.passphrase_venues
            and "api_passphrase" not in given
            and ("api_key" in given or "api_secret" in given)
        ):
            p.add(
                node,
                path,
                f"{venue} credentials need an apiPassphrase besides apiKey and apiSecret",
            )
            return None
        rng = gen.rng_for(self.seed, "user", user_index, "credential", entry_index, 0)
        record = self._make(rng, user, venue, ctype, status, keys_valid, **given)
        if record.updated_at < record.created_at:
            p.add(
                fields.get("updatedAt", node),
                join(path, "updatedAt"),
                "updatedAt is before createdAt",
            )
        if record.revoked_at is not None:
            if status != e.revoked_status:
                p.add(
                    fields.get("revokedAt", node),
                    join(path, "revokedAt"),
                    f"revokedAt is set but status is {status}",
                )
            elif record.revoked_at < record.updated_at:
                p.add(fields["revokedAt"], join(path, "revokedAt"), "revokedAt is before updatedAt")
        return record


def _within_bound(users: yaml.Node, problems: Problems) -> bool:
    """At most MAX_CREDENTIALS in all; the `generate:` entry that crosses it is reported."""
    total = 0
    for user in users.value if isinstance(users, yaml.SequenceNode) else ():
        for key, entries in user.value if isinstance(user, yaml.MappingNode) else ():
            if key.value != "credentials" or not isinstance(entries, yaml.SequenceNode):
                continue
            for entry in entries.value:
                count: Any = 1
                for name, count_node in entry.value if isinstance(entry, yaml.MappingNode) else ():
                    if name.value == "generate" and isinstance(count_node, yaml.ScalarNode):
                        count = value(count_node)
                if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                    continue  # reported where the entry is built
                total += count
                if total > MAX_CREDENTIALS:
                    problems.add(
                        entry,
                        "generate",
                        f"a scenario holds at most {MAX_CREDENTIALS} credentials; this entry "
                        f"brings it to {total}",
                    )
                    return False
    return True


def _build(
    node: yaml.Node,
    name: str,
    path: str | None,
    bases: tuple[str, ...],
    problems: Problems,
    profile_override: str | None,
    seed_override: int | None,
) -> Scenario | None:
    if (
        isinstance(node, yaml.MappingNode)
        and node.value
        and not any(isinstance(k, yaml.ScalarNode) and k.value in TOP_KEYS for k, _ in node.value)
    ):
        # No key a scenario has: some other file. Its keys are its content; never quote them.
        problems.add(
            node,
            "",
            f"not a scenario: none of its top-level keys is a scenario key "
            f"(allowed: {', '.join(TOP_KEYS)})",
        )
        return None
    fields = mapping(node, "", TOP_KEYS, problems)
    if fields is None:
        return None
    description = ""
    if "description" in fields:
        description = scalar(fields["description"], "description", str, problems) or ""
    seed = 0
    if "seed" in fields:
        seed = scalar(fields["seed"], "seed", int, problems) or 0
    if seed_override is not None:
        seed = seed_override
    now = None
    if "now" in fields and value(fields["now"]) is not None:
        now = _timestamp_ms(fields["now"], "now", problems)
    profile = "docs"
    if "profile" in fields:
        profile = enum(fields["profile"], "profile", PROFILE_NAMES, problems, "profile") or "docs"
    if profile_override is not None:
        profile = profile_override
    mask_keep = DEFAULT_MASK_KEEP
    if "mask_keep" in fields:
        mask_keep = scalar(fields["mask_keep"], "mask_keep", int, problems) or 0
        if mask_keep < 0:
            problems.add(fields["mask_keep"], "mask_keep", "cannot be negative")
    if "users" in fields and not _within_bound(fields["users"], problems):
        return None  # checked before anything is generated: refusing is instant
    builder = _Builder(
        problems, PROFILES[profile], seed, now if now is not None else gen.REFERENCE_EPOCH_MS
    )
    users: list[User] = []
    credentials: list[Credential] = []
    if "users" in fields:
        for index, user_node in items(fields["users"], "users", problems):
            built = builder.user(user_node, join("users", index), index)
            if built is not None:
                users.append(built[0])
                credentials.extend(built[1])
    faults: list[dict[str, Any]] = []
    if "faults" in fields:
        from cadenza_mock.scenario.faults import parse_fault

        for index, fault_node in items(fields["faults"], "faults", problems):
            fault = parse_fault(fault_node, join("faults", index), problems)
            if fault is not None:
                faults.append(fault)
    return Scenario(
        name=name,
        description=description,
        source=path,
        seed=seed,
        now=now,
        profile=profile,
        mask_keep=mask_keep,
        users=tuple(users),
        credentials=tuple(credentials),
        faults=tuple(faults),
        extends=bases,
    )


def load_scenario_text(
    text: str,
    *,
    name: str = "<request body>",
    profile: str | None = None,
    seed: int | None = None,
    confined: Confinement | None = None,
) -> Scenario:
    """A scenario given as YAML text (the admin API's PUT body); problems cite `name`."""
    return _load(_Text(text, name), profile, seed, confined)


@dataclass(frozen=True)
class _Text:
    """YAML handed over as text rather than as a file or name."""

    text: str
    name: str

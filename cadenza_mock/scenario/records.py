"""Credential records of a scenario: explicit ones (any wire field of either profile) and
`generate: N` entries, each drawn from its own seeded generator."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

import yaml

from cadenza_mock.contract.model import PROFILES, VENUE_OUTCOMES, Credential, ProfileEnums, User
from cadenza_mock.scenario import generate as gen
from cadenza_mock.scenario import keys
from cadenza_mock.scenario.nodes import FIRST_MS as FIRST_MS
from cadenza_mock.scenario.nodes import LAST_MS as LAST_MS
from cadenza_mock.scenario.nodes import (
    Problems,
    enum,
    join,
    mapping,
    read_aliases,
    scalar,
    value,
)
from cadenza_mock.scenario.nodes import secret as secret
from cadenza_mock.scenario.nodes import timestamp_ms as timestamp_ms

RECORD_KEYS = keys.names(keys.CREDENTIAL)
GENERATE_KEYS = keys.generate_names(keys.CREDENTIAL)
# Keys that mean the same field in the two profiles' vocabularies.
_ALIASES = keys.aliases(keys.CREDENTIAL)

_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def is_uuid(text: str) -> bool:
    return bool(_UUID_RE.fullmatch(text))


def elsewhere(enums: ProfileEnums, field: str) -> dict[str, tuple[str, ...]]:
    """The values of one ProfileEnums field (`venues`, `types`...) in the profiles other
    than `enums`, by profile name: what `enum()` needs to say "set `profile: sdk`"."""
    return {name: getattr(other, field) for name, other in PROFILES.items() if other is not enums}


# The profile field behind each enum a credential entry names.
_PROFILE_FIELDS = {"venue": "venues", "type": "types", "status": "statuses"}


def stamps(
    fields: dict[str, yaml.Node],
    path: str,
    problems: Problems,
    keys: Iterable[tuple[str, str]],
    given: dict[str, int],
) -> bool:
    """Timestamps (key, attribute) into `given`, from ms or their ISO twins (`createdAt` or
    `createdAtDateTime`); False if one is wrong."""
    ok = True
    for key, attr in keys:
        # A pasted sdk record carries ISO twins (createdAtDateTime...): they count as
        # the same field, and must agree with the integer one when both are given.
        twin = key + "DateTime"
        found = {}
        for name in (key, twin):
            if name in fields and value(fields[name]) is not None:
                found[name] = timestamp_ms(fields[name], join(path, name), problems)
        if not found:
            continue
        if None in found.values():
            ok = False
            continue
        if len(set(found.values())) > 1:
            problems.add(fields[twin], join(path, twin), f"{twin} and {key} disagree")
            ok = False
            continue
        stamp = next(iter(found.values()))
        assert stamp is not None
        given[attr] = stamp
    return ok


def listed_owner(fields: dict[str, yaml.Node], path: str, user: User, problems: Problems) -> bool:
    """A record's `userId`, if given, must be the user it is listed under (it may be given
    so that pasted records validate)."""
    if "userId" not in fields:
        return True
    owner = scalar(fields["userId"], join(path, "userId"), str, problems)
    if owner is not None and owner != user.user_id:
        problems.add(
            fields["userId"],
            join(path, "userId"),
            f"userId {owner!r} differs from the user it is listed under ({user.user_id})",
        )
        return False
    return True


class RecordBuilder:
    """Builds one scenario's credentials; ids must be unique across all its users."""

    def __init__(
        self, problems: Problems, enums: ProfileEnums, seed: int, reference_ms: int
    ) -> None:
        self.problems = problems
        self.enums = enums
        self.seed = seed
        self.reference_ms = reference_ms
        self.credential_ids: set[str] = set()

    def _enum(self, node: yaml.Node, path: str, choices: tuple[str, ...], what: str) -> Any:
        """`enum()`, telling a value of the other profile's vocabulary apart from a typo."""
        field = _PROFILE_FIELDS.get(what)
        other = elsewhere(self.enums, field) if field is not None else None
        return enum(node, path, choices, self.problems, what, other)

    def _choice(self, node: yaml.Node, path: str, choices: tuple[str, ...], what: str) -> Any:
        """A fixed value, a list to choose from, or a {value: weight} mapping."""
        if isinstance(node, yaml.SequenceNode):
            picked = [
                self._enum(item, join(path, i), choices, what) for i, item in enumerate(node.value)
            ]
            if not picked:
                self.problems.add(node, path, "an empty list leaves nothing to choose from")
            return picked if picked and None not in picked else None
        if isinstance(node, yaml.MappingNode):
            weights: dict[str, float] = {}
            for key_node, weight_node in node.value:
                key = self._enum(key_node, path, choices, what)
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
        return self._enum(node, path, choices, what)

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
        outcome: Any = "ok"
        if "venue_outcome" in fields:
            where = join(path, "venue_outcome")
            outcome = self._choice(fields["venue_outcome"], where, VENUE_OUTCOMES, "venue outcome")
        if (
            count is None
            or venue is None
            or ctype is None
            or status is None
            or keys_valid is None
            or outcome is None
        ):
            return []
        records = []
        prefix = gen.seed_text(self.seed, "user", user_index, "credential", entry_index, "")
        pick_venue, pick_type = gen.byte_picker(venue), gen.byte_picker(ctype)
        pick_status, pick_outcome = gen.byte_picker(status), gen.byte_picker(outcome)
        for n in range(count):
            data = gen.record_bytes(prefix, n)
            draws = gen.record_draws(data)
            records.append(
                self._make_generated(
                    data,
                    draws,
                    user,
                    pick_venue(draws[2]),
                    pick_type(draws[3]),
                    pick_status(draws[4]),
                    keys_valid,
                    pick_outcome(draws[5]),
                )
            )
        return records

    def _make_generated(
        self,
        data: bytes,
        draws: tuple[int, ...],
        user: User,
        venue: str,
        ctype: str,
        status: str,
        keys_valid: bool,
        outcome: str,
    ) -> Credential:
        """One record of a `generate:` block, every value read from its own bytes."""
        credential_id = gen.uuid_from_bytes(data)
        created, updated = gen.timestamps_from_draws(draws[0], draws[1], self.reference_ms)
        self.credential_ids.add(credential_id)
        shape = gen.venue_shape(venue)
        return Credential(
            credential_id=credential_id,
            user_id=user.user_id,
            venue=venue,
            name=shape.name(draws[6], draws[7]),
            type=ctype,
            api_key=shape.api_key(data),
            status=status,
            created_at=created,
            updated_at=updated,
            revoked_at=updated if status == self.enums.revoked_status else None,
            api_secret=shape.api_secret(data),
            api_passphrase=(
                gen.passphrase_from_bytes(data, draws[7])
                if venue in self.enums.passphrase_venues
                else None
            ),
            keys_valid=keys_valid,
            venue_outcome=outcome,
        )

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
        ok = read_aliases(fields, path, _ALIASES, self.problems)
        if "venue" not in fields:
            p.add(node, path, "a credential needs a venue (or `generate: N` to make several)")
            return None
        e = self.enums
        venue = self._enum(fields["venue"], join(path, "venue"), e.venues, "venue")
        ctype: str | None = e.default_type
        if "type" in fields:
            ctype = self._enum(fields["type"], join(path, "type"), e.types, "type")
        status: str | None = "ACTIVE"
        if "status" in fields:
            status = self._enum(fields["status"], join(path, "status"), e.statuses, "status")
        given: dict[str, Any] = {}
        ok = self._texts(fields, path, given) and ok
        ok = self._ids(fields, path, user, given) and ok
        ok = self._stamps(fields, path, given) and ok
        declared, declared_ok = keys.read_declared(keys.CREDENTIAL, fields, path, p)
        if venue is None or ctype is None or status is None or not declared_ok or not ok:
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
        record = self._make(rng, user, venue, ctype, status, declared["keys_valid"], **given)
        # The simple keys (keys.CREDENTIAL's with a reader): what the entry gave, or defaults.
        record = dataclasses.replace(record, **declared)
        self._check_order(record, fields, node, path)
        return record

    def _texts(self, fields: dict[str, yaml.Node], path: str, given: dict[str, Any]) -> bool:
        """name and the secrets into `given`; False if one is wrong (never quoted)."""
        p, ok = self.problems, True
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
                    else secret(fields[key], join(path, key), p)
                )
                if text is not None and not text:
                    p.add(fields[key], join(path, key), "cannot be empty")
                    text = None
                ok = ok and text is not None
                given[attr] = text
        return ok

    def _ids(
        self, fields: dict[str, yaml.Node], path: str, user: User, given: dict[str, Any]
    ) -> bool:
        """credentialId (a new UUID) into `given`; userId must be the listing user's."""
        p, ok = self.problems, True
        if "credentialId" in fields:
            where = join(path, "credentialId")
            cid = scalar(fields["credentialId"], where, str, p)
            if cid is not None and not is_uuid(cid):
                p.add(fields["credentialId"], where, f"expected a UUID, got {cid!r}")
                cid = None
            elif cid is not None and cid in self.credential_ids:
                p.add(fields["credentialId"], where, f"credentialId {cid} given twice")
                cid = None
            ok = cid is not None
            given["credential_id"] = cid
        ok = listed_owner(fields, path, user, p) and ok
        return ok

    def _stamps(self, fields: dict[str, yaml.Node], path: str, given: dict[str, Any]) -> bool:
        """createdAt, updatedAt, revokedAt into `given`, from ms or their ISO twins."""
        keys = (
            ("createdAt", "created_at"),
            ("updatedAt", "updated_at"),
            ("revokedAt", "revoked_at"),
        )
        return stamps(fields, path, self.problems, keys, given)

    def _check_order(
        self, record: Credential, fields: dict[str, yaml.Node], node: yaml.Node, path: str
    ) -> None:
        """createdAt <= updatedAt <= revokedAt, and revokedAt only on a revoked record."""
        p = self.problems
        if record.updated_at < record.created_at:
            p.add(
                fields.get("updatedAt", node),
                join(path, "updatedAt"),
                "updatedAt is before createdAt",
            )
        if record.revoked_at is not None:
            if record.status != self.enums.revoked_status:
                p.add(
                    fields.get("revokedAt", node),
                    join(path, "revokedAt"),
                    f"revokedAt is set but status is {record.status}",
                )
            elif record.revoked_at < record.updated_at:
                p.add(fields["revokedAt"], join(path, "revokedAt"), "revokedAt is before updatedAt")

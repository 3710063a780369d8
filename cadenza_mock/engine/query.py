"""List filters: query parameters -> a normalized, hashable filter, per wire profile."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cadenza_mock.errors import invalid_argument
from cadenza_mock.model import ProfileEnums
from cadenza_mock.scenario import is_uuid


@dataclass(frozen=True, slots=True)
class ListFilter:
    """None means "no filter"; the object is the response cache key, so it is hashable."""

    types: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    credential_ids: frozenset[str] | None = None
    # sdk profile pagination; limit None means every match.
    offset: int = 0
    limit: int | None = None


NO_FILTER = ListFilter()

# Parameter names per profile: (type, status, ids).
_NAMES = {
    "docs": ("type", "status", "credentialIds"),
    "sdk": ("credentialType", "credentialStatus", "credentialIds"),
}


def parse_list_query(
    pairs: Iterable[tuple[str, str]], profile: str, enums: ProfileEnums
) -> ListFilter:
    """Validate list parameters like the real API: 400 naming the parameter and allowed values.

    Unknown parameters are ignored, as the real service ignores them.
    """
    type_name, status_name, ids_name = _NAMES[profile]
    params = pairs_by_name(pairs)
    seen = {k: params[k] for k in (type_name, status_name, ids_name) if k in params}

    def single(name: str, choices: tuple[str, ...]) -> frozenset[str] | None:
        values = seen.get(name)
        if values is None:
            return None
        if len(values) > 1:
            raise invalid_argument(name, "given more than once; pass one value", choices)
        text = values[0].strip()
        if not text:
            raise invalid_argument(name, "must not be empty", choices)
        if text not in choices:
            raise invalid_argument(name, f"unknown value {text!r}", choices)
        return frozenset((text,))

    ids: frozenset[str] | None = None
    # What credentialIds accepts, stated in every one of its errors like the enums are.
    ids_allowed = ("comma-separated UUIDs",)
    if ids_name in seen:
        collected: set[str] = set()
        # docs: one comma-separated value; sdk: the parameter repeated. Both forms are
        # accepted in both profiles, since clients of either shape exist.
        for raw in seen[ids_name]:
            if not raw.strip():
                raise invalid_argument(ids_name, "must not be empty", ids_allowed)
            for part in raw.split(","):
                candidate = part.strip()
                if not candidate:
                    raise invalid_argument(ids_name, f"empty id in {raw!r}", ids_allowed)
                if not is_uuid(candidate):
                    raise invalid_argument(ids_name, f"{candidate!r} is not a UUID", ids_allowed)
                collected.add(candidate.lower())
        ids = frozenset(collected)
    offset, limit = _page(params) if profile == "sdk" else (0, None)
    return ListFilter(
        offset=offset,
        limit=limit,
        types=single(type_name, enums.types),
        statuses=single(status_name, enums.statuses),
        credential_ids=ids,
    )


MAX_LIMIT = 1000
MAX_OFFSET = 10**18 - 1  # 18 digits: what is read of `offset` (the document states it)
_DIGITS = re.compile(r"[0-9]{1,18}")


def pairs_by_name(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, raw in pairs:
        result.setdefault(key, []).append(raw)
    return result


def _page(params: dict[str, list[str]]) -> tuple[int, int | None]:
    """`offset` (>= 0) and `limit` (1 to MAX_LIMIT) of the sdk profile's paginated list."""
    values: dict[str, int] = {}
    for name, lowest, highest in (("offset", 0, MAX_OFFSET), ("limit", 1, MAX_LIMIT)):
        given = params.get(name)
        if given is None:
            continue
        bounds = f"an integer from {lowest} to {highest}"
        if len(given) > 1:
            raise invalid_argument(name, f"given more than once; pass {bounds}")
        text = given[0].strip()
        # ASCII digits only (str.isdigit() also takes '²'), and few enough to convert.
        number = int(text) if _DIGITS.fullmatch(text) else -1
        if number < lowest or (highest and number > highest):
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise invalid_argument(name, f"{shown!r} is not {bounds}")
        values[name] = number
    return values.get("offset", 0), values.get("limit")

"""List filters: query parameters -> a normalized, hashable filter, per wire profile."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cadenza_mock.contract.errors import invalid_argument
from cadenza_mock.contract.model import ProfileEnums
from cadenza_mock.contract.operations import OPERATIONS
from cadenza_mock.contract.query_params import ACCOUNT_PAGE as ACCOUNT_PAGE
from cadenza_mock.contract.query_params import ACCOUNT_STATUS_NAME, CREDENTIAL_FILTERS
from cadenza_mock.contract.query_params import MAX_LIMIT as MAX_LIMIT
from cadenza_mock.contract.query_params import MAX_OFFSET as MAX_OFFSET
from cadenza_mock.scenario import is_uuid


@dataclass(frozen=True, slots=True)
class ListFilter:
    """None means "no filter"; the object is the response cache key, so it is hashable."""

    types: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    credential_ids: frozenset[str] | None = None


NO_FILTER = ListFilter()

# Parameter names per profile: (type, status, ids), declared with the rows.
_NAMES = CREDENTIAL_FILTERS


def parse_list_query(
    pairs: Iterable[tuple[str, str]], profile: str, enums: ProfileEnums
) -> ListFilter:
    """Validate list parameters like the real API: 400 naming the parameter and allowed values.

    Unknown parameters are ignored, as the real service ignores them; so are `limit` and
    `offset`: the credential list does not page in either profile (the official document
    gives it no such parameters), and a hint says so (`IGNORED`).
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
    return ListFilter(
        types=single(type_name, enums.types),
        statuses=single(status_name, enums.statuses),
        credential_ids=ids,
    )


_DIGITS = re.compile(r"[0-9]{1,18}")


def pairs_by_name(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, raw in pairs:
        result.setdefault(key, []).append(raw)
    return result


@dataclass(frozen=True, slots=True)
class Page:
    """offset and limit of a paginated list; limit None means every match."""

    offset: int = 0
    limit: int | None = None

    def cut(self, total: int) -> tuple[int, int]:
        """(start, end) of the page among `total` matches."""
        end = total if self.limit is None else min(total, self.offset + self.limit)
        return min(self.offset, total), end

    def pagination(self, total: int) -> dict[str, object]:
        """The sdk envelope's `pagination`; `cursor` is the next offset, absent on the
        last page (the official document's cursor is a string, never null)."""
        _, end = self.cut(total)
        has_next = end < total
        found: dict[str, object] = {
            "offset": self.offset,
            "limit": self.limit if self.limit is not None else total,
            "total": total,
        }
        if has_next:
            found["cursor"] = str(end)
        found["hasNext"] = has_next
        return found


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """Trading account list filters (engine status names); None means no filter."""

    trading_account_ids: frozenset[str] | None = None
    venues: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    # The official document's userId and tenantId: within the caller's own accounts (a
    # caller sees no other user's), so another user's id or tenant matches nothing.
    user_ids: frozenset[str] | None = None
    tenant_ids: frozenset[str] | None = None
    page: Page = Page()


@dataclass(frozen=True, slots=True)
class OperationFilter:
    """Operation history filters; times are ms since the epoch, both ends included."""

    trading_account_ids: frozenset[str] | None = None
    operation_types: frozenset[str] | None = None
    start: int | None = None
    end: int | None = None
    page: Page = Page()


def _one(
    params: dict[str, list[str]], name: str, allowed_values: tuple[str, ...] | None
) -> str | None:
    """One value of `name`: not repeated, not empty, and one of `allowed_values` if given."""
    values = params.get(name)
    if values is None:
        return None
    if len(values) > 1:
        raise invalid_argument(name, "given more than once; pass one value", allowed_values)
    text = values[0].strip()
    if not text:
        raise invalid_argument(name, "must not be empty", allowed_values)
    if allowed_values is not None and text not in allowed_values:
        raise invalid_argument(name, f"unknown value {text!r}", allowed_values)
    return text


def _text(params: dict[str, list[str]], name: str) -> str | None:
    """A free-text value, taken as given (not stripped): once, and not empty."""
    values = params.get(name)
    if values is None:
        return None
    if len(values) > 1:
        raise invalid_argument(name, "given more than once; pass one value")
    if not values[0]:
        raise invalid_argument(name, "must not be empty")
    return values[0]


def _account_id(
    params: dict[str, list[str]], name: str = "tradingAccountId"
) -> frozenset[str] | None:
    text = _one(params, name, None)
    if text is None:
        return None
    if not is_uuid(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise invalid_argument(name, f"{shown!r} is not a UUID", ("a UUID",))
    return frozenset((text.lower(),))


def _number(params: dict[str, list[str]], name: str, lowest: int, highest: int) -> int | None:
    text = _one(params, name, None)
    if text is None:
        return None
    number = int(text) if _DIGITS.fullmatch(text) else -1
    if not lowest <= number <= highest:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise invalid_argument(name, f"{shown!r} is not an integer from {lowest} to {highest}")
    return number


def _account_page(params: dict[str, list[str]], profile: str, cursor: bool = False) -> Page:
    default, most = ACCOUNT_PAGE[profile]
    offset = _number(params, "offset", 0, MAX_OFFSET)
    # The sdk's `cursor` is the next offset, as `pagination.cursor` gives it; `offset` wins.
    after = _number(params, "cursor", 0, MAX_OFFSET) if cursor else None
    offset = after if offset is None else offset
    limit = _number(params, "limit", 1, most)
    return Page(offset or 0, default if limit is None else limit)


_ACCOUNT_STATUS_NAME = ACCOUNT_STATUS_NAME


def parse_account_query(
    pairs: Iterable[tuple[str, str]], profile: str, enums: ProfileEnums
) -> AccountFilter:
    """GET /tradingAccount/list: tradingAccountId, venue, status (docs) or accountStatus
    (sdk), userId, tenantId, limit and offset. Unknown parameters are ignored, as by the
    real service."""
    params = pairs_by_name(pairs)
    venue = _one(params, "venue", enums.venues)
    status = _one(params, _ACCOUNT_STATUS_NAME[profile], enums.account_statuses)
    tenant = _text(params, "tenantId")
    return AccountFilter(
        trading_account_ids=_account_id(params),
        venues=frozenset((venue,)) if venue else None,
        statuses=frozenset((enums.account_status_in(status),)) if status else None,
        user_ids=_account_id(params, "userId"),
        tenant_ids=frozenset((tenant,)) if tenant is not None else None,
        page=_account_page(params, profile),
    )


def parse_operation_query(
    pairs: Iterable[tuple[str, str]], profile: str, operation_types: tuple[str, ...]
) -> OperationFilter:
    """GET /tradingAccount/operation/list: tradingAccountId, operationType, startTime and
    endTime (ms), limit, offset (or the sdk's cursor)."""
    params = pairs_by_name(pairs)
    kind = _one(params, "operationType", operation_types)
    start = _number(params, "startTime", 0, MAX_OFFSET)
    end = _number(params, "endTime", 0, MAX_OFFSET)
    # An endTime before startTime is an empty range: it matches nothing, like unknown ids.
    return OperationFilter(
        trading_account_ids=_account_id(params),
        operation_types=frozenset((kind,)) if kind else None,
        start=start,
        end=end,
        page=_account_page(params, profile, cursor=True),
    )


def parse_subscription_query(pairs: Iterable[tuple[str, str]]) -> tuple[str | None, Page]:
    """GET /tradingAccount/subscription/list: tradingAccountId, limit (50, at most 1000),
    offset (or cursor, the next offset), as the platform document has them."""
    params = pairs_by_name(pairs)
    ids = _account_id(params)
    return (next(iter(ids)) if ids else None), _account_page(params, "sdk", cursor=True)


Domain = tuple[str, ...] | None

# Names an operation is often given but ignores, with why (a near-miss hint says so): the
# rows' `ignored`.
IGNORED: dict[str, Mapping[str, str]] = {
    op.operation_id: op.ignored for op in OPERATIONS if op.ignored
}


def query_parameters(operation_id: str, profile: str, enums: ProfileEnums) -> dict[str, Domain]:
    """The query parameters an operation (by its id in operations.py) reads in `profile`,
    each with the values it accepts (None: not an enum): its row's query `params`.

    The parsers above read exactly these names (their names and bounds are declared in
    contract/query_params.py); near-miss hints (engine/hints.py) call every other name
    unknown. GET /openapi.json's `profile` is read by its handler (http/meta.py).
    """
    return {
        p.name: _domain(p.domain, enums)
        for p in _BY_ID[operation_id].params_in(profile)
        if p.where == "query"
    }


_BY_ID = {op.operation_id: op for op in OPERATIONS}


def _domain(domain: str | tuple[str, ...] | None, enums: ProfileEnums) -> Domain:
    if isinstance(domain, str):
        values: tuple[str, ...] = getattr(enums, domain)
        return values
    return domain

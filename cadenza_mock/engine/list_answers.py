"""The credential list answers and their caches: the hot path, kept apart from the Store."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cadenza_mock.contract import wire
from cadenza_mock.contract.model import Credential, ProfileEnums, User
from cadenza_mock.engine.auth import bearer_token
from cadenza_mock.engine.query import NO_FILTER, ListFilter, Page, parse_list_query
from cadenza_mock.scenario import Scenario

# Enough for every filter combination a test suite uses; a client that sends endless
# distinct id lists cannot grow memory without bound.
_CACHE_LIMIT = 4096
# A list answer of at least this many records is encoded away from the event loop.
LARGE_LIST = 50_000


@dataclass(frozen=True, slots=True)
class PendingList:
    """A list answer's records, taken on the loop, to encode in a worker thread."""

    user_id: str
    where: ListFilter
    header: str | None
    query_string: str
    version: int
    page: list[Credential]
    pagination: dict[str, Any]
    profile: str
    mask_keep: int

    def encode(self) -> bytes:
        return wire.credential_list_body(self.page, self.profile, self.mask_keep, self.pagination)


class ListAnswers:
    """The Store's list calls: serialized once per user and filter, remembered by request."""

    scenario: Scenario
    profile: str
    enums: ProfileEnums
    _static_tokens: dict[str, tuple[User, bool]]
    _version: int
    _list_cache: dict[tuple[str, ListFilter], bytes]
    _list_hits: dict[tuple[str, str], tuple[str, bytes]]

    if TYPE_CHECKING:

        def user_for_token(self, header: str | None) -> User: ...

        def credentials_of(self, user_id: str, where: ListFilter = ...) -> list[Credential]: ...

    def list_answer(
        self,
        header: str | None,
        query_string: str,
        pairs: Callable[[], Iterable[tuple[str, str]]],
    ) -> tuple[str, bytes]:
        """(user id, response bytes) of a list call: authenticated, filtered by the query
        (`pairs` parses it, only when needed), serialized once per user and filter.

        A static token's call is then remembered by its raw header and query string, so
        repeating it (what load tests and polling clients do) costs one dict lookup.
        """
        hit = self._list_hits.get((header or "", query_string))
        if hit is not None:
            return hit
        user = self.user_for_token(header)
        where = parse_list_query(pairs(), self.profile, self.enums) if query_string else NO_FILTER
        answer = user.user_id, self.list_body(user.user_id, where)
        self._remember_hit(header, query_string, answer)
        return answer

    def _remember_hit(self, header: str | None, query_string: str, answer: Any) -> None:
        if bearer_token(header) in self._static_tokens:
            if len(self._list_hits) >= _CACHE_LIMIT:
                self._list_hits.clear()
            self._list_hits[(header or "", query_string)] = answer

    def pending_list(
        self,
        header: str | None,
        query_string: str,
        pairs: Callable[[], Iterable[tuple[str, str]]],
    ) -> tuple[str, bytes] | PendingList:
        """As `list_answer`, but a large answer not serialized yet comes back unencoded:
        its records (immutable) taken now, to encode away from the event loop, then
        `remember_list`. Encoding 200,000 records takes seconds other clients must not
        wait through."""
        hit = self._list_hits.get((header or "", query_string))
        if hit is not None:
            return hit
        user = self.user_for_token(header)
        where = parse_list_query(pairs(), self.profile, self.enums) if query_string else NO_FILTER
        cached = self._list_cache.get((user.user_id, where))
        if cached is not None:
            answer = user.user_id, cached
            self._remember_hit(header, query_string, answer)
            return answer
        page, pagination = self._list_page(user.user_id, where)
        pending = PendingList(
            user.user_id, where, header, query_string, self._version, page, pagination,
            self.profile, self.scenario.mask_keep,
        )  # fmt: skip
        if len(page) >= LARGE_LIST:
            return pending
        answer = user.user_id, self.list_body(user.user_id, where, (page, pagination))
        self._remember_hit(header, query_string, answer)
        return answer

    def remember_list(self, pending: PendingList, body: bytes) -> None:
        """Keep an answer encoded away from the loop, unless the store changed since."""
        if pending.version != self._version:
            return
        if len(self._list_cache) >= _CACHE_LIMIT:
            self._list_cache.clear()
        self._list_cache[(pending.user_id, pending.where)] = body
        self._remember_hit(pending.header, pending.query_string, (pending.user_id, body))

    def remembered_list(self, header: str, query_string: str) -> tuple[str, bytes] | None:
        """(user id, response bytes) of a list call `list_answer` has answered before and
        nothing has changed since; None otherwise. Costs one dict lookup."""
        return self._list_hits.get((header, query_string))

    def list_body(
        self,
        user_id: str,
        where: ListFilter,
        taken: tuple[list[Credential], dict[str, Any]] | None = None,
    ) -> bytes:
        """The full list response envelope for one user and filter, serialized once
        (`taken`: its page and pagination, when the caller has them already)."""
        key = (user_id, where)
        body = self._list_cache.get(key)
        if body is None:
            page, pagination = taken or self._list_page(user_id, where)
            body = wire.credential_list_body(
                page, self.profile, self.scenario.mask_keep, pagination
            )
            if len(self._list_cache) >= _CACHE_LIMIT:
                self._list_cache.clear()
            self._list_cache[key] = body
        return body

    def _list_page(
        self, user_id: str, where: ListFilter
    ) -> tuple[list[Credential], dict[str, Any]]:
        """Every match, and the `pagination` of one page holding them all (the list
        does not page; the sdk envelope still carries it)."""
        items = self.credentials_of(user_id, where)
        return items, Page().pagination(len(items))

"""Credential indexes, kept apart from the Store so the lookup rules read in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import attrgetter

from cadenza_mock.contract.model import Credential
from cadenza_mock.engine.query import ListFilter

# List order: createdAt ascending, then credentialId (stable across runs).
sort_key: Callable[[Credential], tuple[int, str]] = attrgetter("created_at", "credential_id")


# Index keys: ("user", user), ("status", user, status), ("type", user, type) and, for
# records that are not revoked, ("key", user, venue, apiKey).
IndexKey = tuple[str, ...]


def index_keys(cred: Credential, revoked_status: str) -> list[IndexKey]:
    """The index entries one record belongs to."""
    keys: list[IndexKey] = [
        ("user", cred.user_id),
        ("status", cred.user_id, cred.status),
        ("type", cred.user_id, cred.type),
    ]
    if cred.status != revoked_status:
        keys.append(("key", cred.user_id, cred.venue, cred.api_key))
    return keys


def build_index(records: dict[str, Credential], revoked_status: str) -> dict[IndexKey, list[str]]:
    """`index_keys` of every record at once, each list in the records' order: one pass
    with the keys' parts grouped, since a 100,000-record scenario is indexed at start."""
    by_user: dict[str, list[str]] = {}
    by_status: dict[tuple[str, str], list[str]] = {}
    by_type: dict[tuple[str, str], list[str]] = {}
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for cid, cred in records.items():
        user, status = cred.user_id, cred.status
        by_user.setdefault(user, []).append(cid)
        by_status.setdefault((user, status), []).append(cid)
        by_type.setdefault((user, cred.type), []).append(cid)
        if status != revoked_status:
            by_key.setdefault((user, cred.venue, cred.api_key), []).append(cid)
    index: dict[IndexKey, list[str]] = {("user", user): ids for user, ids in by_user.items()}
    index.update((("status", *key), ids) for key, ids in by_status.items())
    index.update((("type", *key), ids) for key, ids in by_type.items())
    index.update((("key", *key), ids) for key, ids in by_key.items())
    return index


def matches(cred: Credential, where: ListFilter) -> bool:
    return (
        (where.types is None or cred.type in where.types)
        and (where.statuses is None or cred.status in where.statuses)
        and (where.credential_ids is None or cred.credential_id.lower() in where.credential_ids)
    )


class IndexedRecords:
    """The Store's pristine records and overlay, read through their indexes."""

    _pristine: dict[str, Credential]
    _pristine_index: dict[IndexKey, list[str]]
    _overlay: dict[str, Credential]
    _overlay_index: dict[IndexKey, dict[str, None]]

    def _indexed(self, key: IndexKey) -> Iterator[Credential]:
        """The current records under one index key: pristine ones (list order) that no
        request replaced, then the overlay's."""
        overlay = self._overlay
        pristine = self._pristine
        for cid in self._pristine_index.get(key, ()):
            if cid not in overlay:
                yield pristine[cid]
        for cid in self._overlay_index.get(key, ()):
            yield overlay[cid]

    def _indexed_size(self, key: IndexKey) -> int:
        """At least as many as `_indexed(key)` yields (pristine records replaced since
        are counted too): what picking the narrowest index needs."""
        return len(self._pristine_index.get(key, ())) + len(self._overlay_index.get(key, ()))

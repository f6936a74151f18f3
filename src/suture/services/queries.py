"""What a reader may ask a repository for: :class:`RecordQuery`, the filters of list endpoints.

The System API's list operations (and the experience views built on them) page through records
with filters people expect: the facilities a caller may see, one supplier, a status, a date
range on the record's business date, a business number. Each repository declares which of those
it supports (a contract has no status, a charge no supplier); asking one for a filter it lacks
is refused with :class:`QueryError` naming the filter, never silently ignored, because an
ignored facility or supplier filter would leak records across a scope.

A range whose ``until`` is before its ``since`` holds no day and selects nothing, like any
other empty range; it is not an error.

``facility_ids`` is the *scope*: ``None`` means every facility, an empty set means none. Records
shared by every facility (items, suppliers, contracts, GL accounts) are visible in every scope.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from suture.domain.errors import SutureError

#: The most records one page may hold.
MAX_PAGE = 1000


class QueryError(SutureError):
    """A filter the record type does not have, or an impossible page size."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordQuery:
    """Filters and the keyset page of a list: records with id greater than ``after``."""

    facility_ids: Collection[str] | None = None
    supplier_id: str | None = None
    status: str | None = None
    #: The first and last day (inclusive, UTC) of the record's business date.
    since: date | None = None
    until: date | None = None
    number: str | None = None
    after: str | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise QueryError("limit", f"must be between 1 and {MAX_PAGE}, got {self.limit}")

"""The read side shared by every System API resource: scoped keyset pages and scoped lookups.

A list applies the caller's :class:`~suture.domain.access.RecordFilter` (facilities, supplier)
inside the query, so a page never holds a record the caller may not see and never comes back
short because records were dropped after loading. A single record is loaded, then checked
against the principal: outside its facilities or of another supplier is ``403``.

Cursors are opaque to clients: the last id of the page, base64url-encoded. Clients must not
build them; the encoding may change without a new API version.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from fastapi import HTTPException

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, RecordFilter, Scope
from suture.entrypoints.api.security import check_record, require
from suture.entrypoints.api.system.schemas import Page, PublicModel
from suture.services.queries import QueryError, RecordQuery

P = TypeVar("P", bound=PublicModel)

#: The principal of a System API read: authenticated, holding ``system:read``.
Reader = Annotated[Principal, require(Scope.SYSTEM_READ)]


class CursorError(QueryError):
    """A cursor this service did not issue."""


@dataclass(frozen=True, slots=True)
class Resource(Generic[P]):
    """One record type as the System API serves it."""

    #: The unit-of-work repository attribute (``purchase_orders``).
    repository: str
    public: type[P]
    #: The owning supplier of a record, for resources a supplier may see; None otherwise.
    supplier_of: Callable[[Any], str | None] | None = None

    def facility_of(self, record: Any) -> str | None:
        return getattr(record, "facility_id", None)


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The id a cursor holds. Any well-formed base64url text is a usable keyset bound (a forged
    one only moves where the page starts), so only malformed text is refused."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise CursorError("cursor", "not a cursor this service issued") from None
    return raw.decode("utf-8", "replace")


def list_page(
    hub: Hub,
    resource: Resource[P],
    scope: RecordFilter,
    *,
    cursor: str | None,
    limit: int,
    status: str | None = None,
    since: date | None = None,
    until: date | None = None,
    number: str | None = None,
) -> Page[P]:
    """One page of ``resource`` within ``scope``; ``next_cursor`` is None on the last page."""
    if scope.supplier_id is not None and resource.supplier_of is None:
        raise AccessDeniedError("supplier_id", "these records belong to no supplier")
    query = RecordQuery(
        facility_ids=scope.facility_ids,
        supplier_id=scope.supplier_id,
        status=status,
        since=since,
        until=until,
        number=number,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    with hub.read_uow_factory() as uow:
        found = getattr(uow, resource.repository).find(query)
    more = len(found) > limit
    records = found[:limit]
    page_type: type[Page[P]] = Page[resource.public]  # type: ignore[name-defined]
    return page_type(
        items=[resource.public.model_validate(record) for record in records],
        next_cursor=encode_cursor(records[-1].id) if more else None,
    )


def get_one(hub: Hub, resource: Resource[P], principal: Principal, record_id: str) -> P | None:
    """The record with ``record_id`` if it exists; ``403`` if the principal may not see it."""
    if principal.supplier_id is not None and resource.supplier_of is None:
        raise AccessDeniedError("supplier_id", "these records belong to no supplier")
    with hub.read_uow_factory() as uow:
        record = getattr(uow, resource.repository).get(record_id)
    if record is None:
        return None
    supplier = resource.supplier_of(record) if resource.supplier_of is not None else None
    check_record(principal, facility_id=resource.facility_of(record), supplier_id=supplier)
    return resource.public.model_validate(record)


def found(record: P | None, noun: str, record_id: str) -> P:
    """``record``, or ``404`` naming what was looked for."""
    if record is None:
        raise HTTPException(404, f"no {noun} {record_id}")
    return record

"""Query parameters the System API's lists share, as ``Annotated`` aliases (STYLE.md habit 8)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator

from suture.domain.invoicing import InvoiceStatus
from suture.domain.purchasing import ExpectedReceiptStatus, PurchaseOrderStatus, RequisitionStatus

#: A cursor as this service writes it: unpadded base64url (``records.encode_cursor``).
CURSOR_PATTERN = r"^([A-Za-z0-9_-]{4})*([A-Za-z0-9_-]{2,3})?$"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(value: object) -> object:
    """Only ``YYYY-MM-DD``: pydantic alone would also read ``0`` as 1970-01-01."""
    if isinstance(value, date):
        return value
    if value is not None and not (isinstance(value, str) and _DAY.fullmatch(value)):
        msg = "must be a date as YYYY-MM-DD"
        raise ValueError(msg)
    return value


#: Days a period may name (a KPI period, a reconciliation): wide enough for any history, narrow
#: enough that the period's end (the day after its last) and its window stay valid instants.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


#: The most records one page holds.
MAX_LIMIT = 500

Cursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        description="`next_cursor` of the previous page; absent for the first.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Records per page.")]
Since = Annotated[
    date | None,
    BeforeValidator(iso_day),
    Query(description="First day (inclusive, UTC) of the record's business date."),
]
Until = Annotated[
    date | None,
    BeforeValidator(iso_day),
    Query(description="Last day (inclusive, UTC) of the record's business date."),
]


def one_of(statuses: type[StrEnum]) -> Callable[[str | None], str | None]:
    """A check that a status filter names one of ``statuses``: a typo is a 422 naming the
    allowed values, not an empty page that reads as "no such records".

    Checked here rather than declared as an ``enum`` in the contract: narrowing a published
    parameter to an enum is a breaking change under docs/api.md's rules, refusing nonsense is not.
    """
    allowed = [status.value for status in statuses]

    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            msg = f"must be one of: {', '.join(allowed)}"
            raise ValueError(msg)
        return value

    return check


def _described(statuses: type[StrEnum]) -> str:
    names = ", ".join(f"`{status.value}`" for status in statuses)
    return f"Only records in this status: one of {names}; another value is a 422."


RequisitionStatusFilter = Annotated[
    str | None,
    AfterValidator(one_of(RequisitionStatus)),
    Query(description=_described(RequisitionStatus)),
]
PurchaseOrderStatusFilter = Annotated[
    str | None,
    AfterValidator(one_of(PurchaseOrderStatus)),
    Query(description=_described(PurchaseOrderStatus)),
]
ExpectedReceiptStatusFilter = Annotated[
    str | None,
    AfterValidator(one_of(ExpectedReceiptStatus)),
    Query(description=_described(ExpectedReceiptStatus)),
]
InvoiceStatusFilter = Annotated[
    str | None,
    AfterValidator(one_of(InvoiceStatus)),
    Query(description=_described(InvoiceStatus)),
]
Number = Annotated[str | None, Query(description="Only the record with this business number.")]
RecordId = Annotated[str, Path(description="The record's canonical id.")]

"""Query parameters the System API's lists share, as ``Annotated`` aliases (STYLE.md habit 8)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

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
Status = Annotated[str | None, Query(description="Only records in this status.")]
Number = Annotated[str | None, Query(description="Only the record with this business number.")]
RecordId = Annotated[str, Path(description="The record's canonical id.")]

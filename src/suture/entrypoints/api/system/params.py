"""Query parameters the System API's lists share, as ``Annotated`` aliases (STYLE.md habit 8)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query

#: The most records one page holds.
MAX_LIMIT = 500

Cursor = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; absent for the first.")
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Records per page.")]
Since = Annotated[
    date | None, Query(description="First day (inclusive, UTC) of the record's business date.")
]
Until = Annotated[
    date | None, Query(description="Last day (inclusive, UTC) of the record's business date.")
]
Status = Annotated[str | None, Query(description="Only records in this status.")]
Number = Annotated[str | None, Query(description="Only the record with this business number.")]
RecordId = Annotated[str, Path(description="The record's canonical id.")]

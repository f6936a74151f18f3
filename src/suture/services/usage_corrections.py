"""Usage a source corrects after the hub applied it: told to a person, not applied.

The usage workflow has no reversal (docs/workflows.md, "Usage voided at the source"): once a
usage has moved stock, posted its journal and expected its charge, the same usage sent again
with another quantity, unit, item or location (its id is the source's, so it is the same usage)
cannot be applied a second time. Rather than answering "recorded" and dropping the difference,
the edges (FHIR, CSV) open a ``usage_reversal`` item naming what was applied and what was sent.
"""

from __future__ import annotations

from datetime import datetime

from suture.domain.exceptions import ExceptionType
from suture.domain.inventory import UsageRecord
from suture.services import exceptions as exception_queue
from suture.services.unit_of_work import UnitOfWork


def described(usage: UsageRecord) -> str:
    """What a usage took, in PHI-free words: ``2 EA of item I at L``."""
    quantity = f"{usage.quantity.normalize():f}"
    return f"{quantity} {usage.uom} of item {usage.item_id} at {usage.location_id}"


def flag_correction(
    uow: UnitOfWork,
    *,
    kind: str,
    recorded: UsageRecord,
    sent: UsageRecord,
    at: datetime,
    trace_id: str | None,
) -> bool:
    """Open a ``usage_reversal`` item when ``sent`` takes something else than ``recorded`` (the
    applied usage of the same id); True if it did. Its subject is the usage, not the message,
    since applying the message resolves the message's items."""
    if described(sent) == described(recorded):
        return False
    exception_queue.open_exception(
        uow, type=ExceptionType.USAGE_REVERSAL, facility_id=recorded.facility_id,
        reason=(f"{kind} sent again with {described(sent)} after usage {recorded.id} was "
                f"recorded with {described(recorded)}: the hub does not correct usage: adjust "
                "its stock move, cost journal and expected charge by hand"),
        at=at, trace_id=trace_id, correlation_id=recorded.id,
    )  # fmt: skip
    return True

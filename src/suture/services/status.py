"""Counts of every canonical object type per facility, for ``suture status``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from suture.domain.exceptions import ACTIVE
from suture.services.unit_of_work import UnitOfWork

#: The repositories ``suture status`` counts, in reading order (attribute name on the unit of work).
COUNTED = (
    "facilities",
    "cost_centers",
    "departments",
    "locations",
    "gl_accounts",
    "suppliers",
    "items",
    "contracts",
    "par_levels",
    "crosswalks",
    "requisitions",
    "purchase_orders",
    "receipts",
    "invoices",
    "charges",
    "usage",
    "stock",
    "journals",
)


@dataclass(frozen=True, slots=True)
class ObjectCounts:
    """``counts[object type][facility id or None]``; None holds system-wide records."""

    counts: dict[str, dict[str | None, int]]

    def total(self, object_type: str) -> int:
        return sum(self.counts.get(object_type, {}).values())

    def facilities(self) -> list[str]:
        found = {facility for per in self.counts.values() for facility in per if facility}
        return sorted(found)


def count_objects(uow_factory: Callable[[], UnitOfWork]) -> ObjectCounts:
    with uow_factory() as uow:
        return ObjectCounts({name: getattr(uow, name).count_by_facility() for name in COUNTED})


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsumerLag:
    """The backlog of the workers' shared stream consumer (NATS JetStream, DESIGN.md §8).

    ``pending``: messages in the stream not yet delivered to any worker; ``ack_pending``:
    delivered and not yet acknowledged (being processed, or by a worker that died, until
    ``ack_wait`` redelivers them); ``redelivered``: delivered more than once and not yet
    acknowledged. None, with ``error`` saying why, when the server could not tell.
    """

    stream: str
    consumer: str
    pending: int | None = None
    ack_pending: int | None = None
    redelivered: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class BackboneStatus:
    """The message backbone at a glance: what ``suture status`` adds to the object counts.

    ``consumer`` is the stream consumer's lag when the scale-out topology is configured, None
    in the embedded one; the oldest pending work's age is the database's own measure of lag.
    """

    inbox: dict[str, int]
    work: dict[str, dict[str, int]]
    pending_work: int
    oldest_pending_age_seconds: float
    deliveries: dict[str, int]
    open_exceptions: dict[str, int]
    overdue_exceptions: int
    consumer: ConsumerLag | None = None


def backbone_status(
    uow_factory: Callable[[], UnitOfWork],
    now: datetime,
    *,
    consumer: Callable[[], ConsumerLag] | None = None,
) -> BackboneStatus:
    """Inbox counts by status, handler work by status, lag, deliveries, open exceptions, and
    the stream consumer's lag as ``consumer`` reads it (scale-out only)."""
    with uow_factory() as uow:
        inbox = uow.inbox.count_by_status()
        work = uow.events.counts()
        lag = uow.events.lag()
        deliveries: dict[str, int] = {}
        for per_status in uow.deliveries.count_by_status().values():
            for delivery_status, n in per_status.items():
                key = str(delivery_status)
                deliveries[key] = deliveries.get(key, 0) + n
        exceptions = uow.exceptions.count_by_type_status()
        overdue = uow.exceptions.count_overdue(now)
    open_by_type: dict[str, int] = {}
    for (kind, status), n in exceptions.items():
        if status in ACTIVE:
            open_by_type[str(kind)] = open_by_type.get(str(kind), 0) + n
    return BackboneStatus(
        inbox={str(status): n for status, n in inbox.items()},
        work={
            handler: {str(status): n for status, n in per.items()} for handler, per in work.items()
        },
        pending_work=lag.pending,
        oldest_pending_age_seconds=lag.age(now).total_seconds(),
        deliveries=deliveries,
        open_exceptions=open_by_type,
        overdue_exceptions=overdue,
        consumer=None if consumer is None else consumer(),
    )

"""Counts of every canonical object type per facility, for ``suture status``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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

"""A deterministic synthetic health system, one stream per object type.

Why synthetic: demos, tests and benchmarks need a realistic health system (hospitals, an item
master with valid GTINs and HIBC codes, GPO contracts, crosswalks, years of charges) without a
byte of real patient or vendor data. Why deterministic: a seed reproduces the same system on any
machine, so a failing test or a benchmark figure can be re-run exactly.

Each stream draws from its own ``random.Random(f"{seed}:{stream}")``, so the objects do not
depend on which streams were asked for first or how far each was read. Streams are generators:
master data is bounded by the profile, and history (``charges``, ``usage``) is produced lazily,
so millions of rows pass through in constant memory. No stream reads the clock: the crosswalks'
``at`` and the history's ``start`` are passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from typing import TypeVar

from suture.domain.contracts import Contract
from suture.domain.crosswalk import CrosswalkEntry
from suture.domain.errors import DomainError
from suture.domain.inventory import UsageRecord
from suture.domain.masterdata import (
    CostCenter,
    Department,
    Facility,
    GLAccount,
    Item,
    Location,
    ParLevel,
    Supplier,
)
from suture.domain.revenue import Charge
from suture.services.synthetic import history, sourcing
from suture.services.synthetic.catalog import Catalog, ItemDraft
from suture.services.synthetic.organization import Organization
from suture.services.synthetic.profiles import Profile

T = TypeVar("T")


class HealthSystemGenerator:
    """The synthetic health system of ``profile`` for ``seed``; every method is a fresh stream."""

    def __init__(self, profile: Profile, seed: int) -> None:
        self.profile = profile
        self.seed = seed
        self._organization = Organization(profile, seed)
        self._catalog = Catalog(self._organization)

    def facilities(self) -> Iterator[Facility]:
        return self._organization.facilities()

    def cost_centers(self) -> Iterator[CostCenter]:
        return self._organization.cost_centers()

    def departments(self) -> Iterator[Department]:
        return self._organization.departments()

    def locations(self) -> Iterator[Location]:
        return self._organization.locations()

    def gl_accounts(self) -> Iterator[GLAccount]:
        return self._organization.gl_accounts()

    def suppliers(self) -> Iterator[Supplier]:
        return self._organization.suppliers()

    def items(self) -> Iterator[Item]:
        return self._catalog.items()

    def contracts(self) -> Iterator[Contract]:
        return sourcing.contracts(self._catalog)

    def par_levels(self) -> Iterator[ParLevel]:
        return sourcing.par_levels(self._catalog)

    def crosswalks(self, at: datetime) -> Iterator[CrosswalkEntry]:
        """Crosswalk entries valid from ``at``: ERP vendors, materials item numbers, CDM codes."""
        return sourcing.crosswalks(self._catalog, at)

    def charges(self, count: int, start: datetime) -> Iterator[Charge]:
        """The first ``count`` charges of procedures spread over the history window from
        ``start``."""
        records = history.procedure_records(self._catalog, start, charges=True, usage=False)
        return _first(count, records, Charge)

    def usage(self, count: int, start: datetime) -> Iterator[UsageRecord]:
        """The first ``count`` usage records of the same procedures as :meth:`charges`."""
        records = history.procedure_records(self._catalog, start, charges=False, usage=True)
        return _first(count, records, UsageRecord)

    def procedures(self, count: int, start: datetime) -> Iterator[history.ProcedureRecords]:
        """The first ``count`` procedures of the same history, each with its usage and charges
        (what the demo replays through the edges)."""
        if count < 0:
            raise DomainError("count", f"must not be negative, got {count}")
        return islice(history.procedures(self._catalog, start), count)

    def item_drafts(self) -> Iterator[ItemDraft]:
        """What the other streams know of each item (GTIN, CDM code, charge price, consignment
        and implant flags), in id order."""
        return self._catalog.drafts()

    def expected_count(self, kind: str) -> int | None:
        """How many objects the master-data stream ``kind`` yields, when known without
        generating it (for progress bars); None otherwise."""
        profile = self.profile
        per_hospital = profile.hospitals * profile.departments_per_hospital
        known = {
            "facilities": profile.hospitals,
            "cost_centers": per_hospital,
            "departments": per_hospital,
            "locations": len(self._organization.location_plan),
            "gl_accounts": sum(1 for _ in self._organization.gl_accounts()),
            "suppliers": profile.suppliers,
            "trading_partners": profile.suppliers,
            "items": profile.items,
            "contracts": profile.contracts,
        }
        return known.get(kind)


def _first(count: int, records: Iterator[history.Record], kind: type[T]) -> Iterator[T]:
    if count < 0:
        raise DomainError("count", f"must not be negative, got {count}")
    return (record for record in islice(records, count) if isinstance(record, kind))

"""One batch of a master-data import: its transaction, and the look-ups its rows share.

Each kind's writer (:mod:`~suture.services.masterdata_import` for items and suppliers,
:mod:`~suture.services.contract_price_import`, :mod:`~suture.services.crosswalk_import`) gets an
:class:`ImportBatch` and returns one :data:`Outcome` per row. Look-ups are cached for the batch,
so a file of 1,000 rows of one supplier asks for the supplier once; the cache dies with the
batch's transaction, so it never outlives what it read.

A row names its supplier the way the exporting system knows it, by vendor number. A real hub
holds suppliers loaded in several ways (imported from the vendor master, synced from the ERP,
mapped by hand), so :meth:`ImportBatch.supplier_for` tries, in order:

1. the supplier crosswalk: ``(source system, system-wide, supplier, vendor number)``, the
   mapping a person or a sync recorded for this source;
2. the supplier whose ERP vendor id is the vendor number (ERP syncs, and vendor-master imports,
   which set it);
3. the id a vendor-master import derives from the vendor number
   (:func:`~suture.formats.csv.keys.supplier_id_for`), which also finds a vendor number spelled
   in another case or with stray spaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

from suture.domain.authority import AuthorityRegistry
from suture.domain.crosswalk import CrosswalkKind, resolve
from suture.formats.csv import Decoded, RowError, supplier_id_for
from suture.services.unit_of_work import UnitOfWork

_T = TypeVar("_T")


class Change(IntEnum):
    """What writing a row did; a row touching two entries reports the larger change."""

    UNCHANGED = 0
    UPDATED = 1
    INSERTED = 2


#: A row's line and what became of it.
Outcome = tuple[int, Change | RowError]


def change_of(stored: object | None, new: object) -> Change:
    """The change writing ``new`` over ``stored`` (None: nothing stored) makes."""
    if stored is None:
        return Change.INSERTED
    return Change.UNCHANGED if stored == new else Change.UPDATED


def value_of(row: Decoded[object], expected: type[_T]) -> _T:
    """The row's value, which must be what the kind's decoder produces."""
    if not isinstance(row.value, expected):
        raise TypeError(f"line {row.line}: expected {expected.__name__}, got {row.value!r}")
    return row.value


@dataclass(frozen=True, slots=True)
class _Unresolved:
    reason: str


@dataclass(slots=True)
class ImportBatch:
    """One batch's transaction and settings, with existence checks and supplier resolutions
    cached for the batch."""

    uow: UnitOfWork
    source_system: str
    authority: AuthorityRegistry
    at: datetime
    known: dict[tuple[str, str], bool] = field(default_factory=dict)
    suppliers: dict[str, str | _Unresolved] = field(default_factory=dict)

    def exists(self, kind: str, object_id: str) -> bool:
        if (kind, object_id) not in self.known:
            repository: Any = {
                CrosswalkKind.ITEM: self.uow.items,
                CrosswalkKind.SUPPLIER: self.uow.suppliers,
                CrosswalkKind.DEPARTMENT: self.uow.departments,
                CrosswalkKind.COST_CENTER: self.uow.cost_centers,
                CrosswalkKind.LOCATION: self.uow.locations,
                "facility": self.uow.facilities,
            }.get(kind)  # charge codes are the CDM's: nothing here to check them against
            found = repository is None or repository.get(object_id) is not None
            self.known[(kind, object_id)] = found
        return self.known[(kind, object_id)]

    def supplier_for(self, row: Decoded[Any], vendor_number: str) -> str | RowError:
        """The id of the supplier ``vendor_number`` names, or the row error naming the row's
        vendor-number column and why none was found."""
        if vendor_number not in self.suppliers:
            self.suppliers[vendor_number] = self._find_supplier(vendor_number)
        found = self.suppliers[vendor_number]
        if isinstance(found, _Unresolved):
            return RowError(row.line, row.column("vendor_number"), found.reason)
        return found

    def _find_supplier(self, vendor_number: str) -> str | _Unresolved:
        candidates = self.uow.crosswalks.candidates(
            self.source_system.lower(), CrosswalkKind.SUPPLIER, vendor_number, None
        )
        mapped = resolve(candidates, None)
        if mapped is not None:
            if self.exists(CrosswalkKind.SUPPLIER, mapped.canonical_id):
                return mapped.canonical_id
            return _Unresolved(
                f"vendor number {vendor_number!r} maps to supplier {mapped.canonical_id} in the "
                "supplier crosswalk, but there is no such supplier"
            )
        synced = self.uow.suppliers.by_erp_vendor_id(vendor_number)
        if synced is not None:
            self.known[(CrosswalkKind.SUPPLIER, synced.id)] = True
            return synced.id
        derived = supplier_id_for(vendor_number)
        if self.exists(CrosswalkKind.SUPPLIER, derived):
            return derived
        return _Unresolved(
            f"no supplier with vendor number {vendor_number!r}: "
            "import the vendor master or map it in the supplier crosswalk"
        )

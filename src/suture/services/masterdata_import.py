"""Importing master data (items, suppliers, contract prices, crosswalks) from decoded rows.

The legacy flat-file path (DESIGN.md §1: the materials system owns the item master and
contracts, the ERP the vendor master). Promises:

- **Authority first.** A source that may not write the kind is refused before any row is read
  (:class:`~suture.domain.errors.NotAuthoritativeError`), so nothing is half-imported.
- **A bad row never costs a good one.** Rows the codec rejected, and rows the database would
  refuse (an item whose vendor number names no supplier, a price for an item that does not
  exist, a crosswalk conflict), become :class:`RowError`\\ s; their neighbours are still written.
- **Idempotent.** Each decoded object is compared with the stored one and only new or changed
  objects are written, so importing the same file twice reports 0 inserted, 0 updated.
- **Constant memory.** Rows are consumed in batches of ``batch_size``, one transaction each;
  only a batch, the first :data:`MAX_STORED_ERRORS` errors and one header per contract number
  are held. A failure the rows cannot explain (the database going away) propagates; batches
  committed before it stay committed, and re-running the import completes the rest.

Items and suppliers are written here; contract prices are merged by
:mod:`~suture.services.contract_price_import` and crosswalks recorded by
:mod:`~suture.services.crosswalk_import`. A vendor number on an item or contract row is resolved
to a supplier as :mod:`~suture.services.masterdata_batch` describes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from suture.domain.authority import AuthorityRegistry, ObjectType
from suture.domain.errors import DomainError
from suture.domain.masterdata import Item, Supplier
from suture.domain.reconciliation import ChargemasterPrice
from suture.formats.csv import Decoded, ImportKind, ItemLine, RowError
from suture.services.contract_price_import import ContractPriceWriter
from suture.services.crosswalk_import import write_crosswalks
from suture.services.masterdata_batch import Change, ImportBatch, Outcome, change_of, value_of
from suture.services.redrive import gtin_dependency, redrive_parked
from suture.services.unit_of_work import UnitOfWork

#: Errors kept in the summary for display; all of them are counted, and passed to ``on_error``.
MAX_STORED_ERRORS = 1000

OBJECT_TYPES = {
    ImportKind.ITEMS: ObjectType.ITEM,
    ImportKind.SUPPLIERS: ObjectType.SUPPLIER,
    ImportKind.CONTRACT_PRICES: ObjectType.CONTRACT,
    ImportKind.CROSSWALKS: ObjectType.CROSSWALK,
    ImportKind.CHARGEMASTER: ObjectType.CHARGEMASTER,
}


@dataclass(slots=True)
class ImportSummary:
    """Counts of one import; ``rows_read`` = inserted + updated + unchanged + rejected."""

    kind: ImportKind
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    error_cap: int = MAX_STORED_ERRORS

    def count(self, change: Change) -> None:
        if change is Change.INSERTED:
            self.inserted += 1
        elif change is Change.UPDATED:
            self.updated += 1
        else:
            self.unchanged += 1

    def reject(self, error: RowError) -> None:
        self.rejected += 1
        for problem in error.errors:
            self.errors_total += 1
            if len(self.errors) < self.error_cap:
                self.errors.append(problem)


Rows = Iterable[Decoded[object] | RowError]
Writer = Callable[[ImportBatch, list[Decoded[object]]], list[Outcome]]


def import_masterdata(
    uow_factory: Callable[[], UnitOfWork],
    kind: ImportKind,
    rows: Rows,
    *,
    source_system: str,
    authority: AuthorityRegistry,
    at: datetime,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    on_error: Callable[[RowError], None] | None = None,
) -> ImportSummary:
    """Write the decoded rows of ``kind``; ``progress`` gets the rows read after each batch,
    ``on_error`` every row error (each problem of a row) in line order."""
    if at.tzinfo is None:
        raise DomainError("at", "must be timezone-aware")
    if batch_size < 1:
        raise DomainError("batch_size", f"must be at least 1, got {batch_size}")
    authority.check_write(OBJECT_TYPES[kind], source_system)
    write, summary = _WRITERS[kind](), ImportSummary(kind)
    for batch in _batches(rows, batch_size):
        decoded = [row for row in batch if isinstance(row, Decoded)]
        with uow_factory() as uow:
            outcomes = write(ImportBatch(uow, source_system, authority, at), decoded)
            uow.commit()
        outcomes += [(row.line, row) for row in batch if isinstance(row, RowError)]
        for _, result in sorted(outcomes, key=lambda outcome: outcome[0]):
            if isinstance(result, Change):
                summary.count(result)
                continue
            summary.reject(result)
            if on_error is not None:
                for problem in result.errors:
                    on_error(problem)
        summary.rows_read += len(batch)
        if progress is not None:
            progress(summary.rows_read)
    return summary


def _write_items(batch: ImportBatch, rows: list[Decoded[object]]) -> list[Outcome]:
    """Items whose supplier is found and whose GTINs are not another item's; changed ones only."""
    pending: dict[str, Item] = {}
    gtins: dict[str, str] = {}  # GTIN -> item id, for this batch's items not yet written
    outcomes: list[Outcome] = []
    for row in rows:
        line = value_of(row, ItemLine)
        supplier = batch.supplier_for(row, line.vendor_number) if line.vendor_number else None
        if isinstance(supplier, RowError):
            outcomes.append((row.line, supplier))
            continue
        item = replace(line.item, supplier_id=supplier, source_system=batch.source_system)
        error = _gtin_refusal(batch, gtins, row, item)
        if error is None:
            change = change_of(pending.get(item.id) or batch.uow.items.get(item.id), item)
            if change is not Change.UNCHANGED:
                pending[item.id] = item
            gtins.update(dict.fromkeys(item.gtins, item.id))
        outcomes.append((row.line, error or change))
    batch.uow.items.add_many(pending.values())
    for gtin in sorted({gtin for item in pending.values() for gtin in item.gtins}):
        redrive_parked(batch.uow, gtin_dependency(gtin), batch.at)
    return outcomes


def _gtin_refusal(
    batch: ImportBatch, gtins: dict[str, str], row: Decoded[object], item: Item
) -> RowError | None:
    """A GTIN names one trade item (GS1 General Specifications §4); two items sharing one would
    make every scan of it ambiguous."""
    for level in item.packaging.levels:
        if level.gtin is None:
            continue
        owner = gtins.get(level.gtin)
        if owner is None and (found := batch.uow.items.by_gtin(level.gtin)) is not None:
            owner = found.id
        if owner is not None and owner != item.id:
            reason = f"GTIN {level.gtin} already identifies item {owner}"
            return RowError(row.line, row.column(f"gtin.{level.uom}"), reason)
    return None


def _write_suppliers(batch: ImportBatch, rows: list[Decoded[object]]) -> list[Outcome]:
    """Suppliers as decoded: their ids derived from (and ERP vendor ids set to) vendor numbers
    unless the profile maps an id column."""
    pending: dict[str, Supplier] = {}
    outcomes: list[Outcome] = []
    for row in rows:
        supplier = replace(value_of(row, Supplier), source_system=batch.source_system)
        stored = pending.get(supplier.id) or batch.uow.suppliers.get(supplier.id)
        change = change_of(stored, supplier)
        if change is not Change.UNCHANGED:
            pending[supplier.id] = supplier
        outcomes.append((row.line, change))
    batch.uow.suppliers.add_many(pending.values())
    return outcomes


def _write_chargemaster(batch: ImportBatch, rows: list[Decoded[object]]) -> list[Outcome]:
    """Chargemaster prices, keyed by facility, CDM code and start; changed ones only. A price
    of a facility that does not exist is refused: stored, it would never price anything."""
    pending: dict[tuple[str, str, date], ChargemasterPrice] = {}
    outcomes: list[Outcome] = []
    for row in rows:
        price = value_of(row, ChargemasterPrice)
        if not batch.exists("facility", price.facility_id):
            column = row.column("facility_id")
            outcomes.append(
                (row.line, RowError(row.line, column, f"no facility {price.facility_id}"))
            )
            continue
        key = (price.facility_id, price.cdm_code, price.effective_from)
        stored = pending.get(key) or batch.uow.chargemaster.get(*key)
        change = change_of(stored, price)
        if change is not Change.UNCHANGED:
            pending[key] = price
        outcomes.append((row.line, change))
    batch.uow.chargemaster.add_many(pending.values(), source_system=batch.source_system)
    return outcomes


_WRITERS: dict[ImportKind, Callable[[], Writer]] = {
    ImportKind.ITEMS: lambda: _write_items,
    ImportKind.SUPPLIERS: lambda: _write_suppliers,
    ImportKind.CONTRACT_PRICES: ContractPriceWriter,
    ImportKind.CROSSWALKS: lambda: write_crosswalks,
    ImportKind.CHARGEMASTER: lambda: _write_chargemaster,
}


def _batches(rows: Rows, size: int) -> Iterator[list[Decoded[object] | RowError]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch

"""Importing master data (items, suppliers, contract prices, crosswalks) from decoded rows.

The legacy flat-file path (DESIGN.md §1: the materials system owns the item master and
contracts, the ERP the vendor master). Promises:

- **Authority first.** A source that may not write the kind is refused before any row is read
  (:class:`~suture.domain.errors.NotAuthoritativeError`), so nothing is half-imported.
- **A bad row never costs a good one.** Rows the codec rejected, and rows the database would
  refuse (an item whose supplier is unknown, a price for an item that does not exist, a
  crosswalk conflict), become :class:`RowError`\\ s; their neighbours are still written.
- **Idempotent.** Each decoded object is compared with the stored one and only new or changed
  objects are written, so importing the same file twice reports 0 inserted, 0 updated.
- **Constant memory.** Rows are consumed in batches of ``batch_size``, one transaction each;
  only a batch, the first :data:`MAX_STORED_ERRORS` errors and one header per contract number
  are held. A failure the rows cannot explain (the database going away) propagates; batches
  committed before it stay committed, and re-running the import completes the rest.

Contract-price rows of one contract merge into one :class:`~suture.domain.contracts.Contract`
with the stored memberships and prices: a membership is keyed by (facility, start), a price by
(item, tier, unit, start); a row replaces the entry with its key and keeps the others.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import IntEnum
from typing import Any, TypeVar

from suture.domain.authority import AuthorityRegistry, ObjectType
from suture.domain.contracts import Contract, ContractMembership, ContractPrice
from suture.domain.crosswalk import CrosswalkKind, MappingOutcome, decide_mapping
from suture.domain.errors import DomainError
from suture.domain.masterdata import Item, Supplier
from suture.formats.csv import (
    ContractLine,
    CrosswalkRequest,
    Decoded,
    ImportKind,
    PriceLine,
    RowError,
)
from suture.services.unit_of_work import UnitOfWork

#: Errors kept in the summary for display; all of them are counted, and passed to ``on_error``.
MAX_STORED_ERRORS = 1000

OBJECT_TYPES = {
    ImportKind.ITEMS: ObjectType.ITEM,
    ImportKind.SUPPLIERS: ObjectType.SUPPLIER,
    ImportKind.CONTRACT_PRICES: ObjectType.CONTRACT,
    ImportKind.CROSSWALKS: ObjectType.CROSSWALK,
}


class Change(IntEnum):
    """What writing a row did; a row touching two entries reports the larger change."""

    UNCHANGED = 0
    UPDATED = 1
    INSERTED = 2


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


_T = TypeVar("_T")
Outcome = tuple[int, Change | RowError]
Rows = Iterable[Decoded[object] | RowError]


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
    write, summary = _WRITERS[kind], ImportSummary(kind)
    headers: dict[str, tuple[int, Contract]] = {}  # first header of each contract number
    for batch in _batches(rows, batch_size):
        decoded = [row for row in batch if isinstance(row, Decoded)]
        with uow_factory() as uow:
            outcomes = write(_Batch(uow, source_system, authority, at, headers), decoded)
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


@dataclass(slots=True)
class _Batch:
    """One batch's transaction and settings, with existence checks cached for the batch (a file
    of 1,000 rows of one supplier asks for the supplier once)."""

    uow: UnitOfWork
    source_system: str
    authority: AuthorityRegistry
    at: datetime
    headers: dict[str, tuple[int, Contract]]
    known: dict[tuple[str, str], bool] = field(default_factory=dict)

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

    def supplier_refusal(self, row: Decoded[Any], supplier_id: str | None) -> RowError | None:
        if supplier_id is None or self.exists(CrosswalkKind.SUPPLIER, supplier_id):
            return None
        reason = f"no supplier with this vendor number (id {supplier_id}); import vendors first"
        return RowError(row.line, row.column("vendor_number"), reason)


def _change(stored: object | None, new: object) -> Change:
    if stored is None:
        return Change.INSERTED
    return Change.UNCHANGED if stored == new else Change.UPDATED


def _write_items(batch: _Batch, rows: list[Decoded[object]]) -> list[Outcome]:
    """Items whose supplier exists and whose GTINs are not another item's; changed ones only."""
    pending: dict[str, Item] = {}
    gtins: dict[str, str] = {}  # GTIN -> item id, for this batch's items not yet written
    outcomes: list[Outcome] = []
    for row in rows:
        item = replace(_value(row, Item), source_system=batch.source_system)
        error = batch.supplier_refusal(row, item.supplier_id) or _gtin_refusal(
            batch, gtins, row, item
        )
        if error is None:
            change = _change(pending.get(item.id) or batch.uow.items.get(item.id), item)
            if change is not Change.UNCHANGED:
                pending[item.id] = item
            gtins.update(dict.fromkeys(item.gtins, item.id))
        outcomes.append((row.line, error or change))
    batch.uow.items.add_many(pending.values())
    return outcomes


def _gtin_refusal(
    batch: _Batch, gtins: dict[str, str], row: Decoded[Any], item: Item
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


def _write_suppliers(batch: _Batch, rows: list[Decoded[object]]) -> list[Outcome]:
    pending: dict[str, Supplier] = {}
    outcomes: list[Outcome] = []
    for row in rows:
        supplier = replace(_value(row, Supplier), source_system=batch.source_system)
        change = _change(pending.get(supplier.id) or batch.uow.suppliers.get(supplier.id), supplier)
        if change is not Change.UNCHANGED:
            pending[supplier.id] = supplier
        outcomes.append((row.line, change))
    batch.uow.suppliers.add_many(pending.values())
    return outcomes


_HEADER_FIELDS = (
    ("supplier_id", "vendor_number"),
    ("name", "contract_name"),
    ("effective_from", "contract_start"),
    ("effective_to", "contract_end"),
    ("gpo", "gpo"),
)
_Memberships = dict[tuple[str, date], ContractMembership]
_Prices = dict[tuple[str, str, str, date | None], ContractPrice]


def _write_contract_prices(batch: _Batch, rows: list[Decoded[object]]) -> list[Outcome]:
    """Each contract of the batch merged with its stored version and written once."""
    by_number: dict[str, list[Decoded[ContractLine]]] = {}
    for row in rows:
        line = _value(row, ContractLine)
        by_number.setdefault(line.contract.number, []).append(Decoded(row.line, line, row.columns))
    return [outcome for lines in by_number.values() for outcome in _merge_contract(batch, lines)]


def _merge_contract(batch: _Batch, rows: list[Decoded[ContractLine]]) -> list[Outcome]:
    first = rows[0].value.contract
    first_line, header = batch.headers.setdefault(first.number, (rows[0].line, first))
    stored = batch.uow.contracts.by_number(first.number)
    memberships: _Memberships = {}
    prices: _Prices = {}
    if stored is not None:
        memberships = {(m.facility_id, m.effective_from): m for m in stored.memberships}
        prices = {(p.item_id, p.tier, p.uom, p.effective_from): p for p in stored.prices}
    outcomes: list[Outcome] = []
    for row in rows:
        error = _header_mismatch(row, header, first_line)
        error = error or batch.supplier_refusal(row, row.value.contract.supplier_id)
        outcomes.append((row.line, error or _apply_line(batch, row, memberships, prices)))
    accepted = [index for index, (_, result) in enumerate(outcomes) if isinstance(result, Change)]
    if not accepted:
        return outcomes
    merged = replace(
        header,
        id=stored.id if stored is not None else header.id,
        source_system=batch.source_system,
        memberships=list(memberships.values()),
        prices=list(prices.values()),
    )
    header_changed = stored is not None and _header(stored) != _header(merged)
    if header_changed and outcomes[accepted[0]][1] is Change.UNCHANGED:
        outcomes[accepted[0]] = (outcomes[accepted[0]][0], Change.UPDATED)
    if any(outcomes[index][1] is not Change.UNCHANGED for index in accepted):
        batch.uow.contracts.add(merged)
    return outcomes


def _apply_line(
    batch: _Batch, row: Decoded[ContractLine], memberships: _Memberships, prices: _Prices
) -> Change | RowError:
    """Put the row's membership and price into the contract's entries; the larger change."""
    membership, change = row.value.membership, Change.UNCHANGED
    if membership is not None and not batch.exists("facility", membership.facility_id):
        return RowError(
            row.line, row.column("facility_id"), f"no facility {membership.facility_id}"
        )
    price = _resolve_price(batch.uow, row, row.value.price) if row.value.price else None
    if isinstance(price, RowError):
        return price
    if membership is not None:
        key = (membership.facility_id, membership.effective_from)
        change = max(change, _change(memberships.get(key), membership))
        memberships[key] = membership
    if price is not None:
        price_key = (price.item_id, price.tier, price.uom, price.effective_from)
        change = max(change, _change(prices.get(price_key), price))
        prices[price_key] = price
    return change


def _resolve_price(uow: UnitOfWork, row: Decoded[Any], line: PriceLine) -> ContractPrice | RowError:
    """The price with its item found by each of id, GTIN and catalog number that is given."""
    ref, found = line.item, []
    if ref.item_id:
        found.append(("item_id", uow.items.get(ref.item_id), ref.item_id))
    if ref.gtin:
        found.append(("gtin", uow.items.by_gtin(ref.gtin), ref.gtin))
    if ref.manufacturer and ref.catalog_number:
        item = uow.items.by_catalog_number(ref.manufacturer, ref.catalog_number)
        found.append(("catalog_number", item, f"{ref.manufacturer} {ref.catalog_number}"))
    items = {item.id: item for _, item, _ in found if item is not None}
    missing = next(((name, given) for name, item, given in found if item is None), None)
    if missing is not None:
        return RowError(
            row.line, row.column(missing[0]), f"no item {missing[1]} in the item master"
        )
    if len(items) > 1:
        reason = f"names different items: {', '.join(sorted(items))}"
        return RowError(row.line, row.column(found[0][0]), reason)
    (item,) = items.values()
    units = [level.uom for level in item.packaging.levels]
    if line.uom not in units:
        reason = f"item {item.id} is not sold by {line.uom}; its units are {', '.join(units)}"
        return RowError(row.line, row.column("uom"), reason)
    try:
        return ContractPrice(
            item_id=item.id,
            tier=line.tier,
            uom=line.uom,
            unit_price=line.unit_price,
            effective_from=line.effective_from,
            effective_to=line.effective_to,
        )
    except DomainError as error:
        return RowError(row.line, row.column("unit_price"), error.reason)


def _header_mismatch(
    row: Decoded[ContractLine], first: Contract, first_line: int
) -> RowError | None:
    """Every row of a contract repeats its header as the contract's first row gave it."""
    for attribute, name in _HEADER_FIELDS:
        mine, theirs = getattr(row.value.contract, attribute), getattr(first, attribute)
        if mine != theirs:
            reason = (
                f"{mine} differs from {theirs} on line {first_line} for contract {first.number}"
            )
            return RowError(row.line, row.column(name), reason)
    return None


def _header(contract: Contract) -> tuple[object, ...]:
    return (*(getattr(contract, name) for name, _ in _HEADER_FIELDS), contract.source_system)


def _write_crosswalks(batch: _Batch, rows: list[Decoded[object]]) -> list[Outcome]:
    return [(row.line, _map_code(batch, row)) for row in rows]


def _map_code(batch: _Batch, row: Decoded[object]) -> Change | RowError:
    """Apply the domain's conflict rules; a superseded mapping is closed, never deleted."""
    request = _value(row, CrosswalkRequest)
    key, canonical_id = request.key, request.canonical_id
    if key.facility_id is not None:
        if not batch.exists("facility", key.facility_id):
            return RowError(row.line, row.column("facility_id"), f"no facility {key.facility_id}")
        try:
            batch.authority.check_write(ObjectType.CROSSWALK, batch.source_system, key.facility_id)
        except DomainError as error:
            return RowError(row.line, row.column("facility_id"), error.reason)
    if not batch.exists(key.kind, canonical_id):
        return RowError(
            row.line, row.column("canonical_id"), f"no {key.kind} {canonical_id} to map to"
        )
    try:
        decision = decide_mapping(
            batch.uow.crosswalks.current(key),
            key,
            canonical_id,
            batch.at,
            supersede=request.supersede,
            recorded_by=batch.source_system,
        )
    except DomainError as error:
        return RowError(row.line, row.column("canonical_id"), error.reason)
    if decision.close is not None:
        batch.uow.crosswalks.close(decision.close)
    if decision.add is not None:
        batch.uow.crosswalks.add(decision.add)
    return _MAPPING_CHANGES[decision.outcome]


_MAPPING_CHANGES = {
    MappingOutcome.ADDED: Change.INSERTED,
    MappingOutcome.SUPERSEDED: Change.UPDATED,
    MappingOutcome.UNCHANGED: Change.UNCHANGED,
}
_WRITERS: dict[ImportKind, Callable[[_Batch, list[Decoded[object]]], list[Outcome]]] = {
    ImportKind.ITEMS: _write_items,
    ImportKind.SUPPLIERS: _write_suppliers,
    ImportKind.CONTRACT_PRICES: _write_contract_prices,
    ImportKind.CROSSWALKS: _write_crosswalks,
}


def _value(row: Decoded[object], expected: type[_T]) -> _T:
    """The row's value, which must be what the kind's decoder produces."""
    if not isinstance(row.value, expected):
        raise TypeError(f"line {row.line}: expected {expected.__name__}, got {row.value!r}")
    return row.value


def _batches(rows: Rows, size: int) -> Iterator[list[Decoded[object] | RowError]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch

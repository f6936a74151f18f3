"""Merging contract-price rows into stored contracts.

A contract file is flat: the contract's header repeats on every row, and each row adds a
facility membership, a price line, or both. The rows of one contract merge into one
:class:`~suture.domain.contracts.Contract` with the stored memberships and prices: a membership
is keyed by (facility, start), a price by (item, tier, unit, start); a row replaces the entry
with its key and keeps the others, so a later file that lists only changed prices keeps the
rest. Every row of a contract must repeat the header its first row gave, in this file; the
header's vendor number is resolved to a supplier as
:meth:`~suture.services.masterdata_batch.ImportBatch.supplier_for` describes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from suture.domain.contracts import Contract, ContractMembership, ContractPrice
from suture.domain.errors import DomainError
from suture.formats.csv import ContractLine, Decoded, PriceLine, RowError
from suture.services.masterdata_batch import Change, ImportBatch, Outcome, change_of, value_of
from suture.services.unit_of_work import UnitOfWork

_HEADER_FIELDS = (
    ("name", "contract_name"),
    ("effective_from", "contract_start"),
    ("effective_to", "contract_end"),
    ("gpo", "gpo"),
)
_Memberships = dict[tuple[str, date], ContractMembership]
_Prices = dict[tuple[str, str, str, date | None], ContractPrice]


class ContractPriceWriter:
    """Writes the batches of one contract-price import, each contract of a batch merged with
    its stored version and written once.

    It remembers the first header of each contract number across batches (one header a
    contract, not a row), so a row in a later batch is checked against the file's first row.
    """

    def __init__(self) -> None:
        self.headers: dict[str, tuple[int, ContractLine]] = {}

    def __call__(self, batch: ImportBatch, rows: list[Decoded[object]]) -> list[Outcome]:
        by_number: dict[str, list[Decoded[ContractLine]]] = {}
        for row in rows:
            line = value_of(row, ContractLine)
            by_number.setdefault(line.contract.number, []).append(
                Decoded(row.line, line, row.columns)
            )
        return [outcome for lines in by_number.values() for outcome in self.merge(batch, lines)]

    def merge(self, batch: ImportBatch, rows: list[Decoded[ContractLine]]) -> list[Outcome]:
        first = rows[0].value
        first_line, header = self.headers.setdefault(first.contract.number, (rows[0].line, first))
        stored = batch.uow.contracts.by_number(header.contract.number)
        memberships: _Memberships = {}
        prices: _Prices = {}
        if stored is not None:
            memberships = {(m.facility_id, m.effective_from): m for m in stored.memberships}
            prices = {(p.item_id, p.tier, p.uom, p.effective_from): p for p in stored.prices}
        outcomes: list[Outcome] = []
        supplier_id = ""
        for row in rows:
            found = _header_mismatch(row, header, first_line) or batch.supplier_for(
                row, row.value.vendor_number
            )
            if isinstance(found, RowError):
                outcomes.append((row.line, found))
                continue
            supplier_id = found  # every accepted row has the header's vendor number
            outcomes.append((row.line, _apply_line(batch, row, memberships, prices)))
        accepted = [
            index for index, (_, result) in enumerate(outcomes) if isinstance(result, Change)
        ]
        if not accepted:
            return outcomes
        merged = replace(
            header.contract,
            id=stored.id if stored is not None else header.contract.id,
            supplier_id=supplier_id,
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
    batch: ImportBatch, row: Decoded[ContractLine], memberships: _Memberships, prices: _Prices
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
        change = max(change, change_of(memberships.get(key), membership))
        memberships[key] = membership
    if price is not None:
        price_key = (price.item_id, price.tier, price.uom, price.effective_from)
        change = max(change, change_of(prices.get(price_key), price))
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
    row: Decoded[ContractLine], first: ContractLine, first_line: int
) -> RowError | None:
    """Every row of a contract repeats its header as the contract's first row gave it."""
    pairs = [("vendor_number", row.value.vendor_number, first.vendor_number)]
    pairs += [
        (name, getattr(row.value.contract, attribute), getattr(first.contract, attribute))
        for attribute, name in _HEADER_FIELDS
    ]
    for name, mine, theirs in pairs:
        if mine != theirs:
            number = first.contract.number
            reason = f"{mine} differs from {theirs} on line {first_line} for contract {number}"
            return RowError(row.line, row.column(name), reason)
    return None


def _header(contract: Contract) -> tuple[object, ...]:
    """What a file says about a contract itself, beside its memberships and prices."""
    fields = (getattr(contract, name) for name, _ in _HEADER_FIELDS)
    return (contract.supplier_id, *fields, contract.source_system)

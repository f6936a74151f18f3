"""Repositories of the three-way match: the match state per invoice, the tolerance rules, and
the reads the match needs that no other repository answers (receipts of a PO, invoices that may
be the same bill, what a PO's matched invoices billed, invoices still to match).

``lock_invoice`` takes the invoice's row lock (``FOR UPDATE`` on PostgreSQL; SQLite's writer
lock serializes anyway), so two workers matching the same invoice, or two invoices of one PO
racing for its received quantity, run one after the other. Per-line detail is stored as JSON,
decimals as strings, so it round-trips exactly.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db import tables as t
from suture.adapters.db.errors import storage_errors
from suture.adapters.db.match_tables import (
    ANY,
    invoice_duplicate_clearances,
    invoice_matches,
    match_tolerances,
)
from suture.adapters.db.repositories.base import Row
from suture.adapters.db.repositories.invoicing import InvoiceRepository
from suture.adapters.db.repositories.purchasing import ReceiptRepository
from suture.domain.duplicate_clearance import DuplicateClearance
from suture.domain.invoicing import InvoiceStatus
from suture.domain.matching import (
    CENT,
    Finding,
    InvoiceMatch,
    InvoiceSummary,
    LineMatch,
    MatchStatus,
    Tolerance,
    ToleranceRule,
)
from suture.domain.purchasing import Receipt

#: Invoice statuses the match still has work for.
OPEN_STATUSES = (InvoiceStatus.RECEIVED.value, InvoiceStatus.EXCEPTION.value)

#: The upsert of a match state per dialect (``InvoiceMatchRepository.save``).
_UPSERTS: dict[str, Any] = {}

_DECIMALS = (
    "invoiced_eaches", "ordered_eaches", "received_eaches", "previously_invoiced_eaches",
    "po_price_each", "invoice_price_each", "quantity_variance_eaches", "variance_amount", "amount",
)  # fmt: skip


class InvoiceMatchRepository:
    """One row per invoice id: the match process manager's state (``domain/matching.py``)."""

    table = invoice_matches

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def lock_invoice(self, invoice_id: str) -> bool:
        """Hold the invoice's row until commit; False when there is no such invoice."""
        query = sa.select(t.invoices.c.id).where(t.invoices.c.id == invoice_id).with_for_update()
        with storage_errors(t.invoices.name):
            return self._connection.execute(query).first() is not None

    def lock_purchase_order(self, purchase_order_id: str) -> None:
        """Hold the PO's row until commit: invoices of one PO are matched one at a time, so two
        cannot both bill the same received quantity."""
        po = t.purchase_orders
        query = sa.select(po.c.id).where(po.c.id == purchase_order_id).with_for_update()
        with storage_errors(po.name):
            self._connection.execute(query).first()

    def get(self, invoice_id: str) -> InvoiceMatch | None:
        query = sa.select(self.table).where(self.table.c.invoice_id == invoice_id)
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else _from_row(row)

    def save(self, match: InvoiceMatch) -> None:
        """Insert or replace the invoice's match state."""
        dialect = self._connection.dialect.name
        statement = _UPSERTS.get(dialect)
        if statement is None:  # built once per dialect, values bound: compiled once, cached
            insert = (
                sqlite.insert(self.table)
                if dialect == "sqlite"
                else (postgresql.insert(self.table))
            )
            statement = _UPSERTS[dialect] = insert.on_conflict_do_update(
                index_elements=["invoice_id"],
                set_={c.name: insert.excluded[c.name] for c in self.table.c
                      if c.name != "invoice_id"},
            )  # fmt: skip
        with storage_errors(self.table.name):
            self._connection.execute(statement, _to_row(match))

    def list(
        self,
        *,
        facility_ids: Collection[str] | None = None,
        supplier_id: str | None = None,
        status: MatchStatus | None = None,
        invoice_ids: Collection[str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[InvoiceMatch]:
        """Match states by invoice id, filtered; ``facility_ids`` None means every facility."""
        c = self.table.c
        query = sa.select(self.table).order_by(c.invoice_id).limit(limit)
        if facility_ids is not None:
            query = query.where(c.facility_id.in_(sorted(facility_ids)))
        if supplier_id is not None:
            query = query.where(c.supplier_id == supplier_id)
        if status is not None:
            query = query.where(c.status == status.value)
        if invoice_ids is not None:
            query = query.where(c.invoice_id.in_(sorted(invoice_ids)))
        if after is not None:
            query = query.where(c.invoice_id > after)
        with storage_errors(self.table.name):
            return [_from_row(row) for row in self._connection.execute(query)]

    def previously_invoiced(self, purchase_order_id: str, invoice_id: str) -> dict[int, Decimal]:
        """Eaches per PO line billed by the PO's matched invoices other than ``invoice_id``."""
        c = self.table.c
        query = sa.select(self.table).where(
            (c.purchase_order_id == purchase_order_id)
            & (c.status == MatchStatus.MATCHED.value)
            & (c.invoice_id != invoice_id)
        )
        billed: dict[int, Decimal] = {}
        with storage_errors(self.table.name):
            for row in self._connection.execute(query):
                for number, eaches in _from_row(row).billed_eaches().items():
                    billed[number] = billed.get(number, Decimal(0)) + eaches
        return billed

    def receipts_for(self, purchase_order_id: str) -> builtins.list[Receipt]:
        """The receipts recorded against the PO, with their lines."""
        ids = sa.select(t.receipts.c.id).where(t.receipts.c.purchase_order_id == purchase_order_id)
        with storage_errors(t.receipts.name):
            found = list(self._connection.execute(ids.order_by(t.receipts.c.id)).scalars())
        receipts = ReceiptRepository(self._connection)
        return [r for r in (receipts.get(receipt_id) for receipt_id in found) if r is not None]

    def duplicate_candidates(
        self,
        *,
        invoice_id: str,
        supplier_id: str,
        number: str,
        purchase_order_number: str | None,
        invoice_date: date,
    ) -> builtins.list[InvoiceSummary]:
        """The supplier's other invoices with the same number, or the same PO and date, that
        have reached matching (only those have a ``received_at`` to order them by). An invoice
        that ``invoice_id`` was cleared as not a duplicate of is left out of the same-PO-and-date
        lookup only: under the same number it is always a duplicate, cleared or not."""
        i, m = t.invoices.c, self.table.c
        x = invoice_duplicate_clearances.c
        cleared = sa.select(x.original_invoice_id).where(x.invoice_id == invoice_id)

        def tried(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
            return (
                sa.select(i.id, m.received_at)
                .join(self.table, m.invoice_id == i.id)
                .where((i.supplier_id == supplier_id) & (i.id != invoice_id) & where)
            )

        # Two indexed lookups rather than one OR, which would scan the supplier's invoices.
        query: sa.Select[Any] | sa.CompoundSelect[Any] = tried(i.number == number)
        if purchase_order_number is not None:
            by_po = (
                (i.purchase_order_number == purchase_order_number)
                & (i.invoice_date == invoice_date)
                & i.id.not_in(cleared)
            )
            query = sa.union(tried(i.number == number), tried(by_po))
        with storage_errors(t.invoices.name):
            rows = list(self._connection.execute(query))
        invoices = InvoiceRepository(self._connection)
        summaries = []
        for row in rows:
            other = invoices.get(row.id)
            if other is None:
                continue
            summaries.append(InvoiceSummary(
                invoice_id=other.id, number=other.number, supplier_id=other.supplier_id,
                purchase_order_number=other.purchase_order_number, amount=other.computed_total,
                invoice_date=other.invoice_date, received_at=row.received_at,
            ))  # fmt: skip
        return summaries

    def add_duplicate_clearance(self, clearance: DuplicateClearance) -> None:
        """Store the decision that the invoice is not a duplicate of the original."""
        table = invoice_duplicate_clearances
        row = {
            "invoice_id": clearance.invoice_id,
            "original_invoice_id": clearance.original_invoice_id,
            "reason": clearance.reason, "decided_by": clearance.decided_by,
            "decided_at": clearance.decided_at,
        }  # fmt: skip
        with storage_errors(table.name):
            self._connection.execute(sa.insert(table), row)

    def duplicate_clearances(self, invoice_id: str) -> builtins.list[DuplicateClearance]:
        """The invoice's clearances, in the order they were decided (then by original)."""
        table = invoice_duplicate_clearances
        query = (
            sa.select(table)
            .where(table.c.invoice_id == invoice_id)
            .order_by(table.c.decided_at, table.c.original_invoice_id)
        )
        with storage_errors(table.name):
            rows = list(self._connection.execute(query))
        return [_clearance(row) for row in rows]

    def open_invoice_ids(
        self,
        *,
        purchase_order_number: str | None = None,
        held_only: bool = False,
        limit: int = 1000,
    ) -> builtins.list[str]:
        """Invoices not yet matched (received, or held on an exception), in the order they
        reached matching (then by id; those never run last); ``held_only``: only those a match
        has run on and held. The order is the order they are re-run in, so when goods arrive
        for several held invoices of a PO, the one that came first bills them first (by id,
        a later invoice could take them and hold the earlier)."""
        i, m = t.invoices.c, self.table.c
        statuses = (InvoiceStatus.EXCEPTION.value,) if held_only else OPEN_STATUSES
        query = (
            sa.select(i.id)
            .select_from(t.invoices.outerjoin(self.table, m.invoice_id == i.id))
            .where(i.status.in_(statuses))
            .order_by(m.received_at.is_(None), m.received_at, i.id)
            .limit(limit)
        )
        if purchase_order_number is not None:
            query = query.where(i.purchase_order_number == purchase_order_number)
        with storage_errors(t.invoices.name):
            return list(self._connection.execute(query).scalars())

    def set_invoice_status(self, invoice_id: str, status: InvoiceStatus) -> None:
        """Write the invoice's status alone (its lines are the supplier's and stay as sent)."""
        statement = (
            sa.update(t.invoices).where(t.invoices.c.id == invoice_id).values(status=status.value)
        )
        with storage_errors(t.invoices.name):
            self._connection.execute(statement)


class MatchToleranceRepository:
    """Tolerance rules, one per scope (facility, supplier, both, or the default)."""

    table = match_tolerances

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def rules(
        self, *, facility_id: str | None = None, supplier_id: str | None = None
    ) -> builtins.list[ToleranceRule]:
        """Every rule, or those that could apply to the facility and supplier given."""
        c = self.table.c
        query = sa.select(self.table).order_by(c.facility_id, c.supplier_id)
        if facility_id is not None:
            query = query.where(c.facility_id.in_([ANY, facility_id]))
        if supplier_id is not None:
            query = query.where(c.supplier_id.in_([ANY, supplier_id]))
        with storage_errors(self.table.name):
            return [_rule(row) for row in self._connection.execute(query)]

    def set(self, rule: ToleranceRule, *, at: datetime) -> None:
        """Insert or replace the rule of its scope."""
        tolerance = rule.tolerance
        row = {
            "facility_id": rule.facility_id or ANY, "supplier_id": rule.supplier_id or ANY,
            "price_percent": tolerance.price_percent, "price_amount": tolerance.price_amount,
            "quantity_percent": tolerance.quantity_percent,
            "quantity_amount": tolerance.quantity_amount, "updated_at": at,
        }  # fmt: skip
        dialect = self._connection.dialect.name
        insert = sqlite.insert(self.table) if dialect == "sqlite" else postgresql.insert(self.table)
        statement = insert.values(row).on_conflict_do_update(
            index_elements=["facility_id", "supplier_id"],
            set_={k: v for k, v in row.items() if k not in {"facility_id", "supplier_id"}},
        )
        with storage_errors(self.table.name):
            self._connection.execute(statement)

    def remove(self, *, facility_id: str | None, supplier_id: str | None) -> bool:
        """Delete the rule of the scope; False when there was none."""
        c = self.table.c
        statement = sa.delete(self.table).where(
            (c.facility_id == (facility_id or ANY)) & (c.supplier_id == (supplier_id or ANY))
        )
        with storage_errors(self.table.name):
            return bool(self._connection.execute(statement).rowcount)


def _rule(row: Row) -> ToleranceRule:
    return ToleranceRule(
        facility_id=row.facility_id or None, supplier_id=row.supplier_id or None,
        tolerance=Tolerance(
            price_percent=row.price_percent, price_amount=row.price_amount,
            quantity_percent=row.quantity_percent, quantity_amount=row.quantity_amount,
        ),
    )  # fmt: skip


def _clearance(row: Row) -> DuplicateClearance:
    return DuplicateClearance(
        invoice_id=row.invoice_id, original_invoice_id=row.original_invoice_id,
        reason=row.reason, decided_by=row.decided_by, decided_at=row.decided_at,
    )  # fmt: skip


def _line_json(line: LineMatch) -> dict[str, Any]:
    values: dict[str, Any] = {
        "line_number": line.line_number, "finding": line.finding.value,
        "po_line_number": line.po_line_number, "item_id": line.item_id,
    }  # fmt: skip
    for name in _DECIMALS:
        values[name] = f"{getattr(line, name):f}"
    return values


def _line_from(values: dict[str, Any]) -> LineMatch:
    decimals = {name: Decimal(values[name]) for name in _DECIMALS}
    return LineMatch(
        line_number=values["line_number"], finding=Finding(values["finding"]),
        po_line_number=values["po_line_number"], item_id=values["item_id"], **decimals,
    )  # fmt: skip


def _to_row(match: InvoiceMatch) -> dict[str, Any]:
    return {
        "invoice_id": match.invoice_id, "invoice_number": match.invoice_number,
        "facility_id": match.facility_id, "supplier_id": match.supplier_id,
        "purchase_order_number": match.purchase_order_number,
        "purchase_order_id": match.purchase_order_id, "status": match.status.value,
        "findings": ",".join(f.value for f in match.findings),
        "lines": json.dumps([_line_json(line) for line in match.lines], separators=(",", ":")),
        "invoice_amount": match.invoice_amount, "matched_amount": match.matched_amount,
        "variance_amount": match.variance_amount, "attempts": match.attempts,
        "received_at": match.received_at, "updated_at": match.updated_at,
        "matched_at": match.matched_at, "duplicate_of": match.duplicate_of,
        "voucher_id": match.voucher_id, "trace_id": match.trace_id,
    }  # fmt: skip


def _from_row(row: Row) -> InvoiceMatch:
    return InvoiceMatch(
        invoice_id=row.invoice_id, invoice_number=row.invoice_number,
        facility_id=row.facility_id, supplier_id=row.supplier_id,
        purchase_order_number=row.purchase_order_number,
        purchase_order_id=row.purchase_order_id, status=MatchStatus(row.status),
        findings=tuple(Finding(f) for f in row.findings.split(",") if f),
        lines=tuple(_line_from(values) for values in json.loads(row.lines)),
        invoice_amount=_cents(row.invoice_amount), matched_amount=_cents(row.matched_amount),
        variance_amount=_cents(row.variance_amount), attempts=row.attempts,
        received_at=row.received_at, updated_at=row.updated_at, matched_at=row.matched_at,
        duplicate_of=row.duplicate_of, voucher_id=row.voucher_id, trace_id=row.trace_id,
    )  # fmt: skip


def _cents(value: Decimal) -> Decimal:
    """A match's amount as the match made it: cents (the column keeps four places, so a row
    read back said 100.0000 where the run had said 100.00)."""
    return value.quantize(CENT)

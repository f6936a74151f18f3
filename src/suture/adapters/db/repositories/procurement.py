"""Repositories of procure-to-pay's ordering half: requisition approvals, trading partners.

``RequisitionApprovalRepository.start`` inserts with ``ON CONFLICT DO NOTHING … RETURNING``: a
row back means this transaction applied the policy (STYLE.md habit 3), correct when two workers
take the same requisition at once. ``get(lock=True)`` and ``TradingPartnerRepository.get(
lock=True)`` hold the row until commit (``FOR UPDATE`` on PostgreSQL; SQLite's write lock is
the database's), so two approvers, or two 850s to one partner, are serialised.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db.errors import StorageError, storage_errors
from suture.adapters.db.procurement_tables import requisition_approvals, trading_partners
from suture.adapters.db.repositories.base import Row
from suture.domain.approval import ApprovalStatus, RequisitionApproval
from suture.domain.trading_partners import TradingPartner


def _insert(connection: sa.Connection, table: sa.Table) -> Any:
    return sqlite.insert(table) if connection.dialect.name == "sqlite" else postgresql.insert(table)


class RequisitionApprovalRepository:
    """One row per requisition id: the approval workflow's state (``domain/approval.py``)."""

    table = requisition_approvals

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def start(self, approval: RequisitionApproval) -> bool:
        """Store a new state; False, writing nothing, when the requisition has one already."""
        statement = (
            _insert(self._connection, self.table)
            .on_conflict_do_nothing(index_elements=["requisition_id"])
            .returning(self.table.c.requisition_id)
        )
        with storage_errors(self.table.name):
            inserted = self._connection.execute(statement, _to_row(approval)).first()
        return inserted is not None

    def get(self, requisition_id: str, *, lock: bool = False) -> RequisitionApproval | None:
        query = sa.select(self.table).where(self.table.c.requisition_id == requisition_id)
        if lock:
            query = query.with_for_update()
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else _from_row(row)

    def save(self, approval: RequisitionApproval) -> None:
        """Write a stored state's changes (status, decision, POs, ``updated_at``)."""
        values = _to_row(approval)
        values.pop("requisition_id")
        with storage_errors(self.table.name):
            updated = self._connection.execute(
                sa.update(self.table)
                .where(self.table.c.requisition_id == approval.requisition_id)
                .values(values)
            ).rowcount
        if updated != 1:
            raise StorageError(
                "requisition_approvals.requisition_id", f"no state for {approval.requisition_id}"
            )

    def list(
        self,
        *,
        status: ApprovalStatus | None = None,
        approver: str | None = None,
        facility_ids: Collection[str] | None = None,
        department_id: str | None = None,
        reason: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[RequisitionApproval]:
        """States ordered by requisition id, after ``after``; ``facility_ids`` None: all."""
        c = self.table.c
        query = sa.select(self.table).order_by(c.requisition_id).limit(limit)
        if status is not None:
            query = query.where(c.status == str(status))
        if approver is not None:
            query = query.where(c.approver == approver)
        if facility_ids is not None:
            query = query.where(c.facility_id.in_(sorted(facility_ids)))
        if department_id is not None:
            query = query.where(c.department_id == department_id)
        if reason is not None:
            query = query.where(c.reason == reason)
        if after is not None:
            query = query.where(c.requisition_id > after)
        with storage_errors(self.table.name):
            return [_from_row(row) for row in self._connection.execute(query)]


def _to_row(approval: RequisitionApproval) -> dict[str, Any]:
    return {
        "requisition_id": approval.requisition_id,
        "facility_id": approval.facility_id,
        "department_id": approval.department_id,
        "reason": approval.reason,
        "status": approval.status.value,
        "amount": approval.amount,
        "off_contract": approval.off_contract,
        "rule": approval.rule,
        "approver": approval.approver,
        "decided_by": approval.decided_by,
        "decided_at": approval.decided_at,
        "note": approval.note,
        "purchase_orders": " ".join(approval.purchase_orders) or None,
        "trace_id": approval.trace_id,
        "created_at": approval.created_at,
        "updated_at": approval.updated_at,
    }


def _from_row(row: Row) -> RequisitionApproval:
    return RequisitionApproval(
        requisition_id=row.requisition_id, facility_id=row.facility_id,
        department_id=row.department_id, reason=row.reason, status=ApprovalStatus(row.status),
        amount=row.amount, off_contract=bool(row.off_contract), rule=row.rule,
        approver=row.approver, decided_by=row.decided_by, decided_at=row.decided_at,
        note=row.note, purchase_orders=tuple((row.purchase_orders or "").split()),
        trace_id=row.trace_id, created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


class TradingPartnerRepository:
    """Each supplier's X12 profile, keyed by supplier id."""

    table = trading_partners

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def get(self, supplier_id: str, *, lock: bool = False) -> TradingPartner | None:
        query = sa.select(self.table).where(self.table.c.supplier_id == supplier_id)
        if lock:
            query = query.with_for_update()
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else _partner(row)

    def save(self, partner: TradingPartner) -> None:
        """Insert or replace the profile (its control number too)."""
        values = _partner_row(partner)
        statement = _insert(self._connection, self.table).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["supplier_id"],
            set_={key: statement.excluded[key] for key in values if key != "supplier_id"},
        )
        with storage_errors(self.table.name):
            self._connection.execute(statement)

    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[TradingPartner]:
        query = sa.select(self.table).order_by(self.table.c.supplier_id).limit(limit)
        if after is not None:
            query = query.where(self.table.c.supplier_id > after)
        with storage_errors(self.table.name):
            return [_partner(row) for row in self._connection.execute(query)]


def _partner_row(partner: TradingPartner) -> dict[str, Any]:
    return {
        "supplier_id": partner.supplier_id,
        "isa_qualifier": partner.isa_qualifier,
        "isa_id": partner.isa_id,
        "gs_id": partner.gs_id,
        "x12_version": partner.x12_version,
        "usage_indicator": partner.usage_indicator,
        "delivery_target": partner.delivery_target,
        "last_control_number": partner.last_control_number,
        "updated_at": partner.updated_at,
    }


def _partner(row: Row) -> TradingPartner:
    return TradingPartner(
        supplier_id=row.supplier_id, isa_qualifier=row.isa_qualifier, isa_id=row.isa_id,
        gs_id=row.gs_id, x12_version=row.x12_version, usage_indicator=row.usage_indicator,
        delivery_target=row.delivery_target, last_control_number=row.last_control_number,
        updated_at=row.updated_at,
    )  # fmt: skip

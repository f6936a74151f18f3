"""Requisition approvals and trading partners hold the same promises on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from suture.adapters.db.errors import StorageError
from suture.domain.approval import ApprovalStatus, RequisitionApproval
from suture.domain.trading_partners import TradingPartner
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 3, 14, tzinfo=UTC)
UowFactory = Callable[[], UnitOfWork]


def approval(requisition_id: str, facility: str, **changes: object) -> RequisitionApproval:
    pending = RequisitionApproval(
        requisition_id=requisition_id, facility_id=facility, department_id="dept",
        reason="department", status=ApprovalStatus.PENDING, amount=Decimal("1200.50"),
        rule="rest", approver="purchasing", created_at=AT, updated_at=AT, trace_id="t" * 32,
    )  # fmt: skip
    return replace(pending, **changes)  # type: ignore[arg-type]


def test_a_requisition_starts_one_approval_and_reads_back_whole(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    first = approval(f"R1-{run}", f"fac-{run}")
    with uow() as unit:
        started = unit.requisition_approvals.start(first)
        again = unit.requisition_approvals.start(replace(first, amount=Decimal(1)))
        unit.commit()
    decided = first.approve("pat", AT, "ok").ordered(["PO-1", "PO-2"], AT)
    with uow() as unit:
        unit.requisition_approvals.save(decided)
        unit.commit()
    with uow() as unit:
        stored = unit.requisition_approvals.get(first.requisition_id, lock=True)

    assert (started, again) == (True, False)
    assert stored == decided


def test_saving_an_approval_never_started_is_refused(uow: UowFactory) -> None:
    with uow() as unit, pytest.raises(StorageError, match="no state for"):
        unit.requisition_approvals.save(approval(f"R-{uuid.uuid4().hex}", "fac"))


def test_the_work_list_filters_by_status_role_facility_and_pages_by_id(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    mine, theirs = f"fac-a-{run}", f"fac-b-{run}"
    rows = [
        approval(f"R1-{run}", mine),
        approval(f"R2-{run}", mine, approver="cfo"),
        approval(f"R3-{run}", mine, status=ApprovalStatus.APPROVED, approver=None),
        approval(f"R4-{run}", theirs),
        approval(f"R5-{run}", mine),
    ]
    with uow() as unit:
        for row in rows:
            unit.requisition_approvals.start(row)
        unit.commit()
    with uow() as unit:
        pending = unit.requisition_approvals.list(
            status=ApprovalStatus.PENDING, approver="purchasing", facility_ids=[mine]
        )
        page = unit.requisition_approvals.list(facility_ids=[mine], after=f"R1-{run}", limit=2)

    assert [a.requisition_id for a in pending] == [f"R1-{run}", f"R5-{run}"]
    assert [a.requisition_id for a in page] == [f"R2-{run}", f"R3-{run}"]


def test_a_partner_profile_is_replaced_whole_and_listed_by_supplier(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    profile = TradingPartner(
        supplier_id=f"SUP-{run}", isa_qualifier="ZZ", isa_id="ACME", gs_id="ACMEGS",
        updated_at=AT,
    )  # fmt: skip
    moved = replace(profile, x12_version="004010", delivery_target="x12:van",
                    last_control_number=41)  # fmt: skip
    with uow() as unit:
        unit.trading_partners.save(profile)
        unit.trading_partners.save(moved)
        unit.commit()
    with uow() as unit:
        stored = unit.trading_partners.get(profile.supplier_id, lock=True)
        listed = unit.trading_partners.list(after=f"SUP-{run}"[:-1], limit=1000)

    assert stored == moved
    assert stored is not None
    assert stored.next_control_number() == 42
    assert moved in listed

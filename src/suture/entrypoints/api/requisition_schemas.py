"""Shapes of requisitions in the Process and Experience APIs (``<Resource><Role>``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from suture.services.requisitions import RequisitionView


class RequisitionApprovalLinePublic(BaseModel):
    line_number: int
    item_id: str
    quantity: Decimal = Field(description="In ``uom``; a decimal string.")
    uom: str


class RequisitionApprovalPublic(BaseModel):
    """A requisition, its approval status and decision, and the POs raised from it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "REQ-1",
                    "facility_id": "fac-1",
                    "department_id": "dep-1-or",
                    "location_id": "loc-1-or-core",
                    "requested_at": "2026-11-20T14:05:00Z",
                    "status": "ordered",
                    "reason": "replenishment",
                    "amount": "170.00",
                    "off_contract": False,
                    "rule": "small-replenishment",
                    "approver": None,
                    "decided_by": "policy:small-replenishment",
                    "decided_at": "2026-11-20T14:05:01Z",
                    "note": None,
                    "purchase_orders": ["PO-REQ-1-1"],
                    "lines": [
                        {"line_number": 1, "item_id": "ITM-77B1", "quantity": "4", "uom": "BX"}
                    ],
                }
            ]
        }
    )

    id: str
    facility_id: str
    department_id: str | None
    location_id: str | None
    requested_at: datetime
    status: str = Field(
        description="pending_approval, approved, rejected or ordered (draft: not yet routed)."
    )
    reason: str | None = Field(description="replenishment or department.")
    amount: Decimal | None = Field(
        description="The total priced from the contract when the approval policy was applied."
    )
    off_contract: bool | None = Field(description="Some line had no contract price.")
    rule: str | None = Field(description="The approval-policy rule that routed it.")
    approver: str | None = Field(description="The approver role it waits for or waited for.")
    decided_by: str | None = Field(description="Who approved or rejected (policy:<rule>: auto).")
    decided_at: datetime | None
    note: str | None = Field(description="The approver's note, or the rejection's reason.")
    purchase_orders: list[str] = Field(description="Numbers of the POs raised from it.")
    lines: list[RequisitionApprovalLinePublic]

    @classmethod
    def of(cls, view: RequisitionView) -> RequisitionApprovalPublic:
        r, a = view.requisition, view.approval
        decision: dict[str, object] = {
            "reason": None, "amount": None, "off_contract": None, "rule": None,
            "approver": None, "decided_by": None, "decided_at": None, "note": None,
            "purchase_orders": [],
        }  # fmt: skip
        if a is not None:
            decision = {
                "reason": a.reason, "amount": a.amount, "off_contract": a.off_contract,
                "rule": a.rule, "approver": a.approver, "decided_by": a.decided_by,
                "decided_at": a.decided_at, "note": a.note,
                "purchase_orders": list(a.purchase_orders),
            }  # fmt: skip
        return cls.model_validate(
            {
                "id": r.id, "facility_id": r.facility_id, "department_id": r.department_id,
                "location_id": r.location_id, "requested_at": r.requested_at,
                "status": view.status, **decision,
                "lines": [
                    {"line_number": ln.line_number, "item_id": ln.item_id,
                     "quantity": ln.quantity, "uom": ln.uom}
                    for ln in r.lines
                ],
            }
        )  # fmt: skip


class RequisitionApprovalPage(BaseModel):
    items: list[RequisitionApprovalPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class ApproveRequest(BaseModel):
    note: str | None = Field(
        default=None, max_length=500, description="Why (kept with the decision and audited)."
    )

    model_config = {"json_schema_extra": {"examples": [{"note": "budgeted for Q3"}]}}


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why it is rejected.")

    model_config = {"json_schema_extra": {"examples": [{"reason": "use the stock at central"}]}}


class RequisitionLineCreate(BaseModel):
    item_id: str = Field(min_length=1, max_length=100, description="An item of the item master.")
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=4, description="How many.")
    uom: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9]{2,3}$",
        description="A unit of the item; default: its purchasing unit.",
    )


class RequisitionCreate(BaseModel):
    """A departmental request: the department asks for items; the approval policy routes it."""

    facility_id: str = Field(min_length=1, max_length=100, description="One of the token's.")
    department_id: str = Field(min_length=1, max_length=100, description="A department there.")
    location_id: str | None = Field(
        default=None, max_length=100, description="Deliver to: a location of `facility_id`."
    )
    lines: list[RequisitionLineCreate] = Field(min_length=1, max_length=200)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "facility_id": "FAC-01",
                    "department_id": "FAC-01-D01",
                    "lines": [{"item_id": "ITEM-000123", "quantity": "2", "uom": "BX"}],
                }
            ]
        }
    }

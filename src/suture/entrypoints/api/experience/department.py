"""Experience API: departmental requests (DESIGN.md §6; issue 7).

A department (a client with ``experience:department`` bound to its facilities) submits a
requisition by item id and quantity and follows it: its status, the approver's decision and
the purchase orders raised from it. A submitted requisition takes the same path as a
replenishment: priced from the contract, routed by the approval policy
(``services/workflows/requisitions.py``). Every submission is audited
(``requisition.submit``). A token sees and submits only for its own facilities (``403``
otherwise); a supplier-bound client is refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.approval import ApprovalStatus
from suture.entrypoints.api.auditing import actor
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.requisition_schemas import (
    RequisitionApprovalPage,
    RequisitionApprovalPublic,
    RequisitionCreate,
)
from suture.entrypoints.api.security import RecordScope, check_record, require
from suture.entrypoints.api.system.params import Cursor, Limit, RecordId
from suture.entrypoints.api.system.records import decode_cursor, encode_cursor
from suture.services.requisitions import RequestedLine

router = APIRouter(
    prefix="/api/v1/experience/department",
    tags=["departmental requests"],
    responses=responses(400, 401, 403, 422, 429),
)

DepartmentUser = Annotated[Principal, require(Scope.EXPERIENCE_DEPARTMENT)]


def _no_supplier(principal: Principal) -> None:
    if principal.supplier_id is not None:
        raise AccessDeniedError("supplier_id", "requisitions belong to no supplier")


@router.post(
    "/requisitions",
    summary="Submit a departmental requisition",
    response_model=RequisitionApprovalPublic,
    status_code=status.HTTP_201_CREATED,
)
def submit_requisition(
    request: Request, principal: DepartmentUser, body: RequisitionCreate
) -> RequisitionApprovalPublic:
    """Ask for items for a department; the approval policy routes it (auto-approved, or waiting
    for an approver). The answer is the stored requisition (status ``pending_approval`` until
    the policy has run: read it again to follow it)."""
    _no_supplier(principal)
    check_record(principal, facility_id=body.facility_id, write=True)
    hub: Hub = request.app.state.hub
    requisition = hub.requisitions.submit(
        facility_id=body.facility_id, department_id=body.department_id,
        location_id=body.location_id, actor=actor(principal, Scope.EXPERIENCE_DEPARTMENT),
        lines=[RequestedLine(line.item_id, line.quantity, line.uom) for line in body.lines],
    )  # fmt: skip
    return RequisitionApprovalPublic.of(hub.requisitions.show(requisition.id))


@router.get(
    "/requisitions",
    summary="List our departments' requisitions",
    response_model=RequisitionApprovalPage,
)
def list_requisitions(
    request: Request,
    principal: DepartmentUser,
    scope: RecordScope,
    *,
    department_id: Annotated[
        str | None, Query(max_length=100, description="Only this department's.")
    ] = None,
    status: Annotated[ApprovalStatus | None, Query(description="Only this status.")] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> RequisitionApprovalPage:
    """Requisitions of the token's facilities by id, with status, decision and POs."""
    _no_supplier(principal)
    hub: Hub = request.app.state.hub
    views = hub.requisitions.list(
        status=status, facility_ids=scope.facility_ids, department_id=department_id,
        after=decode_cursor(cursor), limit=limit + 1,
    )  # fmt: skip
    page = views[:limit]
    return RequisitionApprovalPage(
        items=[RequisitionApprovalPublic.of(view) for view in page],
        next_cursor=encode_cursor(page[-1].requisition.id) if len(views) > limit else None,
    )


@router.get(
    "/requisitions/{requisition_id}",
    summary="Get one of our requisitions",
    response_model=RequisitionApprovalPublic,
    responses=responses(404),
)
def get_requisition(
    request: Request, principal: DepartmentUser, requisition_id: RecordId
) -> RequisitionApprovalPublic:
    """Its status, the approver's decision and the resulting purchase-order numbers."""
    _no_supplier(principal)
    view = request.app.state.hub.requisitions.show(requisition_id)
    check_record(principal, facility_id=view.requisition.facility_id)
    return RequisitionApprovalPublic.of(view)

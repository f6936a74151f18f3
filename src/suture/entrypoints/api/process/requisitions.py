"""Process API: requisition approval (DESIGN.md §6, "Process APIs run business logic").

The approver's work list and the two decisions. A decision is the service's
(``services/requisitions.py``): recorded with who decided and why, audited in the same
transaction, idempotent (approving an approved requisition answers 200 with ``changed`` false);
the opposite decision on a decided requisition is ``409``. Requisitions belong to facilities:
a token sees and decides only its facilities' (``403`` otherwise, audited as denied), and a
supplier-bound client is refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.approval import ApprovalStatus
from suture.domain.audit import Outcome
from suture.domain.errors import SutureError
from suture.entrypoints.api.auditing import actor
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.requisition_schemas import (
    ApproveRequest,
    RejectRequest,
    RequisitionApprovalPage,
    RequisitionApprovalPublic,
)
from suture.entrypoints.api.security import RecordScope, check_record, require
from suture.entrypoints.api.system.params import Cursor, Limit, RecordId
from suture.entrypoints.api.system.records import decode_cursor, encode_cursor
from suture.services.requisitions import Decision, RequisitionView

router = APIRouter(
    prefix="/api/v1/process/requisitions",
    tags=["requisitions"],
    responses=responses(400, 401, 403, 422, 429),
)

Approver = Annotated[Principal, require(Scope.PROCESS_EXECUTE)]


class RequisitionDecisionPublic(BaseModel):
    """The requisition after the decision, and whether this request changed it."""

    changed: bool = Field(description="False: it was decided this way already; nothing changed.")
    requisition: RequisitionApprovalPublic


def _no_supplier(principal: Principal) -> None:
    if principal.supplier_id is not None:
        raise AccessDeniedError("supplier_id", "requisitions belong to no supplier")


def visible(hub: Hub, principal: Principal, requisition_id: str) -> RequisitionView:
    """The requisition if the principal may see it: 404 unknown, 403 another facility's."""
    _no_supplier(principal)
    view = hub.requisitions.show(requisition_id)
    check_record(principal, facility_id=view.requisition.facility_id)
    return view


@router.get(
    "", summary="List requisitions (the approval work list)", response_model=RequisitionApprovalPage
)
def list_requisitions(
    request: Request,
    principal: Approver,
    scope: RecordScope,
    *,
    status: Annotated[
        ApprovalStatus | None, Query(description="One status; default: pending_approval.")
    ] = ApprovalStatus.PENDING,
    approver: Annotated[
        str | None, Query(max_length=64, description="Only those for this approver role.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> RequisitionApprovalPage:
    """Requisitions by id within the caller's facilities: by default those awaiting approval."""
    _no_supplier(principal)
    hub: Hub = request.app.state.hub
    views = hub.requisitions.list(
        status=status, approver=approver, facility_ids=scope.facility_ids,
        after=decode_cursor(cursor), limit=limit + 1,
    )  # fmt: skip
    page = views[:limit]
    return RequisitionApprovalPage(
        items=[RequisitionApprovalPublic.of(view) for view in page],
        next_cursor=encode_cursor(page[-1].requisition.id) if len(views) > limit else None,
    )


@router.get(
    "/{requisition_id}",
    summary="Get a requisition and its approval",
    response_model=RequisitionApprovalPublic,
    responses=responses(404),
)
def get_requisition(
    request: Request, principal: Approver, requisition_id: RecordId
) -> RequisitionApprovalPublic:
    """Its lines, priced total, routing rule, decision and purchase orders."""
    return RequisitionApprovalPublic.of(visible(request.app.state.hub, principal, requisition_id))


def _decide(
    request: Request, principal: Principal, requisition_id: str, verb: str, why: str | None
) -> RequisitionDecisionPublic:
    hub: Hub = request.app.state.hub
    who = actor(principal, Scope.PROCESS_EXECUTE)
    try:
        view = visible(hub, principal, requisition_id)
        check_record(principal, facility_id=view.requisition.facility_id, write=True)
    except (HTTPException, SutureError) as error:
        denied = isinstance(error, HTTPException | AccessDeniedError)
        reason = str(error.detail) if isinstance(error, HTTPException) else str(error)
        hub.audit.record_alone(
            who, f"requisition.{verb}", target_type="requisition", target_id=requisition_id,
            outcome=Outcome.DENIED if denied else Outcome.FAILED, reason=reason,
        )  # fmt: skip
        raise
    decision: Decision
    if verb == "approve":
        decision = hub.requisitions.approve(requisition_id, actor=who, note=why)
    else:
        decision = hub.requisitions.reject(requisition_id, actor=who, reason=why or "")
    view = hub.requisitions.show(requisition_id)
    return RequisitionDecisionPublic(
        changed=decision.changed, requisition=RequisitionApprovalPublic.of(view)
    )


@router.post(
    "/{requisition_id}/approve",
    summary="Approve a requisition",
    response_model=RequisitionDecisionPublic,
    responses=responses(404, 409),
)
def approve_requisition(
    request: Request,
    principal: Approver,
    requisition_id: RecordId,
    body: ApproveRequest | None = None,
) -> RequisitionDecisionPublic:
    """Approve a requisition pending approval: its purchase orders are raised and sent as 850s.
    Approving it again changes nothing (``changed`` false); a rejected one is ``409``."""
    note = body.note if body is not None else None
    return _decide(request, principal, requisition_id, "approve", note)


@router.post(
    "/{requisition_id}/reject",
    summary="Reject a requisition with a reason",
    response_model=RequisitionDecisionPublic,
    responses=responses(404, 409),
)
def reject_requisition(
    request: Request, principal: Approver, requisition_id: RecordId, body: RejectRequest
) -> RequisitionDecisionPublic:
    """Reject a requisition pending approval; nothing is ordered. An approved one is ``409``."""
    return _decide(request, principal, requisition_id, "reject", body.reason)

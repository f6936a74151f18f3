"""Process API: the exception work queue (DESIGN.md §5) for the people who clear it.

List and read items within the caller's facilities; assign, resolve, dismiss with a reason, or
retry (re-drive the failed message, work item or delivery). Every action is the work queue's
(``services/exceptions.py``) and is recorded in the audit trail with the item's status before
and after. Exceptions belong to facilities, never to a supplier: a supplier-bound client is
refused. The actor the item's trail names is the API client.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.exceptions import (
    DEFAULT_SLA_POLICY,
    ExceptionItem,
    ExceptionStatus,
    ExceptionType,
)
from suture.entrypoints.api.auditing import actor, audited
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.process.schemas import (
    AssignRequest,
    DismissRequest,
    ExceptionActionPublic,
    ExceptionDetailPublic,
    ExceptionItemPublic,
    ExceptionPage,
    ResolveRequest,
)
from suture.entrypoints.api.security import RecordScope, check_record, require
from suture.entrypoints.api.system.params import Cursor, Limit, RecordId
from suture.entrypoints.api.system.records import decode_cursor, encode_cursor
from suture.services.unit_of_work import UnitOfWork

router = APIRouter(
    prefix="/api/v1/process/exceptions",
    tags=["exceptions"],
    responses=responses(400, 401, 403, 422, 429),
)

Operator = Annotated[Principal, require(Scope.PROCESS_EXECUTE)]


def _no_supplier(principal: Principal) -> None:
    if principal.supplier_id is not None:
        raise AccessDeniedError("supplier_id", "exception items belong to no supplier")


def _visible(hub: Hub, principal: Principal, item_id: str) -> ExceptionItem:
    _no_supplier(principal)
    item = hub.work_queue.show(item_id).item
    check_record(principal, facility_id=item.facility_id)
    return item


def _known_queue(queue: str | None) -> str | None:
    """A queue filter that names no queue would list nothing, read as an empty queue."""
    if queue is not None and queue not in DEFAULT_SLA_POLICY.queues:
        msg = f"must be one of: {', '.join(DEFAULT_SLA_POLICY.queues)}"
        raise ValueError(msg)
    return queue


@router.get("", summary="List exception items", response_model=ExceptionPage)
def list_exceptions(
    request: Request,
    principal: Operator,
    scope: RecordScope,
    *,
    status: Annotated[
        list[ExceptionStatus] | None, Query(description="Statuses; default: open.")
    ] = None,
    type: Annotated[ExceptionType | None, Query(description="One business type.")] = None,
    queue: Annotated[
        str | None,
        AfterValidator(_known_queue),
        Query(
            max_length=64,
            description="One queue: "
            + ", ".join(f"`{queue}`" for queue in DEFAULT_SLA_POLICY.queues)
            + "; another is a 422.",
        ),
    ] = None,
    owner: Annotated[str | None, Query(max_length=100, description="One owner.")] = None,
    overdue: Annotated[bool, Query(description="Only items past their SLA due time.")] = False,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> ExceptionPage:
    """Items in the order they were opened, within the caller's facilities."""
    _no_supplier(principal)
    hub: Hub = request.app.state.hub
    items = hub.work_queue.list(
        statuses=status or [ExceptionStatus.OPEN],
        type=type,
        queue=queue,
        owner=owner,
        overdue=overdue,
        after=decode_cursor(cursor),
        limit=limit + 1,
        facility_ids=scope.facility_ids,
    )
    more = len(items) > limit
    page = items[:limit]
    return ExceptionPage(
        items=[ExceptionItemPublic.model_validate(item) for item in page],
        next_cursor=encode_cursor(page[-1].id) if more else None,
    )


@router.get(
    "/{item_id}",
    summary="Get an exception item and its trail",
    response_model=ExceptionDetailPublic,
    responses=responses(404),
)
def get_exception(
    request: Request, principal: Operator, item_id: RecordId
) -> ExceptionDetailPublic:
    """The item, with every action taken on it, oldest first."""
    hub: Hub = request.app.state.hub
    _visible(hub, principal, item_id)
    detail = hub.work_queue.show(item_id)
    return ExceptionDetailPublic(
        item=ExceptionItemPublic.model_validate(detail.item),
        actions=[ExceptionActionPublic.model_validate(action) for action in detail.actions],
    )


def _act(
    request: Request, principal: Operator, item_id: str, action: str, change: str
) -> ExceptionItemPublic:
    hub: Hub = request.app.state.hub
    name = f"exception.{action}"
    who = actor(principal, Scope.PROCESS_EXECUTE)

    def audit(uow: UnitOfWork, was: ExceptionItem, now: ExceptionItem) -> None:
        # in the change's own transaction: the item and its audit entry commit together
        hub.audit.record(
            uow, who, name, target_type="exception", target_id=item_id,
            before=f"status={was.status}", after=f"status={now.status}",
        )  # fmt: skip

    def run() -> ExceptionItem:
        _visible(hub, principal, item_id)
        queue = hub.work_queue
        by = principal.client_id
        operations = {
            "retry": lambda: queue.retry(item_id, by=by, audit=audit),
            "dismiss": lambda: queue.dismiss(item_id, by=by, reason=change, audit=audit),
            "resolve": lambda: queue.resolve(item_id, by=by, note=change, audit=audit),
            "assign": lambda: queue.assign(item_id, change or None, by=by, audit=audit),
        }
        return operations[action]()

    item = audited(
        hub, principal, Scope.PROCESS_EXECUTE, name, target=("exception", item_id), run=run,
        success_recorded=True,
    )  # fmt: skip
    return ExceptionItemPublic.model_validate(item)


@router.post(
    "/{item_id}/retry",
    summary="Retry an exception item's subject",
    response_model=ExceptionItemPublic,
    responses=responses(404),
)
def retry_exception(
    request: Request, principal: Operator, item_id: RecordId
) -> ExceptionItemPublic:
    """Re-drive the failed message, work item or delivery; the item resolves when it succeeds
    and opens again when it fails anew."""
    return _act(request, principal, item_id, "retry", "")


@router.post(
    "/{item_id}/dismiss",
    summary="Dismiss an exception item with a reason",
    response_model=ExceptionItemPublic,
    responses=responses(404),
)
def dismiss_exception(
    request: Request, principal: Operator, item_id: RecordId, body: DismissRequest
) -> ExceptionItemPublic:
    """Close the item without acting on its subject; the reason is kept in its trail."""
    return _act(request, principal, item_id, "dismiss", body.reason)


@router.post(
    "/{item_id}/resolve",
    summary="Resolve an exception item",
    response_model=ExceptionItemPublic,
    responses=responses(404),
)
def resolve_exception(
    request: Request, principal: Operator, item_id: RecordId, body: ResolveRequest
) -> ExceptionItemPublic:
    """Close the item as fixed outside Suture; the note is kept in its trail."""
    return _act(request, principal, item_id, "resolve", body.note)


@router.post(
    "/{item_id}/assign",
    summary="Assign an exception item",
    response_model=ExceptionItemPublic,
    responses=responses(404),
)
def assign_exception(
    request: Request, principal: Operator, item_id: RecordId, body: AssignRequest
) -> ExceptionItemPublic:
    """Give the item an owner, or take it back (``owner`` null)."""
    return _act(request, principal, item_id, "assign", body.owner or "")

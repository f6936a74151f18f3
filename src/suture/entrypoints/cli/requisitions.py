"""``suture requisitions``: the approval work list and its decisions (docs/workflows.md).

``list`` and ``show`` read; ``approve`` and ``reject`` decide, each recorded in the audit trail
(``requisition.approve`` / ``requisition.reject``: who, when, before and after, why) together
with the decision. ``--by`` names who decides; it defaults to the operating-system user.
Exit codes:

- 0: done (approving an approved requisition is done too, and says nothing changed);
- 1: refused: no such requisition, or it was decided the other way already (a conflict);
- 2: bad input: an empty ``--reason``, an unknown option value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from suture.bootstrap import Hub
from suture.domain.approval import ApprovalStatus
from suture.domain.audit import Actor
from suture.domain.errors import DomainError, SutureError
from suture.entrypoints.cli.app import console, errors, open_hub, print_table
from suture.entrypoints.cli.audit import CLI_CLIENT, operator_name
from suture.services.requisitions import RequisitionView

_T = TypeVar("_T")

requisitions_app = typer.Typer(
    help="Requisitions: the approval work list, approve and reject (procure-to-pay).",
    no_args_is_help=True,
)

By = Annotated[
    str,
    typer.Option(
        "--by", default_factory=operator_name, help="Who decides; default: your login name."
    ),
]
RequisitionId = Annotated[str, typer.Argument(help="The requisition's id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def _hub() -> Iterator[Hub]:
    hub = open_hub()
    try:
        yield hub
    finally:
        hub.close()


def _fail(error: SutureError, code: int = 1) -> NoReturn:
    errors.print(f"error: {error}", markup=False)
    raise typer.Exit(code) from None


def _run(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except DomainError as error:
        _fail(error, 2 if error.field == "reason" else 1)
    except SutureError as error:
        _fail(error)


def _as_dict(view: RequisitionView) -> dict[str, Any]:
    r, a = view.requisition, view.approval
    return {
        "id": r.id,
        "facility_id": r.facility_id,
        "department_id": r.department_id,
        "location_id": r.location_id,
        "requested_at": r.requested_at.isoformat(),
        "status": view.status,
        "reason": None if a is None else a.reason,
        "amount": None if a is None else str(a.amount),
        "off_contract": None if a is None else a.off_contract,
        "rule": None if a is None else a.rule,
        "approver": None if a is None else a.approver,
        "decided_by": None if a is None else a.decided_by,
        "decided_at": None if a is None or a.decided_at is None else a.decided_at.isoformat(),
        "note": None if a is None else a.note,
        "purchase_orders": [] if a is None else list(a.purchase_orders),
        "lines": [
            {"line": ln.line_number, "item_id": ln.item_id, "quantity": str(ln.quantity),
             "uom": ln.uom}
            for ln in r.lines
        ],
    }  # fmt: skip


@requisitions_app.command("list")
def list_command(
    *,
    status: Annotated[
        ApprovalStatus | None,
        typer.Option(help="Only this status (pending_approval: the work list)."),
    ] = ApprovalStatus.PENDING,
    approver: Annotated[str | None, typer.Option(help="Only those waiting for this role.")] = None,
    facility: Annotated[str | None, typer.Option(help="Only this facility id.")] = None,
    department: Annotated[str | None, typer.Option(help="Only this department id.")] = None,
    all_statuses: Annotated[bool, typer.Option("--all", help="Every status.")] = False,
    after: Annotated[str | None, typer.Option(help="The page after this requisition id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    as_json: AsJson = False,
) -> None:
    """Requisitions by id with their approval status, amount and approver; by default the work
    list (pending approval)."""
    with _hub() as hub:
        views = _run(
            lambda: hub.requisitions.list(
                status=None if all_statuses else status, approver=approver,
                facility_ids=None if facility is None else [facility], department_id=department,
                after=after, limit=limit,
            )
        )  # fmt: skip
    if as_json:
        console.print_json(json.dumps([_as_dict(view) for view in views]))
        return
    table = Table("requisition", "facility", "department", "status", "amount", "rule", "approver",
                  "POs")  # fmt: skip
    for view in views:
        a = view.approval
        table.add_row(
            escape(view.requisition.id), escape(view.requisition.facility_id),
            escape(view.requisition.department_id or ""), view.status,
            "" if a is None else f"{a.amount:,.2f}" + (" (off contract)" if a.off_contract else ""),
            escape("" if a is None else a.rule), escape((a and a.approver) or ""),
            escape(" ".join(a.purchase_orders) if a else ""),
        )  # fmt: skip
    print_table(table)


@requisitions_app.command("show")
def show_command(requisition_id: RequisitionId, *, as_json: AsJson = False) -> None:
    """One requisition: its lines, priced total, the rule that routed it, the decision and POs."""
    with _hub() as hub:
        view = _run(lambda: hub.requisitions.show(requisition_id))
    data = _as_dict(view)
    if as_json:
        console.print_json(json.dumps(data))
        return
    for key, value in data.items():
        if key != "lines":
            shown = " ".join(value) if isinstance(value, list) else value
            console.print(f"[bold]{key}[/bold]: {escape(str(shown if shown is not None else ''))}")
    table = Table("line", "item", "quantity", "uom")
    for line in data["lines"]:
        table.add_row(str(line["line"]), escape(line["item_id"]), line["quantity"], line["uom"])
    print_table(table)


@requisitions_app.command("approve")
def approve_command(
    requisition_id: RequisitionId,
    *,
    by: By,
    note: Annotated[str | None, typer.Option(help="Why (kept with the decision).")] = None,
) -> None:
    """Approve a requisition pending approval; its purchase orders and 850s follow."""
    with _hub() as hub:
        decision = _run(
            lambda: hub.requisitions.approve(requisition_id, actor=Actor(by, CLI_CLIENT), note=note)
        )
    said = (
        "approved" if decision.changed else f"already {decision.approval.status}: nothing changed"
    )
    console.print(f"{escape(requisition_id)}: {said}")


@requisitions_app.command("reject")
def reject_command(
    requisition_id: RequisitionId,
    *,
    by: By,
    reason: Annotated[str, typer.Option(help="Why it is rejected (required).")],
) -> None:
    """Reject a requisition pending approval, with a reason; nothing is ordered."""
    if not reason.strip():
        errors.print("error: --reason: a rejection needs a reason", markup=False)
        raise typer.Exit(2)
    with _hub() as hub:
        decision = _run(
            lambda: hub.requisitions.reject(
                requisition_id, actor=Actor(by, CLI_CLIENT), reason=reason
            )
        )
    said = (
        "rejected" if decision.changed else f"already {decision.approval.status}: nothing changed"
    )
    console.print(f"{escape(requisition_id)}: {said}")

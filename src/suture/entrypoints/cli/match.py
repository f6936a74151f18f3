"""``suture match``: the three-way match from the terminal (docs/workflows.md, three-way match).

``run`` matches one invoice, every held or unmatched invoice of a PO (``--po``), or every
invoice not yet matched (``--all-open``); a matched invoice is left as it is. ``show`` prints an
invoice's match line by line, and the decisions that it is not a duplicate. ``not-duplicate``
records that decision for an invoice held as a *suspected* duplicate (same PO, amount and date
under another number), of the original its match names, and re-runs it at once.
``tolerances list|set|remove`` manage the tolerance rules (a default, overridable per facility,
per supplier, per facility and supplier; the most specific wins); ``set`` changes the options
given and keeps the others. Runs, decisions and tolerance changes are recorded in the audit
trail (``match.run``, ``match.not_duplicate``, ``match.tolerance.set``,
``match.tolerance.remove``) with the operating-system user as actor.

Exit codes: 0 done; 1 refused (no such invoice, or PO number for ``--po``; ``not-duplicate`` of
an invoice not held as a duplicate, or held for the same invoice number); 2 bad input (no
invoice, ``--po`` or ``--all-open``, or more than one; a negative tolerance; ``tolerances set``
with no value; ``not-duplicate`` without a reason). Only ids, numbers, amounts and the
decisions' reasons are printed: invoices carry no patient data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any, NoReturn, Protocol

import typer
from rich.markup import escape
from rich.table import Table

from suture.domain.audit import Outcome
from suture.domain.duplicate_clearance import DuplicateClearance
from suture.domain.errors import SutureError
from suture.domain.matching import InvoiceMatch, Tolerance
from suture.entrypoints.cli.app import console, errors, open_hub, print_table
from suture.entrypoints.cli.audit import cli_actor, operator_name, record_cli_action
from suture.services.audit import AuditTrail
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.match_operations import MatchOperations, MatchView
from suture.services.workflows.three_way_match import MatchRun

match_app = typer.Typer(
    help="Three-way match: invoice against PO and receipts, with tolerances.",
    no_args_is_help=True,
)
tolerances_app = typer.Typer(
    help="Match tolerances: a default, per facility, per supplier, per both (most specific wins).",
    no_args_is_help=True,
)
match_app.add_typer(tolerances_app, name="tolerances")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class MatchHub(Protocol):
    """What these commands need of the hub."""

    matching: MatchOperations
    audit: AuditTrail

    def close(self) -> None: ...


@contextmanager
def _hub() -> Iterator[MatchHub]:
    hub: MatchHub = open_hub()
    try:
        yield hub
    finally:
        hub.close()


@match_app.command("run")
def run_command(
    invoice: Annotated[str | None, typer.Argument(help="The invoice id to match.")] = None,
    *,
    po: Annotated[
        str | None, typer.Option("--po", help="Re-run every invoice not yet matched of PO number.")
    ] = None,
    all_open: Annotated[
        bool, typer.Option("--all-open", help="Run every invoice not yet matched.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Match (or re-run) invoices now; a matched invoice is never matched twice."""
    chosen = [invoice is not None, po is not None, all_open]
    if sum(chosen) != 1:
        _fail("give exactly one of INVOICE, --po PO or --all-open", 2)
    target = invoice or (f"po:{po}" if po else "all-open")
    with _hub() as hub:
        try:
            if invoice is not None:
                runs = [hub.matching.run(invoice)]
            elif po is not None:
                runs = hub.matching.run_purchase_order(po)
            else:
                runs = hub.matching.run_open()
        except SutureError as error:
            record_cli_action(hub.audit, "match.run", target_type="invoice", target_id=target,
                              outcome=Outcome.FAILED, reason=str(error))  # fmt: skip
            _fail(str(error), 1)
        summary = ", ".join(f"{r.match.invoice_id}={r.match.status}" for r in runs) or "none"
        record_cli_action(hub.audit, "match.run", target_type="invoice", target_id=target,
                          after=summary[:500])  # fmt: skip
    if as_json:
        console.print_json(json.dumps([_run_json(r) for r in runs]))
        return
    table = Table(title=f"{len(runs)} invoices run")
    for heading in ("invoice", "number", "status", "attempts", "amount", "variance", "findings"):
        table.add_column(heading, overflow="fold")
    for r in runs:
        m = r.match
        status = m.status.value if r.ran else f"{m.status.value} (already)"
        table.add_row(
            m.invoice_id, m.invoice_number, status, str(m.attempts), f"{m.invoice_amount:f}",
            f"{m.variance_amount:f}", ", ".join(f.value for f in m.findings) or "-",
        )  # fmt: skip
    print_table(table)


@match_app.command("not-duplicate")
def not_duplicate_command(
    invoice: Annotated[str, typer.Argument(help="The invoice id held as a suspected duplicate.")],
    *,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why it is not a duplicate (required; kept with the decision and audited).",
        ),
    ],
    as_json: AsJson = False,
) -> None:
    """Record that a suspected duplicate is not a duplicate, and re-run it now.

    The invoice, held as a suspected duplicate (same PO, amount and date under another number),
    is not a duplicate of the invoice its match names: the decision is kept with who, when and
    why, and the invoice is re-run (it may match, or stay held on other findings). Only that
    original is cleared: another look-alike still holds it. The same invoice number again is
    always a duplicate (refused). Dismissing the exception item is no such decision: the next
    re-run holds the invoice again."""
    action = "match.not_duplicate"

    def audit(uow: UnitOfWork, clearance: DuplicateClearance, run: MatchRun) -> None:
        hub.audit.record(
            uow, cli_actor(), action, target_type="invoice", target_id=invoice,
            before=f"duplicate_of={clearance.original_invoice_id}", after=_ran(run),
            reason=clearance.reason,
        )  # fmt: skip

    with _hub() as hub:
        try:
            done = hub.matching.clear_duplicate(
                invoice, reason=reason, decided_by=operator_name(), audit=audit
            )
        except SutureError as error:
            record_cli_action(hub.audit, action, target_type="invoice", target_id=invoice,
                              outcome=Outcome.FAILED, reason=str(error))  # fmt: skip
            _fail(str(error), 2 if error.field == "reason" else 1)
    if as_json:
        console.print_json(
            json.dumps({"decision": _clearance_json(done.clearance), **_run_json(done.run)})
        )
        return
    m = done.run.match
    console.print(f"invoice {escape(m.invoice_id)}: {escape(done.clearance.note)}")
    held = ", ".join(f.value for f in m.findings)
    console.print(
        f"re-run: [bold]{m.status}[/bold] after {m.attempts} attempt(s)"
        + (f"; held on {held}" if held else "")
        + (f" (duplicate of {escape(m.duplicate_of)})" if m.duplicate_of else "")
    )


def _ran(run: MatchRun) -> str:
    findings = ",".join(f.value for f in run.match.findings) or "-"
    return f"status={run.match.status} attempts={run.match.attempts} findings={findings}"


@match_app.command("show")
def show_command(
    invoice: Annotated[str, typer.Argument(help="The invoice id.")], *, as_json: AsJson = False
) -> None:
    """An invoice's match: status, amounts, KPI times and every line's quantities and prices."""
    with _hub() as hub:
        try:
            view = hub.matching.show(invoice)
        except SutureError as error:
            _fail(str(error), 1)
    if as_json:
        console.print_json(json.dumps(_view_json(view)))
        return
    m = view.match
    if m is None:
        console.print(f"invoice {escape(invoice)}: {view.invoice.status}; not matched yet")
        return
    console.print(
        f"invoice {escape(m.invoice_id)} ({escape(m.invoice_number)}) PO "
        f"{escape(m.purchase_order_number or '-')}: [bold]{m.status}[/bold] after {m.attempts} "
        f"attempt(s); amount {m.invoice_amount:f}, matched {m.matched_amount:f}, variance "
        f"{m.variance_amount:f}; received {m.received_at.isoformat()}, matched "
        f"{m.matched_at.isoformat() if m.matched_at else '-'}"
    )
    if m.findings:
        duplicate = f" (duplicate of {escape(m.duplicate_of)})" if m.duplicate_of else ""
        console.print(f"exceptions: {', '.join(f.value for f in m.findings)}{duplicate}")
    for clearance in view.clearances:
        console.print(escape(clearance.note))
    table = Table()
    headings = ("line", "PO line", "item", "finding", "invoiced EA", "received EA",
                "earlier EA", "PO price/EA", "invoice price/EA", "variance")  # fmt: skip
    for heading in headings:
        table.add_column(heading, overflow="fold")
    for line in m.lines:
        table.add_row(
            "header" if line.line_number is None else str(line.line_number),
            "-" if line.po_line_number is None else str(line.po_line_number),
            line.item_id or "-", line.finding.value, f"{line.invoiced_eaches:f}",
            f"{line.received_eaches:f}", f"{line.previously_invoiced_eaches:f}",
            f"{line.po_price_each:f}", f"{line.invoice_price_each:f}",
            f"{line.variance_amount:f}",
        )  # fmt: skip
    print_table(table)


@tolerances_app.command("list")
def tolerances_list_command(*, as_json: AsJson = False) -> None:
    """The default tolerance (settings) and every rule."""
    with _hub() as hub:
        rules = hub.matching.tolerance_rules()
        default = hub.matching.default_tolerance
    rows = [{"facility_id": None, "supplier_id": None, "source": "settings",
             **_tolerance_json(default)}] + [
        {"facility_id": r.facility_id, "supplier_id": r.supplier_id, "source": "rule",
         **_tolerance_json(r.tolerance)}
        for r in rules
    ]  # fmt: skip
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table(title="match tolerances (percent and amount must both hold)")
    for heading in ("facility", "supplier", "source", "price %", "price amount", "qty %",
                    "qty EA"):  # fmt: skip
        table.add_column(heading)
    for row in rows:
        table.add_row(
            row["facility_id"] or "any", row["supplier_id"] or "any", row["source"],
            row["price_percent"], row["price_amount"], row["quantity_percent"],
            row["quantity_amount"],
        )  # fmt: skip
    print_table(table)


@tolerances_app.command("set")
def tolerances_set_command(
    *,
    facility: Annotated[str | None, typer.Option(help="Only this facility id.")] = None,
    supplier: Annotated[str | None, typer.Option(help="Only this supplier id.")] = None,
    price_percent: Annotated[
        str | None, typer.Option(help="Price over the PO per each, percent.")
    ] = None,
    price_amount: Annotated[
        str | None, typer.Option(help="Price over the PO, money per line.")
    ] = None,
    quantity_percent: Annotated[
        str | None, typer.Option(help="Eaches over what is received and unbilled, percent.")
    ] = None,
    quantity_amount: Annotated[
        str | None, typer.Option(help="Eaches over what is received and unbilled, absolute.")
    ] = None,
) -> None:
    """Set the rule of a scope (neither --facility nor --supplier: the default rule over the
    settings). An option left out keeps its value: the scope's rule's, or for a new rule the
    one in force for the scope now (the next less specific rule's, else the settings')."""
    given = {
        "price_percent": price_percent, "price_amount": price_amount,
        "quantity_percent": quantity_percent, "quantity_amount": quantity_amount,
    }  # fmt: skip
    try:
        changes = {
            name: _tolerance_value(name, text) for name, text in given.items() if text is not None
        }
    except SutureError as error:
        _fail(str(error), 2)
    if not changes:
        _fail("give at least one of --price-percent, --price-amount, --quantity-percent or "
              "--quantity-amount", 2)  # fmt: skip
    scope = f"{facility or 'any'}/{supplier or 'any'}"
    with _hub() as hub:
        try:
            rule = hub.matching.update_tolerance(
                facility_id=facility, supplier_id=supplier, changes=changes
            )
        except SutureError as error:
            _fail(str(error), 1)
        after = json.dumps(_tolerance_json(rule.tolerance))
        record_cli_action(hub.audit, "match.tolerance.set", target_type="match_tolerance",
                          target_id=scope, after=after)  # fmt: skip
    values = {name: f"{Decimal(text).normalize():f}" for name, text in json.loads(after).items()}
    console.print(
        f"tolerance for {escape(scope)} set: price {values['price_percent']} % and "
        f"{values['price_amount']} a line, quantity {values['quantity_percent']} % and "
        f"{values['quantity_amount']} EA"
    )


@tolerances_app.command("remove")
def tolerances_remove_command(
    *,
    facility: Annotated[str | None, typer.Option(help="The rule's facility id.")] = None,
    supplier: Annotated[str | None, typer.Option(help="The rule's supplier id.")] = None,
) -> None:
    """Remove the rule of a scope; the next less specific one applies again."""
    scope = f"{facility or 'any'}/{supplier or 'any'}"
    with _hub() as hub:
        removed = hub.matching.remove_tolerance(facility_id=facility, supplier_id=supplier)
        if not removed:
            _fail(f"no tolerance rule for {scope}", 1)
        record_cli_action(hub.audit, "match.tolerance.remove", target_type="match_tolerance",
                          target_id=scope)  # fmt: skip
    console.print(f"tolerance for {escape(scope)} removed")


def _decimal(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise SutureError(name, f"not a decimal number: {text!r}") from None
    return value


def _tolerance_value(name: str, text: str) -> Decimal:
    """``text`` as the value of tolerance field ``name``, refused as a Tolerance refuses it."""
    value = _decimal(name, text)
    Tolerance(**{name: value})  # raises naming the field
    return value


def _tolerance_json(tolerance: Tolerance) -> dict[str, str]:
    return {
        "price_percent": f"{tolerance.price_percent:f}",
        "price_amount": f"{tolerance.price_amount:f}",
        "quantity_percent": f"{tolerance.quantity_percent:f}",
        "quantity_amount": f"{tolerance.quantity_amount:f}",
    }


def match_json(match: InvoiceMatch) -> dict[str, Any]:
    """A match as JSON-ready values (decimals as strings, instants in ISO 8601)."""
    return {
        "invoice_id": match.invoice_id, "invoice_number": match.invoice_number,
        "facility_id": match.facility_id, "supplier_id": match.supplier_id,
        "purchase_order_number": match.purchase_order_number,
        "purchase_order_id": match.purchase_order_id, "status": match.status.value,
        "findings": [f.value for f in match.findings],
        "invoice_amount": f"{match.invoice_amount:f}",
        "matched_amount": f"{match.matched_amount:f}",
        "variance_amount": f"{match.variance_amount:f}", "attempts": match.attempts,
        "received_at": match.received_at.isoformat(),
        "matched_at": match.matched_at.isoformat() if match.matched_at else None,
        "duplicate_of": match.duplicate_of, "voucher_id": match.voucher_id,
        "lines": [
            {"line_number": line.line_number, "po_line_number": line.po_line_number,
             "item_id": line.item_id, "finding": line.finding.value,
             "invoiced_eaches": f"{line.invoiced_eaches:f}",
             "ordered_eaches": f"{line.ordered_eaches:f}",
             "received_eaches": f"{line.received_eaches:f}",
             "previously_invoiced_eaches": f"{line.previously_invoiced_eaches:f}",
             "po_price_each": f"{line.po_price_each:f}",
             "invoice_price_each": f"{line.invoice_price_each:f}",
             "quantity_variance_eaches": f"{line.quantity_variance_eaches:f}",
             "variance_amount": f"{line.variance_amount:f}", "amount": f"{line.amount:f}"}
            for line in match.lines
        ],
    }  # fmt: skip


def _run_json(run: MatchRun) -> dict[str, Any]:
    return {"ran": run.ran, **match_json(run.match)}


def _view_json(view: MatchView) -> dict[str, Any]:
    return {
        "invoice_id": view.invoice.id,
        "invoice_status": view.invoice.status.value,
        "match": None if view.match is None else match_json(view.match),
        "duplicate_clearances": [_clearance_json(c) for c in view.clearances],
    }


def _clearance_json(clearance: DuplicateClearance) -> dict[str, Any]:
    return {
        "invoice_id": clearance.invoice_id,
        "original_invoice_id": clearance.original_invoice_id,
        "reason": clearance.reason,
        "decided_by": clearance.decided_by,
        "decided_at": clearance.decided_at.isoformat(),
    }


def _fail(message: str, code: int) -> NoReturn:
    errors.print(f"[red]error[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)

"""``suture partners``: suppliers' X12 trading-partner profiles (docs/workflows.md).

``set`` stores a supplier's profile (ISA qualifier and id, GS application id, X12 version, test
or production, delivery target), recorded in the audit trail, and re-drives the purchase-order
steps that were parked because the supplier had none. ``list`` shows every profile with its
last control number. Exit codes: 0 done; 2 a value the profile refuses (named).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from suture.domain.audit import Actor
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub, print_table
from suture.entrypoints.cli.audit import CLI_CLIENT, operator_name

partners_app = typer.Typer(
    help="Suppliers' X12 trading-partner profiles: where and how 850s are sent.",
    no_args_is_help=True,
)


@partners_app.command("list")
def list_command(
    *,
    after: Annotated[str | None, typer.Option(help="The page after this supplier id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every profile by supplier id."""
    hub = open_hub()
    try:
        partners = hub.trading_partners.list(after=after, limit=limit)
    finally:
        hub.close()
    if as_json:
        rows = [
            {"supplier_id": p.supplier_id, "isa_qualifier": p.isa_qualifier, "isa_id": p.isa_id,
             "gs_id": p.gs_id, "x12_version": p.x12_version, "usage_indicator": p.usage_indicator,
             "delivery_target": p.target, "last_control_number": p.last_control_number}
            for p in partners
        ]  # fmt: skip
        console.print_json(json.dumps(rows))
        return
    table = Table("supplier", "ISA", "GS", "version", "usage", "target", "last control #")
    for p in partners:
        table.add_row(
            escape(p.supplier_id), escape(f"{p.isa_qualifier}:{p.isa_id}"), escape(p.gs_id),
            p.x12_version, p.usage_indicator, escape(p.target), str(p.last_control_number),
        )  # fmt: skip
    print_table(table)


@partners_app.command("set")
def set_command(
    supplier_id: Annotated[str, typer.Argument(help="The supplier's id.")],
    *,
    isa_qualifier: Annotated[str, typer.Option(help="ISA07 qualifier (ZZ, 01 DUNS, 14 …).")],
    isa_id: Annotated[str, typer.Option(help="ISA08: the supplier's interchange id.")],
    gs_id: Annotated[
        str | None, typer.Option(help="GS03 application receiver; default: the ISA id.")
    ] = None,
    x12_version: Annotated[str, typer.Option(help="004010 or 005010.")] = "005010",
    usage: Annotated[str, typer.Option(help="ISA15: P production or T test.")] = "P",
    target: Annotated[
        str | None,
        typer.Option(help="Delivery target (x12:NAME); default: x12:<supplier id>."),
    ] = None,
) -> None:
    """Set a supplier's profile and re-drive what waited for it."""
    hub = open_hub()
    try:
        partner, redriven = hub.trading_partners.set(
            supplier_id, isa_qualifier=isa_qualifier, isa_id=isa_id, gs_id=gs_id or isa_id,
            x12_version=x12_version, usage_indicator=usage, delivery_target=target,
            actor=Actor(operator_name(), CLI_CLIENT),
        )  # fmt: skip
    except SutureError as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    finally:
        hub.close()
    console.print(
        f"{escape(partner.supplier_id)}: {partner.isa_qualifier}:{escape(partner.isa_id)} "
        f"to {escape(partner.target)}; {redriven} parked work item(s) re-driven"
    )
